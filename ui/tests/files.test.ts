import { describe, expect, it, vi } from "vitest";
import { deliver } from "../src/utils/files";

describe("exports", () => {
  it("say nothing when the user cancels the desktop's save dialog", async () => {
    const save = vi.fn(async () => {
      throw Object.assign(new Error("已取消保存"), { code: "cancelled" });
    });
    expect(await deliver({ file_name: "a.pdf", data_base64: "", mime: "application/pdf" }, true, save)).toBe(false);
    const broken = vi.fn(async () => {
      throw Object.assign(new Error("磁盘已满"), { code: "internal" });
    });
    await expect(deliver({ file_name: "a.pdf", data_base64: "", mime: "application/pdf" }, true, broken)).rejects.toThrow("磁盘已满");
  });

  it("are saved where the desktop's dialog says, not downloaded", async () => {
    const save = vi.fn(async (name: string) => `/home/u/下载/${name}`);
    const path = await deliver({ file_name: "2026-10好差评情况通报.pdf", data_base64: "JVBERi0=", mime: "application/pdf" }, true, save);
    expect(path).toBe("/home/u/下载/2026-10好差评情况通报.pdf");
    expect(save).toHaveBeenCalledWith("2026-10好差评情况通报.pdf", "JVBERi0=");
  });
});
