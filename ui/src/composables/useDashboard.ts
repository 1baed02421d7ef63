import { ref } from "vue";
import { api, errorText } from "../api";
import type { Dashboard, DemoLoaded } from "../api/types";

/** 工作台: the figures, their loading and error states, and the first-run demo. */
export function useDashboard() {
  const data = ref<Dashboard | null>(null);
  const loading = ref(false);
  const error = ref("");
  const demoLoading = ref(false);

  async function load(month?: string): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      data.value = await api.dashboard({ month: month ?? null, hall_id: null });
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function loadDemo(): Promise<DemoLoaded | null> {
    demoLoading.value = true;
    error.value = "";
    try {
      const r = await api.loadDemo();
      await load();
      return r;
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      demoLoading.value = false;
    }
  }

  /** Syncs every hall now, then shows the new figures (a failed sync still
   * reloads: some halls may have synced). */
  async function syncAll(): Promise<void> {
    try {
      await api.syncNow({ halls: [] });
    } finally {
      await load();
    }
  }

  return { data, loading, error, demoLoading, load, loadDemo, syncAll };
}
