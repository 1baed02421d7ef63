import { computed, reactive, ref } from "vue";
import { api, errorText } from "../api";
import type { CaseFilter, CaseListRow, CaseStateCount, FormOptions } from "../api/types";
import { useAppStore } from "../stores/app";

export interface InboxForm {
  text: string;
  kind: "" | "bad_rating" | "visit_finding";
  hall_id: string;
  urgency: "" | "warning" | "soon" | "overdue";
  flagged_only: boolean;
}

/** Inbox form + the tab's states (from the vocabulary) → the command's filter. */
export function toCaseFilter(states: string[], f: InboxForm, limit: number, offset: number): CaseFilter {
  return {
    states,
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

/** Badge figures of a tab (its states): cases, and how many are in warning or overdue. */
export function tabFigures(tabStates: string[], counts: CaseStateCount[]): { total: number; warning: number; overdue: number } {
  const states = new Set(tabStates);
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
  const store = useAppStore();
  const tab = ref(initialTab);
  /** The tabs and their states come from hcp-core through the vocabulary. */
  const tabs = computed(() => store.vocabulary?.case_tabs ?? []);
  function tabStates(key: string): string[] {
    return tabs.value.find((t) => t.key === key)?.states ?? [];
  }
  const form = reactive<InboxForm>({ text: "", kind: "", hall_id: "", urgency: "", flagged_only: false });
  const rows = ref<CaseListRow[]>([]);
  const total = ref(0);
  const page = ref(1);
  const counts = ref<CaseStateCount[]>([]);
  const loading = ref(false);
  const error = ref("");
  const selected = ref<number[]>([]);
  const options = ref<FormOptions>({ halls: [], departments: [], windows: [], staff: [] });


  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      await store.ensureVocabulary();
      if (!tabs.value.some((t) => t.key === tab.value)) tab.value = "todo";
      const hall = form.hall_id === "" ? null : form.hall_id;
      const [p, c] = await Promise.all([
        api.listCases(toCaseFilter(tabStates(tab.value), form, pageSize, (page.value - 1) * pageSize)),
        api.caseCounts({ hall_id: hall }),
      ]);
      rows.value = p.rows;
      total.value = p.total;
      counts.value = c;
      selected.value = [];
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function loadOptions(): Promise<void> {
    try {
      options.value = await api.formOptions({ month: null, hall_id: null });
    } catch (e) {
      error.value = errorText(e);
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
      error.value = errorText(e);
      return null;
    }
  }

  const pages = computed(() => Math.max(1, Math.ceil(total.value / pageSize)));

  /** Sends the decisions waiting for the halls now; what each hall said. */
  async function pushNow() {
    const reports = await api.pushNow();
    await load();
    return reports;
  }

  return { tab, tabs, tabStates, form, rows, total, page, pages, counts, loading, error, selected, options, load, loadOptions, search, reset, switchTab, goTo, assign, pushNow, pageSize };
}
