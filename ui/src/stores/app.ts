import { defineStore } from "pinia";
import { ref, computed } from "vue";
import { api, onSyncEvent } from "../api";
import type { AppInfo, HubStatus, SyncEvent, SyncStatus, Vocabulary } from "../api/types";

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
  let unlisten: (() => void) | null = null;

  async function load(): Promise<void> {
    const [i, v] = await Promise.all([api.appInfo(), api.vocabulary()]);
    info.value = i;
    vocabulary.value = v;
    sync.value = await api.syncStatus();
    void refreshHub();
    if (!unlisten) {
      unlisten = await onSyncEvent((e) => {
        lastEvent.value = e;
        void api.syncStatus().then((s) => (sync.value = s));
        if (e.event === "finished") void refreshHub();
      });
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
  const isOfficer = computed(() => info.value?.role === "officer");
  const isBad = computed(() => {
    const bad = new Set((vocabulary.value?.levels ?? []).filter((l) => l.is_bad).map((l) => l.level));
    return (level: number) => bad.has(level);
  });

  return { info, vocabulary, online, sync, lastEvent, hub, refreshHub, load, ensureVocabulary, refreshInfo, levelName, channelName, reasonName, caseStateName, isOfficer, isBad };
});
