//! `hcp report monthly|quarterly|yearly|issue|list|export`: the 通报 on the
//! command line, through hcp-app like the window.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use hcp_app::{ReportExportArgs, ReportIssueArgs};
use hcp_store::Store;

use crate::{CliError, export::local_time};

/// Where a draft goes.
#[derive(clap::Args)]
pub struct DraftOut {
    /// 只统计该大厅（默认全部大厅）
    #[arg(long)]
    hall: Option<String>,
    /// 格式
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "xlsx", "json"])]
    format: String,
    /// 输出文件
    #[arg(long)]
    out: PathBuf,
    /// 典型案例工单号（可重复；默认为各月加入典型案例的工单，没有时取最早的超期工单）
    #[arg(long)]
    typical: Vec<i64>,
    /// PDF 版式：brief 数据简报（屏幕阅读）| official 公文（GB/T 9704，签发时保存的即此版式）
    #[arg(long, default_value = "brief", value_parser = ["brief", "official"])]
    layout: String,
}

/// Which period an issue is for: exactly one of month, quarter, year.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct PeriodArg {
    /// 月份，如 2026-10
    #[arg(long)]
    month: Option<String>,
    /// 季度，如 2026-Q3
    #[arg(long)]
    quarter: Option<String>,
    /// 年度，如 2026
    #[arg(long)]
    year: Option<String>,
}

impl PeriodArg {
    fn key(self) -> Result<String, CliError> {
        match (self.month, self.quarter, self.year) {
            (Some(m), _, _) => checked(&m, "monthly"),
            (_, Some(q), _) => checked(&q, "quarterly"),
            (_, _, Some(y)) => checked(&y, "yearly"),
            _ => Err(CliError::Msg(
                "请用 --month、--quarter 或 --year 指定统计期间".into(),
            )),
        }
    }
}

/// `value` as a period of `kind`, or a zh-CN reason (a month given to
/// `--quarter` is refused, not silently reported).
fn checked(value: &str, kind: &str) -> Result<String, CliError> {
    let p = hcp_core::metrics::Period::parse(value).map_err(CliError::Msg)?;
    if p.kind() != kind {
        let want = match kind {
            "monthly" => "月份，如 2026-10",
            "quarterly" => "季度，如 2026-Q3",
            _ => "年度，如 2026",
        };
        return Err(CliError::Msg(format!("“{}” 不是{want}", value.trim())));
    }
    Ok(p.to_string())
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// 生成月度通报（草稿，按当前数据）：json | pdf | xlsx
    Monthly {
        /// 月份，如 2026-10（北京时间自然月）
        #[arg(long)]
        month: String,
        /// 只统计该大厅（默认全部大厅）
        #[arg(long)]
        hall: Option<String>,
        /// 格式
        #[arg(long, default_value = "pdf")]
        format: String,
        /// 输出文件
        #[arg(long)]
        out: PathBuf,
        /// 典型案例工单号（可重复；默认为本月加入典型案例的工单，没有时取最早的超期工单）
        #[arg(long)]
        typical: Vec<i64>,
        /// PDF 版式：brief 数据简报 | official 公文
        #[arg(long, default_value = "brief", value_parser = ["brief", "official"])]
        layout: String,
    },
    /// 发文机关设置（签发的通报为公文：版头、发文字号、署名、主送、抄送、印发机关）；不带参数时显示当前设置
    Office {
        #[command(flatten)]
        args: OfficeArgs,
    },
    /// 公示：生成某期的公示网页（index.html，可离线打开）与开放数据（data.json、CSV），不含个人信息与评价内容
    Publish {
        #[command(flatten)]
        period: PeriodArg,
        /// 只公示该大厅（大厅显示屏用；默认全部大厅）
        #[arg(long)]
        hall: Option<String>,
        /// 输出目录（不存在时创建）
        #[arg(long)]
        out: PathBuf,
    },
    /// 生成季度通报（草稿）：各月趋势、季度红黑榜、整改与申诉合计
    Quarterly {
        /// 季度，如 2026-Q3（北京时间 7 月 1 日至 9 月 30 日）
        #[arg(long)]
        quarter: String,
        #[command(flatten)]
        out: DraftOut,
    },
    /// 生成年度通报（草稿）：各月趋势、年度红黑榜、整改与申诉合计
    Yearly {
        /// 年度，如 2026
        #[arg(long)]
        year: String,
        #[command(flatten)]
        out: DraftOut,
    },
    /// 签发：冻结当前数据与 PDF，编号〔年〕第N期；再次签发为更正版本（须 --correction）
    Issue {
        #[command(flatten)]
        period: PeriodArg,
        /// 大厅（默认全部大厅）
        #[arg(long)]
        hall: Option<String>,
        /// 更正说明（签发更正版本时必填）
        #[arg(long)]
        correction: Option<String>,
        /// 典型案例工单号（可重复）
        #[arg(long)]
        typical: Vec<i64>,
        /// 确认提前签发尚未结束的月份/季度/年度（只含已过去的天数）
        #[arg(long)]
        early: bool,
    },
    /// 通报统计口径：系统默认评价（评价人未评价、系统自动生成）是否计入评价量和好评率
    /// （默认不计入，单独统计）；不带参数时显示当前设置
    Policy {
        /// on：计入；off：不计入（单独统计）
        #[arg(long, value_parser = ["on", "off"])]
        count_system_default: Option<String>,
    },
    /// 列出已签发的通报
    List,
    /// 导出已签发的通报（PDF 为签发时的原文件）
    Export {
        /// 通报编号（hcp report list 的第一列）
        id: i64,
        /// 格式
        #[arg(long, default_value = "pdf")]
        format: String,
        /// 输出文件
        #[arg(long)]
        out: PathBuf,
    },
}

fn m(e: hcp_app::AppError) -> CliError {
    CliError::Msg(e.message)
}

fn write(out: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(out, bytes)
        .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", out.display())))
}

/// Renders the draft of a period to a file.
fn draft(store: &Store, period: String, d: DraftOut) -> Result<(), CliError> {
    let t = std::time::Instant::now();
    let (_, _, bytes) = hcp_app::report::export(
        store,
        &ReportExportArgs {
            month: Some(period),
            hall_id: d.hall,
            report_id: None,
            format: d.format,
            typical: d.typical,
            layout: Some(d.layout),
        },
    )
    .map_err(m)?;
    write(&d.out, &bytes)?;
    eprintln!(
        "已生成 {}（{:.2} s）",
        d.out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn run(db: &Path, cmd: ReportCmd) -> Result<ExitCode, CliError> {
    let mut store = Store::open(db)?;
    match cmd {
        ReportCmd::Monthly {
            month,
            hall,
            format,
            out,
            typical,
            layout,
        } => draft(
            &store,
            checked(&month, "monthly")?,
            DraftOut {
                hall,
                format,
                out,
                typical,
                layout,
            },
        )?,
        ReportCmd::Office { args } => {
            let mut o = hcp_app::report::office_settings(&store).map_err(m)?;
            if args.changes() {
                args.apply(&mut o);
                o = hcp_app::report::set_office_settings(&mut store, o).map_err(m)?;
                println!("已保存发文机关设置");
            }
            print_office(&o);
        }
        ReportCmd::Publish { period, hall, out } => {
            let (_, files) =
                hcp_app::report::publish(&store, &period.key()?, hall.as_deref()).map_err(m)?;
            std::fs::create_dir_all(&out)
                .map_err(|e| CliError::Msg(format!("无法创建 {}：{e}", out.display())))?;
            for (name, bytes) in &files {
                write(&out.join(name), bytes)?;
            }
            println!(
                "已生成公示：{}（另有 data.json 与 {} 个 CSV 文件）",
                out.join("index.html").display(),
                files.len() - 2
            );
        }
        ReportCmd::Quarterly { quarter, out } => {
            draft(&store, checked(&quarter, "quarterly")?, out)?
        }
        ReportCmd::Yearly { year, out } => draft(&store, checked(&year, "yearly")?, out)?,
        ReportCmd::Issue {
            period,
            hall,
            correction,
            typical,
            early,
        } => {
            let args = ReportIssueArgs {
                month: period.key()?,
                hall_id: hall,
                correction,
                typical,
                early,
            };
            let r = if store.hub_link()?.is_some() {
                // Hub mode: the office's hub gives the number and keeps the issue.
                drop(store);
                let app = hcp_app::App::open(db).map_err(m)?;
                crate::runtime()?
                    .block_on(app.report_issue(args))
                    .map_err(m)?
            } else {
                hcp_app::report::issue(&mut store, &args).map_err(m)?
            };
            println!(
                "已签发 {} 通报〔{}〕第{}期（第 {} 版，编号 {}），PDF sha256 {}",
                r.month,
                r.year,
                r.issue_no,
                r.version,
                r.report_id,
                r.document_sha256.as_deref().unwrap_or("—")
            );
        }
        ReportCmd::Policy {
            count_system_default,
        } => {
            let on = match count_system_default.as_deref() {
                None => store.count_system_default()?,
                Some(v) => {
                    drop(store);
                    let app = hcp_app::App::open(db).map_err(m)?;
                    let args = hcp_app::ReportPolicyArgs {
                        count_system_default: v == "on",
                    };
                    crate::runtime()?
                        .block_on(app.set_report_policy(args))
                        .map_err(m)?
                        .count_system_default
                }
            };
            println!(
                "系统默认评价：{}",
                if on {
                    "计入评价量和好评率"
                } else {
                    "不计入评价量和好评率（在通报中单独统计）"
                }
            );
            return Ok(ExitCode::SUCCESS);
        }
        ReportCmd::List => {
            let list = store.issued_reports()?;
            if list.is_empty() {
                println!("尚未签发通报。");
            } else {
                println!("编号\t月份\t范围\t期号\t版本\t签发人\t签发时间\t更正说明");
                for r in list {
                    println!(
                        "{}\t{}\t{}\t〔{}〕第{}期\t{}\t{}\t{}\t{}",
                        r.report_id,
                        r.month,
                        r.hall_id.as_deref().unwrap_or("全部大厅"),
                        r.year,
                        r.issue_no,
                        r.version,
                        r.issued_by,
                        local_time(&r.issued_at),
                        r.correction.as_deref().unwrap_or("—")
                    );
                }
            }
        }
        ReportCmd::Export { id, format, out } => {
            let (_, _, bytes) = hcp_app::report::export(
                &store,
                &ReportExportArgs {
                    month: None,
                    hall_id: None,
                    report_id: Some(id),
                    format,
                    typical: vec![],
                    layout: None,
                },
            )
            .map_err(m)?;
            write(&out, &bytes)?;
            println!("已导出 {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The 发文机关 options of `report office` and `hub office`: those given replace
/// the setting's, the others stay.
#[derive(clap::Args, Debug)]
pub struct OfficeArgs {
    /// 发文机关名称（署名），如 某某市政务服务管理局
    #[arg(long)]
    name: Option<String>,
    /// 发文机关标志（版头红字；默认为名称加“文件”）
    #[arg(long)]
    mark: Option<String>,
    /// 机关代字（发文字号 代字〔2026〕3号）
    #[arg(long)]
    code: Option<String>,
    /// 主送机关（可重复；给出时替换原列表）
    #[arg(long = "to")]
    to: Vec<String>,
    /// 抄送机关（可重复；给出时替换原列表）
    #[arg(long = "cc")]
    cc: Vec<String>,
    /// 印发机关（默认为发文机关）
    #[arg(long)]
    printer: Option<String>,
    /// 公示网址（公示网页发布的地址；公示页的二维码指向它）
    #[arg(long)]
    public_url: Option<String>,
}

impl OfficeArgs {
    /// Whether any option was given.
    pub fn changes(&self) -> bool {
        self.name.is_some()
            || self.mark.is_some()
            || self.code.is_some()
            || !self.to.is_empty()
            || !self.cc.is_empty()
            || self.printer.is_some()
            || self.public_url.is_some()
    }

    /// `o` with the options given.
    pub fn apply(self, o: &mut hcp_core::office::Office) {
        let set = |field: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *field = v;
            }
        };
        set(&mut o.name, self.name);
        set(&mut o.mark, self.mark);
        set(&mut o.code, self.code);
        set(&mut o.printer, self.printer);
        set(&mut o.public_url, self.public_url);
        if !self.to.is_empty() {
            o.to = self.to;
        }
        if !self.cc.is_empty() {
            o.cc = self.cc;
        }
    }
}

/// 发文机关 settings as the commands show them.
pub fn print_office(o: &hcp_core::office::Office) {
    let or_dash = |v: &str| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.to_owned()
        }
    };
    println!("发文机关：{}", or_dash(&o.name));
    println!(
        "发文机关标志：{}",
        if o.mark.is_empty() && !o.name.is_empty() {
            format!("{}文件", o.name)
        } else {
            or_dash(&o.mark)
        }
    );
    println!("机关代字：{}", or_dash(&o.code));
    println!("主送机关：{}", or_dash(&o.to.join("，")));
    println!("抄送机关：{}", or_dash(&o.cc.join("，")));
    println!(
        "印发机关：{}",
        if o.printer.is_empty() {
            or_dash(&o.name)
        } else {
            o.printer.clone()
        }
    );
    println!("公示网址：{}", or_dash(&o.public_url));
}
