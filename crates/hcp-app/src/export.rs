//! Evaluations as a spreadsheet: one set of Chinese columns, Beijing times and
//! labels for codes, written as CSV that Excel and WPS open correctly (UTF-8 BOM,
//! CRLF) or as an Excel workbook. The command line (`hcp evaluations export`) and
//! 评价查询's 导出 both use it.
//!
//! Citizens write the comments: a CSV cell that a spreadsheet would take for a
//! formula gets a leading `'`; the workbook writes text as text.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::DateTime;
use hcp_core::{Channel, Level, ReasonTag};
use hcp_report::xlsx::Cell;
use hcp_store::{EvaluationFilter, EvaluationRow};

use crate::ErrorCode;
use crate::{App, AppError, AppResult, ExportEvaluationsArgs, FileData};

/// The window's export stops here; the command line has no limit.
pub const MAX_WINDOW_EXPORT_ROWS: i64 = 100_000;

/// The columns, with a width for the workbook.
pub const EVALUATION_COLUMNS: [(&str, f64); 23] = [
    ("大厅编码", 14.0),
    ("大厅名称", 24.0),
    ("评价编号", 18.0),
    ("版本", 6.0),
    ("办件编号", 22.0),
    ("事项编码", 16.0),
    ("事项名称", 24.0),
    ("部门编码", 16.0),
    ("部门名称", 20.0),
    ("窗口号", 8.0),
    ("窗口名称", 16.0),
    ("工号", 8.0),
    ("评价渠道", 12.0),
    ("评价等级", 8.0),
    ("等级名称", 10.0),
    ("差评原因", 20.0),
    ("评价内容", 40.0),
    ("办理时间", 19.0),
    ("评价时间", 19.0),
    ("实名评价", 8.0),
    ("评价人", 8.0),
    ("联系电话", 14.0),
    ("状态", 8.0),
];

/// A stored UTC instant as Beijing time, `2026-10-08 09:31:05`.
pub fn beijing_text(utc: &str) -> String {
    DateTime::parse_from_rfc3339(utc)
        .map(|t| {
            t.with_timezone(&hcp_core::metrics::beijing())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| utc.to_string())
}

/// A cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading `'`.
pub fn neutralise_formula(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn reasons_zh(json: &str) -> String {
    let tags: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    tags.iter()
        .map(|t| ReasonTag::from_wire(t).map_or(t.clone(), |r| r.label_zh().to_string()))
        .collect::<Vec<_>>()
        .join("、")
}

/// The names beside the codes of an export: each hall's, and its departments'
/// and windows' from its profile (read once per export).
#[derive(Debug, Default)]
pub struct UnitNames {
    halls: HashMap<String, String>,
    departments: HashMap<(String, String), String>,
    windows: HashMap<(String, String), String>,
}

impl UnitNames {
    /// The names of every hall `s` knows.
    pub fn load(s: &hcp_store::Store) -> hcp_store::Result<Self> {
        let mut n = UnitNames::default();
        for h in s.halls()? {
            for (code, name) in
                s.profile_options(Some(&h.hall_id), hcp_store::ProfileList::Departments)?
            {
                n.departments.insert((h.hall_id.clone(), code), name);
            }
            for (no, name) in
                s.profile_options(Some(&h.hall_id), hcp_store::ProfileList::Windows)?
            {
                n.windows.insert((h.hall_id.clone(), no), name);
            }
            n.halls.insert(h.hall_id, h.name);
        }
        Ok(n)
    }

    fn of(map: &HashMap<(String, String), String>, hall: &str, code: &Option<String>) -> String {
        code.as_ref()
            .and_then(|c| map.get(&(hall.to_owned(), c.clone())))
            .cloned()
            .unwrap_or_default()
    }
}

/// The columns Excel should read as numbers: 版本, 评价等级.
const NUMBER_COLUMNS: [usize; 2] = [3, 13];

/// One evaluation's cells, for people: names beside codes, labels for codes,
/// Beijing times.
pub fn evaluation_cells(r: &EvaluationRow, names: &UnitNames) -> [String; 23] {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.hall_id.clone(),
        names.halls.get(&r.hall_id).cloned().unwrap_or_default(),
        r.id.clone(),
        r.rev.to_string(),
        o(&r.serial_no),
        o(&r.item_code),
        o(&r.item_name),
        o(&r.department_code),
        UnitNames::of(&names.departments, &r.hall_id, &r.department_code),
        o(&r.window_no),
        UnitNames::of(&names.windows, &r.hall_id, &r.window_no),
        o(&r.staff_no),
        Channel::from_wire(&r.channel).label_zh().to_string(),
        r.level.to_string(),
        Level::new(r.level).map_or("", Level::label_zh).to_string(),
        reasons_zh(&r.reasons),
        r.comment.clone(),
        r.served_at.as_deref().map(beijing_text).unwrap_or_default(),
        beijing_text(&r.evaluated_at),
        if r.evaluator_real_name { "是" } else { "否" }.to_string(),
        o(&r.evaluator_name_masked),
        o(&r.evaluator_phone_masked),
        hcp_core::wire::EvaluationStatus::parse(&r.status)
            .map_or(r.status.as_str(), |s| s.label_zh())
            .to_string(),
    ]
}

/// Writes evaluations as CSV: BOM and header first, then [`EvaluationCsv::row`].
pub struct EvaluationCsv<W: Write> {
    w: csv::Writer<W>,
    names: UnitNames,
}

impl<W: Write> EvaluationCsv<W> {
    /// Starts the file; `names` fill the name columns.
    pub fn new(mut sink: W, names: UnitNames) -> std::io::Result<Self> {
        sink.write_all("\u{feff}".as_bytes())?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(sink);
        w.write_record(EVALUATION_COLUMNS.iter().map(|c| c.0))
            .map_err(std::io::Error::other)?;
        Ok(Self { w, names })
    }

    /// One evaluation.
    pub fn row(&mut self, r: &EvaluationRow) -> std::io::Result<()> {
        self.w
            .write_record(evaluation_cells(r, &self.names).map(neutralise_formula))
            .map_err(std::io::Error::other)
    }

    /// Flushes and hands the sink back.
    pub fn finish(self) -> std::io::Result<W> {
        self.w
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

impl App {
    /// 评价查询's 导出: the evaluations of the current filter as CSV or Excel, newest
    /// first (a director: his hall's), at most 100,000 rows.
    pub async fn export_evaluations(&self, a: ExportEvaluationsArgs) -> AppResult<FileData> {
        crate::validate_filter(&a.filter)?;
        let format = a.format.clone();
        if !matches!(format.as_str(), "csv" | "xlsx") {
            return Err(AppError::invalid(format!(
                "导出格式 “{}” 无效：应为 csv 或 xlsx",
                hcp_core::ident::printable(&format)
            )));
        }
        self.with_store(move |s| {
            let mut f: EvaluationFilter = a.filter;
            f.hall_id = crate::cases::scoped_hall(s, f.hall_id.take())?;
            let n = s.count_evaluations(&f)?;
            if n > MAX_WINDOW_EXPORT_ROWS {
                return Err(AppError::invalid(format!(
                    "符合条件的评价有 {n} 条，超过界面导出上限 {MAX_WINDOW_EXPORT_ROWS} 条：请缩小时间范围，或用命令行 hcp evaluations export 导出全部"
                )));
            }
            let stamp = hcp_store::now_beijing().format("%Y%m%d-%H%M");
            let (bytes, name, mime) = if format == "csv" {
                let mut csv = EvaluationCsv::new(Vec::new(), UnitNames::load(s)?)
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
                let mut err = None;
                s.for_each_matching_evaluation(&f, |r| match csv.row(&r) {
                    Ok(()) => true,
                    Err(e) => {
                        err = Some(e);
                        false
                    }
                })?;
                if let Some(e) = err {
                    return Err(AppError::new(ErrorCode::Internal, e.to_string()));
                }
                let bytes = csv
                    .finish()
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
                (bytes, format!("评价明细-{stamp}.csv"), "text/csv")
            } else {
                let mut rows = vec![];
                let names = UnitNames::load(s)?;
                s.for_each_matching_evaluation(&f, |r| {
                    let cells = evaluation_cells(&r, &names);
                    rows.push(
                        cells
                            .into_iter()
                            .enumerate()
                            .map(|(i, c)| match c.parse::<f64>() {
                                Ok(n) if NUMBER_COLUMNS.contains(&i) => Cell::Number(n),
                                _ => Cell::Text(c),
                            })
                            .collect(),
                    );
                    true
                })?;
                let bytes = hcp_report::xlsx::table_xlsx("评价明细", &EVALUATION_COLUMNS, &rows)
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
                (
                    bytes,
                    format!("评价明细-{stamp}.xlsx"),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
            };
            Ok(FileData {
                file_name: name,
                mime: mime.into(),
                data_base64: B64.encode(bytes),
            })
        })
        .await
    }
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
