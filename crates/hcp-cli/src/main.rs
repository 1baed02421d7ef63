//! `hcp`: the command line of HCP Supervisor (好差评督查台).

mod alerts;
mod args;
mod bench;
mod bench_hub;
mod bench_import;
mod bench_office;
mod bench_queries;
mod cases;
mod demo;
mod export;
mod halls;
mod hub;
mod import;
mod progress;
mod report;
mod serve_ui;
mod sync;
mod visits;

use args::*;
use halls::*;
use sync::*;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Datelike, TimeZone};
use clap::{Parser, Subcommand, ValueEnum};
use hcp_app::AddedHall;
use hcp_store::{Store, TokenVault};
use hcp_sync::{HallReport, SyncOptions, Token};

#[derive(Parser)]
#[command(
    name = "hcp",
    version,
    about = "好差评督查台（HCP Supervisor）命令行：同步各大厅评价数据、导出、演示",
    after_help = "本地数据库默认位于系统数据目录；可用 --db 或环境变量 HCP_DB 指定。"
)]
struct Cli {
    /// 本地数据库文件
    #[arg(long, global = true, env = "HCP_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

/// An error for people: zh-CN text, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the cache.
    #[error(transparent)]
    Store(#[from] hcp_store::StoreError),
    /// From the sync.
    #[error(transparent)]
    Sync(#[from] hcp_sync::SyncError),
    /// Anything else, already worded.
    #[error("{0}")]
    Msg(String),
}

/// `hcp … | head`: when the reader of stdout goes away, stop quietly as other
/// command-line tools do, instead of panicking on the next line printed. SIGPIPE
/// stays ignored (Rust's default): restoring its default would also end `hcp hub
/// serve` or a sync the moment a peer resets a socket it writes to. So a print
/// to a closed stdout ends the process here without a message, and the export
/// writes through [`export::QuietStdout`], which does the same.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        let closed = text.contains("failed printing to stdout")
            && (text.contains("Broken pipe")
                || text.contains("os error 32)")
                || text.contains("os error 232)"));
        if closed {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    // The hub is a service: its warnings (a hall that cannot be reached, a
    // refused connection) go to its log by default. A desk's commands say what
    // matters themselves.
    let service = matches!(
        &cli.cmd,
        Cmd::Hub {
            cmd: hub::HubCmd::Serve { .. } | hub::HubCmd::Sync { .. }
        }
    );
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HCP_LOG")
                // A desk's command reports its own failure in zh-CN (错误：…); the
                // library's log lines stay out of the way unless asked for.
                .unwrap_or_else(|_| if service { "warn" } else { "off" }.into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::from(2)
        }
    }
}

/// The default database: the platform data directory, the same folder the desktop
/// app uses (Tauri's app data dir for identifier `cn.gov.hcp.supervisor`), so the
/// command line and the window see one cache.
fn default_data_dir() -> Result<PathBuf, CliError> {
    directories::BaseDirs::new()
        .map(|d| d.data_dir().join("cn.gov.hcp.supervisor"))
        .ok_or_else(|| CliError::Msg("无法确定用户数据目录，请用 --db 指定数据库文件".into()))
}

fn db_path(cli_db: Option<PathBuf>, file: &str) -> Result<PathBuf, CliError> {
    match cli_db {
        Some(p) => Ok(p),
        None => Ok(default_data_dir()?.join(file)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Msg(format!("无法启动异步运行时：{e}")))
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.cmd {
        Cmd::Demo { serve } => {
            let db = db_path(cli.db, "demo.db")?;
            demo::run(&db, serve)
        }
        Cmd::Bench {
            evaluations,
            halls,
            work_dir,
            worst_case,
        } => bench::run(evaluations, halls, work_dir, worst_case),
        Cmd::BenchHub {
            pg,
            evaluations,
            halls,
            clients,
            actions,
            work_dir,
        } => bench_hub::run(bench_hub::Args {
            pg,
            evaluations,
            halls,
            clients,
            actions,
            work_dir,
        }),
        Cmd::Audit { cmd } => {
            let db = db_path(cli.db, "hcp.db")?;
            let store = Store::open(&db)?;
            match cmd {
                AuditCmd::Verify => {
                    let check = store.verify_audit()?;
                    match check.broken_at {
                        None => {
                            println!("审计日志完整：共 {} 条，哈希链校验通过。", check.rows);
                            // The head, to compare with any issued report's footer:
                            // a rewrite of the whole chain changes it.
                            if let Some((seq, hash)) = store.audit_head()? {
                                println!("链头：第 {seq} 条，哈希 {hash}");
                            }
                            Ok(ExitCode::SUCCESS)
                        }
                        Some((seq, why)) => {
                            println!("审计日志校验失败：{why}（第 {seq} 条）。");
                            Ok(ExitCode::from(1))
                        }
                    }
                }
                AuditCmd::List { limit } => {
                    println!("序号\t时间\t操作人\t角色\t对象\t操作\t详情");
                    for r in store.audit_rows(limit.max(1))? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            r.seq,
                            export::local_time(&r.at),
                            r.actor,
                            r.role,
                            r.subject,
                            r.action,
                            r.detail
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Cmd::Report { cmd } => report::run(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::BenchImport {
            rows,
            format,
            work_dir,
        } => bench_import::run(rows, &format, work_dir),
        Cmd::Import(a) => import::run(&db_path(cli.db, "hcp.db")?, a),
        Cmd::Visit { cmd } => visits::visit(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::Keys { cmd } => visits::keys(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::User { cmd } => cases::user(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::Hub { cmd } => hub::run(cmd, cli.db),
        Cmd::Cases {
            cmd: CasesCmd::List(a),
        } => cases::list(&db_path(cli.db, "hcp.db")?, a),
        Cmd::Case { cmd } => cases::case(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::Alerts { cmd } => alerts::run(&db_path(cli.db, "hcp.db")?, cmd),
        Cmd::Push { json } => cases::push(&db_path(cli.db, "hcp.db")?, json),
        Cmd::Calendar {
            cmd: CalendarCmd::Import { file },
        } => cases::import_calendar(&db_path(cli.db, "hcp.db")?, &file),
        Cmd::Calendar {
            cmd: CalendarCmd::Due { from, days },
        } => {
            // The cache's calendar: built-in years plus the ones an officer imported.
            let db = db_path(cli.db, "hcp.db")?;
            let cal = Store::open(&db)?.case_rules()?.calendar;
            let start = hcp_core::metrics::beijing()
                .from_local_datetime(&from.and_hms_opt(0, 0, 0).unwrap_or_default())
                .single()
                .ok_or_else(|| CliError::Msg(format!("无效日期 {from}")))?;
            let d = cal.deadline(start, days);
            println!(
                "{from} 起 {days} 个工作日，截止 {}（{}）",
                d.due_at.format("%Y-%m-%d %H:%M:%S %:z"),
                ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
                    [d.last_day.weekday().num_days_from_monday() as usize]
            );
            if d.estimated {
                println!(
                    "注意：期限涉及尚无法定节假日数据的年份，按周一至周五估算；国务院公布安排后请导入当年日历。"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::BenchReport {
            evaluations,
            halls,
            work_dir,
            period,
            cache,
        } => bench::run_report(evaluations, halls, work_dir, &period, cache),
        Cmd::BenchQueries { runs } => {
            let db = db_path(cli.db, "hcp.db")?;
            bench_queries::run(&db, runs.max(1))
        }
        Cmd::ServeUi { addr, dist, demo } => {
            let db = db_path(cli.db, "hcp.db")?;
            runtime()?.block_on(serve_ui::run(&db, addr, dist, demo))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Hall { cmd } => {
            let db = db_path(cli.db, "hcp.db")?;
            hall(&db, cmd)
        }
        Cmd::Sync {
            halls,
            json,
            page_limit,
            concurrency,
            no_push,
            max_response_mb,
        } => {
            let db = db_path(cli.db, "hcp.db")?;
            let opts = SyncOptions {
                page_limit: page_limit.clamp(1, 5000),
                concurrency: concurrency.max(1),
                max_response_bytes: max_response_mb.clamp(1, 4096) * 1024 * 1024,
                ..SyncOptions::default()
            };
            let app = hcp_app::App::open(&db)
                .map_err(|e| CliError::Msg(e.message))?
                .with_sync_options(opts);
            let args = hcp_app::SyncArgs {
                halls,
                no_push: Some(no_push),
            };
            let rt = runtime()?;
            // A shopper's replica reads no ratings: it hands visits in.
            let reads_records = rt
                .block_on(app.hub_link())
                .map_err(|e| CliError::Msg(e.message))?
                .is_none_or(|l| l.reads_records());
            let done = rt.block_on(sync_with_bars(&app, args, !json));
            let result = match done {
                Ok(r) => r,
                Err(e) if e.message.starts_with("尚未添加大厅") => {
                    return Err(CliError::Msg(format!(
                        "{}（命令行：hcp hall add URL --token-file FILE 添加大厅，或运行 hcp demo 体验）",
                        e.message
                    )));
                }
                Err(e) => return Err(CliError::Msg(e.message)),
            };
            print_sync_result(&result, json, reads_records)
        }
        Cmd::Evaluations {
            cmd:
                EvaluationsCmd::Export {
                    hall,
                    format,
                    out,
                    with_id_hash,
                },
        } => {
            let db = db_path(cli.db, "hcp.db")?;
            let store = Store::open(&db)?;
            let n = export::run(
                &store,
                hall.as_deref(),
                format,
                out.as_deref(),
                with_id_hash,
            )?;
            eprintln!("已导出 {n} 条评价");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Quarantine {
            cmd: QuarantineCmd::List { hall, json },
        } => {
            let db = db_path(cli.db, "hcp.db")?;
            let store = Store::open(&db)?;
            let rows = store.quarantine(hall.as_deref())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows)
                        .map_err(|e| CliError::Msg(e.to_string()))?
                );
            } else if rows.is_empty() {
                println!("隔离区为空：所有记录均通过校验。");
            } else {
                println!("大厅编码\t序号\t类型\t原因\t隔离时间");
                for r in &rows {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        r.hall_id,
                        r.seq,
                        if r.kind.is_empty() { "?" } else { &r.kind },
                        r.reason,
                        export::local_time(&r.quarantined_at)
                    );
                }
                println!("共 {} 条", rows.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
