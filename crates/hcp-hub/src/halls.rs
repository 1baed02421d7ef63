//! The halls an office's hub syncs. An administrator registers a hall by its URL
//! and token; the hub asks the hall who it is (`v1/hall`) before keeping it. The
//! token stays in the hub's database: nothing the hub answers contains it.

use std::path::Path;

use hcp_sync::{HallEndpoint, SyncOptions, Token};
use serde::Serialize;

use crate::accounts::Operator;
use crate::audit::{Entry, append};
use crate::{Hub, HubError, Result};

/// A hall as the hub lists it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubHall {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Where its server is (only on the hub's own machine: not given to desks).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    /// Taken off the hub (`hub hall remove`): its records stay readable, it is not
    /// synced any more.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub removed: bool,
}

/// What removing a hall does, or did (`hub hall remove`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallRemoval {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Records (evaluations, appeals, rectifications) the hub holds of it.
    pub records: i64,
    /// Its cases not closed, which stay as they are (no follow-up will arrive).
    pub open_cases: i64,
    /// Its closed cases.
    pub closed_cases: i64,
    /// Decisions for it not delivered yet, marked undeliverable.
    pub undelivered: i64,
    /// Its visits handed in.
    pub visits: i64,
    /// Its directors' accounts, disabled.
    pub directors: Vec<String>,
    /// Nothing of it was kept (no records, cases or visits): the row is deleted.
    pub deleted: bool,
    /// Whether it was carried out (`false`: only what it would do).
    pub done: bool,
}

impl Hub {
    /// Registers (or updates) the hall at `url` with `token` (audited). The hall
    /// must answer `v1/hall` with that token and a plain hall code.
    pub async fn add_hall(
        &self,
        url: &str,
        token: &str,
        ca_file: Option<&Path>,
        by: Operator<'_>,
    ) -> Result<(HubHall, bool)> {
        if token.trim().is_empty() || token.len() > 4096 {
            return Err(HubError::Invalid("大厅令牌为空或过长".into()));
        }
        let ep = HallEndpoint {
            hall_id: String::new(),
            base_url: url.to_owned(),
            token: Token::new(token.to_owned()),
            ca_file: ca_file.map(Path::to_path_buf),
        };
        let mut opts = SyncOptions::default();
        opts.retry.max_attempts = 3;
        let profile = hcp_sync::fetch_profile(&ep, &opts)
            .await
            .map_err(|e| HubError::Invalid(format!("无法添加大厅：{e}")))?;
        hcp_core::ident::check_hall_id(&profile.hall_id)
            .map_err(|e| HubError::Invalid(format!("该大厅服务器返回的{e}，无法添加")))?;
        let profile_json =
            serde_json::to_string(&profile).map_err(|e| HubError::Invalid(e.to_string()))?;
        let ca = ca_file.map(|p| p.display().to_string());
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let existed = tx
            .query_opt(
                "SELECT 1 FROM hub_halls WHERE hall_id = $1 FOR UPDATE",
                &[&profile.hall_id],
            )
            .await?
            .is_some();
        tx.execute(
            "INSERT INTO hub_halls (hall_id, name, base_url, token, ca_file, profile_json, added_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (hall_id) DO UPDATE SET name = excluded.name,
                base_url = excluded.base_url, token = excluded.token, ca_file = excluded.ca_file,
                profile_json = excluded.profile_json, updated_at = now(),
                removed_at = NULL, removed_by = NULL",
            &[
                &profile.hall_id,
                &profile.name,
                &url,
                &token,
                &ca,
                &profile_json,
                &by.name,
            ],
        )
        .await?;
        // The audit row names the hall and where it is, never the token.
        let detail =
            serde_json::json!({ "name": profile.name, "url": url, "ca_file": ca }).to_string();
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("hall:{}", profile.hall_id),
                action: if existed {
                    "hall_updated"
                } else {
                    "hall_added"
                },
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((
            HubHall {
                hall_id: profile.hall_id,
                name: profile.name,
                base_url: url.to_owned(),
                removed: false,
            },
            !existed,
        ))
    }

    /// The registered halls, by code.
    pub async fn halls(&self) -> Result<Vec<HubHall>> {
        let c = self.conn().await?;
        Ok(c.query(
            "SELECT hall_id, name, base_url, removed_at IS NOT NULL FROM hub_halls
             ORDER BY hall_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| HubHall {
            hall_id: r.get(0),
            name: r.get(1),
            base_url: r.get(2),
            removed: r.get(3),
        })
        .collect())
    }

    /// Takes a hall off the hub (audited) — or, with `confirm` false, only says
    /// what that would do. A hall the hub holds nothing of (added by mistake) is
    /// deleted. Otherwise its records, cases and visits stay (the office's history:
    /// issued 通报 and desks read them) while the hub stops syncing it, forgets its
    /// token, marks its undelivered decisions undeliverable and disables its
    /// directors; its open cases stay as they are. `hall add` brings it back.
    pub async fn remove_hall(
        &self,
        hall_id: &str,
        confirm: bool,
        by: Operator<'_>,
    ) -> Result<HallRemoval> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT name, removed_at IS NOT NULL FROM hub_halls WHERE hall_id = $1 FOR UPDATE",
                &[&hall_id],
            )
            .await?
        else {
            return Err(HubError::Invalid(format!(
                "团队服务器上没有登记大厅 “{}”（hcp hub hall list 可查看）",
                hcp_core::ident::printable(hall_id)
            )));
        };
        let name: String = row.get(0);
        if row.get::<_, bool>(1) {
            return Err(HubError::Invalid(format!(
                "大厅 {hall_id}（{name}）已经移除；要恢复同步请重新 hcp hub hall add"
            )));
        }
        let count = |sql: &'static str| {
            let tx = &tx;
            async move { Ok::<i64, HubError>(tx.query_one(sql, &[&hall_id]).await?.get(0)) }
        };
        let records = count("SELECT count(*) FROM hub_records WHERE hall_id = $1").await?;
        let closed_states: Vec<&str> = hcp_core::case::CaseState::ALL
            .iter()
            .filter(|s| s.is_closed())
            .map(|s| s.as_str())
            .collect();
        let cases = tx
            .query_one(
                "SELECT count(*) FILTER (WHERE NOT (state = ANY($2))),
                        count(*) FILTER (WHERE state = ANY($2))
                 FROM hub_cases WHERE hall_id = $1",
                &[&hall_id, &closed_states],
            )
            .await?;
        let (open_cases, closed_cases): (i64, i64) = (cases.get(0), cases.get(1));
        let undelivered =
            count("SELECT count(*) FROM hub_outbox WHERE hall_id = $1 AND state = 'pending'")
                .await?;
        let visits = count("SELECT count(*) FROM hub_visits WHERE hall_id = $1").await?;
        let directors: Vec<String> = tx
            .query(
                "SELECT name FROM hub_accounts WHERE role = 'director' AND hall_id = $1
                   AND NOT disabled ORDER BY name",
                &[&hall_id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let quarantined = count("SELECT count(*) FROM hub_quarantine WHERE hall_id = $1").await?;
        let deleted = records + open_cases + closed_cases + visits + quarantined == 0;
        let mut out = HallRemoval {
            hall_id: hall_id.to_owned(),
            name,
            records,
            open_cases,
            closed_cases,
            undelivered,
            visits,
            directors,
            deleted,
            done: false,
        };
        if !confirm {
            return Ok(out);
        }
        for d in &out.directors {
            tx.execute(
                "UPDATE hub_accounts SET disabled = TRUE WHERE name = $1",
                &[d],
            )
            .await?;
            crate::accounts::end_sessions(&tx, d, "account_disabled", by).await?;
        }
        if deleted {
            // Accounts of the hall (disabled above) keep their hall code: the
            // director's name stays in the audit log with it.
            tx.execute("DELETE FROM hub_halls WHERE hall_id = $1", &[&hall_id])
                .await?;
        } else {
            tx.execute(
                "UPDATE hub_halls SET removed_at = now(), removed_by = $2, token = '',
                    updated_at = now()
                 WHERE hall_id = $1",
                &[&hall_id, &by.name],
            )
            .await?;
            tx.execute(
                "UPDATE hub_outbox SET state = 'undeliverable', settled_at = now(),
                    last_error = '大厅已从团队服务器移除'
                 WHERE hall_id = $1 AND state = 'pending'",
                &[&hall_id],
            )
            .await?;
        }
        let detail = serde_json::json!({
            "name": out.name, "records": out.records, "open_cases": out.open_cases,
            "closed_cases": out.closed_cases, "undelivered": out.undelivered,
            "visits": out.visits, "directors_disabled": out.directors, "deleted": deleted,
        })
        .to_string();
        append(
            &tx,
            &Entry {
                actor: by.name,
                role: by.role,
                subject: &format!("hall:{hall_id}"),
                action: if deleted {
                    "hall_deleted"
                } else {
                    "hall_removed"
                },
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        out.done = true;
        Ok(out)
    }
}
