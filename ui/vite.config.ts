/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// `base: "./"` so the same build works from `hcp serve-ui` (http://127.0.0.1:port/)
// and inside the Tauri window (tauri://localhost/).
export default defineConfig({
  base: "./",
  plugins: [vue()],
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 2000,
  },
  server: {
    port: 5173,
    strictPort: true,
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
  },
});
