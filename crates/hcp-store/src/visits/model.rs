//! What the store hands out about visits: the form's fields and items, the list
//! rows, one visit's page, photos, keys and the outcome of a hand-in. Plain data;
//! the code that fills them is in the sibling modules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use hcp_core::visit::VisitFields;

/// One checklist item with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitItemView.ts")]
pub struct VisitItemView {
    /// Item id.
    pub item_id: String,
    /// Its section's name.
    pub section: String,
    /// What is checked.
    pub title: String,
    /// What to look for.
    pub look_for: String,
    /// Points.
    pub weight: u32,
    /// general | serious | severe.
    pub severity: String,
    /// pass | deduct | not_applicable, or none yet.
    pub result: Option<String>,
    /// Points deducted.
    pub deducted: Option<u32>,
    /// The shopper's note.
    pub note: String,
    /// Evidence.
    pub photos: Vec<VisitPhoto>,
    /// The officer's comment on this item in the last review, if any.
    pub review_comment: Option<String>,
}

/// A visit as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitRow.ts")]
pub struct VisitRow {
    /// Visit id (UUID, made on the shopper's installation).
    pub visit_id: String,
    /// The visited hall.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// Checklist template version.
    pub template_version: String,
    /// State (storage name).
    pub state: String,
    /// Hand-in revision (0 until first submitted).
    pub rev: i64,
    /// The revision last exported or uploaded from this desk (`None`: never).
    pub exported_rev: Option<i64>,
    /// 暗访员 (`None` for viewers who must not see it).
    pub shopper: Option<String>,
    /// `local` (filled here) or `imported` (from a bundle).
    pub origin: String,
    /// Fingerprint of the key an imported bundle was signed with.
    pub signer: Option<String>,
    /// Header fields.
    pub fields: VisitFields,
    /// The officer's comments.
    pub review_note: Option<String>,
    /// Who reviewed it last (the officer; on a shopper's laptop, the name of the
    /// key the review was signed with).
    pub reviewed_by: Option<String>,
    /// The hand-in revision the last review was about.
    pub review_rev: Option<i64>,
    /// When it was reviewed (UTC).
    pub reviewed_at: Option<String>,
    /// "92.5" or "—".
    pub score: String,
    /// A 严重 item was deducted: 不合格.
    pub severe_failed: bool,
    /// Items answered.
    pub answered: u32,
    /// Items in the template.
    pub total: u32,
    /// Last change (UTC).
    pub updated_at: String,
}

/// A visit with every item.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "VisitDetail.ts")]
pub struct VisitDetail {
    /// The header.
    pub visit: VisitRow,
    /// Every item of its template, in order, with answers.
    pub items: Vec<VisitItemView>,
    /// Rectification tasks opened from its findings.
    pub finding_cases: Vec<i64>,
}

/// An officer's review of a handed-in visit.
#[derive(Debug, Clone, Copy)]
pub struct VisitReview<'a> {
    /// 审核通过 (else 退回).
    pub accept: bool,
    /// The overall opinion (required when returning).
    pub note: &'a str,
    /// On acceptance: the deducted items that become rectification tasks (all
    /// when `None`).
    pub findings: Option<&'a [String]>,
    /// Comments per checklist item (item id → comment), shown to the shopper
    /// beside the items.
    pub item_comments: &'a BTreeMap<String, String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportOutcome.ts")]
pub struct ImportOutcome {
    /// The visit.
    pub visit_id: String,
    /// Its revision.
    pub rev: i64,
    /// `new`, `replaced` (a newer revision) or `unchanged` (already had it).
    pub status: String,
    /// Photos added to the store.
    pub photos_added: u32,
}

/// An installation's signing key as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "KeyInfo.ts")]
pub struct KeyInfo {
    /// Short fingerprint, e.g. `3F2A-91C0-77DE-0B14`.
    pub fingerprint: String,
    /// The public key (hex), to hand to an officer.
    pub public_key: String,
    /// Who it belongs to (for trusted keys).
    pub name: String,
    /// When its trust was revoked (UTC); its bundles are refused from then on.
    pub revoked_at: Option<String>,
}

/// A photo on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "VisitPhoto.ts")]
pub struct VisitPhoto {
    /// Content address.
    pub sha256: String,
    /// The file's name when attached.
    pub file_name: String,
    /// EXIF DateTimeOriginal, as written in the photo, when present.
    pub exif_time: Option<String>,
    /// Size in bytes.
    pub size: i64,
}
