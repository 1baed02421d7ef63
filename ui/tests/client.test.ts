import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, bridgeToken, httpTransport, inTauri, toApiError } from "../src/api/client";

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("talks to Tauri only inside the desktop app", () => {
    expect(inTauri({})).toBe(false);
    expect(inTauri({ __TAURI_INTERNALS__: {} })).toBe(true);
  });

  it("keeps the bridge token from the URL for the session and takes it out of the address bar", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    } as unknown as Storage;
    const replaced: string[] = [];
    const hist = { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
    expect(bridgeToken({ search: "?token=abc&x=1", pathname: "/", hash: "#/cases" } as Location, storage, hist)).toBe("abc");
    expect(replaced).toEqual(["/?x=1#/cases"]);
    expect(bridgeToken({ search: "", pathname: "/", hash: "" } as Location, storage, hist)).toBe("abc");
    expect(replaced).toHaveLength(1);
  });

  it("turns {code, message} answers into ApiError with the zh-CN message", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ code: "invalid_input", message: "请填写访问令牌" }), { status: 400 }));
    vi.stubGlobal("fetch", fetchMock);
    const t = httpTransport("http://127.0.0.1:1", "tok");
    await expect(t.call("add_hall", { url: "x" })).rejects.toMatchObject({ code: "invalid_input", message: "请填写访问令牌" });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://127.0.0.1:1/api/add_hall");
    expect((init.headers as Record<string, string>)["x-hcp-token"]).toBe("tok");
  });

  it("says the back end is gone when the network call fails", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    }));
    const err = await httpTransport("", "t").call("app_info").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("offline");
  });

  it("reads Tauri's serialised errors", () => {
    expect(toApiError({ code: "busy", message: "已有同步正在进行" })).toMatchObject({ code: "busy" });
    expect(toApiError('{"code":"not_found","message":"没有"}')).toMatchObject({ code: "not_found" });
  });
});
