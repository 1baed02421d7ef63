//! `hcp bench-hub --pg URL`: the office hub under load, on loopback.
//!
//! 1. one hall of N evaluations (`hcp-hall generate` + `serve`, child processes);
//! 2. the hub syncs it into PostgreSQL with the case engine on: evaluations/s;
//! 3. a new desk connects and syncs from the hub: seconds until it is a ready
//!    replica (every record and every case);
//! 4. C simulated desks each send A actions, one per request, on cases of their
//!    own (tracking each case's version): throughput, p50/p99 latency, and a check
//!    that every action was accepted once and every case moved exactly that often.
//!
//! The database must be empty (a throwaway one): the bench registers a hall and
//! accounts in it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hcp_core::Role;
use hcp_core::case::Action;
use hcp_core::hub::ActionRequest;
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, Hub, HubSyncReport, Operator};
use hcp_sync::{HubClient, SyncOptions};

use crate::CliError;
use crate::bench::{generate, generate_months, hall_binary, serve};

fn msg(e: impl std::fmt::Display) -> CliError {
    CliError::Msg(e.to_string())
}

const BY: Operator<'static> = Operator {
    name: "bench",
    role: "admin",
};
const PASSWORD: &str = "bench-password-1";

/// What the bench measures, in one line each.
pub struct Args {
    pub pg: String,
    pub evaluations: usize,
    pub halls: usize,
    pub clients: usize,
    pub actions: usize,
    pub work_dir: Option<PathBuf>,
}

/// Changes stored per hall as the sync reports them, sampled each time the total
/// passes another 250,000: the rate of each step.
#[derive(Default)]
struct RateMarks {
    per_hall: std::collections::HashMap<String, u64>,
    total: u64,
    marks: Vec<(f64, u64)>,
}

impl RateMarks {
    const STEP: u64 = 250_000;

    fn add(&mut self, hall: &str, records: u64, secs: f64) {
        let before = self.per_hall.insert(hall.to_owned(), records).unwrap_or(0);
        self.total += records.saturating_sub(before);
        let last = self.marks.last().map_or(0, |m| m.1);
        if self.total >= last + Self::STEP {
            self.marks.push((secs, self.total));
        }
    }

    fn rates(&self) -> Vec<f64> {
        std::iter::once(&(0.0, 0))
            .chain(&self.marks)
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1].0 > w[0].0)
            .map(|w| (w[1].1 - w[0].1) as f64 / (w[1].0 - w[0].0))
            .collect()
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

pub fn run(a: Args) -> Result<ExitCode, CliError> {
    let bin = hall_binary()?;
    let work = a.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("hcp-bench-hub-{}", std::process::id()))
    });
    std::fs::create_dir_all(&work).map_err(msg)?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        Hub::init(&a.pg).await.map_err(msg)?;
        let hub = Hub::open(&a.pg).await.map_err(msg)?;
        if !hub.halls().await.map_err(msg)?.is_empty() {
            return Err(CliError::Msg(
                "bench-hub 需要一个空的 PostgreSQL 数据库（它会登记大厅与账号）".into(),
            ));
        }
        // One hall: a month of it; several: the realistic year of `hcp bench`
        // (the same data directory, so one --work-dir serves both benches).
        let data = if a.halls <= 1 {
            let data = work.join("hub-hall");
            let _ = std::fs::remove_dir_all(&data);
            eprintln!("生成 {} 条评价…", a.evaluations);
            generate(&bin, &data, 1, a.evaluations)?;
            data
        } else {
            let until = chrono::Utc::now()
                .with_timezone(&hcp_core::metrics::beijing())
                .date_naive()
                - chrono::Days::new(1);
            let data = work.join(format!("realistic-{}-{}-{until}", a.halls, a.evaluations));
            if !data.join("halls.json").exists() {
                let _ = std::fs::remove_dir_all(&data);
                eprintln!("生成 {} 条评价（{} 个大厅，截至 {until}）…", a.evaluations, a.halls);
                generate_months(&bin, &data, a.halls, a.evaluations, "2026-01", 12, Some(until))?;
            }
            data
        };
        let served = serve(&bin, &data, &work)?;
        for (_, url, token) in &served.halls {
            hub.add_hall(url, token, None, BY).await.map_err(msg)?;
        }
        let (pg, conn) = tokio_postgres::connect(&a.pg, tokio_postgres::NoTls)
            .await
            .map_err(msg)?;
        tokio::spawn(conn);

        // 2: the hub's ingest, its rate sampled every 250,000 changes.
        eprintln!("团队服务器同步…");
        let marks = std::sync::Arc::new(std::sync::Mutex::new(RateMarks::default()));
        let t = Instant::now();
        let m2 = marks.clone();
        let on_event: hcp_sync::ProgressFn = std::sync::Arc::new(move |e: &hcp_sync::SyncEvent| {
            if let hcp_sync::SyncEvent::Page {
                hall_id, records, ..
            } = e
                && let Ok(mut m) = m2.lock()
            {
                m.add(hall_id, *records, t.elapsed().as_secs_f64());
            }
        });
        let mut options = SyncOptions::default();
        options.concurrency = options.concurrency.max(4);
        let reports = hub
            .sync_halls(&[], &options, on_event)
            .await
            .map_err(msg)?;
        let ingest = t.elapsed();
        let (mut records, mut decisions) = (0u64, 0u64);
        let (mut store_ms, mut push_ms) = (0u64, 0u64);
        for r in &reports {
            match r {
                HubSyncReport::Synced { sync, push, timing } => {
                    if let Some(e) = &sync.error {
                        return Err(CliError::Msg(e.clone()));
                    }
                    records += sync.records;
                    decisions += push.accepted + push.duplicate;
                    store_ms += timing.store_ms;
                    push_ms += timing.push_ms;
                }
                HubSyncReport::Busy { .. } => return Err(msg("hall busy")),
            }
        }
        println!(
            "团队服务器入库：{} 个大厅 {records} 条变更 {:.1}s，{:.0} 条/秒（含工单引擎与向大厅送达 {decisions} 条决定）",
            reports.len(),
            ingest.as_secs_f64(),
            records as f64 / ingest.as_secs_f64()
        );
        println!(
            "  其中（各大厅相加，{} 个并行）：PostgreSQL 事务（记录、工单、游标）{:.1}s，向大厅送达决定 {:.1}s",
            options.concurrency,
            store_ms as f64 / 1e3,
            push_ms as f64 / 1e3,
        );
        if let Ok(m) = marks.lock() {
            let rates = m.rates();
            if let (Some(min), Some(max)) = (
                rates.iter().copied().reduce(f64::min),
                rates.iter().copied().reduce(f64::max),
            ) {
                let tail = &rates[rates.len().saturating_sub(4)..];
                println!(
                    "  分段速率（每 25 万条变更）：最低 {min:.0}/s，最高 {max:.0}/s，前四段 {:.0}/s，最后四段 {:.0}/s",
                    mean(&rates[..rates.len().min(4)]),
                    mean(tail)
                );
            }
        }
        let size = |sql: &'static str| {
            let pg = &pg;
            async move {
                pg.query_one(sql, &[])
                    .await
                    .map(|r| r.get::<_, i64>(0))
                    .map_err(msg)
            }
        };
        let db_bytes = size("SELECT pg_database_size(current_database())").await?;
        let tables = pg
            .query(
                "SELECT relname::text, pg_total_relation_size(c.oid)::int8 FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                 ORDER BY 2 DESC LIMIT 5",
                &[],
            )
            .await
            .map_err(msg)?;
        println!(
            "PostgreSQL 数据库大小：{:.2} GB（{}）",
            db_bytes as f64 / 1e9,
            tables
                .iter()
                .map(|r| format!(
                    "{} {:.2} GB",
                    r.get::<_, String>(0),
                    r.get::<_, i64>(1) as f64 / 1e9
                ))
                .collect::<Vec<_>>()
                .join("，")
        );

        // 3: a new replica.
        for (name, role) in (0..a.clients)
            .map(|i| (format!("officer{i}"), Role::Officer))
            .chain([("replica".to_string(), Role::Officer)])
        {
            hub.add_user(&name, AccountRole::Person(role), None, PASSWORD, BY)
                .await
                .map_err(msg)?;
        }
        let srv = RunningHub::start(hub.clone(), "127.0.0.1:0".parse().map_err(msg)?)
            .await
            .map_err(msg)?;
        let desk = work.join("replica.db");
        for suffix in ["", "-wal", "-shm", ".tokens"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", desk.display()));
        }
        let t = Instant::now();
        let app = hcp_app::App::open(&desk).map_err(|e| CliError::Msg(e.message))?;
        app.hub_connect(hcp_app::HubConnectArgs {
            url: srv.url(),
            name: "replica".into(),
            password: PASSWORD.into(),
            ca_file: None,
            pinned_certificate: None,
        })
        .await
        .map_err(|e| CliError::Msg(e.message))?;
        let connected = t.elapsed();
        let r = app
            .sync_now(hcp_app::SyncArgs::default())
            .await
            .map_err(|e| CliError::Msg(e.message))?;
        let ready = t.elapsed();
        let cases = r.hub.as_ref().map_or(0, |h| h.cases);
        let got: u64 = r.reports.iter().map(|h| h.records).sum();
        let halls_ms: u64 = r.reports.iter().map(|h| h.elapsed_ms).max().unwrap_or(0);
        println!(
            "新副本就绪：{:.1}s（{got} 条大厅记录、{cases} 张工单）；其中连接 {:.1}s，经团队服务器同步大厅 {:.1}s，工单与通报 {:.1}s",
            ready.as_secs_f64(),
            connected.as_secs_f64(),
            halls_ms as f64 / 1e3,
            (ready - connected).as_secs_f64() - halls_ms as f64 / 1e3
        );
        drop(app);

        // 3b: a director's replica of one hall.
        let (first_hall, _, _) = served.halls[0].clone();
        hub.add_user(
            "director",
            AccountRole::Person(Role::Director),
            Some(&first_hall),
            PASSWORD,
            BY,
        )
        .await
        .map_err(msg)?;
        let desk = work.join("director.db");
        for suffix in ["", "-wal", "-shm", ".tokens"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", desk.display()));
        }
        let t = Instant::now();
        let app = hcp_app::App::open(&desk).map_err(|e| CliError::Msg(e.message))?;
        app.hub_connect(hcp_app::HubConnectArgs {
            url: srv.url(),
            name: "director".into(),
            password: PASSWORD.into(),
            ca_file: None,
            pinned_certificate: None,
        })
        .await
        .map_err(|e| CliError::Msg(e.message))?;
        let r = app
            .sync_now(hcp_app::SyncArgs::default())
            .await
            .map_err(|e| CliError::Msg(e.message))?;
        let got: u64 = r.reports.iter().map(|h| h.records).sum();
        println!(
            "大厅负责人副本（{first_hall} 一个大厅）就绪：{:.1}s（{got} 条大厅记录、{} 张工单）",
            t.elapsed().as_secs_f64(),
            r.hub.as_ref().map_or(0, |h| h.cases)
        );
        drop(app);

        // 4: clients sending actions.
        let per_client = 50usize;
        let rows = pg
            .query(
                "SELECT case_id, version FROM hub_cases
                 WHERE state IN ('open', 'rectifying', 'awaiting_signoff', 'appeal_window',
                                 'awaiting_callback', 'explained')
                 ORDER BY case_id LIMIT $1",
                &[&((a.clients * per_client) as i64)],
            )
            .await
            .map_err(msg)?;
        if rows.len() < a.clients * per_client {
            return Err(msg(format!(
                "可办理的工单只有 {} 张，不足 {} 个客户端 × {per_client} 张",
                rows.len(),
                a.clients
            )));
        }
        let cases: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let before: i64 = cases.iter().map(|c| c.1).sum();
        let base = srv.url();
        let t = Instant::now();
        let mut tasks = vec![];
        for (i, mine) in cases.chunks(per_client).enumerate() {
            let mine = mine.to_vec();
            let base = base.clone();
            let n = a.actions;
            tasks.push(tokio::spawn(async move {
                let s = HubClient::login(
                    &base,
                    &format!("officer{i}"),
                    PASSWORD,
                    None,
                    &SyncOptions::default(),
                )
                    .await?;
                let client = HubClient::new(&base, &s.token, None, &SyncOptions::default())?;
                let mut versions: Vec<(i64, i64)> = mine;
                let mut latencies = Vec::with_capacity(n);
                let mut accepted = 0u64;
                for k in 0..n {
                    let slot = k % versions.len();
                    let (case_id, version) = versions[slot];
                    let req = ActionRequest {
                        id: uuid::Uuid::new_v4().to_string(),
                        case_id,
                        expected_version: version,
                        action: Action::Assign {
                            lead: format!("D{:03}", k % 7),
                            co: vec![],
                        },
                    };
                    let t = Instant::now();
                    let r = client.post_actions(std::slice::from_ref(&req)).await?;
                    latencies.push(t.elapsed());
                    match r.first() {
                        Some(x) if x.status == "accepted" => {
                            accepted += 1;
                            versions[slot].1 = x.version.unwrap_or(version + 1);
                        }
                        other => {
                            return Err(hcp_sync::SyncError::Internal(format!(
                                "action not accepted: {other:?}"
                            )));
                        }
                    }
                }
                Ok::<_, hcp_sync::SyncError>((accepted, latencies))
            }));
        }
        let mut latencies: Vec<Duration> = vec![];
        let mut accepted = 0;
        for t in tasks {
            let (n, l) = t.await.map_err(msg)?.map_err(msg)?;
            accepted += n;
            latencies.extend(l);
        }
        let load = t.elapsed();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let ids: Vec<i64> = cases.iter().map(|c| c.0).collect();
        let after: i64 = pg
            .query_one(
                "SELECT COALESCE(sum(version), 0)::int8 FROM hub_cases WHERE case_id = ANY($1)",
                &[&ids],
            )
            .await
            .map_err(msg)?
            .get(0);
        let recorded: i64 = pg
            .query_one(
                "SELECT count(*) FROM hub_actions WHERE status = 'accepted'",
                &[],
            )
            .await
            .map_err(msg)?
            .get(0);
        let sent = (a.clients * a.actions) as i64;
        println!(
            "操作：{} 个客户端 × {} 个 = {sent}，用时 {:.1}s（{:.0} 个/秒）；延迟 p50 {:.1} ms，p99 {:.1} ms，最大 {:.1} ms",
            a.clients,
            a.actions,
            load.as_secs_f64(),
            sent as f64 / load.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
        let ok = accepted as i64 == sent && recorded == sent && after - before == sent;
        println!(
            "核对：受理 {accepted}，库中记录 {recorded}，工单版本共增加 {}——{}",
            after - before,
            if ok { "无丢失、无重复" } else { "不一致！" }
        );
        drop(served);
        Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
