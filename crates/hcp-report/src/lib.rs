//! The monthly report (月度通报): one model computed from the cache
//! ([`model::build`]) and its outputs — JSON (the model itself) and XLSX (the
//! tables as sheets). Issued reports are frozen snapshots kept by hcp-store.

pub mod model;
pub mod publish;
pub mod xlsx;

pub use model::{MonthlyReport, ReportSettings, SCHEMA, build};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Bad input (zh-CN).
    #[error("{0}")]
    Input(String),
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] hcp_store::StoreError),
    /// Writing the workbook failed.
    #[error("无法生成 Excel 文件：{0}")]
    Xlsx(String),
}

/// The model as JSON (stable field names, see docs/report-schema.md).
pub fn to_json(r: &MonthlyReport) -> Result<String, ReportError> {
    serde_json::to_string_pretty(r).map_err(|e| ReportError::Input(e.to_string()))
}
