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
use hcp_hub::{AccountRole, Hub, HubSyncReport, Operator, no_progress};
use hcp_sync::{HubClient, SyncOptions};

use crate::CliError;
use crate::bench::{generate, hall_binary, serve};

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
    pub clients: usize,
    pub actions: usize,
    pub work_dir: Option<PathBuf>,
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
        let data = work.join("hub-hall");
        let _ = std::fs::remove_dir_all(&data);
        eprintln!("生成 {} 条评价…", a.evaluations);
        generate(&bin, &data, 1, a.evaluations)?;
        let served = serve(&bin, &data, &work)?;
        let (_, url, token) = served.halls[0].clone();
        hub.add_hall(&url, &token, None, BY).await.map_err(msg)?;

        // 2: the hub's ingest.
        eprintln!("团队服务器同步…");
        let t = Instant::now();
        let reports = hub
            .sync_halls(&[], &SyncOptions::default(), no_progress())
            .await
            .map_err(msg)?;
        let ingest = t.elapsed();
        let (records, decisions, timing) = match &reports[0] {
            HubSyncReport::Synced { sync, push, timing } => {
                if let Some(e) = &sync.error {
                    return Err(CliError::Msg(e.clone()));
                }
                (sync.records, push.accepted + push.duplicate, *timing)
            }
            HubSyncReport::Busy { .. } => return Err(msg("hall busy")),
        };
        println!(
            "团队服务器入库：{records} 条变更 {:.1}s，{:.0} 条/秒（含工单引擎与向大厅送达 {decisions} 条决定）",
            ingest.as_secs_f64(),
            records as f64 / ingest.as_secs_f64()
        );
        println!(
            "  其中：PostgreSQL 事务（记录、工单、游标）{:.1}s，向大厅送达决定 {:.1}s，其余（取数与校验中未与写入重叠的部分）{:.1}s",
            timing.store_ms as f64 / 1e3,
            timing.push_ms as f64 / 1e3,
            (ingest.as_millis() as f64 - (timing.store_ms + timing.push_ms) as f64).max(0.0) / 1e3
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

        // 4: clients sending actions.
        let (pg, conn) = tokio_postgres::connect(&a.pg, tokio_postgres::NoTls)
            .await
            .map_err(msg)?;
        tokio::spawn(conn);
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
