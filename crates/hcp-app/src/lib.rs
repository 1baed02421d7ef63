//! The application layer of HCP Supervisor: one typed command set that the desktop
//! shell (Tauri) and the browser bridge (`hcp serve-ui`) both expose, so the same UI
//! runs in either. No Tauri and no HTTP in here.
//!
//! Every command takes one serde argument and answers a serde result or an
//! [`AppError`] (`{code, message}`, zh-CN message). [`App::dispatch`] calls a command
//! by name with JSON, for the HTTP bridge; the Tauri shell calls the typed methods.
//! Sync progress is broadcast as [`SyncEvent`]s ([`App::subscribe`]).

mod alerts;
mod cases;
mod commands;
#[cfg(feature = "demo")]
mod demo;
#[cfg(not(feature = "demo"))]
#[path = "no_demo.rs"]
mod demo;
mod error;
pub mod export;
mod files;
mod hub;
mod imports;
pub mod report;
mod types;
mod visits;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate, Utc};
use hcp_core::metrics::{Rate, beijing};
use hcp_core::{Capability, Channel, Level, ReasonTag, Role};
use hcp_store::{DayCount, EvaluationFilter, ProfileList, Store, TokenVault, Who};
use hcp_sync::{HallEndpoint, HallReport, SyncEvent, SyncOptions, Token};
use tokio::sync::broadcast;

pub use alerts::{AlertList, AlertsArgs, DecideAlertArgs};
pub use cases::{role_zh, to_action};
pub use commands::{CommandSpec, command_specs};
#[cfg(feature = "demo")]
pub use demo::DEMO_OFFICER;
pub use error::{AppError, ErrorCode};
pub use files::{FileOpener, OPENABLE_EXTENSIONS};
pub use hcp_sync::PushReport;
pub use hcp_sync::SyncEvent as Event;
pub use types::*;

/// Result of a command.
pub type AppResult<T> = Result<T, AppError>;

/// The application: one cache file and what runs around it.
pub struct App {
    db: PathBuf,
    /// Open connections to the cache, reused by commands so SQLite's prepared
    /// statements stay cached; a command takes one (or opens one when all are in
    /// use, so a long import never blocks the pages) and gives it back.
    stores: Arc<Mutex<Vec<Store>>>,
    /// Held (shared) by every command while it uses a connection; a replica's
    /// rebuild takes it alone to swap the cache file with no connection open.
    gate: Arc<tokio::sync::RwLock<()>>,
    events: broadcast::Sender<SyncEvent>,
    board: Arc<Mutex<SyncStatus>>,
    sync_lock: tokio::sync::Mutex<()>,
    demo: tokio::sync::Mutex<Option<demo::DemoServer>>,
    options: SyncOptions,
    exports: files::Exports,
}

/// Connections kept open between commands.
const MAX_IDLE_STORES: usize = 4;

impl App {
    /// The application over the cache at `db` (created and migrated if needed).
    pub fn open(db: impl Into<PathBuf>) -> AppResult<Self> {
        let db = db.into();
        let first = Store::open(&db)?;
        let (events, _) = broadcast::channel(256);
        Ok(Self {
            db,
            stores: Arc::new(Mutex::new(vec![first])),
            gate: Arc::new(tokio::sync::RwLock::new(())),
            events,
            board: Arc::new(Mutex::new(SyncStatus::default())),
            sync_lock: tokio::sync::Mutex::new(()),
            demo: tokio::sync::Mutex::new(None),
            options: SyncOptions::default(),
            exports: files::Exports::default(),
        })
    }

    /// Syncs with these options (retries, caps, the stall limit) instead of the
    /// defaults.
    pub fn with_sync_options(mut self, options: SyncOptions) -> Self {
        self.options = options;
        self
    }

    /// The cache file.
    pub fn db_path(&self) -> &Path {
        &self.db
    }

    /// Sync progress, as it happens.
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    /// Runs `f` with the store on a blocking thread.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let db = self.db.clone();
        let stores = self.stores.clone();
        let gate = self.gate.clone().read_owned().await;
        tokio::task::spawn_blocking(move || {
            let _gate = gate;
            let idle = stores.lock().ok().and_then(|mut s| s.pop());
            let mut store = match idle {
                Some(s) => s,
                None => Store::open(&db)?,
            };
            let out = f(&mut store);
            if let Ok(mut s) = stores.lock()
                && s.len() < MAX_IDLE_STORES
            {
                s.push(store);
            }
            out
        })
        .await?
    }

    /// About this installation.
    pub async fn app_info(&self) -> AppResult<AppInfo> {
        let (has_halls, (profile, profile_set), hub) = self
            .with_store(|s| {
                Ok((
                    !s.halls()?.is_empty(),
                    cases::load_profile(s)?,
                    s.hub_link()?,
                ))
            })
            .await?;
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            db_path: self.db.display().to_string(),
            has_halls,
            demo_running: self.demo.lock().await.is_some(),
            user_name: profile.name,
            capabilities: profile.role.capabilities(),
            role: profile.role,
            hall_id: profile.hall_id,
            profile_set,
            hub,
        })
    }

    /// Every hall with its sync state and counts.
    /// A director: his hall only (a shopper needs every hall's name to plan a
    /// visit; his menu shows no figures).
    pub async fn list_halls(&self) -> AppResult<Vec<HallSummary>> {
        self.with_store(|s| {
            let (p, _) = cases::load_profile(s)?;
            // A shopper is not held to a hall (he plans visits); a director is.
            let only = if p.role.may(Capability::FileVisits) {
                None
            } else {
                cases::hall_scope(&p, None)?
            };
            hall_summaries(s, only.as_deref())
        })
        .await
    }

    /// Refuses a command the profile's role may not run (the UI hides it too,
    /// but the command decides).
    async fn require(&self, c: Capability) -> AppResult<()> {
        self.with_store(move |s| {
            let (p, _) = cases::load_profile(s)?;
            p.role
                .check(c)
                .map_err(|why| AppError::new(ErrorCode::Forbidden, why))
        })
        .await
    }

    /// Registers a hall: fetches its profile, keeps its token out of the cache.
    pub async fn add_hall(&self, args: AddHallArgs) -> AppResult<AddedHall> {
        self.require(Capability::ManageHalls).await?;
        let url = args.url.trim();
        if url.is_empty() {
            return Err(AppError::invalid("请填写大厅接口地址"));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::invalid(
                "大厅接口地址应以 http:// 或 https:// 开头",
            ));
        }
        if args.token.trim().is_empty() {
            return Err(AppError::invalid("请填写访问令牌"));
        }
        let ca = args
            .ca_file
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        register_hall(&self.db, url, Token::new(args.token), ca.as_deref()).await
    }

    /// Removes a hall, its cached records and its token. The removal and its
    /// audit row commit together; the token goes after.
    pub async fn remove_hall(&self, args: HallIdArgs) -> AppResult<bool> {
        self.require(Capability::ManageHalls).await?;
        let db = self.db.clone();
        self.with_store(move |s| {
            let (user, _) = cases::load_profile(s)?;
            let by = Who {
                name: &user.name,
                actor: user.role.actor(),
            };
            if !s.remove_hall(&args.hall_id, by)? {
                return Err(AppError::not_found(format!(
                    "没有编码为 “{}” 的大厅",
                    hcp_core::ident::printable(&args.hall_id)
                )));
            }
            TokenVault::for_database(&db).remove(&args.hall_id)?;
            Ok(true)
        })
        .await
    }

    /// Syncs the given halls (all when none are named). One sync at a time.
    pub async fn sync_now(&self, args: SyncArgs) -> AppResult<SyncResult> {
        // A desk linked to the hub refreshes from it whoever uses it; on a single
        // desk only the office syncs halls.
        if self.hub_link().await?.is_none() {
            self.require(Capability::SyncHalls).await?;
        }
        let Ok(_guard) = self.sync_lock.try_lock() else {
            return Err(AppError::new(ErrorCode::Busy, "已有同步正在进行，请稍候"));
        };
        let no_push = args.no_push.unwrap_or(false);
        let only = args.halls;
        let db = self.db.clone();
        let (eps, link) = self
            .with_store(move |s| {
                for h in &only {
                    if s.hall(h)?.is_none() {
                        return Err(AppError::not_found(format!("没有编码为 “{h}” 的大厅")));
                    }
                }
                let eps = hcp_sync::endpoints(s, &TokenVault::for_database(&db), &only)?;
                let link = s.hub_link()?;
                // A shopper's (or administrator's) replica reads no ratings.
                let eps = if link.as_ref().is_some_and(|l| !l.reads_records()) {
                    vec![]
                } else {
                    eps
                };
                Ok((eps, link))
            })
            .await?;
        if eps.is_empty() && link.is_none() {
            return Err(AppError::invalid(
                "尚未添加大厅：请先添加大厅或载入演示数据",
            ));
        }
        if let Some(link) = &link
            && let Err((state, why)) = self.hub_probe(link).await
        {
            if state == "epoch" {
                return Err(AppError::new(ErrorCode::Refused, why));
            }
            // The hub is away: everything local keeps working, actions wait.
            return Err(AppError::new(
                ErrorCode::HallUnreachable,
                format!("团队服务器暂时无法连接：{why}；待发送的操作保留在本机，下次同步时发送"),
            ));
        }
        let reports = self.run_sync(eps).await;
        if let Some(link) = link {
            // A replica: the hub delivers decisions to the halls; this desk sends
            // its queued actions to the hub and takes the office's cases.
            let hub = self.hub_exchange(&link).await;
            self.refresh_alerts().await;
            return Ok(SyncResult {
                reports,
                pushed: vec![],
                hub: Some(hub),
            });
        }
        // Decisions made offline go out as soon as the halls answer again.
        let answered: Vec<String> = reports
            .iter()
            .filter(|r| r.error.is_none())
            .map(|r| r.hall_id.clone())
            .collect();
        let pushed = if no_push {
            vec![]
        } else {
            self.push_to(Some(answered)).await.unwrap_or_default()
        };
        self.refresh_alerts().await;
        Ok(SyncResult {
            reports,
            pushed,
            hub: None,
        })
    }

    async fn run_sync(&self, eps: Vec<HallEndpoint>) -> Vec<HallReport> {
        {
            let mut b = self.board.lock().unwrap_or_else(|p| p.into_inner());
            b.running = true;
            b.halls = eps
                .iter()
                .map(|e| HallProgress {
                    hall_id: e.hall_id.clone(),
                    state: "running".into(),
                    ..HallProgress::default()
                })
                .collect();
        }
        let board = self.board.clone();
        let events = self.events.clone();
        let progress = Arc::new(move |e: &SyncEvent| {
            record_progress(&board, e);
            let _ = events.send(e.clone());
        });
        let reports = hcp_sync::sync_halls(&self.db, eps, &self.options, progress).await;
        self.board.lock().unwrap_or_else(|p| p.into_inner()).running = false;
        reports
    }

    /// The sync board: whether a sync runs and how each hall is doing.
    pub fn sync_status(&self) -> SyncStatus {
        self.board.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// One page of the evaluation list (keyset paging: every page is as fast as the
    /// first).
    pub async fn query_evaluations(&self, q: EvaluationQuery) -> AppResult<EvaluationPage> {
        validate_filter(&q.filter)?;
        let limit = q.limit.unwrap_or(20).clamp(1, 500);
        self.with_store(move |s| {
            let mut q = q;
            q.filter.hall_id = cases::scoped_hall(s, q.filter.hall_id.take())?;
            let (rows, more) = s.list_evaluations(&q.filter, q.after.as_ref(), limit)?;
            let next = if more {
                rows.last().map(|r| r.key.clone())
            } else {
                None
            };
            Ok(EvaluationPage { rows, next })
        })
        .await
    }

    /// How many evaluations match a filter.
    pub async fn count_evaluations(&self, f: EvaluationFilter) -> AppResult<i64> {
        validate_filter(&f)?;
        self.with_store(move |s| {
            let mut f = f;
            f.hall_id = cases::scoped_hall(s, f.hall_id.take())?;
            Ok(s.count_evaluations(&f)?)
        })
        .await
    }

    /// Everything an officer may see about one evaluation.
    pub async fn evaluation_detail(&self, r: EvaluationRef) -> AppResult<EvaluationDetail> {
        self.with_store(move |s| {
            cases::scoped_hall(s, Some(r.hall_id.clone()))?;
            let e = s.evaluation(&r.hall_id, &r.id)?.ok_or_else(|| {
                AppError::not_found(format!("没有找到评价 {}（大厅 {}）", r.id, r.hall_id))
            })?;
            let profile = s.hall_profile(&r.hall_id)?;
            let hall_name = profile.name.clone();
            let department_name = e.department_code.as_ref().and_then(|c| {
                profile
                    .departments
                    .iter()
                    .find(|d| &d.code == c)
                    .map(|d| d.name.clone())
            });
            let window_name = e.window_no.as_ref().and_then(|n| {
                profile
                    .windows
                    .iter()
                    .find(|w| &w.no == n)
                    .map(|w| w.name.clone())
            });
            let staff_name = e.staff_no.as_ref().and_then(|n| {
                profile
                    .staff
                    .iter()
                    .find(|p| &p.no == n)
                    .map(|p| p.name.clone())
            });
            let reasons: Vec<String> = serde_json::from_str(&e.reasons)
                .map_err(|x| AppError::new(ErrorCode::Store, format!("本地记录已损坏：{x}")))?;
            let follow_ups = s.follow_ups(&r.hall_id, &r.id)?;
            let versions = s.evaluation_versions(&r.hall_id, &r.id)?;
            Ok(EvaluationDetail {
                hall_id: e.hall_id,
                hall_name,
                id: e.id,
                rev: e.rev,
                serial_no: e.serial_no,
                item_code: e.item_code,
                item_name: e.item_name,
                department_code: e.department_code,
                department_name,
                window_no: e.window_no,
                window_name,
                staff_no: e.staff_no,
                staff_name,
                channel: e.channel,
                is_bad: hcp_core::rating::is_bad_level(e.level),
                level: e.level,
                reasons,
                comment: e.comment,
                served_at: e.served_at,
                evaluated_at: e.evaluated_at,
                evaluator_real_name: e.evaluator_real_name,
                evaluator_name_masked: e.evaluator_name_masked,
                evaluator_phone_masked: e.evaluator_phone_masked,
                status: e.status,
                follow_ups,
                versions,
            })
        })
        .await
    }

    /// Quarantined records, newest first.
    pub async fn quarantine_list(&self) -> AppResult<Vec<hcp_store::QuarantineRow>> {
        self.with_store(|s| Ok(s.quarantine(None)?)).await
    }

    /// 工作台 figures.
    pub async fn dashboard(&self, args: DashboardArgs) -> AppResult<Dashboard> {
        let today = Utc::now().with_timezone(&beijing()).date_naive();
        let hall = args
            .hall_id
            .filter(|h| !h.trim().is_empty())
            .map(|h| h.trim().to_owned());
        let asked = match args.month.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() => Some(parse_month(m)?),
            _ => None,
        };
        self.with_store(move |s| {
            let hall = cases::scoped_hall(s, hall)?;
            let h = hall.as_deref();
            let month_days = |y: i32, m: u32| -> AppResult<(String, String)> {
                let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad_month)?;
                let last = first
                    .checked_add_months(chrono::Months::new(1))
                    .and_then(|d| d.pred_opt())
                    .ok_or_else(bad_month)?;
                Ok((first.to_string(), last.to_string()))
            };
            let (year, month, is_current) = match asked {
                Some((y, m)) => (y, m, (y, m) == (today.year(), today.month())),
                None => {
                    let (ty, tm) = (today.year(), today.month());
                    let (a, b) = month_days(ty, tm)?;
                    if s.day_span_counts(h, &a, &b)?.counted > 0 {
                        (ty, tm, true)
                    } else if let Some(latest) = s.latest_day(h)? {
                        let d = NaiveDate::parse_from_str(&latest, "%Y-%m-%d")
                            .map_err(|e| AppError::new(ErrorCode::Store, e.to_string()))?;
                        (d.year(), d.month(), false)
                    } else {
                        (ty, tm, true)
                    }
                }
            };
            let (first, last) = month_days(year, month)?;
            let month_counts = s.day_span_counts(h, &first, &last)?;
            let day = today.to_string();
            let day_counts = s.day_span_counts(h, &day, &day)?;
            let by_day = s.daily_bad(h, &first, &last)?;
            let (todo, urgent_cases, latest_report) = to_do(s, h, profile_role(s)?)?;
            Ok(Dashboard {
                month: format!("{year:04}-{month:02}"),
                month_is_current: is_current,
                today: day_counts,
                good_rate: Rate::of(month_counts.good, month_counts.counted).into(),
                bad_rate: Rate::of(month_counts.bad, month_counts.counted).into(),
                month_counts,
                daily_bad: every_day(year, month, &by_day),
                halls: hall_summaries(s, h)?,
                todo,
                urgent_cases,
                latest_report,
            })
        })
        .await
    }

    /// What the 评价查询 form's selects offer (for one hall, or all).
    pub async fn form_options(&self, args: DashboardArgs) -> AppResult<FormOptions> {
        let hall = args.hall_id.filter(|h| !h.trim().is_empty());
        self.with_store(move |s| {
            // A director's selects offer his hall alone, and its units.
            let (p, _) = cases::load_profile(s)?;
            let hall = cases::hall_scope(&p, hall)?;
            let own = if p.role.may(Capability::AllHalls) {
                None
            } else {
                p.hall_id.clone()
            };
            let h = hall.as_deref();
            let list = |what| -> AppResult<Vec<CodeName>> {
                Ok(s.profile_options(h, what)?
                    .into_iter()
                    .map(|(code, name)| CodeName { code, name })
                    .collect())
            };
            Ok(FormOptions {
                halls: s
                    .halls()?
                    .into_iter()
                    .filter(|h| own.as_ref().is_none_or(|o| *o == h.hall_id))
                    .map(|h| CodeName {
                        code: h.hall_id,
                        name: h.name,
                    })
                    .collect(),
                departments: list(ProfileList::Departments)?,
                windows: list(ProfileList::Windows)?,
                staff: list(ProfileList::Staff)?,
            })
        })
        .await
    }
}

/// Registers a hall at `url`: fetches `v1/hall`, stores the token (OS keyring or
/// the owner-only file) and the hall.
pub async fn register_hall(
    db: &Path,
    url: &str,
    token: Token,
    ca_file: Option<&Path>,
) -> AppResult<AddedHall> {
    let ep = HallEndpoint {
        hall_id: String::new(),
        base_url: url.to_string(),
        token: token.clone(),
        ca_file: ca_file.map(Path::to_path_buf),
    };
    let mut opts = SyncOptions::default();
    opts.retry.max_attempts = 3;
    let profile = hcp_sync::fetch_profile(&ep, &opts).await?;
    // The code becomes part of file names and queries: it must be a plain code.
    hcp_core::ident::check_hall_id(&profile.hall_id)
        .map_err(|e| AppError::invalid(format!("该大厅服务器返回的{e}，无法添加")))?;
    let db = db.to_path_buf();
    let url = url.to_owned();
    let ca = ca_file.map(|p| p.display().to_string());
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&db)?;
        let (user, _) = cases::load_profile(&store)?;
        let by = Who {
            name: &user.name,
            actor: user.role.actor(),
        };
        // Token first: a hall without a token could not sync.
        let location = TokenVault::for_database(&db).set(&profile.hall_id, token.secret())?;
        // The hall and its audit row commit together.
        let new = store.upsert_hall(&profile, &url, ca.as_deref(), by)?;
        Ok(AddedHall {
            hall_id: profile.hall_id,
            name: profile.name,
            new,
            token_location: location.to_string(),
            transport_warning: hcp_sync::transport_warning(&url),
        })
    })
    .await?
}

/// 256 random bits from the operating system's generator, as hex: for tokens
/// that guard something (the embedded demo hall, the browser bridge).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS generator failing is a broken system; a fixed token would be worse.
    getrandom::fill(&mut b).expect("the operating system's random generator");
    hex::encode(b)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_os_generator_and_compare_in_constant_time() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(secrets_equal(a.as_bytes(), a.clone().as_bytes()));
        assert!(!secrets_equal(a.as_bytes(), b.as_bytes()));
        assert!(!secrets_equal(a.as_bytes(), &a.as_bytes()[..63]));
    }
}

fn profile_role(s: &Store) -> AppResult<Role> {
    Ok(cases::load_profile(s)?.0.role)
}

/// What is waiting, the soonest deadlines and the latest issued report, for the
/// scope a viewer may see.
fn to_do(
    s: &Store,
    hall: Option<&str>,
    role: Role,
) -> AppResult<(
    Todo,
    Vec<hcp_store::CaseListRow>,
    Option<hcp_store::IssuedReport>,
)> {
    let now = Utc::now();
    let mut todo = Todo::default();
    for c in s.case_counts(hall, now)? {
        let closed = hcp_core::case::CaseState::parse(&c.state).is_none_or(|st| st.is_closed());
        if closed {
            continue;
        }
        todo.warning += c.warning;
        todo.overdue += c.overdue;
        match c.state.as_str() {
            "rectifying" => todo.rectifying += c.total,
            "appeal_window" => todo.appeal_window += c.total,
            "open" => todo.verify += c.total,
            "awaiting_signoff" => todo.signoff += c.total,
            "awaiting_callback" | "explained" => todo.callback += c.total,
            "under_appeal" => todo.appeals += c.total,
            _ => {}
        }
    }
    if role.may(Capability::ReviewVisits) {
        todo.visits_to_review = s
            .list_visits(None)?
            .iter()
            .filter(|v| v.origin == "imported" && v.state == "submitted")
            .count() as i64;
    }
    // The hall's most pressing rectification: how many working days it has left.
    if todo.rectifying > 0 {
        let soonest = s
            .list_cases(
                &hcp_store::CaseFilter {
                    states: vec!["rectifying".into()],
                    hall_id: hall.map(str::to_owned),
                    limit: Some(1),
                    ..hcp_store::CaseFilter::default()
                },
                now,
            )?
            .rows;
        if let Some(c) = soonest.first().filter(|c| c.due_at.is_some()) {
            todo.rectify_days_left = s
                .case_detail(c.case_id, now)?
                .deadline
                .map(|d| d.working_days_left);
        }
    }
    let open: Vec<String> = hcp_core::case::CaseState::ALL
        .iter()
        .filter(|st| !st.is_closed())
        .map(|st| st.as_str().to_owned())
        .collect();
    let urgent = s
        .list_cases(
            &hcp_store::CaseFilter {
                states: open,
                hall_id: hall.map(str::to_owned),
                limit: Some(8),
                ..hcp_store::CaseFilter::default()
            },
            now,
        )?
        .rows;
    let latest = s
        .issued_reports()?
        .into_iter()
        .filter(|r| role.may(Capability::AllHalls) || r.hall_id.as_deref() == hall)
        // The one issued last (two scopes of one month both are 第1版).
        .max_by_key(|r| r.report_id);
    Ok((todo, urgent, latest))
}

/// The halls with their sync state and counts (`only`: that hall alone).
fn hall_summaries(s: &Store, only: Option<&str>) -> AppResult<Vec<HallSummary>> {
    let mut counts = s.all_hall_counts()?;
    s.halls()?
        .into_iter()
        .filter(|h| only.is_none_or(|o| o == h.hall_id))
        .map(|h| {
            Ok(HallSummary {
                sync: s.sync_state(&h.hall_id)?,
                counts: counts.remove(&h.hall_id).unwrap_or_default(),
                transport_warning: hcp_sync::transport_warning(&h.base_url),
                hall: h,
            })
        })
        .collect()
}

fn record_progress(board: &Mutex<SyncStatus>, e: &SyncEvent) {
    let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
    let id = match e {
        SyncEvent::Started { hall_id }
        | SyncEvent::Page { hall_id, .. }
        | SyncEvent::Retrying { hall_id, .. }
        | SyncEvent::Restarted { hall_id } => hall_id,
        SyncEvent::Finished { report } => &report.hall_id,
        SyncEvent::ImportProgress { .. } => return,
        SyncEvent::Ended { .. } => {
            // Before the event goes out: whoever asks on hearing it hears "done".
            b.running = false;
            return;
        }
    };
    let i = match b.halls.iter().position(|h| &h.hall_id == id) {
        Some(i) => i,
        None => {
            b.halls.push(HallProgress {
                hall_id: id.clone(),
                ..HallProgress::default()
            });
            b.halls.len() - 1
        }
    };
    let h = &mut b.halls[i];
    match e {
        SyncEvent::Started { .. } | SyncEvent::Restarted { .. } => {
            h.state = "running".into();
            h.message = None;
        }
        SyncEvent::Page {
            pages,
            records,
            totals,
            ..
        } => {
            h.state = "running".into();
            h.message = None;
            h.pages = *pages;
            h.records = *records;
            h.new = totals.new;
            h.updated = totals.updated;
            h.quarantined = totals.quarantined;
        }
        SyncEvent::Retrying { reason, .. } => {
            h.state = "retrying".into();
            h.message = Some(reason.clone());
        }
        SyncEvent::Finished { report } => {
            h.pages = report.pages;
            h.records = report.records;
            h.new = report.outcome.new;
            h.updated = report.outcome.updated;
            h.quarantined = report.outcome.quarantined;
            h.state = if report.error.is_some() {
                "failed"
            } else {
                "done"
            }
            .into();
            h.message = report.error.clone();
        }
        SyncEvent::ImportProgress { .. } | SyncEvent::Ended { .. } => {}
    }
}

fn bad_month() -> AppError {
    AppError::invalid("月份无效")
}

fn parse_month(m: &str) -> AppResult<(i32, u32)> {
    let m = hcp_core::metrics::Month::parse(m).map_err(AppError::invalid)?;
    Ok((m.year, m.month))
}

fn every_day(year: i32, month: u32, counts: &[DayCount]) -> Vec<DayCount> {
    let mut out = vec![];
    let Some(mut d) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return out;
    };
    while d.month() == month {
        let day = d.format("%Y-%m-%d").to_string();
        let bad = counts.iter().find(|c| c.day == day).map_or(0, |c| c.bad);
        out.push(DayCount { day, bad });
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

pub(crate) fn validate_filter(f: &EvaluationFilter) -> AppResult<()> {
    for (name, t) in [("开始时间", &f.from), ("结束时间", &f.to)] {
        if let Some(t) = t.as_deref().filter(|t| !t.trim().is_empty())
            && chrono::DateTime::parse_from_rfc3339(t.trim()).is_err()
        {
            return Err(AppError::invalid(format!("{name} “{t}” 不是有效的时间")));
        }
    }
    if let (Some(a), Some(b)) = (&f.from, &f.to)
        && !a.is_empty()
        && !b.is_empty()
        && a > b
    {
        return Err(AppError::invalid("开始时间不能晚于结束时间"));
    }
    if f.text.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("搜索内容过长（最多 200 字）"));
    }
    Ok(())
}

/// The domain's words for the UI.
pub fn vocabulary() -> Vocabulary {
    Vocabulary {
        levels: (1..=5)
            .rev()
            .filter_map(Level::new)
            .map(|l| LevelWord {
                level: l.get(),
                name: l.label_zh().to_owned(),
                is_bad: l.is_bad(),
            })
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| CodeName {
                code: c.as_wire().to_owned(),
                name: c.label_zh().to_owned(),
            })
            .collect(),
        reasons: ReasonTag::ALL
            .iter()
            .map(|r| CodeName {
                code: r.as_wire().to_owned(),
                name: r.label_zh().to_owned(),
            })
            .collect(),
        case_states: hcp_core::case::CaseState::ALL
            .iter()
            .map(|s| CodeName {
                code: s.as_str().to_owned(),
                name: s.label_zh().to_owned(),
            })
            .collect(),
        verify_outcomes: hcp_core::case::VerifyOutcome::ALL
            .iter()
            .map(|o| CodeName {
                code: o.as_str().to_owned(),
                name: o.label_zh().to_owned(),
            })
            .collect(),
        callback_results: hcp_core::case::CallbackResult::ALL
            .iter()
            .map(|r| CodeName {
                code: r.as_str().to_owned(),
                name: r.label_zh().to_owned(),
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| CodeName {
                code: r.as_str().to_owned(),
                name: r.label_zh().to_owned(),
            })
            .collect(),
        alert_rules: hcp_core::warning::Rule::ALL
            .iter()
            .map(|r| AlertRuleView {
                code: r.as_str().to_owned(),
                name: r.label_zh().to_owned(),
                short: r.short_zh().to_owned(),
                about_bad: r.about_bad_ratings(),
            })
            .collect(),
        case_tabs: hcp_core::case::case_tabs()
            .into_iter()
            .map(|t| CaseTabView {
                key: t.key.to_owned(),
                label: t.label_zh.to_owned(),
                closed: t.closed,
                states: t.states.iter().map(|s| s.as_str().to_owned()).collect(),
            })
            .collect(),
        current_template: hcp_core::visit::CURRENT_TEMPLATE.to_owned(),
    }
}

pub mod bindings;
