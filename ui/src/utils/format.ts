// Presentation helpers: the cache stores UTC instants; people read Beijing time.
import type { RateView } from "../api/types";

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

function pad(n: number): string {
  return n.toString().padStart(2, "0");
}

/** "2026-10-08T01:31:05Z" → "2026-10-08 09:31:05" (Beijing time); "—" when absent. */
export function beijingTime(utc: string | null | undefined, withSeconds = true): string {
  if (!utc) return "—";
  const ms = Date.parse(utc);
  if (Number.isNaN(ms)) return utc;
  const d = new Date(ms + BEIJING_OFFSET_MS);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${withSeconds ? `:${pad(d.getUTCSeconds())}` : ""}`;
  return `${date} ${time}`;
}

/** "2026-10-01" (a Beijing calendar day) → its first instant in UTC. */
export function beijingDayStartUtc(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`不是日期：${day}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - BEIJING_OFFSET_MS;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** Inclusive Beijing days [first, last] → UTC [from, to) for a filter. */
export function beijingDaysToUtcRange(first: string, last: string): { from: string; to: string } {
  const from = beijingDayStartUtc(first);
  const end = Date.parse(beijingDayStartUtc(last)) + 24 * 3600 * 1000;
  return { from, to: new Date(end).toISOString().replace(".000Z", "Z") };
}

/** "93.27%", or "—" when the denominator is zero. */
export function percent(rate: Pick<RateView, "numerator" | "denominator" | "percent"> | null | undefined): string {
  if (!rate || rate.percent === null) return "—";
  return `${rate.percent.toFixed(2)}%`;
}

/** 12345 → "12,345". */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("zh-CN");
}

/** "2026-10" → "2026年10月". */
export function monthLabel(month: string): string {
  const [y, m] = month.split("-");
  return `${y}年${Number(m)}月`;
}

/** A report period as people say it: 2026年10月, 2026年第三季度, 2026年度. */
export function periodLabel(period: string): string {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  if (q) return `${q[1]}年第${["一", "二", "三", "四"][Number(q[2]) - 1]}季度`;
  if (/^\d{4}$/.test(period)) return `${period}年度`;
  if (/^\d{4}-\d{2}$/.test(period)) return monthLabel(period);
  return period;
}

/** Whether a period (`2026-11`, `2026-Q4`, `2026`) has ended by Beijing's `today`
 * (`YYYY-MM-DD`). */
export function periodEnded(period: string, today: string): boolean {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const y = /^(\d{4})$/.exec(period);
  // The first month after the period, as YYYY-MM; the period has ended once today is in it or later.
  let after: string;
  if (q) after = Number(q[2]) === 4 ? `${Number(q[1]) + 1}-01` : `${q[1]}-${String(Number(q[2]) * 3 + 1).padStart(2, "0")}`;
  else if (m) after = Number(m[2]) === 12 ? `${Number(m[1]) + 1}-01` : `${m[1]}-${String(Number(m[2]) + 1).padStart(2, "0")}`;
  else if (y) after = `${Number(y[1]) + 1}-01`;
  else return true;
  return today.slice(0, 7) >= after;
}

/**
 * Whether a timeline event was recorded well after it happened (an action
 * entered later, a hall record that arrived with a later sync): more than an hour.
 */
export function recordedLater(e: { at: string; acted_at: string | null }): boolean {
  if (!e.acted_at) return false;
  const a = Date.parse(e.acted_at);
  const r = Date.parse(e.at);
  return !Number.isNaN(a) && !Number.isNaN(r) && r - a > 3600 * 1000;
}

/** What a case is about, as people read it: a rating's number, or for a visit
 * finding (`<visit uuid>#<item>`) the visit and the checklist item. */
export function caseSubject(kind: string, evaluationId: string): string {
  if (kind !== "visit_finding") return evaluationId;
  const [visit, item] = evaluationId.split("#");
  return item ? `暗访记录 ${visit.slice(0, 8)} · 检查项 ${item}` : `暗访记录 ${visit.slice(0, 8)}`;
}

/** A time of day as people type it (`10:05`, `10:05:00`, `1005`, `10点05`,
 * `10.05`) as `HH:mm`, or `null` when it is not one. */
export function typedTime(text: string): string | null {
  const s = text.trim().replace(/[：.．点时]/g, ":").replace(/分$/, "");
  const m = /^(\d{1,2})(?::?(\d{2}))(?::\d{2})?$/.exec(s) ?? /^(\d{1,2}):?$/.exec(s);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2] ?? "0");
  if (h > 23 || min > 59) return null;
  return `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}`;
}

/** A stored instant as its Beijing day and `HH:mm` (both empty when unset). */
export function visitDayTime(iso: string | null | undefined): { day: string; time: string } {
  if (!iso) return { day: "", time: "" };
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return { day: "", time: "" };
  const b = new Date(t + 8 * 3600_000).toISOString();
  return { day: b.slice(0, 10), time: b.slice(11, 16) };
}

/** A Beijing day and `HH:mm` as the instant the visit form stores. */
export function visitInstant(day: string, time: string): string | null {
  return day && time ? `${day}T${time}:00+08:00` : null;
}

/** The date range shortcuts (本月, 上月, 近7天, 近30天) for Beijing `today`
 * (`YYYY-MM-DD`), as `[first, last]` days. */
export function dayRangeShortcuts(today: string): { text: string; days: [string, string] }[] {
  const [y, m, d] = today.split("-").map(Number);
  const iso = (dt: Date) => dt.toISOString().slice(0, 10);
  const day = (yy: number, mm: number, dd: number) => new Date(Date.UTC(yy, mm - 1, dd));
  const back = (n: number) => iso(day(y, m, d - n));
  return [
    { text: "本月", days: [iso(day(y, m, 1)), today] },
    { text: "上月", days: [iso(day(y, m - 1, 1)), iso(day(y, m, 0))] },
    { text: "近7天", days: [back(6), today] },
    { text: "近30天", days: [back(29), today] },
  ];
}
