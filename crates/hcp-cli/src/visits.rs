//! `hcp visit …` and `hcp keys …`: mystery-shopper visits on the command line,
//! through hcp-app like the window.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use hcp_app::{
    App, ImportVisitArgs, NewVisitArgs, TrustKeyArgs, VisitAnswerArgs, VisitIdArgs, VisitListArgs,
    VisitPhotoArgs, VisitReviewArgs,
};

use crate::{CliError, export::local_time, runtime};

#[derive(Subcommand)]
pub enum VisitCmd {
    /// 新建暗访记录（暗访员）
    New {
        /// 暗访的大厅编码
        #[arg(long)]
        hall: String,
        /// 检查表模板版本
        #[arg(long, default_value = "v1")]
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
    /// 导入交件文件（效能督查员；须先信任暗访员公钥）
    Import {
        /// .hcpv 文件
        file: PathBuf,
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
            let bytes = B64
                .decode(f.data_base64)
                .map_err(|e| CliError::Msg(e.to_string()))?;
            std::fs::write(&out, bytes)
                .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", out.display())))?;
            println!("已导出交件文件 {}", out.display());
        }
        VisitCmd::Import { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::Msg(format!("无法读取 {}：{e}", file.display())))?;
            let o = rt
                .block_on(app.import_visit(ImportVisitArgs {
                    data_base64: B64.encode(bytes),
                }))
                .map_err(m)?;
            println!(
                "{}：暗访记录 {}（第 {} 版），新增照片 {} 张",
                match o.status.as_str() {
                    "new" => "已导入",
                    "replaced" => "已用新版本替换",
                    _ => "已有该版本，未做改动",
                },
                o.visit_id,
                o.rev,
                o.photos_added
            );
        }
        VisitCmd::Review {
            visit,
            accept,
            note,
            ..
        } => {
            let opened = rt
                .block_on(app.review_visit(VisitReviewArgs {
                    visit_id: visit,
                    accept,
                    note,
                    findings: None,
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
