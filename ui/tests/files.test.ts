import { describe, expect, it, vi } from "vitest";
import { deliver } from "../src/utils/files";

describe("exports", () => {
  it("are saved to the download folder in the desktop window, not downloaded", async () => {
    const save = vi.fn(async (name: string) => `/home/u/下载/${name}`);
    const path = await deliver({ file_name: "2026-10好差评情况通报.pdf", data_base64: "JVBERi0=", mime: "application/pdf" }, true, save);
    expect(path).toBe("/home/u/下载/2026-10好差评情况通报.pdf");
    expect(save).toHaveBeenCalledWith("2026-10好差评情况通报.pdf", "JVBERi0=");
  });
});
