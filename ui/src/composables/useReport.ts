import { computed, ref, watch } from "vue";
import dayjs from "dayjs";
import { api, errorText } from "../api";
import { useAppStore } from "../stores/app";
import type { FileData, HallSummary, IssuedReport, TypicalCase } from "../api/types";

export type PeriodKind = "monthly" | "quarterly" | "yearly";

/** The period key the commands take: `2026-10`, `2026-Q3` or `2026`. */
export function periodKey(kind: PeriodKind, month: string, year: string, quarter: number): string {
  if (kind === "quarterly") return `${year}-Q${quarter}`;
  if (kind === "yearly") return year;
  return month;
}

/** 通报 (monthly, quarterly, yearly): the period and hall chosen, the preview's
 * pages, the issued reports and the period's 典型案例, and the commands on them.
 * The page shows messages and delivers files; this holds the state and calls the API. */
export function useReport() {
  const store = useAppStore();
  /** A director's hall (his reports cover it alone); `null` for the office. */
  const lockedHall = (): string | null => (store.info && !store.can("all_halls") ? store.info.hall_id : null);
  const kind = ref<PeriodKind>("monthly");
  const month = ref(dayjs().subtract(1, "month").format("YYYY-MM"));
  /** The quarter before this one, and its year. */
  const lastQuarter = dayjs().subtract(3, "month");
  const year = ref(lastQuarter.format("YYYY"));
  const quarter = ref(Math.floor(lastQuarter.month() / 3) + 1);
  const period = computed(() => periodKey(kind.value, month.value, year.value, quarter.value));
  const hall = ref<string | null>(null);
  /** 版式: the data brief for the screen, or the 公文 issuing stores. */
  const layout = ref<"brief" | "official">("brief");
  const halls = ref<HallSummary[]>([]);
  const pages = ref<string[]>([]);
  /** Each page's text, read out by screen readers under its image. */
  const texts = ref<string[]>([]);
  const nextVersion = ref(1);
  /** What the 签发 dialog states: the issue, the scope and the signer. */
  const nextIssue = ref<{ year: number; no: number; scope: string; signer: string | null } | null>(null);
  const issued = ref<IssuedReport[]>([]);
  const loading = ref(false);
  const error = ref("");
  const typicalCases = ref<TypicalCase[]>([]);
  /** 典型案例 are picked in the inbox (加入典型案例): the report uses the period's picks. */
  const typical = (): number[] => [];
  const scope = () => ({ month: period.value, hall_id: hall.value || null });

  async function loadTypical(): Promise<void> {
    try {
      typicalCases.value = await api.typicalCases(scope());
    } catch (e) {
      error.value = errorText(e);
    }
  }

  /** Takes a case off the month's 典型案例. */
  async function unpick(caseId: number): Promise<void> {
    await api.setTypical({ case_id: caseId, typical: false });
    await loadTypical();
  }

  async function preview(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      const p = await api.reportPreview({ ...scope(), typical: typical(), layout: layout.value });
      pages.value = p.pages;
      texts.value = p.texts;
      nextVersion.value = p.next_version;
      nextIssue.value = { year: p.next_year, no: p.next_issue_no, scope: p.scope_name, signer: p.signer };
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  /** The report being previewed as a file (pdf | xlsx). */
  function exportFile(format: string): Promise<FileData> {
    return api.reportExport({ ...scope(), report_id: null, format, typical: typical(), layout: layout.value });
  }

  /** An issued report's PDF, as it was issued. */
  function issuedFile(id: number): Promise<FileData> {
    return api.reportExport({ month: null, hall_id: null, report_id: id, format: "pdf", typical: [], layout: null });
  }

  /** Issues the previewed report (a correction note for a second version). */
  function issue(correction: string, early = false): Promise<IssuedReport> {
    return api.reportIssue({ ...scope(), correction: correction.trim() || null, typical: typical(), early });
  }

  /** After issuing: the list of issued reports and the preview (its next version). */
  async function refreshIssued(): Promise<void> {
    issued.value = await api.reportList();
    await preview();
  }

  async function load(): Promise<void> {
    const typicalLoaded = loadTypical();
    try {
      [halls.value, issued.value] = await Promise.all([api.listHalls(), api.reportList()]);
      // A director's 通报 is his hall's: the scope is fixed to it.
      if (lockedHall()) hall.value = lockedHall();
    } catch (e) {
      error.value = errorText(e);
    }
    await typicalLoaded;
  }

  watch([period, hall, layout], () => {
    // A new period: the old pages no longer match what the buttons would export.
    pages.value = [];
    texts.value = [];
    void loadTypical();
  });

  /** Saves a file into the download folder and opens it with the system's viewer
   * (the desktop's way to print a PDF). */
  async function openSaved(f: { file_name: string; data_base64: string }): Promise<void> {
    await api.openFile({ path: await api.saveFile({ file_name: f.file_name, data_base64: f.data_base64, ask: false }) });
  }

  return { kind, month, year, quarter, period, hall, layout, halls, pages, texts, nextVersion, nextIssue, lockedHall, issued, loading, error, typicalCases, loadTypical, unpick, preview, exportFile, issuedFile, issue, refreshIssued, load, openSaved };
}
