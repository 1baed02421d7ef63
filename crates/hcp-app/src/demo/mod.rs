//! The built-in demo: three generated halls on an embedded reference hall server,
//! with the last 60 days of ratings up to the moment the demo is loaded, worked
//! through by a demo office the way a real one works — so that a newcomer sees
//! every feature on current-looking data.
//!
//! Everything goes through the real paths: the halls' records come through the
//! feed (the generator's, and the rectifications, resubmissions and appeals the
//! demo halls "send" later, appended to the embedded server and synced); the
//! officer's steps are case-engine actions as the demo officer, each at a time
//! when an officer would have taken it (the engine records that time as the
//! action's time, the audit log the time it was recorded); visits go through a
//! task package, a shopper's installation (in a temporary folder), signed
//! hand-ins and reviews; last month's report is issued. The demo can therefore
//! never show a state the engine cannot reach.
//!
//! The build is deterministic for a given anchor (the moment it was first
//! loaded) and state-driven: a build interrupted half-way continues on the next
//! load. The anchor and the appended records are kept in the settings, so a
//! restart serves exactly the same feed again.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use hcp_core::case::{Action, Actor, CallbackResult, VerifyOutcome};
use hcp_core::metrics::beijing;
use hcp_core::visit::{Answer, ChecklistTemplate};
use hcp_hall::{RunningServer, SpanSpec};
use hcp_store::{CaseDetail, CaseFilter, Store, TaskHall, VisitFields, VisitReview, Who};

use crate::ErrorCode;
use crate::{App, AppError, AppResult, DemoLoaded, SyncArgs, random_token, register_hall};

mod month_end;
mod office;
mod server;
mod sheets;
mod visits;
use month_end::*;
use office::*;
use server::*;
use sheets::*;
use visits::*;

/// The setting that remembers the demo was loaded (its generator seed).
pub(crate) const DEMO_SETTING: &str = "demo_seed";

/// The moment the demo was first loaded (UTC, RFC 3339): its data ends there.
const ANCHOR_SETTING: &str = "demo_anchor";

/// The records the demo halls sent after the generated feed (JSON), so that a
/// restarted demo server serves the same feed.
const APPENDED_SETTING: &str = "demo_appended";

/// Set once the demo office has worked through the data.
const BUILT_SETTING: &str = "demo_built";

/// The demo's generator seed.
const DEMO_SEED: u64 = 42;

/// Evaluations over the demo's days, in three halls.
const DEMO_EVALUATIONS: usize = 6_000;

/// Days of data up to the anchor.
const DEMO_DAYS: i64 = 60;

/// The demo office's officer (the actions' name in the audit log).
pub const DEMO_OFFICER: &str = "陈静";

/// The demo's mystery shopper.
const DEMO_SHOPPER: &str = "李明";

/// A record a demo hall sent after its generated feed (kept in the settings).
type Appended = hcp_hall::DemoRecord;

/// The demo's embedded hall server, while it runs.
pub(crate) type DemoServer = RunningServer;

impl App {
    /// Starts the embedded reference hall with the demo data on 127.0.0.1,
    /// registers its halls, syncs them and — the first time — works through the
    /// data as the demo office. Loading again (or on the next start) brings the
    /// same data back and changes nothing already stored.
    pub async fn load_demo(&self) -> AppResult<DemoLoaded> {
        self.load_demo_at(Utc::now()).await
    }

    /// Brings the demo hall back after a restart when the demo had been loaded
    /// (its halls would otherwise point at a server that is gone). Does nothing
    /// otherwise.
    pub async fn resume_demo_if_loaded(&self) -> AppResult<bool> {
        let loaded = self
            .with_store(|s| Ok(s.setting(DEMO_SETTING)?.is_some()))
            .await?;
        if loaded {
            self.load_demo().await?;
        }
        Ok(loaded)
    }

    /// What both front ends do at start (the desktop window, `hcp serve-ui`): a
    /// cache where the demo was loaded gets its demo hall back; `asked` (their
    /// `--demo`) loads the demo into a cache with no halls yet. The demo never
    /// joins a cache of real halls. Returns what was loaded, if anything.
    pub async fn start_demo(&self, asked: bool) -> AppResult<Option<DemoLoaded>> {
        let empty = self.with_store(|s| Ok(s.halls()?.is_empty())).await?;
        if asked && empty {
            return Ok(Some(self.load_demo().await?));
        }
        self.resume_demo_if_loaded().await?;
        Ok(None)
    }

    /// [`App::load_demo`] as if it were `now` (the tests fix "today").
    pub async fn load_demo_at(&self, now: DateTime<Utc>) -> AppResult<DemoLoaded> {
        let (anchor, appended, built) = self
            .with_store(|s| {
                Ok((
                    s.setting(ANCHOR_SETTING)?,
                    s.setting(APPENDED_SETTING)?,
                    s.setting(BUILT_SETTING)?.is_some(),
                ))
            })
            .await?;
        let anchor = anchor
            .and_then(|a| DateTime::parse_from_rfc3339(&a).ok())
            .map_or(now, |a| a.with_timezone(&Utc));
        let mut appended: Vec<Appended> = appended
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        if !built && appended.is_empty() {
            // A hall's system sends a broken record now and then: the quarantine
            // has something to show. Kept first, like every appended record.
            appended.push(broken_record(anchor));
            let json = serde_json::to_string(&appended)
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
            self.with_store(move |s| Ok(s.set_setting(APPENDED_SETTING, Some(&json))?))
                .await?;
        }
        let ids = {
            let mut demo = self.demo.lock().await;
            if demo.is_none() {
                *demo = Some(start_server(anchor, &appended).await?);
            }
            let server = demo
                .as_ref()
                .ok_or_else(|| AppError::new(ErrorCode::Internal, "演示大厅未启动"))?;
            let mut ids = vec![];
            for hall in server.state.hall_ids() {
                let token = server.token(&hall).unwrap_or_default();
                register_hall(
                    &self.db,
                    &server.base_url(&hall),
                    hcp_sync::Token::new(token),
                    None,
                )
                .await?;
                ids.push(hall);
            }
            ids
        };
        let anchor_text = hcp_store::utc_text(anchor);
        self.with_store(move |s| {
            s.set_setting(DEMO_SETTING, Some(&DEMO_SEED.to_string()))?;
            s.set_setting(ANCHOR_SETTING, Some(&anchor_text))?;
            Ok(())
        })
        .await?;
        let result = self
            .sync_now(SyncArgs {
                halls: ids.clone(),
                ..SyncArgs::default()
            })
            .await?;
        if !built {
            self.work_through(anchor, &ids, appended).await?;
            // What the office decided goes to the halls.
            self.sync_now(SyncArgs {
                halls: ids.clone(),
                ..SyncArgs::default()
            })
            .await?;
            self.with_store(|s| Ok(s.set_setting(BUILT_SETTING, Some("1"))?))
                .await?;
        }
        Ok(DemoLoaded {
            halls: ids,
            reports: result.reports,
        })
    }

    /// The demo office at work: rounds of officer actions, each followed by what
    /// the halls send in answer; then visits and last month's report.
    async fn work_through(
        &self,
        anchor: DateTime<Utc>,
        halls: &[String],
        mut appended: Vec<Appended>,
    ) -> AppResult<()> {
        let mut transferred = false;
        for _round in 0..10 {
            let (acted, sent, t) = self
                .with_store(move |s| office_round(s, anchor, transferred))
                .await?;
            transferred = t;
            if !sent.is_empty() {
                // Kept first: a restart re-serves them even if this run dies here.
                appended.extend(sent.iter().cloned());
                let json = serde_json::to_string(&appended)
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
                self.with_store(move |s| Ok(s.set_setting(APPENDED_SETTING, Some(&json))?))
                    .await?;
                {
                    let demo = self.demo.lock().await;
                    let server = demo
                        .as_ref()
                        .ok_or_else(|| AppError::new(ErrorCode::Internal, "演示大厅未启动"))?;
                    for a in &sent {
                        server.append(&a.hall, &a.kind, &a.data);
                    }
                }
                self.sync_now(SyncArgs {
                    halls: halls.to_vec(),
                    ..SyncArgs::default()
                })
                .await?;
            }
            if acted == 0 && sent.is_empty() {
                break;
            }
        }
        self.with_store(move |s| {
            demo_visits(s, anchor)?;
            demo_files(s, anchor)?;
            pick_typical(s, anchor)?;
            decide_alerts(s, anchor)?;
            issue_last_month(s, anchor)?;
            Ok(())
        })
        .await
    }
}

impl App {
    /// Keeps the demo hall producing a new rating every `interval` (per hall)
    /// until the future is dropped (`hcp demo --serve`).
    pub async fn run_demo_live(&self, interval: std::time::Duration) -> AppResult<()> {
        let state = {
            let demo = self.demo.lock().await;
            demo.as_ref()
                .ok_or_else(|| AppError::invalid("演示大厅未启动：请先载入演示数据"))?
                .state
                .clone()
        };
        hcp_hall::produce_live(state, DEMO_SEED, interval).await;
        Ok(())
    }
}

// ---- deterministic choices ----

/// A number in [0, 1) fixed by `key` and `what`: the demo's dice, the same on
/// every machine and every run.
fn roll(key: &str, what: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain([0]).chain(what.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = hcp_hall::generate::Rng::new(h ^ DEMO_SEED);
    rng.unit()
}

fn pick<'a>(key: &str, what: &str, items: &[&'a str]) -> &'a str {
    items[((roll(key, what) * items.len() as f64) as usize).min(items.len() - 1)]
}

// ---- time ----

fn bj(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&beijing()).fixed_offset()
}

fn parse_utc(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An instant in office hours (09:00–17:00, Beijing) of `day`, placed by `r`.
fn office_time(day: NaiveDate, r: f64) -> DateTime<FixedOffset> {
    let secs = 9 * 3600 + (r * 8.0 * 3600.0) as i64;
    beijing()
        .from_local_datetime(
            &(day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(secs)),
        )
        .single()
        .unwrap_or_else(|| bj(Utc::now()))
        .fixed_offset()
}
