//! `hcp`: the command line of HCP Supervisor (好差评督查台).

mod alerts;
mod bench;
mod bench_hub;
mod bench_import;
mod bench_queries;
mod cases;
mod demo;
mod export;
mod hub;
mod import;
mod progress;
mod report;
mod serve_ui;
mod visits;

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

#[derive(Subcommand)]
enum Cmd {
    /// 大厅管理：添加、列出、移除
    Hall {
        #[command(subcommand)]
        cmd: HallCmd,
    },
    /// 从各大厅同步评价数据，随后把待发送的决定发给大厅
    Sync {
        /// 只同步这些大厅（可重复）；默认全部
        #[arg(long = "hall")]
        halls: Vec<String>,
        /// 以 JSON 输出结果
        #[arg(long)]
        json: bool,
        /// 每页请求的记录数（1–5000）
        #[arg(long, default_value_t = 5000)]
        page_limit: u32,
        /// 同时同步的大厅数
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// 只同步，不发送待发送的决定
        #[arg(long)]
        no_push: bool,
        /// 单个响应的大小上限（MiB，按解压后计算）；超过的大厅停止同步并报错
        #[arg(long, default_value_t = 64)]
        max_response_mb: u64,
    },
    /// 评价数据
    Evaluations {
        #[command(subcommand)]
        cmd: EvaluationsCmd,
    },
    /// 导入省级好差评系统导出的评价明细表格（.xlsx / .xls / .csv，UTF-8 或 GBK）
    Import(import::ImportArgs),
    /// 电子监察预警：差评突增、疑似刷好评、疑似恶意差评
    Alerts {
        #[command(subcommand)]
        cmd: alerts::AlertsCmd,
    },
    /// 隔离区：校验未通过的记录
    Quarantine {
        #[command(subcommand)]
        cmd: QuarantineCmd,
    },
    /// 演示：启动内置参考大厅、登记、同步并打印汇总（零配置）
    Demo {
        /// 同步后继续提供演示大厅服务并持续产生新评价，直到按 Ctrl-C
        #[arg(long)]
        serve: bool,
    },
    /// 性能基准：通报（默认一个月 100 万条评价、20 个大厅的月度通报）：模型/JSON、PDF、XLSX 用时
    BenchReport {
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 大厅数
        #[arg(long, default_value_t = 20)]
        halls: usize,
        /// 工作目录（保留数据，再次运行时直接复用）
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// 通报期间：月 2026-10、季度 2026-Q3 或年度 2026
        #[arg(long, default_value = "2026-10")]
        period: String,
        /// 直接对已有的数据库出通报（如 hcp bench --work-dir 留下的 bench.db），不生成数据
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// 性能基准：在已有数据的数据库上测工作台、评价列表首页/深页、计数的响应时间
    BenchQueries {
        /// 每项重复次数（取中位数）
        #[arg(long, default_value_t = 15)]
        runs: usize,
    },
    /// 团队服务器（PostgreSQL）：初始化、运行、账号、审计
    Hub {
        #[command(subcommand)]
        cmd: hub::HubCmd,
    },
    /// 本机用户与身份
    User {
        #[command(subcommand)]
        cmd: cases::UserCmd,
    },
    /// 差评工单列表
    Cases {
        #[command(subcommand)]
        cmd: CasesCmd,
    },
    /// 差评工单办理：查看、核实、验收、退回、申诉复核、回访、转办、办结
    Case {
        #[command(subcommand)]
        cmd: cases::CaseCmd,
    },
    /// 把待发送的决定发给各大厅（按顺序，失败自动重试）
    Push {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 暗访记录：新建、填写、照片、提交、导出/导入交件、审核
    Visit {
        #[command(subcommand)]
        cmd: visits::VisitCmd,
    },
    /// 暗访交件签名密钥：本机公钥、信任暗访员公钥
    Keys {
        #[command(subcommand)]
        cmd: visits::KeysCmd,
    },
    /// 月度通报：生成（PDF/Excel/JSON）、签发、列表、导出已签发版本
    Report {
        #[command(subcommand)]
        cmd: report::ReportCmd,
    },
    /// 审计日志（全过程留痕）
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// 法定工作日日历
    Calendar {
        #[command(subcommand)]
        cmd: CalendarCmd,
    },
    /// 在浏览器中使用界面：在 127.0.0.1 提供界面与命令接口（测试与开发用）
    ServeUi {
        /// 监听地址（只允许本机回环地址）
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: std::net::SocketAddr,
        /// 已构建的界面目录
        #[arg(long, default_value = "ui/dist")]
        dist: PathBuf,
        /// 尚未添加任何大厅时，启动时载入演示数据（演示数据载入过的缓存总会恢复演示大厅）
        #[arg(long)]
        demo: bool,
    },
    /// 性能基准：评价表格导入（生成 N 行 20 个大厅的导出文件，导入空数据库，报告行/秒与峰值内存）
    BenchImport {
        /// 行数
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// 文件格式：csv 或 xlsx
        #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx"])]
        format: String,
        /// 工作目录（保留生成的文件，再次运行时直接复用）
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// 性能基准：百万评价端到端同步、对比 sqlite3 导入、十个大厅空同步
    Bench {
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 大厅数（多于 1 个时评价分布在 2026 年全年）
        #[arg(long, default_value_t = 1)]
        halls: usize,
        /// 工作目录（默认临时目录；保留时再次运行复用生成的数据）
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// 性能基准：团队服务器入库、新副本就绪、多客户端并发办理（需要一个空的 PostgreSQL 数据库）
    BenchHub {
        /// PostgreSQL 连接串（空库），也可用环境变量 HCP_HUB_PG
        #[arg(long, env = "HCP_HUB_PG", hide_env_values = true)]
        pg: String,
        /// 评价数
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        /// 模拟客户端数
        #[arg(long, default_value_t = 20)]
        clients: usize,
        /// 每个客户端的操作数
        #[arg(long, default_value_t = 2000)]
        actions: usize,
        /// 工作目录（默认临时目录）
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum HallCmd {
    /// 添加大厅：读取其资料并保存令牌
    Add {
        /// 大厅接口地址，如 https://10.1.2.3:8443/hcp/
        url: String,
        /// 令牌文件（文件内容即令牌）
        #[arg(long)]
        token_file: PathBuf,
        /// 额外信任的 CA 证书文件（PEM），用于政务内网私有 CA
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// 列出大厅
    List {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 移除大厅及其本地缓存数据
    Remove {
        /// 大厅编码
        id: String,
    },
}

#[derive(Subcommand)]
enum CasesCmd {
    /// 列出工单（按时限由近到远）
    List(cases::CasesListArgs),
}

#[derive(Subcommand)]
enum AuditCmd {
    /// 校验审计日志的哈希链：任何一条被修改或删除都会指出第一条出问题的记录
    Verify,
    /// 列出最近的审计记录
    List {
        /// 条数
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// 计算期限：从某日起 N 个工作日（起始日不计），截止到最后一日 23:59:59（北京时间）
    Due {
        /// 起始日期（北京时间），如 2026-09-28
        #[arg(long)]
        from: chrono::NaiveDate,
        /// 工作日数
        #[arg(long)]
        days: u32,
    },
    /// 导入新一年的法定节假日与调休数据（holiday-cn 格式 JSON），并重新计算时限
    Import {
        /// JSON 文件
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum EvaluationsCmd {
    /// 导出每条评价的最新版本
    Export {
        /// 只导出该大厅
        #[arg(long)]
        hall: Option<String>,
        /// 格式
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// 输出文件（默认标准输出）
        #[arg(long)]
        out: Option<PathBuf>,
        /// JSONL 中保留评价人身份证号哈希（evaluator.id_hash）；默认不导出
        #[arg(long)]
        with_id_hash: bool,
    },
}

#[derive(Subcommand)]
enum QuarantineCmd {
    /// 列出被隔离的记录及原因
    List {
        /// 只列该大厅
        #[arg(long)]
        hall: Option<String>,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// JSON Lines，字段名与 hall-api 完全一致
    Jsonl,
    /// CSV（UTF-8 BOM、中文表头，Excel/WPS 可直接打开）
    Csv,
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
        } => bench::run(evaluations, halls, work_dir),
        Cmd::BenchHub {
            pg,
            evaluations,
            clients,
            actions,
            work_dir,
        } => bench_hub::run(bench_hub::Args {
            pg,
            evaluations,
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

fn hall(db: &Path, cmd: HallCmd) -> Result<ExitCode, CliError> {
    match cmd {
        HallCmd::Add {
            url,
            token_file,
            ca_file,
        } => {
            // A token is a line of text: a huge file is not a token file.
            let token = match std::fs::metadata(&token_file) {
                Ok(m) if m.len() > 64 * 1024 => {
                    return Err(CliError::Msg(format!(
                        "令牌文件 {} 过大（{} 字节），不像令牌文件",
                        token_file.display(),
                        m.len()
                    )));
                }
                _ => std::fs::read_to_string(&token_file).map_err(|e| {
                    CliError::Msg(format!("无法读取令牌文件 {}：{e}", token_file.display()))
                })?,
            };
            if token.trim().is_empty() {
                return Err(CliError::Msg(format!(
                    "令牌文件 {} 是空的",
                    token_file.display()
                )));
            }
            let ca_file = match ca_file {
                Some(p) => Some(std::fs::canonicalize(&p).map_err(|e| {
                    CliError::Msg(format!("无法读取 CA 证书文件 {}：{e}", p.display()))
                })?),
                None => None,
            };
            let added = add_hall(db, &url, Token::new(token), ca_file.as_deref())?;
            eprintln!(
                "{}大厅 {}（{}），令牌已保存到{}（不写入数据库）。",
                if added.new { "已添加" } else { "已更新" },
                added.hall_id,
                added.name,
                added.token_location
            );
            if let Some(w) = &added.transport_warning {
                eprintln!("警告：{w}");
            }
            println!("{}", added.hall_id);
            Ok(ExitCode::SUCCESS)
        }
        HallCmd::List { json } => {
            let store = Store::open(db)?;
            let halls = store.halls()?;
            if json {
                #[derive(serde::Serialize)]
                struct Row {
                    #[serde(flatten)]
                    hall: hcp_store::HallRecord,
                    sync: hcp_store::SyncState,
                    counts: hcp_store::HallCounts,
                    transport_warning: Option<String>,
                }
                let rows = halls
                    .into_iter()
                    .map(|h| {
                        Ok(Row {
                            sync: store.sync_state(&h.hall_id)?,
                            counts: store.hall_counts(&h.hall_id)?,
                            transport_warning: hcp_sync::transport_warning(&h.base_url),
                            hall: h,
                        })
                    })
                    .collect::<Result<Vec<_>, CliError>>()?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows)
                        .map_err(|e| CliError::Msg(e.to_string()))?
                );
            } else if halls.is_empty() {
                println!(
                    "尚未添加大厅。用 `hcp hall add URL --token-file FILE` 添加，或运行 `hcp demo` 体验。"
                );
            } else {
                println!("大厅编码\t名称\t评价数\t上次成功同步\t上次错误\t地址");
                for h in halls {
                    let s = store.sync_state(&h.hall_id)?;
                    let c = store.hall_counts(&h.hall_id)?;
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        h.hall_id,
                        h.name,
                        c.evaluations,
                        s.last_success_at
                            .as_deref()
                            .map(export::local_time)
                            .unwrap_or_else(|| "从未".into()),
                        s.last_error.as_deref().unwrap_or("—"),
                        if hcp_sync::transport_warning(&h.base_url).is_some() {
                            format!("{}（未加密 http）", h.base_url)
                        } else {
                            h.base_url.clone()
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HallCmd::Remove { id } => {
            // Through hcp-app, like the UI: the token goes and the removal is audited.
            let app = hcp_app::App::open(db).map_err(|e| CliError::Msg(e.message))?;
            runtime()?
                .block_on(app.remove_hall(hcp_app::HallIdArgs {
                    hall_id: id.clone(),
                }))
                .map_err(|e| CliError::Msg(e.message))?;
            println!("已移除大厅 {id} 及其本地缓存数据。");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Fetches the hall's profile, stores the hall and its token.
pub(crate) fn add_hall(
    db: &Path,
    url: &str,
    token: Token,
    ca_file: Option<&Path>,
) -> Result<AddedHall, CliError> {
    runtime()?.block_on(register_hall(db, url, token, ca_file))
}

/// [`add_hall`] inside a runtime (hcp-app's registration, shared with the UI).
pub(crate) async fn register_hall(
    db: &Path,
    url: &str,
    token: Token,
    ca_file: Option<&Path>,
) -> Result<AddedHall, CliError> {
    hcp_app::register_hall(db, url, token, ca_file)
        .await
        .map_err(|e| CliError::Msg(e.message))
}

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
async fn sync_with_bars(
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
fn print_sync_result(
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
