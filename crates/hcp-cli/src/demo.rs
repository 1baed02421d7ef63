//! `hcp demo`: the zero-configuration first run, through the same demo the window
//! loads (hcp-app): an embedded reference hall with the last 60 days of ratings,
//! worked through by a demo office, then a summary.

use std::path::Path;
use std::process::ExitCode;

use hcp_app::{App, CaseCountArgs};
use hcp_store::Store;

use crate::{CliError, print_summary, runtime};

/// Runs the demo against the database at `db`.
pub fn run(db: &Path, serve: bool) -> Result<ExitCode, CliError> {
    let app = App::open(db).map_err(|e| CliError::Msg(e.message))?;
    runtime()?.block_on(async move {
        eprintln!("正在载入演示数据：3 个大厅近 60 天的评价，演示督查员 {} 的办理过程（首次约需几十秒）…", hcp_app::DEMO_OFFICER);
        let loaded = app
            .load_demo()
            .await
            .map_err(|e| CliError::Msg(e.message))?;
        print_summary(&loaded.reports);
        println!();
        let store = Store::open(db)?;
        println!("大厅\t评价数\t差评数\t差评占比\t已撤评\t申诉\t整改报告\t隔离");
        for h in store.halls()?.into_iter().filter(|h| h.source == "api") {
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
        let counts = app
            .case_counts(CaseCountArgs::default())
            .await
            .map_err(|e| CliError::Msg(e.message))?;
        let line: Vec<String> = counts
            .iter()
            .filter(|c| c.total > 0)
            .map(|c| format!("{} {}", hcp_core::case::CaseState::parse(&c.state).map_or(c.state.as_str(), |s| s.label_zh()), c.total))
            .collect();
        println!("差评工单：{}", line.join("，"));
        println!("暗访记录 {} 条，已签发通报 {} 期", store.list_visits(None)?.len(), store.issued_reports()?.len());
        println!("演示数据库：{}", db.display());
        if serve {
            eprintln!("演示大厅服务继续运行并持续产生新评价；另开终端运行 `hcp --db {} sync` 可看到增量同步。按 Ctrl-C 结束。", db.display());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                r = app.run_demo_live(std::time::Duration::from_secs(2)) => r.map_err(|e| CliError::Msg(e.message))?,
            }
        } else {
            println!("演示大厅服务已停止；再次运行 `hcp demo` 可继续演示（数据保留），加 --serve 可保持服务运行。");
        }
        Ok(if loaded.reports.iter().all(|r| r.error.is_none()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
