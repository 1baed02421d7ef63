//! The report's tables as an Excel workbook (rust_xlsxwriter): Chinese headers,
//! percentages as numbers with a percent format, frozen header rows — what an
//! office re-cuts in Excel or WPS.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::ReportError;
use crate::model::{FullLists, GroupRow, LedgerRow, MonthlyReport, RateView};

fn e(x: XlsxError) -> ReportError {
    ReportError::Xlsx(x.to_string())
}

struct Fmt {
    head: Format,
    pct: Format,
    num2: Format,
}

fn header(ws: &mut Worksheet, f: &Fmt, cols: &[(&str, f64)]) -> Result<(), ReportError> {
    for (i, (h, w)) in cols.iter().enumerate() {
        ws.write_with_format(0, i as u16, *h, &f.head).map_err(e)?;
        ws.set_column_width(i as u16, *w).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    Ok(())
}

fn rate(ws: &mut Worksheet, row: u32, col: u16, r: &RateView, f: &Fmt) -> Result<(), ReportError> {
    match r.percent {
        Some(p) => ws
            .write_with_format(row, col, p / 100.0, &f.pct)
            .map_err(e)?,
        None => ws.write(row, col, "—").map_err(e)?,
    };
    Ok(())
}

fn mean(ws: &mut Worksheet, row: u32, col: u16, display: &str, f: &Fmt) -> Result<(), ReportError> {
    match display.parse::<f64>() {
        Ok(v) => ws.write_with_format(row, col, v, &f.num2).map_err(e)?,
        Err(_) => ws.write(row, col, display).map_err(e)?,
    };
    Ok(())
}

fn groups(
    wb: &mut Workbook,
    name: &str,
    what: &str,
    rows: &[GroupRow],
    f: &Fmt,
) -> Result<(), ReportError> {
    let ws = wb.add_worksheet().set_name(name).map_err(e)?;
    header(
        ws,
        f,
        &[
            (what, 28.0),
            ("编码", 22.0),
            ("评价量", 10.0),
            ("好评数", 10.0),
            ("差评数", 10.0),
            ("好评率", 10.0),
            ("综合评分", 10.0),
        ],
    )?;
    for (i, g) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write(r, 0, &g.name).map_err(e)?;
        ws.write(r, 1, g.code.as_deref().unwrap_or("")).map_err(e)?;
        ws.write(r, 2, g.evaluations as f64).map_err(e)?;
        ws.write(r, 3, g.good as f64).map_err(e)?;
        ws.write(r, 4, g.bad as f64).map_err(e)?;
        rate(ws, r, 5, &g.good_rate, f)?;
        mean(ws, r, 6, &g.mean_score.display, f)?;
    }
    Ok(())
}

fn ledger(wb: &mut Workbook, name: &str, rows: &[LedgerRow], f: &Fmt) -> Result<(), ReportError> {
    let ws = wb.add_worksheet().set_name(name).map_err(e)?;
    header(
        ws,
        f,
        &[
            ("工单号", 8.0),
            ("大厅", 22.0),
            ("评价编号", 20.0),
            ("评价时间", 17.0),
            ("等级", 6.0),
            ("窗口", 8.0),
            ("评价内容", 40.0),
            ("状态", 14.0),
            ("整改时限", 12.0),
            ("整改措施", 40.0),
            ("回访结果", 10.0),
            ("超期", 6.0),
        ],
    )?;
    for (i, l) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write(r, 0, l.case_id as f64).map_err(e)?;
        ws.write(r, 1, &l.hall).map_err(e)?;
        ws.write(r, 2, &l.evaluation_id).map_err(e)?;
        ws.write(r, 3, &l.evaluated_at).map_err(e)?;
        if let Some(lv) = l.level {
            ws.write(r, 4, f64::from(lv)).map_err(e)?;
        }
        ws.write(r, 5, l.window_no.as_deref().unwrap_or(""))
            .map_err(e)?;
        ws.write(r, 6, &l.comment).map_err(e)?;
        ws.write(r, 7, &l.state).map_err(e)?;
        let dl = l.deadline.clone().unwrap_or_default()
            + if l.deadline_estimated {
                "（估算）"
            } else {
                ""
            };
        ws.write(r, 8, dl).map_err(e)?;
        ws.write(r, 9, &l.measures).map_err(e)?;
        ws.write(r, 10, &l.callback).map_err(e)?;
        ws.write(r, 11, if l.overdue { "是" } else { "" })
            .map_err(e)?;
    }
    Ok(())
}

/// The workbook's bytes. Its 差评整改台账 and 超期清单 are the model's (the first
/// [`crate::model::LEDGER_LISTED`], the longest [`crate::model::OVERDUE_LISTED`]
/// overdue); [`to_xlsx_full`] writes every line.
pub fn to_xlsx(rep: &MonthlyReport) -> Result<Vec<u8>, ReportError> {
    write_xlsx(rep, None)
}

/// The workbook with the full lists of a draft ([`crate::model::full_lists`]).
pub fn to_xlsx_full(rep: &MonthlyReport, full: &FullLists) -> Result<Vec<u8>, ReportError> {
    write_xlsx(rep, Some(full))
}

fn write_xlsx(rep: &MonthlyReport, full: Option<&FullLists>) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let f = Fmt {
        head: Format::new().set_bold().set_background_color("#DDEBF7"),
        pct: Format::new().set_num_format("0.00%"),
        num2: Format::new().set_num_format("0.00"),
    };
    {
        let ws = wb.add_worksheet().set_name("总体情况").map_err(e)?;
        header(
            ws,
            &f,
            &[
                ("指标", 16.0),
                (rep.current_name.as_str(), 12.0),
                ("分子", 10.0),
                ("分母", 10.0),
                (rep.previous_name.as_str(), 12.0),
            ],
        )?;
        let (o, p) = (&rep.overall, &rep.previous);
        let mut r = 1u32;
        let mut count =
            |ws: &mut Worksheet, name: &str, a: i64, b: i64| -> Result<(), ReportError> {
                ws.write(r, 0, name).map_err(e)?;
                ws.write(r, 1, a as f64).map_err(e)?;
                ws.write(r, 4, b as f64).map_err(e)?;
                r += 1;
                Ok(())
            };
        count(ws, "评价量", o.evaluations, p.evaluations)?;
        for (i, name) in [
            "非常不满意（1）",
            "不满意（2）",
            "基本满意（3）",
            "满意（4）",
            "非常满意（5）",
        ]
        .iter()
        .enumerate()
        {
            count(ws, name, o.levels[i], p.levels[i])?;
        }
        count(ws, "差评数", o.bad, p.bad)?;
        count(ws, "申诉数", o.appeals, p.appeals)?;
        count(ws, "超期数", o.overdue, p.overdue)?;
        count(
            ws,
            if o.system_default.counted {
                "系统默认评价（已计入评价量和好评率）"
            } else {
                "系统默认评价（未计入评价量和好评率）"
            },
            o.system_default.count,
            p.system_default.count,
        )?;
        let rates: [(&str, &RateView, &RateView); 8] = [
            ("好评率", &o.good_rate, &p.good_rate),
            ("差评率", &o.bad_rate, &p.bad_rate),
            ("差评整改率", &o.rectification_rate, &p.rectification_rate),
            ("按期整改率", &o.on_time_rate, &p.on_time_rate),
            ("回访率", &o.callback_rate, &p.callback_rate),
            (
                "回访满意率",
                &o.callback_satisfaction,
                &p.callback_satisfaction,
            ),
            ("申诉成立率", &o.appeal_upheld_rate, &p.appeal_upheld_rate),
            (
                "系统默认评价占比",
                &o.system_default.share,
                &p.system_default.share,
            ),
        ];
        for (name, now, before) in rates.iter() {
            ws.write(r, 0, *name).map_err(e)?;
            rate(ws, r, 1, now, &f)?;
            ws.write(r, 2, now.numerator as f64).map_err(e)?;
            ws.write(r, 3, now.denominator as f64).map_err(e)?;
            rate(ws, r, 4, before, &f)?;
            r += 1;
        }
        ws.write(r, 0, "综合评分").map_err(e)?;
        mean(ws, r, 1, &o.mean_score.display, &f)?;
        ws.write(r, 2, o.mean_score.sum as f64).map_err(e)?;
        ws.write(r, 3, o.mean_score.count as f64).map_err(e)?;
        mean(ws, r, 4, &p.mean_score.display, &f)?;
        r += 1;
        ws.write(r, 0, "暗访平均分").map_err(e)?;
        mean(ws, r, 1, &o.visit_mean_score.display, &f)?;
        ws.write(r, 3, o.visit_mean_score.count as f64).map_err(e)?;
        mean(ws, r, 4, &p.visit_mean_score.display, &f)?;
    }
    if !rep.trend.is_empty() {
        let ws = wb.add_worksheet().set_name("各月趋势").map_err(e)?;
        header(
            ws,
            &f,
            &[
                ("月份", 10.0),
                ("评价量", 10.0),
                ("好评率", 10.0),
                ("差评数", 10.0),
                ("差评率", 10.0),
                ("综合评分", 10.0),
                ("差评整改率", 12.0),
                ("按期整改率", 12.0),
                ("回访率", 10.0),
                ("申诉数", 10.0),
                ("申诉成立率", 12.0),
                ("超期数", 10.0),
            ],
        )?;
        for (i, t) in rep.trend.iter().enumerate() {
            let (r, m) = (i as u32 + 1, &t.metrics);
            ws.write(r, 0, t.month.as_str()).map_err(e)?;
            ws.write(r, 1, m.evaluations as f64).map_err(e)?;
            rate(ws, r, 2, &m.good_rate, &f)?;
            ws.write(r, 3, m.bad as f64).map_err(e)?;
            rate(ws, r, 4, &m.bad_rate, &f)?;
            mean(ws, r, 5, &m.mean_score.display, &f)?;
            rate(ws, r, 6, &m.rectification_rate, &f)?;
            rate(ws, r, 7, &m.on_time_rate, &f)?;
            rate(ws, r, 8, &m.callback_rate, &f)?;
            ws.write(r, 9, m.appeals as f64).map_err(e)?;
            rate(ws, r, 10, &m.appeal_upheld_rate, &f)?;
            ws.write(r, 11, m.overdue as f64).map_err(e)?;
        }
    }
    groups(&mut wb, "分部门", "部门", &rep.by_department, &f)?;
    groups(&mut wb, "分窗口", "窗口", &rep.by_window, &f)?;
    groups(&mut wb, "分人员", "工作人员", &rep.by_staff, &f)?;
    groups(&mut wb, "红榜", "窗口", &rep.red_list, &f)?;
    groups(&mut wb, "黑榜", "窗口", &rep.black_list, &f)?;
    {
        let ws = wb.add_worksheet().set_name("每日差评").map_err(e)?;
        header(ws, &f, &[("日期", 12.0), ("差评数", 10.0)])?;
        for (i, (d, n)) in rep.daily_bad.iter().enumerate() {
            ws.write(i as u32 + 1, 0, d).map_err(e)?;
            ws.write(i as u32 + 1, 1, *n as f64).map_err(e)?;
        }
    }
    let ledger_rows = full.map_or(&rep.ledger, |l| &l.ledger);
    ledger(&mut wb, "差评整改台账", ledger_rows, &f)?;
    let total = rep.ledger_counts().total;
    if (ledger_rows.len() as i64) < total {
        let ws = wb.worksheet_from_name("差评整改台账").map_err(e)?;
        ws.write(
            ledger_rows.len() as u32 + 2,
            0,
            format!(
                "共 {total} 件，以上为按评价时间的前 {} 件；完整台账请从通报草稿导出 Excel。",
                ledger_rows.len()
            ),
        )
        .map_err(e)?;
    }
    let listed = full.map_or(&rep.overdue, |l| &l.overdue);
    ledger(&mut wb, "超期清单", listed, &f)?;
    let total = rep.overall.overdue;
    if (listed.len() as i64) < total {
        let ws = wb.worksheet_from_name("超期清单").map_err(e)?;
        ws.write(
            listed.len() as u32 + 2,
            0,
            format!(
                "共 {total} 件，以上为超期最久的 {} 件；完整清单请从通报草稿导出 Excel。",
                listed.len()
            ),
        )
        .map_err(e)?;
    }
    if !rep.overdue_by_hall.is_empty() {
        let ws = wb.add_worksheet().set_name("超期分布").map_err(e)?;
        header(
            ws,
            &f,
            &[("大厅", 26.0), ("超期件数", 10.0), ("最早到期日", 14.0)],
        )?;
        for (i, h) in rep.overdue_by_hall.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write(r, 0, &h.hall).map_err(e)?;
            ws.write(r, 1, h.overdue as f64).map_err(e)?;
            ws.write(r, 2, &h.earliest_due).map_err(e)?;
        }
    }
    {
        let ws = wb.add_worksheet().set_name("申诉复核").map_err(e)?;
        header(
            ws,
            &f,
            &[
                ("大厅", 22.0),
                ("申诉编号", 14.0),
                ("评价编号", 20.0),
                ("提出时间", 17.0),
                ("申诉理由", 28.0),
                ("复核结论", 10.0),
            ],
        )?;
        for (i, a) in rep.appeals.iter().enumerate() {
            let r = i as u32 + 1;
            for (c, v) in [
                &a.hall,
                &a.appeal_id,
                &a.evaluation_id,
                &a.filed_at,
                &a.ground,
                &a.verdict,
            ]
            .iter()
            .enumerate()
            {
                ws.write(r, c as u16, v.as_str()).map_err(e)?;
            }
        }
    }
    {
        let ws = wb.add_worksheet().set_name("暗访情况").map_err(e)?;
        header(
            ws,
            &f,
            &[
                ("大厅", 22.0),
                ("得分", 8.0),
                ("严重问题", 10.0),
                ("主要问题", 60.0),
            ],
        )?;
        for (i, v) in rep.visits.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write(r, 0, &v.hall).map_err(e)?;
            mean(ws, r, 1, &v.score, &f)?;
            ws.write(r, 2, if v.failed { "是" } else { "" })
                .map_err(e)?;
            ws.write(r, 3, v.findings.join("；")).map_err(e)?;
        }
    }
    {
        let ws = wb.add_worksheet().set_name("预警与处置").map_err(e)?;
        header(
            ws,
            &f,
            &[
                ("预警类型", 30.0),
                ("大厅", 22.0),
                ("对象", 18.0),
                ("日期", 22.0),
                ("说明", 60.0),
                ("处置", 10.0),
                ("处置说明", 40.0),
            ],
        )?;
        for (i, a) in rep.alerts.iter().enumerate() {
            let r = i as u32 + 1;
            for (c, v) in [
                &a.rule,
                &a.hall,
                &a.unit,
                &a.days,
                &a.explanation,
                &a.state,
                a.note.as_ref().unwrap_or(&String::new()),
            ]
            .into_iter()
            .enumerate()
            {
                ws.write(r, c as u16, v.as_str()).map_err(e)?;
            }
        }
    }
    wb.save_to_buffer().map_err(e)
}

/// A cell of a plain table: text, or a number Excel can sum.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Written as text, never as a formula.
    Text(String),
    /// Written as a number.
    Number(f64),
}

/// One sheet with a bold, frozen header row and the rows under it: the
/// evaluation list's Excel export. Text is always written as text (a comment
/// starting with `=` stays a comment).
pub fn table_xlsx(
    sheet: &str,
    headers: &[(&str, f64)],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let f = Fmt {
        head: Format::new().set_bold().set_background_color("#DDEBF7"),
        pct: Format::new(),
        num2: Format::new(),
    };
    let ws = wb.add_worksheet().set_name(sheet).map_err(e)?;
    header(ws, &f, headers)?;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) => ws.write_string(r, c as u16, t).map_err(e)?,
                Cell::Number(n) => ws.write_number(r, c as u16, *n).map_err(e)?,
            };
        }
    }
    wb.save_to_buffer().map_err(e)
}
