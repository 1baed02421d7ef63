import { describe, expect, it } from "vitest";
import { itemsOf, sectionProgress } from "../src/composables/useVisit";
import type { TemplateView, VisitDetail, VisitItemView } from "../src/api/types";

function item(item_id: string, result: string | null): VisitItemView {
  return { item_id, section: "", title: item_id, look_for: "", weight: 2, severity: "general", result, deducted: null, note: "", photos: [], review_comment: null };
}

const template: TemplateView = {
  version: "v1",
  name: "t",
  sections: [
    { id: "1", name: "窗口在岗/纪律", items: ["1.1", "1.2"] },
    { id: "2", name: "仪容仪表", items: ["2.1"] },
  ],
};

const detail = { items: [item("1.1", "pass"), item("1.2", null), item("2.1", "not_applicable")] } as unknown as VisitDetail;

describe("the visit form", () => {
  it("shows one section's items at a time, in order", () => {
    expect(itemsOf(detail, template, 0).map((i) => i.item_id)).toEqual(["1.1", "1.2"]);
    expect(itemsOf(detail, template, 1).map((i) => i.item_id)).toEqual(["2.1"]);
    expect(itemsOf(null, template, 0)).toEqual([]);
  });

  it("counts answered items per section, not-applicable included", () => {
    expect(sectionProgress(detail, template, 0)).toEqual([1, 2]);
    expect(sectionProgress(detail, template, 1)).toEqual([1, 1]);
  });
});
