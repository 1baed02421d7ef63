//! The local cache of HCP Supervisor: one SQLite file.
//!
//! WAL, `synchronous=FULL`, a busy timeout and foreign keys; numbered migrations
//! tracked in `PRAGMA user_version`, each applied in its own transaction. A database
//! written by a newer version of the app is refused rather than guessed at.
//! Every SQL string of the project lives in this crate, and every query binds its
//! parameters.

mod alerts;
mod audit;
mod browse;
mod bundle;
mod cases;
mod days;
mod feed;
mod halls;
mod imports;
mod indexes;
mod issued;
mod queries;
mod raw;
mod report;
mod tasks;
mod vault;
mod visits;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

pub use alerts::{AlertDay, AlertDetail, AlertEvidence, AlertRecompute, AlertRow};
pub use audit::{AuditCheck, AuditEntry, AuditRow};
pub use browse::{
    DayCount, EvaluationFilter, EvaluationListRow, EvaluationVersion, FollowUp, PageKey,
    ProfileList, SpanCounts,
};
pub use cases::{
    AllowedAction, BulkActs, CarriedAction, CaseChange, CaseDeadline, CaseDetail, CaseEvent,
    CaseFilter, CaseListRow, CasePage, CaseRules, CaseStateCount, HELD_AFTER_REBUILD, HubLink,
    OutboxRow, OutboxSummary, PendingCase, QueuedAction, SYSTEM_NAME, TypicalCase, Who,
};
pub use feed::{
    AppealVerdict, FeedRecord, FileOutcome, ImportItem, PageOutcome, PageToApply, QuarantineEntry,
    SyncEnd, SyncState,
};
pub use halls::HallRecord;
pub use hcp_bundle::bundle_format;
pub use imports::{ImportProfile, ImportRecord};
pub use issued::{IssuedReport, NextIssue};
pub use queries::{EvaluationKey, EvaluationRow, HallCounts, QuarantineRow};
pub use report::{LevelCount, OverdueCount, ReportAppeal, ReportCase, ReportVisit};
pub use tasks::{ReviewImport, TaskHall, TaskImport, VisitTaskRow};
pub use vault::{OsKeyring, SecretStore, SecretStoreUnavailable, TokenLocation, TokenVault};
pub use visits::{
    HANDIN_MAX_TOTAL, HandinInfo, HubVisitUpload, ImportOutcome, KeyInfo, MAX_PHOTO_BYTES,
    VisitDetail, VisitFields, VisitItemView, VisitPhoto, VisitReview, VisitRow, fingerprint,
    fingerprint_hex, inspect_handin, now_beijing,
};

impl From<hcp_bundle::BundleError> for StoreError {
    fn from(e: hcp_bundle::BundleError) -> Self {
        match e {
            hcp_bundle::BundleError::Refused(m) => StoreError::Refused(m),
            hcp_bundle::BundleError::Corrupt(m) => StoreError::Corrupt(m),
        }
    }
}

/// Errors of the local cache.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("本地数据库错误：{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer app.
    #[error(
        "本地数据库 {path} 由更新版本的督查台创建（数据库版本 {found}，本程序支持到 {supported}），请升级程序后再打开；为防止数据损坏，本程序不会修改它"
    )]
    NewerDatabase {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Could not create the directory or file.
    #[error("无法访问 {path}：{source}")]
    Io {
        /// The path concerned.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A stored JSON column did not parse (the file was edited by hand?).
    #[error("本地数据库中的记录已损坏：{0}")]
    Corrupt(String),
    /// No such hall.
    #[error("没有编码为 “{0}” 的大厅")]
    UnknownHall(String),
    /// A case action refused by the rules, or bad input (zh-CN reason).
    #[error("{0}")]
    Refused(String),
    /// No such case.
    #[error("没有编号为 {0} 的工单")]
    UnknownCase(i64),
    /// `HCP_TOKEN_STORE=keyring` was asked for and the OS credential store failed.
    #[error("系统凭据存储不可用：{0}（可设置 HCP_TOKEN_STORE=file 改用仅当前用户可读的令牌文件）")]
    Keyring(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The numbered migrations, in order; migration *n* brings the file to version *n*.
/// The migrations as written; `{BAD_LEVEL_MAX}` in them is the bad-rating bound
/// of hcp-core (see [`migration_sql`]).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_browse.sql"),
    include_str!("../migrations/0003_evaluation_days.sql"),
    include_str!("../migrations/0004_audit_log.sql"),
    include_str!("../migrations/0005_cases.sql"),
    include_str!("../migrations/0006_visits.sql"),
    include_str!("../migrations/0007_issued_reports.sql"),
    include_str!("../migrations/0008_report_index.sql"),
    include_str!("../migrations/0009_visit_keys.sql"),
    include_str!("../migrations/0010_tasks_and_reviews.sql"),
    include_str!("../migrations/0011_typical_cases.sql"),
    include_str!("../migrations/0012_imports.sql"),
    include_str!("../migrations/0013_replica.sql"),
    include_str!("../migrations/0014_hub_visits.sql"),
    include_str!("../migrations/0015_hub_queue_resolution.sql"),
    include_str!("../migrations/0016_alerts.sql"),
    include_str!("../migrations/0017_alert_months.sql"),
    include_str!("../migrations/0018_deferred_indexes.sql"),
    include_str!("../migrations/0019_case_counts_index.sql"),
    include_str!("../migrations/0020_case_tally.sql"),
    include_str!("../migrations/0021_cases_page_order.sql"),
    include_str!("../migrations/0022_hall_tally.sql"),
    include_str!("../migrations/0023_evaluation_history.sql"),
    include_str!("../migrations/0024_visit_exported.sql"),
    include_str!("../migrations/0025_report_groups.sql"),
    include_str!("../migrations/0026_alert_counts.sql"),
    include_str!("../migrations/0027_case_rating.sql"),
    include_str!("../migrations/0028_report_case_facts.sql"),
    include_str!("../migrations/0029_case_callbacks.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// An open cache file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Moves everything from the write-ahead log into the database file and
    /// empties the log, so the file alone holds the cache (its size is the
    /// cache's size).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Opens (creating if needed) the cache at `path` and brings it to the current
    /// schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir, false).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        make_private_file(&path).map_err(|source| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        // Large pages for a new file: a synced province is gigabytes of ~1 KB rows,
        // and 16 KiB pages quarter the page writes (and syscalls) of a bulk sync.
        // Only possible before the first table exists and before WAL is on.
        let fresh: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if fresh == 0 {
            conn.pragma_update(None, "page_size", 16384)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoint every ~64 MiB of WAL rather than every 1000 pages, and keep
        // the WAL file from growing past that afterwards.
        conn.pragma_update(None, "wal_autocheckpoint", 4096)?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on a power
        // cut, and by then the outbox may have delivered a decision to a hall that
        // the cache no longer remembers making.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -65536)?; // 64 MiB page cache
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn, &path)?;
        Ok(Self { conn, path })
    }

    /// A write transaction that takes the write lock up front. A deferred one that
    /// reads first (the last audit hash, the case rules) cannot be upgraded once
    /// another connection has written meanwhile, and SQLite then fails at once with
    /// "database is locked" instead of waiting out the busy timeout.
    pub(crate) fn write_tx(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// Runs `f` with the file memory-mapped for reading (up to 2 GiB), for work
    /// that reads rows scattered over the whole cache (a report joins months of
    /// cases to their ratings): each page is then a memory read instead of a
    /// `pread` call. Writes still go through SQLite's own I/O. Off again after,
    /// so a sync's resident memory does not grow with the file it reads.
    pub fn reading_widely<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        self.conn
            .pragma_update(None, "mmap_size", 2i64 * 1024 * 1024 * 1024)?;
        let out = f();
        self.conn.pragma_update(None, "mmap_size", 0)?;
        Ok(out)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// Creates `dir` (and its missing parents) readable by the owner only (0700 on
/// Unix). With `tighten`, an existing `dir` is made owner-only too — for the
/// folders that are ours alone (`photos/`, `exports/`), not a user's data folder.
pub fn create_private_dir(dir: &Path, tighten: bool) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    #[cfg(unix)]
    if tighten {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = tighten;
    Ok(())
}

/// Creates `path` as an empty owner-only file (0600 on Unix) when it does not
/// exist, and takes group and other access away from one that does. SQLite gives
/// the `-wal` and `-shm` files the database file's permissions.
pub fn make_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    drop(opts.open(path)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [
            path.to_path_buf(),
            sibling(path, "-wal"),
            sibling(path, "-shm"),
        ] {
            if let Ok(m) = std::fs::metadata(&p)
                && m.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name (`hcp.db` → `hcp.db-wal`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Writes `bytes` to `path` as an owner-only file (0600 on Unix), replacing it.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A migration's SQL with the rating rule of hcp-core written in: "bad" is
/// defined once, in core, and the partial indexes on bad ratings say the same.
pub(crate) fn migration_sql(sql: &str) -> String {
    sql.replace(
        "{BAD_LEVEL_MAX}",
        &hcp_core::rating::BAD_LEVEL_MAX.to_string(),
    )
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerDatabase {
            path: path.display().to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(&migration_sql(sql))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied cache migration");
    }
    Ok(())
}

/// Formats an instant the way the cache stores it: UTC, seconds, `Z`.
pub fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn now_text() -> String {
    utc_text(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_the_current_schema_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("sub/hcp.db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // FULL (2): a commit survives a power cut.
        let sync: i64 = store
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous must be FULL");
        drop(store);
        // Opening again applies nothing and keeps the version.
        let store = Store::open(dir.path().join("sub/hcp.db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[cfg(unix)]
    #[test]
    fn the_database_and_its_folder_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new/hcp.db");
        let mut store = Store::open(&db).unwrap();
        store
            .append_audit(&AuditEntry {
                actor: "a",
                role: "officer",
                subject: "s",
                action: "x",
                detail: "{}",
            })
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&sibling(&db, "-wal")), 0o600);
        assert_eq!(mode(db.parent().unwrap()), 0o700);
        drop(store);
        // A file an older version left readable by others is tightened on open.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hcp.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 3)
                .unwrap();
        }
        let err = Store::open(&path).err().expect("must refuse");
        let msg = err.to_string();
        assert!(msg.contains("更新版本"), "{msg}");
        assert!(
            msg.contains(&format!("数据库版本 {}", SCHEMA_VERSION + 3)),
            "{msg}"
        );
        let conn = Connection::open(&path).unwrap();
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "a refused file must not be migrated");
    }
}

/// The queries that must use a partial index on bad ratings do (a bound
/// parameter in place of the bound silently turns them into scans).
#[cfg(test)]
mod query_plans {
    use super::*;

    fn plan(s: &Store, sql: &str) -> String {
        let mut stmt = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        // Unbound parameters are NULL: the plan does not depend on them.
        let mut rows = stmt.raw_query();
        let mut lines = vec![];
        while let Some(r) = rows.next().unwrap() {
            lines.push(r.get::<_, String>(3).unwrap());
        }
        lines.join("\n")
    }

    #[test]
    fn bad_rating_queries_use_the_partial_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("hcp.db")).unwrap();
        let p = plan(&s, queries::BAD_RATING_IDS);
        assert!(p.contains("evaluations_bad_by_time"), "{p}");
        let p = plan(&s, cases::FLAG_OPEN_CASES_OF);
        assert!(p.contains("evaluations_bad_by_id_hash"), "{p}");
        assert!(!p.contains("SCAN e"), "{p}");
    }

    #[test]
    fn a_report_reads_its_cases_from_one_covering_index() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("hcp.db")).unwrap();
        let p = plan(&s, &report::report_cases_sql());
        assert!(
            p.contains("SEARCH c USING COVERING INDEX cases_report_facts (evaluated_at>? AND evaluated_at<?)"),
            "{p}"
        );
        assert!(!p.contains("evaluations"), "{p}");
    }
}
