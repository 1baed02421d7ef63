//! Mystery-shopper visits handed in by upload. The shopper's installation sends
//! the same signed `.hcpv` bundle it would put on a USB stick; the hub checks it
//! exactly as an officer's desk does (both signatures, every sum, the checklist),
//! keeps it verbatim and ties it to the signed-in account. Officers take the
//! bundles from the visit feed and review them on their desks.
//!
//! Who may hand in what: the shopper the bundle is signed as must be the account
//! uploading it, and a signing key belongs to the first account that handed in
//! with it (moving it is an administrator's step, audited). A visit belongs to
//! the account and the key that first handed it in: a newer revision must come
//! from both again, so one shopper cannot replace another's report, nor a stolen
//! session replace it with another key's.

use hcp_core::Capability;
use hcp_core::hub::{HubVisit, VisitPage, VisitUploadResult};
use sha2::{Digest, Sha256};

use crate::audit::{Entry, append};
use crate::{Account, Hub, HubError, Result};

/// Serialises the visit feed's numbering (held to commit).
const VISIT_FEED_LOCK: i64 = 0x4843_5056; // "HCPV"

pub use hcp_core::hub::MAX_VISIT_BYTES;

/// Who reads which visits: an officer all, a shopper his own; nobody else.
fn visit_reader(who: &Account) -> Result<Option<&str>> {
    if who.may(Capability::ReviewVisits) {
        Ok(None)
    } else if who.may(Capability::FileVisits) {
        Ok(Some(&who.name))
    } else {
        Err(HubError::Forbidden(format!(
            "账号 {} 无权查看暗访记录",
            who.name
        )))
    }
}

const VISIT_COLUMNS: &str = r#"v.change_seq, v.visit_id, v.rev, v.hall_id, v.account, v.signer_key, v.sha256,
     octet_length(v.bundle)::bigint, to_char(v.uploaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#;

fn visit_of(r: &tokio_postgres::Row) -> HubVisit {
    let key: String = r.get(5);
    HubVisit {
        seq: r.get(0),
        visit_id: r.get(1),
        rev: i64::from(r.get::<_, i32>(2)),
        hall_id: r.get(3),
        shopper: r.get(4),
        fingerprint: hcp_bundle::fingerprint_hex(&key),
        sha256: r.get(6),
        size: r.get(7),
        uploaded_at: r.get(8),
    }
}

impl Hub {
    /// Takes a hand-in bundle from a shopper (audited). The same revision again is
    /// `unchanged`; a newer one from the same account and key `replaced`.
    pub async fn upload_visit(&self, who: &Account, bundle: Vec<u8>) -> Result<VisitUploadResult> {
        if !who.may(Capability::FileVisits) {
            return Err(HubError::Forbidden("只有暗访员账号可以上传暗访交件".into()));
        }
        if bundle.len() > MAX_VISIT_BYTES {
            return Err(HubError::Invalid(format!(
                "交件文件过大（上限 {} MB）",
                MAX_VISIT_BYTES >> 20
            )));
        }
        // Signature checks and unzipping are CPU work: off the async workers. Only
        // visit.json is kept; photos are hashed as they stream (see inspect_handin).
        let (bundle, info) = tokio::task::spawn_blocking(move || {
            let info = hcp_bundle::inspect_handin(&bundle);
            (bundle, info)
        })
        .await
        .map_err(|e| HubError::Invalid(format!("交件检查中断：{e}")))?;
        let info = info.map_err(|e| HubError::Invalid(e.to_string()))?;
        if info.shopper != who.name {
            return Err(HubError::Forbidden(format!(
                "该交件的暗访员为 “{}”，与登录账号 {} 不符：只能上传本人填写并签名的交件",
                hcp_core::ident::printable(&info.shopper),
                who.name
            )));
        }
        let sha = hex::encode(Sha256::digest(&bundle));
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&VISIT_FEED_LOCK])
            .await?;
        let hall = tx
            .query_opt(
                "SELECT 1 FROM hub_halls WHERE hall_id = $1",
                &[&info.hall_id],
            )
            .await?;
        if hall.is_none() {
            return Err(HubError::Invalid(format!(
                "交件中的大厅 “{}” 未在团队服务器登记",
                info.hall_id
            )));
        }
        // The key is the first uploader's (uploads are serialised by the lock above).
        let bound: Option<String> = tx
            .query_opt(
                "SELECT account FROM hub_signer_keys WHERE signer_key = $1",
                &[&info.signer_key],
            )
            .await?
            .map(|r| r.get(0));
        let key_bound_now = match bound {
            Some(account) if account != who.name => {
                return Err(HubError::Forbidden(format!(
                    "指纹为 {} 的签名密钥已绑定另一暗访员账号；如该电脑已转交他人，请管理员解除绑定（hcp hub user unbind-keys）",
                    info.fingerprint
                )));
            }
            Some(_) => false,
            None => {
                tx.execute(
                    "INSERT INTO hub_signer_keys (signer_key, account) VALUES ($1, $2)",
                    &[&info.signer_key, &who.name],
                )
                .await?;
                true
            }
        };
        let stored = tx
            .query_opt(
                "SELECT account, signer_key, rev FROM hub_visits WHERE visit_id = $1",
                &[&info.visit_id],
            )
            .await?;
        let status = match stored {
            None => "new",
            Some(r) => {
                let (account, key, rev): (String, String, i32) = (r.get(0), r.get(1), r.get(2));
                if account != who.name {
                    return Err(HubError::Forbidden(
                        "该暗访记录已由另一暗访员账号交件，不能替换".into(),
                    ));
                }
                if key != info.signer_key {
                    return Err(HubError::Forbidden(format!(
                        "该暗访记录此前由另一把密钥签名，不能用指纹为 {} 的密钥签名的交件替换",
                        info.fingerprint
                    )));
                }
                if i64::from(rev) >= info.rev {
                    if key_bound_now {
                        tx.commit().await?;
                    }
                    return Ok(VisitUploadResult {
                        visit_id: info.visit_id,
                        rev: i64::from(rev),
                        status: "unchanged".into(),
                    });
                }
                "replaced"
            }
        };
        let rev =
            i32::try_from(info.rev).map_err(|_| HubError::Invalid("交件版本号过大".into()))?;
        tx.execute(
            "INSERT INTO hub_visits (visit_id, hall_id, account, signer_key, rev, bundle, sha256,
                change_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, nextval('hub_visit_seq'))
             ON CONFLICT (visit_id) DO UPDATE SET rev = excluded.rev, bundle = excluded.bundle,
                sha256 = excluded.sha256, uploaded_at = now(), change_seq = excluded.change_seq",
            &[
                &info.visit_id,
                &info.hall_id,
                &who.name,
                &info.signer_key,
                &rev,
                &bundle,
                &sha,
            ],
        )
        .await?;
        let detail = serde_json::json!({
            "rev": info.rev, "hall_id": info.hall_id, "status": status,
            "signer": info.fingerprint, "sha256": sha, "size": bundle.len(),
            "key_bound": key_bound_now,
        })
        .to_string();
        append(
            &tx,
            &Entry {
                actor: &who.name,
                role: who.role,
                subject: &format!("visit:{}", info.visit_id),
                action: "visit_uploaded",
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(VisitUploadResult {
            visit_id: info.visit_id,
            rev: info.rev,
            status: status.into(),
        })
    }

    /// Frees every signing key bound to `account` (a laptop handed to another
    /// shopper, a key lost): the next account to hand in with one binds it.
    /// Audited; returns how many were freed.
    pub async fn unbind_keys(&self, account: &str, by: crate::Operator<'_>) -> Result<u64> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let exists = tx
            .query_opt("SELECT 1 FROM hub_accounts WHERE name = $1", &[&account])
            .await?;
        if exists.is_none() {
            return Err(HubError::UnknownAccount(account.to_owned()));
        }
        let keys: Vec<String> = tx
            .query(
                "DELETE FROM hub_signer_keys WHERE account = $1 RETURNING signer_key",
                &[&account],
            )
            .await?
            .iter()
            .map(|r| hcp_bundle::fingerprint_hex(&r.get::<_, String>(0)))
            .collect();
        let detail = serde_json::json!({ "fingerprints": keys }).to_string();
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("account:{account}"),
                action: "signer_keys_unbound",
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(keys.len() as u64)
    }

    /// The visit feed after `after` (`v{N}`), scoped to the account.
    pub async fn visit_changes(
        &self,
        who: &Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<VisitPage> {
        let account = visit_reader(who)?;
        let after = crate::feed::parse_cursor('v', after)?;
        let limit = limit
            .unwrap_or(crate::DEFAULT_PAGE_LIMIT)
            .clamp(1, hcp_core::wire::MAX_PAGE_LIMIT);
        let c = self.conn().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {VISIT_COLUMNS} FROM hub_visits v
                     WHERE v.change_seq > $1 AND ($2::text IS NULL OR v.account = $2)
                     ORDER BY v.change_seq LIMIT $3"
                ),
                &[&after, &account, &i64::from(limit)],
            )
            .await?;
        let visits: Vec<HubVisit> = rows.iter().map(visit_of).collect();
        let next = visits.last().map_or(after, |v| v.seq);
        Ok(VisitPage {
            more: visits.len() as u32 == limit,
            visits,
            next: format!("v{next}"),
        })
    }

    /// A visit's bundle as it was uploaded (the account must be able to read it).
    pub async fn visit_bundle(&self, who: &Account, visit_id: &str) -> Result<Vec<u8>> {
        let account = visit_reader(who)?;
        let c = self.conn().await?;
        let row = c
            .query_opt(
                "SELECT bundle FROM hub_visits
                 WHERE visit_id = $1 AND ($2::text IS NULL OR account = $2)",
                &[&visit_id, &account],
            )
            .await?;
        row.map(|r| r.get(0)).ok_or_else(|| {
            HubError::NotFound(format!(
                "没有编号为 “{}” 的暗访交件",
                hcp_core::ident::printable(visit_id)
            ))
        })
    }
}
