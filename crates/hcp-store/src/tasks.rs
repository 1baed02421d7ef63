//! What travels from the officer to the shopper, so that a shopper never needs a
//! hall server or its token: the **task package** (`.hcpt`: the halls to visit as
//! profiles only, the checklist version, planned dates) and the **review**
//! (`.hcpr`: the officer's verdict on a handed-in visit with comments per item).
//! Both are signed like the hand-in (see [`crate::bundle`]) by the officer's
//! installation key, which the shopper trusts once.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use hcp_core::case::Actor;
use hcp_core::visit::{ChecklistTemplate, VisitAction, VisitState, visit_transition};
use hcp_core::wire::HallProfile;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::audit_in;
use crate::bundle::{open_signed, write_signed};
use crate::cases::Who;
use crate::visits::{audit_visit, fingerprint, refused};
use crate::{Result, Store, StoreError, now_text, utc_text};

/// The task package format.
const TASK_FORMAT: &str = "hcpt/1";
/// The review format.
const REVIEW_FORMAT: &str = "hcpr/1";
/// At most this many halls in one package.
const MAX_TASK_HALLS: usize = 200;

/// One hall of a task plan: which, and when (optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "TaskHall.ts")]
pub struct TaskHall {
    /// 大厅编码.
    pub hall_id: String,
    /// 计划日期 (YYYY-MM-DD), if planned.
    pub planned_date: Option<String>,
}

/// A task as the shopper's installation keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitTaskRow.ts")]
pub struct VisitTaskRow {
    /// The package's id.
    pub task_id: String,
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// 计划日期.
    pub planned_date: Option<String>,
    /// Checklist version to use.
    pub template_version: String,
    /// The officer's note.
    pub note: String,
    /// Who asked (the trusted key's name).
    pub issued_by: String,
    /// When the package was made (UTC).
    pub issued_at: String,
    /// The visit started from it, once started.
    pub visit_id: Option<String>,
}

/// What importing a task package did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "TaskImport.ts")]
pub struct TaskImport {
    /// The package's id.
    pub task_id: String,
    /// Halls in it.
    pub halls: u32,
    /// Halls this installation did not know before.
    pub halls_added: u32,
    /// `new`, or `unchanged` when it had been imported before.
    pub status: String,
    /// Who it is from.
    pub issued_by: String,
}

/// What importing a review did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "ReviewImport.ts")]
pub struct ReviewImport {
    /// The visit.
    pub visit_id: String,
    /// The hand-in revision the review is about.
    pub rev: i64,
    /// `returned` or `accepted`.
    pub outcome: String,
    /// `applied`, `unchanged` (imported before) or `outdated` (about an older
    /// revision than the one handed in since).
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TaskDoc {
    format: String,
    task_id: String,
    issued_at: String,
    issued_by: String,
    template_version: String,
    note: String,
    halls: Vec<TaskDocHall>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TaskDocHall {
    profile: HallProfile,
    planned_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReviewDoc {
    format: String,
    visit_id: String,
    rev: i64,
    outcome: String,
    note: String,
    items: BTreeMap<String, String>,
    reviewed_at: String,
    reviewer: String,
}

/// The trusted, unrevoked name of a signer, or the refusal to show.
/// Who signed a file, as the trusted keys know them.
struct Signed {
    /// Their name in the trusted keys.
    name: String,
    /// The full public key, hex.
    key_hex: String,
    /// Its short fingerprint.
    fingerprint: String,
}

/// A signed file (task package, review) from a trusted key: its one JSON
/// document `file`, and who signed it. `what` names the file in messages.
fn open_trusted<T: serde::de::DeserializeOwned>(
    store: &Store,
    bytes: &[u8],
    format: &str,
    what: &str,
    file: &str,
) -> Result<(T, Signed)> {
    let bad = |why: String| refused(format!("{what}无效，未导入任何内容：{why}"));
    let opened = open_signed(bytes, format, what)?;
    let key_hex = opened.signer_hex();
    let fp = fingerprint(&opened.signer);
    let name = trusted_signer(store, &key_hex, &fp, what, "督查员")?;
    let raw = opened
        .files
        .get(file)
        .ok_or_else(|| bad(format!("缺少 {file}")))?;
    let doc = serde_json::from_slice(raw).map_err(|_| bad(format!("{file} 无法解析")))?;
    Ok((
        doc,
        Signed {
            name,
            key_hex,
            fingerprint: fp,
        },
    ))
}

/// The name of the trusted key `signer_hex` that signed a `what` (任务包, 交件…) of
/// `whose` (督查员, 该暗访员), refused when it is unknown or revoked. Trust is by the
/// whole public key: the fingerprint only helps people compare.
pub(crate) fn trusted_signer(
    store: &Store,
    signer_hex: &str,
    fp: &str,
    what: &str,
    whose: &str,
) -> Result<String> {
    let row: Option<(String, Option<String>)> = store
        .conn
        .query_row(
            "SELECT name, revoked_at FROM trusted_keys WHERE public_key = ?1",
            [signer_hex],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Err(refused(format!(
            "{what}由未受信任的密钥（指纹 {fp}）签名，未导入：请先核对并信任{whose}的公钥（hcp keys trust）"
        ))),
        Some((name, Some(at))) => Err(refused(format!(
            "{what}的签名密钥（指纹 {fp}，{name}）已于 {at} 被撤销信任，未导入"
        ))),
        Some((name, None)) => Ok(name),
    }
}

fn check_date(d: &str) -> Result<()> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| {
            refused(format!(
                "计划日期 “{}” 应为 YYYY-MM-DD",
                hcp_core::ident::printable(d)
            ))
        })
}

impl Store {
    /// The officer writes a signed task package for registered halls to `out`;
    /// returns the package's id. Staff are listed by number only.
    pub fn export_task_package(
        &self,
        halls: &[TaskHall],
        template_version: &str,
        note: &str,
        out: &Path,
        who: Who<'_>,
    ) -> Result<String> {
        if who.actor != Actor::Officer {
            return Err(refused("只有效能督查员可以下发暗访任务"));
        }
        if halls.is_empty() {
            return Err(refused("请至少选择一个要暗访的大厅"));
        }
        if halls.len() > MAX_TASK_HALLS {
            return Err(refused(format!("一个任务包最多 {MAX_TASK_HALLS} 个大厅")));
        }
        if ChecklistTemplate::builtin(template_version).is_none() {
            return Err(refused(format!(
                "没有版本为 “{}” 的检查表模板",
                hcp_core::ident::printable(template_version)
            )));
        }
        if note.chars().count() > 500 {
            return Err(refused("任务说明超过 500 字"));
        }
        let mut doc_halls = vec![];
        for h in halls {
            if let Some(d) = &h.planned_date {
                check_date(d)?;
            }
            if doc_halls
                .iter()
                .any(|x: &TaskDocHall| x.profile.hall_id == h.hall_id)
            {
                continue;
            }
            let mut profile = self.hall_profile(&h.hall_id)?;
            // The shopper checks staff by their number; names stay in the office.
            for s in &mut profile.staff {
                s.name.clear();
            }
            doc_halls.push(TaskDocHall {
                profile,
                planned_date: h.planned_date.clone(),
            });
        }
        let task_id = uuid::Uuid::new_v4().to_string();
        let doc = TaskDoc {
            format: TASK_FORMAT.into(),
            task_id: task_id.clone(),
            issued_at: now_text(),
            issued_by: who.name.into(),
            template_version: template_version.into(),
            note: note.trim().into(),
            halls: doc_halls,
        };
        let json =
            serde_json::to_vec_pretty(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        write_signed(
            out,
            TASK_FORMAT,
            &[("task.json".into(), json)],
            &self.signing_key()?,
        )?;
        Ok(task_id)
    }

    /// The shopper imports a task package signed by a trusted key: its halls
    /// become known here (profiles only, never synced) and its tasks are listed.
    /// Importing it again changes nothing.
    pub fn import_task_package(&mut self, bytes: &[u8], who: Who<'_>) -> Result<TaskImport> {
        if who.actor != Actor::Shopper {
            return Err(refused("只有暗访员可以导入暗访任务包"));
        }
        let bad = |why: &str| refused(format!("任务包无效，未导入任何内容：{why}"));
        let (
            doc,
            Signed {
                name: issued_by,
                key_hex: signer_hex,
                fingerprint: fp,
            },
        ) = open_trusted::<TaskDoc>(self, bytes, TASK_FORMAT, "任务包", "task.json")?;
        if doc.format != TASK_FORMAT || doc.halls.is_empty() || doc.halls.len() > MAX_TASK_HALLS {
            return Err(bad("task.json 格式不对"));
        }
        if !hcp_core::ident::is_uuid(&doc.task_id) {
            return Err(bad("任务编号不是 UUID"));
        }
        if ChecklistTemplate::builtin(&doc.template_version).is_none() {
            return Err(bad(&format!(
                "没有版本为 “{}” 的检查表模板",
                hcp_core::ident::printable(&doc.template_version)
            )));
        }
        for h in &doc.halls {
            hcp_core::ident::check_hall_id(&h.profile.hall_id).map_err(|e| bad(&e.to_string()))?;
            if let Some(d) = &h.planned_date {
                check_date(d).map_err(|e| bad(&e.to_string()))?;
            }
        }
        let known: i64 = self.conn.query_row(
            "SELECT count(*) FROM visit_tasks WHERE task_id = ?1",
            [&doc.task_id],
            |r| r.get(0),
        )?;
        if known > 0 {
            return Ok(TaskImport {
                task_id: doc.task_id,
                halls: doc.halls.len() as u32,
                halls_added: 0,
                status: "unchanged".into(),
                issued_by,
            });
        }
        let tx = self.write_tx()?;
        let now = now_text();
        let mut added = 0;
        for h in &doc.halls {
            added += u32::from(crate::halls::upsert_task_hall(&tx, &h.profile)?);
            tx.execute(
                "INSERT OR IGNORE INTO visit_tasks (task_id, hall_id, planned_date, template_version,
                    note, issued_by, signer_key, issued_at, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    doc.task_id,
                    h.profile.hall_id,
                    h.planned_date,
                    doc.template_version,
                    doc.note,
                    issued_by,
                    signer_hex,
                    doc.issued_at,
                    now
                ],
            )?;
        }
        let detail = json!({
            "halls": doc.halls.iter().map(|h| &h.profile.hall_id).collect::<Vec<_>>(),
            "issued_by": issued_by, "signer": fp, "template": doc.template_version,
        });
        audit_in(
            &tx,
            who,
            &format!("task:{}", doc.task_id),
            "task_imported",
            &detail.to_string(),
        )?;
        tx.commit()?;
        Ok(TaskImport {
            task_id: doc.task_id,
            halls: doc.halls.len() as u32,
            halls_added: added,
            status: "new".into(),
            issued_by,
        })
    }

    /// Imported tasks, planned ones first by date.
    pub fn visit_tasks(&self) -> Result<Vec<VisitTaskRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.task_id, t.hall_id, h.name, t.planned_date, t.template_version, t.note,
                    t.issued_by, t.issued_at, t.visit_id
             FROM visit_tasks t LEFT JOIN halls h ON h.hall_id = t.hall_id
             ORDER BY t.visit_id IS NOT NULL, coalesce(t.planned_date, '9999'), t.issued_at, t.hall_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(VisitTaskRow {
                task_id: r.get(0)?,
                hall_id: r.get(1)?,
                hall_name: r.get(2)?,
                planned_date: r.get(3)?,
                template_version: r.get(4)?,
                note: r.get(5)?,
                issued_by: r.get(6)?,
                issued_at: r.get(7)?,
                visit_id: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The officer writes the last review of an imported visit (returned or
    /// accepted) as a signed bundle for the shopper.
    pub fn export_review(&self, visit_id: &str, out: &Path) -> Result<()> {
        type Row = (
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT state, origin, review_rev, review_note, review_items, reviewed_at, reviewed_by
                 FROM visits WHERE visit_id = ?1",
                [visit_id],
                |r| r.try_into(),
            )
            .optional()?;
        let (state, origin, rev, note, items, reviewed_at, reviewed_by) =
            row.ok_or_else(|| refused(format!("没有编号为 {visit_id} 的暗访记录")))?;
        if origin != "imported" {
            return Err(refused("只有导入的暗访交件才有审核意见可以发回"));
        }
        let outcome = match state.as_str() {
            "returned" => "returned",
            "accepted" | "closed" => "accepted",
            _ => {
                return Err(refused(
                    "该暗访记录尚未审核（退回或通过后才能导出审核意见）",
                ));
            }
        };
        let rev = rev.ok_or_else(|| refused("该暗访记录尚未审核"))?;
        let reviewer = reviewed_by.unwrap_or_default();
        let doc = ReviewDoc {
            format: REVIEW_FORMAT.into(),
            visit_id: visit_id.into(),
            rev,
            outcome: outcome.into(),
            note: note.unwrap_or_default(),
            items: items
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
            reviewed_at: reviewed_at.unwrap_or_else(now_text),
            reviewer,
        };
        let json =
            serde_json::to_vec_pretty(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        write_signed(
            out,
            REVIEW_FORMAT,
            &[("review.json".into(), json)],
            &self.signing_key()?,
        )
    }

    /// The shopper imports an officer's review of a visit filled here: a return
    /// shows its comments beside the items and the visit can be fixed and handed
    /// in again; an acceptance is recorded. Importing it again changes nothing.
    pub fn import_review(&mut self, bytes: &[u8], who: Who<'_>) -> Result<ReviewImport> {
        if who.actor != Actor::Shopper {
            return Err(refused("只有暗访员可以导入审核意见"));
        }
        let bad = |why: &str| refused(format!("审核意见文件无效，未导入任何内容：{why}"));
        let (
            doc,
            Signed {
                name: reviewer,
                fingerprint: fp,
                ..
            },
        ) = open_trusted::<ReviewDoc>(self, bytes, REVIEW_FORMAT, "审核意见文件", "review.json")?;
        hcp_core::ident::check_visit_id(&doc.visit_id).map_err(|e| bad(&e.to_string()))?;
        if doc.format != REVIEW_FORMAT || doc.rev < 1 {
            return Err(bad("review.json 格式不对"));
        }
        let reviewed_at =
            DateTime::parse_from_rfc3339(&doc.reviewed_at).map_err(|_| bad("审核时间格式不对"))?;
        let accept = match doc.outcome.as_str() {
            "accepted" => true,
            "returned" => false,
            _ => return Err(bad("审核结论不对")),
        };
        type Row = (
            String,
            i64,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT state, rev, origin, template_version, review_rev, review_note, review_items
                     FROM visits WHERE visit_id = ?1",
                [&doc.visit_id],
                |r| r.try_into(),
            )
            .optional()?;
        let Some((state, rev, origin, version, review_rev, review_note, review_items)) = row else {
            return Err(refused(
                "本机没有这条暗访记录：审核意见应导入到填写该记录的电脑上",
            ));
        };
        if origin != "local" {
            return Err(refused("这条暗访记录不是本机填写的，不能导入审核意见"));
        }
        let template = ChecklistTemplate::builtin(&version)
            .ok_or_else(|| refused(format!("没有版本为 “{version}” 的检查表模板")))?;
        for (item, comment) in &doc.items {
            if template.item(item).is_none() || comment.chars().count() > 500 {
                return Err(bad(&format!(
                    "条目 “{}” 的意见不对",
                    hcp_core::ident::printable(item)
                )));
            }
        }
        let items_json =
            serde_json::to_string(&doc.items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let outcome = |status: &str| ReviewImport {
            visit_id: doc.visit_id.clone(),
            rev: doc.rev,
            outcome: doc.outcome.clone(),
            status: status.into(),
        };
        if doc.rev < rev {
            return Ok(outcome("outdated"));
        }
        if doc.rev > rev {
            return Err(bad("审核意见针对的版本比本机提交的还新"));
        }
        if review_rev == Some(doc.rev)
            && review_note.as_deref() == Some(doc.note.as_str())
            && review_items.as_deref() == Some(items_json.as_str())
        {
            return Ok(outcome("unchanged"));
        }
        let current = VisitState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("暗访记录状态 “{state}”")))?;
        // The officer's step, on this side: only from 已提交.
        let action = if accept {
            VisitAction::Accept
        } else {
            VisitAction::Return {
                note: doc.note.clone(),
            }
        };
        let next = if current == VisitState::Submitted {
            visit_transition(current, &action, Actor::Officer).map_err(|r| refused(r.0))?
        } else {
            current
        };
        let officer = Who {
            name: &reviewer,
            actor: Actor::Officer,
        };
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE visits SET state = ?2, review_note = ?3, review_items = ?4, review_rev = ?5,
                    reviewed_at = ?6, reviewed_by = ?7, updated_at = ?8
             WHERE visit_id = ?1",
            params![
                doc.visit_id,
                next.as_str(),
                doc.note,
                items_json,
                doc.rev,
                utc_text(reviewed_at.with_timezone(&Utc)),
                reviewer,
                now_text()
            ],
        )?;
        audit_visit(
            &tx,
            officer,
            &doc.visit_id,
            "visit_review_imported",
            json!({
                "rev": doc.rev, "outcome": doc.outcome, "signer": fp, "imported_by": who.name,
                "acted_at": utc_text(reviewed_at.with_timezone(&Utc)),
            }),
        )?;
        tx.commit()?;
        Ok(outcome("applied"))
    }
}
