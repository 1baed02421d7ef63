//! 电子监察预警: the month's alerts (recomputed when asked) and the officers'
//! decisions on them. Directors read their hall's; shoppers none.

use hcp_store::{AlertDetail, AlertRecompute, AlertRow, Who};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{App, AppError, AppResult, ErrorCode};

/// `alerts`' arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "AlertsArgs.ts")]
pub struct AlertsArgs {
    /// `YYYY-MM`; the current month (Beijing) when absent.
    #[serde(default)]
    pub month: Option<String>,
    /// One rule only (`spike`, `repeat_rater`, `concentrated`, `praise_burst`,
    /// `serial_run`, `malicious_rater`).
    #[serde(default)]
    pub rule: Option<String>,
    /// 重新计算整月 (every hall's alerts of the month, not only what the last
    /// writes touched; officers only).
    #[serde(default)]
    #[ts(optional)]
    pub recompute: Option<bool>,
}

/// A month's alerts and what the recompute did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "AlertList.ts")]
pub struct AlertList {
    /// The month.
    pub month: String,
    /// The recompute.
    pub recompute: AlertRecompute,
    /// The alerts, newest first.
    pub alerts: Vec<AlertRow>,
}

/// `decide_alert`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "DecideAlertArgs.ts")]
pub struct DecideAlertArgs {
    /// The alert.
    pub alert_id: i64,
    /// `acknowledged` (确认) or `dismissed` (排除).
    pub state: String,
    /// 处置说明.
    pub note: String,
}

/// `alert_detail`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "AlertDetailArgs.ts")]
pub struct AlertDetailArgs {
    /// The alert.
    pub alert_id: i64,
}

impl App {
    /// 预警：本月（或指定月份）重新计算后的预警列表。
    pub async fn alerts(&self, a: AlertsArgs) -> AppResult<AlertList> {
        let month = a.month.map(|m| m.trim().to_owned()).unwrap_or_else(|| {
            chrono::Utc::now()
                .with_timezone(&hcp_core::metrics::beijing())
                .format("%Y-%m")
                .to_string()
        });
        if let Some(r) = &a.rule
            && hcp_core::warning::Rule::parse(r).is_none()
        {
            let known: Vec<&str> = hcp_core::warning::Rule::ALL
                .iter()
                .map(|r| r.as_str())
                .collect();
            return Err(AppError::invalid(format!(
                "未知的预警类型 “{}”，可用：{}",
                hcp_core::ident::printable(r),
                known.join("、")
            )));
        }
        self.with_store(move |s| {
            let (p, _) = crate::cases::load_profile(s)?;
            if !p.role.may(hcp_core::Capability::ViewAlerts) {
                return Err(AppError::new(ErrorCode::Forbidden, "暗访员不能查看预警"));
            }
            let hall = crate::cases::scoped_hall(s, None)?;
            let recompute = if a.recompute == Some(true) {
                if hall.is_some() {
                    return Err(AppError::new(
                        ErrorCode::Forbidden,
                        "只有督查员可以重新计算整月的预警",
                    ));
                }
                s.recompute_alerts(&month)?
            } else {
                // Only what a write touched since the last recompute is computed.
                s.recompute_due_alerts()?
                    .into_iter()
                    .find(|(m, _)| *m == month)
                    .map(|(_, r)| r)
                    .unwrap_or_default()
            };
            let alerts = s
                .alerts(Some(&month), a.rule.as_deref())?
                .into_iter()
                .filter(|x| hall.as_ref().is_none_or(|h| &x.hall_id == h))
                .collect();
            Ok(AlertList {
                month,
                recompute,
                alerts,
            })
        })
        .await
    }

    /// 预警详情：依据的评价与对象的逐日序列（大厅负责人只能看本厅的）。
    pub async fn alert_detail(&self, a: AlertDetailArgs) -> AppResult<AlertDetail> {
        self.with_store(move |s| {
            let (p, _) = crate::cases::load_profile(s)?;
            if !p.role.may(hcp_core::Capability::ViewAlerts) {
                return Err(AppError::new(ErrorCode::Forbidden, "暗访员不能查看预警"));
            }
            let hall = crate::cases::scoped_hall(s, None)?;
            let d = s.alert_detail(a.alert_id)?;
            if hall.as_ref().is_some_and(|h| *h != d.alert.hall_id) {
                return Err(AppError::new(ErrorCode::Forbidden, "只能查看本大厅的预警"));
            }
            Ok(d)
        })
        .await
    }

    /// Recomputes the alerts of the months the last writes touched (after a sync,
    /// an import, the demo); a failure is logged, the next read tries again.
    pub(crate) async fn refresh_alerts(&self) {
        let done = self.with_store(|s| Ok(s.recompute_due_alerts()?)).await;
        match done {
            Ok(months) => {
                for (m, r) in months {
                    tracing::info!(month = %m, ratings = r.ratings, found = r.found, new = r.new, "alerts recomputed");
                }
            }
            Err(e) => tracing::warn!(error = %e.message, "alerts recompute failed"),
        }
    }

    /// 确认或排除一条预警（须填写处置说明，记入审计）。
    pub async fn decide_alert(&self, a: DecideAlertArgs) -> AppResult<AlertRow> {
        self.with_store(move |s| {
            let (p, _) = crate::cases::load_profile(s)?;
            if !p.role.may(hcp_core::Capability::HandleAlerts) {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "只有效能督查员可以处置预警",
                ));
            }
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            Ok(s.decide_alert(a.alert_id, a.state.trim(), &a.note, who)?)
        })
        .await
    }
}
