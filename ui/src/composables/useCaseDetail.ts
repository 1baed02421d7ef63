import { computed, ref } from "vue";
import { api, errorText } from "../api";
import type { CaseActionInput, CaseChange, CaseDetail, CodeName } from "../api/types";

/** The case page: its data, the allowed actions and doing them. */
export function useCaseDetail(caseId: () => number) {
  const detail = ref<CaseDetail | null>(null);
  const departments = ref<CodeName[]>([]);
  const loading = ref(false);
  const error = ref("");
  const acting = ref(false);
  const actionError = ref("");


  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      detail.value = await api.caseDetail({ case_id: caseId() });
      const opts = await api.formOptions({ month: null, hall_id: detail.value.case.hall_id });
      departments.value = opts.departments;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  /** Does an action on the version shown; reloads. Null with `actionError` set when refused. */
  async function act(action: CaseActionInput): Promise<CaseChange | null> {
    if (!detail.value) return null;
    acting.value = true;
    actionError.value = "";
    try {
      const change = await api.caseAction({ case_id: detail.value.case.case_id, version: detail.value.case.version, action });
      await load();
      return change;
    } catch (e) {
      actionError.value = errorText(e);
      return null;
    } finally {
      acting.value = false;
    }
  }

  /** What this user may do now: hcp-core decides, by state and role. */
  const actions = computed(() => detail.value?.allowed_actions ?? []);
  const departmentName = computed(() => {
    const m = new Map(departments.value.map((d) => [d.code, d.name]));
    return (code: string | null | undefined) => (code ? (m.get(code) ?? code) : "—");
  });

  /** 加入/移出典型案例; the month it counts in. */
  async function toggleTypical(): Promise<string> {
    const d = detail.value;
    if (!d) throw new Error("工单尚未载入");
    const month = await api.setTypical({ case_id: d.case.case_id, typical: !d.typical_month });
    await load();
    return month;
  }

  return { detail, departments, loading, error, acting, actionError, load, act, actions, departmentName, toggleTypical };
}
