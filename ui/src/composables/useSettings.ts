import { reactive, ref } from "vue";
import { api, errorText } from "../api";
import type { CaseSettings, DeadlinePolicyView, HallSummary, OutboxSummary, UserProfile } from "../api/types";
import { roleHasHall } from "../utils/roles";

/** 设置: the local user profile, deadline policies, the calendar, decision delivery. */
export function useSettings() {
  const profile = reactive<UserProfile>({ name: "", role: "officer", hall_id: null });
  const settings = ref<CaseSettings | null>(null);
  const halls = ref<HallSummary[]>([]);
  const outbox = ref<OutboxSummary[]>([]);
  const error = ref("");
  const busy = ref(false);


  async function run<T>(f: () => Promise<T>): Promise<T | null> {
    busy.value = true;
    error.value = "";
    try {
      return await f();
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      busy.value = false;
    }
  }

  async function load(): Promise<void> {
    await run(async () => {
      const [p, s, h, o] = await Promise.all([api.currentUser(), api.caseSettings(), api.listHalls(), api.outboxSummary()]);
      Object.assign(profile, p);
      settings.value = s;
      halls.value = h;
      outbox.value = o;
    });
  }

  async function saveProfile(): Promise<UserProfile | null> {
    return run(() => api.setUser({ ...profile, hall_id: roleHasHall(profile.role) ? profile.hall_id : null }));
  }

  async function savePolicy(hallId: string | null, policy: DeadlinePolicyView): Promise<boolean> {
    const s = await run(() => api.setDeadlinePolicy({ hall_id: hallId, policy }));
    if (s) settings.value = s;
    return s !== null;
  }

  async function saveReportPolicy(countSystemDefault: boolean): Promise<boolean> {
    const s = await run(() => api.setReportPolicy({ count_system_default: countSystemDefault }));
    if (s) settings.value = s;
    return s !== null;
  }

  async function importCalendar(text: string): Promise<number | null> {
    const year = await run(() => api.importCalendar({ json: text }));
    if (year !== null) settings.value = await api.caseSettings();
    return year;
  }

  async function push(): Promise<void> {
    await run(async () => {
      await api.pushNow();
      outbox.value = await api.outboxSummary();
    });
  }

  return { profile, settings, halls, outbox, error, busy, load, saveProfile, savePolicy, saveReportPolicy, importCalendar, push };
}
