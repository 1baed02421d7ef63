//! Identifiers that arrive from outside (a hall server, a bundle, a spreadsheet)
//! and later become part of a file name, a path or a query pattern. They are
//! checked where they come in, so nothing downstream has to guess whether
//! `X&calc&` or `../../x` is a hall code.

use std::fmt;

/// Longest hall code accepted. Real codes are a region code plus a suffix
/// (`340825-ZWFW`); 64 leaves room without letting a hall fill a file name.
pub const MAX_HALL_ID_CHARS: usize = 64;

/// An identifier that was refused: which field, the value (made printable) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId {
    /// The field's wire name, e.g. `hall_id`.
    pub field: &'static str,
    /// The field's name for people, e.g. `大厅编码`.
    pub label: &'static str,
    /// The refused value, control characters escaped and cut to 160 characters.
    pub shown: String,
    /// What is wrong (zh-CN).
    pub problem: &'static str,
}

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}（{}）“{}” 无效：{}",
            self.label, self.field, self.shown, self.problem
        )
    }
}

impl std::error::Error for InvalidId {}

/// A value safe to print in a message: control characters escaped, at most 160
/// characters.
pub fn printable(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == 160 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn refuse(
    field: &'static str,
    label: &'static str,
    value: &str,
    problem: &'static str,
) -> InvalidId {
    InvalidId {
        field,
        label,
        shown: printable(value),
        problem,
    }
}

/// A hall code (大厅编码): 1–64 ASCII letters, digits, `-`, `_` or `.`, starting
/// with a letter or digit and not ending with `.`. Nothing in it means anything
/// to a shell, a file system or a `LIKE` pattern.
pub fn check_hall_id(value: &str) -> Result<(), InvalidId> {
    let r = |p| Err(refuse("hall_id", "大厅编码", value, p));
    if value.is_empty() {
        return r("为空");
    }
    if value.chars().count() > MAX_HALL_ID_CHARS {
        return r("超过 64 个字符");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return r("只能使用英文字母、数字和 “-”、“_”、“.”");
    }
    if !value.as_bytes()[0].is_ascii_alphanumeric() {
        return r("应以字母或数字开头");
    }
    if value.ends_with('.') {
        return r("不能以 “.” 结尾");
    }
    Ok(())
}

/// A visit id (暗访记录编号): a UUID in its usual 8-4-4-4-12 hexadecimal form.
pub fn check_visit_id(value: &str) -> Result<(), InvalidId> {
    if is_uuid(value) {
        Ok(())
    } else {
        Err(refuse(
            "visit_id",
            "暗访记录编号",
            value,
            "应为 UUID（形如 0b8f3c1e-5d7a-4c61-9a52-8c1f2d8e9a10）",
        ))
    }
}

/// Whether `value` is a UUID written as 8-4-4-4-12 hexadecimal digits.
pub fn is_uuid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_hall_codes_pass() {
        for ok in ["340825-ZWFW", "H001", "3408_25.zw", "a"] {
            assert_eq!(check_hall_id(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn shell_path_and_pattern_syntax_is_refused_with_the_field_named() {
        for bad in [
            "X&calc&",
            "../../etc",
            "a/b",
            "a\\b",
            "50%_off",
            "a^b",
            "C:x",
            "-rf",
            ".hidden",
            "ends.",
            "",
            "大厅一",
            "a b",
            "a\u{0}b",
        ] {
            let e = check_hall_id(bad).expect_err(bad);
            let text = e.to_string();
            assert!(text.starts_with("大厅编码（hall_id）"), "{text}");
            assert!(
                !text.contains('\u{0}'),
                "control characters are escaped: {text}"
            );
        }
        assert!(check_hall_id(&"a".repeat(65)).is_err());
        assert!(check_hall_id(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn visit_ids_must_be_uuids() {
        assert!(check_visit_id("0b8f3c1e-5d7a-4c61-9a52-8c1f2d8e9a10").is_ok());
        for bad in [
            "0b8f3c1e-5d7a-4c61-9a52-8c1f2d8e9a1",
            "0b8f3c1e_5d7a_4c61_9a52_8c1f2d8e9a10",
            "../../../../../../tmp/x.hcpv-aaaaaaa",
            "%%%%%%%%-%%%%-%%%%-%%%%-%%%%%%%%%%%%",
        ] {
            let e = check_visit_id(bad).expect_err(bad);
            assert!(e.to_string().contains("visit_id"), "{e}");
        }
    }

    #[test]
    fn printable_escapes_and_cuts() {
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(printable(&"x".repeat(300)).chars().count(), 161);
    }
}
