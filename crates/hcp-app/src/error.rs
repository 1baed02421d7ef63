//! The one error both front ends see: a stable code for programs, a zh-CN message
//! for people. The chain behind it goes to the log, never a token.

use serde::Serialize;
use ts_rs::TS;

/// What went wrong, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export_to = "AppError.ts")]
pub struct AppError {
    /// Stable, for programs: `invalid_input`, `not_found`, `hall_unreachable`,
    /// `unauthorized`, `store`, `busy`, `unknown_command`, `internal`.
    pub code: String,
    /// For people, zh-CN.
    pub message: String,
}

impl AppError {
    /// An error with a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// Bad user input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid_input", message)
    }

    /// Something asked for is not there.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not_found", message)
    }
}

impl From<hcp_store::StoreError> for AppError {
    fn from(e: hcp_store::StoreError) -> Self {
        tracing::warn!(error = %e, "store error");
        let code = match e {
            hcp_store::StoreError::UnknownHall(_) | hcp_store::StoreError::UnknownCase(_) => {
                "not_found"
            }
            hcp_store::StoreError::Refused(_) => "refused",
            _ => "store",
        };
        Self::new(code, e.to_string())
    }
}

impl From<hcp_sync::SyncError> for AppError {
    fn from(e: hcp_sync::SyncError) -> Self {
        use hcp_sync::SyncError as S;
        let code = match &e {
            S::Unauthorized | S::Forbidden => "unauthorized",
            S::BadUrl { .. } | S::CaFile { .. } => "invalid_input",
            S::Store(_) => "store",
            S::Internal(_) => "internal",
            _ => "hall_unreachable",
        };
        Self::new(code, e.to_string())
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::new("internal", format!("后台任务异常结束：{e}"))
    }
}
