//! Mystery-shopper visits (暗访) on disk: drafts saved on every change, photos
//! stored by content (sha256) with thumbnails, and the signed hand-in bundle
//! (`.hcpv`). The rules — templates, scoring, the lifecycle — are in
//! [`hcp_core::visit`].

mod handin;
mod hub;
mod keys;
mod model;
mod photos;

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::Actor;
use hcp_core::visit::{
    Answer, ChecklistTemplate, VisitAction, VisitState, score, visit_transition,
};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::audit::{AuditEntry, append_in};
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text, utc_text};

pub use handin::{HANDIN_MAX_TOTAL, HandinInfo, inspect_handin};
pub use hub::HubVisitUpload;
pub use keys::{fingerprint, fingerprint_hex};
pub use model::{
    ImportOutcome, KeyInfo, VisitDetail, VisitFields, VisitItemView, VisitPhoto, VisitReview,
    VisitRow,
};
pub use photos::MAX_PHOTO_BYTES;
use photos::insert_photo;

pub(crate) fn refused(msg: impl Into<String>) -> StoreError {
    StoreError::Refused(msg.into())
}

fn answers_of(conn: &rusqlite::Connection, visit_id: &str) -> Result<Vec<(String, Answer)>> {
    let mut out = vec![];
    let mut stmt = conn.prepare_cached(
        "SELECT item_id, answer FROM visit_answers WHERE visit_id = ?1 AND answer IS NOT NULL",
    )?;
    for r in stmt.query_map([visit_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (item, json) = r?;
        let a: Answer = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("暗访答案 {item}：{e}")))?;
        out.push((item, a));
    }
    Ok(out)
}

/// Bumps `updated_at` and moves the state (a first edit starts the visit).
fn touch(tx: &Transaction<'_>, visit_id: &str, state: VisitState) -> Result<()> {
    tx.prepare_cached("UPDATE visits SET state = ?2, updated_at = ?3 WHERE visit_id = ?1")?
        .execute(params![visit_id, state.as_str(), now_text()])?;
    Ok(())
}

pub(crate) fn audit_visit(
    tx: &Transaction<'_>,
    who: Who<'_>,
    visit_id: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<()> {
    append_in(
        tx,
        &AuditEntry {
            actor: who.name,
            role: who.actor.as_str(),
            subject: &format!("visit:{visit_id}"),
            action,
            detail: &detail.to_string(),
        },
    )?;
    Ok(())
}

/// Beijing-time "now" as the review instant when none is given.
pub fn now_beijing() -> DateTime<FixedOffset> {
    Utc::now()
        .with_timezone(&hcp_core::metrics::beijing())
        .fixed_offset()
}

impl Store {
    /// Starts a visit to `hall_id` with a template version (planned).
    pub fn create_visit(
        &mut self,
        hall_id: &str,
        template_version: &str,
        who: Who<'_>,
    ) -> Result<String> {
        if who.actor != Actor::Shopper {
            return Err(refused("只有暗访员可以新建暗访记录"));
        }
        ChecklistTemplate::builtin(template_version)
            .ok_or_else(|| refused(format!("没有版本为 “{template_version}” 的检查表模板")))?;
        if self.hall(hall_id)?.is_none() {
            return Err(StoreError::UnknownHall(hall_id.to_owned()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let tx = self.write_tx()?;
        let now = now_text();
        tx.execute(
            "INSERT INTO visits (visit_id, hall_id, template_version, state, shopper, origin,
                fields, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'planned', ?4, 'local', '{}', ?5, ?5)",
            params![id, hall_id, template_version, who.name, now],
        )?;
        // A visit to a hall with an open task (from an officer's package) carries
        // it out: the earliest planned one.
        let task: Option<String> = tx
            .query_row(
                "SELECT task_id FROM visit_tasks WHERE hall_id = ?1 AND visit_id IS NULL
                 ORDER BY coalesce(planned_date, '9999'), issued_at LIMIT 1",
                [hall_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(t) = &task {
            tx.execute(
                "UPDATE visit_tasks SET visit_id = ?3 WHERE task_id = ?1 AND hall_id = ?2",
                params![t, hall_id, id],
            )?;
        }
        audit_visit(
            &tx,
            who,
            &id,
            "visit_created",
            json!({"hall_id": hall_id, "template": template_version, "task_id": task}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Loads a visit's state and template inside `tx`, and checks `action` by `who`.
    pub(crate) fn visit_step(
        tx: &Transaction<'_>,
        visit_id: &str,
        action: &VisitAction,
        who: Who<'_>,
    ) -> Result<(VisitState, VisitState, ChecklistTemplate)> {
        let row: Option<(String, String, String)> = tx
            .prepare_cached(
                "SELECT state, template_version, origin FROM visits WHERE visit_id = ?1",
            )?
            .query_row([visit_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (state, version, origin) =
            row.ok_or_else(|| refused(format!("没有编号为 {visit_id} 的暗访记录")))?;
        let state = VisitState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("暗访记录状态 “{state}”")))?;
        let template = ChecklistTemplate::builtin(&version)
            .ok_or_else(|| refused(format!("没有版本为 “{version}” 的检查表模板")))?;
        if origin == "imported"
            && matches!(
                action,
                VisitAction::Edit | VisitAction::Submit { .. } | VisitAction::Reopen
            )
        {
            return Err(refused("导入的暗访记录只能审核，不能修改"));
        }
        let next = visit_transition(state, action, who.actor).map_err(|r| refused(r.0))?;
        Ok((state, next, template))
    }

    /// Saves one item's answer and note at once (the draft has no save button).
    pub fn set_visit_answer(
        &mut self,
        visit_id: &str,
        item_id: &str,
        answer: Option<&Answer>,
        note: Option<&str>,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let (_, next, template) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
        let item = template
            .item(item_id)
            .ok_or_else(|| refused(format!("检查表中没有条目 “{item_id}”")))?;
        if let Some(a) = answer {
            a.check(item).map_err(|r| refused(r.0))?;
        }
        let note = note.map(str::trim);
        if note.is_some_and(|n| n.chars().count() > 2000) {
            return Err(refused("说明不能超过 2000 字"));
        }
        let answer_json = answer
            .map(|a| serde_json::to_string(a).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?;
        let now = now_text();
        tx.prepare_cached(
            "INSERT INTO visit_answers (visit_id, item_id, answer, note, updated_at)
             VALUES (?1, ?2, ?3, coalesce(?4, ''), ?5)
             ON CONFLICT (visit_id, item_id) DO UPDATE SET
                answer = CASE WHEN ?6 THEN excluded.answer ELSE answer END,
                note = coalesce(?4, note), updated_at = excluded.updated_at",
        )?
        .execute(params![
            visit_id,
            item_id,
            answer_json,
            note,
            now,
            answer.is_some()
        ])?;
        touch(&tx, visit_id, next)?;
        tx.commit()?;
        Ok(())
    }

    /// Clears an item's answer (back to unanswered), keeping its note and photos.
    pub fn clear_visit_answer(
        &mut self,
        visit_id: &str,
        item_id: &str,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let (_, next, _) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
        tx.execute(
            "UPDATE visit_answers SET answer = NULL, updated_at = ?3 WHERE visit_id = ?1 AND item_id = ?2",
            params![visit_id, item_id, now_text()],
        )?;
        touch(&tx, visit_id, next)?;
        tx.commit()?;
        Ok(())
    }

    /// Saves the header fields at once.
    pub fn set_visit_fields(
        &mut self,
        visit_id: &str,
        f: &VisitFields,
        who: Who<'_>,
    ) -> Result<()> {
        for t in [&f.started_at, &f.ended_at].into_iter().flatten() {
            DateTime::parse_from_rfc3339(t)
                .map_err(|_| refused(format!("时间 “{t}” 格式不正确")))?;
        }
        if let (Some(a), Some(b)) = (&f.started_at, &f.ended_at)
            && DateTime::parse_from_rfc3339(b).ok() < DateTime::parse_from_rfc3339(a).ok()
        {
            return Err(refused("结束时间不能早于开始时间"));
        }
        if f.queue_minutes.is_some_and(|m| m > 24 * 60) {
            return Err(refused("排队等候时间应在 0–1440 分钟之间"));
        }
        let tx = self.write_tx()?;
        let (_, next, _) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
        let json = serde_json::to_string(f).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "UPDATE visits SET fields = ?2 WHERE visit_id = ?1",
            params![visit_id, json],
        )?;
        touch(&tx, visit_id, next)?;
        tx.commit()?;
        Ok(())
    }

    /// The shopper takes a handed-in visit back to correct it.
    pub fn reopen_visit(&mut self, visit_id: &str, who: Who<'_>) -> Result<()> {
        let tx = self.write_tx()?;
        let (_, next, _) = Self::visit_step(&tx, visit_id, &VisitAction::Reopen, who)?;
        touch(&tx, visit_id, next)?;
        audit_visit(&tx, who, visit_id, "visit_reopened", json!({}))?;
        tx.commit()?;
        Ok(())
    }

    /// Hands the visit in: every item answered; the revision grows.
    pub fn submit_visit(&mut self, visit_id: &str, who: Who<'_>) -> Result<i64> {
        let tx = self.write_tx()?;
        let answered: i64 = tx.query_row(
            "SELECT count(*) FROM visit_answers WHERE visit_id = ?1 AND answer IS NOT NULL",
            [visit_id],
            |r| r.get(0),
        )?;
        let version: Option<String> = tx
            .query_row(
                "SELECT template_version FROM visits WHERE visit_id = ?1",
                [visit_id],
                |r| r.get(0),
            )
            .optional()?;
        let total = version
            .as_deref()
            .and_then(ChecklistTemplate::builtin)
            .map_or(0, |t| t.items().count() as i64);
        let unanswered = (total - answered).max(0) as u32;
        let (_, next, _) =
            Self::visit_step(&tx, visit_id, &VisitAction::Submit { unanswered }, who)?;
        // A deduction is a finding the hall will have to answer: it needs its
        // grounds, a note or a photo.
        let bare: Vec<String> = answers_of(&tx, visit_id)?
            .into_iter()
            .filter(|(_, a)| matches!(a, Answer::Deduct { .. }))
            .map(|(item, _)| item)
            .filter(|item| {
                let grounded: rusqlite::Result<bool> = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM visit_answers WHERE visit_id = ?1 AND item_id = ?2
                                          AND trim(note) <> '')
                             OR EXISTS (SELECT 1 FROM visit_photos WHERE visit_id = ?1 AND item_id = ?2)",
                    )
                    .and_then(|mut s| s.query_row(params![visit_id, item], |r| r.get(0)));
                !grounded.unwrap_or(false)
            })
            .collect();
        if !bare.is_empty() {
            return Err(refused(format!(
                "扣分条目须写明情况或附照片：{} 既无说明也无照片",
                bare.join("、")
            )));
        }
        let now = now_text();
        tx.execute(
            "UPDATE visits SET state = ?2, rev = rev + 1, submitted_at = ?3, updated_at = ?3
             WHERE visit_id = ?1",
            params![visit_id, next.as_str(), now],
        )?;
        let rev: i64 = tx.query_row(
            "SELECT rev FROM visits WHERE visit_id = ?1",
            [visit_id],
            |r| r.get(0),
        )?;
        audit_visit(&tx, who, visit_id, "visit_submitted", json!({"rev": rev}))?;
        tx.commit()?;
        Ok(rev)
    }

    /// The officer's review: accept (opening a rectification task for each listed
    /// deducted item) or return with comments, overall and per item. `at` is when
    /// the review was made (the review bundle carries it to the shopper).
    pub fn review_visit(
        &mut self,
        visit_id: &str,
        review: &VisitReview<'_>,
        who: Who<'_>,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<i64>> {
        let accept = review.accept;
        let note = review.note;
        let action = if accept {
            VisitAction::Accept
        } else {
            VisitAction::Return { note: note.into() }
        };
        let tx = self.write_tx()?;
        let (_, next, template) = Self::visit_step(&tx, visit_id, &action, who)?;
        let mut items = BTreeMap::new();
        for (item_id, comment) in review.item_comments {
            let comment = comment.trim();
            if comment.is_empty() {
                continue;
            }
            if template.item(item_id).is_none() {
                return Err(refused(format!(
                    "检查表中没有条目 “{}”",
                    hcp_core::ident::printable(item_id)
                )));
            }
            if comment.chars().count() > 500 {
                return Err(refused(format!("条目 {item_id} 的意见超过 500 字")));
            }
            items.insert(item_id.clone(), comment.to_owned());
        }
        let items_json =
            serde_json::to_string(&items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let reviewed_at = utc_text(at.with_timezone(&Utc));
        tx.execute(
            "UPDATE visits SET state = ?2, review_note = ?3, reviewed_at = ?4, updated_at = ?5,
                    review_items = ?6, review_rev = rev, reviewed_by = ?7
             WHERE visit_id = ?1",
            params![
                visit_id,
                next.as_str(),
                note.trim(),
                reviewed_at,
                now_text(),
                items_json,
                who.name
            ],
        )?;
        let mut opened = vec![];
        if accept {
            let hall_id: String = tx.query_row(
                "SELECT hall_id FROM visits WHERE visit_id = ?1",
                [visit_id],
                |r| r.get(0),
            )?;
            for (item_id, answer) in answers_of(&tx, visit_id)? {
                let Answer::Deduct { points } = answer else {
                    continue;
                };
                if review.findings.is_some_and(|f| !f.contains(&item_id)) {
                    continue;
                }
                let Some(item) = template.item(&item_id) else {
                    continue;
                };
                let summary = format!(
                    "暗访发现问题（{}，扣 {points} 分）：{}",
                    item.severity.label_zh(),
                    item.title
                );
                if let Some(id) = crate::cases::open_finding_case(
                    &tx,
                    &hall_id,
                    &format!("{visit_id}#{item_id}"),
                    &summary,
                    who,
                    at,
                )? {
                    opened.push(id);
                }
            }
        }
        audit_visit(
            &tx,
            who,
            visit_id,
            if accept {
                "visit_accepted"
            } else {
                "visit_returned"
            },
            json!({"note": note.trim(), "items": items, "finding_cases": opened, "acted_at": reviewed_at}),
        )?;
        tx.commit()?;
        Ok(opened)
    }

    /// The officer closes an accepted visit (办结) as of `at` (the report counts
    /// it in the month of `at`).
    pub fn close_visit(
        &mut self,
        visit_id: &str,
        who: Who<'_>,
        at: DateTime<FixedOffset>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let (_, next, _) = Self::visit_step(&tx, visit_id, &VisitAction::Close, who)?;
        touch(&tx, visit_id, next)?;
        audit_visit(
            &tx,
            who,
            visit_id,
            "visit_closed",
            json!({"acted_at": utc_text(at.with_timezone(&Utc))}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Visits, newest change first: one hall's or all.
    pub fn list_visits(&self, hall_id: Option<&str>) -> Result<Vec<VisitRow>> {
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT visit_id FROM visits WHERE (?1 IS NULL OR hall_id = ?1)
                 ORDER BY updated_at DESC, visit_id LIMIT 1000",
            )?
            .query_map([hall_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|id| Ok(self.visit_detail(id)?.visit))
            .collect()
    }

    /// A visit with every item of its template.
    pub fn visit_detail(&self, visit_id: &str) -> Result<VisitDetail> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT v.visit_id, v.hall_id, h.name, v.template_version, v.state, v.rev, v.shopper,
                        v.origin, v.signer, v.fields, v.review_note, v.updated_at, v.reviewed_by,
                        v.review_rev, v.reviewed_at, v.review_items, v.exported_rev
                 FROM visits v LEFT JOIN halls h ON h.hall_id = v.hall_id WHERE v.visit_id = ?1",
            )?
            .query_row([visit_id], |r| {
                let fields: String = r.get(9)?;
                let review_items: Option<String> = r.get(15)?;
                let row = VisitRow {
                    visit_id: r.get(0)?,
                    hall_id: r.get(1)?,
                    hall_name: r.get(2)?,
                    template_version: r.get(3)?,
                    state: r.get(4)?,
                    rev: r.get(5)?,
                    exported_rev: r.get(16)?,
                    shopper: r.get(6)?,
                    origin: r.get(7)?,
                    signer: r.get(8)?,
                    fields: serde_json::from_str(&fields).unwrap_or_default(),
                    review_note: r.get(10)?,
                    reviewed_by: r.get(12)?,
                    review_rev: r.get(13)?,
                    reviewed_at: r.get(14)?,
                    score: String::new(),
                    severe_failed: false,
                    answered: 0,
                    total: 0,
                    updated_at: r.get(11)?,
                };
                Ok((row, review_items))
            })
            .optional()?
            .ok_or_else(|| refused(format!("没有编号为 {visit_id} 的暗访记录")))?;
        let (row, review_items) = row;
        let review_items: BTreeMap<String, String> = review_items
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let template = ChecklistTemplate::builtin(&row.template_version).ok_or_else(|| {
            refused(format!(
                "没有版本为 “{}” 的检查表模板",
                row.template_version
            ))
        })?;
        let answers: BTreeMap<String, Answer> =
            answers_of(&self.conn, visit_id)?.into_iter().collect();
        let notes: BTreeMap<String, String> = self
            .conn
            .prepare_cached("SELECT item_id, note FROM visit_answers WHERE visit_id = ?1")?
            .query_map([visit_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut photos: BTreeMap<String, Vec<VisitPhoto>> = BTreeMap::new();
        for p in self
            .conn
            .prepare_cached(
                "SELECT item_id, sha256, file_name, exif_time, size FROM visit_photos
                 WHERE visit_id = ?1 ORDER BY added_at, sha256",
            )?
            .query_map([visit_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    VisitPhoto {
                        sha256: r.get(1)?,
                        file_name: r.get(2)?,
                        exif_time: r.get(3)?,
                        size: r.get(4)?,
                    },
                ))
            })?
        {
            let (item, photo) = p?;
            photos.entry(item).or_default().push(photo);
        }
        let s = score(&template, &answers);
        let mut items = vec![];
        for section in &template.sections {
            for item in &section.items {
                let a = answers.get(&item.id);
                items.push(VisitItemView {
                    item_id: item.id.clone(),
                    section: section.name.clone(),
                    title: item.title.clone(),
                    look_for: item.look_for.clone(),
                    weight: item.weight,
                    severity: serde_json::to_value(item.severity)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    result: a.map(|a| match a {
                        Answer::Pass => "pass".into(),
                        Answer::Deduct { .. } => "deduct".into(),
                        Answer::NotApplicable => "not_applicable".into(),
                    }),
                    deducted: match a {
                        Some(Answer::Deduct { points }) => Some(*points),
                        _ => None,
                    },
                    note: notes.get(&item.id).cloned().unwrap_or_default(),
                    photos: photos.remove(&item.id).unwrap_or_default(),
                    review_comment: review_items.get(&item.id).cloned(),
                });
            }
        }
        let finding_cases = self
            .conn
            .prepare_cached(
                // A prefix compare, not LIKE: no character of the id is a pattern.
                "SELECT case_id FROM cases WHERE kind = 'visit_finding'
                   AND substr(evaluation_id, 1, length(?1)) = ?1
                 ORDER BY case_id",
            )?
            .query_map([format!("{visit_id}#")], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(VisitDetail {
            visit: VisitRow {
                score: s.display(),
                severe_failed: s.severe_failed,
                answered: s.answered,
                total: s.total,
                ..row
            },
            items,
            finding_cases,
        })
    }

    // ---- keys and bundles ----
}
