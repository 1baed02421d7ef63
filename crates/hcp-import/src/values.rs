//! Reading the values of an export's cells: times in the formats real exports
//! use (and Excel serials), level words and numbers, channels, statuses, reason
//! tags, and masking the evaluator on the way in.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use hcp_core::metrics::beijing;
use serde::{Deserialize, Serialize};

use crate::read::Cell;

/// Which way a numeric level runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "LevelScale.ts")]
pub enum LevelScale {
    /// 5 = 非常满意 … 1 = 非常不满意 (hall-api's own).
    #[default]
    FiveBest,
    /// 1 = 非常满意 … 5 = 非常不满意.
    OneBest,
}

/// Full-width ASCII (「２０２６－１０－１２」, 「ＡＰＰ」) and the ideographic space
/// folded to their ordinary forms.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// A cell's text, folded and trimmed.
pub fn clean(c: &Cell) -> String {
    fold_width(&c.text()).trim().to_owned()
}

/// An Excel serial (days since 1899-12-30) as a time, when it is a plausible one
/// (1955–2119).
pub fn from_serial(x: f64) -> Option<NaiveDateTime> {
    if !(20_000.0..80_000.0).contains(&x) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(NaiveTime::MIN);
    let ms = (x * 86_400_000.0).round() as i64;
    base.checked_add_signed(chrono::Duration::milliseconds(ms))
}

/// Epoch seconds (10 digits) or milliseconds (13 digits) as a time, when it falls
/// in 2000–2099 (interfaces send `assessTime` as a Java `long` now and then).
fn from_epoch(digits: &str) -> Option<DateTime<FixedOffset>> {
    let n: i64 = digits.parse().ok()?;
    let secs = match digits.len() {
        10 => n,
        13 => n.div_euclid(1000),
        _ => return None,
    };
    let t = DateTime::from_timestamp(secs, 0)?;
    (946_684_800..4_102_444_800)
        .contains(&secs)
        .then(|| t.with_timezone(&beijing()))
}

/// GB/T 7408's basic form, as GB/T 39046-2020 writes 日期时间型:
/// `YYYYMMDDThhmmss`, optionally with `Z` or an offset (`+0800`, `+08:00`).
fn parse_basic_iso(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    if b.len() < 15 || b[8] != b'T' || !b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(&s[..15], "%Y%m%dT%H%M%S").ok()?;
    let rest = &s[15..];
    let offset = match rest {
        "" => beijing(),
        "Z" | "z" => FixedOffset::east_opt(0)?,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|d| d.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
            FixedOffset::east_opt(sign * (h * 3600 + m * 60))?
        }
    };
    offset.from_local_datetime(&naive).single()
}

/// A time as exports and interfaces write it: `2026-10-12 09:31:05`,
/// `2026/10/12 9:31`, `2026年10月12日 09时31分05秒`, `2026.10.12`,
/// `20261012093105`, GB/T 39046's `20261012T093105`, RFC 3339 with an offset,
/// epoch seconds or milliseconds, or an Excel serial / date cell. Beijing time
/// unless it says otherwise.
pub fn parse_time(c: &Cell) -> Option<DateTime<FixedOffset>> {
    let naive = match c {
        Cell::Date(d) => *d,
        Cell::Number(x) => {
            if x.fract() == 0.0 && *x >= 1e9 {
                return from_epoch(&format!("{}", *x as i64));
            }
            from_serial(*x)?
        }
        Cell::Text(_) => {
            let s = clean(c);
            if s.is_empty() {
                return None;
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
                return Some(t);
            }
            if let Some(t) = parse_basic_iso(&s) {
                return Some(t);
            }
            if (s.len() == 10 || s.len() == 13) && s.bytes().all(|b| b.is_ascii_digit()) {
                return from_epoch(&s);
            }
            if let Ok(x) = s.parse::<f64>()
                && s.contains('.')
            {
                return from_serial(x).and_then(|d| beijing().from_local_datetime(&d).single());
            }
            parse_naive(&s)?
        }
        _ => return None,
    };
    beijing().from_local_datetime(&naive).single()
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    // 2026年10月12日 09时31分05秒 → 2026-10-12 09:31:05
    let mut t = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '年' | '月' | '/' | '.' => t.push('-'),
            '日' => t.push(' '),
            '时' | '点' | '分' => t.push(':'),
            '秒' => {}
            'T' => t.push(' '),
            c => t.push(c),
        }
    }
    let t = t.trim().trim_end_matches(':').to_owned();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDateTime::parse_from_str(&t, "%Y%m%d%H%M%S").ok();
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&t, "%Y%m%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&t, f) {
            return Some(d);
        }
    }
    NaiveDate::parse_from_str(&t, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN))
}

/// The five level words and their common variants.
pub fn level_word(s: &str) -> Option<u8> {
    let w: String = fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some(match w.as_str() {
        "非常满意" | "很满意" | "特别满意" => 5,
        "满意" | "比较满意" | "较满意" => 4,
        "基本满意" | "一般" => 3,
        "不满意" => 2,
        "非常不满意" | "很不满意" | "极不满意" => 1,
        _ => return None,
    })
}

/// A level written as a number: `5`, `5分`, `5星`, `★★★★★`.
pub fn level_number(s: &str) -> Option<u8> {
    let w: String = fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if !w.is_empty() && w.chars().all(|c| c == '★') {
        let n = w.chars().count();
        return (1..=5).contains(&n).then_some(n as u8);
    }
    let digits = w
        .strip_suffix('分')
        .or_else(|| w.strip_suffix('星'))
        .unwrap_or(&w);
    let digits = digits.strip_suffix(".0").unwrap_or(digits);
    match digits.parse::<u8>() {
        Ok(n @ 1..=5) => Some(n),
        _ => None,
    }
}

/// 好评 / 中评 / 差评.
pub fn good_bad_word(s: &str) -> Option<u8> {
    match fold_width(s).trim() {
        "好评" => Some(4),
        "中评" => Some(3),
        "差评" => Some(2),
        _ => None,
    }
}

/// A level cell read with the scale; `Err` names what was there.
pub fn parse_level(c: &Cell, scale: LevelScale) -> Result<u8, String> {
    let text = clean(c);
    if let Some(n) = level_word(&text) {
        return Ok(n);
    }
    if let Some(n) = level_number(&text) {
        return Ok(match scale {
            LevelScale::FiveBest => n,
            LevelScale::OneBest => 6 - n,
        });
    }
    if text.is_empty() {
        return Err("评价等级为空".into());
    }
    Err(format!(
        "无法识别的评价等级 “{}”（应为 非常满意、满意、基本满意、不满意、非常不满意 或 1–5）",
        hcp_core::ident::printable(&text)
    ))
}

/// The hall-api channel code of a channel as exports name it (the provinces'
/// words and GB/T 39046-2020 表9's: PC端, 移动服务端, 二维码, 政务大厅平板电脑,
/// 政务大厅其他终端, 电话, 短信); an unknown one is kept as written (hall-api keeps
/// unknown channels too).
pub fn channel_code(s: &str) -> String {
    let w: String = fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if w.is_empty() {
        return "other".into();
    }
    let has = |xs: &[&str]| xs.iter().any(|x| w.contains(x));
    // Most specific first: 政务大厅平板电脑 is the window's tablet, not a PC;
    // 政务大厅其他终端 is a terminal in the hall, not "other"; 移动终端 is a phone.
    if has(&["系统默认", "默认评价", "默认好评", "自动评价", "超时默认"]) {
        hcp_core::rating::SYSTEM_DEFAULT
    } else if has(&["12345", "热线", "电话"]) {
        "hotline"
    } else if has(&["短信"]) {
        "sms"
    } else if has(&["平板"]) {
        "window_device"
    } else if has(&["二维码", "扫码"]) {
        "qr_code"
    } else if has(&["评价器", "窗口", "现场", "pad"]) {
        "window_device"
    } else if has(&[
        "app",
        "小程序",
        "移动",
        "手机",
        "微信",
        "支付宝",
        "皖事通",
        "粤省事",
    ]) {
        "app"
    } else if has(&["自助", "终端"]) {
        "kiosk"
    } else if has(&["网", "pc", "web", "网站", "电脑"]) {
        "web"
    } else if has(&["其他", "其它"]) {
        "other"
    } else if hcp_core::rating::Channel::ALL
        .iter()
        .any(|c| c.as_wire() == w.as_str())
    {
        return w;
    } else {
        return hcp_core::ident::printable(s.trim());
    }
    .to_owned()
}

/// The national code table of 评价渠道: GB/T 39046-2020 表9 lists the channels
/// in this order, and the national 办件评价 interface numbers its `pf` field the
/// same way (code, the standard's word, hall-api channel).
pub const NATIONAL_CHANNEL_CODES: [(&str, &str, &str); 7] = [
    ("1", "PC端", "web"),
    ("2", "移动服务端", "app"),
    ("3", "二维码", "qr_code"),
    ("4", "政务大厅平板电脑", "window_device"),
    ("5", "政务大厅其他终端", "kiosk"),
    ("6", "电话", "hotline"),
    ("7", "短信", "sms"),
];

/// The code table in force: the national one with the profile's own codes
/// (`own`: code → a word or a hall-api channel) over it.
fn code_table(own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> = NATIONAL_CHANNEL_CODES
        .iter()
        .map(|(c, _, wire)| ((*c).to_owned(), (*wire).to_owned()))
        .collect();
    for (c, w) in own {
        let c = c.trim_start_matches('0');
        t.insert(if c.is_empty() { "0" } else { c }.to_owned(), w.clone());
    }
    t
}

/// A code table as one line for a message: `1 PC端、2 移动服务端…`.
pub fn code_table_text(own: &BTreeMap<String, String>) -> String {
    let mut codes: Vec<(u32, String)> = code_table(own)
        .into_iter()
        .map(|(c, w)| {
            let name = hcp_core::rating::Channel::ALL
                .iter()
                .find(|ch| ch.as_wire() == channel_code(&w))
                .map_or(w.clone(), |ch| ch.label_zh().to_owned());
            (c.parse().unwrap_or(u32::MAX), format!("{c} {name}"))
        })
        .collect();
    codes.sort();
    codes
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("、")
}

/// The channel of a cell that holds a channel's word or its code. A code (digits)
/// is read with the national table (GB/T 39046-2020 表9's order) and the
/// profile's own codes over it (`own`: code → a word or a hall-api channel, for a
/// province whose table differs); a code neither knows is an error naming the
/// value and the table — never silently 其他.
pub fn channel_of(value: &str, own: &BTreeMap<String, String>) -> Result<String, String> {
    let v = fold_width(value).trim().to_owned();
    if v.is_empty() {
        return Ok("other".into());
    }
    if v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit()) {
        let code = v.trim_start_matches('0');
        let code = if code.is_empty() { "0" } else { code };
        return match code_table(own).get(code) {
            Some(w) => Ok(channel_code(w)),
            None => Err(format!(
                "评价渠道代码 “{v}” 不在{}代码表中（{}）；本省代码表不同时，请在映射中填写渠道代码",
                if own.is_empty() {
                    "国家标准"
                } else {
                    "本方案的"
                },
                code_table_text(own)
            )),
        };
    }
    Ok(channel_code(&v))
}

/// 满意度代码 per GB/T 39046-2020 A.8 (1 = 非常满意 … 5 = 非常不满意) as a
/// hall-api level (5 = 非常满意).
pub fn level_from_a8(code: u8) -> Option<u8> {
    (1..=5).contains(&code).then(|| 6 - code)
}

/// A cell that may carry a level's word, its number, or both (`1-非常满意`,
/// `非常满意（1）`): (word's level, the number as written).
pub fn word_and_number(c: &Cell) -> (Option<u8>, Option<u8>) {
    let text = clean(c);
    if let Some(n) = level_word(&text) {
        return (Some(n), None);
    }
    if let Some(n) = level_number(&text) {
        return (None, Some(n));
    }
    let word: String = text
        .chars()
        .filter(|ch| !ch.is_ascii_digit() && !"-—_:：()（）.、 ".contains(*ch))
        .collect();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (
        level_word(&word),
        digits.parse::<u8>().ok().filter(|n| (1..=5).contains(n)),
    )
}

/// 评价次数: `1`/`首次评价` → 1, `2`/`二次评价`/`追评` → 2 (1–99).
pub fn eval_count(s: &str) -> Option<u8> {
    let w: String = fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if let Ok(n) = w.trim_end_matches('次').parse::<u8>() {
        return (1..=99).contains(&n).then_some(n);
    }
    let has = |x: &str| w.contains(x);
    if has("首次") || has("初次") || has("第一次") {
        Some(1)
    } else if has("二次") || has("第二次") || has("追评") || has("再次") {
        Some(2)
    } else if has("三次") || has("第三次") {
        Some(3)
    } else {
        None
    }
}

/// 是/否 flags as interfaces write them (`1` 是, `2`/`0` 否; 是/否; true/false).
pub fn yes_no(s: &str) -> Option<bool> {
    match fold_width(s).trim().to_lowercase().as_str() {
        "1" | "是" | "y" | "yes" | "true" | "匿名" => Some(true),
        "2" | "0" | "否" | "n" | "no" | "false" | "实名" | "不匿名" => Some(false),
        _ => None,
    }
}

/// 用户类型: 个人 (`1`) or 法人 (`2`).
pub fn is_legal_person(s: &str) -> Option<bool> {
    let w = fold_width(s).trim().to_owned();
    match w.as_str() {
        "1" => Some(false),
        "2" => Some(true),
        _ if w.contains("法人") || w.contains("企业") || w.contains("单位") => Some(true),
        _ if w.contains("个人") || w.contains("自然人") => Some(false),
        _ => None,
    }
}

/// 有效 / 已改评 / 已撤评 → the wire status; `None` when unreadable.
pub fn status_of(s: &str) -> Option<hcp_core::wire::EvaluationStatus> {
    use hcp_core::wire::EvaluationStatus as S;
    let w = fold_width(s);
    let w = w.trim();
    if w.is_empty() || ["有效", "正常", "已评价", "valid"].contains(&w) {
        Some(S::Valid)
    } else if w.contains("撤") || w.contains("作废") || w.contains("删除") || w == "withdrawn"
    {
        Some(S::Withdrawn)
    } else if w.contains("改评") || w.contains("修改") || w == "revised" {
        Some(S::Revised)
    } else {
        None
    }
}

/// Reason tags from 「服务态度差；办理时间长」: the known ones as hall-api tags,
/// the others kept as written.
pub fn reason_tags(s: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for part in fold_width(s).split([',', '，', '、', ';', '；', '|', '/', '\n']) {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let has = |xs: &[&str]| xs.iter().any(|x| p.contains(x));
        let tag = if has(&["态度"]) {
            "attitude"
        } else if has(&["多次", "反复", "跑腿", "来回"]) {
            "repeat_visits"
        } else if has(&["慢", "时间长", "效率", "等待", "排队", "超时"]) {
            "slow"
        } else if has(&["一次性告知", "指引", "告知", "解释", "说明不清"]) {
            "unclear_guide"
        } else if has(&["推诿", "踢皮球", "推脱"]) {
            "shuffled"
        } else if has(&["流程", "手续", "材料", "繁琐"]) {
            "process"
        } else if has(&["系统", "网络", "故障"]) {
            "system"
        } else if has(&["设施", "环境", "设备", "停车"]) {
            "facilities"
        } else {
            p
        };
        let tag: String = tag.chars().take(40).collect();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<String> {
        parse_time(&Cell::Text(s.into())).map(|t| t.to_rfc3339())
    }

    #[test]
    fn times_in_every_common_format() {
        let want = Some("2026-10-12T09:31:05+08:00".to_owned());
        assert_eq!(t("2026-10-12 09:31:05"), want);
        assert_eq!(t("2026/10/12 09:31:05"), want);
        assert_eq!(t("2026年10月12日 09时31分05秒"), want);
        assert_eq!(t("２０２６－１０－１２　０９：３１：０５"), want);
        assert_eq!(t("20261012093105"), want);
        assert_eq!(
            t("2026-10-12T01:31:05Z").as_deref(),
            Some("2026-10-12T01:31:05+00:00")
        );
        assert_eq!(
            t("2026/10/12 9:31").as_deref(),
            Some("2026-10-12T09:31:00+08:00")
        );
        assert_eq!(
            t("2026-10-12").as_deref(),
            Some("2026-10-12T00:00:00+08:00")
        );
        assert_eq!(t("昨天"), None);
        // GB/T 39046-2020's 日期时间型 (GB/T 7408 basic form), with and without
        // an offset; epoch seconds and milliseconds as interfaces send them.
        assert_eq!(t("20261012T093105"), want);
        assert_eq!(
            t("20261012T013105Z").as_deref(),
            Some("2026-10-12T01:31:05+00:00")
        );
        assert_eq!(t("20261012T093105+0800"), want);
        assert_eq!(t("20261012T093105+08:00"), want);
        assert_eq!(t("20261012T253105"), None);
        assert_eq!(
            t("1792116000").as_deref(),
            Some("2026-10-16T10:00:00+08:00")
        );
        assert_eq!(
            t("1792116000000").as_deref(),
            Some("2026-10-16T10:00:00+08:00")
        );
        assert_eq!(
            parse_time(&Cell::Number(1_792_116_000_000.0))
                .map(|t| t.to_rfc3339())
                .as_deref(),
            Some("2026-10-16T10:00:00+08:00")
        );
        assert_eq!(t("9999999999999"), None, "beyond 2099");
        // 2026-10-12 09:31:05 as an Excel serial.
        let serial = 46307.0 + (9.0 * 3600.0 + 31.0 * 60.0 + 5.0) / 86400.0;
        assert_eq!(
            parse_time(&Cell::Number(serial)).map(|t| t.to_rfc3339()),
            want
        );
        assert_eq!(parse_time(&Cell::Number(12.0)), None);
    }

    #[test]
    fn levels_words_numbers_and_direction() {
        assert_eq!(
            parse_level(&Cell::Text("非常满意".into()), LevelScale::FiveBest),
            Ok(5)
        );
        assert_eq!(
            parse_level(&Cell::Text(" 一般 ".into()), LevelScale::FiveBest),
            Ok(3)
        );
        assert_eq!(
            parse_level(&Cell::Text("５".into()), LevelScale::FiveBest),
            Ok(5)
        );
        assert_eq!(parse_level(&Cell::Number(1.0), LevelScale::OneBest), Ok(5));
        assert_eq!(
            parse_level(&Cell::Text("★★".into()), LevelScale::FiveBest),
            Ok(2)
        );
        assert!(
            parse_level(&Cell::Text("很好".into()), LevelScale::FiveBest)
                .unwrap_err()
                .contains("很好")
        );
    }

    #[test]
    fn channels_statuses_and_reasons() {
        assert_eq!(channel_code("窗口评价器"), "window_device");
        assert_eq!(channel_code("12345热线"), "hotline");
        assert_eq!(channel_code("ＡＰＰ/小程序"), "app");
        assert_eq!(channel_code("政务服务网"), "web");
        assert_eq!(channel_code("自助终端"), "kiosk");
        assert_eq!(channel_code("扫码评价"), "qr_code");
        assert_eq!(channel_code("短信"), "sms");
        // GB/T 39046-2020 表9's words.
        assert_eq!(channel_code("PC端"), "web");
        assert_eq!(channel_code("移动服务端"), "app");
        assert_eq!(channel_code("二维码"), "qr_code");
        assert_eq!(channel_code("政务大厅平板电脑"), "window_device");
        assert_eq!(channel_code("政务大厅其他终端"), "kiosk");
        assert_eq!(channel_code("电话"), "hotline");
        assert_eq!(channel_code("系统默认评价"), "system_default");
        // Codes: the national table, a province's own, and one in neither.
        let none = BTreeMap::new();
        assert_eq!(channel_of("7", &none).as_deref(), Ok("sms"));
        assert_eq!(channel_of("06", &none).as_deref(), Ok("hotline"));
        assert!(channel_of("9", &none).unwrap_err().contains("“9”"));
        let zj: BTreeMap<String, String> = [("6", "短信"), ("7", "系统默认评价")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(channel_of("7", &zj).as_deref(), Ok("system_default"));
        assert_eq!(channel_of("6", &zj).as_deref(), Ok("sms"));
        // The codes the province did not change read as the national table's.
        assert_eq!(channel_of("1", &zj).as_deref(), Ok("web"));
        let e = channel_of("8", &zj).unwrap_err();
        assert!(e.contains("本方案") && e.contains("7 系统默认评价"), "{e}");
        assert_eq!(channel_of("移动服务端", &zj).as_deref(), Ok("app"));
        assert_eq!(eval_count("二次评价"), Some(2));
        assert_eq!(eval_count("1"), Some(1));
        assert_eq!(eval_count("很多"), None);
        assert_eq!(level_from_a8(1), Some(5));
        assert_eq!(level_from_a8(5), Some(1));
        assert_eq!(
            word_and_number(&Cell::Text("1-非常满意".into())),
            (Some(5), Some(1))
        );
        assert_eq!(
            status_of("已撤评"),
            Some(hcp_core::wire::EvaluationStatus::Withdrawn)
        );
        assert_eq!(
            status_of("已改评"),
            Some(hcp_core::wire::EvaluationStatus::Revised)
        );
        assert_eq!(status_of(""), Some(hcp_core::wire::EvaluationStatus::Valid));
        assert_eq!(
            reason_tags("服务态度差；办理时间长、其他原因"),
            ["attitude", "slow", "其他原因"]
        );
    }
}
