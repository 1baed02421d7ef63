//! Which column is which: our fields, the Chinese headers real exports give them,
//! finding the header row under a file's title rows, and the level's direction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::read::{Cell, Row};
use crate::values::{self, LevelScale};

/// A field an import can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// 评价编号.
    EvalId,
    /// 评价时间.
    EvaluatedAt,
    /// 评价等级 (five levels, as words or numbers).
    Level,
    /// 好评/差评 (used only when no five-level column exists).
    GoodBad,
    /// 评价渠道.
    Channel,
    /// 办件编号.
    SerialNo,
    /// 事项名称.
    ItemName,
    /// 事项编码.
    ItemCode,
    /// 实施部门.
    Department,
    /// 大厅.
    Hall,
    /// 行政区划.
    Region,
    /// 窗口.
    Window,
    /// 工号.
    StaffNo,
    /// 工作人员.
    StaffName,
    /// 评价内容.
    Comment,
    /// 差评原因.
    Reasons,
    /// 评价人.
    EvaluatorName,
    /// 联系电话.
    EvaluatorPhone,
    /// 评价状态 (有效/已改评/已撤评).
    Status,
    /// 办理时间.
    ServedAt,
    /// 满意度代码 (GB/T 39046-2020 A.8: 1 = 非常满意 … 5 = 非常不满意).
    LevelCode,
    /// 评价次数 (首次评价 = 1, 二次评价 = 2): a second rating revises the first.
    EvalCount,
    /// 证件号码 (ID-card number or credit code of the rater): hashed, never kept.
    IdNumber,
    /// 用户类型 (个人 = 1, 法人 = 2).
    UserType,
    /// 是否匿名 (是 = 1, 否 = 2).
    Anonymous,
    /// 工单编号 (差评工单 exports).
    OrderNo,
    /// 工单状态.
    OrderStatus,
    /// 整改回复 (the hall's rectification).
    RectifyReply,
    /// 整改人.
    Rectifier,
    /// 整改时间.
    RectifiedAt,
    /// 申诉理由.
    AppealReason,
    /// 申诉时间.
    AppealedAt,
    /// 驳回理由 (the appeal was dismissed).
    AppealRejection,
    /// 追评等级 (the rater's later rating).
    FollowUpLevel,
    /// 追评文本.
    FollowUpText,
}

/// Every field, in the order the preview lists them.
pub const FIELDS: [Field; 35] = [
    Field::EvaluatedAt,
    Field::Level,
    Field::LevelCode,
    Field::GoodBad,
    Field::Hall,
    Field::Region,
    Field::Channel,
    Field::EvalId,
    Field::SerialNo,
    Field::ItemName,
    Field::ItemCode,
    Field::Department,
    Field::Window,
    Field::StaffNo,
    Field::StaffName,
    Field::Comment,
    Field::Reasons,
    Field::EvaluatorName,
    Field::EvaluatorPhone,
    Field::IdNumber,
    Field::UserType,
    Field::Anonymous,
    Field::Status,
    Field::EvalCount,
    Field::ServedAt,
    Field::OrderNo,
    Field::OrderStatus,
    Field::RectifyReply,
    Field::Rectifier,
    Field::RectifiedAt,
    Field::AppealReason,
    Field::AppealedAt,
    Field::AppealRejection,
    Field::FollowUpLevel,
    Field::FollowUpText,
];

impl Field {
    /// The key used in mappings and profiles.
    pub fn key(self) -> &'static str {
        match self {
            Field::EvalId => "eval_id",
            Field::EvaluatedAt => "evaluated_at",
            Field::Level => "level",
            Field::GoodBad => "good_bad",
            Field::Channel => "channel",
            Field::SerialNo => "serial_no",
            Field::ItemName => "item_name",
            Field::ItemCode => "item_code",
            Field::Department => "department",
            Field::Hall => "hall",
            Field::Region => "region",
            Field::Window => "window",
            Field::StaffNo => "staff_no",
            Field::StaffName => "staff_name",
            Field::Comment => "comment",
            Field::Reasons => "reasons",
            Field::EvaluatorName => "evaluator_name",
            Field::EvaluatorPhone => "evaluator_phone",
            Field::Status => "status",
            Field::ServedAt => "served_at",
            Field::LevelCode => "level_code",
            Field::EvalCount => "eval_count",
            Field::IdNumber => "id_number",
            Field::UserType => "user_type",
            Field::Anonymous => "anonymous",
            Field::OrderNo => "order_no",
            Field::OrderStatus => "order_status",
            Field::RectifyReply => "rectify_reply",
            Field::Rectifier => "rectifier",
            Field::RectifiedAt => "rectified_at",
            Field::AppealReason => "appeal_reason",
            Field::AppealedAt => "appealed_at",
            Field::AppealRejection => "appeal_rejection",
            Field::FollowUpLevel => "follow_up_level",
            Field::FollowUpText => "follow_up_text",
        }
    }

    /// From a mapping key.
    pub fn from_key(k: &str) -> Option<Self> {
        FIELDS.into_iter().find(|f| f.key() == k)
    }

    /// 中文名.
    pub fn label(self) -> &'static str {
        self.synonyms()[0]
    }

    /// The headers real exports use for it, the usual one first: the Chinese
    /// names of the provincial systems' exports, GB/T 39046-2020 表9's data items,
    /// and the field codes of the provinces' 办件评价 interfaces (`projectNo`,
    /// `assessTime`…; see `docs/import-layouts.md`). Compared after
    /// [`normalise_header`] (ASCII lower-cased).
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::EvalId => &[
                "评价编号",
                "评价id",
                "评价流水号",
                "评价单号",
                "评价记录编号",
                "evaluationid",
                "evalid",
            ],
            Field::EvaluatedAt => &[
                "评价时间",
                "评价日期",
                "评价提交时间",
                "提交时间",
                "评价时间北京时间",
                "assesstime",
                "submittime",
                "evaluatetime",
            ],
            Field::Level => &[
                "评价等级",
                "满意度",
                "评价结果",
                "评价分值",
                "评价星级",
                "满意度评价",
                "评价级别",
                "满意程度",
                "评分",
                "整体满意度",
                "satisfaction",
                "levelcode",
            ],
            Field::LevelCode => &["满意度代码", "满意度编码"],
            Field::GoodBad => &[
                "好差评",
                "好差评结果",
                "评价类型",
                "好差评类型",
                "好差评等级",
            ],
            Field::Channel => &[
                "评价渠道",
                "评价方式",
                "来源",
                "评价来源",
                "渠道",
                "评价途径",
                "评价渠道代码",
                "pf",
                "evaluatechannel",
            ],
            Field::SerialNo => &[
                "办件编号",
                "申报流水号",
                "业务流水号",
                "办件流水号",
                "受理编号",
                "申报号",
                "办件号",
                "办件统一编号",
                "projectno",
                "processnumber",
            ],
            Field::ItemName => &[
                "事项名称",
                "办理事项",
                "服务事项",
                "事项",
                "taskname",
                "itemname",
            ],
            Field::ItemCode => &[
                "事项编码",
                "事项代码",
                "实施编码",
                "事项实施编码",
                "事项统一编码",
                "taskcode",
                "itemcode",
            ],
            Field::Department => &[
                "实施部门",
                "办理部门",
                "部门",
                "部门名称",
                "实施主体",
                "受理部门",
                "prodepart",
                "prodepartment",
            ],
            Field::Hall => &[
                "大厅",
                "大厅名称",
                "服务中心",
                "政务服务中心",
                "办事大厅",
                "服务大厅",
                "所属大厅",
                "评价对象",
            ],
            Field::Region => &[
                "行政区划",
                "区划",
                "区划代码",
                "行政区划代码",
                "所属区划",
                "地区",
                "areacode",
            ],
            Field::Window => &["窗口", "窗口号", "窗口编号", "窗口名称", "服务窗口"],
            Field::StaffNo => &["工号", "人员工号", "工作人员工号", "员工编号"],
            Field::StaffName => &[
                "工作人员",
                "办理人",
                "经办人",
                "受理人",
                "工作人员姓名",
                "被评价人",
                "办理人员",
                "promanager",
            ],
            Field::Comment => &[
                "评价内容",
                "评价意见",
                "意见建议",
                "评价详情",
                "留言",
                "评价描述",
                "文字评价",
                "差评内容",
                "writingevaluation",
                "words",
            ],
            Field::Reasons => &[
                "差评原因",
                "评价标签",
                "差评标签",
                "不满意原因",
                "差评类型",
                "测评内容",
                "evaldetail",
                "contentcode",
            ],
            Field::EvaluatorName => &[
                "评价人",
                "评价人姓名",
                "办事人",
                "申请人",
                "办事群众",
                "差评人姓名",
                "差评人",
                "用户名称",
                "username",
            ],
            Field::EvaluatorPhone => &[
                "联系电话",
                "手机号",
                "手机号码",
                "评价人电话",
                "联系方式",
                "差评人手机",
                "差评人电话",
                "评价人手机",
                "mobile",
                "usermobile",
            ],
            Field::IdNumber => &[
                "证件号码",
                "身份证号",
                "身份证号码",
                "评价人证件号码",
                "评价人身份唯一标识",
                "certkeygov",
                "userid",
                "idcard",
            ],
            Field::UserType => &["用户类型", "评价用户属性", "用户属性", "userprop"],
            Field::Anonymous => &["是否匿名", "匿名", "anonymityflag"],
            Field::Status => &["评价状态", "状态", "数据状态"],
            Field::EvalCount => &["评价次数", "assessnumber"],
            Field::ServedAt => &["办理时间", "办结时间", "受理时间", "服务时间"],
            Field::OrderNo => &["工单编号", "工单号", "差评工单编号", "工单流水号"],
            Field::OrderStatus => &["工单状态", "处理状态", "办理状态"],
            Field::RectifyReply => &["整改回复", "整改情况", "整改措施", "整改内容", "处理结果"],
            Field::Rectifier => &["整改人", "整改责任人", "整改负责人"],
            Field::RectifiedAt => &["整改时间", "整改回复时间", "回复时间"],
            Field::AppealReason => &["申诉理由", "申诉原因", "申诉内容"],
            Field::AppealedAt => &["申诉时间"],
            Field::AppealRejection => &["驳回理由", "驳回原因", "申诉驳回理由"],
            Field::FollowUpLevel => &["追评等级", "追评满意度", "二次评价等级"],
            Field::FollowUpText => &["追评文本", "追评内容", "二次评价内容"],
        }
    }
}

/// A header as compared: full-width characters folded, spaces, `*` marks and a
/// bracketed note (「（必填）」) removed, ASCII lower-cased.
pub fn normalise_header(s: &str) -> String {
    let folded = values::fold_width(s);
    let mut out = String::with_capacity(folded.len());
    let mut depth = 0;
    for c in folded.chars() {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            c if c.is_whitespace() || c == '*' || c == ':' || c == '：' => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// The field a header names, if any: exactly a synonym, or else containing the
/// longest one of at least four characters (「差评原因标签」 → 差评原因).
pub fn field_of_header(header: &str) -> Option<Field> {
    let h = normalise_header(header);
    if h.is_empty() {
        return None;
    }
    if let Some(f) = FIELDS
        .into_iter()
        .find(|f| f.synonyms().contains(&h.as_str()))
    {
        return Some(f);
    }
    FIELDS
        .into_iter()
        .flat_map(|f| f.synonyms().iter().map(move |s| (f, *s)))
        .filter(|(_, s)| s.chars().count() >= 4 && h.contains(s))
        .max_by_key(|(_, s)| s.chars().count())
        .map(|(f, _)| f)
}

/// How a file's columns map onto fields: by the header text, so a profile
/// survives reordered columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "ImportMapping.ts", rename = "ImportMapping")]
pub struct Mapping {
    /// Field key → the column's header as shown in the preview.
    pub columns: BTreeMap<String, String>,
    /// Which way numeric levels run.
    pub level_scale: LevelScale,
    /// The hall every row belongs to, when the file has no hall column.
    #[serde(default)]
    pub default_hall: Option<String>,
    /// A province's own 评价渠道 codes (code → the channel's word or hall-api code),
    /// where its interface numbers channels differently from the national table
    /// (GB/T 39046-2020 表9's order: 1 PC端 … 7 短信); they read over the national
    /// table. Empty: the national one.
    #[serde(default)]
    pub channel_codes: BTreeMap<String, String>,
}

impl Mapping {
    /// The header mapped to a field.
    pub fn header(&self, f: Field) -> Option<&str> {
        self.columns.get(f.key()).map(String::as_str)
    }

    /// Required fields it leaves out, by their Chinese names.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = vec![];
        if self.header(Field::EvaluatedAt).is_none() {
            out.push(Field::EvaluatedAt.label());
        }
        if self.header(Field::Level).is_none()
            && self.header(Field::LevelCode).is_none()
            && self.header(Field::GoodBad).is_none()
        {
            out.push(Field::Level.label());
        }
        if self.header(Field::Hall).is_none()
            && self.header(Field::Region).is_none()
            && self
                .default_hall
                .as_deref()
                .is_none_or(|h| h.trim().is_empty())
        {
            out.push(Field::Hall.label());
        }
        out
    }
}

/// The header found under a file's title rows.
#[derive(Debug, Clone)]
pub struct Header {
    /// The row number of its (last) header row: data starts after it.
    pub row: u32,
    /// Column names, left to right (「第N列」 for an empty one); unique.
    pub names: Vec<String>,
    /// Text of the rows above it (the file's title, 导出时间…).
    pub title: Vec<String>,
}

/// How many rows from the top are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 30;

fn score(row: &Row) -> usize {
    let mut seen = std::collections::HashSet::new();
    row.cells
        .iter()
        .filter_map(|c| match c {
            Cell::Text(t) => field_of_header(t),
            _ => None,
        })
        .filter(|f| seen.insert(*f))
        .count()
}

/// Finds the header among the first rows: the row naming the most known fields
/// (at least two). A second header row under it (a merged group title above
/// 「评价人 | 联系电话」, or cells merged down over both rows) is folded in.
pub fn find_header(rows: &[Row]) -> Option<Header> {
    let (i, best) = rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .enumerate()
        .map(|(i, r)| (i, score(r)))
        .max_by_key(|(i, s)| (*s, std::cmp::Reverse(*i)))?;
    if best < 2 {
        return None;
    }
    let top = &rows[i];
    let mut names: Vec<String> = top
        .cells
        .iter()
        .map(|c| c.text().trim().to_owned())
        .collect();
    let mut last_row = top.no;
    if let Some(below) = rows.get(i + 1)
        && below.no == top.no + 1
        && score(below) >= 1
        && below.cells.iter().enumerate().all(|(c, cell)| match cell {
            Cell::Empty => true,
            // Sub-headers sit under an empty (merged) cell or a group title, never
            // under a field's own header: a data row does.
            Cell::Text(t) => {
                t.trim().is_empty()
                    || top.cells.get(c).is_none_or(|up| match up {
                        Cell::Text(u) => field_of_header(u).is_none(),
                        _ => true,
                    })
            }
            _ => false,
        })
    {
        // A group title merged across columns spans cells left empty to its right.
        let mut group = String::new();
        let width = names.len().max(below.cells.len());
        names.resize(width, String::new());
        for (c, name) in names.iter_mut().enumerate() {
            if !name.is_empty() {
                group = name.clone();
            }
            let sub = below
                .cells
                .get(c)
                .map(|x| x.text().trim().to_owned())
                .unwrap_or_default();
            if !sub.is_empty() {
                *name = if field_of_header(&sub).is_some() || group.is_empty() {
                    sub
                } else {
                    format!("{group}{sub}")
                };
            }
        }
        last_row = below.no;
    }
    // Unique, never empty.
    let mut used = std::collections::HashSet::new();
    for (c, name) in names.iter_mut().enumerate() {
        if name.is_empty() {
            *name = format!("第{}列", c + 1);
        }
        let mut candidate = name.clone();
        let mut k = 2;
        while !used.insert(candidate.clone()) {
            candidate = format!("{name}({k})");
            k += 1;
        }
        *name = candidate;
    }
    let title = rows[..i]
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .map(Cell::text)
                .filter(|t| !t.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Some(Header {
        row: last_row,
        names,
        title,
    })
}

/// The mapping the headers and the first data rows suggest.
pub fn detect(header: &Header, sample: &[Row]) -> (Mapping, bool) {
    let mut columns: BTreeMap<String, String> = BTreeMap::new();
    let mut taken = std::collections::HashSet::new();
    for name in &header.names {
        if let Some(f) = field_of_header(name)
            && !columns.contains_key(f.key())
            && taken.insert(name.clone())
        {
            columns.insert(f.key().to_owned(), name.clone());
        }
    }
    let col = |name: &str| header.names.iter().position(|n| n == name);
    let values_of = |name: &str| -> Vec<String> {
        col(name)
            .map(|c| {
                sample
                    .iter()
                    .filter_map(|r| r.cells.get(c))
                    .map(Cell::text)
                    .filter(|t| !t.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mostly = |vals: &[String], f: &dyn Fn(&str) -> bool| {
        !vals.is_empty() && vals.iter().filter(|v| f(v)).count() * 2 > vals.len()
    };
    // 「评价结果」 holding 好评/差评 is the good/bad column; a five-level column
    // elsewhere (whatever its header) is the level.
    if let Some(level) = columns.get(Field::Level.key()).cloned()
        && mostly(&values_of(&level), &|v| values::good_bad_word(v).is_some())
    {
        columns.remove(Field::Level.key());
        columns
            .entry(Field::GoodBad.key().to_owned())
            .or_insert(level);
    }
    if !columns.contains_key(Field::Level.key()) {
        let mapped: std::collections::HashSet<&String> = columns.values().collect();
        if let Some(name) = header.names.iter().find(|n| {
            !mapped.contains(n) && mostly(&values_of(n), &|v| values::level_word(v).is_some())
        }) {
            columns.insert(Field::Level.key().to_owned(), name.clone());
        }
    }
    // Which way numbers run: a score header means 5 is best; else compare with a
    // five-level word column when there is one; else ask (false).
    let mut scale = LevelScale::FiveBest;
    let mut sure = true;
    if let Some(level) = columns.get(Field::Level.key()) {
        let vals = values_of(level);
        if mostly(&vals, &|v| values::level_number(v).is_some()) {
            let h = normalise_header(level);
            // The 办件评价 interfaces define their code: 1 非常不满意 … 5 非常满意.
            if [
                "分值",
                "星级",
                "评分",
                "分数",
                "得分",
                "satisfaction",
                "levelcode",
                "整体满意度",
            ]
            .iter()
            .any(|s| h.contains(s))
            {
                scale = LevelScale::FiveBest;
            } else if let Some((five, one)) = agreement(header, sample, level) {
                scale = if one > five {
                    LevelScale::OneBest
                } else {
                    LevelScale::FiveBest
                };
                sure = five != one;
            } else {
                sure = false;
            }
        }
    }
    (
        Mapping {
            columns,
            level_scale: scale,
            default_hall: None,
            channel_codes: BTreeMap::new(),
        },
        sure,
    )
}

/// Which known layout a mapping reads (for the preview and the import log).
pub fn layout_of(m: &Mapping) -> &'static str {
    let interface = m.columns.values().any(|h| {
        let h = normalise_header(h);
        !h.is_empty() && h.is_ascii() && FIELDS.iter().any(|f| f.synonyms().iter().any(|s| *s == h))
    });
    if m.header(Field::OrderNo).is_some() {
        "差评工单导出（工单编号、整改回复、申诉理由…）"
    } else if interface {
        "办件评价接口字段（projectNo、pf、satisfaction、assessTime…）"
    } else if m.header(Field::LevelCode).is_some() || m.header(Field::EvalCount).is_some() {
        "GB/T 39046-2020 表9 政务服务绩效评价基础数据集"
    } else {
        "评价明细导出"
    }
}

/// How often a numeric level column agrees with a five-level word column under
/// each reading: (5 = 非常满意, 1 = 非常满意).
fn agreement(header: &Header, sample: &[Row], level: &str) -> Option<(usize, usize)> {
    let lc = header.names.iter().position(|n| n == level)?;
    let words = header.names.iter().enumerate().find(|(c, _)| {
        *c != lc
            && sample
                .iter()
                .filter_map(|r| r.cells.get(*c))
                .filter(|x| values::level_word(&x.text()).is_some())
                .count()
                * 2
                > sample.len().max(1)
    })?;
    let (mut five, mut one) = (0, 0);
    for r in sample {
        let (Some(n), Some(w)) = (
            r.cells
                .get(lc)
                .and_then(|x| values::level_number(&x.text())),
            r.cells
                .get(words.0)
                .and_then(|x| values::level_word(&x.text())),
        ) else {
            continue;
        };
        five += usize::from(n == w);
        one += usize::from(6 - n == w);
    }
    Some((five, one))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(no: u32, cells: &[&str]) -> Row {
        Row {
            no,
            cells: cells
                .iter()
                .map(|s| {
                    if s.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text((*s).to_owned())
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn headers_are_matched_through_their_noise() {
        assert_eq!(
            field_of_header(" 评价时间（必填）"),
            Some(Field::EvaluatedAt)
        );
        assert_eq!(field_of_header("*满 意 度"), Some(Field::Level));
        assert_eq!(field_of_header("差评原因标签"), Some(Field::Reasons));
        assert_eq!(field_of_header("评价ＩＤ"), Some(Field::EvalId));
        assert_eq!(field_of_header("备注"), None);
    }

    #[test]
    fn the_header_is_found_under_title_rows_and_two_header_rows_fold() {
        let rows = vec![
            row(1, &["某某省政务服务好差评评价明细"]),
            row(2, &["导出时间：2026-11-30 10:00:00"]),
            row(3, &["评价时间", "评价等级", "大厅名称", "评价人信息", ""]),
            row(4, &["", "", "", "评价人", "联系电话"]),
            row(
                5,
                &[
                    "2026-10-12 09:31:05",
                    "非常满意",
                    "太湖县政务服务中心",
                    "李四",
                    "13800005521",
                ],
            ),
        ];
        let h = find_header(&rows).expect("header");
        assert_eq!(h.row, 4);
        assert_eq!(
            h.names,
            ["评价时间", "评价等级", "大厅名称", "评价人", "联系电话"]
        );
        assert_eq!(h.title[1], "导出时间：2026-11-30 10:00:00");
        let (m, sure) = detect(&h, &rows[4..]);
        assert!(sure);
        assert_eq!(m.header(Field::EvaluatorPhone), Some("联系电话"));
        assert!(m.missing().is_empty());
    }

    #[test]
    fn good_bad_results_give_way_to_the_five_level_column() {
        let rows = vec![
            row(1, &["评价时间", "评价结果", "满意程度说明", "大厅"]),
            row(2, &["2026-10-12 09:31", "差评", "不满意", "A"]),
            row(3, &["2026-10-12 09:32", "好评", "非常满意", "A"]),
        ];
        let h = find_header(&rows).unwrap();
        let (m, _) = detect(&h, &rows[1..]);
        assert_eq!(m.header(Field::GoodBad), Some("评价结果"));
        assert_eq!(m.header(Field::Level), Some("满意程度说明"));
    }

    #[test]
    fn the_direction_of_numbers_is_read_off_a_word_column() {
        let rows = vec![
            row(1, &["评价时间", "评价等级", "等级说明", "大厅"]),
            row(2, &["2026-10-12", "1", "非常满意", "A"]),
            row(3, &["2026-10-12", "5", "非常不满意", "A"]),
            row(4, &["2026-10-12", "2", "满意", "A"]),
        ];
        let h = find_header(&rows).unwrap();
        let (m, sure) = detect(&h, &rows[1..]);
        assert!(sure);
        assert_eq!(m.level_scale, LevelScale::OneBest);
        // Without such a column the officer is asked.
        let rows = vec![
            row(1, &["评价时间", "评价等级", "大厅"]),
            row(2, &["2026-10-12", "1", "A"]),
        ];
        let h = find_header(&rows).unwrap();
        assert!(!detect(&h, &rows[1..]).1);
    }
}
