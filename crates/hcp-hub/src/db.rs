//! The connection to PostgreSQL and the schema's migrations.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls};

use crate::{HubError, Result};

/// The migrations, in order; `hub_schema.version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_accounts.sql"),
    include_str!("../migrations/0002_halls.sql"),
    include_str!("../migrations/0003_feed.sql"),
    include_str!("../migrations/0004_cases.sql"),
    include_str!("../migrations/0005_follow_up_index.sql"),
    include_str!("../migrations/0006_reports.sql"),
    include_str!("../migrations/0007_settings.sql"),
    include_str!("../migrations/0008_visits.sql"),
    include_str!("../migrations/0009_identities.sql"),
    include_str!("../migrations/0010_schema_key.sql"),
    include_str!("../migrations/0011_hall_removed.sql"),
    include_str!("../migrations/0012_excluded_ratings.sql"),
];

/// A digest of `<system identifier>-<database oid>` (the OID alone where the
/// server does not offer `pg_control_system()`, as some PostgreSQL-compatible
/// databases do not).
async fn database_epoch<C: tokio_postgres::GenericClient>(c: &C) -> Result<String> {
    let oid: String = c
        .query_one(
            "SELECT oid::text FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await?
        .get(0);
    let system = c
        .query_one(
            "SELECT system_identifier::text FROM pg_control_system()",
            &[],
        )
        .await
        .ok()
        .map(|r| r.get::<_, String>(0));
    let name = match system {
        Some(s) => format!("{s}-{oid}"),
        None => format!("db-{oid}"),
    };
    // Shown without a session (health): a digest, not the server's identifiers.
    use sha2::Digest;
    Ok(hex::encode(&sha2::Sha256::digest(name.as_bytes())[..12]))
}

/// `hub_schema` must hold one row; more means a backup was restored into the
/// live database. Refused with what to do, before anything reads the version.
async fn check_schema_rows<C: tokio_postgres::GenericClient>(c: &C) -> Result<()> {
    let n: i64 = c
        .query_one("SELECT count(*) FROM hub_schema", &[])
        .await?
        .get(0);
    if n > 1 {
        return Err(HubError::Invalid(format!(
            "团队服务器数据库状态异常：hub_schema 中有 {n} 行（应为 1 行），通常是把备份恢复进了正在使用的数据库。\
             请停止团队服务器，新建一个空数据库，用 pg_restore 恢复到新库，再用新库启动（见 docs/hub-admin.md 的“恢复”）"
        )));
    }
    Ok(())
}

/// The newest schema this build knows.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// At most this many connections to PostgreSQL are open at once (requests, hall
/// syncs and deliveries together); more wait in line for one.
pub const DEFAULT_POOL_SIZE: usize = 20;

/// How long a request waits in line for a connection before it is told the hub
/// is busy.
pub const POOL_WAIT: Duration = Duration::from_secs(30);

/// How the hub reaches its database besides the connection string.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// At most this many connections (see [`DEFAULT_POOL_SIZE`]).
    pub pool_size: usize,
    /// TLS to PostgreSQL: the server's certificate must be one of this file's
    /// certificates or chain to one of them (the same exact trust as a desk's
    /// pinned hub). `None`: no TLS (a Unix socket or loopback).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            pool_size: DEFAULT_POOL_SIZE,
            ca_file: None,
        }
    }
}

/// A PostgreSQL TLS connector trusting exactly the certificates of `ca_file`.
fn tls_connector(ca_file: &std::path::Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |why: String| {
        HubError::Invalid(format!(
            "数据库证书文件 {} 无法使用：{why}",
            ca_file.display()
        ))
    };
    let meta = std::fs::metadata(ca_file).map_err(|e| bad(e.to_string()))?;
    if meta.len() > 1024 * 1024 {
        return Err(bad("超过 1 MiB，不像证书文件".into()));
    }
    let pem = std::fs::read(ca_file).map_err(|e| bad(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("文件中没有 PEM 格式的证书".into()));
    }
    let config = hcp_sync::exact_trust_config(&certs, vec![b"postgresql".to_vec()])
        .map_err(|e| bad(e.to_string()))?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The hub's database: a PostgreSQL URL (or key=value string) and a bounded pool
/// of connections reused between requests.
#[derive(Clone)]
pub struct Hub {
    url: Arc<str>,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    idle: Arc<Mutex<Vec<Client>>>,
    /// One permit per connection that may be open.
    permits: Arc<Semaphore>,
    pool_size: usize,
    /// Woken when a decision is queued for a hall (see `Hub::deliver_on_notice`).
    pub(crate) outbox_notice: Arc<Notify>,
    /// Per-process limits on expensive work (argon2, bundle checks).
    pub(crate) work: Arc<crate::limits::Work>,
    /// Which database this is (see [`Hub::epoch`]).
    epoch: Arc<str>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

/// A connection borrowed from the hub; handed back when dropped unless broken.
pub(crate) struct Conn {
    client: Option<Client>,
    idle: Arc<Mutex<Vec<Client>>>,
    max_idle: usize,
    /// Handed back when the connection is dropped (kept idle or closed).
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a connection until dropped or discarded")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("a connection until dropped")
    }
}

impl Conn {
    /// Closes the connection instead of handing it back (its session state, such
    /// as an advisory lock, could not be cleaned up).
    pub(crate) fn discard(&mut self) {
        self.client = None;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(c) = self.client.take()
            && !c.is_closed()
            && let Ok(mut idle) = self.idle.try_lock()
            && idle.len() < self.max_idle
        {
            idle.push(c);
        }
    }
}

async fn connect(
    url: &str,
    tls: Option<&tokio_postgres_rustls::MakeRustlsConnect>,
) -> Result<Client> {
    let Some(tls) = tls else {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "hub database connection ended");
            }
        });
        return Ok(client);
    };
    // With a certificate file, TLS is required: never a fallback to clear text.
    let mut config: tokio_postgres::Config = url.parse()?;
    config.ssl_mode(tokio_postgres::config::SslMode::Require);
    let (client, connection) = config.connect(tls.clone()).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "hub database connection ended");
        }
    });
    Ok(client)
}

impl Hub {
    /// Opens the hub on an initialised database (see [`Hub::init`]).
    pub async fn open(url: &str) -> Result<Hub> {
        Hub::open_with(url, &DbOptions::default()).await
    }

    /// [`Hub::open`] with a pool size and TLS to the database.
    pub async fn open_with(url: &str, options: &DbOptions) -> Result<Hub> {
        let pool_size = options.pool_size.max(2);
        let tls = options.ca_file.as_deref().map(tls_connector).transpose()?;
        let hub = Hub {
            url: url.into(),
            tls,
            idle: Arc::new(Mutex::new(vec![])),
            permits: Arc::new(Semaphore::new(pool_size)),
            pool_size,
            outbox_notice: Arc::new(Notify::new()),
            work: Arc::new(crate::limits::Work::new()),
            epoch: Arc::from(""),
        };
        let c = hub.conn().await?;
        let exists: bool = c
            .query_one("SELECT to_regclass('hub_schema') IS NOT NULL", &[])
            .await?
            .get(0);
        if !exists {
            return Err(HubError::NotInitialised);
        }
        check_schema_rows(&*c).await?;
        let found: i32 = c
            .query_one("SELECT version FROM hub_schema", &[])
            .await?
            .get(0);
        if found > SCHEMA_VERSION {
            return Err(HubError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(HubError::Invalid(format!(
                "团队服务器数据库版本为 {found}，需要 {SCHEMA_VERSION}：请先运行 hcp hub init --pg … 升级"
            )));
        }
        let epoch = database_epoch(&*c).await?;
        drop(c);
        Ok(Hub {
            epoch: Arc::from(epoch),
            ..hub
        })
    }

    /// Which database the hub serves: a digest of the PostgreSQL cluster's system
    /// identifier and the database's OID. A backup restored into a new database, or onto
    /// another server, is another epoch: desks that replicated the old one see
    /// the change and stop instead of staying silently ahead of the hub.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Creates or upgrades the schema; returns the version before. Safe to run
    /// again, and from two processes at once (the second waits, then finds
    /// nothing to do).
    pub async fn init(url: &str) -> Result<i32> {
        Hub::init_with(url, &DbOptions::default()).await
    }

    /// [`Hub::init`] with TLS to the database as `options` say.
    pub async fn init_with(url: &str, options: &DbOptions) -> Result<i32> {
        let tls = options.ca_file.as_deref().map(tls_connector).transpose()?;
        let mut c = connect(url, tls.as_ref()).await?;
        // Two processes creating it at once: PostgreSQL may answer the loser with a
        // unique or duplicate-table error although the table now exists.
        if let Err(e) = c
            .batch_execute("CREATE TABLE IF NOT EXISTS hub_schema (version INTEGER NOT NULL)")
            .await
        {
            use tokio_postgres::error::SqlState;
            let raced = e.code().is_some_and(|c| {
                [
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::DUPLICATE_TABLE,
                    SqlState::DUPLICATE_OBJECT,
                ]
                .contains(c)
            });
            if !raced {
                return Err(e.into());
            }
        }
        let tx = c.transaction().await?;
        tx.batch_execute("LOCK TABLE hub_schema IN EXCLUSIVE MODE")
            .await?;
        check_schema_rows(&tx).await?;
        let row = tx.query_opt("SELECT version FROM hub_schema", &[]).await?;
        let before: i32 = match row {
            Some(r) => r.get(0),
            None => {
                tx.execute("INSERT INTO hub_schema (version) VALUES (0)", &[])
                    .await?;
                0
            }
        };
        if before > SCHEMA_VERSION {
            return Err(HubError::NewerSchema {
                found: before,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(before as usize) {
            tx.batch_execute(sql).await?;
            tx.execute("UPDATE hub_schema SET version = $1", &[&(i as i32 + 1)])
                .await?;
            tracing::info!(version = i + 1, "applied hub migration");
        }
        tx.commit().await?;
        Ok(before)
    }

    /// A connection: an idle one, or a new one once fewer than the pool's size
    /// are open — waiting in line up to [`POOL_WAIT`] for one, then
    /// [`HubError::Busy`].
    pub(crate) async fn conn(&self) -> Result<Conn> {
        let permit = tokio::time::timeout(POOL_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HubError::Busy)?
            .map_err(|_| HubError::Busy)?;
        let idle = self.idle.lock().await.pop();
        let client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => connect(&self.url, self.tls.as_ref()).await?,
        };
        Ok(Conn {
            client: Some(client),
            idle: self.idle.clone(),
            max_idle: self.pool_size,
            _permit: permit,
        })
    }

    /// Whether PostgreSQL answers (`SELECT 1` on a pooled connection).
    /// A pooled connection the server closed (a restart) is dropped and the
    /// question asked once more on a new one.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.conn().await?;
        if c.simple_query("SELECT 1").await.is_ok() {
            return Ok(());
        }
        c.discard();
        drop(c);
        self.conn().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    /// How many connections to PostgreSQL this hub may open.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }
}
