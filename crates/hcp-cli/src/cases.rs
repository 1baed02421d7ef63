//! `hcp user`, `hcp cases`, `hcp case …`, `hcp push`: the case workflow on the
//! command line, through hcp-app like the window (same role checks, same audit).

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hcp_app::{App, CaseActionArgs, CaseActionInput, CaseIdArgs, UserProfile};
use hcp_store::{CaseDetail, CaseFilter, CaseListRow};

use crate::{CliError, export::local_time, runtime};

#[derive(Subcommand)]
pub enum UserCmd {
    /// 设置本机用户：姓名、身份（officer 效能督查员 / director 大厅负责人 / shopper 暗访员）
    Set {
        /// 姓名（写入审计日志和发给大厅的决定）
        #[arg(long)]
        name: String,
        /// 身份：officer | director | shopper
        #[arg(long)]
        role: hcp_core::Role,
        /// 大厅负责人所在大厅的编码
        #[arg(long)]
        hall: Option<String>,
    },
    /// 显示本机用户
    Show,
}

#[derive(Args)]
pub struct CasesListArgs {
    /// 只列这些状态（可重复），如 open、rectifying、awaiting_signoff、under_appeal
    #[arg(long = "state")]
    states: Vec<String>,
    /// 只列该大厅
    #[arg(long)]
    hall: Option<String>,
    /// 只列已超期
    #[arg(long)]
    overdue: bool,
    /// 只列超期预警（含已超期）
    #[arg(long, conflicts_with = "overdue")]
    warning: bool,
    /// 只列评价人被标记为恶意评价人员的
    #[arg(long)]
    flagged: bool,
    /// 最多列出条数
    #[arg(long, default_value_t = 200)]
    limit: i64,
    /// 以 JSON 输出
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum CaseCmd {
    /// 查看工单：评价、时限、全过程时间线、发给大厅的决定
    Show {
        /// 工单号
        id: i64,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 核实：true 属实 / partly_true 部分属实 / not_true 不属实 / misrated 误评 / no_legal_basis 无法律依据
    Verify {
        /// 工单号
        id: i64,
        /// 核实结论
        #[arg(long)]
        outcome: String,
        /// 核实说明
        #[arg(long)]
        note: String,
    },
    /// 整改验收通过
    Accept {
        /// 工单号
        id: i64,
    },
    /// 退回整改（须填写退回意见）
    Return {
        /// 工单号
        id: i64,
        /// 退回意见
        #[arg(long)]
        opinion: String,
    },
    /// 申诉复核：--upheld 申诉成立 或 --dismissed 驳回
    AppealVerdict {
        /// 工单号
        id: i64,
        /// 申诉成立（该差评不再计入任何统计）
        #[arg(
            long,
            conflicts_with = "dismissed",
            required_unless_present = "dismissed"
        )]
        upheld: bool,
        /// 驳回
        #[arg(long)]
        dismissed: bool,
        /// 复核意见
        #[arg(long)]
        note: String,
    },
    /// 回访：satisfied 满意 / basically_satisfied 基本满意 / dissatisfied 不满意 / unreachable 联系不上
    Callback {
        /// 工单号
        id: i64,
        /// 回访结果
        #[arg(long)]
        result: String,
        /// 回访记录
        #[arg(long)]
        note: String,
    },
    /// 转办至另一牵头部门（须说明理由）
    Transfer {
        /// 工单号
        id: i64,
        /// 新的牵头部门编码
        #[arg(long)]
        to: String,
        /// 转办理由
        #[arg(long)]
        reason: String,
    },
    /// 指定牵头部门与协办部门
    Assign {
        /// 工单号
        id: i64,
        /// 牵头部门编码
        #[arg(long)]
        lead: String,
        /// 协办部门编码（可重复）
        #[arg(long)]
        co: Vec<String>,
    },
    /// 申诉期满未申诉，办结
    Close {
        /// 工单号
        id: i64,
        /// 办结说明
        #[arg(long)]
        note: String,
    },
    /// 加入典型案例（按评价所在月份；生成该月通报时使用），--remove 移出
    Typical {
        /// 工单号
        id: i64,
        /// 移出典型案例
        #[arg(long)]
        remove: bool,
    },
}

fn app(db: &Path) -> Result<App, CliError> {
    App::open(db).map_err(|e| CliError::Msg(e.message))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(v).map_err(|e| CliError::Msg(e.to_string()))
}

fn state_zh(s: &str) -> &'static str {
    hcp_core::case::CaseState::parse(s).map_or("未知", |s| s.label_zh())
}

fn urgency_zh(r: &CaseListRow) -> &'static str {
    match r.urgency {
        Some(hcp_core::case::Urgency::Overdue) => "超期",
        Some(hcp_core::case::Urgency::Warning) => "超期预警",
        Some(hcp_core::case::Urgency::OnTime) => "正常",
        None => "—",
    }
}

pub fn user(db: &Path, cmd: UserCmd) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let rt = runtime()?;
    let p = match cmd {
        UserCmd::Set { name, role, hall } => rt
            .block_on(app.set_user(UserProfile {
                name,
                role,
                hall_id: hall,
            }))
            .map_err(|e| CliError::Msg(e.message))?,
        UserCmd::Show => rt
            .block_on(app.current_user())
            .map_err(|e| CliError::Msg(e.message))?,
    };
    println!(
        "本机用户：{}，身份：{}{}",
        p.name,
        p.role.label_zh(),
        p.hall_id
            .map(|h| format!("，所在大厅：{h}"))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn list(db: &Path, a: CasesListArgs) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let filter = CaseFilter {
        states: a.states,
        hall_id: a.hall,
        urgency: if a.overdue {
            Some("overdue".into())
        } else if a.warning {
            Some("warning".into())
        } else {
            None
        },
        flagged_only: a.flagged,
        limit: Some(a.limit.clamp(1, 500)),
        ..CaseFilter::default()
    };
    let page = runtime()?
        .block_on(app.list_cases(filter))
        .map_err(|e| CliError::Msg(e.message))?;
    if a.json {
        println!("{}", json(&page)?);
        return Ok(ExitCode::SUCCESS);
    }
    if page.rows.is_empty() {
        println!("没有符合条件的工单。");
        return Ok(ExitCode::SUCCESS);
    }
    println!("工单号\t大厅\t评价编号\t等级\t状态\t时限\t超期\t承办人\t备注");
    for r in &page.rows {
        let mut note = vec![];
        if r.flagged_malicious {
            note.push("恶意评价人员".to_string());
        }
        if r.due_estimated {
            note.push("时限按周一至周五估算".to_string());
        }
        if let Some(j) = &r.rejection {
            note.push(format!("大厅拒收：{j}"));
        }
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.case_id,
            r.hall_id,
            r.evaluation_id,
            r.level.map_or("—".into(), |l| l.to_string()),
            state_zh(&r.state),
            r.due_at.as_deref().map_or("—".into(), local_time),
            urgency_zh(r),
            r.assignee.as_deref().unwrap_or("—"),
            if note.is_empty() {
                "—".into()
            } else {
                note.join("；")
            }
        );
    }
    println!("共 {} 件（显示 {} 件）", page.total, page.rows.len());
    Ok(ExitCode::SUCCESS)
}

fn print_detail(d: &CaseDetail) {
    let c = &d.case;
    println!("工单 {}：{}", c.case_id, d.state_label);
    println!(
        "大厅：{} {}",
        c.hall_id,
        c.hall_name.as_deref().unwrap_or("")
    );
    println!(
        "评价编号：{}，评价时间：{}",
        c.evaluation_id,
        local_time(&c.evaluated_at)
    );
    if let Some(e) = &d.evaluation {
        println!(
            "评价等级：{}，渠道：{}，窗口：{}，事项：{}",
            e.level,
            e.channel,
            e.window_no.as_deref().unwrap_or("—"),
            e.item_name.as_deref().unwrap_or("—")
        );
        if !e.comment.is_empty() {
            println!("评价内容：{}", e.comment);
        }
    }
    if let Some(dl) = &d.deadline {
        println!(
            "{}：{}（剩余 {} 个工作日）{}",
            dl.label,
            local_time(&dl.due_at),
            dl.working_days_left,
            match dl.urgency {
                hcp_core::case::Urgency::Overdue => "【超期】",
                hcp_core::case::Urgency::Warning => "【超期预警】",
                hcp_core::case::Urgency::OnTime => "",
            }
        );
        if dl.estimated {
            println!(
                "注意：该期限涉及尚无法定节假日数据的年份，按周一至周五估算；请导入当年日历（hcp calendar import）。"
            );
        }
    }
    if c.flagged_malicious {
        println!("提示：评价人已被标记为恶意评价人员，请注意甄别。");
    }
    if let Some(r) = &c.rejection {
        println!("大厅拒收了最近的决定：{r}");
    }
    println!("\n时间线：");
    for e in &d.timeline {
        // When the step happened (on the hub, or as the hall reported it); when
        // this desk recorded it only if that was later.
        let happened = e.acted_at.as_deref().unwrap_or(&e.at);
        let received = match (
            chrono::DateTime::parse_from_rfc3339(happened),
            chrono::DateTime::parse_from_rfc3339(&e.at),
        ) {
            (Ok(a), Ok(r)) if r - a > chrono::TimeDelta::minutes(1) => {
                format!("（本机 {} 收到）", local_time(&e.at))
            }
            _ => String::new(),
        };
        println!(
            "  {}{received}  {}（{}）  {}{}",
            local_time(happened),
            e.actor,
            match e.role.as_str() {
                "system" => "系统",
                "hall" => "大厅",
                r => hcp_app::role_zh(r),
            },
            e.summary,
            e.note
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| format!("：{n}"))
                .unwrap_or_default()
        );
    }
    if !d.queued.is_empty() {
        println!("\n本机发往团队服务器的操作：");
        for q in d.queued.iter().rev() {
            let state = match q.state.as_str() {
                "pending" => "待发送",
                "accepted" | "duplicate" => "已受理",
                _ => "未受理",
            };
            println!(
                "  {}  {}  {state}{}",
                local_time(&q.queued_at),
                q.summary,
                q.message
                    .as_deref()
                    .map(|m| format!("：{m}"))
                    .unwrap_or_default()
            );
        }
    }
    if !d.decisions.is_empty() {
        println!("\n发给大厅的决定：");
        for o in d.decisions.iter().rev() {
            println!(
                "  {}  {}  {}{}",
                local_time(&o.created_at),
                o.kind,
                match o.state.as_str() {
                    "delivered" => "已送达",
                    "rejected" => "被拒收",
                    _ => "待发送",
                },
                o.reason
                    .as_deref()
                    .or(o.last_error.as_deref())
                    .map(|r| format!("（{r}）"))
                    .unwrap_or_default()
            );
        }
    }
}

pub fn case(db: &Path, cmd: CaseCmd) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let rt = runtime()?;
    let (id, action) = match cmd {
        CaseCmd::Typical { id, remove } => {
            let month = rt
                .block_on(app.set_typical(hcp_app::SetTypicalArgs {
                    case_id: id,
                    typical: !remove,
                }))
                .map_err(|e| CliError::Msg(e.message))?;
            if remove {
                println!("工单 {id} 已移出 {month} 的典型案例。");
            } else {
                println!("工单 {id} 已加入 {month} 的典型案例（生成 {month} 通报时使用）。");
            }
            return Ok(ExitCode::SUCCESS);
        }
        CaseCmd::Show { id, json: as_json } => {
            let d = rt
                .block_on(app.case_detail(CaseIdArgs { case_id: id }))
                .map_err(|e| CliError::Msg(e.message))?;
            if as_json {
                println!("{}", json(&d)?);
            } else {
                print_detail(&d);
            }
            return Ok(ExitCode::SUCCESS);
        }
        CaseCmd::Verify { id, outcome, note } => (id, CaseActionInput::Verify { outcome, note }),
        CaseCmd::Accept { id } => (id, CaseActionInput::AcceptRectification),
        CaseCmd::Return { id, opinion } => (id, CaseActionInput::ReturnRectification { opinion }),
        CaseCmd::AppealVerdict {
            id, upheld, note, ..
        } => (id, CaseActionInput::DecideAppeal { upheld, note }),
        CaseCmd::Callback { id, result, note } => (id, CaseActionInput::Callback { result, note }),
        CaseCmd::Transfer { id, to, reason } => (
            id,
            CaseActionInput::Transfer {
                department: to,
                reason,
            },
        ),
        CaseCmd::Assign { id, lead, co } => (id, CaseActionInput::Assign { lead, co }),
        CaseCmd::Close { id, note } => (id, CaseActionInput::Close { note }),
    };
    let change = rt
        .block_on(app.case_action(CaseActionArgs {
            case_id: id,
            version: None,
            action,
        }))
        .map_err(|e| CliError::Msg(e.message))?;
    if let Some(id) = &change.queued_for_hub {
        println!(
            "工单 {}：操作已记入待发送队列（{id}），下次 hcp sync 时发送给团队服务器，由团队服务器受理",
            change.case_id
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "工单 {}：{} → {}{}",
        change.case_id,
        state_zh(&change.from_state),
        state_zh(&change.to_state),
        if change.decisions_queued > 0 {
            format!(
                "；{} 条决定待发送给大厅（hcp push）",
                change.decisions_queued
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn push(db: &Path, as_json: bool) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let reports = runtime()?
        .block_on(app.push_now())
        .map_err(|e| CliError::Msg(e.message))?;
    if as_json {
        println!("{}", json(&reports)?);
    } else if reports.is_empty() {
        println!("没有待发送的决定。");
    } else {
        println!("大厅编码\t接收\t已有（重复）\t拒收\t待发送\t结果");
        for r in &reports {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.hall_id,
                r.accepted,
                r.duplicate,
                r.rejected,
                r.pending,
                r.error
                    .as_deref()
                    .map_or("成功".into(), |e| format!("失败：{e}"))
            );
        }
    }
    Ok(if reports.iter().all(|r| r.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn import_calendar(db: &Path, file: &Path) -> Result<ExitCode, CliError> {
    let json = std::fs::read_to_string(file)
        .map_err(|e| CliError::Msg(format!("无法读取 {}：{e}", file.display())))?;
    let app = app(db)?;
    let year = runtime()?
        .block_on(app.import_calendar(hcp_app::ImportCalendarArgs { json }))
        .map_err(|e| CliError::Msg(e.message))?;
    println!("已导入 {year} 年法定节假日与调休数据，所有未办结工单的时限已重新计算。");
    Ok(ExitCode::SUCCESS)
}
