import { describe, expect, it } from "vitest";
import { beijingDayStartUtc, beijingDaysToUtcRange, beijingTime, count, monthLabel, percent, periodEnded, periodLabel, recordedLater } from "../src/utils/format";

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
