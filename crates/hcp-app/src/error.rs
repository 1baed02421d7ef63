//! The one error both front ends see: a stable code for programs, a zh-CN message
//! for people. The chain behind it goes to the log, never a token.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The stable part of an error, for programs (the UI, the bridge's HTTP status,
/// tests). The TypeScript twin is a union of these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "ErrorCode.ts")]
pub enum ErrorCode {
    /// The user typed or chose something that cannot be used; the message says why.
    InvalidInput,
    /// What was asked for is not there.
    NotFound,
    /// This role may not do that.
    Forbidden,
    /// The rules refuse it in this state (e.g. a visit already handed in).
    Refused,
    /// A hall refused the token.
    Unauthorized,
    /// A hall could not be reached or answered nonsense.
    HallUnreachable,
    /// Something else is running (a sync, an import).
    Busy,
    /// The user cancelled (a save dialog).
    Cancelled,
    /// A file could not be read or written.
    Io,
    /// The local cache failed.
    Store,
    /// No command of that name.
    UnknownCommand,
    /// A bug or an impossible state; the log has the chain.
    Internal,
    /// The UI's own: the back end did not answer at all.
    Offline,
}

impl ErrorCode {
    /// The name programs see (`invalid_input`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Refused => "refused",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::HallUnreachable => "hall_unreachable",
            ErrorCode::Busy => "busy",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Io => "io",
            ErrorCode::Store => "store",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::Internal => "internal",
            ErrorCode::Offline => "offline",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the name, so `e.code == "not_found"` reads as it says.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What went wrong, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export_to = "AppError.ts")]
pub struct AppError {
    /// Stable, for programs.
    pub code: ErrorCode,
    /// For people, zh-CN.
    pub message: String,
}

impl AppError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Bad user input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// Something asked for is not there.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl From<hcp_store::StoreError> for AppError {
    fn from(e: hcp_store::StoreError) -> Self {
        tracing::warn!(error = %e, "store error");
        let code = match e {
            hcp_store::StoreError::UnknownHall(_) | hcp_store::StoreError::UnknownCase(_) => {
                ErrorCode::NotFound
            }
            hcp_store::StoreError::Refused(_) => ErrorCode::Refused,
            _ => ErrorCode::Store,
        };
        Self::new(code, e.to_string())
    }
}

impl From<hcp_sync::SyncError> for AppError {
    fn from(e: hcp_sync::SyncError) -> Self {
        use hcp_sync::SyncError as S;
        let code = match &e {
            S::Unauthorized | S::Forbidden { .. } | S::HubSessionEnded => ErrorCode::Unauthorized,
            S::BadUrl { .. } | S::CaFile { .. } => ErrorCode::InvalidInput,
            S::Store(_) | S::Sink(_) => ErrorCode::Store,
            S::Internal(_) => ErrorCode::Internal,
            _ => ErrorCode::HallUnreachable,
        };
        Self::new(code, e.to_string())
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::new(ErrorCode::Internal, format!("后台任务异常结束：{e}"))
    }
}
