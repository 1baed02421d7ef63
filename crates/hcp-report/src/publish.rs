//! 公示: what an office publishes of a period's 好差评 for the public website and
//! the hall's screen — a self-contained static HTML page (no script, no external
//! file, so it opens offline and from any web server) and the same figures as open
//! data (JSON and CSV). Built from the report model, keeping only aggregate
//! figures, names of halls, departments and windows, and each case's status:
//! **no personal data and no free text** (no rater, phone, staff member, comment,
//! measure or appeal ground), so nothing a citizen wrote is republished.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hcp_core::metrics::RateView;
use serde::{Deserialize, Serialize};

use crate::model::{GroupRow, MeanView, MonthlyReport};

/// The open data's schema name.
pub const PUBLIC_SCHEMA: &str = "hcp-public-report/1";

/// The published figures of a period and scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicReport {
    /// [`PUBLIC_SCHEMA`].
    pub schema: String,
    /// 「2026年11月政务服务“好差评”情况公示」.
    pub title: String,
    /// The period's key (`2026-11`, `2026-Q4`, `2026`).
    pub period: String,
    /// First and last day (Beijing).
    pub days: (String, String),
    /// 统计范围.
    pub scope: String,
    /// 发布机关 (设置 → 发文机关), if set.
    pub publisher: Option<String>,
    /// Figures as of (UTC).
    pub cutoff: String,
    /// The page's address, when the office gave one (the QR code points to it).
    pub url: Option<String>,
    /// 总体情况.
    pub overall: PublicFigures,
    /// Each hall.
    pub halls: Vec<PublicGroup>,
    /// Each department (named with its hall).
    pub departments: Vec<PublicGroup>,
    /// 红榜 windows.
    pub red_list: Vec<PublicGroup>,
    /// 黑榜 windows.
    pub black_list: Vec<PublicGroup>,
    /// 红黑榜 threshold: windows with at least this many evaluations.
    pub min_evaluations: i64,
    /// The cases of the period's bad ratings: their status, no text — the first
    /// [`crate::model::LEDGER_LISTED`] in rating order; `cases_summary` counts
    /// them all.
    pub cases: Vec<PublicCase>,
    /// The period's cases counted whole.
    #[serde(default)]
    pub cases_summary: crate::model::LedgerSummary,
}

/// The headline figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicFigures {
    /// 评价量.
    pub evaluations: i64,
    /// 好评率.
    pub good_rate: String,
    /// 差评数.
    pub bad: i64,
    /// 差评率.
    pub bad_rate: String,
    /// 综合评分.
    pub mean_score: String,
    /// 差评整改率.
    pub rectification_rate: String,
    /// 按期整改率.
    pub on_time_rate: String,
    /// 回访率.
    pub callback_rate: String,
    /// 回访满意率.
    pub callback_satisfaction: String,
    /// 超期未办结.
    pub overdue: i64,
}

/// A hall, department or window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicGroup {
    /// 大厅.
    pub hall: String,
    /// Its name (a hall's own name for a hall).
    pub name: String,
    /// 评价量.
    pub evaluations: i64,
    /// 好评.
    pub good: i64,
    /// 差评.
    pub bad: i64,
    /// 好评率.
    pub good_rate: String,
    /// 综合评分.
    pub mean_score: String,
}

/// A case as the public sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCase {
    /// 工单号.
    pub case_no: i64,
    /// 大厅.
    pub hall: String,
    /// 评价日期 (the day only).
    pub evaluated_on: String,
    /// 等级 (不满意…).
    pub level: String,
    /// 办理状态.
    pub state: String,
    /// Whether the case is closed (办结).
    pub closed: bool,
    /// 整改时限.
    pub deadline: Option<String>,
    /// 是否超期.
    pub overdue: bool,
    /// 回访结果 (满意…), a word.
    pub callback: String,
}

fn group(hall: &str, g: &GroupRow) -> PublicGroup {
    PublicGroup {
        hall: hall.to_owned(),
        name: g.name.clone(),
        evaluations: g.evaluations,
        good: g.good,
        bad: g.bad,
        good_rate: g.good_rate.display.clone(),
        mean_score: g.mean_score.display.clone(),
    }
}

/// The public view of a report model. `hall_name` names a hall by its code;
/// `url` is where the page will be published.
pub fn public_report(
    r: &MonthlyReport,
    hall_name: &dyn Fn(&str) -> String,
    url: Option<&str>,
) -> PublicReport {
    let o = &r.overall;
    // Each hall: the sum of its departments' figures (every rating has one
    // department row, "未注明" included).
    let mut halls: BTreeMap<String, (i64, i64, i64, i64, i64)> = BTreeMap::new();
    for d in &r.by_department {
        let e = halls.entry(d.hall_id.clone()).or_default();
        e.0 += d.evaluations;
        e.1 += d.good;
        e.2 += d.bad;
        e.3 += d.mean_score.sum;
        e.4 += d.mean_score.count;
    }
    let halls = halls
        .into_iter()
        .map(|(id, (e, g, b, sum, count))| {
            let name = hall_name(&id);
            PublicGroup {
                hall: name.clone(),
                name,
                evaluations: e,
                good: g,
                bad: b,
                good_rate: RateView::of(g, e).display,
                mean_score: MeanView::of(sum, count, 0, 2).display,
            }
        })
        .collect();
    let named = |rows: &[GroupRow]| -> Vec<PublicGroup> {
        rows.iter()
            .map(|g| group(&hall_name(&g.hall_id), g))
            .collect()
    };
    let title = r.title.replace("情况通报", "情况公示");
    PublicReport {
        schema: PUBLIC_SCHEMA.into(),
        title,
        period: r.month.clone(),
        days: r.period.clone(),
        scope: r.scope.name.clone(),
        publisher: r
            .office
            .as_ref()
            .map(|o| o.name.trim().to_owned())
            .filter(|n| !n.is_empty()),
        cutoff: r.cutoff.clone(),
        url: url.map(str::to_owned),
        overall: PublicFigures {
            evaluations: o.evaluations,
            good_rate: o.good_rate.display.clone(),
            bad: o.bad,
            bad_rate: o.bad_rate.display.clone(),
            mean_score: o.mean_score.display.clone(),
            rectification_rate: o.rectification_rate.display.clone(),
            on_time_rate: o.on_time_rate.display.clone(),
            callback_rate: o.callback_rate.display.clone(),
            callback_satisfaction: o.callback_satisfaction.display.clone(),
            overdue: o.overdue,
        },
        halls,
        departments: named(&r.by_department),
        red_list: named(&r.red_list),
        black_list: named(&r.black_list),
        min_evaluations: r.settings.min_evaluations,
        cases_summary: r.ledger_counts(),
        cases: r
            .ledger
            .iter()
            .map(|l| PublicCase {
                case_no: l.case_id,
                hall: l.hall.clone(),
                evaluated_on: l.evaluated_at.chars().take(10).collect(),
                level: l
                    .level_name
                    .clone()
                    .unwrap_or_else(|| l.level.map_or("—".into(), |v| v.to_string())),
                state: l.state.clone(),
                closed: l.is_closed(),
                deadline: l.deadline.clone(),
                overdue: l.overdue,
                callback: l.callback.clone(),
            })
            .collect(),
    }
}

/// Text as HTML text (never markup).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A QR code of `url` as inline SVG (dark modules on white), or `None` when
/// the address does not fit one.
pub fn qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build(),
    )
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>], numeric_from: usize) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if i >= numeric_from {
                let _ = write!(out, "<td class=\"n\">{}</td>", esc(c));
            } else {
                let _ = write!(out, "<td>{}</td>", esc(c));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn group_rows(rows: &[PublicGroup], with_hall: bool) -> Vec<Vec<String>> {
    rows.iter()
        .map(|g| {
            let mut v = vec![];
            if with_hall {
                v.push(g.hall.clone());
            }
            v.extend([
                g.name.clone(),
                g.evaluations.to_string(),
                g.good.to_string(),
                g.bad.to_string(),
                g.good_rate.clone(),
                g.mean_score.clone(),
            ]);
            v
        })
        .collect()
}

/// The page: one HTML file, its styles inline, no script and nothing fetched.
pub fn to_html(p: &PublicReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{}</style></head><body><main>",
        esc(&p.title),
        CSS
    );
    let _ = write!(
        h,
        "<header><h1>{}</h1><p class=\"meta\">统计范围：{}　统计期间：{} 至 {}{}</p></header>",
        esc(&p.title),
        esc(&p.scope),
        esc(&p.days.0),
        esc(&p.days.1),
        p.publisher
            .as_deref()
            .map(|n| format!("　发布单位：{}", esc(n)))
            .unwrap_or_default()
    );
    let o = &p.overall;
    h.push_str("<section><h2>总体情况</h2><div class=\"cards\">");
    for (label, value) in [
        ("评价量", o.evaluations.to_string()),
        ("好评率", o.good_rate.clone()),
        ("差评", o.bad.to_string()),
        ("综合评分", o.mean_score.clone()),
        ("差评整改率", o.rectification_rate.clone()),
        ("按期整改率", o.on_time_rate.clone()),
        ("回访满意率", o.callback_satisfaction.clone()),
        ("超期未办结", o.overdue.to_string()),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
            esc(&value),
            esc(label)
        );
    }
    h.push_str("</div></section>");
    if p.halls.len() > 1 {
        h.push_str("<section><h2>各大厅情况</h2>");
        table(
            &mut h,
            &["大厅", "评价量", "好评", "差评", "好评率", "综合评分"],
            &group_rows(&p.halls, false),
            1,
        );
        h.push_str("</section>");
    }
    let _ = write!(
        h,
        "<section><h2>窗口红黑榜</h2><p class=\"meta\">评价量不少于 {} 件的窗口按好评率排序。</p>",
        p.min_evaluations
    );
    if p.red_list.is_empty() {
        h.push_str("<p>本期无符合条件的窗口。</p>");
    } else {
        h.push_str("<div class=\"two\"><div><h3 class=\"red\">红榜</h3>");
        table(
            &mut h,
            &["窗口", "评价量", "好评", "差评", "好评率", "综合评分"],
            &group_rows(&p.red_list, false),
            1,
        );
        h.push_str("</div><div><h3 class=\"black\">黑榜</h3>");
        if p.black_list.is_empty() {
            h.push_str("<p>本期无符合条件的窗口。</p>");
        } else {
            table(
                &mut h,
                &["窗口", "评价量", "好评", "差评", "好评率", "综合评分"],
                &group_rows(&p.black_list, false),
                1,
            );
        }
        h.push_str("</div></div>");
    }
    h.push_str("</section><section><h2>各部门情况</h2>");
    table(
        &mut h,
        &["部门", "评价量", "好评", "差评", "好评率", "综合评分"],
        &group_rows(&p.departments, false),
        1,
    );
    let c = p.cases_summary;
    let listed = if (p.cases.len() as i64) < c.total {
        format!("下表列出按评价时间的前 {} 件。", p.cases.len())
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "</section><section><h2>差评整改情况</h2><p class=\"meta\">本期差评 {} 件，已办结 {} 件，办理中 {} 件，其中超期 {} 件。{listed}为保护评价人，本页不公开评价人信息与评价内容。</p>",
        c.total,
        c.closed,
        c.total - c.closed,
        c.overdue
    );
    table(
        &mut h,
        &[
            "工单号",
            "大厅",
            "评价日期",
            "等级",
            "办理状态",
            "整改时限",
            "回访结果",
        ],
        &p.cases
            .iter()
            .map(|c| {
                vec![
                    c.case_no.to_string(),
                    c.hall.clone(),
                    c.evaluated_on.clone(),
                    c.level.clone(),
                    if c.overdue {
                        format!("{}（超期）", c.state)
                    } else {
                        c.state.clone()
                    },
                    c.deadline.clone().unwrap_or_else(|| "—".into()),
                    c.callback.clone(),
                ]
            })
            .collect::<Vec<_>>(),
        usize::MAX,
    );
    h.push_str("</section><footer>");
    if let Some(url) = &p.url
        && let Some(svg) = qr_svg(url)
    {
        let _ = write!(
            h,
            "<div class=\"qr\"><img alt=\"本页二维码\" src=\"data:image/svg+xml;base64,{}\"><div>扫码查看：{}</div></div>",
            base64_encode(svg.as_bytes()),
            esc(url)
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">数据截至 {}（UTC）。开放数据：data.json、halls.csv、departments.csv、windows.csv、cases.csv。</p></footer></main></body></html>",
        esc(&p.cutoff)
    );
    h
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A CSV cell: quoted when needed; a leading = + - @ (a spreadsheet formula) is
/// neutralised with a quote mark.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A CSV file for Excel and WPS: UTF-8 with a byte-order mark, CRLF lines.
fn csv(head: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::from("\u{FEFF}");
    out.push_str(&head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The files of a 公示: (name, bytes).
pub type PublicFiles = Vec<(&'static str, Vec<u8>)>;

/// The files of a 公示: `index.html`, `data.json` and the CSVs.
pub fn files(p: &PublicReport) -> Result<PublicFiles, serde_json::Error> {
    let group_head = [
        "大厅",
        "名称",
        "评价量",
        "好评",
        "差评",
        "好评率",
        "综合评分",
    ];
    let group_csv = |rows: &[PublicGroup], extra: Option<&str>| {
        rows.iter()
            .map(|g| {
                let mut v = vec![];
                if let Some(e) = extra {
                    v.push(e.to_owned());
                }
                v.extend([
                    g.hall.clone(),
                    g.name.clone(),
                    g.evaluations.to_string(),
                    g.good.to_string(),
                    g.bad.to_string(),
                    g.good_rate.clone(),
                    g.mean_score.clone(),
                ]);
                v
            })
            .collect::<Vec<_>>()
    };
    let mut windows = group_csv(&p.red_list, Some("红榜"));
    windows.extend(group_csv(&p.black_list, Some("黑榜")));
    let mut window_head = vec!["榜单"];
    window_head.extend(group_head);
    Ok(vec![
        ("index.html", to_html(p).into_bytes()),
        ("data.json", serde_json::to_vec_pretty(p)?),
        (
            "halls.csv",
            csv(&group_head, group_csv(&p.halls, None).into_iter()).into_bytes(),
        ),
        (
            "departments.csv",
            csv(&group_head, group_csv(&p.departments, None).into_iter()).into_bytes(),
        ),
        (
            "windows.csv",
            csv(&window_head, windows.into_iter()).into_bytes(),
        ),
        (
            "cases.csv",
            csv(
                &[
                    "工单号",
                    "大厅",
                    "评价日期",
                    "等级",
                    "办理状态",
                    "整改时限",
                    "是否超期",
                    "回访结果",
                ],
                p.cases.iter().map(|c| {
                    vec![
                        c.case_no.to_string(),
                        c.hall.clone(),
                        c.evaluated_on.clone(),
                        c.level.clone(),
                        c.state.clone(),
                        c.deadline.clone().unwrap_or_default(),
                        if c.overdue { "是" } else { "否" }.to_owned(),
                        c.callback.clone(),
                    ]
                }),
            )
            .into_bytes(),
        ),
    ])
}

const CSS: &str = "body{margin:0;background:#f5f6f8;color:#1f2329;font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif;font-size:15px;line-height:1.6}\
main{max-width:1100px;margin:0 auto;padding:16px}\
header{border-bottom:3px solid #c0392b;margin-bottom:16px}\
h1{color:#c0392b;font-size:26px;margin:8px 0}\
h2{font-size:19px;border-left:4px solid #c0392b;padding-left:8px;margin:24px 0 8px}\
h3{font-size:16px;margin:8px 0}.red{color:#c0392b}.black{color:#303133}\
.meta{color:#606266;font-size:13px}\
section{background:#fff;border-radius:6px;padding:8px 16px 16px;margin-bottom:12px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}\
.card{background:#fdf6f5;border-radius:6px;padding:10px;text-align:center}\
.card .v{font-size:24px;font-weight:bold;color:#c0392b}.card .l{color:#606266;font-size:13px}\
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}\
.scroll{overflow-x:auto}\
table{border-collapse:collapse;width:100%;font-size:14px}\
th,td{border:1px solid #dcdfe6;padding:4px 8px;text-align:left;white-space:nowrap}\
th{background:#f2f3f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tbody tr:nth-child(even){background:#fafafa}\
footer{margin-top:16px}.qr{display:flex;gap:12px;align-items:center}.qr img{width:160px;height:160px}\
@media print{body{background:#fff}section{break-inside:avoid-page}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped_and_formulas_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-12"), "-12");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(b"hi!"), "aGkh");
        assert!(
            qr_svg("https://example.gov.cn/hcp/2026-11/")
                .unwrap()
                .contains("<svg")
        );
    }
}
