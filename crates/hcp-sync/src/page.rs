//! A fetched page: its changes split out of the body, each validated (or quarantined with why) before it becomes a record, and the batch handed to the sink.

use super::*;

/// A single record larger than this is quarantined instead of stored: real ones
/// are a few KB (a 2000-character comment is 6 KB).
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// How much of an oversized record the quarantine keeps, for people to see its id.
pub(crate) const QUARANTINE_RAW_PREFIX: usize = 4 * 1024;

/// A page parsed and validated (on the fetcher's side, so that it overlaps with the
/// applier writing the previous page). Records point into `body` by byte range.
pub(crate) struct Prepared {
    pub(crate) body: Bytes,
    pub(crate) next: String,
    pub(crate) more: bool,
    pub(crate) count: u64,
    pub(crate) records: Vec<(i64, Range<usize>, ValidRecord)>,
    pub(crate) quarantined: Vec<PreparedQuarantine>,
    pub(crate) skipped: u64,
    /// Highest `profile_rev` announced in the page.
    pub(crate) profile_rev: Option<i64>,
    /// Its share of the fetch-ahead byte budget, given back when the page is
    /// stored and dropped.
    pub(crate) budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

pub(crate) struct PreparedQuarantine {
    pub(crate) seq: i64,
    pub(crate) kind: String,
    pub(crate) raw: Range<usize>,
    pub(crate) field: String,
    pub(crate) reason: String,
}

/// Where `part` (a slice of `body`) sits in `body`.
pub(crate) fn range_in(body: &[u8], part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
    start..start + part.len()
}

/// A page whose changes all have proper envelopes.
#[derive(serde::Deserialize)]
pub(crate) struct TypedPage<'a> {
    #[serde(borrow)]
    pub(crate) changes: Vec<EnvelopedChange<'a>>,
    pub(crate) next: String,
    pub(crate) more: bool,
}

/// One change with its envelope read; `data` stays raw until validated.
#[derive(serde::Deserialize)]
pub(crate) struct EnvelopedChange<'a> {
    pub(crate) seq: i64,
    pub(crate) kind: String,
    #[serde(borrow)]
    pub(crate) data: &'a serde_json::value::RawValue,
}

/// A body that is not valid UTF-8, decoded with U+FFFD in place of each bad
/// sequence, and where in the decoded text those replacements sit. Only the
/// changes that overlap a replacement are quarantined; the rest of the page reads
/// as sent.
pub(crate) fn decode_lossy(body: &[u8]) -> (Bytes, Vec<Range<usize>>) {
    let mut out = String::with_capacity(body.len() + 16);
    let mut bad = vec![];
    for chunk in body.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            let at = out.len();
            out.push(char::REPLACEMENT_CHARACTER);
            bad.push(at..out.len());
        }
    }
    (Bytes::from(out), bad)
}

pub(crate) fn overlaps(spans: &[Range<usize>], r: &Range<usize>) -> bool {
    spans.iter().any(|b| b.start < r.end && r.start < b.end)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character.
pub(crate) fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parses and validates a page asked for with `asked_after` and `limit`. The fast
/// path reads every envelope in one pass; when an envelope is broken, or the body
/// has bytes that are not UTF-8, the page is taken apart change by change so that
/// only the broken changes are quarantined. A page that breaks the protocol (more
/// changes than `limit`, or `more: true` without moving the cursor) is an error
/// (the request is retried, then the hall fails with the reason).
pub(crate) fn prepare(
    body: Bytes,
    hall_id: &str,
    asked_after: Option<&str>,
    limit: u32,
) -> Result<Prepared, String> {
    let mut p = Prepared {
        body: Bytes::new(),
        next: String::new(),
        more: false,
        count: 0,
        records: vec![],
        quarantined: vec![],
        skipped: 0,
        profile_rev: None,
        budget: None,
    };
    let (body, bad_spans) = match std::str::from_utf8(&body) {
        Ok(_) => (body, vec![]),
        Err(_) => decode_lossy(&body),
    };
    let unreadable = |e: serde_json::Error| format!("变更数据无法解析：{e}");
    let fast = if bad_spans.is_empty() {
        serde_json::from_slice::<TypedPage<'_>>(&body).ok()
    } else {
        None
    };
    match fast {
        Some(page) => {
            p.count = page.changes.len() as u64;
            p.next = page.next;
            p.more = page.more;
            for c in &page.changes {
                classify(&body, c, hall_id, &mut p);
            }
        }
        None => {
            let page: ChangesPage<'_> = serde_json::from_slice(&body).map_err(unreadable)?;
            p.count = page.changes.len() as u64;
            p.next = page.next;
            p.more = page.more;
            let mut last_seq = i64::MIN;
            for raw in &page.changes {
                let raw = raw.get();
                let whole = range_in(&body, raw);
                let parsed = serde_json::from_str::<RawChange<'_>>(raw);
                if overlaps(&bad_spans, &whole) {
                    // Decoded lossily to find its seq, kind and id; kept whole.
                    let (seq, kind) = match &parsed {
                        Ok(c) => (c.seq, c.kind.clone()),
                        Err(_) => (
                            seq_guess(raw).unwrap_or(last_seq.saturating_add(1)),
                            String::new(),
                        ),
                    };
                    last_seq = seq;
                    p.quarantined.push(PreparedQuarantine {
                        seq,
                        kind,
                        raw: range_in(&body, prefix(raw, QUARANTINE_RAW_PREFIX * 16)),
                        field: String::new(),
                        reason: "记录含有不是 UTF-8 编码的字节，无法可靠读取（隔离区中以 � 显示这些字节）".into(),
                    });
                    continue;
                }
                match parsed {
                    Ok(c) => {
                        last_seq = c.seq;
                        let c = EnvelopedChange {
                            seq: c.seq,
                            kind: c.kind,
                            data: c.data,
                        };
                        classify(&body, &c, hall_id, &mut p);
                    }
                    Err(e) => p.quarantined.push(PreparedQuarantine {
                        // Not even an envelope: keep it whole, after the last good seq.
                        seq: seq_guess(raw).unwrap_or(last_seq.saturating_add(1)),
                        kind: String::new(),
                        raw: range_in(&body, prefix(raw, QUARANTINE_RAW_PREFIX)),
                        field: String::new(),
                        reason: format!("变更记录格式错误（缺少 seq/kind/data 或类型不符）：{e}"),
                    }),
                }
            }
        }
    }
    if p.count > u64::from(limit) {
        return Err(format!(
            "大厅一页返回了 {} 条变更，超过请求的上限 {limit} 条（不符合接口规范）",
            p.count
        ));
    }
    if p.more && p.next == asked_after.unwrap_or("") {
        return Err(format!(
            "大厅返回 more: true，但游标没有前进（本页 {} 条变更，next 与请求的游标相同），同步无法继续（不符合接口规范）",
            p.count
        ));
    }
    p.body = body;
    Ok(p)
}

pub(crate) fn classify(body: &[u8], c: &EnvelopedChange<'_>, hall_id: &str, p: &mut Prepared) {
    let data = c.data.get();
    if data.len() > MAX_RECORD_BYTES {
        p.quarantined.push(PreparedQuarantine {
            seq: c.seq,
            kind: c.kind.clone(),
            raw: range_in(body, prefix(data, QUARANTINE_RAW_PREFIX)),
            field: String::new(),
            reason: format!(
                "记录有 {} 字节，超过单条记录上限 {} KB（隔离区只保留开头部分）",
                data.len(),
                MAX_RECORD_BYTES / 1024
            ),
        });
        return;
    }
    match validate_change(&c.kind, data, hall_id) {
        Ok(ValidRecord::UnknownKind(kind)) => {
            tracing::debug!(hall_id, seq = c.seq, kind = %hcp_core::ident::printable(&kind), "unknown change kind skipped");
            p.skipped += 1;
        }
        Ok(ValidRecord::Profile(pc)) => {
            p.profile_rev = p.profile_rev.max(Some(pc.profile_rev));
        }
        Ok(record) => p.records.push((c.seq, range_in(body, data), record)),
        Err(invalid) => p.quarantined.push(PreparedQuarantine {
            seq: c.seq,
            kind: c.kind.clone(),
            raw: range_in(body, data),
            field: invalid.field.clone(),
            reason: invalid.to_string(),
        }),
    }
}

/// What one page brings apart from its text.
pub(crate) type PageParts = (
    Vec<(i64, Range<usize>, ValidRecord)>,
    Vec<PreparedQuarantine>,
    u64,
    Option<HallProfile>,
);

/// Consecutive pages of one hall, fetched and validated, to be stored with the last
/// one's cursor (and any profile) in one transaction.
pub struct FetchedBatch {
    /// Each page's body and next cursor.
    pub(crate) texts: Vec<(Bytes, String)>,
    /// Each page's records (taken out by [`FetchedBatch::pages`]).
    pub(crate) parts: Vec<PageParts>,
    /// The pages' share of the fetch-ahead budget, given back when the batch is
    /// dropped (once stored).
    pub(crate) _budget: Vec<Option<tokio::sync::OwnedSemaphorePermit>>,
}

impl FetchedBatch {
    pub(crate) fn new(batch: Vec<(Box<Prepared>, Option<Box<HallProfile>>)>) -> Self {
        let mut out = FetchedBatch {
            texts: Vec::with_capacity(batch.len()),
            parts: Vec::with_capacity(batch.len()),
            _budget: Vec::with_capacity(batch.len()),
        };
        for (page, profile) in batch {
            let Prepared {
                body,
                next,
                records,
                quarantined,
                skipped,
                budget,
                ..
            } = *page;
            out._budget.push(budget);
            out.texts.push((body, next));
            out.parts
                .push((records, quarantined, skipped, profile.map(|p| *p)));
        }
        out
    }

    /// The pages to store, in order (records move out: a second call gives pages
    /// without records).
    pub fn pages(&mut self) -> Result<Vec<PageToApply<'_>>, SyncError> {
        let parts = std::mem::take(&mut self.parts);
        let mut to_apply = Vec::with_capacity(parts.len());
        for ((body, next), (records, quarantined, skipped, profile)) in self.texts.iter().zip(parts)
        {
            let text = |r: &Range<usize>| {
                body.get(r.clone())
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .ok_or_else(|| SyncError::Internal("record range outside the page".into()))
            };
            let mut page = PageToApply {
                next_cursor: next,
                profile,
                skipped_unknown: skipped,
                ..PageToApply::default()
            };
            for (seq, range, record) in records {
                page.records.push(FeedRecord {
                    seq,
                    raw: text(&range)?,
                    record,
                    revision: None,
                });
            }
            for q in quarantined {
                page.quarantined.push(QuarantineEntry {
                    seq: q.seq,
                    kind: q.kind,
                    raw: text(&q.raw)?,
                    field: q.field,
                    reason: q.reason,
                });
            }
            to_apply.push(page);
        }
        Ok(to_apply)
    }
}

pub(crate) fn seq_guess(raw: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()?
        .get("seq")?
        .as_i64()
}
