//! `hcp visit …` and `hcp keys …`: mystery-shopper visits on the command line,
//! through hcp-app like the window.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use hcp_app::{
    App, ImportVisitArgs, NewVisitArgs, TaskPackageArgs, TrustKeyArgs, VisitAnswerArgs,
    VisitIdArgs, VisitListArgs, VisitPhotoArgs, VisitReviewArgs,
};
use hcp_store::TaskHall;

use crate::{CliError, export::local_time, runtime};

#[derive(Subcommand)]
pub enum VisitCmd {
    /// 新建暗访记录（暗访员）
    New {
        /// 暗访的大厅编码
        #[arg(long)]
        hall: String,
        /// 检查表模板版本
        #[arg(long, default_value = hcp_core::visit::CURRENT_TEMPLATE)]
        template: String,
    },
    /// 填写一个检查项：pass 符合 / deduct N 扣 N 分 / na 不适用（立即保存）
    Set {
        /// 暗访记录编号
        visit: String,
        /// 检查项编号，如 3.3
        item: String,
        /// pass | deduct | na
        result: String,
        /// 扣分（deduct 时）
        points: Option<u32>,
        /// 说明
        #[arg(long)]
        note: Option<String>,
    },
    /// 为检查项添加照片（可多张）
    Attach {
        /// 暗访记录编号
        visit: String,
        /// 检查项编号
        item: String,
        /// 照片文件
        file: PathBuf,
    },
    /// 提交（全部检查项填写完后）
    Submit {
        /// 暗访记录编号
        visit: String,
    },
    /// 撤回已提交的记录以便修改（再次提交为新版本）
    Reopen {
        /// 暗访记录编号
        visit: String,
    },
    /// 导出交件文件（.hcpv，带本机签名）
    Export {
        /// 暗访记录编号
        visit: String,
        /// 输出文件
        #[arg(long)]
        out: PathBuf,
    },
    /// 导入文件：交件 .hcpv（效能督查员）、任务包 .hcpt 或审核意见 .hcpr（暗访员）；须先信任对方公钥
    Import {
        /// .hcpv / .hcpt / .hcpr 文件
        file: PathBuf,
    },
    /// 下发暗访任务包（效能督查员）：所选大厅的资料（部门、窗口、工号）、计划日期、检查表版本，带本机签名
    Plan {
        /// 大厅编码，可带计划日期：340825-ZWFW 或 340825-ZWFW@2026-12-08（可重复）
        #[arg(long = "hall", required = true)]
        halls: Vec<String>,
        /// 检查表模板版本
        #[arg(long, default_value = hcp_core::visit::CURRENT_TEMPLATE)]
        template: String,
        /// 任务说明
        #[arg(long, default_value = "")]
        note: String,
        /// 输出文件（.hcpt）
        #[arg(long)]
        out: PathBuf,
    },
    /// 列出已导入的暗访任务（暗访员）
    Tasks {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 导出对某条暗访记录的审核意见（.hcpr，效能督查员），交给暗访员导入
    ExportReview {
        /// 暗访记录编号
        visit: String,
        /// 输出文件
        #[arg(long)]
        out: PathBuf,
    },
    /// 审核：--accept 通过（为扣分项生成整改任务）或 --return 退回
    Review {
        /// 暗访记录编号
        visit: String,
        /// 审核通过
        #[arg(long, conflicts_with = "return_", required_unless_present = "return_")]
        accept: bool,
        /// 退回（须填写意见）
        #[arg(long = "return")]
        return_: bool,
        /// 审核意见
        #[arg(long, default_value = "")]
        note: String,
        /// 对某个检查项的意见：3.3=请补充照片（可重复）
        #[arg(long = "item")]
        items: Vec<String>,
    },
    /// 办结审核通过的暗访记录（效能督查员）
    Close {
        /// 暗访记录编号
        visit: String,
    },
    /// 列出暗访记录
    List {
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 查看暗访记录（各检查项、得分）
    Show {
        /// 暗访记录编号
        visit: String,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// 显示本机签名公钥及指纹（交给督查员信任）
    Show,
    /// 信任暗访员的公钥
    Trust {
        /// 公钥（64 位十六进制）
        public_key: String,
        /// 暗访员
        #[arg(long)]
        name: String,
    },
    /// 列出已信任的公钥（含已撤销的）
    List,
    /// 撤销对某个公钥的信任：此后由它签名的交件一律拒绝导入（已导入的记录保留）
    Revoke {
        /// 公钥（64 位十六进制）或指纹
        key: String,
    },
}

fn app(db: &Path) -> Result<App, CliError> {
    App::open(db).map_err(|e| CliError::Msg(e.message))
}

/// Writes an export the app handed back (base64).
fn write_file(out: &Path, data_base64: &str) -> Result<(), CliError> {
    let bytes = B64
        .decode(data_base64)
        .map_err(|e| CliError::Msg(e.to_string()))?;
    std::fs::write(out, bytes)
        .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", out.display())))
}

/// A file to import, refused past 1 GiB (no bundle is that large).
fn read_capped(file: &Path) -> Result<Vec<u8>, CliError> {
    let len = std::fs::metadata(file)
        .map_err(|e| CliError::Msg(format!("无法读取 {}：{e}", file.display())))?
        .len();
    if len > 1 << 30 {
        return Err(CliError::Msg(format!(
            "{} 有 {len} 字节，超过 1 GiB，不是督查台的交件、任务包或审核意见文件",
            file.display()
        )));
    }
    std::fs::read(file).map_err(|e| CliError::Msg(format!("无法读取 {}：{e}", file.display())))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(v).map_err(|e| CliError::Msg(e.to_string()))
}

fn m(e: hcp_app::AppError) -> CliError {
    CliError::Msg(e.message)
}

fn state_zh(s: &str) -> &'static str {
    hcp_core::visit::VisitState::parse(s).map_or("未知", |s| s.label_zh())
}

pub fn visit(db: &Path, cmd: VisitCmd) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let rt = runtime()?;
    match cmd {
        VisitCmd::New { hall, template } => {
            let id = rt
                .block_on(app.create_visit(NewVisitArgs {
                    hall_id: hall,
                    template_version: Some(template),
                }))
                .map_err(m)?;
            eprintln!("已新建暗访记录（每次填写立即保存，无需手动保存）。");
            println!("{id}");
        }
        VisitCmd::Set {
            visit,
            item,
            result,
            points,
            note,
        } => {
            let result = match result.as_str() {
                "pass" => "pass",
                "deduct" => "deduct",
                "na" | "not_applicable" => "not_applicable",
                other => {
                    return Err(CliError::Msg(format!(
                        "检查结果 “{other}” 无效：应为 pass、deduct N 或 na"
                    )));
                }
            };
            let d = rt
                .block_on(app.set_visit_answer(VisitAnswerArgs {
                    visit_id: visit,
                    item_id: item,
                    result: Some(result.into()),
                    points,
                    note,
                }))
                .map_err(m)?;
            println!(
                "已保存。已填 {}/{} 项，当前得分 {}{}",
                d.visit.answered,
                d.visit.total,
                d.visit.score,
                if d.visit.severe_failed {
                    "（有严重问题，不合格）"
                } else {
                    ""
                }
            );
        }
        VisitCmd::Attach { visit, item, file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::Msg(format!("无法读取 {}：{e}", file.display())))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let p = rt
                .block_on(app.attach_visit_photo(VisitPhotoArgs {
                    visit_id: visit,
                    item_id: item,
                    file_name: name,
                    data_base64: B64.encode(bytes),
                }))
                .map_err(m)?;
            println!(
                "已添加照片 {}（sha256 {}…{}）",
                p.file_name,
                &p.sha256[..12],
                p.exif_time
                    .map(|t| format!("，拍摄时间 {t}"))
                    .unwrap_or_default()
            );
        }
        VisitCmd::Submit { visit } => {
            let rev = rt
                .block_on(app.submit_visit(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            println!("已提交（第 {rev} 版）。用 hcp visit export 导出交件文件。");
        }
        VisitCmd::Reopen { visit } => {
            rt.block_on(app.reopen_visit(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            println!("已撤回，可继续修改；再次提交将成为新版本。");
        }
        VisitCmd::Export { visit, out } => {
            let f = rt
                .block_on(app.export_visit(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            write_file(&out, &f.data_base64)?;
            println!("已导出交件文件 {}", out.display());
        }
        VisitCmd::Import { file } => {
            let bytes = read_capped(&file)?;
            let o = rt
                .block_on(app.import_file(ImportVisitArgs {
                    data_base64: B64.encode(bytes),
                }))
                .map_err(m)?;
            match &o.visit_id {
                Some(v) => println!("{}（暗访记录 {v}）", o.summary),
                None => println!("{}", o.summary),
            }
        }
        VisitCmd::Plan {
            halls,
            template,
            note,
            out,
        } => {
            let halls = halls
                .iter()
                .map(|h| match h.split_once('@') {
                    Some((id, date)) => TaskHall {
                        hall_id: id.trim().into(),
                        planned_date: Some(date.trim().into()),
                    },
                    None => TaskHall {
                        hall_id: h.trim().into(),
                        planned_date: None,
                    },
                })
                .collect();
            let f = rt
                .block_on(app.export_task_package(TaskPackageArgs {
                    halls,
                    template_version: Some(template),
                    note,
                }))
                .map_err(m)?;
            write_file(&out, &f.data_base64)?;
            println!(
                "已导出暗访任务包 {}（交给暗访员用 hcp visit import 导入）",
                out.display()
            );
        }
        VisitCmd::Tasks { json: as_json } => {
            let rows = rt.block_on(app.visit_tasks()).map_err(m)?;
            if as_json {
                println!("{}", json(&rows)?);
            } else if rows.is_empty() {
                println!("没有暗访任务。");
            } else {
                println!("大厅\t计划日期\t下发人\t说明\t暗访记录");
                for t in &rows {
                    println!(
                        "{}（{}）\t{}\t{}\t{}\t{}",
                        t.hall_name.as_deref().unwrap_or("—"),
                        t.hall_id,
                        t.planned_date.as_deref().unwrap_or("不限"),
                        t.issued_by,
                        if t.note.is_empty() { "—" } else { &t.note },
                        t.visit_id.as_deref().unwrap_or("未开始")
                    );
                }
            }
        }
        VisitCmd::ExportReview { visit, out } => {
            let f = rt
                .block_on(app.export_review(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            write_file(&out, &f.data_base64)?;
            println!(
                "已导出审核意见 {}（交给暗访员用 hcp visit import 导入）",
                out.display()
            );
        }
        VisitCmd::Review {
            visit,
            accept,
            note,
            items,
            ..
        } => {
            let mut item_comments = std::collections::BTreeMap::new();
            for it in items {
                let (id, text) = it.split_once('=').ok_or_else(|| {
                    CliError::Msg(format!(
                        "检查项意见 “{it}” 应写成 条目=意见，如 3.3=请补充照片"
                    ))
                })?;
                item_comments.insert(id.trim().to_string(), text.trim().to_string());
            }
            let opened = rt
                .block_on(app.review_visit(VisitReviewArgs {
                    visit_id: visit,
                    accept,
                    note,
                    findings: None,
                    item_comments,
                }))
                .map_err(m)?;
            if accept {
                println!("已审核通过，生成整改任务 {} 件。", opened.len());
            } else {
                println!("已退回暗访员。");
            }
        }
        VisitCmd::Close { visit } => {
            rt.block_on(app.close_visit(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            println!("已办结。");
        }
        VisitCmd::List { json: as_json } => {
            let rows = rt
                .block_on(app.list_visits(VisitListArgs::default()))
                .map_err(m)?;
            if as_json {
                println!("{}", json(&rows)?);
            } else if rows.is_empty() {
                println!("没有暗访记录。");
            } else {
                println!("编号\t大厅\t状态\t版本\t得分\t已填\t更新时间");
                for r in &rows {
                    println!(
                        "{}\t{}\t{}\t{}\t{}{}\t{}/{}\t{}",
                        r.visit_id,
                        r.hall_name.as_deref().unwrap_or(&r.hall_id),
                        state_zh(&r.state),
                        r.rev,
                        r.score,
                        if r.severe_failed {
                            "（不合格）"
                        } else {
                            ""
                        },
                        r.answered,
                        r.total,
                        local_time(&r.updated_at)
                    );
                }
            }
        }
        VisitCmd::Show {
            visit,
            json: as_json,
        } => {
            let d = rt
                .block_on(app.visit_detail(VisitIdArgs { visit_id: visit }))
                .map_err(m)?;
            if as_json {
                println!("{}", json(&d)?);
            } else {
                let v = &d.visit;
                println!(
                    "暗访记录 {}：{}，大厅 {}，模板 {}，第 {} 版",
                    v.visit_id,
                    state_zh(&v.state),
                    v.hall_name.as_deref().unwrap_or(&v.hall_id),
                    v.template_version,
                    v.rev
                );
                println!(
                    "得分 {}{}（已填 {}/{} 项）",
                    v.score,
                    if v.severe_failed {
                        "，有严重问题，不合格"
                    } else {
                        ""
                    },
                    v.answered,
                    v.total
                );
                let mut section = String::new();
                for i in &d.items {
                    if i.section != section {
                        section = i.section.clone();
                        println!("\n【{section}】");
                    }
                    let r = match (i.result.as_deref(), i.deducted) {
                        (Some("pass"), _) => "符合".to_string(),
                        (Some("deduct"), Some(p)) => format!("扣 {p} 分"),
                        (Some("not_applicable"), _) => "不适用".to_string(),
                        _ => "未填".to_string(),
                    };
                    println!(
                        "  {} {}（{} 分）：{}{}{}",
                        i.item_id,
                        i.title,
                        i.weight,
                        r,
                        if i.note.is_empty() {
                            String::new()
                        } else {
                            format!("；{}", i.note)
                        },
                        if i.photos.is_empty() {
                            String::new()
                        } else {
                            format!("；照片 {} 张", i.photos.len())
                        }
                    );
                }
                if let Some(n) = &v.review_note {
                    println!("\n审核意见：{n}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn keys(db: &Path, cmd: KeysCmd) -> Result<ExitCode, CliError> {
    let app = app(db)?;
    let rt = runtime()?;
    match cmd {
        KeysCmd::Show => {
            let k = rt.block_on(app.own_key()).map_err(m)?;
            println!("本机公钥指纹：{}", k.fingerprint);
            println!("{}", k.public_key);
        }
        KeysCmd::Trust { public_key, name } => {
            let k = rt
                .block_on(app.trust_key(TrustKeyArgs { public_key, name }))
                .map_err(m)?;
            println!("已信任 {} 的公钥（指纹 {}）", k.name, k.fingerprint);
        }
        KeysCmd::List => {
            println!("指纹\t暗访员\t状态\t公钥");
            for k in rt.block_on(app.trusted_keys()).map_err(m)? {
                let state = match &k.revoked_at {
                    Some(at) => format!("已撤销（{}）", crate::export::local_time(at)),
                    None => "受信任".to_string(),
                };
                println!("{}\t{}\t{}\t{}", k.fingerprint, k.name, state, k.public_key);
            }
        }
        KeysCmd::Revoke { key } => {
            let k = rt
                .block_on(app.revoke_key(hcp_app::RevokeKeyArgs { key }))
                .map_err(m)?;
            println!(
                "已撤销对 {} 的公钥（指纹 {}）的信任：此后由它签名的交件将被拒绝。",
                k.name, k.fingerprint
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
