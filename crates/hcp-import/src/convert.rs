//! One row of a file into what it says: a hall-api [`Evaluation`] for its hall,
//! and for a 差评工单 export what happened to the rating after it was given (the
//! hall's rectification, an appeal and its verdict, the rater's 追评).
//!
//! **Identity.** A row's id is its 评价编号 when the file has one. A file with
//! 评价次数 (GB/T 39046-2020 表9, the 办件评价 interfaces) rates each 办件 once
//! and lets the rater rate it a second time: its rows are keyed by 办件编号
//! (`BJ-…`), so the 二次评价 replaces the first. A 工单 row is keyed by its
//! 办件编号 too, else by its 工单编号 (`GD-…`, and the writer looks for the rating
//! a 评价明细 file brought at the same second). Otherwise the id is a key made
//! from the hall, 办件编号, 评价时间, channel, window and staff, so the same row in
//! two overlapping exports gets the same id.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use hcp_core::wire::{Evaluation, EvaluationStatus};
use sha2::{Digest, Sha256};

use crate::columns::{self, Field, Mapping};
use crate::personal::{self, RaterCells, scrub};
use crate::read::{Cell, Row};
use crate::{ImportError, values};

/// The columns of the mapping, as indexes.
pub(crate) struct Columns {
    idx: HashMap<Field, usize>,
    pub(crate) mapping: Mapping,
}

impl Columns {
    pub(crate) fn new(header: &columns::Header, mapping: Mapping) -> Result<Self, ImportError> {
        let mut idx = HashMap::new();
        for (key, name) in &mapping.columns {
            let Some(f) = Field::from_key(key) else {
                continue;
            };
            let c = header
                .names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| ImportError::NoSuchColumn(name.clone()))?;
            idx.insert(f, c);
        }
        Ok(Self { idx, mapping })
    }

    /// Whether the file has a column for `f`.
    pub(crate) fn has(&self, f: Field) -> bool {
        self.idx.contains_key(&f)
    }

    /// The field a column index is mapped to.
    pub(crate) fn field_at(&self, col: usize) -> Option<Field> {
        self.idx.iter().find(|(_, c)| **c == col).map(|(f, _)| *f)
    }

    pub(crate) fn cell<'r>(&self, row: &'r Row, f: Field) -> Option<&'r Cell> {
        self.idx
            .get(&f)
            .and_then(|c| row.cells.get(*c))
            .filter(|c| !c.is_blank())
    }

    pub(crate) fn text(&self, row: &Row, f: Field) -> Option<String> {
        self.cell(row, f)
            .map(values::clean)
            .filter(|s| !s.is_empty())
    }

    /// A free-text cell as written (a comment keeps its full-width punctuation),
    /// trimmed, with phone and ID numbers masked.
    pub(crate) fn free_text(&self, row: &Row, f: Field) -> Option<String> {
        self.cell(row, f)
            .map(|c| scrub(c.text().trim()))
            .filter(|s| !s.is_empty())
    }

    /// The key of the hall a row names: its hall column, the default hall, or its
    /// region.
    pub(crate) fn row_hall_key(&self, row: &Row) -> Option<String> {
        self.text(row, Field::Hall)
            .or_else(|| {
                self.mapping
                    .default_hall
                    .clone()
                    .filter(|s| !s.trim().is_empty())
            })
            .or_else(|| self.text(row, Field::Region))
            .map(|n| hall_key(&n))
    }

    pub(crate) fn header(&self, f: Field) -> String {
        self.mapping.header(f).unwrap_or(f.label()).to_owned()
    }

    /// A 差评工单 export: the file has 工单编号.
    pub(crate) fn is_work_orders(&self) -> bool {
        self.has(Field::OrderNo)
    }
}

/// A row that cannot be read: the column and why.
#[derive(Debug)]
pub(crate) struct RowError {
    pub column: String,
    pub reason: String,
}

/// An appeal as a 工单 row carries it.
#[derive(Debug, Clone)]
pub(crate) struct AppealCells {
    /// 申诉理由 (phone and ID numbers masked).
    pub statement: String,
    /// The hall-api ground the statement reads as.
    pub ground: &'static str,
    /// 申诉时间, when the export has it.
    pub filed_at: Option<DateTime<FixedOffset>>,
}

/// A rectification as a 工单 row carries it.
#[derive(Debug, Clone)]
pub(crate) struct RectificationCells {
    /// 整改回复.
    pub measures: String,
    /// 整改人.
    pub by: String,
    /// 整改时间, when the export has it.
    pub at: Option<DateTime<FixedOffset>>,
}

/// What a 差评工单 row says happened to its rating after it was given.
#[derive(Debug, Clone)]
pub(crate) struct WorkOrder {
    /// 工单编号.
    pub order_no: String,
    pub appeal: Option<AppealCells>,
    /// The appeal's verdict: (upheld, 复核意见).
    pub verdict: Option<(bool, String)>,
    pub rectification: Option<RectificationCells>,
    /// 追评: (level, text).
    pub follow_up: Option<(u8, String)>,
}

/// A row read into a record for a hall (by the hall's name in the file).
pub(crate) struct Converted {
    pub hall_key: String,
    pub hall_name: String,
    pub region: String,
    pub evaluation: Evaluation,
    /// 评价次数 (1 when the file has none).
    pub count: u8,
    pub work_order: Option<Box<WorkOrder>>,
    pub department: Option<(String, String)>,
    pub window: Option<(String, String)>,
    pub staff: Option<(String, String)>,
    pub item: Option<(String, String)>,
}

/// The normalised key of a hall name (spaces and width folded).
pub fn hall_key(name: &str) -> String {
    values::fold_width(name)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// 合计 / 总计 / 小计 rows at the bottom (or between groups) are not data.
pub(crate) fn is_summary_row(row: &Row) -> bool {
    row.cells
        .iter()
        .find(|c| !c.is_blank())
        .map(|c| {
            let t = hall_key(&c.text());
            ["合计", "总计", "小计", "汇总"]
                .iter()
                .any(|k| t.starts_with(k))
        })
        .unwrap_or(false)
}

/// The level a row gives: its 满意度代码 (A.8) and its words or numbers, checked
/// against each other when it has both.
fn read_level(cols: &Columns, row: &Row) -> Result<u8, RowError> {
    let err = |f: Field, reason: String| RowError {
        column: cols.header(f),
        reason,
    };
    let shown = |c: &Cell| hcp_core::ident::printable(&c.text());
    let scale = cols.mapping.level_scale;
    let scaled = |n: u8| match scale {
        values::LevelScale::FiveBest => n,
        values::LevelScale::OneBest => 6 - n,
    };
    // 满意度 (words, or numbers in the file's direction).
    let worded = match cols.cell(row, Field::Level) {
        None => None,
        Some(c) => {
            let level = match values::word_and_number(c) {
                (Some(w), Some(n)) if w != scaled(n) => {
                    return Err(err(
                        Field::Level,
                        format!(
                            "“{}”中的文字（{}）与数字（按本文件方向为{}）不一致",
                            shown(c),
                            hcp_core::rating::Level::new(w).map_or("", |l| l.label_zh()),
                            hcp_core::rating::Level::new(scaled(n)).map_or("", |l| l.label_zh())
                        ),
                    ));
                }
                (Some(w), _) => w,
                (None, Some(n)) => scaled(n),
                (None, None) => match values::parse_level(c, scale) {
                    Ok(n) => n,
                    Err(reason) => return Err(err(Field::Level, reason)),
                },
            };
            Some((level, c))
        }
    };
    // 满意度代码 (GB/T 39046-2020 A.8: 1 = 非常满意).
    if let Some(c) = cols.cell(row, Field::LevelCode) {
        let by_code = match values::word_and_number(c) {
            (w, Some(n)) => {
                let level = values::level_from_a8(n).ok_or_else(|| {
                    err(
                        Field::LevelCode,
                        format!("满意度代码 “{}” 应为 1–5", shown(c)),
                    )
                })?;
                if let Some(w) = w.filter(|w| *w != level) {
                    return Err(err(
                        Field::LevelCode,
                        format!(
                            "满意度代码 “{}” 中的文字（{}）与代码（{}，按 GB/T 39046-2020 A.8）不一致",
                            shown(c),
                            hcp_core::rating::Level::new(w).map_or("", |l| l.label_zh()),
                            hcp_core::rating::Level::new(level).map_or("", |l| l.label_zh())
                        ),
                    ));
                }
                level
            }
            (Some(w), None) => w,
            (None, None) => {
                return Err(err(
                    Field::LevelCode,
                    format!(
                        "无法识别的满意度代码 “{}”（GB/T 39046-2020 A.8：1 非常满意、2 满意、3 基本满意、4 不满意、5 非常不满意）",
                        shown(c)
                    ),
                ));
            }
        };
        if let Some((w, wc)) = worded
            && w != by_code
        {
            return Err(err(
                Field::LevelCode,
                format!(
                    "{}“{}”与满意度代码 “{}”（{}）不一致",
                    cols.header(Field::Level),
                    shown(wc),
                    shown(c),
                    hcp_core::rating::Level::new(by_code).map_or("", |l| l.label_zh())
                ),
            ));
        }
        return Ok(by_code);
    }
    if let Some((w, _)) = worded {
        return Ok(w);
    }
    if let Some(c) = cols.cell(row, Field::GoodBad) {
        return values::good_bad_word(&values::clean(c))
            .or_else(|| values::level_word(&values::clean(c)))
            .ok_or_else(|| {
                err(
                    Field::GoodBad,
                    format!("无法识别的好差评 “{}”（应为 好评、中评 或 差评）", shown(c)),
                )
            });
    }
    let f = [Field::Level, Field::LevelCode]
        .into_iter()
        .find(|f| cols.has(*f))
        .unwrap_or(Field::GoodBad);
    Err(err(f, "评价等级为空".into()))
}

/// The hall-api ground an appeal's statement reads as.
fn appeal_ground(statement: &str) -> &'static str {
    let has = |xs: &[&str]| xs.iter().any(|x| statement.contains(x));
    if has(&["恶意"]) {
        "malicious"
    } else if has(&["重复"]) {
        "duplicate"
    } else if has(&["误操作", "误评", "误点", "点错", "系统故障", "系统原因"]) {
        "system_error"
    } else if has(&["非本部门", "不属于", "职责", "引导", "指引"]) {
        "misdirected"
    } else {
        "other"
    }
}

/// What a 工单 row says happened after the rating.
fn work_order(cols: &Columns, row: &Row, order_no: String) -> Result<WorkOrder, RowError> {
    let err = |f: Field, reason: String| RowError {
        column: cols.header(f),
        reason,
    };
    let time_of = |f: Field| -> Result<Option<DateTime<FixedOffset>>, RowError> {
        match cols.cell(row, f) {
            None => Ok(None),
            Some(c) => values::parse_time(c).map(Some).ok_or_else(|| {
                err(
                    f,
                    format!("无法识别的时间 “{}”", hcp_core::ident::printable(&c.text())),
                )
            }),
        }
    };
    let status = cols.text(row, Field::OrderStatus).unwrap_or_default();
    let rejection = cols.free_text(row, Field::AppealRejection);
    let has = |xs: &[&str]| xs.iter().any(|x| status.contains(x));
    let verdict = if let Some(r) = &rejection {
        Some((false, format!("省平台驳回申诉：{r}")))
    } else if has(&["申诉成立", "申诉通过", "申诉已通过", "申诉成功"]) {
        Some((true, format!("省平台认定申诉成立（工单状态：{status}）")))
    } else if has(&["驳回", "申诉不成立", "申诉未通过"]) {
        Some((false, format!("省平台驳回申诉（工单状态：{status}）")))
    } else {
        None
    };
    let reason = cols.free_text(row, Field::AppealReason);
    let appeal = match (reason, &verdict) {
        (Some(statement), _) => Some(AppealCells {
            ground: appeal_ground(&statement),
            statement,
            filed_at: time_of(Field::AppealedAt)?,
        }),
        (None, Some(_)) => Some(AppealCells {
            statement: "（省平台工单显示已申诉，导出未载明申诉理由）".into(),
            ground: "other",
            filed_at: time_of(Field::AppealedAt)?,
        }),
        (None, None) => None,
    };
    let rectification = match cols.free_text(row, Field::RectifyReply) {
        Some(measures) => Some(RectificationCells {
            measures,
            by: cols.text(row, Field::Rectifier).unwrap_or_default(),
            at: time_of(Field::RectifiedAt)?,
        }),
        None => None,
    };
    let follow_up = match cols.cell(row, Field::FollowUpLevel) {
        None => None,
        Some(c) => {
            let level = match values::word_and_number(c) {
                (Some(w), _) => w,
                (None, Some(n)) => match cols.mapping.level_scale {
                    values::LevelScale::FiveBest => n,
                    values::LevelScale::OneBest => 6 - n,
                },
                (None, None) => {
                    return Err(err(
                        Field::FollowUpLevel,
                        format!(
                            "无法识别的追评等级 “{}”（应为 非常满意、满意、基本满意、不满意、非常不满意 或 1–5）",
                            hcp_core::ident::printable(&c.text())
                        ),
                    ));
                }
            };
            let text = cols.free_text(row, Field::FollowUpText).unwrap_or_default();
            Some((level, text))
        }
    };
    Ok(WorkOrder {
        order_no,
        appeal,
        verdict,
        rectification,
        follow_up,
    })
}

/// Longest id a row may make (hall-api ids are free text; this keeps them sane).
const MAX_ID_CHARS: usize = 64;

pub(crate) fn convert(
    cols: &Columns,
    row: &Row,
    salt: &str,
    hall_of: &dyn Fn(&str) -> Option<String>,
) -> Result<Converted, RowError> {
    let err = |f: Field, reason: String| RowError {
        column: cols.header(f),
        reason,
    };
    let hall_name = cols.text(row, Field::Hall).or_else(|| {
        cols.mapping
            .default_hall
            .clone()
            .filter(|s| !s.trim().is_empty())
    });
    let region = cols.text(row, Field::Region).unwrap_or_default();
    let hall_key = match (&hall_name, region.is_empty()) {
        (Some(n), _) => hall_key(n),
        (None, false) => hall_key(&region),
        (None, true) => return Err(err(Field::Hall, "大厅为空".into())),
    };
    let hall_id = hall_of(&hall_key).unwrap_or_default();
    let at_cell = cols
        .cell(row, Field::EvaluatedAt)
        .ok_or_else(|| err(Field::EvaluatedAt, "评价时间为空".into()))?;
    let evaluated_at = values::parse_time(at_cell).ok_or_else(|| {
        err(
            Field::EvaluatedAt,
            format!(
                "无法识别的评价时间 “{}”",
                hcp_core::ident::printable(&at_cell.text())
            ),
        )
    })?;
    let level = read_level(cols, row)?;
    let count = match cols.text(row, Field::EvalCount) {
        None => 1,
        Some(t) => values::eval_count(&t).ok_or_else(|| {
            err(
                Field::EvalCount,
                format!(
                    "无法识别的评价次数 “{}”（应为 1 首次评价 或 2 二次评价）",
                    hcp_core::ident::printable(&t)
                ),
            )
        })?,
    };
    let mut status = match cols.text(row, Field::Status) {
        None => EvaluationStatus::Valid,
        Some(s) => values::status_of(&s).ok_or_else(|| {
            err(
                Field::Status,
                format!(
                    "无法识别的评价状态 “{}”（应为 有效、已改评 或 已撤评）",
                    hcp_core::ident::printable(&s)
                ),
            )
        })?,
    };
    if count >= 2 && status == EvaluationStatus::Valid {
        status = EvaluationStatus::Revised;
    }
    let channel = match cols.text(row, Field::Channel) {
        None => "other".to_owned(),
        Some(c) => values::channel_of(&c, &cols.mapping.channel_codes)
            .map_err(|reason| err(Field::Channel, reason))?,
    };
    let serial_no = cols.text(row, Field::SerialNo);
    let window_text = cols.text(row, Field::Window);
    let staff_no = cols.text(row, Field::StaffNo);
    let staff_name = cols.text(row, Field::StaffName);
    let staff_key = staff_no.clone().or_else(|| staff_name.clone());
    let department = cols.text(row, Field::Department);
    let item_code = cols.text(row, Field::ItemCode);
    let item_name = cols.text(row, Field::ItemName);
    let order_no = cols.text(row, Field::OrderNo);
    if cols.is_work_orders() && order_no.is_none() {
        return Err(err(Field::OrderNo, "工单编号为空".into()));
    }
    let eval_id = cols.text(row, Field::EvalId);
    let by_serial = serial_no
        .as_ref()
        .filter(|_| cols.has(Field::EvalCount) || cols.is_work_orders())
        .map(|s| format!("BJ-{s}"));
    let id = match (&by_serial, &eval_id, &order_no) {
        // A file of 评价次数 keys its ratings by 办件: the 二次评价 revises.
        (Some(k), _, _) if cols.has(Field::EvalCount) => k.clone(),
        (_, Some(id), _) => id.clone(),
        (Some(k), None, _) => k.clone(),
        (None, None, Some(order)) => format!("GD-{order}"),
        (None, None, None) => {
            // The same rating in two exports gets the same key; the level is
            // not part of it, so a 改评 stays the same evaluation.
            let mut h = Sha256::new();
            for part in [
                hall_key.as_str(),
                serial_no.as_deref().unwrap_or(""),
                &evaluated_at.timestamp().to_string(),
                &channel,
                window_text.as_deref().unwrap_or(""),
                staff_key.as_deref().unwrap_or(""),
            ] {
                h.update(part.as_bytes());
                h.update([0x1f]);
            }
            // Time first: exports are in time order, so new keys land at the end
            // of the index instead of at random places in it.
            format!(
                "X{:010x}{}",
                evaluated_at.timestamp().max(0),
                hex::encode(&h.finalize()[..8])
            )
        }
    };
    if id.chars().count() > MAX_ID_CHARS {
        let f = if eval_id.as_ref() == Some(&id) {
            Field::EvalId
        } else if order_no.is_some() && by_serial.is_none() {
            Field::OrderNo
        } else {
            Field::SerialNo
        };
        return Err(err(f, format!("编号超过 {} 个字符", MAX_ID_CHARS - 3)));
    }
    let work_order = match &order_no {
        Some(order) => Some(Box::new(work_order(cols, row, order.clone())?)),
        None => None,
    };
    let anonymous = cols
        .text(row, Field::Anonymous)
        .and_then(|t| values::yes_no(&t))
        .unwrap_or(false);
    let (name, phone, id_number) = (
        cols.text(row, Field::EvaluatorName),
        cols.text(row, Field::EvaluatorPhone),
        cols.text(row, Field::IdNumber),
    );
    let evaluator = personal::evaluator(
        salt,
        &RaterCells {
            name: name.as_deref(),
            phone: phone.as_deref(),
            id: id_number.as_deref(),
            anonymous,
        },
    );
    let served_at = cols.cell(row, Field::ServedAt).and_then(values::parse_time);
    let evaluation = Evaluation {
        id,
        rev: 1,
        hall_id,
        serial_no,
        item_code: item_code.clone().or_else(|| item_name.clone()),
        item_name: item_name.clone(),
        department_code: department.clone(),
        window_no: window_text.clone(),
        staff_no: staff_key.clone(),
        channel,
        level,
        reasons: cols
            .text(row, Field::Reasons)
            .map(|r| values::reason_tags(&r))
            .unwrap_or_default(),
        comment: cols.free_text(row, Field::Comment).unwrap_or_default(),
        served_at,
        evaluated_at,
        evaluator,
        status,
    };
    Ok(Converted {
        hall_name: hall_name.unwrap_or_else(|| region.clone()),
        hall_key,
        region,
        evaluation,
        count,
        work_order,
        department: department.map(|d| (d.clone(), d)),
        window: window_text.map(|w| (w.clone(), w)),
        staff: staff_key.map(|k| (k, staff_name.unwrap_or_default())),
        item: item_code
            .or_else(|| item_name.clone())
            .map(|c| (c, item_name.unwrap_or_default())),
    })
}

/// A row's cells by their header, for quarantine: the rater's name, phone and ID
/// number masked as they would be stored, and phone and ID numbers in any other
/// cell masked too. The row number, the column and the reason stay readable.
pub(crate) fn masked_cells(
    cols: &Columns,
    header: &columns::Header,
    row: &Row,
) -> serde_json::Value {
    serde_json::Value::Object(
        header
            .names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let c = row.cells.get(i).filter(|c| !c.is_blank())?;
                let text = c.text();
                let shown = match cols.field_at(i) {
                    Some(Field::EvaluatorName) => {
                        if personal::is_id_number(&text) {
                            personal::mask_id(&text)
                        } else {
                            personal::mask_name(&text).unwrap_or_default()
                        }
                    }
                    Some(Field::EvaluatorPhone) => {
                        personal::mask_phone(&text).unwrap_or_else(|| personal::mask_id(&text))
                    }
                    Some(Field::IdNumber) => personal::mask_id(&text),
                    _ => scrub(&text),
                };
                Some((n.clone(), serde_json::Value::String(shown)))
            })
            .collect(),
    )
}
