//! Reports: the period and scope, previews, exports, issuing and the 公示.

use super::*;

/// The report's counting policy.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportPolicyArgs.ts")]
pub struct ReportPolicyArgs {
    /// Whether 系统默认评价 count in 评价量 and 好评率.
    pub count_system_default: bool,
}

/// Which report: a period and a scope.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportArgs.ts")]
pub struct ReportArgs {
    /// The period: a month `2026-10`, a quarter `2026-Q3` or a year `2026`.
    pub month: String,
    /// One hall; absent: all halls (a director: always their own).
    #[serde(default)]
    pub hall_id: Option<String>,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// `official` (公文, what issuing stores) or `brief` (数据简报, the default).
    #[serde(default)]
    pub layout: Option<String>,
}

/// `report_publish`: a period's 公示.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportPublishArgs.ts")]
pub struct ReportPublishArgs {
    /// The period: `2026-11`, `2026-Q4` or `2026`.
    pub month: String,
    /// One hall (its screen); absent: all halls.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// Where a 公示 was written.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "PublishedFiles.ts")]
pub struct PublishedFiles {
    /// The folder (index.html, data.json and the CSVs).
    pub folder: String,
    /// Its page.
    pub index: String,
}

/// An export of a draft or an issued report.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportExportArgs.ts")]
pub struct ReportExportArgs {
    /// The period of a draft: `2026-10`, `2026-Q3` or `2026`.
    #[serde(default)]
    pub month: Option<String>,
    /// The scope (drafts).
    #[serde(default)]
    pub hall_id: Option<String>,
    /// An issued report instead of a draft.
    #[serde(default)]
    pub report_id: Option<i64>,
    /// pdf | xlsx | json.
    pub format: String,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// A draft PDF's layout: `official` (公文) or `brief` (数据简报, the default).
    #[serde(default)]
    pub layout: Option<String>,
}

/// Issue (签发) a report; a correction needs its note.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportIssueArgs.ts")]
pub struct ReportIssueArgs {
    /// The period: `2026-10`, `2026-Q3` or `2026`.
    pub month: String,
    /// The scope.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// 更正说明 (required for a new version).
    #[serde(default)]
    pub correction: Option<String>,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// 提前签发: the officer confirmed issuing a period that has not ended yet.
    #[serde(default)]
    pub early: bool,
}

/// The preview: the exact pages as images.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "ReportPreview.ts")]
pub struct ReportPreview {
    /// The report's title.
    pub title: String,
    /// PNG pages, base64.
    pub pages: Vec<String>,
    /// Each page's text (for screen readers and search).
    pub texts: Vec<String>,
    /// The issue this period and scope would get: version and number.
    pub next_version: i64,
    /// 〔year〕 of that issue.
    pub next_year: i64,
    /// 第 N 期 of that issue (a hub numbers the office's issues itself).
    pub next_issue_no: i64,
    /// 范围: 全部大厅 or the hall's name.
    pub scope_name: String,
    /// 签发人: the profile's name, `None` while the desk's user gave none.
    pub signer: Option<String>,
}
