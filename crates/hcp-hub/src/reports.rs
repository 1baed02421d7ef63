//! Issued reports on the hub: the number 〔年〕第N期 is the office's, given out here,
//! and the frozen model and PDF are kept here. A desk asks for the next number,
//! renders the report with it and uploads it; the hub stores it only if that is
//! still the next issue (two desks issuing at once: one gets `conflict` and asks
//! again), so numbers are unique per office.

use base64::Engine;
use hcp_core::Capability;
use hcp_core::hub::{HubReport, HubReportFull, NextIssueArgs, NextIssueNo, ReportUpload};
use sha2::{Digest, Sha256};

use crate::audit::{Entry, append};
use crate::{Account, Hub, HubError, Result};

/// Serialises the numbering (held to commit).
const REPORT_LOCK: i64 = 0x4843_5052; // "HCPR"

/// A PDF larger than this is not a monthly report.
pub const MAX_REPORT_BYTES: usize = 24 * 1024 * 1024;

/// A report's period (`2026-10`, `2026-Q3` or `2026`) and its year.
fn check_month(m: &str) -> Result<i64> {
    hcp_core::metrics::Period::parse(m)
        .map(|p| i64::from(p.year()))
        .map_err(HubError::Invalid)
}

fn officer_only(who: &Account) -> Result<()> {
    if who.may(Capability::IssueReports) {
        Ok(())
    } else {
        Err(HubError::Forbidden("只有效能督查员可以签发通报".into()))
    }
}

async fn next_in<C: tokio_postgres::GenericClient>(
    c: &C,
    month: &str,
    scope: &str,
    year: i64,
) -> Result<NextIssueNo> {
    let last = c
        .query_opt(
            "SELECT version, issue_no FROM hub_reports WHERE month = $1 AND scope = $2
             ORDER BY version DESC LIMIT 1",
            &[&month, &scope],
        )
        .await?;
    Ok(match last {
        Some(r) => NextIssueNo {
            version: i64::from(r.get::<_, i32>(0)) + 1,
            year,
            issue_no: i64::from(r.get::<_, i32>(1)),
        },
        None => {
            let max: i32 = c
                .query_one(
                    "SELECT COALESCE(max(issue_no), 0) FROM hub_reports WHERE year = $1",
                    &[&(year as i32)],
                )
                .await?
                .get(0);
            NextIssueNo {
                version: 1,
                year,
                issue_no: i64::from(max) + 1,
            }
        }
    })
}

fn report_of(r: &tokio_postgres::Row) -> HubReport {
    let scope: String = r.get(2);
    HubReport {
        report_id: r.get(0),
        month: r.get(1),
        hall_id: (!scope.is_empty()).then_some(scope),
        version: i64::from(r.get::<_, i32>(3)),
        year: i64::from(r.get::<_, i32>(4)),
        issue_no: i64::from(r.get::<_, i32>(5)),
        document_sha256: r.get(6),
        correction: r.get(7),
        issued_by: r.get(8),
    }
}

const REPORT_COLUMNS: &str =
    "report_id, month, scope, version, year, issue_no, document_sha256, correction, issued_by";

impl Hub {
    /// The number the next issue of `month` and scope gets (not reserved: the
    /// upload checks it again).
    pub async fn next_issue(&self, who: &Account, a: &NextIssueArgs) -> Result<NextIssueNo> {
        officer_only(who)?;
        let year = check_month(&a.month)?;
        let c = self.conn().await?;
        next_in(&*c, &a.month, a.hall_id.as_deref().unwrap_or(""), year).await
    }

    /// Stores a report issued under `up.next`, if that is still the next issue
    /// (audited). A number taken meanwhile is a `Conflict`: ask again.
    pub async fn store_report(&self, who: &Account, up: &ReportUpload) -> Result<HubReport> {
        officer_only(who)?;
        let year = check_month(&up.month)?;
        let scope = up.hall_id.clone().unwrap_or_default();
        let document = base64::engine::general_purpose::STANDARD
            .decode(up.document_base64.as_bytes())
            .map_err(|_| HubError::Invalid("通报文件不是有效的 base64".into()))?;
        if document.len() > MAX_REPORT_BYTES || !document.starts_with(b"%PDF-") {
            return Err(HubError::Invalid("通报文件不是 PDF 或过大".into()));
        }
        if serde_json::from_str::<serde_json::Value>(&up.model_json).is_err() {
            return Err(HubError::Invalid("通报数据不是有效的 JSON".into()));
        }
        let correction = up
            .correction
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if up.next.version > 1 && correction.is_none() {
            return Err(HubError::Invalid("更正已签发的通报须填写更正说明".into()));
        }
        let sha = hex::encode(Sha256::digest(&document));
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&REPORT_LOCK])
            .await?;
        let next = next_in(&tx, &up.month, &scope, year).await?;
        if next != up.next {
            return Err(HubError::Conflict(format!(
                "编号已变化：现在应为〔{}〕第{}期（第 {} 版），请重新签发",
                next.year, next.issue_no, next.version
            )));
        }
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO hub_reports (month, scope, version, year, issue_no, model_json,
                        document, document_sha256, correction, issued_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     RETURNING {REPORT_COLUMNS}"
                ),
                &[
                    &up.month,
                    &scope,
                    &(next.version as i32),
                    &(next.year as i32),
                    &(next.issue_no as i32),
                    &up.model_json,
                    &document,
                    &sha,
                    &correction,
                    &who.name,
                ],
            )
            .await?;
        let report = report_of(&row);
        let detail = serde_json::json!({
            "month": up.month, "hall_id": up.hall_id, "version": next.version,
            "issue": format!("〔{}〕第{}期", next.year, next.issue_no),
            "document_sha256": sha,
            "model_sha256": hex::encode(Sha256::digest(up.model_json.as_bytes())),
        })
        .to_string();
        append(
            &tx,
            &Entry {
                actor: &who.name,
                role: who.role,
                subject: &format!("report:{}", report.report_id),
                action: "report_issued",
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The issued reports the account may see (a director: his hall's), oldest first.
    pub async fn reports(&self, who: &Account) -> Result<Vec<HubReport>> {
        if !who.may(Capability::ViewReports) {
            return Err(HubError::Forbidden(format!(
                "账号 {} 无权查看通报",
                who.name
            )));
        }
        let hall = who.hall_scope(None)?;
        let c = self.conn().await?;
        Ok(c.query(
            &format!(
                "SELECT {REPORT_COLUMNS} FROM hub_reports
                 WHERE $1::text IS NULL OR scope = $1 ORDER BY report_id"
            ),
            &[&hall],
        )
        .await?
        .iter()
        .map(report_of)
        .collect())
    }

    /// One issued report with its model and PDF.
    pub async fn report(&self, who: &Account, report_id: i64) -> Result<HubReportFull> {
        let visible = self.reports(who).await?;
        let not_found = || HubError::NotFound(format!("没有编号为 {report_id} 的通报"));
        let report = visible
            .into_iter()
            .find(|r| r.report_id == report_id)
            .ok_or_else(not_found)?;
        let c = self.conn().await?;
        let row = c
            .query_one(
                "SELECT model_json, document FROM hub_reports WHERE report_id = $1",
                &[&report_id],
            )
            .await?;
        let document: Vec<u8> = row.get(1);
        Ok(HubReportFull {
            report,
            model_json: row.get(0),
            document_base64: base64::engine::general_purpose::STANDARD.encode(document),
        })
    }
}
