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
                profile_json = excluded.profile_json, updated_at = now()",
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
            },
            !existed,
        ))
    }

    /// The registered halls, by code.
    pub async fn halls(&self) -> Result<Vec<HubHall>> {
        let c = self.conn().await?;
        Ok(c.query(
            "SELECT hall_id, name, base_url FROM hub_halls ORDER BY hall_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| HubHall {
            hall_id: r.get(0),
            name: r.get(1),
            base_url: r.get(2),
        })
        .collect())
    }
}
