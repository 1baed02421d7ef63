//! Mystery-shopper visits (暗访) on disk: drafts saved on every change, photos
//! stored by content (sha256) with thumbnails, and the signed hand-in bundle
//! (`.hcpv`). The rules — templates, scoring, the lifecycle — are in
//! [`hcp_core::visit`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hcp_core::case::Actor;
use hcp_core::visit::{
    Answer, ChecklistTemplate, VisitAction, VisitState, score, visit_transition,
};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, append_in};
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text, utc_text};

/// The hand-in bundle format this build writes and reads (see [`crate::bundle`]).
const BUNDLE_FORMAT: &str = "hcpv/1";
/// A photo larger than this is refused (a phone photo is a few MB).
pub const MAX_PHOTO_BYTES: usize = crate::bundle::MAX_FILE_BYTES as usize;

pub(crate) fn refused(msg: impl Into<String>) -> StoreError {
    StoreError::Refused(msg.into())
}

use crate::bundle::sha256_hex;

/// The visit's header fields the shopper fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "VisitFields.ts")]
#[serde(default)]
pub struct VisitFields {
    /// 暗访开始时间 (RFC 3339).
    pub started_at: Option<String>,
    /// 暗访结束时间 (RFC 3339).
    pub ended_at: Option<String>,
    /// 观察的窗口号（逗号分隔）.
    pub windows: String,
    /// 观察的工作人员工号（逗号分隔）.
    pub staff: String,
    /// 排队等候（分钟）.
    pub queue_minutes: Option<u32>,
    /// 总体情况.
    pub note: String,
}

/// A photo on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "VisitPhoto.ts")]
pub struct VisitPhoto {
    /// Content address.
    pub sha256: String,
    /// The file's name when attached.
    pub file_name: String,
    /// EXIF DateTimeOriginal, as written in the photo, when present.
    pub exif_time: Option<String>,
    /// Size in bytes.
    pub size: i64,
}

/// One checklist item with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitItemView.ts")]
pub struct VisitItemView {
    /// Item id.
    pub item_id: String,
    /// Its section's name.
    pub section: String,
    /// What is checked.
    pub title: String,
    /// What to look for.
    pub look_for: String,
    /// Points.
    pub weight: u32,
    /// general | serious | severe.
    pub severity: String,
    /// pass | deduct | not_applicable, or none yet.
    pub result: Option<String>,
    /// Points deducted.
    pub deducted: Option<u32>,
    /// The shopper's note.
    pub note: String,
    /// Evidence.
    pub photos: Vec<VisitPhoto>,
    /// The officer's comment on this item in the last review, if any.
    pub review_comment: Option<String>,
}

/// A visit as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitRow.ts")]
pub struct VisitRow {
    /// Visit id (UUID, made on the shopper's installation).
    pub visit_id: String,
    /// The visited hall.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// Checklist template version.
    pub template_version: String,
    /// State (storage name).
    pub state: String,
    /// Hand-in revision (0 until first submitted).
    pub rev: i64,
    /// 暗访员 (`None` for viewers who must not see it).
    pub shopper: Option<String>,
    /// `local` (filled here) or `imported` (from a bundle).
    pub origin: String,
    /// Fingerprint of the key an imported bundle was signed with.
    pub signer: Option<String>,
    /// Header fields.
    pub fields: VisitFields,
    /// The officer's comments.
    pub review_note: Option<String>,
    /// Who reviewed it last (the officer; on a shopper's laptop, the name of the
    /// key the review was signed with).
    pub reviewed_by: Option<String>,
    /// The hand-in revision the last review was about.
    pub review_rev: Option<i64>,
    /// When it was reviewed (UTC).
    pub reviewed_at: Option<String>,
    /// "92.5" or "—".
    pub score: String,
    /// A 严重 item was deducted: 不合格.
    pub severe_failed: bool,
    /// Items answered.
    pub answered: u32,
    /// Items in the template.
    pub total: u32,
    /// Last change (UTC).
    pub updated_at: String,
}

/// A visit with every item.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitDetail.ts")]
pub struct VisitDetail {
    /// The header.
    pub visit: VisitRow,
    /// Every item of its template, in order, with answers.
    pub items: Vec<VisitItemView>,
    /// Rectification tasks opened from its findings.
    pub finding_cases: Vec<i64>,
}

/// An installation's signing key as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "KeyInfo.ts")]
pub struct KeyInfo {
    /// Short fingerprint, e.g. `3F2A-91C0-77DE-0B14`.
    pub fingerprint: String,
    /// The public key (hex), to hand to an officer.
    pub public_key: String,
    /// Who it belongs to (for trusted keys).
    pub name: String,
    /// When its trust was revoked (UTC); its bundles are refused from then on.
    pub revoked_at: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportOutcome.ts")]
pub struct ImportOutcome {
    /// The visit.
    pub visit_id: String,
    /// Its revision.
    pub rev: i64,
    /// `new`, `replaced` (a newer revision) or `unchanged` (already had it).
    pub status: String,
    /// Photos added to the store.
    pub photos_added: u32,
}

/// The bundle's visit document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BundleVisit {
    format: String,
    visit_id: String,
    rev: i64,
    hall_id: String,
    template_version: String,
    shopper: String,
    fields: VisitFields,
    submitted_at: Option<String>,
    answers: Vec<BundleAnswer>,
    photos: Vec<BundlePhoto>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BundleAnswer {
    item_id: String,
    answer: Option<Answer>,
    note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BundlePhoto {
    item_id: String,
    sha256: String,
    file_name: String,
    exif_time: Option<String>,
    size: i64,
}

/// `3F2A-91C0-77DE-0B14`: the first 8 bytes of sha256(public key).
pub fn fingerprint(public_key: &[u8]) -> String {
    let h = Sha256::digest(public_key);
    h[..8]
        .chunks(2)
        .map(hex::encode_upper)
        .collect::<Vec<_>>()
        .join("-")
}

/// EXIF DateTimeOriginal (or DateTime) of a photo, as written in it.
fn exif_time(bytes: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()?;
    for tag in [exif::Tag::DateTimeOriginal, exif::Tag::DateTime] {
        if let Some(f) = exif.get_field(tag, exif::In::PRIMARY)
            && let exif::Value::Ascii(v) = &f.value
            && let Some(first) = v.first()
        {
            return Some(String::from_utf8_lossy(first).trim().to_string());
        }
    }
    None
}

impl Store {
    /// Where photos live: `photos/` beside the cache file.
    pub fn photo_dir(&self) -> PathBuf {
        self.path()
            .parent()
            .unwrap_or(Path::new("."))
            .join("photos")
    }

    /// The stored photo of `sha256`.
    pub fn photo_path(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("xx");
        self.photo_dir().join(prefix).join(sha256)
    }

    /// Its thumbnail (PNG, at most 320 px), when one could be made.
    pub fn thumbnail_path(&self, sha256: &str) -> PathBuf {
        self.photo_dir()
            .join("thumbs")
            .join(format!("{sha256}.png"))
    }

    /// Writes a photo into the store unless it is there; returns whether it was
    /// written (so a failed import can take back exactly what it added).
    fn put_photo(&self, bytes: &[u8], sha: &str) -> Result<bool> {
        let path = self.photo_path(sha);
        if path.exists() {
            return Ok(false);
        }
        let io = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        };
        // Evidence photos are for the owner only: photos/ is 0700, each file 0600.
        crate::create_private_dir(&self.photo_dir(), true).map_err(io)?;
        if let Some(dir) = path.parent() {
            crate::create_private_dir(dir, true).map_err(io)?;
        }
        // Write aside, then rename: a crash never leaves half a photo under its name.
        let tmp = path.with_extension("part");
        crate::write_private(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        // A thumbnail when the bytes are a picture we can read; never fatal.
        if let Ok(img) = image::load_from_memory(bytes) {
            let thumb = img.thumbnail(320, 320);
            let tpath = self.thumbnail_path(sha);
            if let Some(dir) = tpath.parent() {
                let _ = crate::create_private_dir(dir, true);
            }
            let _ = thumb.save_with_format(&tpath, image::ImageFormat::Png);
        }
        Ok(true)
    }

    fn remove_photos(&self, shas: &[String]) {
        for sha in shas {
            let _ = std::fs::remove_file(self.photo_path(sha));
            let _ = std::fs::remove_file(self.thumbnail_path(sha));
        }
    }

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

    /// Attaches a photo to an item: stored by content, with its thumbnail and EXIF
    /// time. The same photo twice is kept once.
    pub fn attach_visit_photo(
        &mut self,
        visit_id: &str,
        item_id: &str,
        bytes: &[u8],
        file_name: &str,
        who: Who<'_>,
    ) -> Result<VisitPhoto> {
        if bytes.is_empty() {
            return Err(refused("照片文件是空的"));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(refused("照片超过 30 MB，请压缩后再添加"));
        }
        let sha = sha256_hex(bytes);
        let written = self.put_photo(bytes, &sha)?;
        let photo = VisitPhoto {
            sha256: sha.clone(),
            file_name: file_name.chars().take(200).collect(),
            exif_time: exif_time(bytes),
            size: bytes.len() as i64,
        };
        let result = (|| -> Result<()> {
            let tx = self.write_tx()?;
            let (_, next, template) = Self::visit_step(&tx, visit_id, &VisitAction::Edit, who)?;
            template
                .item(item_id)
                .ok_or_else(|| refused(format!("检查表中没有条目 “{item_id}”")))?;
            insert_photo(&tx, visit_id, item_id, &photo)?;
            touch(&tx, visit_id, next)?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = result {
            if written {
                self.remove_photos(std::slice::from_ref(&sha));
            }
            return Err(e);
        }
        Ok(photo)
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
                        v.review_rev, v.reviewed_at, v.review_items
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

    fn key_path(&self) -> PathBuf {
        let mut p = self.path().as_os_str().to_owned();
        p.push(".visitkey");
        PathBuf::from(p)
    }

    /// This installation's signing key, made on first use and kept owner-only
    /// beside the cache.
    pub(crate) fn signing_key(&self) -> Result<SigningKey> {
        let path = self.key_path();
        let io = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        };
        // Only a key file that does not exist is made anew: any other failure to
        // read it (permissions, a disk error) must not silently become a new
        // identity that the officers' trusted keys do not know.
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| {
                    StoreError::Corrupt(format!("签名密钥文件 {}：{e}", path.display()))
                })?;
                let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("签名密钥文件 {} 长度不对", path.display()))
                })?;
                return Ok(SigningKey::from_bytes(&seed));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| StoreError::Corrupt(format!("无法生成随机数：{e}")))?;
        let key = SigningKey::from_bytes(&seed);
        let tmp = path.with_extension("visitkey.part");
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(hex::encode(seed).as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(key)
    }

    /// This installation's public key and fingerprint.
    pub fn own_key(&self) -> Result<KeyInfo> {
        let key = self.signing_key()?.verifying_key();
        Ok(KeyInfo {
            fingerprint: fingerprint(key.as_bytes()),
            public_key: hex::encode(key.as_bytes()),
            name: "本机".into(),
            revoked_at: None,
        })
    }

    /// Trusts a public key (hex) under a name: on an office machine an officer
    /// trusts shoppers' keys (for hand-ins), on a shopper's laptop the shopper
    /// trusts the office's key (for task packages and reviews). Trusting a revoked
    /// key again restores it (audited like the first time).
    pub fn trust_key(&mut self, public_key_hex: &str, name: &str, who: Who<'_>) -> Result<KeyInfo> {
        if !matches!(who.actor, Actor::Officer | Actor::Shopper) {
            return Err(refused("只有效能督查员或暗访员可以信任公钥"));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(refused("请填写暗访员姓名（不超过 32 个字）"));
        }
        let bytes: [u8; 32] = hex::decode(public_key_hex.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| refused("公钥格式不正确：应为 64 位十六进制字符"))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| refused("这不是有效的 Ed25519 公钥"))?;
        let info = KeyInfo {
            fingerprint: fingerprint(&bytes),
            public_key: hex::encode(bytes),
            name: name.to_owned(),
            revoked_at: None,
        };
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO trusted_keys (public_key, fingerprint, name, trusted_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (public_key) DO UPDATE SET name = excluded.name,
                trusted_at = excluded.trusted_at, revoked_at = NULL, revoked_by = NULL",
            params![info.public_key, info.fingerprint, info.name, now_text()],
        )?;
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "keys",
                action: "key_trusted",
                detail: &json!({"fingerprint": info.fingerprint, "public_key": info.public_key, "name": info.name}).to_string(),
            },
        )?;
        tx.commit()?;
        Ok(info)
    }

    /// Revokes the trust in a key, named by its public key or its fingerprint:
    /// its bundles are refused from now on; visits already imported stay. Audited.
    pub fn revoke_key(&mut self, key_or_fingerprint: &str, who: Who<'_>) -> Result<KeyInfo> {
        if !matches!(who.actor, Actor::Officer | Actor::Shopper) {
            return Err(refused("只有效能督查员或暗访员可以撤销对公钥的信任"));
        }
        let wanted = key_or_fingerprint.trim();
        let matches: Vec<KeyInfo> = self
            .trusted_keys()?
            .into_iter()
            .filter(|k| {
                k.public_key.eq_ignore_ascii_case(wanted)
                    || k.fingerprint.eq_ignore_ascii_case(wanted)
            })
            .collect();
        let key = match matches.as_slice() {
            [] => {
                return Err(refused(format!(
                    "没有受信任的公钥 “{}”",
                    hcp_core::ident::printable(wanted)
                )));
            }
            [k] => k.clone(),
            _ => return Err(refused("有多个公钥的指纹相同，请用完整公钥撤销")),
        };
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let now = now_text();
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE trusted_keys SET revoked_at = ?2, revoked_by = ?3 WHERE public_key = ?1",
            params![key.public_key, now, who.name],
        )?;
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "keys",
                action: "key_revoked",
                detail: &json!({"fingerprint": key.fingerprint, "public_key": key.public_key, "name": key.name}).to_string(),
            },
        )?;
        tx.commit()?;
        Ok(KeyInfo {
            revoked_at: Some(now),
            ..key
        })
    }

    /// Trusted keys, revoked ones included (with the time of revocation).
    pub fn trusted_keys(&self) -> Result<Vec<KeyInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT fingerprint, public_key, name, revoked_at FROM trusted_keys ORDER BY trusted_at, public_key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyInfo {
                fingerprint: r.get(0)?,
                public_key: r.get(1)?,
                name: r.get(2)?,
                revoked_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Writes a submitted visit as a signed bundle to `out`.
    pub fn export_visit(&self, visit_id: &str, out: &Path) -> Result<()> {
        let (state, rev, hall_id, version, shopper, fields, submitted_at): (
            String,
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
        ) = self
            .conn
            .query_row(
                "SELECT state, rev, hall_id, template_version, shopper, fields, submitted_at
                 FROM visits WHERE visit_id = ?1",
                [visit_id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| refused(format!("没有编号为 {visit_id} 的暗访记录")))?;
        if rev == 0 || state != "submitted" {
            return Err(refused("请先提交暗访记录，再导出交件"));
        }
        let answers: Vec<BundleAnswer> = self
            .conn
            .prepare("SELECT item_id, answer, note FROM visit_answers WHERE visit_id = ?1 ORDER BY item_id")?
            .query_map([visit_id], |r| {
                let a: Option<String> = r.get(1)?;
                Ok(BundleAnswer {
                    item_id: r.get(0)?,
                    answer: a.and_then(|a| serde_json::from_str(&a).ok()),
                    note: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let photos: Vec<BundlePhoto> = self
            .conn
            .prepare(
                "SELECT item_id, sha256, file_name, exif_time, size FROM visit_photos
                 WHERE visit_id = ?1 ORDER BY item_id, sha256",
            )?
            .query_map([visit_id], |r| {
                Ok(BundlePhoto {
                    item_id: r.get(0)?,
                    sha256: r.get(1)?,
                    file_name: r.get(2)?,
                    exif_time: r.get(3)?,
                    size: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let doc = BundleVisit {
            format: BUNDLE_FORMAT.into(),
            visit_id: visit_id.into(),
            rev,
            hall_id,
            template_version: version,
            shopper,
            fields: serde_json::from_str(&fields).unwrap_or_default(),
            submitted_at,
            answers,
            photos: photos.clone(),
        };
        let visit_json =
            serde_json::to_vec_pretty(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut files: Vec<(String, Vec<u8>)> = vec![("visit.json".into(), visit_json)];
        let mut seen = std::collections::HashSet::new();
        for p in &photos {
            if !seen.insert(p.sha256.clone()) {
                continue;
            }
            let path = self.photo_path(&p.sha256);
            let bytes = std::fs::read(&path).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            files.push((format!("photos/{}", p.sha256), bytes));
        }
        crate::bundle::write_signed(out, BUNDLE_FORMAT, &files, &self.signing_key()?)
    }

    /// Imports a bundle: signature by a trusted key, every file's sum, then one
    /// transaction. The same revision again changes nothing; a newer one replaces
    /// the older; anything wrong imports nothing (photos written for it are taken
    /// back).
    pub fn import_visit(&mut self, bytes: &[u8], who: Who<'_>) -> Result<ImportOutcome> {
        if who.actor != Actor::Officer {
            return Err(refused("只有效能督查员可以导入暗访交件"));
        }
        let bad = |why: &str| refused(format!("交件文件无效，未导入任何内容：{why}"));
        let opened = crate::bundle::open_signed(bytes, BUNDLE_FORMAT, "交件文件")?;
        let fp = fingerprint(&opened.signer);
        let signer_hex = opened.signer_hex();
        let files = opened.files;
        // Trust is by the whole public key: the fingerprint only helps people compare.
        let trusted: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT name, revoked_at FROM trusted_keys WHERE public_key = ?1",
                [&signer_hex],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let shopper_name = match trusted {
            None => {
                return Err(refused(format!(
                    "交件由未受信任的密钥（指纹 {fp}）签名，未导入：请先核对并信任该暗访员的公钥（hcp keys trust）"
                )));
            }
            Some((name, Some(revoked_at))) => {
                return Err(refused(format!(
                    "交件的签名密钥（指纹 {fp}，{name}）已于 {revoked_at} 被撤销信任，未导入"
                )));
            }
            Some((name, None)) => name,
        };
        let doc: BundleVisit = serde_json::from_slice(
            files
                .get("visit.json")
                .ok_or_else(|| bad("缺少 visit.json"))?,
        )
        .map_err(|_| bad("visit.json 无法解析"))?;
        if doc.format != BUNDLE_FORMAT || doc.rev < 1 {
            return Err(bad("visit.json 格式不对"));
        }
        // Identifiers become file names and queries later: check them here.
        hcp_core::ident::check_visit_id(&doc.visit_id).map_err(|e| bad(&e.to_string()))?;
        hcp_core::ident::check_hall_id(&doc.hall_id).map_err(|e| bad(&e.to_string()))?;
        let template = ChecklistTemplate::builtin(&doc.template_version).ok_or_else(|| {
            bad(&format!(
                "没有版本为 “{}” 的检查表模板",
                doc.template_version
            ))
        })?;
        for a in &doc.answers {
            let item = template
                .item(&a.item_id)
                .ok_or_else(|| bad(&format!("检查表中没有条目 “{}”", a.item_id)))?;
            if let Some(ans) = &a.answer {
                ans.check(item).map_err(|r| bad(&r.0))?;
            }
        }
        for p in &doc.photos {
            let b = files
                .get(&format!("photos/{}", p.sha256))
                .ok_or_else(|| bad(&format!("缺少照片 {}", p.sha256)))?;
            if sha256_hex(b) != p.sha256 {
                return Err(bad("照片与其摘要不符"));
            }
        }
        if self.hall(&doc.hall_id)?.is_none() {
            return Err(refused(format!(
                "交件中的大厅 “{}” 未在本机登记，请先添加该大厅",
                doc.hall_id
            )));
        }
        // What is stored already decides: same rev → nothing; newer → replace, but
        // only when the same key signed both.
        let existing: Option<(i64, String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT rev, state, origin, signer_key FROM visits WHERE visit_id = ?1",
                [&doc.visit_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((_, _, origin, stored_key)) = &existing
            && origin == "imported"
            && stored_key.as_deref() != Some(signer_hex.as_str())
        {
            return Err(refused(format!(
                "该暗访记录此前由另一把密钥签名，不能用指纹为 {fp} 的密钥签名的交件替换，未导入"
            )));
        }
        let status = match &existing {
            None => "new",
            Some((rev, _, _, _)) if *rev >= doc.rev => {
                return Ok(ImportOutcome {
                    visit_id: doc.visit_id,
                    rev: *rev,
                    status: "unchanged".into(),
                    photos_added: 0,
                });
            }
            Some((_, _, origin, _)) if origin == "local" => {
                return Err(refused("这是本机填写的暗访记录，不能用交件覆盖"));
            }
            Some((_, state, _, _)) if matches!(state.as_str(), "accepted" | "closed") => {
                return Err(refused("该暗访记录已审核通过，不能再用新版本替换"));
            }
            Some(_) => "replaced",
        };
        // Photos first (content-addressed, so harmless), taken back on failure.
        let mut written = vec![];
        for p in &doc.photos {
            let b = &files[&format!("photos/{}", p.sha256)];
            match self.put_photo(b, &p.sha256) {
                Ok(true) => written.push(p.sha256.clone()),
                Ok(false) => {}
                Err(e) => {
                    self.remove_photos(&written);
                    return Err(e);
                }
            }
        }
        let signer = BundleSigner {
            fingerprint: &fp,
            public_key: &signer_hex,
            name: &shopper_name,
        };
        let result = self.store_imported(&doc, &signer, status, who);
        if let Err(e) = result {
            self.remove_photos(&written);
            return Err(e);
        }
        Ok(ImportOutcome {
            visit_id: doc.visit_id,
            rev: doc.rev,
            status: status.into(),
            photos_added: written.len() as u32,
        })
    }

    fn store_imported(
        &mut self,
        doc: &BundleVisit,
        signer: &BundleSigner<'_>,
        status: &str,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let now = now_text();
        let fields =
            serde_json::to_string(&doc.fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "DELETE FROM visit_answers WHERE visit_id = ?1",
            [&doc.visit_id],
        )?;
        tx.execute(
            "DELETE FROM visit_photos WHERE visit_id = ?1",
            [&doc.visit_id],
        )?;
        tx.execute(
            "INSERT INTO visits (visit_id, hall_id, template_version, state, rev, shopper, origin, signer,
                signer_key, fields, created_at, updated_at, submitted_at)
             VALUES (?1, ?2, ?3, 'submitted', ?4, ?5, 'imported', ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT (visit_id) DO UPDATE SET state = 'submitted', rev = excluded.rev,
                shopper = excluded.shopper, signer = excluded.signer, signer_key = excluded.signer_key,
                fields = excluded.fields, updated_at = excluded.updated_at,
                submitted_at = excluded.submitted_at, review_note = NULL, reviewed_at = NULL",
            params![
                doc.visit_id,
                doc.hall_id,
                doc.template_version,
                doc.rev,
                // The name the officer gave the key, not what the bundle claims.
                signer.name,
                signer.fingerprint,
                signer.public_key,
                fields,
                now,
                doc.submitted_at
            ],
        )?;
        for a in &doc.answers {
            let json = a
                .answer
                .as_ref()
                .map(|x| serde_json::to_string(x).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?;
            tx.execute(
                "INSERT INTO visit_answers (visit_id, item_id, answer, note, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![doc.visit_id, a.item_id, json, a.note, now],
            )?;
        }
        for p in &doc.photos {
            insert_photo(
                &tx,
                &doc.visit_id,
                &p.item_id,
                &VisitPhoto {
                    sha256: p.sha256.clone(),
                    file_name: p.file_name.clone(),
                    exif_time: p.exif_time.clone(),
                    size: p.size,
                },
            )?;
        }
        audit_visit(
            &tx,
            who,
            &doc.visit_id,
            "visit_imported",
            json!({
                "rev": doc.rev,
                "signer": signer.fingerprint,
                "signer_key": signer.public_key,
                "shopper": signer.name,
                "bundle_shopper": doc.shopper,
                "status": status
            }),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// An officer's review of a handed-in visit.
#[derive(Debug, Clone, Copy)]
pub struct VisitReview<'a> {
    /// 审核通过 (else 退回).
    pub accept: bool,
    /// The overall opinion (required when returning).
    pub note: &'a str,
    /// On acceptance: the deducted items that become rectification tasks (all
    /// when `None`).
    pub findings: Option<&'a [String]>,
    /// Comments per checklist item (item id → comment), shown to the shopper
    /// beside the items.
    pub item_comments: &'a BTreeMap<String, String>,
}

/// The trusted key a bundle was signed with.
struct BundleSigner<'a> {
    fingerprint: &'a str,
    public_key: &'a str,
    /// Its name in the trusted keys: the shopper's name as the officer knows it.
    name: &'a str,
}

fn insert_photo(tx: &Transaction<'_>, visit_id: &str, item_id: &str, p: &VisitPhoto) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO visit_photos (visit_id, item_id, sha256, file_name, exif_time, size, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![visit_id, item_id, p.sha256, p.file_name, p.exif_time, p.size, now_text()])?;
    Ok(())
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
