// Files in the webview: read as base64 for the API, save base64 as a download.
import { api } from "../api";

/** A File's bytes as base64 (without the data: prefix). */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(bin);
}

/** Saves base64 bytes as a file through the browser's download. */
export function saveBase64(fileName: string, base64: string, mime = "application/octet-stream"): void {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Hands an export to the user: a browser download, or — in the desktop window,
 * whose webview cannot download — a file saved where the user chooses in the save
 * dialog. Returns the saved path in the desktop window, `null` in a browser, and
 * `false` when the user cancelled the dialog (say nothing then). */
export async function deliver(
  f: { file_name: string; data_base64: string; mime: string },
  desktop: boolean,
  save: (name: string, data: string) => Promise<string>,
): Promise<string | null | false> {
  if (desktop) {
    try {
      return await save(f.file_name, f.data_base64);
    } catch (e) {
      if ((e as { code?: string }).code === "cancelled") return false;
      throw e;
    }
  }
  saveBase64(f.file_name, f.data_base64, f.mime);
  return null;
}

/** Saves where the user chooses in the desktop's save dialog; the saved path. */
export function saveFileAs(file_name: string, data_base64: string): Promise<string> {
  return api.saveFile({ file_name, data_base64, ask: true });
}
