import { describe, expect, it } from "vitest";
import { tabFigures, toCaseFilter } from "../src/composables/useCaseInbox";

// Which states a tab lists and which actions a case offers are hcp-core's
// (`case_tabs`, `Case::allowed_actions`, tested there); the UI only turns them
// into a filter and badge figures.
const CLOSED = ["closed", "closed_escalated", "closed_appealed", "closed_revised"];
const TODO = ["open", "rectifying", "awaiting_signoff", "appeal_window", "under_appeal", "awaiting_callback", "explained"];

describe("the case inbox", () => {
  it("turns a tab and the form into the command's filter", () => {
    expect(toCaseFilter(["awaiting_signoff"], { text: " ", kind: "", hall_id: "", urgency: "", flagged_only: false }, 20, 40)).toEqual({
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
    const f = toCaseFilter(CLOSED, { text: " E1 ", kind: "visit_finding", hall_id: "340825-ZWFW", urgency: "overdue", flagged_only: true }, 20, 0);
    expect(f.states).toEqual(["closed", "closed_escalated", "closed_appealed", "closed_revised"]);
    expect([f.hall_id, f.urgency, f.flagged_only, f.text, f.kind]).toEqual(["340825-ZWFW", "overdue", true, "E1", "visit_finding"]);
  });

  it("adds up a tab's badges from the per-state counts", () => {
    const counts = [
      { state: "open", total: 3, warning: 1, overdue: 2 },
      { state: "rectifying", total: 5, warning: 2, overdue: 0 },
      { state: "closed", total: 9, warning: 0, overdue: 0 },
    ];
    expect(tabFigures(TODO, counts)).toEqual({ total: 8, warning: 3, overdue: 2 });
    expect(tabFigures(CLOSED, counts)).toEqual({ total: 9, warning: 0, overdue: 0 });
    expect(tabFigures(["under_appeal"], counts)).toEqual({ total: 0, warning: 0, overdue: 0 });
  });
});
