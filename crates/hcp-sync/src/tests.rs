//! hcp-sync's unit tests.

use super::*;

fn eval(seq: i64, id: &str, comment: &str) -> String {
    format!(
        r#"{{"seq":{seq},"kind":"evaluation","data":{{"id":"{id}","rev":1,"hall_id":"H1","channel":"web","level":2,"comment":"{comment}","evaluated_at":"2026-10-09T10:00:00+08:00","status":"valid"}}}}"#
    )
}

fn page(changes: &[String], next: &str, more: bool) -> Bytes {
    Bytes::from(format!(
        r#"{{"changes":[{}],"next":"{next}","more":{more}}}"#,
        changes.join(",")
    ))
}

#[test]
fn more_changes_than_the_limit_is_a_protocol_error() {
    let body = page(
        &[eval(1, "a", ""), eval(2, "b", ""), eval(3, "c", "")],
        "n3",
        true,
    );
    let e = prepare(body.clone(), "H1", None, 2).err().unwrap();
    assert!(e.contains("3 条变更，超过请求的上限 2 条"), "{e}");
    assert!(prepare(body, "H1", None, 3).is_ok());
}

#[test]
fn more_without_moving_the_cursor_is_a_protocol_error() {
    let e = prepare(page(&[], "c7", true), "H1", Some("c7"), 100)
        .err()
        .unwrap();
    assert!(e.contains("游标没有前进"), "{e}");
    // The same `next` with more: false is simply "caught up".
    assert!(prepare(page(&[], "c7", false), "H1", Some("c7"), 100).is_ok());
    // An empty page that does move the cursor is allowed (the stall limit
    // catches a hall that only ever does that).
    assert!(prepare(page(&[], "c8", true), "H1", Some("c7"), 100).is_ok());
}

#[test]
fn bytes_that_are_not_utf8_cost_only_the_record_they_are_in() {
    let mut body = page(
        &[eval(1, "a", "一"), eval(2, "b", "XX"), eval(3, "c", "三")],
        "n",
        false,
    )
    .to_vec();
    let at = body.windows(2).position(|w| w == b"XX").unwrap();
    body[at] = 0xff;
    body[at + 1] = 0xc3;
    let p = prepare(Bytes::from(body), "H1", None, 10).unwrap();
    assert_eq!(p.count, 3);
    let ids: Vec<i64> = p.records.iter().map(|r| r.0).collect();
    assert_eq!(ids, vec![1, 3]);
    assert_eq!(p.quarantined.len(), 1);
    let q = &p.quarantined[0];
    assert_eq!((q.seq, q.kind.as_str()), (2, "evaluation"));
    let raw = std::str::from_utf8(&p.body[q.raw.clone()]).unwrap();
    assert!(
        raw.contains(r#""id":"b""#) && raw.contains('\u{fffd}'),
        "{raw}"
    );
    // The good records still point at their exact text.
    let r3 = std::str::from_utf8(&p.body[p.records[1].1.clone()]).unwrap();
    assert!(r3.contains("三"));
}

#[test]
fn an_oversized_record_is_quarantined_with_only_its_beginning_kept() {
    let big = "长".repeat(MAX_RECORD_BYTES / 3 + 10);
    let p = prepare(
        page(&[eval(1, "a", &big), eval(2, "b", "")], "n", false),
        "H1",
        None,
        10,
    )
    .unwrap();
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.quarantined.len(), 1);
    let q = &p.quarantined[0];
    assert!(q.reason.contains("超过单条记录上限"), "{}", q.reason);
    assert!(q.raw.len() <= QUARANTINE_RAW_PREFIX);
    assert!(std::str::from_utf8(&p.body[q.raw.clone()]).is_ok());
}
