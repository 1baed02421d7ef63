import { computed, ref } from "vue";
import { api, errorText } from "../api";
import type { AlertDetail, AlertRow, AlertRuleView } from "../api/types";
import { useAppStore } from "../stores/app";

/** The rules in the order people read them, with their short zh-CN names — from
 * the core's rule list (the vocabulary), never a copy. */
export function alertRules(): AlertRuleView[] {
  return useAppStore().vocabulary?.alert_rules ?? [];
}

export const ALERT_STATES: Record<string, string> = { open: "待处置", acknowledged: "已确认", dismissed: "已排除" };

/** Who or what an alert is about, as a person reads it. */
export function unitLabel(a: Pick<AlertRow, "unit_kind" | "code"> & { unit_name?: string | null }): string {
  const name = a.unit_name?.trim();
  switch (a.unit_kind) {
    case "hall":
      return "全厅";
    case "window":
      return name ? `${a.code}窗口（${name}）` : `${a.code}窗口`;
    case "staff":
      return name ? `${name}（工号${a.code}）` : `工号${a.code}`;
    case "item":
      return name ? `事项：${name}` : `事项编码${a.code}`;
    case "evaluator":
      return `评价人${a.code.slice(0, 8)}`;
    case "department":
      return name ?? `部门${a.code}`;
    default:
      return a.code;
  }
}

/** The days of an alert: one day, or first–last. */
export function alertDays(a: Pick<AlertRow, "day_from" | "day_to">): string {
  return a.day_from === a.day_to ? a.day_from : `${a.day_from} 至 ${a.day_to}`;
}

/** Open alerts per rule (the 工作台 card and the tabs). */
export function countByRule(rows: AlertRow[], state: string | null = "open"): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(alertRules().map((r) => [r.code, 0]));
  for (const a of rows) if (state === null || a.state === state) out[a.rule] = (out[a.rule] ?? 0) + 1;
  return out;
}

/** Where 评价查询 opens for an alert: its hall, its unit, its days, and bad
 * ratings only for the rules about bad ratings. */
export function evaluationsQuery(a: AlertRow): Record<string, string> {
  const q: Record<string, string> = { from: a.day_from, to: a.day_to };
  if (a.unit_kind !== "evaluator") q.hall = a.hall_id;
  if (a.unit_kind === "window") q.window = a.code;
  if (a.unit_kind === "staff") q.staff = a.code;
  if (a.unit_kind === "item") q.item = a.code;
  if (a.unit_kind === "department") q.department = a.code;
  if (alertRules().find((r) => r.code === a.rule)?.about_bad) q.bad = "1";
  return q;
}

/** The current month in Beijing, `YYYY-MM`. */
export function beijingMonth(now = new Date()): string {
  const b = new Date(now.getTime() + 8 * 3600_000);
  return `${b.getUTCFullYear()}-${String(b.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** 预警: a month's alerts, one opened with its evidence and series, decided. */
export function useAlerts() {
  const month = ref(beijingMonth());
  const rows = ref<AlertRow[]>([]);
  const loading = ref(false);
  const error = ref("");
  const detail = ref<AlertDetail | null>(null);
  const detailError = ref("");
  const detailLoading = ref(false);
  const rule = ref<string>("");
  const state = ref<string>("open");

  const shown = computed(() => rows.value.filter((a) => (!rule.value || a.rule === rule.value) && (!state.value || a.state === state.value)));
  const counts = computed(() => countByRule(rows.value, state.value || null));

  async function load(): Promise<void> {
    loading.value = true;
    error.value = "";
    try {
      const list = await api.alerts({ month: month.value, rule: null });
      rows.value = list.alerts;
    } catch (e) {
      rows.value = [];
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function open(alertId: number): Promise<void> {
    detailLoading.value = true;
    detailError.value = "";
    try {
      detail.value = await api.alertDetail({ alert_id: alertId });
    } catch (e) {
      detail.value = null;
      detailError.value = errorText(e);
    } finally {
      detailLoading.value = false;
    }
  }

  /** 确认 or 排除 with a note; the list and the open detail follow. */
  async function decide(alertId: number, decision: "acknowledged" | "dismissed", note: string): Promise<AlertRow> {
    const row = await api.decideAlert({ alert_id: alertId, state: decision, note });
    rows.value = rows.value.map((a) => (a.alert_id === row.alert_id ? row : a));
    if (detail.value?.alert.alert_id === row.alert_id) detail.value = { ...detail.value, alert: row };
    return row;
  }

  return { month, rows, loading, error, detail, detailError, detailLoading, rule, state, shown, counts, load, open, decide };
}
