//! The hub's audit log: every change, by the authenticated account, chained by
//! hash like the desktop's log so an edited or deleted row is found.

use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;

use crate::{Hub, Result};

/// The hash before the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry to append.
pub(crate) struct Entry<'a> {
    pub actor: &'a str,
    pub role: &'a str,
    pub subject: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
}

fn row_hash(prev: &str, seq: i64, at: &str, e: &Entry<'_>) -> String {
    // A JSON array: no field can run into the next.
    let text = serde_json::json!([
        prev, seq, at, e.actor, e.role, e.subject, e.action, e.detail
    ])
    .to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Appends `e` inside `tx` (the change it records commits with it). Appends are
/// serialised by a table lock, so two hub processes keep one chain.
pub(crate) async fn append(tx: &Transaction<'_>, e: &Entry<'_>) -> Result<i64> {
    tx.batch_execute("LOCK TABLE hub_audit IN EXCLUSIVE MODE")
        .await?;
    let last = tx
        .query_opt(
            "SELECT seq, hash FROM hub_audit ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    let (seq, prev) = match last {
        Some(r) => (r.get::<_, i64>(0) + 1, r.get::<_, String>(1)),
        None => (1, GENESIS.to_owned()),
    };
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let hash = row_hash(&prev, seq, &at, e);
    tx.execute(
        "INSERT INTO hub_audit (seq, at, actor, role, subject, action, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &seq, &at, &e.actor, &e.role, &e.subject, &e.action, &e.detail, &prev, &hash,
        ],
    )
    .await?;
    Ok(seq)
}

/// The last row of the chain: its sequence number and hash. Kept outside the
/// database (printed by `hcp hub audit verify`), it lets a later check notice
/// rows deleted from the end, which the chain alone cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number of the row.
    pub seq: i64,
    /// Its hash (64 hex digits).
    pub hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for AuditHead {
    type Err = crate::HubError;
    fn from_str(s: &str) -> Result<AuditHead> {
        let bad = || {
            crate::HubError::Invalid(
                "审计日志头应写作 序号:哈希（hcp hub audit verify 输出的 HEAD=…）".into(),
            )
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(AuditHead {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// What a check of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every row is where the chain says, with its hash.
    Intact {
        /// Rows checked.
        rows: i64,
        /// The last row (none for an empty log).
        head: Option<AuditHead>,
    },
    /// The first row that does not fit.
    Broken {
        /// Its sequence number (or where one is missing).
        seq: i64,
        /// What is wrong, zh-CN.
        reason: String,
    },
}

/// Walks the whole chain, a row at a time (the log is never loaded whole). With
/// `expect`, a head noted earlier must still be in it, with the same hash.
pub async fn verify_audit(hub: &Hub, expect: Option<&AuditHead>) -> Result<AuditCheck> {
    use futures::StreamExt;
    let c = hub.conn().await?;
    let rows = c
        .query_raw(
            "SELECT seq, at, actor, role, subject, action, detail, prev_hash, hash
             FROM hub_audit ORDER BY seq",
            std::iter::empty::<&(dyn tokio_postgres::types::ToSql + Sync)>(),
        )
        .await?;
    let mut rows = std::pin::pin!(rows);
    let mut prev = GENESIS.to_owned();
    let mut expected = 1i64;
    let mut head = None;
    while let Some(r) = rows.next().await {
        let r = r?;
        let seq: i64 = r.get(0);
        if seq != expected {
            return Ok(AuditCheck::Broken {
                seq: expected,
                reason: format!("缺少第 {expected} 条记录"),
            });
        }
        let stored_prev: String = r.get(7);
        if stored_prev != prev {
            return Ok(AuditCheck::Broken {
                seq,
                reason: "与上一条记录的链接不符".into(),
            });
        }
        let (at, actor, role, subject, action, detail): (
            String,
            String,
            String,
            String,
            String,
            String,
        ) = (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
        let e = Entry {
            actor: &actor,
            role: &role,
            subject: &subject,
            action: &action,
            detail: &detail,
        };
        let hash: String = r.get(8);
        if row_hash(&prev, seq, &at, &e) != hash {
            return Ok(AuditCheck::Broken {
                seq,
                reason: "记录内容与其校验值不符（被修改过）".into(),
            });
        }
        if let Some(x) = expect
            && x.seq == seq
            && x.hash != hash
        {
            return Ok(AuditCheck::Broken {
                seq,
                reason: "与此前记下的审计日志头不符（日志被替换过）".into(),
            });
        }
        prev = hash;
        head = Some(seq);
        expected += 1;
    }
    let rows = expected - 1;
    if let Some(x) = expect
        && x.seq > rows
    {
        return Ok(AuditCheck::Broken {
            seq: rows + 1,
            reason: format!(
                "日志只到第 {rows} 条，此前记下的日志头为第 {} 条：末尾的记录被删除过",
                x.seq
            ),
        });
    }
    Ok(AuditCheck::Intact {
        rows,
        head: head.map(|seq| AuditHead { seq, hash: prev }),
    })
}
