//! A page of a hall's change feed as it is stored: the valid records with their
//! raw JSON, the refused ones with why, and what storing it did. The desk's
//! cache and the office hub store the same pages (hcp-sync fetches and checks
//! them).

use serde::Serialize;

use crate::validate::ValidRecord;
use crate::wire::HallProfile;

/// One valid record of a page, with its feed position and its raw JSON.
#[derive(Debug)]
pub struct FeedRecord<'a> {
    /// Feed position.
    pub seq: i64,
    /// The record exactly as the hall sent it.
    pub raw: &'a str,
    /// The validated record.
    pub record: ValidRecord,
    /// When it replaces a stored evaluation: how the rating's history names the
    /// change (`second_rating` for a file's 二次评价, `follow_up` for a 工单's
    /// 追评); `None` reads it from the record's status (改评, 撤评).
    pub revision: Option<&'static str>,
}

/// A record refused by validation, kept whole with the reason.
#[derive(Debug, Clone)]
pub struct QuarantineEntry<'a> {
    /// Feed position.
    pub seq: i64,
    /// The change's kind.
    pub kind: String,
    /// The raw change.
    pub raw: &'a str,
    /// The offending field.
    pub field: String,
    /// Why (zh-CN).
    pub reason: String,
}

/// What one page brings, to be stored atomically with `next_cursor`.
#[derive(Debug, Default)]
pub struct PageToApply<'a> {
    /// Valid records in feed order.
    pub records: Vec<FeedRecord<'a>>,
    /// Refused records.
    pub quarantined: Vec<QuarantineEntry<'a>>,
    /// Changes of kinds this version does not know.
    pub skipped_unknown: u64,
    /// A freshly fetched profile, when the page announced a profile change.
    pub profile: Option<HallProfile>,
    /// The cursor to resume from once this page is stored.
    pub next_cursor: &'a str,
}

/// What applying a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "PageOutcome.ts"))]
pub struct PageOutcome {
    /// Records not seen before.
    pub new: u64,
    /// Records replaced by a higher rev.
    pub updated: u64,
    /// Records whose rev was not higher than the stored one.
    pub unchanged: u64,
    /// Records refused (first time only; a redelivered bad record counts once).
    pub quarantined: u64,
    /// Unknown kinds skipped.
    pub skipped: u64,
}

impl PageOutcome {
    /// Adds another page's figures.
    pub fn add(&mut self, o: &PageOutcome) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.quarantined += o.quarantined;
        self.skipped += o.skipped;
    }
}
