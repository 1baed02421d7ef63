import { describe, expect, it } from "vitest";
import { emptyForm, toFilter } from "../src/composables/useEvaluationSearch";

describe("search form → filter", () => {
  it("drops blanks and keeps what was chosen", () => {
    const f = { ...emptyForm(), hall_id: "340825-ZWFW", levels: [1, 2], window_no: " A01 ", text: "  " };
    expect(toFilter(f)).toEqual({
      hall_id: "340825-ZWFW",
      levels: [1, 2],
      channel: null,
      from: null,
      to: null,
      department_code: null,
      window_no: "A01",
      staff_no: null,
      item_code: null,
      text: null,
      include_withdrawn: false,
    });
  });

  it("sends the date range as Beijing days in UTC", () => {
    const f = { ...emptyForm(), days: ["2026-10-08", "2026-10-08"] as [string, string] };
    const filter = toFilter(f);
    expect(filter.from).toBe("2026-10-07T16:00:00Z");
    expect(filter.to).toBe("2026-10-08T16:00:00Z");
  });
});
