import { computed, reactive, ref } from "vue";
import { api, ApiError } from "../api";
import type { CaseFilter, CaseListRow, CaseStateCount, FormOptions } from "../api/types";

/** The inbox tabs and the states each one shows. */
export const CASE_TABS: Record<string, string[]> = {
  todo: ["open", "rectifying", "awaiting_signoff", "appeal_window", "under_appeal", "awaiting_callback", "explained"],
  open: ["open"],
  awaiting_signoff: ["awaiting_signoff"],
  rectifying: ["rectifying"],
  under_appeal: ["under_appeal"],
  awaiting_callback: ["awaiting_callback"],
  explained: ["explained"],
  appeal_window: ["appeal_window"],
  closed: ["closed", "closed_escalated", "closed_appealed", "closed_revised"],
};

export interface InboxForm {
  text: string;
  kind: "" | "bad_rating" | "visit_finding";
  hall_id: string;
  urgency: "" | "warning" | "soon" | "overdue";
  flagged_only: boolean;
}

/** Inbox form + tab → the command's filter. */
export function toCaseFilter(tab: string, f: InboxForm, limit: number, offset: number): CaseFilter {
  return {
    states: CASE_TABS[tab] ?? [],
    hall_id: f.hall_id.trim() === "" ? null : f.hall_id,
    urgency: f.urgency === "" ? null : f.urgency,
    flagged_only: f.flagged_only,
    assignee: null,
    text: f.text.trim() === "" ? null : f.text.trim(),
    kind: f.kind === "" ? null : f.kind,
    limit,
    offset,
  };
}

/** Badge figures of a tab: cases, and how many are in warning or overdue. */
export function tabFigures(tab: string, counts: CaseStateCount[]): { total: number; warning: number; overdue: number } {
  const states = new Set(CASE_TABS[tab] ?? []);
  const out = { total: 0, warning: 0, overdue: 0 };
  for (const c of counts) {
    if (!states.has(c.state)) continue;
    out.total += c.total;
    out.warning += c.warning;
    out.overdue += c.overdue;
  }
  return out;
}

/** 差评工单 (and 申诉复核 with a fixed tab): tabs by state, search form, a page of
 * cases sorted by deadline in SQLite, bulk assign. */
export function useCaseInbox(initialTab = "todo", pageSize = 20) {
  const tab = ref(initialTab);
  const form = reactive<InboxForm>({ text: "", kind: "", hall_id: "", urgency: "", flagged_only: false });
  const rows = ref<CaseListRow[]>([]);
  const total = ref(0);
  const page = ref(1);
  const counts = ref<CaseStateCount[]>([]);
  const loading = ref(false);
  const error = ref("");
  const selected = ref<number[]>([]);
  const options = ref<FormOptions>({ halls: [], departments: [], windows: [], staff: [] });

  function message(e: unknown): string {
    return e instanceof ApiError ? e.message : String(e);
  }

  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      const hall = form.hall_id === "" ? null : form.hall_id;
      const [p, c] = await Promise.all([
        api.listCases(toCaseFilter(tab.value, form, pageSize, (page.value - 1) * pageSize)),
        api.caseCounts({ hall_id: hall }),
      ]);
      rows.value = p.rows;
      total.value = p.total;
      counts.value = c;
      selected.value = [];
    } catch (e) {
      error.value = message(e);
    } finally {
      loading.value = false;
    }
  }

  async function loadOptions(): Promise<void> {
    try {
      options.value = await api.formOptions({ month: null, hall_id: null });
    } catch (e) {
      error.value = message(e);
    }
  }

  async function search(): Promise<void> {
    page.value = 1;
    await load();
  }

  async function reset(): Promise<void> {
    Object.assign(form, { text: "", kind: "", hall_id: "", urgency: "", flagged_only: false });
    await search();
  }

  async function switchTab(t: string): Promise<void> {
    tab.value = t;
    await search();
  }

  async function goTo(n: number): Promise<void> {
    page.value = n;
    await load();
  }

  /** Bulk assign; returns the number changed, or null with `error` set. */
  async function assign(assignee: string): Promise<number | null> {
    try {
      const n = await api.assignCases({ case_ids: [...selected.value], assignee });
      await load();
      return n;
    } catch (e) {
      error.value = message(e);
      return null;
    }
  }

  const pages = computed(() => Math.max(1, Math.ceil(total.value / pageSize)));

  return { tab, form, rows, total, page, pages, counts, loading, error, selected, options, load, loadOptions, search, reset, switchTab, goTo, assign, pageSize };
}
