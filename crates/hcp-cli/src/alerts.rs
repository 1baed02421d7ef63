//! `hcp alerts …`: 电子监察预警 on the command line, through hcp-app like the window.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use hcp_app::{AlertsArgs, App, DecideAlertArgs};

use crate::{CliError, runtime};

#[derive(Subcommand)]
pub enum AlertsCmd {
    /// 重新计算并列出某月的预警
    List {
        /// 月份 YYYY-MM（默认本月）
        #[arg(long)]
        month: Option<String>,
        /// 只列一类：spike 差评突增 | repeat_rater | concentrated | praise_burst | serial_run 疑似刷好评 | malicious_rater 疑似恶意差评
        #[arg(long)]
        kind: Option<String>,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
        /// 重新计算整月（所有大厅），而不只是上次同步改动的部分
        #[arg(long)]
        recompute: bool,
    },
    /// 确认一条预警（须填写处置说明）
    Ack {
        /// 预警编号
        id: i64,
        /// 处置说明
        #[arg(long)]
        note: String,
    },
    /// 排除一条预警（须填写理由）
    Dismiss {
        /// 预警编号
        id: i64,
        /// 排除理由
        #[arg(long)]
        note: String,
    },
}

fn state_zh(s: &str) -> &'static str {
    match s {
        "acknowledged" => "已确认",
        "dismissed" => "已排除",
        _ => "待处置",
    }
}

pub fn run(db: &Path, cmd: AlertsCmd) -> Result<ExitCode, CliError> {
    let app = App::open(db).map_err(|e| CliError::Msg(e.message))?;
    let rt = runtime()?;
    let msg = |e: hcp_app::AppError| CliError::Msg(e.message);
    let decide = |alert_id: i64, note: String, state: &str, done: &str| {
        let a = rt
            .block_on(app.decide_alert(DecideAlertArgs {
                alert_id,
                state: state.into(),
                note,
            }))
            .map_err(msg)?;
        println!("预警 #{} {done}：{}", a.alert_id, a.explanation);
        Ok::<(), CliError>(())
    };
    match cmd {
        AlertsCmd::List {
            month,
            kind,
            json,
            recompute,
        } => {
            let list = rt
                .block_on(app.alerts(AlertsArgs {
                    month,
                    rule: kind,
                    recompute: recompute.then_some(true),
                }))
                .map_err(msg)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list)
                        .map_err(|e| CliError::Msg(e.to_string()))?
                );
                return Ok(ExitCode::SUCCESS);
            }
            if list.recompute.ratings > 0 {
                println!(
                    "{} 预警 {} 条（已按新数据重算：读取评价 {} 条，新增 {} 条）",
                    list.month,
                    list.alerts.len(),
                    list.recompute.ratings,
                    list.recompute.new
                );
            } else {
                println!("{} 预警 {} 条", list.month, list.alerts.len());
            }
            for a in &list.alerts {
                println!(
                    "  #{} [{}] {} · {} · {}",
                    a.alert_id,
                    a.rule_label,
                    a.explanation,
                    a.hall_id,
                    state_zh(&a.state)
                );
                if let Some(n) = &a.note {
                    println!(
                        "      处置：{n}（{}）",
                        a.decided_by.as_deref().unwrap_or("")
                    );
                }
            }
        }
        AlertsCmd::Ack { id, note } => decide(id, note, "acknowledged", "已确认")?,
        AlertsCmd::Dismiss { id, note } => decide(id, note, "dismissed", "已排除")?,
    }
    Ok(ExitCode::SUCCESS)
}
