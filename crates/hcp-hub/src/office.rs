//! 设置 → 发文机关, kept on the hub for the whole office: every desk signs and
//! numbers its 通报 (a 公文) with the same office, and takes it from the hub with
//! each exchange. An administrator sets it (`hcp hub office`); audited.

use hcp_core::office::Office;

use crate::accounts::Operator;
use crate::{Hub, HubError, Result};

const OFFICE_KEY: &str = "report.office";

impl Hub {
    /// The office's 发文机关, if set.
    pub async fn office(&self) -> Result<Option<Office>> {
        let c = self.conn().await?;
        let Some(row) = c
            .query_opt(
                "SELECT value FROM hub_settings WHERE key = $1",
                &[&OFFICE_KEY],
            )
            .await?
        else {
            return Ok(None);
        };
        let v: String = row.get(0);
        Ok(serde_json::from_str(&v).ok())
    }

    /// Sets the office's 发文机关 (checked; audited).
    pub async fn set_office(&self, office: Office, by: Operator<'_>) -> Result<Office> {
        let office = office.checked().map_err(HubError::Invalid)?;
        let json = serde_json::to_string(&office).map_err(|e| HubError::Invalid(e.to_string()))?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        crate::settings::put_setting(&tx, OFFICE_KEY, &json, "office_settings", &json, by).await?;
        tx.commit().await?;
        Ok(office)
    }
}
