//! The audit log (全过程留痕): append-only rows, each holding the sha256 of the row
//! before it. [`Store::verify_audit`] walks the chain and names the first row that
//! was altered or removed.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Result, Store, now_text};

/// The hash the first row chains to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is written to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry<'a> {
    /// Who (a person's name, or `同步` for the sync).
    pub actor: &'a str,
    /// Their role: officer | shopper | director | system.
    pub role: &'a str,
    /// What it is about, e.g. `hall:340825-ZWFW`, `case:12`.
    pub subject: &'a str,
    /// What happened, e.g. `hall_added`, `verify`.
    pub action: &'a str,
    /// The details (JSON text), including the content hash of what was signed.
    pub detail: &'a str,
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// Position in the log.
    pub seq: i64,
    /// When (UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// Role.
    pub role: String,
    /// About what.
    pub subject: String,
    /// What happened.
    pub action: String,
    /// Details (JSON).
    pub detail: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditCheck {
    /// Rows read.
    pub rows: i64,
    /// The first row found altered or missing, and why (zh-CN); `None` when intact.
    pub broken_at: Option<(i64, String)>,
}

fn row_hash(prev: &str, seq: i64, r: &AuditRow) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &r.at,
        &r.actor,
        &r.role,
        &r.subject,
        &r.action,
        &r.detail,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

impl Store {
    /// Appends a row in its own transaction; returns its seq.
    pub fn append_audit(&mut self, e: &AuditEntry<'_>) -> Result<i64> {
        let tx = self.write_tx()?;
        let seq = append_in(&tx, e)?;
        tx.commit()?;
        Ok(seq)
    }

    /// The head of the chain: the last row's seq and hash (`None` while empty).
    /// Printed by `hcp audit verify` and on every issued report, so that a later
    /// rewrite of the whole log shows against any copy on paper.
    pub fn audit_head(&self) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The newest `limit` rows, newest first.
    pub fn audit_rows(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, role, subject, action, detail FROM audit_log
             ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], audit_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Walks the whole chain: every row's hash, its link to the row before, no gap
    /// in the sequence and nothing cut from the end.
    pub fn verify_audit(&self) -> Result<AuditCheck> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, role, subject, action, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut prev_hash = GENESIS.to_string();
        let mut prev_seq = 0i64;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let row = audit_from_row(r)?;
            let stored_prev: String = r.get(7)?;
            let stored_hash: String = r.get(8)?;
            n += 1;
            let broken = if row.seq != prev_seq + 1 {
                Some((
                    prev_seq + 1,
                    format!("第 {} 条缺失（已被删除）", prev_seq + 1),
                ))
            } else if stored_prev != prev_hash {
                Some((
                    row.seq,
                    format!("第 {} 条与前一条的链接不符（前一条被改动或删除）", row.seq),
                ))
            } else if row_hash(&prev_hash, row.seq, &row) != stored_hash {
                Some((row.seq, format!("第 {} 条的内容已被修改", row.seq)))
            } else {
                None
            };
            if broken.is_some() {
                return Ok(AuditCheck {
                    rows: n,
                    broken_at: broken,
                });
            }
            prev_hash = stored_hash;
            prev_seq = row.seq;
        }
        let highest: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(h) = highest
            && h > prev_seq
        {
            return Ok(AuditCheck {
                rows: n,
                broken_at: Some((
                    prev_seq + 1,
                    format!("第 {} 条及之后的记录已被删除", prev_seq + 1),
                )),
            });
        }
        Ok(AuditCheck {
            rows: n,
            broken_at: None,
        })
    }
}

/// Appends inside the caller's transaction (so a state change and its audit row
/// commit together).
/// [`append_in`] for a person's (or the sync's) act: the row names `who`.
pub(crate) fn audit_in(
    tx: &rusqlite::Transaction<'_>,
    who: crate::Who<'_>,
    subject: &str,
    action: &str,
    detail: &str,
) -> Result<i64> {
    append_in(
        tx,
        &AuditEntry {
            actor: who.name,
            role: who.actor.as_str(),
            subject,
            action,
            detail,
        },
    )
}

pub(crate) fn append_in(tx: &rusqlite::Transaction<'_>, e: &AuditEntry<'_>) -> Result<i64> {
    let (last_seq, prev): (i64, String) = tx
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let seq = last_seq + 1;
    let row = AuditRow {
        seq,
        at: now_text(),
        actor: e.actor.to_owned(),
        role: e.role.to_owned(),
        subject: e.subject.to_owned(),
        action: e.action.to_owned(),
        detail: e.detail.to_owned(),
    };
    let hash = row_hash(&prev, seq, &row);
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, role, subject, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        seq,
        row.at,
        row.actor,
        row.role,
        row.subject,
        row.action,
        row.detail,
        prev,
        hash
    ])?;
    Ok(seq)
}

fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        role: r.get(3)?,
        subject: r.get(4)?,
        action: r.get(5)?,
        detail: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> String {
        format!("{{\"n\":{n}}}")
    }

    fn store_with_rows(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path().join("hcp.db")).unwrap();
        for i in 0..n {
            let d = entry(i);
            s.append_audit(&AuditEntry {
                actor: "陈静",
                role: "officer",
                subject: "case:1",
                action: "verify",
                detail: &d,
            })
            .unwrap();
        }
        (dir, s)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (_d, s) = store_with_rows(5);
        assert_eq!(
            s.verify_audit().unwrap(),
            AuditCheck {
                rows: 5,
                broken_at: None
            }
        );
        assert_eq!(s.audit_rows(2).unwrap()[0].seq, 5);
        let (seq, hash) = s.audit_head().unwrap().unwrap();
        assert_eq!(seq, 5);
        assert_eq!(hash.len(), 64);
    }

    #[test]
    fn the_log_refuses_updates_and_deletes() {
        let (_d, s) = store_with_rows(2);
        let e = s
            .conn
            .execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1", [])
            .unwrap_err();
        assert!(e.to_string().contains("只能追加"), "{e}");
        assert!(s.conn.execute("DELETE FROM audit_log", []).is_err());
    }

    #[test]
    fn an_edited_a_removed_and_a_cut_row_are_each_named() {
        let tamper = |sql: &str| {
            let (d, s) = store_with_rows(5);
            s.conn
                .execute_batch(&format!(
                    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}"
                ))
                .unwrap();
            let r = s.verify_audit().unwrap().broken_at.unwrap();
            drop(d);
            r
        };
        assert_eq!(
            tamper("UPDATE audit_log SET detail = '{}' WHERE seq = 3").0,
            3
        );
        let removed = tamper("DELETE FROM audit_log WHERE seq = 2");
        assert_eq!(removed.0, 2);
        assert!(removed.1.contains("删除"), "{}", removed.1);
        let cut = tamper("DELETE FROM audit_log WHERE seq >= 4");
        assert_eq!(cut.0, 4);
    }
}
