// The one way the UI talks to Rust. Inside the desktop app it is Tauri's `invoke`;
// in a browser it is `hcp serve-ui` over HTTP on 127.0.0.1. Components never know
// which: they call the typed functions in ./index.ts.
import type { AppError, ErrorCode } from "./types";

/** An error from a command: a stable code and a zh-CN message for people. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = "ApiError";
  }
}

/** The text to show for anything a command threw: the command's own zh-CN
 * message, else the error as text. */
export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e);
}

export interface Transport {
  readonly kind: "tauri" | "http";
  call<T>(command: string, args?: unknown): Promise<T>;
  /** Subscribes to sync progress; returns the unsubscribe function. */
  listen(onEvent: (payload: unknown) => void): Promise<() => void>;
}

function isAppError(v: unknown): v is AppError {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as AppError).code === "string" &&
    typeof (v as AppError).message === "string"
  );
}

/** Turns whatever a transport threw into an ApiError with a zh-CN message. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isAppError(e)) return new ApiError(e.code, e.message);
  if (typeof e === "string") {
    try {
      const parsed: unknown = JSON.parse(e);
      if (isAppError(parsed)) return new ApiError(parsed.code, parsed.message);
    } catch {
      /* not JSON: fall through */
    }
    return new ApiError("internal", e);
  }
  if (e instanceof TypeError) {
    return new ApiError("offline", "无法连接到督查台后台服务，请确认程序仍在运行");
  }
  return new ApiError("internal", e instanceof Error ? e.message : "未知错误");
}

const TOKEN_KEY = "hcp-ui-token";

/**
 * The per-run token of `hcp serve-ui`: from `?token=` once, then the session. The
 * token is taken out of the address bar at once, so it does not stay in the
 * history, a bookmark or a screenshot.
 */
export function bridgeToken(
  loc: Location = window.location,
  store: Storage = sessionStorage,
  hist: Pick<History, "replaceState" | "state"> = window.history,
): string {
  const params = new URLSearchParams(loc.search);
  const fromUrl = params.get("token");
  if (fromUrl) {
    store.setItem(TOKEN_KEY, fromUrl);
    params.delete("token");
    const rest = params.toString();
    hist.replaceState(hist.state, "", `${loc.pathname ?? "/"}${rest ? `?${rest}` : ""}${loc.hash ?? ""}`);
    return fromUrl;
  }
  return store.getItem(TOKEN_KEY) ?? "";
}

export function httpTransport(base = "", token = bridgeToken()): Transport {
  return {
    kind: "http",
    async call<T>(command: string, args?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base}/api/${command}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-hcp-token": token },
          body: JSON.stringify(args ?? null),
        });
      } catch (e) {
        throw toApiError(e);
      }
      const text = await res.text();
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        throw new ApiError("internal", `后台返回了无法解析的内容（HTTP ${res.status}）`);
      }
      if (!res.ok) {
        throw isAppError(body) ? new ApiError(body.code, body.message) : new ApiError("internal", `请求失败（HTTP ${res.status}）`);
      }
      return body as T;
    },
    async listen(onEvent) {
      const source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
      source.onmessage = (m) => {
        try {
          onEvent(JSON.parse(m.data));
        } catch {
          /* a malformed event is dropped; the next one carries running totals */
        }
      };
      return () => source.close();
    },
  };
}

export async function tauriTransport(): Promise<Transport> {
  const core = await import("@tauri-apps/api/core");
  const event = await import("@tauri-apps/api/event");
  return {
    kind: "tauri",
    async call<T>(command: string, args?: unknown): Promise<T> {
      try {
        // The shell registers one handler that dispatches by name.
        return await core.invoke<T>("call", { command, args: args ?? null });
      } catch (e) {
        throw toApiError(e);
      }
    },
    async listen(onEvent) {
      return event.listen("sync-event", (e) => onEvent(e.payload));
    },
  };
}

export function inTauri(w: object = window): boolean {
  return "__TAURI_INTERNALS__" in w;
}

let transport: Promise<Transport> | null = null;

export function getTransport(): Promise<Transport> {
  transport ??= inTauri() ? tauriTransport() : Promise.resolve(httpTransport());
  return transport;
}

/** For tests: use this transport from now on. */
export function setTransport(t: Transport): void {
  transport = Promise.resolve(t);
}
