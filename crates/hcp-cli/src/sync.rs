//! `hcp sync`: App::sync_now with progress bars and the summary table; the benchmark's direct sync.

use super::*;

/// The halls' records, then the alerts of the months the sync touched, straight
/// into the cache (the benchmark's sync; `hcp sync` goes through the app).
pub(crate) async fn sync_async(
    db: &Path,
    only: &[String],
    opts: &SyncOptions,
    show_progress: bool,
) -> Result<Vec<HallReport>, CliError> {
    let reports = sync_records(db, only, opts, show_progress).await?;
    // The months this sync touched get their alerts now, not at the next read.
    match refresh_alerts(db) {
        Ok(months) => {
            for (m, r) in months {
                tracing::info!(month = %m, found = r.found, new = r.new, "alerts recomputed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "alerts recompute failed; the next read retries"),
    }
    Ok(reports)
}

/// Recomputes the alerts of the months writes have touched since the last time.
pub(crate) fn refresh_alerts(
    db: &Path,
) -> Result<Vec<(String, hcp_store::AlertRecompute)>, hcp_store::StoreError> {
    Store::open(db)?.recompute_due_alerts()
}

/// The halls' records only (the benchmark times the alerts apart).
pub(crate) async fn sync_records(
    db: &Path,
    only: &[String],
    opts: &SyncOptions,
    show_progress: bool,
) -> Result<Vec<HallReport>, CliError> {
    let store = Store::open(db)?;
    for h in only {
        if store.hall(h)?.is_none() {
            return Err(CliError::Msg(format!("没有编码为 “{h}” 的大厅")));
        }
    }
    let eps = hcp_sync::endpoints(&store, &TokenVault::for_database(db), only)?;
    drop(store);
    if eps.is_empty() {
        return Err(CliError::Msg(
            "尚未添加大厅。用 `hcp hall add URL --token-file FILE` 添加，或运行 `hcp demo` 体验。"
                .into(),
        ));
    }
    let bars = Arc::new(progress::SyncBars::new(show_progress));
    let b2 = bars.clone();
    let reports = hcp_sync::sync_halls(db, eps, opts, Arc::new(move |e| b2.on_event(e))).await;
    bars.finish();
    Ok(reports)
}

/// `App::sync_now` with the progress bars fed by its events (on a terminal).
pub(crate) async fn sync_with_bars(
    app: &hcp_app::App,
    args: hcp_app::SyncArgs,
    show_progress: bool,
) -> hcp_app::AppResult<hcp_app::SyncResult> {
    let bars = progress::SyncBars::new(show_progress);
    let mut events = app.subscribe();
    let sync = app.sync_now(args);
    tokio::pin!(sync);
    let result = loop {
        tokio::select! {
            biased;
            r = &mut sync => break r,
            e = events.recv() => {
                if let Ok(e) = e {
                    bars.on_event(&e);
                }
            }
        }
    };
    while let Ok(e) = events.try_recv() {
        bars.on_event(&e);
    }
    bars.finish();
    result
}

/// What `hcp sync` prints, and its exit code: 0 when every hall and the hub
/// answered, 1 when a hall failed on a single desk, 2 when the hub could not
/// finish (a replica).
pub(crate) fn print_sync_result(
    r: &hcp_app::SyncResult,
    json: bool,
    reads_records: bool,
) -> Result<ExitCode, CliError> {
    let failed = r.reports.iter().any(|r| r.error.is_some());
    fn to_json<T: serde::Serialize>(v: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(v).map_err(|e| CliError::Msg(e.to_string()))?;
        println!("{text}");
        Ok(())
    }
    if let Some(ex) = &r.hub {
        // A replica of an office hub: the hub delivers decisions to the halls;
        // this desk sent its queued actions to the hub and took the office's cases.
        if json {
            to_json(&serde_json::json!({ "reports": r.reports, "hub": ex }))?;
        } else if !reads_records {
            println!(
                "团队服务器：交件 {} 份，未受理 {} 份。",
                ex.visits_sent, ex.visits_refused
            );
            if ex.visits_refused > 0 {
                println!("未受理的交件及原因见 hcp hub status。");
            }
        } else {
            print_summary(&r.reports);
            println!(
                "团队服务器：发送 {} 项操作（受理 {}，未受理 {}），收到 {} 张工单的更新、{} 份已签发通报、{} 份暗访交件。",
                ex.sent, ex.accepted, ex.rejected, ex.cases, ex.reports, ex.visits_received
            );
            if ex.rejected > 0 {
                println!("未受理的操作及原因见 hcp hub status 与各工单页面。");
            }
        }
        if let Some(e) = &ex.error {
            eprintln!("团队服务器暂时无法完成同步：{e}；待发送的操作保留在本机，下次同步时发送。");
            return Ok(ExitCode::from(2));
        }
        return Ok(if failed {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    if json {
        to_json(&r.reports)?;
    } else {
        print_summary(&r.reports);
        if !r.pushed.is_empty() {
            let sent: u64 = r.pushed.iter().map(|p| p.accepted + p.duplicate).sum();
            let left: u64 = r.pushed.iter().map(|p| p.pending).sum();
            println!("已向大厅送达 {sent} 条决定，待发送 {left} 条。");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The per-hall summary table.
pub(crate) fn print_summary(reports: &[HallReport]) {
    println!("大厅编码\t新增\t更新\t未变\t隔离\t跳过\t用时\t结果");
    for r in reports {
        let o = &r.outcome;
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{:.1}s\t{}",
            r.hall_id,
            o.new,
            o.updated,
            o.unchanged,
            o.quarantined,
            o.skipped,
            r.elapsed_ms as f64 / 1000.0,
            match &r.error {
                None => "成功".to_string(),
                Some(e) => format!("失败：{e}"),
            }
        );
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if failed == 0 {
        println!("同步完成：{} 个大厅全部成功。", reports.len());
    } else {
        println!(
            "同步结束：{} 个大厅成功，{failed} 个失败（其余大厅不受影响）。",
            reports.len() - failed
        );
    }
}
