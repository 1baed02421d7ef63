import { reactive, ref } from "vue";
import { api, errorText } from "../api";
import type { EvaluationDetail, EvaluationFilter, EvaluationListRow, FormOptions, PageKey, FileData } from "../api/types";
import { beijingDaysToUtcRange } from "../utils/format";

/** The search form as people fill it (Beijing days, a "bad only" shortcut). */
export interface SearchForm {
  hall_id: string;
  levels: number[];
  channel: string;
  days: [string, string] | null;
  department_code: string;
  window_no: string;
  staff_no: string;
  /** Set only by a link (an item's alert); shown as a tag that clears it. */
  item_code: string;
  text: string;
  include_withdrawn: boolean;
}

export function emptyForm(): SearchForm {
  return { hall_id: "", levels: [], channel: "", days: null, department_code: "", window_no: "", staff_no: "", item_code: "", text: "", include_withdrawn: false };
}

/** Form → the command's filter: blanks dropped, Beijing days → UTC [from, to). */
export function toFilter(f: SearchForm): EvaluationFilter {
  const blank = (s: string) => (s.trim() === "" ? null : s.trim());
  const range = f.days ? beijingDaysToUtcRange(f.days[0], f.days[1]) : null;
  return {
    hall_id: blank(f.hall_id),
    levels: [...f.levels],
    channel: blank(f.channel),
    from: range?.from ?? null,
    to: range?.to ?? null,
    department_code: blank(f.department_code),
    window_no: blank(f.window_no),
    staff_no: blank(f.staff_no),
    item_code: blank(f.item_code),
    text: blank(f.text),
    include_withdrawn: f.include_withdrawn,
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A link's query (`?hall=…&window=…&from=…&to=…&bad=1`, as the 预警 page makes)
 * → the form. Anything malformed is left out; values are only ever compared, never
 * run. */
export function formFromQuery(q: Record<string, unknown>, badLevels: number[]): SearchForm {
  const f = emptyForm();
  const text = (k: string) => (typeof q[k] === "string" ? (q[k] as string).trim().slice(0, 200) : "");
  f.hall_id = text("hall");
  f.window_no = text("window");
  f.staff_no = text("staff");
  f.item_code = text("item");
  f.department_code = text("department");
  const from = text("from");
  const to = text("to");
  if (DAY.test(from) && DAY.test(to) && from <= to) f.days = [from, to];
  if (text("bad") === "1") f.levels = [...badLevels];
  return f;
}

/** Whether a query carries any of the link's filters. */
export function queryHasFilter(q: Record<string, unknown>): boolean {
  return ["hall", "window", "staff", "item", "department", "from", "bad"].some((k) => typeof q[k] === "string");
}

/** 评价查询: form → table paged by key in SQLite → detail drawer. */
export function useEvaluationSearch(pageSize = 20, lockedHall: () => string | null = () => null) {
  /** An empty form; a viewer held to one hall (a director) keeps it. */
  const fresh = (): SearchForm => ({ ...emptyForm(), hall_id: lockedHall() ?? "" });
  const form = reactive<SearchForm>(fresh());
  const rows = ref<EvaluationListRow[]>([]);
  const loading = ref(false);
  const error = ref("");
  const total = ref<number | null>(null);
  const options = ref<FormOptions>({ halls: [], departments: [], windows: [], staff: [] });
  // keys[i] is where page i+1 starts (null: from the top).
  const keys = ref<(PageKey | null)[]>([null]);
  const next = ref<PageKey | null>(null);
  const detail = ref<EvaluationDetail | null>(null);
  const detailOpen = ref(false);
  const detailError = ref("");
  let applied: EvaluationFilter = toFilter(form);
  let countSeq = 0;


  async function loadOptions(): Promise<void> {
    try {
      options.value = await api.formOptions({ month: null, hall_id: form.hall_id || null });
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function fetchPage(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      const page = await api.queryEvaluations({ filter: applied, after: keys.value[keys.value.length - 1], limit: pageSize });
      rows.value = page.rows;
      next.value = page.next;
    } catch (e) {
      rows.value = [];
      next.value = null;
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function search(): Promise<void> {
    try {
      applied = toFilter(form);
    } catch (e) {
      error.value = errorText(e);
      return;
    }
    keys.value = [null];
    total.value = null;
    const mine = ++countSeq;
    // The count never holds up the first page.
    void api
      .countEvaluations(applied)
      .then((n) => {
        if (mine === countSeq) total.value = n;
      })
      .catch(() => {
        // Never "counting…" forever: the pages still work without a total.
        if (mine === countSeq) total.value = -1;
      });
    await fetchPage();
  }

  async function reset(): Promise<void> {
    Object.assign(form, fresh());
    await loadOptions();
    await search();
  }

  async function nextPage(): Promise<void> {
    if (!next.value) return;
    keys.value.push(next.value);
    await fetchPage();
  }

  async function prevPage(): Promise<void> {
    if (keys.value.length <= 1) return;
    keys.value.pop();
    await fetchPage();
  }

  async function open(row: EvaluationListRow): Promise<void> {
    detail.value = null;
    detailError.value = "";
    detailOpen.value = true;
    try {
      detail.value = await api.evaluationDetail({ hall_id: row.hall_id, id: row.id });
    } catch (e) {
      detailError.value = errorText(e);
    }
  }

  const exporting = ref(false);
  /** 导出: the evaluations of the filter the table shows, as CSV or Excel. */
  async function exportAs(format: "csv" | "xlsx"): Promise<FileData | null> {
    exporting.value = true;
    error.value = "";
    try {
      return await api.exportEvaluations({ filter: applied, format });
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      exporting.value = false;
    }
  }

  return { form, rows, loading, error, total, options, keys, next, detail, detailOpen, detailError, exporting, loadOptions, search, reset, nextPage, prevPage, open, exportAs };
}
