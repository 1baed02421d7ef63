import { describe, expect, it } from "vitest";
import { CASE_TABS, tabFigures, toCaseFilter } from "../src/composables/useCaseInbox";
import { actionsFor } from "../src/composables/useCaseDetail";

describe("the case inbox", () => {
  it("turns a tab and the form into the command's filter", () => {
    expect(toCaseFilter("awaiting_signoff", { text: " ", kind: "", hall_id: "", urgency: "", flagged_only: false }, 20, 40)).toEqual({
      states: ["awaiting_signoff"],
      hall_id: null,
      urgency: null,
      flagged_only: false,
      assignee: null,
      text: null,
      kind: null,
      limit: 20,
      offset: 40,
    });
    const f = toCaseFilter("closed", { text: " E1 ", kind: "visit_finding", hall_id: "340825-ZWFW", urgency: "overdue", flagged_only: true }, 20, 0);
    expect(f.states).toEqual(["closed", "closed_escalated", "closed_appealed", "closed_revised"]);
    expect([f.hall_id, f.urgency, f.flagged_only, f.text, f.kind]).toEqual(["340825-ZWFW", "overdue", true, "E1", "visit_finding"]);
  });

  it("never lists a closed state among the open work", () => {
    expect(CASE_TABS.todo.some((s) => s.startsWith("closed"))).toBe(false);
  });

  it("adds up a tab's badges from the per-state counts", () => {
    const counts = [
      { state: "open", total: 3, warning: 1, overdue: 2 },
      { state: "rectifying", total: 5, warning: 2, overdue: 0 },
      { state: "closed", total: 9, warning: 0, overdue: 0 },
    ];
    expect(tabFigures("todo", counts)).toEqual({ total: 8, warning: 3, overdue: 2 });
    expect(tabFigures("closed", counts)).toEqual({ total: 9, warning: 0, overdue: 0 });
    expect(tabFigures("under_appeal", counts)).toEqual({ total: 0, warning: 0, overdue: 0 });
  });
});

describe("the case page", () => {
  it("offers sign-off only while a rectification waits, and nothing once closed", () => {
    expect(actionsFor("awaiting_signoff")).toContain("accept");
    expect(actionsFor("awaiting_signoff")).toContain("return");
    expect(actionsFor("rectifying")).not.toContain("accept");
    expect(actionsFor("under_appeal")).toEqual(["decideAppeal"]);
    expect(actionsFor("open")[0]).toBe("verify");
    expect(actionsFor("closed_appealed")).toEqual([]);
    expect(actionsFor("rectifying", "visit_finding")[0]).toBe("findingRectified");
    expect(actionsFor("closed", "visit_finding")).toEqual([]);
  });
});
