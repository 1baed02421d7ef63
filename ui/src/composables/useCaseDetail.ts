import { computed, ref } from "vue";
import { api, ApiError } from "../api";
import type { CaseActionInput, CaseChange, CaseDetail, CodeName } from "../api/types";

/** Which actions a state allows (the state machine in hcp-core decides; this only
 * chooses the buttons to show). */
export function actionsFor(state: string, kind = "bad_rating"): string[] {
  if (kind === "visit_finding") {
    return ["rectifying", "awaiting_signoff"].includes(state) ? ["findingRectified", "assign", "transfer"] : [];
  }
  switch (state) {
    case "open":
      return ["verify", "assign", "transfer"];
    case "rectifying":
      return ["assign", "transfer"];
    case "awaiting_signoff":
      return ["accept", "return", "assign", "transfer"];
    case "appeal_window":
      return ["close", "assign", "transfer"];
    case "under_appeal":
      return ["decideAppeal"];
    case "awaiting_callback":
    case "explained":
      return ["callback", "assign", "transfer"];
    default:
      return [];
  }
}

/** The case page: its data, the allowed actions and doing them. */
export function useCaseDetail(caseId: () => number) {
  const detail = ref<CaseDetail | null>(null);
  const departments = ref<CodeName[]>([]);
  const loading = ref(false);
  const error = ref("");
  const acting = ref(false);
  const actionError = ref("");

  function message(e: unknown): string {
    return e instanceof ApiError ? e.message : String(e);
  }

  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      detail.value = await api.caseDetail(caseId());
      const opts = await api.formOptions({ month: null, hall_id: detail.value.case.hall_id });
      departments.value = opts.departments;
    } catch (e) {
      error.value = message(e);
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
      actionError.value = message(e);
      return null;
    } finally {
      acting.value = false;
    }
  }

  const actions = computed(() => (detail.value ? actionsFor(detail.value.case.state, detail.value.case.kind) : []));
  const departmentName = computed(() => {
    const m = new Map(departments.value.map((d) => [d.code, d.name]));
    return (code: string | null | undefined) => (code ? (m.get(code) ?? code) : "—");
  });

  return { detail, departments, loading, error, acting, actionError, load, act, actions, departmentName };
}
