//! Validation of change-feed records.
//!
//! The fast path deserialises straight into the typed record and then checks the
//! rules serde cannot express (level range, comment length, hall id). Only when that
//! fails do we walk the record as a JSON value to say *precisely* what is wrong —
//! the reason an officer reads in the quarantine list.

use std::fmt;

use chrono::DateTime;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::wire::{Appeal, Evaluation, MAX_COMMENT_CHARS, ProfileChanged, Rectification};

/// A record that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidRecord {
    /// 评价.
    Evaluation(Evaluation),
    /// 申诉.
    Appeal(Appeal),
    /// 整改报告.
    Rectification(Rectification),
    /// The hall profile changed.
    Profile(ProfileChanged),
    /// A kind this version does not know: skipped and counted.
    UnknownKind(String),
}

/// Why a record was refused: the field and what is wrong with it (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    /// The offending field (dotted path), or empty for the record as a whole.
    pub field: String,
    /// What is wrong, in Chinese, with the offending value where it helps.
    pub problem: String,
}

impl InvalidRecord {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for InvalidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "字段 {}：{}", self.field, self.problem)
        }
    }
}

impl std::error::Error for InvalidRecord {}

/// Validates one change of the feed: `kind` and its `data` (raw JSON text), for the
/// hall the feed belongs to.
pub fn validate_change(
    kind: &str,
    data: &str,
    expected_hall: &str,
) -> Result<ValidRecord, InvalidRecord> {
    match kind {
        "evaluation" => {
            let e: Evaluation = parse(data, EVALUATION_FIELDS)?;
            check_evaluation(&e, expected_hall)?;
            Ok(ValidRecord::Evaluation(e))
        }
        "appeal" => {
            let a: Appeal = parse(data, APPEAL_FIELDS)?;
            check_key(&a.id, a.rev, &a.hall_id, expected_hall)?;
            non_empty("evaluation_id", &a.evaluation_id)?;
            non_empty("ground", &a.ground)?;
            Ok(ValidRecord::Appeal(a))
        }
        "rectification" => {
            let r: Rectification = parse(data, RECTIFICATION_FIELDS)?;
            check_key(&r.id, r.rev, &r.hall_id, expected_hall)?;
            non_empty("evaluation_id", &r.evaluation_id)?;
            Ok(ValidRecord::Rectification(r))
        }
        "profile" => Ok(ValidRecord::Profile(parse(data, PROFILE_FIELDS)?)),
        other => Ok(ValidRecord::UnknownKind(other.to_owned())),
    }
}

/// The rules an evaluation must meet beyond its shape, for one that is already
/// typed (a spreadsheet row made into an [`Evaluation`] meets the same rules as
/// one a hall sent, without a JSON round trip).
pub fn check_evaluation(e: &Evaluation, expected_hall: &str) -> Result<(), InvalidRecord> {
    check_key(&e.id, e.rev, &e.hall_id, expected_hall)?;
    if !(1..=5).contains(&e.level) {
        return Err(InvalidRecord::new(
            "level",
            format!("评价等级为 {}，应为 1–5 的整数", e.level),
        ));
    }
    if e.channel.trim().is_empty() {
        return Err(InvalidRecord::new("channel", "评价渠道为空"));
    }
    let n = e.comment.chars().count();
    if n > MAX_COMMENT_CHARS {
        return Err(InvalidRecord::new(
            "comment",
            format!("评价内容 {n} 字，超过上限 {MAX_COMMENT_CHARS} 字"),
        ));
    }
    Ok(())
}

fn non_empty(field: &str, v: &str) -> Result<(), InvalidRecord> {
    if v.trim().is_empty() {
        Err(InvalidRecord::new(field, "为空"))
    } else {
        Ok(())
    }
}

fn check_key(id: &str, rev: i64, hall_id: &str, expected: &str) -> Result<(), InvalidRecord> {
    non_empty("id", id)?;
    if rev < 1 {
        return Err(InvalidRecord::new(
            "rev",
            format!("版本号为 {rev}，应为正整数"),
        ));
    }
    if hall_id != expected {
        return Err(InvalidRecord::new(
            "hall_id",
            format!("记录属于大厅 “{hall_id}”，不是本大厅 “{expected}”"),
        ));
    }
    Ok(())
}

/// The shape a field must have, for the precise diagnosis.
#[derive(Clone, Copy)]
enum Shape {
    Str,
    Int,
    Bool,
    Time,
    StrList,
    Evaluator,
    Status,
    Attachments,
}

/// (field, shape, required)
type Fields = &'static [(&'static str, Shape, bool)];

const EVALUATION_FIELDS: Fields = &[
    ("id", Shape::Str, true),
    ("rev", Shape::Int, true),
    ("hall_id", Shape::Str, true),
    ("serial_no", Shape::Str, false),
    ("item_code", Shape::Str, false),
    ("item_name", Shape::Str, false),
    ("department_code", Shape::Str, false),
    ("window_no", Shape::Str, false),
    ("staff_no", Shape::Str, false),
    ("channel", Shape::Str, true),
    ("level", Shape::Int, true),
    ("reasons", Shape::StrList, false),
    ("comment", Shape::Str, false),
    ("served_at", Shape::Time, false),
    ("evaluated_at", Shape::Time, true),
    ("evaluator", Shape::Evaluator, false),
    ("status", Shape::Status, true),
];

const APPEAL_FIELDS: Fields = &[
    ("id", Shape::Str, true),
    ("rev", Shape::Int, true),
    ("hall_id", Shape::Str, true),
    ("evaluation_id", Shape::Str, true),
    ("filed_at", Shape::Time, true),
    ("filed_by", Shape::Str, false),
    ("ground", Shape::Str, true),
    ("statement", Shape::Str, false),
    ("attachments", Shape::Attachments, false),
];

const RECTIFICATION_FIELDS: Fields = &[
    ("id", Shape::Str, true),
    ("rev", Shape::Int, true),
    ("hall_id", Shape::Str, true),
    ("evaluation_id", Shape::Str, true),
    ("submitted_at", Shape::Time, true),
    ("responsible", Shape::Str, false),
    ("measures", Shape::Str, false),
    ("attachments", Shape::Attachments, false),
];

const PROFILE_FIELDS: Fields = &[("profile_rev", Shape::Int, true)];

fn parse<T: DeserializeOwned>(data: &str, fields: Fields) -> Result<T, InvalidRecord> {
    serde_json::from_str(data).map_err(|e| diagnose(data, fields, &e))
}

/// Names what is wrong once the typed parse failed.
fn diagnose(data: &str, fields: Fields, err: &serde_json::Error) -> InvalidRecord {
    let value: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => return InvalidRecord::new("", format!("不是合法的 JSON：{e}")),
    };
    let Some(obj) = value.as_object() else {
        return InvalidRecord::new("", format!("应为 JSON 对象，收到{}", type_zh(&value)));
    };
    for &(field, shape, required) in fields {
        match obj.get(field) {
            None | Some(Value::Null) if required => {
                return InvalidRecord::new(field, "缺失（必填）");
            }
            None | Some(Value::Null) => {}
            Some(v) => {
                if let Some(problem) = check_shape(field, shape, v) {
                    return problem;
                }
            }
        }
    }
    // The shapes all look right, so serde's own words are the best we have.
    InvalidRecord::new("", format!("记录无法解析：{err}"))
}

fn check_shape(field: &str, shape: Shape, v: &Value) -> Option<InvalidRecord> {
    let wrong = |want: &str| {
        Some(InvalidRecord::new(
            field,
            format!("类型错误：应为{want}，收到{}", type_zh(v)),
        ))
    };
    match shape {
        Shape::Str => (!v.is_string()).then(|| wrong("字符串")).flatten(),
        Shape::Bool => (!v.is_boolean()).then(|| wrong("布尔值")).flatten(),
        Shape::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                if field == "level" && !(1..=5).contains(&n.as_i64().unwrap_or(0)) {
                    Some(InvalidRecord::new(
                        field,
                        format!("评价等级为 {n}，应为 1–5 的整数"),
                    ))
                } else {
                    None
                }
            }
            Value::Number(n) => Some(InvalidRecord::new(
                field,
                format!("类型错误：应为整数，收到小数 {n}"),
            )),
            _ => wrong("整数"),
        },
        Shape::Time => match v.as_str() {
            None => wrong("RFC 3339 时间字符串"),
            Some(s) => DateTime::parse_from_rfc3339(s).err().map(|_| {
                InvalidRecord::new(
                    field,
                    format!("无法解析的时间 “{}”（应为带时区的 RFC 3339，如 2026-10-08T09:31:05+08:00）", clip(s)),
                )
            }),
        },
        Shape::StrList => match v.as_array() {
            None => wrong("字符串数组"),
            Some(items) => items.iter().position(|i| !i.is_string()).map(|i| {
                InvalidRecord::new(
                    format!("{field}[{i}]"),
                    format!("类型错误：应为字符串，收到{}", type_zh(&items[i])),
                )
            }),
        },
        Shape::Status => match v.as_str() {
            None => wrong("字符串"),
            Some("valid" | "revised" | "withdrawn") => None,
            Some(s) => Some(InvalidRecord::new(
                field,
                format!("未知状态 “{}”（应为 valid、revised 或 withdrawn）", clip(s)),
            )),
        },
        Shape::Evaluator => match v.as_object() {
            None => wrong("对象"),
            Some(o) => sub_fields(
                field,
                o,
                &[
                    ("real_name", Shape::Bool),
                    ("name_masked", Shape::Str),
                    ("phone_masked", Shape::Str),
                    ("id_hash", Shape::Str),
                ],
            ),
        },
        Shape::Attachments => match v.as_array() {
            None => wrong("数组"),
            Some(items) => items.iter().enumerate().find_map(|(i, item)| {
                let path = format!("{field}[{i}]");
                match item.as_object() {
                    None => Some(InvalidRecord::new(
                        &path,
                        format!("类型错误：应为对象，收到{}", type_zh(item)),
                    )),
                    Some(o) => {
                        for req in ["name", "sha256"] {
                            if !o.contains_key(req) {
                                return Some(InvalidRecord::new(
                                    format!("{path}.{req}"),
                                    "缺失（必填）",
                                ));
                            }
                        }
                        sub_fields(
                            &path,
                            o,
                            &[("name", Shape::Str), ("sha256", Shape::Str), ("size", Shape::Int)],
                        )
                    }
                }
            }),
        },
    }
}

fn sub_fields(
    parent: &str,
    o: &Map<String, Value>,
    fields: &[(&str, Shape)],
) -> Option<InvalidRecord> {
    fields.iter().find_map(|&(name, shape)| match o.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => check_shape(&format!("{parent}.{name}"), shape, v),
    })
}

fn type_zh(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "布尔值",
        Value::Number(_) => "数字",
        Value::String(_) => "字符串",
        Value::Array(_) => "数组",
        Value::Object(_) => "对象",
    }
}

/// Keeps quoted values short in reasons.
fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "id": "E20261008000123", "rev": 1, "hall_id": "340825-ZWFW",
            "serial_no": "340825-2026-0044512", "item_code": "X", "item_name": "个体工商户设立登记",
            "department_code": "D", "window_no": "A01", "staff_no": "S1023",
            "channel": "window_device", "level": 2, "reasons": ["attitude"],
            "comment": "材料一次没说清楚", "served_at": "2026-10-08T09:12:40+08:00",
            "evaluated_at": "2026-10-08T09:31:05+08:00",
            "evaluator": {"real_name": true, "name_masked": "李*", "phone_masked": "138****5521", "id_hash": "9f2c"},
            "status": "valid"
        })
    }

    fn reason_for(v: &Value) -> String {
        match validate_change("evaluation", &v.to_string(), "340825-ZWFW") {
            Ok(r) => panic!("expected invalid, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_good_evaluation_passes() {
        let r = validate_change("evaluation", &good().to_string(), "340825-ZWFW").unwrap();
        let ValidRecord::Evaluation(e) = r else {
            panic!()
        };
        assert_eq!(e.level, 2);
        assert_eq!(e.evaluator.name_masked.as_deref(), Some("李*"));
    }

    #[test]
    fn level_seven_is_named() {
        let mut v = good();
        v["level"] = json!(7);
        assert_eq!(reason_for(&v), "字段 level：评价等级为 7，应为 1–5 的整数");
        v["level"] = json!(700);
        assert_eq!(
            reason_for(&v),
            "字段 level：评价等级为 700，应为 1–5 的整数"
        );
    }

    #[test]
    fn missing_evaluated_at_is_named() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("evaluated_at");
        assert_eq!(reason_for(&v), "字段 evaluated_at：缺失（必填）");
    }

    #[test]
    fn unparseable_time_is_named() {
        let mut v = good();
        v["evaluated_at"] = json!("2026-13-45 25:00");
        assert!(reason_for(&v).starts_with("字段 evaluated_at：无法解析的时间 “2026-13-45 25:00”"));
        v["evaluated_at"] = json!("2026-10-08T09:31:05"); // no offset
        assert!(reason_for(&v).contains("无法解析的时间"));
    }

    #[test]
    fn overlong_comment_is_named() {
        let mut v = good();
        v["comment"] = json!("差".repeat(2001));
        assert_eq!(
            reason_for(&v),
            "字段 comment：评价内容 2001 字，超过上限 2000 字"
        );
        v["comment"] = json!("差".repeat(2000));
        assert!(validate_change("evaluation", &v.to_string(), "340825-ZWFW").is_ok());
    }

    #[test]
    fn wrong_types_are_named() {
        let mut v = good();
        v["level"] = json!("2");
        assert_eq!(reason_for(&v), "字段 level：类型错误：应为整数，收到字符串");
        let mut v = good();
        v["reasons"] = json!(["slow", 3]);
        assert_eq!(
            reason_for(&v),
            "字段 reasons[1]：类型错误：应为字符串，收到数字"
        );
        let mut v = good();
        v["evaluator"]["real_name"] = json!("yes");
        assert_eq!(
            reason_for(&v),
            "字段 evaluator.real_name：类型错误：应为布尔值，收到字符串"
        );
        let mut v = good();
        v["status"] = json!("deleted");
        assert!(reason_for(&v).starts_with("字段 status：未知状态 “deleted”"));
    }

    #[test]
    fn record_of_another_hall_is_refused() {
        let mut v = good();
        v["hall_id"] = json!("340104-ZWFW");
        assert!(reason_for(&v).starts_with("字段 hall_id：记录属于大厅 “340104-ZWFW”"));
    }

    #[test]
    fn not_an_object_and_not_json_are_named() {
        let r = validate_change("evaluation", "[1,2]", "H").unwrap_err();
        assert_eq!(r.to_string(), "应为 JSON 对象，收到数组");
        let r = validate_change("appeal", "{", "H").unwrap_err();
        assert!(r.to_string().starts_with("不是合法的 JSON"));
    }

    #[test]
    fn unknown_kind_is_skipped_not_refused() {
        assert_eq!(
            validate_change("complaint", "{}", "H").unwrap(),
            ValidRecord::UnknownKind("complaint".into())
        );
    }

    #[test]
    fn unknown_fields_are_accepted() {
        let mut v = good();
        v["new_field_from_future"] = json!({"x": 1});
        assert!(validate_change("evaluation", &v.to_string(), "340825-ZWFW").is_ok());
    }
}
