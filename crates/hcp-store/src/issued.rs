//! Issued monthly reports (签发): frozen snapshots, numbered per year, corrected
//! only by a new version.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, append_in};
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

/// An issued report as listed (without its snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "IssuedReport.ts")]
pub struct IssuedReport {
    /// Id.
    pub report_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Hall id, or `null` for all halls.
    pub hall_id: Option<String>,
    /// 1, 2, … (2+ are corrections).
    pub version: i64,
    /// 〔year〕.
    pub year: i64,
    /// 第 N 期.
    pub issue_no: i64,
    /// sha256 of the document as issued.
    pub document_sha256: Option<String>,
    /// 更正说明.
    pub correction: Option<String>,
    /// 签发人.
    pub issued_by: String,
    /// When (UTC).
    pub issued_at: String,
}

/// What the next issue of a month and scope will be: (version, year, issue_no).
pub type NextIssue = (i64, i64, i64);

impl Store {
    /// The version and number the next issue of `month`/`hall` gets: a new month
    /// and scope takes the year's next number; a correction keeps its number.
    pub fn next_issue(&self, month: &str, hall_id: Option<&str>, year: i64) -> Result<NextIssue> {
        let scope = hall_id.unwrap_or("");
        let last: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT version, issue_no FROM issued_reports WHERE month = ?1 AND scope = ?2
                 ORDER BY version DESC LIMIT 1",
                params![month, scope],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match last {
            Some((v, no)) => (v + 1, year, no),
            None => {
                let max: i64 = self.conn.query_row(
                    "SELECT coalesce(max(issue_no), 0) FROM issued_reports WHERE year = ?1",
                    [year],
                    |r| r.get(0),
                )?;
                (1, year, max + 1)
            }
        })
    }

    /// Stores an issued report (refused when `next` is no longer the next issue,
    /// or a correction comes without its note). Returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn store_issued_report(
        &mut self,
        month: &str,
        hall_id: Option<&str>,
        next: NextIssue,
        model_json: &str,
        document: Option<&[u8]>,
        correction: Option<&str>,
        who: Who<'_>,
    ) -> Result<i64> {
        if who.actor != hcp_core::case::Actor::Officer {
            return Err(StoreError::Refused("只有效能督查员可以签发通报".into()));
        }
        let (version, year, issue_no) = next;
        if version > 1 && correction.is_none_or(|c| c.trim().is_empty()) {
            return Err(StoreError::Refused("更正已签发的通报须填写更正说明".into()));
        }
        let sha = document.map(|d| hex::encode(Sha256::digest(d)));
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO issued_reports (month, scope, version, year, issue_no, model_json, document,
                document_sha256, correction, issued_by, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                month,
                hall_id.unwrap_or(""),
                version,
                year,
                issue_no,
                model_json,
                document,
                sha,
                correction.map(str::trim),
                who.name,
                now_text()
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                StoreError::Refused("该版本刚刚已被签发，请刷新后重试".into())
            }
            other => other.into(),
        })?;
        let id = tx.last_insert_rowid();
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: "officer",
                subject: &format!("report:{id}"),
                action: "report_issued",
                detail: &serde_json::json!({
                    "month": month, "hall_id": hall_id, "version": version,
                    "issue": format!("〔{year}〕第{issue_no}期"), "document_sha256": sha,
                    "model_sha256": hex::encode(Sha256::digest(model_json.as_bytes())),
                })
                .to_string(),
            },
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Issued reports, newest first.
    pub fn issued_reports(&self) -> Result<Vec<IssuedReport>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT report_id, month, scope, version, year, issue_no, document_sha256, correction,
                    issued_by, issued_at
             FROM issued_reports ORDER BY report_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let scope: String = r.get(2)?;
            Ok(IssuedReport {
                report_id: r.get(0)?,
                month: r.get(1)?,
                hall_id: (!scope.is_empty()).then_some(scope),
                version: r.get(3)?,
                year: r.get(4)?,
                issue_no: r.get(5)?,
                document_sha256: r.get(6)?,
                correction: r.get(7)?,
                issued_by: r.get(8)?,
                issued_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An issued report's snapshot: (model JSON, document).
    pub fn issued_report(&self, report_id: i64) -> Result<(IssuedReport, String, Option<Vec<u8>>)> {
        let meta = self
            .issued_reports()?
            .into_iter()
            .find(|r| r.report_id == report_id)
            .ok_or_else(|| StoreError::Refused(format!("没有编号为 {report_id} 的已签发通报")))?;
        let (json, doc): (String, Option<Vec<u8>>) = self.conn.query_row(
            "SELECT model_json, document FROM issued_reports WHERE report_id = ?1",
            [report_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((meta, json, doc))
    }
}
