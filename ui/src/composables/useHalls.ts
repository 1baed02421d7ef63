import { reactive, ref } from "vue";
import { api, errorText } from "../api";
import type { AddedHall, HallSummary, QuarantineRow, SyncResult } from "../api/types";

/** 大厅与同步: the halls, adding and removing them, syncing, the quarantine. */
export function useHalls() {
  const halls = ref<HallSummary[]>([]);
  const quarantine = ref<QuarantineRow[]>([]);
  const loading = ref(false);
  const error = ref("");
  const form = reactive({ url: "", token: "", ca_file: "" });
  const adding = ref(false);
  const addError = ref("");
  const syncing = ref(false);


  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      [halls.value, quarantine.value] = await Promise.all([api.listHalls(), api.quarantineList()]);
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function add(): Promise<AddedHall | null> {
    adding.value = true;
    addError.value = "";
    try {
      const added = await api.addHall({ url: form.url.trim(), token: form.token.trim(), ca_file: form.ca_file.trim() || null });
      Object.assign(form, { url: "", token: "", ca_file: "" });
      await load();
      return added;
    } catch (e) {
      addError.value = errorText(e);
      return null;
    } finally {
      adding.value = false;
    }
  }

  async function remove(hallId: string): Promise<boolean> {
    try {
      await api.removeHall({ hall_id: hallId });
      await load();
      return true;
    } catch (e) {
      error.value = errorText(e);
      return false;
    }
  }

  async function sync(only: string[] = []): Promise<SyncResult | null> {
    syncing.value = true;
    error.value = "";
    try {
      return await api.syncNow({ halls: only });
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      syncing.value = false;
      await load();
    }
  }

  return { halls, quarantine, loading, error, form, adding, addError, syncing, load, add, remove, sync };
}
