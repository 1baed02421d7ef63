// The typed commands. The command table and the `api` object are generated from
// the registry in crates/hcp-app (./commands.ts), the argument and result types
// from the Rust types (./types) — never written by hand.
import { getTransport } from "./client";
import type { SyncEvent } from "./types";

export { ApiError, errorText } from "./client";
export { api, call, type Commands } from "./commands";
export type * from "./types";

/** Sync progress as it happens; returns the unsubscribe function. */
export async function onSyncEvent(cb: (e: SyncEvent) => void): Promise<() => void> {
  return (await getTransport()).listen((p) => cb(p as SyncEvent));
}
