import { computed, ref } from "vue";
import { api, errorText } from "../api";
import type { FileData, HallSummary, ImportedFile, KeyInfo, VisitRow, VisitTaskRow } from "../api/types";
import { useAppStore } from "../stores/app";
import { fileToBase64 } from "../utils/files";

/** A planned visit of a task package: the hall and, optionally, the day. */
export interface PlannedHall {
  hall_id: string;
  planned_date: string | null;
}

/** The 暗访 page: visits, this installation's key and the trusted keys, a
 * shopper's tasks, and what the page does with them. The page keeps the dialogs,
 * the messages and where files go. */
export function useVisitList() {
  const store = useAppStore();
  const rows = ref<VisitRow[]>([]);
  const halls = ref<HallSummary[]>([]);
  const key = ref<KeyInfo | null>(null);
  const trusted = ref<KeyInfo[]>([]);
  const tasks = ref<VisitTaskRow[]>([]);
  const error = ref("");
  /** Halls with a server: the ones a task package can name. */
  const apiHalls = computed(() => halls.value.filter((h) => h.hall.source === "api"));

  async function load(): Promise<void> {
    try {
      [rows.value, halls.value, key.value, trusted.value, tasks.value] = await Promise.all([
        api.listVisits({ hall_id: null }),
        api.listHalls(),
        api.ownKey(),
        api.trustedKeys(),
        store.can("file_visits") ? api.visitTasks() : Promise.resolve([]),
      ]);
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function template(version?: string): Promise<string> {
    return version ?? (await store.ensureVocabulary()).current_template;
  }

  /** A new visit of a hall (on a task's template when it comes from one); its id. */
  async function create(hall_id: string, template_version?: string): Promise<string> {
    return api.createVisit({ hall_id, template_version: await template(template_version) });
  }

  async function trust(public_key: string, name: string): Promise<KeyInfo> {
    const k = await api.trustKey({ public_key, name });
    await load();
    return k;
  }

  async function revoke(k: KeyInfo): Promise<void> {
    await api.revokeKey({ key: k.public_key });
    await load();
  }

  /** Reads any of the console's files (a hand-in, a task package, a review). */
  async function importFile(file: Blob): Promise<ImportedFile> {
    const o = await api.importFile({ data_base64: await fileToBase64(file) });
    error.value = "";
    await load();
    return o;
  }

  /** A task package (.hcpt) for shoppers. */
  async function exportPlan(planned: PlannedHall[], note: string): Promise<FileData> {
    return api.exportTaskPackage({ halls: planned, template_version: await template(), note });
  }

  function hallName(id: string): string {
    return halls.value.find((h) => h.hall.hall_id === id)?.hall.name ?? id;
  }

  return { rows, halls, apiHalls, key, trusted, tasks, error, load, create, trust, revoke, importFile, exportPlan, hallName };
}
