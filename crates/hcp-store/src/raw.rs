//! The raw evaluation record, kept only where its columns cannot rebuild it.
//!
//! Every evaluation used to carry the record exactly as the hall sent it beside its
//! own columns: at a province's scale that copy was half the cache. A record is now
//! stored as `''` in `raw_json` when the columns rebuild it byte for byte (times at
//! +08:00, fields in the wire order, compact JSON — what a hall that serialises the
//! wire struct sends, and what a spreadsheet import writes). Anything else — another
//! key order, spaces, fields we have no column for, times at another offset or with
//! fractions of a second — is kept verbatim as before. Readers never see the
//! difference: [`rebuild`] gives back the same bytes, so the sha256 a case step
//! signs stays the same.

use chrono::{DateTime, FixedOffset};
use hcp_core::wire::{Evaluation, EvaluationStatus, Evaluator};

/// The columns of one evaluations row that the raw record is rebuilt from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns<'a> {
    pub hall_id: &'a str,
    pub id: &'a str,
    pub rev: i64,
    pub serial_no: Option<&'a str>,
    pub item_code: Option<&'a str>,
    pub item_name: Option<&'a str>,
    pub department_code: Option<&'a str>,
    pub window_no: Option<&'a str>,
    pub staff_no: Option<&'a str>,
    pub channel: &'a str,
    pub level: i64,
    /// JSON array text.
    pub reasons: &'a str,
    pub comment: &'a str,
    /// UTC text.
    pub served_at: Option<&'a str>,
    /// UTC text.
    pub evaluated_at: &'a str,
    pub real_name: bool,
    pub name_masked: Option<&'a str>,
    pub phone_masked: Option<&'a str>,
    pub id_hash: Option<&'a str>,
    pub status: &'a str,
}

fn beijing(utc: &str) -> Option<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(8 * 3600)?;
    Some(
        DateTime::parse_from_rfc3339(utc)
            .ok()?
            .with_timezone(&offset),
    )
}

/// The record the columns describe, as compact JSON; `None` when a column holds
/// something the wire record cannot (then the row must have kept its raw text).
pub(crate) fn rebuild(c: &Columns<'_>) -> Option<String> {
    let owned = |s: Option<&str>| s.map(str::to_owned);
    let status = match c.status {
        "valid" => EvaluationStatus::Valid,
        "revised" => EvaluationStatus::Revised,
        "withdrawn" => EvaluationStatus::Withdrawn,
        _ => return None,
    };
    let e = Evaluation {
        id: c.id.to_owned(),
        rev: c.rev,
        hall_id: c.hall_id.to_owned(),
        serial_no: owned(c.serial_no),
        item_code: owned(c.item_code),
        item_name: owned(c.item_name),
        department_code: owned(c.department_code),
        window_no: owned(c.window_no),
        staff_no: owned(c.staff_no),
        channel: c.channel.to_owned(),
        level: u8::try_from(c.level).ok()?,
        reasons: serde_json::from_str(c.reasons).ok()?,
        comment: c.comment.to_owned(),
        served_at: match c.served_at {
            Some(t) => Some(beijing(t)?),
            None => None,
        },
        evaluated_at: beijing(c.evaluated_at)?,
        evaluator: Evaluator {
            real_name: c.real_name,
            name_masked: owned(c.name_masked),
            phone_masked: owned(c.phone_masked),
            id_hash: owned(c.id_hash),
        },
        status,
    };
    serde_json::to_string(&e).ok()
}

/// What to write into `raw_json` for a record with these columns: `''` when the
/// columns rebuild `raw` exactly, else `raw` itself.
pub(crate) fn to_store<'a>(c: &Columns<'_>, raw: &'a str) -> &'a str {
    if rebuild(c).as_deref() == Some(raw) {
        ""
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols<'a>(evaluated_at: &'a str, status: &'a str) -> Columns<'a> {
        Columns {
            hall_id: "H1",
            id: "E1",
            rev: 2,
            serial_no: Some("S1"),
            item_code: None,
            item_name: Some("社保卡补办"),
            department_code: Some("D1"),
            window_no: Some("3"),
            staff_no: None,
            channel: "pad",
            level: 1,
            reasons: r#"["态度差"]"#,
            comment: "等了\"很久\"",
            served_at: None,
            evaluated_at,
            real_name: true,
            name_masked: Some("李*"),
            phone_masked: None,
            id_hash: Some("ab"),
            status,
        }
    }

    #[test]
    fn the_wire_serialisation_is_not_kept_and_comes_back_byte_for_byte() {
        let c = cols("2026-09-30T16:30:00Z", "valid");
        let raw = rebuild(&c).unwrap();
        assert!(
            raw.contains(r#""evaluated_at":"2026-10-01T00:30:00+08:00""#),
            "{raw}"
        );
        assert_eq!(to_store(&c, &raw), "");
        let e: Evaluation = serde_json::from_str(&raw).unwrap();
        assert_eq!(e.comment, "等了\"很久\"");
    }

    #[test]
    fn any_other_spelling_is_kept_verbatim() {
        let c = cols("2026-09-30T16:30:00Z", "valid");
        let canonical = rebuild(&c).unwrap();
        let spaced = canonical.replacen(':', ": ", 1);
        let utc = canonical.replace("2026-10-01T00:30:00+08:00", "2026-09-30T16:30:00Z");
        let extra = canonical.replacen('{', r#"{"x":1,"#, 1);
        for raw in [spaced, utc, extra] {
            assert_eq!(to_store(&c, &raw), raw);
        }
        assert!(rebuild(&cols("2026-09-30T16:30:00Z", "lost")).is_none());
        assert!(rebuild(&cols("not a time", "valid")).is_none());
    }
}
