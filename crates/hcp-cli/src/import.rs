//! `hcp import FILE…`: the provincial system's evaluation exports into the cache.
//! A new layout or a new hall prints the detected mapping and a preview and stops
//! unless `--yes`; `--dry-run` reads and counts without writing.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use hcp_app::App;
use hcp_import::{ImportOptions, Inspection, LevelScale, Mapping};
use indicatif::{ProgressBar, ProgressStyle};

use crate::CliError;

/// Options of `hcp import`.
#[derive(Args)]
pub struct ImportArgs {
    /// 评价表格文件（.xlsx / .xls / .csv）；`hcp import profiles` 列出已保存的映射方案；
    /// `hcp import halls` 列出表格中出现过的大厅名称；`hcp import link 名称 大厅编号`
    /// 让该名称以后导入到已有的大厅（如同一大厅接入了自己的服务器）
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// 使用该映射方案（默认：表头相同的已保存方案，否则自动识别）
    #[arg(long)]
    profile: Option<String>,
    /// 把本次使用的映射保存为该名称的方案，下次表头相同时自动使用
    #[arg(long)]
    save_profile: Option<String>,
    /// 修改某一列的映射，如 --map level=满意度（可重复；字段见预览）
    #[arg(long = "map", value_name = "字段=表头")]
    maps: Vec<String>,
    /// 文件没有大厅列时，所有行属于该大厅（名称）
    #[arg(long)]
    hall: Option<String>,
    /// 数字等级的方向：five-best（5=非常满意）或 one-best（1=非常满意）
    #[arg(long, value_parser = ["five-best", "one-best"])]
    scale: Option<String>,
    /// 本省的评价渠道代码表与国家标准不同时逐项指定，如 --channel-code 6=短信
    /// --channel-code 7=系统默认评价（可重复；随 --save-profile 保存）
    #[arg(long = "channel-code", value_name = "代码=渠道")]
    channel_codes: Vec<String>,
    /// 只读取并统计，不写入
    #[arg(long)]
    dry_run: bool,
    /// 接受自动识别的映射并创建文件中的新大厅（脚本用）
    #[arg(long)]
    yes: bool,
    /// 以 JSON 输出
    #[arg(long)]
    json: bool,
}

fn msg(e: hcp_app::AppError) -> CliError {
    CliError::Msg(e.message)
}

fn adjust(mut m: Mapping, a: &ImportArgs) -> Result<Mapping, CliError> {
    for kv in &a.maps {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| CliError::Msg(format!("--map 应写成 字段=表头，而不是 “{kv}”")))?;
        let k = k.trim();
        if hcp_import::Field::from_key(k).is_none() {
            let keys: Vec<&str> = hcp_import::FIELDS.iter().map(|f| f.key()).collect();
            return Err(CliError::Msg(format!(
                "没有字段 “{k}”；可用的字段：{}",
                keys.join("、")
            )));
        }
        if v.trim().is_empty() {
            m.columns.remove(k);
        } else {
            m.columns.insert(k.to_owned(), v.trim().to_owned());
        }
    }
    if let Some(h) = &a.hall {
        m.default_hall = Some(h.clone());
    }
    for kv in &a.channel_codes {
        let (code, channel) = kv.split_once('=').ok_or_else(|| {
            CliError::Msg(format!(
                "--channel-code 应写成 代码=渠道（如 7=系统默认评价），而不是 “{kv}”"
            ))
        })?;
        let code = code.trim();
        if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CliError::Msg(format!(
                "渠道代码应为 1–3 位数字，而不是 “{code}”"
            )));
        }
        let wire = hcp_import::values::channel_code(channel.trim());
        if hcp_core::rating::Channel::ALL
            .iter()
            .all(|c| c.as_wire() != wire)
        {
            let names: Vec<&str> = hcp_core::rating::Channel::ALL
                .iter()
                .map(|c| c.label_zh())
                .collect();
            return Err(CliError::Msg(format!(
                "无法识别的渠道 “{}”；可用：{}",
                channel.trim(),
                names.join("、")
            )));
        }
        m.channel_codes.insert(code.to_owned(), wire);
    }
    match a.scale.as_deref() {
        Some("one-best") => m.level_scale = LevelScale::OneBest,
        Some("five-best") => m.level_scale = LevelScale::FiveBest,
        _ => {}
    }
    Ok(m)
}

fn print_inspection(i: &Inspection) {
    println!(
        "文件：{}（{}{}{}，表头在第 {} 行，导出时间 {}）",
        i.file_name,
        i.format,
        i.encoding
            .as_deref()
            .map(|e| format!("，{e}"))
            .unwrap_or_default(),
        if i.sheet.is_empty() {
            String::new()
        } else {
            format!("，工作表 “{}”", i.sheet)
        },
        i.header_row,
        i.exported_at
    );
    println!("格式：{}", i.layout);
    match &i.profile {
        Some(p) => println!("映射方案：{p}"),
        None => println!("映射方案：自动识别（新的表格格式，请核对）"),
    }
    println!("列映射：");
    for f in &i.fields {
        let col = i.mapping.columns.get(&f.key).map(String::as_str);
        if col.is_some() || f.required {
            println!(
                "  {:<16} {}{} ← {}",
                f.key,
                f.label,
                if f.required { "（必需）" } else { "" },
                col.unwrap_or("（未映射）")
            );
        }
    }
    let unmapped: Vec<&str> = i
        .headers
        .iter()
        .filter(|h| !i.mapping.columns.values().any(|v| v == *h))
        .map(String::as_str)
        .collect();
    if !unmapped.is_empty() {
        println!("  未使用的列：{}", unmapped.join("、"));
    }
    if i.mapping.columns.contains_key("level") {
        println!(
            "  数字等级方向：{}{}",
            match i.mapping.level_scale {
                LevelScale::FiveBest => "5 = 非常满意",
                LevelScale::OneBest => "1 = 非常满意",
            },
            if i.scale_sure {
                ""
            } else {
                "（无法判断，请用 --scale 确认）"
            }
        );
    }
    if !i.channel_codes.is_empty() {
        let own = !i.mapping.channel_codes.is_empty();
        println!(
            "  评价渠道代码（{}）：",
            if own {
                "本方案的代码表"
            } else {
                "国家标准代码表；本省不同时用 --channel-code 代码=渠道 指定"
            }
        );
        for c in &i.channel_codes {
            println!(
                "    {} → {}",
                c.code,
                c.channel
                    .as_deref()
                    .map(|w| hcp_core::rating::Channel::from_wire(w).label_zh())
                    .unwrap_or("（不在代码表中，这些行将被隔离）")
            );
        }
    }
    if !i.new_halls.is_empty() {
        println!(
            "新大厅（将作为“表格导入”大厅创建）：{}",
            i.new_halls.join("、")
        );
    }
    println!("预览（前 {} 行）：", i.preview.len());
    for r in &i.preview {
        match &r.error {
            Some(e) => println!("  第 {} 行  ✗ {e}", r.row),
            None => println!(
                "  第 {} 行  {}  {}  {}级  {}  {}",
                r.row,
                r.evaluated_at.as_deref().unwrap_or(""),
                r.hall,
                r.level.unwrap_or(0),
                r.channel.as_deref().unwrap_or(""),
                r.comment.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Runs `hcp import`.
pub fn run(db: &Path, a: ImportArgs) -> Result<ExitCode, CliError> {
    let app = App::open(db).map_err(msg)?;
    let rt = crate::runtime()?;
    if a.files.len() == 1 && a.files[0].as_os_str() == "profiles" && !a.files[0].exists() {
        let list = rt.block_on(app.import_profiles()).map_err(msg)?;
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&list).map_err(|e| CliError::Msg(e.to_string()))?
            );
        } else if list.is_empty() {
            println!("还没有保存的映射方案（导入时用 --save-profile 名称 保存）。");
        } else {
            for p in &list {
                println!(
                    "{}\t{} 列\t上次使用 {}",
                    p.name,
                    p.headers.len(),
                    p.used_at
                        .as_deref()
                        .map(crate::export::local_time)
                        .unwrap_or_default()
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let word = |i: usize| a.files.get(i).and_then(|f| f.to_str()).unwrap_or_default();
    if word(0) == "halls" && a.files.len() == 1 && !a.files[0].exists() {
        let list = rt.block_on(app.import_hall_names()).map_err(msg)?;
        if a.json {
            let rows: Vec<_> = list
                .iter()
                .map(|(key, hall, name)| serde_json::json!({"key": key, "hall_id": hall, "name": name}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).map_err(|e| CliError::Msg(e.to_string()))?
            );
        } else if list.is_empty() {
            println!("还没有从表格导入过大厅。");
        } else {
            for (key, hall, _) in &list {
                println!("{key}\t→ {hall}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if word(0) == "link" && !a.files[0].exists() {
        if a.files.len() != 3 {
            return Err(CliError::Msg(
                "用法：hcp import link 表格中的大厅名称 大厅编号".into(),
            ));
        }
        let (name, hall) = (word(1).to_owned(), word(2).to_owned());
        rt.block_on(app.import_link_hall(name.clone(), hall.clone()))
            .map_err(msg)?;
        println!("以后表格中的 “{name}” 导入到大厅 {hall}（已导入的行保持不变）。");
        return Ok(ExitCode::SUCCESS);
    }
    let mut summaries = vec![];
    let mut stopped = false;
    for file in &a.files {
        let explicit = !a.maps.is_empty()
            || a.hall.is_some()
            || a.scale.is_some()
            || !a.channel_codes.is_empty();
        let first = rt
            .block_on(app.import_inspect_path(file.clone(), None, a.profile.clone()))
            .map_err(msg)?;
        let mapping = if explicit {
            Some(adjust(first.mapping.clone(), &a)?)
        } else {
            None
        };
        let seen = if explicit {
            rt.block_on(app.import_inspect_path(file.clone(), mapping.clone(), None))
                .map_err(msg)?
        } else {
            first
        };
        let needs_look = seen.new_layout && !explicit && a.profile.is_none()
            || !seen.new_halls.is_empty()
            || !seen.scale_sure && a.scale.is_none();
        if !seen.missing.is_empty() {
            if !a.json {
                print_inspection(&seen);
            }
            if seen
                .mapping
                .header(hcp_import::Field::EvaluatedAt)
                .is_none()
            {
                return Err(CliError::Msg(format!(
                    "{}：{}",
                    seen.file_name,
                    hcp_import::ImportError::NoEvaluationTime
                )));
            }
            return Err(CliError::Msg(format!(
                "{}：缺少必需的列：{}。用 --map 字段=表头 指定（如 --map level=满意度），或用 --hall 名称 指定大厅",
                seen.file_name,
                seen.missing.join("、")
            )));
        }
        if needs_look && !a.yes && !a.dry_run {
            if !a.json {
                print_inspection(&seen);
                println!(
                    "\n请核对以上映射与预览。确认无误后加 --yes 导入（可加 --save-profile 名称 保存映射方案）。"
                );
            }
            stopped = true;
            continue;
        }
        let bar = if std::io::stderr().is_terminal() && !a.json {
            let b = ProgressBar::new(1000);
            b.set_style(
                ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {percent:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_prefix(seen.file_name.clone());
            Some(b)
        } else {
            None
        };
        let mut rx = app.subscribe();
        let b2 = bar.clone();
        let watcher = rt.spawn(async move {
            while let Ok(ev) = rx.recv().await {
                if let (Some(b), hcp_sync::SyncEvent::ImportProgress { rows, fraction, .. }) =
                    (&b2, ev)
                {
                    b.set_position((fraction * 1000.0) as u64);
                    b.set_message(format!("{rows} 行"));
                }
            }
        });
        let opts = ImportOptions {
            mapping,
            profile: a.profile.clone(),
            save_profile: a.save_profile.clone(),
            dry_run: a.dry_run,
            create_halls: a.yes || seen.new_halls.is_empty() || a.dry_run,
        };
        let sum = rt.block_on(app.import_path(file.clone(), opts));
        watcher.abort();
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let sum = sum.map_err(msg)?;
        if !a.json {
            println!(
                "{}{}：读取 {} 行，新增 {}，更新 {}，未变 {}，隔离 {}{}{}",
                if sum.dry_run {
                    "（试运行，未写入）"
                } else {
                    ""
                },
                sum.file_name,
                sum.rows_read,
                sum.new,
                sum.updated,
                sum.unchanged,
                sum.quarantined,
                if sum.summary_rows > 0 {
                    format!("，跳过合计行 {}", sum.summary_rows)
                } else {
                    String::new()
                },
                if sum.halls_created.is_empty() {
                    String::new()
                } else {
                    format!("；新建大厅：{}", sum.halls_created.join("、"))
                }
            );
            let moved: Vec<String> = [
                (sum.revisions, "二次评价/追评"),
                (sum.appeals, "申诉"),
                (sum.verdicts, "申诉复核结论"),
                (sum.rectifications, "整改回复"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{what} {n}"))
            .collect();
            if !moved.is_empty() {
                println!("  其中：{}", moved.join("，"));
            }
            if sum.quarantined > 0 {
                println!("  无法读取的行已隔离，查看原因：hcp quarantine list");
            }
        }
        summaries.push(sum);
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summaries).map_err(|e| CliError::Msg(e.to_string()))?
        );
    }
    Ok(if stopped {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
