//! Personal data on the way in. A rater's name keeps its surname, a phone number
//! and an ID number keep their last four characters, and the whole number lives on
//! only as a salted hash (the key that finds repeat raters). Free text (a comment,
//! a 申诉理由, a quarantined row's cells) has its phone and ID numbers masked the
//! same way, so nothing a citizen wrote down reaches the cache in clear.

use hcp_core::wire::Evaluator;
use sha2::{Digest, Sha256};

use crate::values::fold_width;

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

/// Whether a value is a resident ID number: 18 characters (17 digits and a digit
/// or X) or the old 15 digits.
pub fn is_id_number(s: &str) -> bool {
    let v: String = fold_width(s).trim().to_uppercase();
    let b = v.as_bytes();
    match b.len() {
        18 => {
            b[0] != b'0'
                && b[..17].iter().all(u8::is_ascii_digit)
                && (b[17].is_ascii_digit() || b[17] == b'X')
        }
        15 => b[0] != b'0' && b.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// Any identifier (ID number, credit code) with only its last four characters
/// left: 「34082519900101123X」 → 「**************123X」.
pub fn mask_id(s: &str) -> String {
    let v: Vec<char> = fold_width(s).trim().chars().collect();
    let keep = v.len().min(4);
    format!(
        "{}{}",
        "*".repeat(v.len() - keep),
        v[v.len() - keep..].iter().collect::<String>()
    )
}

fn salted(salt: &str, kind: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"|");
    h.update(kind.as_bytes());
    h.update(b"|");
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// The evaluator's key for finding repeat raters from a phone number: a salted
/// sha256, never the number. `None` when the number is not whole (a masked one).
pub fn phone_hash(salt: &str, phone: &str) -> Option<String> {
    let folded = fold_width(phone);
    if folded.contains('*') {
        return None;
    }
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| salted(salt, "phone", &digits))
}

/// The evaluator's key from an ID number or credit code (upper-cased, spaces
/// dropped): a salted sha256. `None` for a masked or too short value.
pub fn id_hash(salt: &str, id: &str) -> Option<String> {
    let v: String = fold_width(id)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    (v.len() >= 8 && !v.contains('*')).then(|| salted(salt, "id", &v))
}

/// What a row says of its rater, before anything is kept.
#[derive(Debug, Default)]
pub struct RaterCells<'a> {
    /// 评价人 / userName: a name, or (interfaces do this for persons) an ID number.
    pub name: Option<&'a str>,
    /// 联系电话.
    pub phone: Option<&'a str>,
    /// 证件号码 / certkeyGOV / userId.
    pub id: Option<&'a str>,
    /// 是否匿名.
    pub anonymous: bool,
}

/// The masked evaluator of a row: the name's surname (an ID number in the name
/// column is masked like one), the phone's last four digits, and a salted hash of
/// the ID number (else of the phone) to find repeat raters. An anonymous rating
/// keeps nothing.
pub fn evaluator(salt: &str, c: &RaterCells<'_>) -> Evaluator {
    if c.anonymous {
        return Evaluator::default();
    }
    let name_is_id = c.name.is_some_and(is_id_number);
    let id = c.id.or(c.name.filter(|_| name_is_id));
    let id_hash = id
        .and_then(|v| id_hash(salt, v))
        .or_else(|| c.phone.and_then(|p| phone_hash(salt, p)));
    Evaluator {
        real_name: c.name.is_some() || c.phone.is_some() || c.id.is_some(),
        name_masked: c.name.and_then(|n| {
            if name_is_id {
                Some(mask_id(n))
            } else {
                mask_name(n)
            }
        }),
        phone_masked: c.phone.and_then(mask_phone),
        id_hash,
    }
}

/// Free text with every phone number (a mobile's 11 digits, a landline's 10–12
/// from 0) and ID number in it masked to its last four characters. Digits may be
/// split by spaces or hyphens (「138 0000 5521」). Dates and 办件编号 are left as
/// they are.
pub fn scrub(text: &str) -> String {
    // Detection reads full-width digits as digits; what is not masked is kept
    // exactly as written (full-width punctuation included).
    let orig: Vec<char> = text.chars().collect();
    let chars: Vec<char> = orig
        .iter()
        .map(|&c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF38}' | '\u{FF58}' | '\u{FF0D}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(orig[i]);
            i += 1;
            continue;
        }
        // A run of digits, single separators between them, and an X at its end.
        let start = i;
        let mut end = i;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                j += 1;
                end = j;
            } else if (c == ' ' || c == '-')
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                && j > start
            {
                j += 1;
            } else if (c == 'X' || c == 'x') && j > start {
                j += 1;
                end = j;
                break;
            } else {
                break;
            }
        }
        let compact: String = chars[start..end]
            .iter()
            .filter(|c| **c != ' ' && **c != '-')
            .collect();
        let preceded_by_word = start > 0 && chars[start - 1].is_ascii_alphanumeric();
        let n = compact.len();
        let digits_only = compact.bytes().all(|b| b.is_ascii_digit());
        let mobile = n == 11 && compact.starts_with('1') && digits_only;
        let landline = (10..=12).contains(&n) && compact.starts_with('0') && digits_only;
        if !preceded_by_word && (mobile || landline || is_id_number(&compact)) {
            out.push_str(&mask_id(&compact));
        } else {
            out.extend(&orig[start..end]);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evaluator_is_masked_and_hashed() {
        assert_eq!(mask_name("李四").as_deref(), Some("李*"));
        assert_eq!(mask_name("欧阳娜娜").as_deref(), Some("欧***"));
        assert_eq!(mask_phone("138 0000 5521").as_deref(), Some("*******5521"));
        assert_eq!(mask_phone("138****5521").as_deref(), Some("*******5521"));
        let a = phone_hash("s", "13800005521").unwrap();
        assert_eq!(a.len(), 64);
        assert!(!a.contains("5521"));
        assert_eq!(phone_hash("s", "138-0000-5521"), Some(a));
        assert_eq!(phone_hash("s", "138****5521"), None);
    }

    #[test]
    fn an_id_number_in_the_name_column_is_hashed_and_masked() {
        assert!(is_id_number("34082519900101123X"));
        assert!(is_id_number("340825199001011234"));
        assert!(is_id_number("340825900101123"));
        assert!(!is_id_number("13800005521"));
        assert!(!is_id_number("李四"));
        let e = evaluator(
            "s",
            &RaterCells {
                name: Some("34082519900101123x"),
                ..RaterCells::default()
            },
        );
        assert_eq!(e.name_masked.as_deref(), Some("**************123x"));
        assert_eq!(e.id_hash, id_hash("s", "34082519900101123X"));
        assert!(e.real_name);
        // The ID column wins over the phone for the key; anonymous keeps nothing.
        let both = RaterCells {
            name: Some("王五"),
            phone: Some("13800005521"),
            id: Some("340825199001011234"),
            anonymous: false,
        };
        assert_eq!(
            evaluator("s", &both).id_hash,
            id_hash("s", "340825199001011234")
        );
        let anon = RaterCells {
            anonymous: true,
            ..both
        };
        assert_eq!(evaluator("s", &anon), Evaluator::default());
    }

    #[test]
    fn free_text_loses_its_numbers_but_not_its_dates() {
        assert_eq!(
            scrub("请回电13800005521或 0556-5551234，身份证340825199001011234"),
            "请回电*******5521或 *******1234，身份证**************1234"
        );
        assert_eq!(scrub("138 0000 5521"), "*******5521");
        assert_eq!(
            scrub("10月12日办件340825-2026-0001234，20261012上午"),
            "10月12日办件340825-2026-0001234，20261012上午"
        );
        assert_eq!(scrub("SN13800005521"), "SN13800005521");
        assert_eq!(
            scrub("电话：１３８００００５５２１！"),
            "电话：*******5521！"
        );
    }
}
