import { beforeEach, describe, expect, it } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { alertDays, beijingMonth, countByRule, evaluationsQuery, unitLabel } from "../src/composables/useAlerts";
import { useAppStore } from "../src/stores/app";
import { formFromQuery, queryHasFilter, toFilter } from "../src/composables/useEvaluationSearch";
import type { AlertRow } from "../src/api/types";

// The rules come from the core's list through the vocabulary, as the app loads it.
beforeEach(() => {
  setActivePinia(createPinia());
  const rule = (code: string, short: string, about_bad = false) => ({ code, name: short, short, about_bad });
  useAppStore().vocabulary = {
    alert_rules: [
      rule("spike", "差评突增", true),
      rule("repeat_rater", "反复评价"),
      rule("concentrated", "好评集中"),
      rule("praise_burst", "短时集中好评"),
      rule("serial_run", "连号代评"),
      rule("malicious_rater", "疑似恶意差评", true),
    ],
  } as unknown as NonNullable<ReturnType<typeof useAppStore>["vocabulary"]>;
});

function alert(over: Partial<AlertRow>): AlertRow {
  return {
    alert_id: 1, rule: "spike", rule_label: "差评突增", unit_kind: "window", hall_id: "340825-ZWFW", code: "A03",
    day_from: "2026-10-12", day_to: "2026-10-12", observed: 9, baseline: 0.6, explanation: "A03窗口 10月12日差评 9 条，近8周日均 0.6 条",
    evidence: ["E1"], state: "open", note: null, decided_by: null, decided_at: null, hall_name: null, unit_name: null, ...over,
  };
}

describe("预警", () => {
  it("names each unit as people read it", () => {
    expect(unitLabel(alert({}))).toBe("A03窗口");
    expect(unitLabel(alert({ unit_kind: "staff", code: "S1021" }))).toBe("工号S1021");
    expect(unitLabel(alert({ unit_kind: "hall", code: "340825-ZWFW" }))).toBe("全厅");
    expect(unitLabel(alert({ unit_kind: "evaluator", code: "9f2c0000aaaabbbbcccc" }))).toBe("评价人9f2c0000");
    expect(unitLabel(alert({ rule: "serial_run", unit_kind: "department", code: "县市场监管局" }))).toBe("部门县市场监管局");
    // With the names from the hall's profile.
    expect(unitLabel(alert({ unit_name: "综合受理" }))).toBe("A03窗口（综合受理）");
    expect(unitLabel(alert({ unit_kind: "staff", code: "S1021", unit_name: "王敏" }))).toBe("王敏（工号S1021）");
    expect(unitLabel(alert({ unit_kind: "item", code: "11340825MB705176784000009001", unit_name: "不动产登记" }))).toBe("事项：不动产登记");
    expect(unitLabel(alert({ unit_kind: "item", code: "113408" }))).toBe("事项编码113408");
    expect(alertDays(alert({}))).toBe("2026-10-12");
    expect(alertDays(alert({ day_to: "2026-10-16" }))).toBe("2026-10-12 至 2026-10-16");
  });

  it("counts open alerts by rule, every rule present", () => {
    const c = countByRule([alert({}), alert({ alert_id: 2 }), alert({ alert_id: 3, state: "acknowledged" }), alert({ alert_id: 4, rule: "praise_burst" })]);
    expect(c).toEqual({ spike: 2, repeat_rater: 0, concentrated: 0, praise_burst: 1, serial_run: 0, malicious_rater: 0 });
    expect(countByRule([alert({ state: "dismissed" })], null).spike).toBe(1);
  });

  it("the month in Beijing turns at 16:00 UTC", () => {
    expect(beijingMonth(new Date("2026-11-30T15:59:59Z"))).toBe("2026-11");
    expect(beijingMonth(new Date("2026-11-30T16:00:00Z"))).toBe("2026-12");
  });

  it("opens 评价查询 on the alert's unit and days, bad ratings for bad-rating rules", () => {
    const q = evaluationsQuery(alert({}));
    expect(q).toEqual({ hall: "340825-ZWFW", window: "A03", from: "2026-10-12", to: "2026-10-12", bad: "1" });
    const form = formFromQuery(q, [1, 2]);
    expect(form.window_no).toBe("A03");
    expect(form.levels).toEqual([1, 2]);
    const f = toFilter(form);
    // Beijing days → UTC: 10-12 00:00 +08:00 to 10-13 00:00 +08:00.
    expect(f.from).toBe("2026-10-11T16:00:00Z");
    expect(f.to).toBe("2026-10-12T16:00:00Z");
    expect(f.hall_id).toBe("340825-ZWFW");
    // Praise rules look at every rating; an evaluator spans halls.
    expect(evaluationsQuery(alert({ rule: "praise_burst" })).bad).toBeUndefined();
    expect(evaluationsQuery(alert({ rule: "malicious_rater", unit_kind: "evaluator", code: "abc" })).hall).toBeUndefined();
    expect(toFilter(formFromQuery(evaluationsQuery(alert({ unit_kind: "item", code: "11340825MB" })), [1, 2])).item_code).toBe("11340825MB");
    // A script's serial run: its department, every rating (they are all praise).
    const run = evaluationsQuery(alert({ rule: "serial_run", unit_kind: "department", code: "D07" }));
    expect(run).toEqual({ hall: "340825-ZWFW", department: "D07", from: "2026-10-12", to: "2026-10-12" });
    expect(toFilter(formFromQuery(run, [1, 2])).department_code).toBe("D07");
  });

  it("a crafted query fills nothing it should not", () => {
    expect(queryHasFilter({})).toBe(false);
    expect(queryHasFilter({ tab: "x" })).toBe(false);
    const f = formFromQuery({ from: "2026-10-12'; DROP", to: "2026-10-01", bad: "yes", hall: ["a", "b"], window: "x".repeat(500) }, [1, 2]);
    expect(f.days).toBeNull();
    expect(f.levels).toEqual([]);
    expect(f.hall_id).toBe("");
    expect(f.window_no.length).toBe(200);
    // Reversed days are left out too.
    expect(formFromQuery({ from: "2026-10-20", to: "2026-10-01" }, []).days).toBeNull();
  });
});
