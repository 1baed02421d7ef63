//! `hcp evaluations export`: JSON lines with the hall-api field names, or CSV that
//! Excel and WPS open correctly (UTF-8 BOM, Chinese headers, local times).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use hcp_core::wire::Evaluation;
use hcp_core::{Channel, Level, ReasonTag};
use hcp_store::{EvaluationRow, Store};

use crate::{CliError, Format};

/// Asia/Shanghai has been UTC+8 without daylight saving since 1991.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A stored UTC instant as Beijing time, `2026-10-08 09:31:05`.
pub fn local_time(utc: &str) -> String {
    DateTime::parse_from_rfc3339(utc)
        .map(|t| {
            t.with_timezone(&shanghai())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| utc.to_string())
}

const CSV_HEADERS: [&str; 20] = [
    "大厅编码",
    "评价编号",
    "版本",
    "办件编号",
    "事项编码",
    "事项名称",
    "部门编码",
    "窗口号",
    "工号",
    "评价渠道",
    "评价等级",
    "等级名称",
    "差评原因",
    "评价内容",
    "办理时间",
    "评价时间",
    "实名评价",
    "评价人",
    "联系电话",
    "状态",
];

fn reasons_zh(json: &str) -> String {
    let tags: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    tags.iter()
        .map(|t| ReasonTag::from_wire(t).map_or(t.clone(), |r| r.label_zh().to_string()))
        .collect::<Vec<_>>()
        .join("、")
}

/// A cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading `'`: citizens write the
/// comments, and Excel and WPS must show them, not run them.
pub fn neutralise_formula(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn csv_record(r: &EvaluationRow) -> [String; 20] {
    csv_cells(r).map(neutralise_formula)
}

fn csv_cells(r: &EvaluationRow) -> [String; 20] {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.hall_id.clone(),
        r.id.clone(),
        r.rev.to_string(),
        o(&r.serial_no),
        o(&r.item_code),
        o(&r.item_name),
        o(&r.department_code),
        o(&r.window_no),
        o(&r.staff_no),
        Channel::from_wire(&r.channel).label_zh().to_string(),
        r.level.to_string(),
        Level::new(r.level).map_or("", Level::label_zh).to_string(),
        reasons_zh(&r.reasons),
        r.comment.clone(),
        r.served_at.as_deref().map(local_time).unwrap_or_default(),
        local_time(&r.evaluated_at),
        if r.evaluator_real_name { "是" } else { "否" }.to_string(),
        o(&r.evaluator_name_masked),
        o(&r.evaluator_phone_masked),
        hcp_core::wire::EvaluationStatus::parse(&r.status)
            .map_or(r.status.as_str(), |s| s.label_zh())
            .to_string(),
    ]
}

/// Writes the export; returns the number of evaluations written. The evaluator's
/// ID hash leaves only with `with_id_hash` (JSONL; the CSV never carries it).
pub fn run(
    store: &Store,
    hall: Option<&str>,
    format: Format,
    out: Option<&Path>,
    with_id_hash: bool,
) -> Result<u64, CliError> {
    if let Some(h) = hall
        && store.hall(h)?.is_none()
    {
        return Err(CliError::Msg(format!("没有编码为 “{h}” 的大厅")));
    }
    // Write to a temporary file and rename, so a failed export never leaves half a file.
    let (sink, tmp): (Box<dyn Write>, Option<std::path::PathBuf>) = match out {
        Some(p) => {
            let tmp = p.with_extension("part");
            // Personal data: the file is the owner's only (0600 on Unix).
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let f = opts
                .open(&tmp)
                .map_err(|e| CliError::Msg(format!("无法创建 {}：{e}", tmp.display())))?;
            (Box::new(std::io::BufWriter::new(f)), Some(tmp))
        }
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            None,
        ),
    };
    let mut n = 0u64;
    match format {
        Format::Jsonl => {
            let mut w = sink;
            store.for_each_evaluation(hall, |row| {
                let mut e: Evaluation =
                    serde_json::from_str(&row.raw_json).map_err(std::io::Error::other)?;
                if !with_id_hash {
                    e.evaluator.id_hash = None;
                }
                serde_json::to_writer(&mut w, &e).map_err(std::io::Error::other)?;
                w.write_all(b"\n")?;
                n += 1;
                Ok(())
            })?;
            w.flush()
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
        }
        Format::Csv => {
            let mut sink = sink;
            sink.write_all("\u{feff}".as_bytes())
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(sink);
            w.write_record(CSV_HEADERS)
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
            store.for_each_evaluation(hall, |row| {
                w.write_record(csv_record(&row))
                    .map_err(std::io::Error::other)?;
                n += 1;
                Ok(())
            })?;
            w.flush()
                .map_err(|e| CliError::Msg(format!("写入失败：{e}")))?;
        }
    }
    if let (Some(tmp), Some(out)) = (tmp, out) {
        std::fs::rename(&tmp, out)
            .map_err(|e| CliError::Msg(format!("无法写入 {}：{e}", out.display())))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::neutralise_formula as n;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_leading_quote() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(n(bad.to_string()), format!("'{bad}"));
        }
        for ok in [
            "材料一次没说清楚",
            "138****5521",
            "",
            "A01",
            "2026-10-08 09:31:05",
        ] {
            assert_eq!(n(ok.to_string()), ok);
        }
    }
}
