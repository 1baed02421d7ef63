import { defineStore } from "pinia";
import { ref, computed } from "vue";
import { api, onSyncEvent } from "../api";
import type { AppInfo, Capability, HubExchange, HubStatus, SyncEvent, SyncStatus, Vocabulary } from "../api/types";

/** How often the window asks the hub whether it answers (and sends what waits). */
const HUB_TICK_MS = 5_000;
/** How often it takes the office's changes when nothing waits here. */
const HUB_PULL_MS = 30_000;

/** What every page shares: who is using the app, the domain's words, the network
 * state and the live sync board. */
export const useAppStore = defineStore("app", () => {
  const info = ref<AppInfo | null>(null);
  const vocabulary = ref<Vocabulary | null>(null);
  const online = ref(typeof navigator === "undefined" ? true : navigator.onLine);
  const sync = ref<SyncStatus>({ running: false, halls: [] });
  const lastEvent = ref<SyncEvent | null>(null);
  /** Hub mode: the link, the connection and what waits; `null` until asked. */
  const hub = ref<HubStatus | null>(null);
  /** Bumped whenever an exchange with the hub (or a sync) brought or settled
   * something: the open pages reload what they show. */
  const hubChanged = ref(0);
  let unlisten: (() => void) | null = null;
  let hubTimer: ReturnType<typeof setInterval> | null = null;
  /** The exchange in flight (the background round's or a click's). */
  let inflight: Promise<HubExchange | null> | null = null;
  let lastPull = 0;

  async function load(): Promise<void> {
    const [i, v] = await Promise.all([api.appInfo(), api.vocabulary()]);
    info.value = i;
    vocabulary.value = v;
    await refreshSync();
    void refreshHub();
    if (!unlisten) {
      unlisten = await onSyncEvent((e) => {
        lastEvent.value = e;
        void refreshSync();
        if (e.event === "finished") {
          hubChanged.value++;
          void refreshHub();
        }
      });
    }
    if (!hubTimer && typeof window !== "undefined")
      hubTimer = setInterval(() => {
        // A missed event (the stream reconnecting) must not leave 同步中 showing.
        if (sync.value.running) void refreshSync();
        void hubTick();
      }, HUB_TICK_MS);
  }

  /** Asks for the sync board; only the newest answer is kept (answers to
   * earlier asks can arrive after it and would show an older state). */
  let syncAsked = 0;
  async function refreshSync(): Promise<void> {
    const mine = ++syncAsked;
    const s = await api.syncStatus();
    if (mine === syncAsked) sync.value = s;
  }

  /** The background round in hub mode: asks whether the hub answers; when it
   * does, sends what waits (at once) and takes the office's changes (every
   * half minute), so queued work goes out when the hub is back and another
   * officer's step shows up without a reload. */
  async function hubTick(): Promise<void> {
    if (inflight || hub.value?.link == null) return;
    await refreshHub();
    const h = hub.value;
    if (!h?.link || h.state !== "connected") return;
    const waiting = h.pending.length + h.visits.filter((v) => v.state === "pending").length;
    if (waiting === 0 && Date.now() - lastPull < HUB_PULL_MS) return;
    await hubSync();
  }

  /** 与团队服务器交换 now; what it did, or null (a single desk, or the hub away or
   * busy with a full sync). A click while the background round runs waits for it
   * and then exchanges again, so what the user just queued goes too. */
  async function hubSync(): Promise<HubExchange | null> {
    while (inflight) await inflight;
    inflight = (async () => {
      try {
        const x = await api.hubSync();
        lastPull = Date.now();
        if (x && (x.sent > 0 || x.cases > 0 || x.visits_received > 0 || x.visits_sent > 0 || x.reports > 0)) hubChanged.value++;
        return x;
      } catch {
        // Away or busy: the header says which after the refresh below.
        return null;
      } finally {
        await refreshHub();
      }
    })();
    try {
      return await inflight;
    } finally {
      inflight = null;
    }
  }

  /** Asks whether the hub answers and what waits (a single desk: `standalone`). */
  async function refreshHub(): Promise<void> {
    try {
      hub.value = await api.hubStatus();
    } catch {
      // The header keeps what it showed; the pages report their own errors.
    }
  }

  /** The vocabulary, fetched first if the layout has not loaded it yet (a page can
   * mount before its layout's own loading finishes). */
  async function ensureVocabulary(): Promise<Vocabulary> {
    if (!vocabulary.value) vocabulary.value = await api.vocabulary();
    return vocabulary.value;
  }

  async function refreshInfo(): Promise<void> {
    info.value = await api.appInfo();
  }

  if (typeof window !== "undefined") {
    window.addEventListener("online", () => (online.value = true));
    window.addEventListener("offline", () => (online.value = false));
  }

  const levelName = computed(() => {
    const m = new Map<number, string>();
    for (const l of vocabulary.value?.levels ?? []) m.set(l.level, l.name);
    return (level: number) => m.get(level) ?? String(level);
  });
  const channelName = computed(() => {
    const m = new Map<string, string>();
    for (const c of vocabulary.value?.channels ?? []) m.set(c.code, c.name);
    return (code: string) => m.get(code) ?? code;
  });
  const reasonName = computed(() => {
    const m = new Map<string, string>();
    for (const c of vocabulary.value?.reasons ?? []) m.set(c.code, c.name);
    return (code: string) => m.get(code) ?? code;
  });
  const caseStateName = computed(() => {
    const m = new Map<string, string>();
    for (const c of vocabulary.value?.case_states ?? []) m.set(c.code, c.name);
    return (code: string) => m.get(code) ?? code;
  });
  /** What the viewer may see and do, as the Rust side decided it (`AppInfo.capabilities`):
   * menus, buttons and filters follow it; the commands check it again. */
  const can = computed(() => {
    const mine = new Set<Capability>(info.value?.capabilities ?? []);
    return (c: Capability) => mine.has(c);
  });
  const isBad = computed(() => {
    const bad = new Set((vocabulary.value?.levels ?? []).filter((l) => l.is_bad).map((l) => l.level));
    return (level: number) => bad.has(level);
  });

  return { info, vocabulary, online, sync, lastEvent, hub, hubChanged, refreshHub, hubSync, load, ensureVocabulary, refreshInfo, levelName, channelName, reasonName, caseStateName, can, isBad };
});
