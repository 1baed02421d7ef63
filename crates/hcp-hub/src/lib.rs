//! The office hub: the shared truth of a supervision office on PostgreSQL.
//!
//! So far it holds who may use the hub and which halls it syncs: accounts (argon2id passwords),
//! sessions (random tokens, only their hash stored, expiring and revocable),
//! failed logins slowed down, and an audit log chained by hash. The schema is
//! created by numbered migrations in one transaction each, so two hub processes
//! starting at once on one database cannot both apply one. Everything is plain
//! SQL with bound parameters.

mod accounts;
mod audit;
mod cases;
mod db;
mod feed;
mod halls;
mod ingest;
pub mod limits;
mod office;
mod outbox;
mod overview;
mod reports;
mod rules;
pub mod server;
mod settings;
mod tls;
mod visits;

pub use accounts::{
    Account, AccountRole, LOGIN_LOCK_AFTER, Operator, SESSION_HOURS, SESSION_IDLE_MINUTES, Session,
};
pub use audit::{AuditCheck, AuditHead, verify_audit};
pub use cases::SYSTEM_NAME;
pub use db::{DEFAULT_POOL_SIZE, DbOptions, Hub, POOL_WAIT, SCHEMA_VERSION};
pub use feed::DEFAULT_PAGE_LIMIT;
pub use halls::{HallRemoval, HubHall};
pub use hcp_core::hub::{
    ActionRequest, ActionResult, CaseChange, CasePage, CaseView, MAX_ACTIONS_PER_REQUEST,
    TimelineEntry,
};
pub use hcp_core::hub::{HubReport, HubReportFull, NextIssueArgs, NextIssueNo, ReportUpload};
pub use hcp_core::hub::{HubVisit, VisitPage, VisitUploadResult};
pub use ingest::{HubSyncReport, SyncTiming, no_progress, sync_lock_keys};
pub use overview::{HallHealth, Overview};
pub use reports::MAX_REPORT_BYTES;
pub use settings::{PolicyChange, PolicyRow};
pub use tls::acceptor as tls_acceptor;
pub use visits::MAX_VISIT_BYTES;

/// Errors of the hub, each with a zh-CN message for people.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// PostgreSQL said no (or could not be reached).
    #[error("团队服务器数据库错误：{}", db_text(.0))]
    Db(#[from] tokio_postgres::Error),
    /// The database was set up by a newer hub.
    #[error(
        "团队服务器数据库由更新版本的督查台创建（版本 {found}，本程序支持到 {supported}），请升级后再使用"
    )]
    NewerSchema {
        /// The database's version.
        found: i32,
        /// The newest this build knows.
        supported: i32,
    },
    /// The database has no hub schema yet.
    #[error("团队服务器数据库尚未初始化：请先运行 hcp hub init --pg …")]
    NotInitialised,
    /// Bad input from an administrator or a client.
    #[error("{0}")]
    Invalid(String),
    /// Wrong name or password, or an account that may not sign in.
    #[error("用户名或密码错误")]
    BadLogin,
    /// Too many failed logins in a row.
    #[error("登录失败次数过多，请 {0} 分钟后再试")]
    TooManyAttempts(i64),
    /// No valid session: missing, unknown, expired or revoked.
    #[error("登录已过期或已退出，请重新登录")]
    NoSession,
    /// The account may not do or see this.
    #[error("{0}")]
    Forbidden(String),
    /// Someone else got there first (e.g. the report number was taken).
    #[error("{0}")]
    Conflict(String),
    /// No such thing on the hub.
    #[error("{0}")]
    NotFound(String),
    /// Every database connection is in use and none came free in time.
    #[error("团队服务器繁忙，请稍后再试")]
    Busy,
    /// No such account.
    #[error("没有名为 “{0}” 的账号")]
    UnknownAccount(String),
}

/// What PostgreSQL said, not only "db error": its message (never the DETAIL
/// line, which may quote row values) and SQLSTATE, or the connection's error.
fn db_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}（SQLSTATE {}）", d.message(), d.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}：{cause}"),
            None => e.to_string(),
        },
    }
}

/// Results of the hub.
pub type Result<T> = std::result::Result<T, HubError>;
