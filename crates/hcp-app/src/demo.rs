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

/// The demo's hall without a server, run from files.
pub const DEMO_FILE_HALL: &str = "怀宁县政务服务中心";

/// A hall without a server, run from files as such offices do: last month's and
/// this month's ratings as the national standard lays them out (GB/T 39046-2020
/// 表9: A.8 codes, `YYYYMMDDThhmmss`, 二次评价, 系统默认评价), then the provincial
/// system's 差评工单 export moving its cases on — a rectification, an appeal the
/// province dismissed, a 追评 — both through the importer.
fn demo_files(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let now = bj(anchor);
    let today = now.date_naive();
    let first = last_month(anchor) + "-01";
    let first = NaiveDate::parse_from_str(&first, "%Y-%m-%d").unwrap_or(today);
    let tmp = tempfile::tempdir()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法创建临时目录：{e}")))?;
    let io = |e: std::io::Error| AppError::new(ErrorCode::Internal, e.to_string());
    let basic = |t: DateTime<FixedOffset>| t.format("%Y%m%dT%H%M%S").to_string();
    // (word, 满意度代码) by A.8; channels by the standard's words.
    const LEVELS: [(&str, u8); 5] = [
        ("非常满意", 1),
        ("满意", 2),
        ("基本满意", 3),
        ("不满意", 4),
        ("非常不满意", 5),
    ];
    const CHANNELS: [&str; 10] = [
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "二维码",
        "二维码",
        "移动服务端",
        "PC端",
        "系统默认评价",
        "电话",
    ];
    const NAMES: [&str; 8] = [
        "王敏", "刘洋", "张伟", "陈丽", "赵强", "孙涛", "周琳", "吴磊",
    ];
    const BAD_TEXT: [&str; 4] = [
        "材料清单和网上说的不一样，白跑一趟",
        "窗口人员玩手机，叫了两次才理",
        "预约了还要排一个多小时",
        "",
    ];
    let mut rows = vec![
        "办件编号,评价渠道,评价人,评价时间,评价次数,满意度,满意度代码,文字评价,行政区划".to_owned(),
    ];
    // (办件编号, 评价时间) of the bad ratings left as they were.
    let mut bad: Vec<(String, DateTime<FixedOffset>)> = vec![];
    let mut day = first;
    let mut n = 0;
    while day < today {
        if !matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            for k in 0..3 {
                n += 1;
                let key = format!("file-{n}");
                let at = office_time(day, roll(&key, "time"));
                let serial = format!("340822-{}-{:04}", day.format("%Y%m%d"), k + 1);
                let channel = pick(&key, "channel", &CHANNELS);
                let r = roll(&key, "level");
                let level = if channel == "系统默认评价" {
                    1
                } else if r < 0.08 {
                    3 + usize::from(r < 0.03)
                } else if r < 0.12 {
                    2
                } else if r < 0.3 {
                    1
                } else {
                    0
                };
                let (word, code) = LEVELS[level];
                let who = if channel == "系统默认评价" || roll(&key, "anon") < 0.4 {
                    ""
                } else {
                    pick(&key, "name", &NAMES)
                };
                let text = if level >= 3 {
                    pick(&key, "text", &BAD_TEXT)
                } else {
                    ""
                };
                rows.push(format!(
                    "{serial},{channel},{who},{},1,{word},{code},{text},340822",
                    basic(at)
                ));
                if level >= 3 {
                    // Every other bad rating is rated again two days on, after the
                    // hall's follow-up: a 二次评价.
                    let again = at + Duration::days(2) + Duration::minutes(37);
                    if n % 2 == 0 && again < now {
                        rows.push(format!(
                            "{serial},{channel},{who},{},2,满意,2,回访后问题已解决,340822",
                            basic(again)
                        ));
                    } else {
                        bad.push((serial, at));
                    }
                }
            }
        }
        day += Duration::days(1);
    }
    let exported = |t: DateTime<FixedOffset>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let gbt = tmp.path().join("怀宁县政务服务绩效评价数据.csv");
    let text = format!(
        "\u{feff}政务服务绩效评价基础数据（GB/T 39046-2020 表9）\n导出时间：{}\n{}\n",
        exported(now - Duration::hours(20)),
        rows.join("\n")
    );
    std::fs::write(&gbt, text).map_err(io)?;
    let mapping = {
        let seen = hcp_import::inspect(s, &gbt, None, None)?;
        let mut m = seen.mapping;
        m.default_hall = Some(DEMO_FILE_HALL.into());
        m
    };
    let opts = hcp_import::ImportOptions {
        mapping: Some(mapping),
        save_profile: Some("国家标准 GB/T 39046 表9".into()),
        create_halls: true,
        ..Default::default()
    };
    hcp_import::import_file(s, &gbt, &opts, officer, &mut |_| {})?;

    // The province's 差评工单 export, later: what the hall did about the first three.
    let mut orders = vec![
        "工单编号,办件编号,地区,评价时间,评价渠道,评价等级,差评内容,申诉理由,驳回理由,整改回复,整改人,整改时间,工单状态,追评等级,追评文本"
            .to_owned(),
    ];
    for (i, (serial, at)) in bad.iter().enumerate() {
        let no = format!("GD{}{:03}", at.format("%Y%m%d"), i + 1);
        let done = at.date_naive() + Duration::days(3) < today;
        let reply = |what: &str| -> String {
            match (i % 4, done) {
                (0, true) if what == "rectify" => format!(
                    "已在窗口张贴材料清单并与网上办事指南核对一致,{},{}",
                    pick(serial, "by", RESPONSIBLE),
                    exported(*at + Duration::days(2))
                ),
                _ if what == "rectify" => ",,".into(),
                _ => String::new(),
            }
        };
        let (appeal, rejected, status) = match (i % 4, done) {
            (1, true) => (
                "评价人情绪激动，工作人员已按规定解释，属恶意差评",
                "经核查评价反映情况属实，申诉理由不充分",
                "申诉驳回",
            ),
            (0, true) => ("", "", "已整改"),
            _ => ("", "", "待整改"),
        };
        let (follow_level, follow_text) = if i % 4 == 2 && done {
            ("满意", "窗口主动联系，问题已解决")
        } else {
            ("", "")
        };
        orders.push(format!(
            "{no},{serial},怀宁县,{},政务大厅平板电脑,不满意,,{appeal},{rejected},{},{status},{follow_level},{follow_text}",
            exported(*at),
            reply("rectify")
        ));
    }
    let work_orders = tmp.path().join("怀宁县差评工单.csv");
    let text = format!(
        "\u{feff}差评工单导出\n导出时间：{}\n{}\n",
        exported(now - Duration::hours(2)),
        orders.join("\n")
    );
    std::fs::write(&work_orders, text).map_err(io)?;
    let mapping = {
        let seen = hcp_import::inspect(s, &work_orders, None, None)?;
        let mut m = seen.mapping;
        m.default_hall = Some(DEMO_FILE_HALL.into());
        m
    };
    let opts = hcp_import::ImportOptions {
        mapping: Some(mapping),
        save_profile: Some("省平台差评工单导出".into()),
        ..Default::default()
    };
    hcp_import::import_file(s, &work_orders, &opts, officer, &mut |_| {})?;
    Ok(())
}

/// A rating with a level the API does not have (9): quarantined with its reason.
fn broken_record(anchor: DateTime<Utc>) -> Appended {
    let hall = "340825-ZWFW";
    let at = bj(anchor) - Duration::hours(3);
    Appended {
        hall: hall.into(),
        kind: "evaluation".into(),
        data: serde_json::json!({
            "id": "E-DEMO-0000001", "rev": 1, "hall_id": hall, "channel": "window_device",
            "level": 9, "comment": "评价器固件异常时送出的记录",
            "evaluated_at": at.to_rfc3339(), "status": "valid",
        }),
    }
}

async fn start_server(anchor: DateTime<Utc>, appended: &[Appended]) -> AppResult<RunningServer> {
    let until = anchor.with_timezone(&beijing()).fixed_offset();
    let spec = SpanSpec {
        seed: DEMO_SEED,
        halls: 3,
        evaluations: DEMO_EVALUATIONS,
        first_day: until.date_naive() - Duration::days(DEMO_DAYS - 1),
        until,
    };
    let server = hcp_hall::start_demo(spec, appended, random_token)
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法启动演示大厅服务：{e}")))?;
    tracing::info!(addr = %server.addr, "demo hall server started");
    Ok(server)
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

struct Clock<'a> {
    cal: &'a hcp_core::WorkingCalendar,
    anchor: DateTime<FixedOffset>,
}

impl Clock<'_> {
    /// The working day `n` working days after `day`.
    fn add(&self, day: NaiveDate, n: u32) -> NaiveDate {
        self.cal.add_working_days(day, n).value
    }

    /// An office-hours instant `n` working days after `after` (never before it),
    /// or `None` when that is still in the future.
    fn later(&self, after: DateTime<FixedOffset>, n: u32, r: f64) -> Option<DateTime<FixedOffset>> {
        let day = self.add(after.date_naive(), n);
        let mut t = office_time(day, r);
        if t <= after {
            t = after + Duration::minutes(20 + (r * 90.0) as i64);
        }
        (t <= self.anchor).then_some(t)
    }
}

// ---- the officer's rounds ----

const VERIFY_TRUE: &[&str] = &[
    "经调取窗口录像并与当事工作人员核实，评价反映情况属实。",
    "已电话联系评价人并核对办件记录，情况基本属实，转大厅整改。",
    "经核实，窗口一次性告知不到位，评价属实。",
];
const VERIFY_NOT_TRUE: &[&str] = &[
    "经核查办件记录与现场录像，工作人员已按规定告知，评价内容与事实不符。",
    "该事项不属本窗口职责，工作人员已正确指引，属误评。",
];
const VERIFY_NO_BASIS: &[&str] = &["评价人诉求缺乏政策依据，已向评价人解释说明相关规定。"];
const RETURN_OPINION: &[&str] = &[
    "整改报告未写明具体措施和完成时限，请补充后重新提交。",
    "请补充对当事工作人员的培训记录及回访评价人的情况。",
];
const CALLBACK_OK: &[&str] = &[
    "电话回访评价人，对整改结果表示满意。",
    "回访评价人，评价人认可大厅的处理。",
];
const CALLBACK_BAD: &[&str] = &["回访评价人，评价人认为问题仍未解决，要求继续整改。"];
const CALLBACK_NONE: &[&str] = &["电话回访未接通。"];
const APPEAL_UPHELD: &[&str] = &[
    "经复核，大厅已正确指引，差评不计入考核。",
    "经复核，属系统误操作产生的重复评价，申诉成立。",
];
const APPEAL_DISMISSED: &[&str] = &["经复核，申诉理由不充分，维持差评，请继续整改。"];
const MEASURES: &[&str] = &[
    "已组织窗口人员开展一次性告知专题培训，并电话向评价人致歉说明。",
    "已优化该事项办事指南，在窗口张贴材料清单，并安排专人导办。",
    "已对当事工作人员批评教育，纳入月度考核，并完善首问负责登记。",
];
const RESPONSIBLE: &[&str] = &["王敏", "刘洋", "张伟", "陈丽", "赵强"];

/// One pass over every open case: each takes every step whose time has come;
/// what the halls would send in answer is returned to be appended and synced.
fn office_round(
    s: &mut Store,
    anchor: DateTime<Utc>,
    mut transferred: bool,
) -> AppResult<(usize, Vec<Appended>, bool)> {
    let rules = s.case_rules()?;
    let mut departments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in s.halls()? {
        let p = s.hall_profile(&h.hall_id)?;
        departments.insert(
            h.hall_id,
            p.departments.into_iter().map(|d| d.code).collect(),
        );
    }
    let clock = Clock {
        cal: &rules.calendar,
        anchor: bj(anchor),
    };
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let mut ids = vec![];
    let mut offset = 0;
    loop {
        let page = s.list_cases(
            &CaseFilter {
                kind: Some("bad_rating".into()),
                limit: Some(500),
                offset: Some(offset),
                ..CaseFilter::default()
            },
            anchor,
        )?;
        offset += page.rows.len() as i64;
        ids.extend(
            page.rows
                .into_iter()
                .filter(|r| {
                    !hcp_core::case::CaseState::parse(&r.state).is_some_and(|s| s.is_closed())
                })
                .map(|r| r.case_id),
        );
        if offset >= page.total {
            break;
        }
    }
    ids.sort_unstable();
    let mut acted = 0;
    let mut sent = vec![];
    for id in ids {
        // Every step this case can take now, one after another.
        for _ in 0..8 {
            let d = s.case_detail(id, anchor)?;
            let depts = departments
                .get(&d.case.hall_id)
                .map_or(&[][..], Vec::as_slice);
            match next_step(&d, &clock, depts, &mut transferred) {
                Step::Act(action, at) => {
                    match s.act_on_case(id, &action, officer, Some(d.case.version), at) {
                        Ok(_) => acted += 1,
                        // The engine has the last word; the demo only proposes.
                        Err(hcp_store::StoreError::Refused(why)) => {
                            tracing::debug!(case_id = id, %why, "demo step refused");
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Step::HallSends(a) => {
                    sent.push(a);
                    break;
                }
                Step::Wait => break,
            }
        }
    }
    Ok((acted, sent, transferred))
}

enum Step {
    Act(Action, DateTime<FixedOffset>),
    HallSends(Appended),
    Wait,
}

/// When the case last moved: its rating, or the latest action's own time.
fn last_moved(d: &CaseDetail) -> DateTime<FixedOffset> {
    let mut t = parse_utc(&d.case.evaluated_at).unwrap_or_else(Utc::now);
    for e in &d.timeline {
        if let Some(a) = e.acted_at.as_deref().and_then(parse_utc) {
            t = t.max(a);
        }
    }
    bj(t)
}

fn next_step(
    d: &CaseDetail,
    clock: &Clock<'_>,
    departments: &[String],
    transferred: &mut bool,
) -> Step {
    use hcp_core::case::CaseState as S;
    let key = format!("{}/{}", d.case.hall_id, d.case.evaluation_id);
    let k = key.as_str();
    let Some(state) = S::parse(&d.case.state) else {
        return Step::Wait;
    };
    let last = last_moved(d);
    let rects: Vec<_> = d
        .follow_ups
        .iter()
        .filter(|f| f.kind == "rectification")
        .collect();
    let rect_rev = rects.iter().map(|f| f.rev).max().unwrap_or(0);
    let act = |action: Action, at: Option<DateTime<FixedOffset>>| match at {
        Some(at) => Step::Act(action, at),
        None => Step::Wait,
    };
    match state {
        S::Open => {
            // A few are left lying: 超期 待核实.
            if roll(k, "neglect") < 0.01 {
                return Step::Wait;
            }
            let r = roll(k, "verify");
            // The last days' verdicts are spread wider, so that the short-lived
            // states (申诉期, 解释说明) are on screen too.
            let age = clock
                .cal
                .working_days_between(last.date_naive(), clock.anchor.date_naive())
                .value;
            let outcome = if age <= 3 {
                if r < 0.30 {
                    VerifyOutcome::True
                } else if r < 0.55 {
                    VerifyOutcome::NotTrue
                } else if r < 0.65 {
                    VerifyOutcome::Misrated
                } else {
                    VerifyOutcome::NoLegalBasis
                }
            } else if r < 0.70 {
                VerifyOutcome::True
            } else if r < 0.82 {
                VerifyOutcome::PartlyTrue
            } else if r < 0.90 {
                VerifyOutcome::NotTrue
            } else if r < 0.94 {
                VerifyOutcome::Misrated
            } else {
                VerifyOutcome::NoLegalBasis
            };
            let note = match outcome {
                VerifyOutcome::True | VerifyOutcome::PartlyTrue => pick(k, "vnote", VERIFY_TRUE),
                VerifyOutcome::NotTrue | VerifyOutcome::Misrated => {
                    pick(k, "vnote", VERIFY_NOT_TRUE)
                }
                VerifyOutcome::NoLegalBasis => pick(k, "vnote", VERIFY_NO_BASIS),
            };
            let days = u32::from(roll(k, "vday") < 0.6);
            act(
                Action::Verify {
                    outcome,
                    note: note.into(),
                },
                clock.later(last, days, roll(k, "vtime")),
            )
        }
        S::Rectifying => {
            // One case is transferred to another department on its way.
            if !*transferred
                && roll(k, "transfer") < 0.05
                && !d.timeline.iter().any(|e| e.action == "transfer")
                && let Some(to) = departments
                    .iter()
                    .find(|c| Some(c.as_str()) != d.case.lead_department.as_deref())
            {
                *transferred = true;
                return act(
                    Action::Transfer {
                        department: to.clone(),
                        reason: "经核实，该事项由该部门牵头承办，予以转办".into(),
                    },
                    clock.later(last, 0, roll(k, "ttime")),
                );
            }
            let next_rev = rect_rev + 1;
            let what = format!("late{next_rev}");
            // Some halls are late: these become 超期预警 and 超期.
            if roll(k, &what) < if next_rev == 1 { 0.05 } else { 0.1 } {
                return Step::Wait;
            }
            let days = 2 + (roll(k, &format!("rday{next_rev}")) * 9.0) as u32;
            let Some(at) = clock.later(last, days, roll(k, &format!("rtime{next_rev}"))) else {
                return Step::Wait;
            };
            let id = rects
                .first()
                .map_or_else(|| format!("RC-D{:05}", d.case.case_id), |f| f.id.clone());
            let mut measures = pick(k, &format!("m{next_rev}"), MEASURES).to_string();
            if next_rev > 1 {
                measures = format!("（补充整改）{measures}已按意见补充培训记录与回访情况。");
            }
            Step::HallSends(Appended {
                hall: d.case.hall_id.clone(),
                kind: "rectification".into(),
                data: serde_json::json!({
                    "id": id, "rev": next_rev, "hall_id": d.case.hall_id,
                    "evaluation_id": d.case.evaluation_id, "submitted_at": at.to_rfc3339(),
                    "responsible": pick(k, "who", RESPONSIBLE), "measures": measures,
                    "attachments": [],
                }),
            })
        }
        S::AwaitingSignoff => {
            let days = 1 + u32::from(roll(k, &format!("sday{rect_rev}")) < 0.4);
            let at = clock.later(last, days, roll(k, &format!("stime{rect_rev}")));
            if rect_rev <= 1 && d.returns == 0 && roll(k, "return") < 0.12 {
                act(
                    Action::ReturnRectification {
                        opinion: pick(k, "ropinion", RETURN_OPINION).into(),
                    },
                    at,
                )
            } else {
                act(Action::AcceptRectification, at)
            }
        }
        S::AwaitingCallback | S::Explained => {
            let n = d.unreachable_attempts;
            let what = format!("cb{}{n}", u8::from(d.reopened));
            let r = roll(k, &what);
            let result = if d.reopened {
                if r < 0.3 {
                    CallbackResult::Dissatisfied
                } else {
                    CallbackResult::Satisfied
                }
            } else if n > 0 {
                if r < 0.5 {
                    CallbackResult::Unreachable
                } else {
                    CallbackResult::BasicallySatisfied
                }
            } else if r < 0.70 {
                CallbackResult::Satisfied
            } else if r < 0.84 {
                CallbackResult::BasicallySatisfied
            } else if r < 0.93 && state == S::AwaitingCallback {
                CallbackResult::Dissatisfied
            } else {
                CallbackResult::Unreachable
            };
            let note = match result {
                CallbackResult::Satisfied | CallbackResult::BasicallySatisfied => {
                    pick(k, &what, CALLBACK_OK)
                }
                CallbackResult::Dissatisfied => pick(k, &what, CALLBACK_BAD),
                CallbackResult::Unreachable => pick(k, &what, CALLBACK_NONE),
            };
            // Explaining to a citizen takes longer than calling back after a fix.
            let days = if state == S::Explained { 3 } else { 1 }
                + u32::from(roll(k, &format!("{what}d")) < 0.5);
            act(
                Action::Callback {
                    result,
                    note: note.into(),
                },
                clock.later(last, days, roll(k, &format!("{what}t"))),
            )
        }
        S::AppealWindow => {
            // Some halls appeal a "not true" verdict within the window; the rest
            // are closed once it has passed.
            let appealed = d.follow_ups.iter().any(|f| f.kind == "appeal");
            if !appealed && roll(k, "appeal") < 0.35 {
                return match clock.later(last, 1, roll(k, "atime")) {
                    Some(at) => Step::HallSends(Appended {
                        hall: d.case.hall_id.clone(),
                        kind: "appeal".into(),
                        data: serde_json::json!({
                            "id": format!("AP-D{:05}", d.case.case_id), "rev": 1,
                            "hall_id": d.case.hall_id, "evaluation_id": d.case.evaluation_id,
                            "filed_at": at.to_rfc3339(), "filed_by": format!("窗口负责人 {}", pick(k, "aby", RESPONSIBLE)),
                            "ground": pick(k, "ground", &["misdirected", "malicious", "other"]),
                            "statement": "该评价人所办事项不属本窗口受理范围，工作人员已按规定指引至相应窗口，附现场录像截图。",
                            "attachments": [],
                        }),
                    }),
                    None => Step::Wait,
                };
            }
            act(
                Action::Close {
                    note: "申诉期满，大厅未提出申诉，予以办结。".into(),
                },
                clock.later(last, 4, roll(k, "ctime")),
            )
        }
        S::UnderAppeal => {
            let ground = d
                .follow_ups
                .iter()
                .filter(|f| f.kind == "appeal")
                .filter_map(|f| f.ground.clone())
                .next_back()
                .unwrap_or_default();
            let upheld = roll(k, "verdict") < if ground == "malicious" { 0.7 } else { 0.45 };
            let days = 1 + (roll(k, "vd") * 3.0) as u32;
            act(
                Action::DecideAppeal {
                    upheld,
                    note: if upheld {
                        pick(k, "vn", APPEAL_UPHELD)
                    } else {
                        pick(k, "vn", APPEAL_DISMISSED)
                    }
                    .into(),
                },
                clock.later(last, days, roll(k, "vt")),
            )
        }
        _ => Step::Wait,
    }
}

// ---- visits ----

/// One demo visit: where, when, what was found, and how the office answered.
struct VisitPlan {
    hall: usize,
    day: NaiveDate,
    deductions: &'static [(&'static str, u32, &'static str)],
    outcome: VisitOutcome,
}

#[derive(Clone, Copy, PartialEq)]
enum VisitOutcome {
    AcceptedAndClosed,
    Accepted,
    Returned,
    /// Handed in, waiting for the officer's review.
    Waiting,
}

fn demo_visits(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    if !s.list_visits(None)?.is_empty() {
        return Ok(()); // done in an earlier, interrupted build
    }
    let rules = s.case_rules()?;
    let clock = Clock {
        cal: &rules.calendar,
        anchor: bj(anchor),
    };
    let today = clock.anchor.date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month = month_start
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(month_start);
    let halls: Vec<String> = s
        .halls()?
        .into_iter()
        .filter(|h| h.source == "api")
        .map(|h| h.hall_id)
        .collect();
    if halls.is_empty() {
        return Ok(());
    }
    let plans = [
        VisitPlan {
            hall: 0,
            day: clock.add(last_month, 4),
            deductions: &[
                (
                    "3.3",
                    2,
                    "询问材料时，工作人员答复“这个不归我管，自己去问”。",
                ),
                ("8.2", 1, "等候区老花镜、饮水机均未配备。"),
            ],
            outcome: VisitOutcome::AcceptedAndClosed,
        },
        VisitPlan {
            hall: 1 % halls.len(),
            day: clock.add(last_month, 8),
            deductions: &[
                ("5.1", 2, "未一次性告知所需材料，需再次提交户口本复印件。"),
                ("6.1", 1, "上午 10 点排队等候约 35 分钟。"),
            ],
            outcome: VisitOutcome::AcceptedAndClosed,
        },
        VisitPlan {
            hall: 2 % halls.len(),
            day: clock.add(today - Duration::days(12), 0),
            deductions: &[
                ("7.3", 2, "办结后工作人员示意“给个非常满意”。"),
                ("9.2", 1, "人员公示栏照片与在岗人员不符。"),
            ],
            outcome: VisitOutcome::Accepted,
        },
        VisitPlan {
            hall: 0,
            day: clock.add(today - Duration::days(6), 0),
            deductions: &[("4.2", 1, "指引去的窗口不办理该事项。")],
            outcome: VisitOutcome::Returned,
        },
        VisitPlan {
            hall: 1 % halls.len(),
            day: clock.add(today - Duration::days(3), 0),
            deductions: &[("6.4", 1, "叫号屏故障，现场无人维持秩序。")],
            outcome: VisitOutcome::Waiting,
        },
    ];
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let shopper = Who {
        name: DEMO_SHOPPER,
        actor: Actor::Shopper,
    };
    let tmp = tempfile::tempdir()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法创建临时目录：{e}")))?;
    let io = |e: std::io::Error| AppError::new(ErrorCode::Internal, e.to_string());
    // The officer's task package, and the shopper's laptop that imports it.
    let package = tmp.path().join("任务.hcpt");
    let tasks: Vec<TaskHall> = plans
        .iter()
        .map(|p| TaskHall {
            hall_id: halls[p.hall].clone(),
            planned_date: Some(p.day.to_string()),
        })
        .collect();
    s.export_task_package(
        &tasks,
        hcp_core::visit::CURRENT_TEMPLATE,
        "本期窗口服务暗访：重点看一次性告知与好差评执行",
        &package,
        officer,
    )?;
    let mut shop = Store::open(tmp.path().join("shopper").join("hcp.db"))?;
    shop.trust_key(&s.own_key()?.public_key, "效能督查室", shopper)?;
    shop.import_task_package(&std::fs::read(&package).map_err(io)?, shopper)?;
    s.trust_key(&shop.own_key()?.public_key, DEMO_SHOPPER, officer)?;
    let template = ChecklistTemplate::v1();
    for (n, p) in plans.iter().enumerate() {
        let hall = &halls[p.hall];
        let id = shop.create_visit(hall, hcp_core::visit::CURRENT_TEMPLATE, shopper)?;
        let profile = shop.hall_profile(hall)?;
        let start = office_time(p.day, 0.15 + 0.1 * n as f64);
        shop.set_visit_fields(
            &id,
            &VisitFields {
                started_at: Some(start.to_rfc3339()),
                ended_at: Some((start + Duration::minutes(55)).to_rfc3339()),
                windows: profile
                    .windows
                    .iter()
                    .take(2)
                    .map(|w| w.no.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                staff: profile
                    .staff
                    .iter()
                    .take(2)
                    .map(|w| w.no.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                queue_minutes: Some(8 + 9 * n as u32),
                note: "以办理营业执照变更为由到窗口咨询，全程观察约一小时。".into(),
            },
            shopper,
        )?;
        for item in template.items() {
            let (answer, note) = match p.deductions.iter().find(|d| d.0 == item.id) {
                Some((_, points, note)) => (Answer::Deduct { points: *points }, Some(*note)),
                None if item.id == "8.3" && n % 2 == 1 => (Answer::NotApplicable, None),
                None => (Answer::Pass, None),
            };
            shop.set_visit_answer(&id, &item.id, Some(&answer), note, shopper)?;
        }
        for (i, (item, _, _)) in p.deductions.iter().enumerate() {
            shop.attach_visit_photo(
                &id,
                item,
                &demo_photo((n * 7 + i) as u32),
                &format!("现场照片{}.png", i + 1),
                shopper,
            )?;
        }
        shop.submit_visit(&id, shopper)?;
        let bundle = tmp.path().join(format!("{n}.hcpv"));
        shop.export_visit(&id, &bundle)?;
        s.import_visit(&std::fs::read(&bundle).map_err(io)?, officer)?;
        let review_at = clock
            .later(start, 1, 0.4)
            .unwrap_or_else(|| clock.anchor - Duration::hours(1));
        let none = BTreeMap::new();
        match p.outcome {
            VisitOutcome::AcceptedAndClosed | VisitOutcome::Accepted => {
                let opened = s.review_visit(
                    &id,
                    &VisitReview {
                        accept: true,
                        note: "情况属实，扣分项转大厅整改。",
                        findings: None,
                        item_comments: &none,
                    },
                    officer,
                    review_at,
                )?;
                if p.outcome == VisitOutcome::AcceptedAndClosed {
                    // The hall fixed what was found; the office closes the visit.
                    let fixed = clock.later(review_at, 3, 0.5).unwrap_or(review_at);
                    for case_id in opened {
                        let d = s.case_detail(case_id, anchor)?;
                        s.act_on_case(
                            case_id,
                            &Action::FindingRectified {
                                note: "复查现场，问题已整改到位。".into(),
                            },
                            officer,
                            Some(d.case.version),
                            fixed,
                        )?;
                    }
                    let closed = clock.later(fixed, 1, 0.3).unwrap_or(fixed);
                    s.close_visit(&id, officer, closed)?;
                }
            }
            VisitOutcome::Waiting => {}
            VisitOutcome::Returned => {
                let mut comments = BTreeMap::new();
                comments.insert(
                    "4.2".to_string(),
                    "请写明被指引去的窗口号和时间，并补拍指引标识照片。".to_string(),
                );
                s.review_visit(
                    &id,
                    &VisitReview {
                        accept: false,
                        note: "4.2 证据不足，请补充后重新交件。",
                        findings: None,
                        item_comments: &comments,
                    },
                    officer,
                    review_at,
                )?;
            }
        }
    }
    Ok(())
}

/// A small "photo" for the demo's evidence: a counter, a person, a sign, in
/// colours that differ per photo.
fn demo_photo(n: u32) -> Vec<u8> {
    let (w, h) = (480u32, 360u32);
    let hue = |k: u32| ((n * 53 + k * 97) % 200) as u8;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let wall = image::Rgb([225 - hue(1) / 8, 228 - hue(2) / 10, 232]);
        if y > 230 {
            image::Rgb([140 + hue(3) / 4, 110, 90]) // counter
        } else if (60..140).contains(&x) && (30..70).contains(&y) {
            image::Rgb([200, 40 + hue(4) / 3, 40]) // sign
        } else {
            let (cx, cy) = (300i64 + i64::from(n % 5) * 20, 150i64);
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            if dx * dx + dy * dy < 40 * 40 || (dx.abs() < 55 && (190..232).contains(&y)) {
                image::Rgb([60, 80 + hue(5) / 2, 140]) // person
            } else {
                wall
            }
        }
    });
    let mut out = std::io::Cursor::new(vec![]);
    let _ = image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

/// The month before the anchor's (Beijing), `YYYY-MM`: the demo's finished month.
fn last_month(anchor: DateTime<Utc>) -> String {
    let today = bj(anchor).date_naive();
    let last = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(1)))
        .unwrap_or(today);
    format!("{:04}-{:02}", last.year(), last.month())
}

/// The officer picks two of last month's cases as 典型案例 (加入典型案例): an
/// escalated one and one that ran over its deadline.
fn pick_typical(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    if !s.typical_cases(&month, None)?.is_empty() {
        return Ok(());
    }
    let rows = s
        .list_cases(
            &CaseFilter {
                kind: Some("bad_rating".into()),
                limit: Some(500),
                ..CaseFilter::default()
            },
            anchor,
        )?
        .rows;
    let in_month = |r: &&hcp_store::CaseListRow| {
        parse_utc(&r.evaluated_at).is_some_and(|t| bj(t).format("%Y-%m").to_string() == month)
    };
    let escalated = rows
        .iter()
        .filter(in_month)
        .find(|r| r.state == "closed_escalated");
    let late = rows
        .iter()
        .filter(in_month)
        .find(|r| r.urgency == Some(hcp_core::case::Urgency::Overdue))
        .or_else(|| rows.iter().filter(in_month).find(|r| r.state == "closed"));
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    for r in [escalated, late].into_iter().flatten() {
        s.set_typical(r.case_id, true, officer)?;
    }
    Ok(())
}

/// A few of last month's alerts decided by the demo officer (the report's 预警与
/// 处置 shows them): a window's spike and a burst of praise confirmed, a spike
/// of an item dismissed as the same event as its window's. The rest stay open.
fn decide_alerts(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    s.recompute_due_alerts()?;
    let alerts = s.alerts(Some(&month), None)?;
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let first = |rule: &str, kind: &str| {
        alerts
            .iter()
            .find(|a| a.rule == rule && a.unit_kind == kind && a.state == "open")
            .map(|a| a.alert_id)
    };
    let decisions = [
        (
            first("spike", "window"),
            "acknowledged",
            "已约谈窗口负责人，当日差评逐件回访，要求三个工作日内报送整改情况",
        ),
        (
            first("praise_burst", "window"),
            "acknowledged",
            "经调取评价器记录核实，系窗口人员代为评价，已责令整改并在全厅通报",
        ),
        (
            first("spike", "item"),
            "dismissed",
            "与同日该窗口差评突增为同一事件，已并入窗口预警处置",
        ),
    ];
    for (id, state, note) in decisions {
        if let Some(id) = id {
            s.decide_alert(id, state, note, officer)?;
        }
    }
    Ok(())
}

/// Last month's reports, issued by the demo officer (once): all halls, and the
/// main hall's own (what its director sees).
fn issue_last_month(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    // The issuing office, as 设置 → 发文机关 would have it: the 通报 is a 公文.
    if crate::report::office_settings(s)?.name.is_empty() {
        crate::report::keep_office(
            s,
            crate::OfficeSettings {
                name: "示范市政务服务管理局".into(),
                mark: String::new(),
                code: "示政管".into(),
                to: vec!["各县（市、区）政务服务中心".into(), "市直有关部门".into()],
                cc: vec!["市纪委监委".into(), "市政府办公室".into()],
                printer: "示范市政务服务管理局办公室".into(),
                public_url: "https://zwfw.example.gov.cn/hcp/gongshi/".into(),
            },
            DEMO_OFFICER,
        )?;
    }
    // 太湖县 (the demo's main hall), for its director.
    let main_hall = s
        .halls()?
        .into_iter()
        .filter(|h| h.source == "api")
        .map(|h| h.hall_id)
        .max_by_key(|h| h == "340825-ZWFW");
    for hall_id in [None, main_hall] {
        if s.issued_reports()?
            .iter()
            .any(|r| r.month == month && r.hall_id == hall_id)
        {
            continue;
        }
        crate::report::issue_as(
            s,
            &crate::ReportIssueArgs {
                month: month.clone(),
                hall_id,
                correction: None,
                typical: vec![],
                early: false,
            },
            DEMO_OFFICER,
        )?;
    }
    Ok(())
}
