//! `hcp bench-import`: spreadsheet import throughput.
//!
//! 1. writes an export of N rows over 20 halls as the provincial system does (title
//!    rows, Chinese headers, no 评价编号 so every row's stable key is computed,
//!    evaluator name and phone to mask), as CSV (UTF-8 with a BOM) or as xlsx
//!    (rust_xlsxwriter, constant memory) — kept in the work directory for reruns;
//! 2. imports it into an empty cache in a child process (`hcp import --yes`), so the
//!    generator's memory is not counted, and prints rows/s and the child's peak RSS.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::CliError;

fn msg(e: impl std::fmt::Display) -> CliError {
    CliError::Msg(e.to_string())
}

const HEADERS: [&str; 12] = [
    "评价时间",
    "评价等级",
    "评价渠道",
    "大厅名称",
    "实施部门",
    "事项名称",
    "窗口号",
    "工作人员",
    "评价内容",
    "评价人",
    "联系电话",
    "办件编号",
];

/// Row `i` of `n` of the generated export (deterministic). Real exports are in
/// time order: the rows spread evenly over a year from 2025-12-01.
fn row(i: u64, n: u64) -> [String; 12] {
    let mut x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51afd7ed558ccd);
        x ^= x >> 33;
        x % m
    };
    let year = 365 * 86_400;
    let at = (i as u128 * year as u128 / n.max(1) as u128) as i64;
    let t = chrono::NaiveDate::from_ymd_opt(2025, 12, 1)
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("time")
        + chrono::Duration::seconds(at);
    let level = match next(100) {
        0..=2 => "非常不满意",
        3..=5 => "不满意",
        6..=12 => "基本满意",
        13..=40 => "满意",
        _ => "非常满意",
    };
    let channel = [
        "窗口评价器",
        "二维码",
        "政务服务网",
        "APP/小程序",
        "短信",
        "12345热线",
    ][next(6) as usize];
    let hall = next(20);
    [
        t.format("%Y-%m-%d %H:%M:%S").to_string(),
        level.into(),
        channel.into(),
        format!("第{hall:02}政务服务中心"),
        format!("部门{:02}", next(12)),
        format!("事项{:03}", next(200)),
        format!("{}", 1 + next(30)),
        format!("工作人员{:03}", next(120)),
        if level.contains("不满意") {
            "办理时间太长，材料要求前后不一致".into()
        } else {
            String::new()
        },
        "张三丰".into(),
        format!("138{:08}", next(100_000_000)),
        format!("SB{i:010}"),
    ]
}

fn write_csv(path: &Path, n: u64) -> Result<(), CliError> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(msg)?);
    w.write_all(&[0xEF, 0xBB, 0xBF]).map_err(msg)?;
    writeln!(w, "基准测试评价明细\n导出时间：2026-12-01 08:00:00").map_err(msg)?;
    writeln!(w, "{}", HEADERS.join(",")).map_err(msg)?;
    for i in 0..n {
        writeln!(w, "{}", row(i, n).join(",")).map_err(msg)?;
    }
    w.flush().map_err(msg)
}

fn write_xlsx(path: &Path, n: u64) -> Result<(), CliError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory();
    ws.write(0, 0, "基准测试评价明细").map_err(msg)?;
    ws.write(1, 0, "导出时间：2026-12-01 08:00:00")
        .map_err(msg)?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write(2, c as u16, *h).map_err(msg)?;
    }
    for i in 0..n {
        let r = (i + 3) as u32;
        for (c, v) in row(i, n).iter().enumerate() {
            if !v.is_empty() {
                ws.write(r, c as u16, v.as_str()).map_err(msg)?;
            }
        }
    }
    wb.save(path).map_err(msg)
}

/// Runs the benchmark.
pub fn run(rows: u64, format: &str, work_dir: Option<PathBuf>) -> Result<ExitCode, CliError> {
    let dir = match work_dir {
        Some(d) => d,
        None => std::env::temp_dir().join("hcp-bench-import"),
    };
    std::fs::create_dir_all(&dir).map_err(msg)?;
    let file = dir.join(format!("bench-{rows}.{format}"));
    if !file.exists() {
        eprintln!("生成 {} …", file.display());
        let t = Instant::now();
        let tmp = dir.join(format!("bench-{rows}.tmp.{format}"));
        match format {
            "csv" => write_csv(&tmp, rows)?,
            "xlsx" => write_xlsx(&tmp, rows)?,
            other => return Err(CliError::Msg(format!("格式应为 csv 或 xlsx，不是 {other}"))),
        }
        std::fs::rename(&tmp, &file).map_err(msg)?;
        eprintln!("  用时 {:.1} s", t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&file).map_err(msg)?.len();
    let db = dir.join("bench-import.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(msg)?;
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("HCP_PEAK_RSS_KB=%M")
        .arg(&exe)
        .arg("--db")
        .arg(&db)
        .args(["import", "--yes", "--json"])
        .arg(&file)
        .output()
        .or_else(|_| {
            Command::new(&exe)
                .arg("--db")
                .arg(&db)
                .args(["import", "--yes", "--json"])
                .arg(&file)
                .output()
        })
        .map_err(msg)?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(CliError::Msg(format!(
            "导入失败：{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(msg)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("HCP_PEAK_RSS_KB="))
        .and_then(|k| k.trim().parse::<f64>().ok())
        .map(|kb| format!("{:.0} MiB", kb / 1024.0))
        .unwrap_or_else(|| "—（无 /usr/bin/time）".into());
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("格式                 {format}");
    println!("行数                 {rows}");
    println!("文件大小             {:.1} MB", size as f64 / 1e6);
    println!(
        "新增 / 隔离          {} / {}",
        summary[0]["new"], summary[0]["quarantined"]
    );
    println!("导入用时             {secs:.1} s");
    println!("吞吐                 {:.0} 行/s", rows as f64 / secs);
    println!("导入进程峰值内存     {peak}");
    println!("缓存大小             {:.0} MB", db_size as f64 / 1e6);
    Ok(ExitCode::SUCCESS)
}
