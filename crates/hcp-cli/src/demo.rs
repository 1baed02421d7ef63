//! `hcp demo`: the zero-configuration first run. Starts an embedded reference hall
//! with generated data on 127.0.0.1, registers its halls, syncs, prints a summary.

use std::path::Path;
use std::process::ExitCode;

use chrono::{Datelike, Months, Utc};
use hcp_hall::{Faults, GenSpec, HallState, RunningServer, ServerState};
use hcp_store::Store;
use hcp_sync::{SyncOptions, Token};

use crate::{CliError, print_summary, register_hall, runtime, sync_async};

/// Runs the demo against the database at `db`.
pub fn run(db: &Path, evaluations: usize, serve: bool) -> Result<ExitCode, CliError> {
    // Last month in Beijing time: a full month of data that looks current.
    let now = Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
    let last = now
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(1)))
        .ok_or_else(|| CliError::Msg("无法确定演示月份".into()))?;
    let spec = GenSpec {
        seed: 42,
        halls: 3,
        evaluations,
        year: last.year(),
        month: last.month(),
    };
    eprintln!(
        "正在生成演示数据：3 个大厅、{evaluations} 条评价（{}年{}月）…",
        spec.year, spec.month
    );
    // The data comes from a fixed seed; the tokens guarding it are new each run.
    let halls: Vec<HallState> = hcp_hall::generate(&spec)
        .into_iter()
        .map(|g| {
            let mut h = HallState::from_generated(g);
            h.token = hcp_app::random_token();
            h
        })
        .collect();
    let admin = hcp_app::random_token();
    runtime()?.block_on(async move {
        let server = RunningServer::start(
            "127.0.0.1:0".parse().expect("loopback address"),
            ServerState::new(halls, admin, Faults::default()),
        )
        .await
        .map_err(|e| CliError::Msg(format!("无法启动演示大厅服务：{e}")))?;
        eprintln!("演示大厅服务已在 http://{} 启动", server.addr);
        for hall in server.state.hall_ids() {
            let token = server.token(&hall).unwrap_or_default();
            register_hall(db, &server.base_url(&hall), Token::new(token), None).await?;
        }
        let reports = sync_async(db, &[], &SyncOptions::default(), true).await?;
        print_summary(&reports);
        println!();
        let store = Store::open(db)?;
        println!("大厅\t评价数\t差评数\t差评占比\t已撤评\t申诉\t整改报告\t隔离");
        for h in store.halls()? {
            let c = store.hall_counts(&h.hall_id)?;
            let counted = c.evaluations - c.withdrawn;
            let share = if counted > 0 {
                format!("{:.2}%", c.bad as f64 * 100.0 / counted as f64)
            } else {
                "—".into()
            };
            println!(
                "{}（{}）\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                h.name, h.hall_id, c.evaluations, c.bad, share, c.withdrawn, c.appeals, c.rectifications, c.quarantined
            );
        }
        println!("演示数据库：{}", db.display());
        if serve {
            eprintln!("演示大厅服务继续运行并持续产生新评价；另开终端运行 `hcp --db {} sync` 可看到增量同步。按 Ctrl-C 结束。", db.display());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = hcp_hall::produce_live(server.state.clone(), spec.seed, std::time::Duration::from_secs(2)) => {}
            }
        } else {
            println!("演示大厅服务已停止；再次运行 `hcp demo` 可重新演示，加 --serve 可保持服务运行。");
        }
        server.stop().await;
        Ok(if reports.iter().all(|r| r.error.is_none()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
