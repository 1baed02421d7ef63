import { describe, expect, it } from "vitest";
import { beijingDayStartUtc, beijingDaysToUtcRange, beijingTime, caseSubject, count, dayRangeShortcuts, typedTime, visitDayTime, visitInstant, monthLabel, percent, periodEnded, periodLabel, recordedLater } from "../src/utils/format";

describe("Beijing time", () => {
  it("shows UTC instants in Beijing time", () => {
    expect(beijingTime("2026-10-08T01:31:05Z")).toBe("2026-10-08 09:31:05");
    // 23:30 Beijing on the last day of October is still October.
    expect(beijingTime("2026-10-31T15:30:00Z")).toBe("2026-10-31 23:30:00");
    expect(beijingTime("2026-10-31T16:10:00Z", false)).toBe("2026-11-01 00:10");
    expect(beijingTime(null)).toBe("—");
  });

  it("turns inclusive Beijing days into a UTC [from, to) range", () => {
    expect(beijingDayStartUtc("2026-10-01")).toBe("2026-09-30T16:00:00Z");
    expect(beijingDaysToUtcRange("2026-10-01", "2026-10-31")).toEqual({
      from: "2026-09-30T16:00:00Z",
      to: "2026-10-31T16:00:00Z",
    });
    expect(() => beijingDayStartUtc("10/01/2026")).toThrow();
  });
});

describe("figures", () => {
  it("shows a rate over zero as a dash", () => {
    expect(percent({ numerator: 0, denominator: 0, percent: null })).toBe("—");
    expect(percent({ numerator: 2, denominator: 3, percent: 66.67 })).toBe("66.67%");
    expect(count(1234567)).toBe("1,234,567");
    expect(monthLabel("2026-03")).toBe("2026年3月");
    expect(periodLabel("2026-03")).toBe("2026年3月");
    expect(periodLabel("2026-Q3")).toBe("2026年第三季度");
    expect(periodLabel("2026")).toBe("2026年度");
    expect(periodLabel("2026-Q9")).toBe("2026-Q9");
  });

  it("marks a timeline event recorded more than an hour after it happened", () => {
    expect(recordedLater({ at: "2026-12-01T02:00:00Z", acted_at: "2026-11-20T02:00:00Z" })).toBe(true);
    expect(recordedLater({ at: "2026-12-01T02:00:00Z", acted_at: "2026-12-01T01:30:00Z" })).toBe(false);
    expect(recordedLater({ at: "2026-12-01T02:00:00Z", acted_at: null })).toBe(false);
  });
});

describe("report periods", () => {
  it("keys each kind the way the commands take it", async () => {
    const { periodKey } = await import("../src/composables/useReport");
    expect(periodKey("monthly", "2026-10", "2026", 3)).toBe("2026-10");
    expect(periodKey("quarterly", "2026-10", "2026", 3)).toBe("2026-Q3");
    expect(periodKey("yearly", "2026-10", "2025", 3)).toBe("2025");
  });
});

describe("periodEnded", () => {
  it("says a month, quarter or year has ended only once Beijing's today is past it", () => {
    expect(periodEnded("2026-11", "2026-12-07")).toBe(true);
    expect(periodEnded("2026-12", "2026-12-07")).toBe(false);
    expect(periodEnded("2026-12", "2027-01-01")).toBe(true);
    expect(periodEnded("2026-Q3", "2026-10-01")).toBe(true);
    expect(periodEnded("2026-Q4", "2026-12-31")).toBe(false);
    expect(periodEnded("2026-Q4", "2027-01-01")).toBe(true);
    expect(periodEnded("2026", "2026-12-31")).toBe(false);
    expect(periodEnded("2025", "2026-01-01")).toBe(true);
  });
});

describe("caseSubject", () => {
  it("names a visit finding by its visit and checklist item, a rating by its number", () => {
    expect(caseSubject("visit_finding", "c5e26a79-1111-2222-3333-444455556666#7.3")).toBe("暗访记录 c5e26a79 · 检查项 7.3");
    expect(caseSubject("bad_rating", "E20261008000123")).toBe("E20261008000123");
  });
});

describe("typed visit times", () => {
  it("takes the ways people type a time of day", () => {
    for (const s of ["10:05", "10:05:00", "1005", "10点05", "10.05", "10：05", " 10:05 "]) expect(typedTime(s)).toBe("10:05");
    expect(typedTime("9")).toBe("09:00");
    expect(typedTime("25:00")).toBeNull();
    expect(typedTime("10:75")).toBeNull();
    expect(typedTime("上午")).toBeNull();
  });
  it("stores Beijing day and time as an instant and reads it back", () => {
    expect(visitInstant("2026-12-07", "10:05")).toBe("2026-12-07T10:05:00+08:00");
    expect(visitDayTime("2026-12-07T02:05:00Z")).toEqual({ day: "2026-12-07", time: "10:05" });
    expect(visitDayTime(null)).toEqual({ day: "", time: "" });
    expect(visitInstant("", "10:05")).toBeNull();
  });
});

describe("dayRangeShortcuts", () => {
  it("gives this month, last month and the last 7 and 30 days", () => {
    const s = Object.fromEntries(dayRangeShortcuts("2026-03-05").map((x) => [x.text, x.days]));
    expect(s["本月"]).toEqual(["2026-03-01", "2026-03-05"]);
    expect(s["上月"]).toEqual(["2026-02-01", "2026-02-28"]);
    expect(s["近7天"]).toEqual(["2026-02-27", "2026-03-05"]);
    expect(s["近30天"]).toEqual(["2026-02-04", "2026-03-05"]);
    expect(Object.fromEntries(dayRangeShortcuts("2026-01-10").map((x) => [x.text, x.days]))["上月"]).toEqual(["2025-12-01", "2025-12-31"]);
  });
});
