import { computed, ref } from "vue";
import { api, errorText } from "../api";
import type { TemplateView, VisitDetail, VisitFields, VisitItemView } from "../api/types";
import { fileToBase64 } from "../utils/files";

/** Items of one section, in order. */
export function itemsOf(detail: VisitDetail | null, template: TemplateView | null, section: number): VisitItemView[] {
  if (!detail || !template) return [];
  const ids = new Set(template.sections[section]?.items ?? []);
  return detail.items.filter((i) => ids.has(i.item_id));
}

/** Answered / total of a section. */
export function sectionProgress(detail: VisitDetail | null, template: TemplateView | null, section: number): [number, number] {
  const items = itemsOf(detail, template, section);
  return [items.filter((i) => i.result !== null).length, items.length];
}

/** One visit: filled item by item, every change saved at once (no save button),
 * with the saved indicator, photos and the hand-in. */
export function useVisit(visitId: () => string) {
  const detail = ref<VisitDetail | null>(null);
  const template = ref<TemplateView | null>(null);
  const section = ref(0);
  const error = ref("");
  const saving = ref(0);
  const savedAt = ref<Date | null>(null);
  const saveError = ref("");
  const thumbs = ref<Record<string, string>>({});


  async function loadThumbs(): Promise<void> {
    for (const item of detail.value?.items ?? []) {
      for (const p of item.photos) {
        if (thumbs.value[p.sha256]) continue;
        try {
          const f = await api.visitPhoto({ sha256: p.sha256, thumbnail: true });
          thumbs.value = { ...thumbs.value, [p.sha256]: `data:${f.mime};base64,${f.data_base64}` };
        } catch {
          // A photo that cannot be read shows its name only.
        }
      }
    }
  }

  async function load(): Promise<void> {
    error.value = "";
    try {
      detail.value = await api.visitDetail({ visit_id: visitId() });
      template.value = await api.visitTemplate({ version: detail.value.visit.template_version });
      void loadThumbs();
    } catch (e) {
      error.value = errorText(e);
    }
  }

  /** Runs a save; the indicator shows it, a failure keeps what the user typed. */
  async function save(f: () => Promise<VisitDetail | null | void>): Promise<boolean> {
    saving.value++;
    saveError.value = "";
    try {
      const d = await f();
      if (d) detail.value = d;
      savedAt.value = new Date();
      return true;
    } catch (e) {
      saveError.value = errorText(e);
      return false;
    } finally {
      saving.value--;
    }
  }

  const answer = (item_id: string, result: string, points: number | null = null) =>
    save(() => api.setVisitAnswer({ visit_id: visitId(), item_id, result, points, note: null }));
  const note = (item_id: string, text: string) =>
    save(() => api.setVisitAnswer({ visit_id: visitId(), item_id, result: null, points: null, note: text }));
  const fields = (f: VisitFields) => save(() => api.setVisitFields({ visit_id: visitId(), fields: f }));

  async function addPhotos(item_id: string, files: File[]): Promise<void> {
    for (const file of files) {
      const ok = await save(async () => {
        await api.attachVisitPhoto({ visit_id: visitId(), item_id, file_name: file.name, data_base64: await fileToBase64(file) });
      });
      if (!ok) return;
    }
    detail.value = await api.visitDetail({ visit_id: visitId() });
    await loadThumbs();
  }

  /** Takes a wrong photo off an item. */
  async function removePhoto(item_id: string, sha256: string): Promise<void> {
    await save(async () => {
      detail.value = await api.detachVisitPhoto({ visit_id: visitId(), item_id, sha256 });
    });
  }

  /** The full photo, as a data URL, to look at closely. */
  async function photoUrl(sha256: string): Promise<string> {
    const f = await api.visitPhoto({ sha256, thumbnail: false });
    // The bytes are an image of whatever kind the camera wrote; browsers sniff it.
    return `data:image/jpeg;base64,${f.data_base64}`;
  }

  const editable = computed(() => {
    const v = detail.value?.visit;
    return !!v && v.origin === "local" && ["planned", "in_field", "returned"].includes(v.state);
  });

  /** Hands the visit in (a new signed revision); returns the revision. */
  async function submit(): Promise<number> {
    const rev = await api.submitVisit({ visit_id: visitId() });
    await load();
    return rev;
  }

  /** Takes a handed-in visit back for editing (before it is exported). */
  async function reopen(): Promise<void> {
    await api.reopenVisit({ visit_id: visitId() });
    await load();
  }

  /** Closes an accepted visit (officer). */
  async function close(): Promise<void> {
    await api.closeVisit({ visit_id: visitId() });
    await load();
  }

  /** The officer's review; returns the rectification tasks it opened. */
  async function review(accept: boolean, note: string, findings: string[], comments: Record<string, string>): Promise<number[]> {
    const item_comments: Record<string, string> = {};
    for (const [k, c] of Object.entries(comments)) if (c.trim()) item_comments[k] = c.trim();
    const opened = await api.reviewVisit({ visit_id: visitId(), accept, note, findings: accept ? findings : null, item_comments });
    await load();
    return opened;
  }

  /** The hand-in file (.hcpv) and the review file (.hcpr) for the shopper. */
  const bundle = () => api.exportVisit({ visit_id: visitId() });
  const reviewFile = () => api.exportReview({ visit_id: visitId() });

  return { detail, template, section, error, saving, savedAt, saveError, thumbs, load, answer, note, fields, addPhotos, removePhoto, photoUrl, editable, submit, reopen, close, review, bundle, reviewFile };
}
