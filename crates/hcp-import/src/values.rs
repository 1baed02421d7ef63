//! Reading the values of an export's cells: times in the formats real exports
//! use (and Excel serials), level words and numbers, channels, statuses, reason
//! tags, and masking the evaluator on the way in.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use hcp_core::metrics::beijing;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// A time as exports write it: `2026-10-12 09:31:05`, `2026/10/12 9:31`,
/// `2026年10月12日 09时31分05秒`, `2026.10.12`, `20261012093105`, RFC 3339 with an
/// offset, or an Excel serial / date cell. Beijing time unless it says otherwise.
pub fn parse_time(c: &Cell) -> Option<DateTime<FixedOffset>> {
    let naive = match c {
        Cell::Date(d) => *d,
        Cell::Number(x) => from_serial(*x)?,
        Cell::Text(_) => {
            let s = clean(c);
            if s.is_empty() {
                return None;
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
                return Some(t);
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

/// The hall-api channel code of a channel as exports name it; an unknown one is
/// kept as written (hall-api keeps unknown channels too).
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
    if has(&["12345", "热线", "电话"]) {
        "hotline"
    } else if has(&["短信"]) {
        "sms"
    } else if has(&["自助"]) {
        "kiosk"
    } else if has(&["二维码", "扫码"]) {
        "qr_code"
    } else if has(&["评价器", "窗口", "现场", "pad", "平板"]) {
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
    } else if has(&["网", "pc", "web", "网站", "电脑"]) {
        "web"
    } else if has(&["其他", "其它"]) {
        "other"
    } else if [
        "window_device",
        "qr_code",
        "web",
        "app",
        "sms",
        "hotline",
        "kiosk",
        "other",
    ]
    .contains(&w.as_str())
    {
        return w;
    } else {
        return hcp_core::ident::printable(s.trim());
    }
    .to_owned()
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

/// The surname kept, the rest starred: 「李四」 → 「李*」 (a name already masked
/// stays as it is).
pub fn mask_name(s: &str) -> Option<String> {
    let name: String = fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut chars = name.chars();
    let first = chars.next()?;
    let rest = chars.count().max(1);
    Some(format!("{first}{}", "*".repeat(rest)))
}

/// The last four digits kept: 「13800005521」 → 「*******5521」.
pub fn mask_phone(s: &str) -> Option<String> {
    let digits: String = fold_width(s).chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let total = fold_width(s)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '*')
        .count();
    Some(format!(
        "{}{}",
        "*".repeat(total.saturating_sub(4)),
        &digits[digits.len() - 4..]
    ))
}

/// The evaluator's key for finding repeat raters: a salted sha256 of the phone
/// number, never the number. `None` when the number is not whole (a masked one).
pub fn evaluator_hash(salt: &str, phone: &str) -> Option<String> {
    let folded = fold_width(phone);
    if folded.contains('*') {
        return None;
    }
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return None;
    }
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"|phone|");
    h.update(digits.as_bytes());
    Some(hex::encode(h.finalize()))
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

    #[test]
    fn the_evaluator_is_masked_and_hashed() {
        assert_eq!(mask_name("李四").as_deref(), Some("李*"));
        assert_eq!(mask_name("欧阳娜娜").as_deref(), Some("欧***"));
        assert_eq!(mask_phone("138 0000 5521").as_deref(), Some("*******5521"));
        assert_eq!(mask_phone("138****5521").as_deref(), Some("*******5521"));
        let a = evaluator_hash("s", "13800005521").unwrap();
        assert_eq!(a.len(), 64);
        assert!(!a.contains("5521"));
        assert_eq!(evaluator_hash("s", "138-0000-5521"), Some(a));
        assert_eq!(evaluator_hash("s", "138****5521"), None);
    }
}
