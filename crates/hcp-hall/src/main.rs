//! `hcp-hall`: generate synthetic halls, serve them over hall-api v1.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hcp_hall::{Faults, GenSpec, HallState, RunningServer, ServerState};

#[derive(Parser)]
#[command(
    name = "hcp-hall",
    version,
    about = "好差评参考大厅服务（hall-api v1）：生成演示数据并提供接口"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// 生成确定性的演示大厅数据到目录
    Generate {
        #[command(flatten)]
        gen_args: GenArgs,
        /// 输出目录
        #[arg(long)]
        out: PathBuf,
        /// 植入已知异常（差评突增、刷好评、恶意差评），答案写到 answer-key.json
        #[arg(long)]
        plant_anomalies: bool,
        /// 贴近实际的数据：评价从 --month 起到该日（含，北京时间）为止，大厅按时整改大部分差评
        /// （少数超期、个别不整改）；不给时为最坏情形（整月数据，约一半差评有整改）
        #[arg(long, value_name = "YYYY-MM-DD")]
        until: Option<chrono::NaiveDate>,
    },
    /// 提供 hall-api v1 接口（数据来自 --data 目录，或按参数现场生成）
    Serve {
        /// 由 generate 写出的数据目录
        #[arg(long)]
        data: Option<PathBuf>,
        #[command(flatten)]
        gen_args: GenArgs,
        /// 监听地址
        #[arg(long, default_value = "127.0.0.1:8640")]
        addr: SocketAddr,
        /// 持续产生新评价（演示用）
        #[arg(long)]
        live: bool,
        /// --live 时每个大厅每隔多少毫秒产生一条评价
        #[arg(long, default_value_t = 2000)]
        live_interval_ms: u64,
        /// 每第 N 个请求返回 500
        #[arg(long, default_value_t = 0)]
        fail_every: u64,
        /// 每第 N 个请求返回 429
        #[arg(long, default_value_t = 0)]
        rate_limit_every: u64,
        /// 每个请求延迟毫秒数
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// 每第 N 个 changes 响应中途断开
        #[arg(long, default_value_t = 0)]
        truncate_every: u64,
        /// changes 总是返回空页、more: true 且游标不变（测试：无进展的大厅）
        #[arg(long)]
        empty_more: bool,
        /// changes 响应填充 N MiB 空白（测试：超大响应，流式发送）
        #[arg(long, default_value_t = 0)]
        huge_page_mb: u64,
        /// 每第 N 条评价的评价内容含非 UTF-8 字节（测试：无法解码的记录）
        #[arg(long, default_value_t = 0)]
        bad_utf8_every: u64,
        /// 以上故障只作用于该大厅（默认全部大厅）
        #[arg(long)]
        fault_hall: Option<String>,
        /// 把各大厅令牌写到此文件（JSON），不打印到终端
        #[arg(long)]
        tokens_out: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct GenArgs {
    /// 随机种子
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// 大厅数
    #[arg(long, default_value_t = 3)]
    halls: usize,
    /// 评价总数（平均分到各大厅）
    #[arg(long, default_value_t = 100_000)]
    evaluations: usize,
    /// 评价所在月份，如 2026-10
    #[arg(long, default_value = "2026-10")]
    month: String,
    /// 从该月起连续几个月（12：一整年）
    #[arg(long, default_value_t = 1)]
    months: u32,
}

impl GenArgs {
    fn spec(&self) -> Result<GenSpec, String> {
        let month = hcp_core::metrics::Month::parse(&self.month)?;
        let (y, m) = (month.year, month.month);
        Ok(GenSpec {
            seed: self.seed,
            halls: self.halls.max(1),
            evaluations: self.evaluations,
            year: y,
            month: m,
            months: self.months.clamp(1, 120),
        })
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("错误：{e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Generate {
            gen_args,
            out,
            plant_anomalies,
            until,
        } => {
            let spec = gen_args.spec()?;
            let mut generated = match until {
                Some(day) => {
                    let end = day.and_hms_opt(23, 59, 59).expect("valid time");
                    let end = chrono::TimeZone::from_local_datetime(&hcp_hall::cst(), &end)
                        .single()
                        .ok_or("无效的截止日期")?;
                    hcp_hall::generate_realistic(&spec, end)
                }
                None => hcp_hall::generate(&spec),
            };
            let key = plant_anomalies.then(|| {
                hcp_hall::plant_anomalies(&mut generated, spec.seed, spec.year, spec.month)
            });
            let halls: Vec<HallState> = generated
                .into_iter()
                .map(HallState::from_generated)
                .collect();
            hcp_hall::save_dataset(&out, &halls, &hcp_hall::admin_token_for(spec.seed))
                .map_err(|e| format!("写入 {} 失败：{e}", out.display()))?;
            if let Some(key) = key {
                let path = out.join(hcp_hall::plant::ANSWER_KEY_FILE);
                let text = serde_json::to_vec_pretty(&key).map_err(|e| e.to_string())?;
                std::fs::write(&path, text)
                    .map_err(|e| format!("写入 {} 失败：{e}", path.display()))?;
                println!(
                    "植入异常 {} 处，答案见 {}",
                    key.plants.len(),
                    path.display()
                );
            }
            for h in &halls {
                println!(
                    "{}\t{}\t{} 条变更",
                    h.profile.hall_id,
                    h.profile.name,
                    h.len()
                );
            }
            println!("已写入 {}", out.display());
            Ok(())
        }
        Cmd::Serve {
            data,
            gen_args,
            addr,
            live,
            live_interval_ms,
            fail_every,
            rate_limit_every,
            delay_ms,
            truncate_every,
            empty_more,
            huge_page_mb,
            bad_utf8_every,
            fault_hall,
            tokens_out,
        } => {
            let spec = gen_args.spec()?;
            let (admin, halls) = match &data {
                Some(dir) => {
                    let (m, halls) = hcp_hall::load_dataset(dir)
                        .map_err(|e| format!("读取 {} 失败：{e}", dir.display()))?;
                    (m.admin_token, halls)
                }
                None => (
                    hcp_hall::admin_token_for(spec.seed),
                    hcp_hall::generate(&spec)
                        .into_iter()
                        .map(HallState::from_generated)
                        .collect(),
                ),
            };
            let faults = Faults {
                fail_every,
                rate_limit_every,
                retry_after_secs: 1,
                delay_ms,
                truncate_every,
                empty_more,
                huge_page_mb,
                bad_utf8_every,
                only_hall: fault_hall,
                ..Faults::default()
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let tokens: Vec<(String, String)> = halls
                    .iter()
                    .map(|h| (h.profile.hall_id.clone(), h.token.clone()))
                    .collect();
                let server =
                    RunningServer::start(addr, ServerState::new(halls, admin.clone(), faults))
                        .await
                        .map_err(|e| format!("无法监听 {addr}：{e}"))?;
                if let Some(path) = tokens_out {
                    let map: serde_json::Map<String, serde_json::Value> = tokens
                        .iter()
                        .map(|(h, t)| (h.clone(), serde_json::Value::String(t.clone())))
                        .chain([(
                            "admin".to_string(),
                            serde_json::Value::String(admin.clone()),
                        )])
                        .collect();
                    std::fs::write(&path, serde_json::to_vec_pretty(&map).unwrap_or_default())
                        .map_err(|e| format!("写入 {} 失败：{e}", path.display()))?;
                }
                println!("listening http://{}", server.addr);
                for (h, _) in &tokens {
                    println!("hall {h} {}", server.base_url(h));
                }
                let _ = std::io::stdout().flush();
                if live {
                    tokio::spawn(hcp_hall::produce_live(
                        server.state.clone(),
                        spec.seed,
                        Duration::from_millis(live_interval_ms),
                    ));
                }
                let _ = tokio::signal::ctrl_c().await;
                server.stop().await;
                Ok::<(), String>(())
            })
        }
    }
}
