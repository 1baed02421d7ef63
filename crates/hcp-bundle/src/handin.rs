//! The hand-in bundle (`.hcpv`): a submitted visit with its answers and photos,
//! signed by the shopper's installation. Its document and the checks any reader
//! makes before trusting it — an officer's desk and the office hub alike.

use hcp_core::visit::{Answer, ChecklistTemplate, VisitFields};
use serde::{Deserialize, Serialize};

use crate::keys::fingerprint;
use crate::{BundleError, Result};

fn refused(msg: String) -> BundleError {
    BundleError::Refused(msg)
}

/// The hand-in bundle format this build writes and reads (see [`crate::signed`]).
pub const BUNDLE_FORMAT: &str = "hcpv/1";

/// The bundle's visit document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleVisit {
    pub format: String,
    pub visit_id: String,
    pub rev: i64,
    pub hall_id: String,
    pub template_version: String,
    pub shopper: String,
    pub fields: VisitFields,
    pub submitted_at: Option<String>,
    pub answers: Vec<BundleAnswer>,
    pub photos: Vec<BundlePhoto>,
}

/// One answer in the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleAnswer {
    pub item_id: String,
    pub answer: Option<Answer>,
    pub note: String,
}

/// One photo in the document (the file is `photos/<sha256>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundlePhoto {
    pub item_id: String,
    pub sha256: String,
    pub file_name: String,
    pub exif_time: Option<String>,
    pub size: i64,
}

/// A hand-in bundle that passed every check needing no cache.
pub struct CheckedHandin {
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
    pub doc: BundleVisit,
    pub signer_hex: String,
    pub fingerprint: String,
}

/// What a hand-in bundle is, once it passed every check an officer's desk makes
/// that needs no cache: both signatures, every file's sum, the ids, the checklist
/// template, every answer and photo. The office hub checks uploads with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandinInfo {
    /// The visit (UUID).
    pub visit_id: String,
    /// Its hand-in revision.
    pub rev: i64,
    /// The visited hall.
    pub hall_id: String,
    /// The signer's public key (64 hex digits).
    pub signer_key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The shopper's name as the bundle states it (not proof of anything).
    pub shopper: String,
}

/// The most a hand-in's files may hold in all when the hub checks an upload: a
/// visit's photos are a few dozen phone pictures of a few MB each.
pub const HANDIN_MAX_TOTAL: u64 = 256 * 1024 * 1024;

/// Checks a hand-in bundle without a cache (see [`HandinInfo`]). Only `visit.json`
/// is kept in memory: photos are hashed while they are decompressed, and the
/// bundle is refused as soon as its files pass [`HANDIN_MAX_TOTAL`], so a crafted
/// bundle costs a few blocks of memory, not what it inflates to.
pub fn inspect_handin(bytes: &[u8]) -> Result<HandinInfo> {
    let c = check_handin_with(bytes, &|p| p == "visit.json", HANDIN_MAX_TOTAL)?;
    Ok(HandinInfo {
        visit_id: c.doc.visit_id,
        rev: c.doc.rev,
        hall_id: c.doc.hall_id,
        signer_key: c.signer_hex,
        fingerprint: c.fingerprint,
        shopper: c.doc.shopper,
    })
}

pub fn check_handin(bytes: &[u8]) -> Result<CheckedHandin> {
    check_handin_with(bytes, &|_| true, crate::signed::MAX_TOTAL_BYTES)
}

/// [`check_handin`] keeping only the files `keep` names (see
/// [`crate::signed::check_signed`]); every file's sum is checked either way.
pub fn check_handin_with(
    bytes: &[u8],
    keep: &dyn Fn(&str) -> bool,
    max_total: u64,
) -> Result<CheckedHandin> {
    let bad = |why: &str| refused(format!("交件文件无效，未导入任何内容：{why}"));
    let opened = crate::signed::check_signed(bytes, BUNDLE_FORMAT, "交件文件", keep, max_total)?;
    let fingerprint = fingerprint(&opened.signer);
    let signer_hex = opened.signer_hex();
    let listed = opened.listed;
    let files = opened.files;
    let doc: BundleVisit = serde_json::from_slice(
        files
            .get("visit.json")
            .ok_or_else(|| bad("缺少 visit.json"))?,
    )
    .map_err(|_| bad("visit.json 无法解析"))?;
    if doc.format != BUNDLE_FORMAT || doc.rev < 1 {
        return Err(bad("visit.json 格式不对"));
    }
    // Identifiers become file names and queries later: check them here.
    hcp_core::ident::check_visit_id(&doc.visit_id).map_err(|e| bad(&e.to_string()))?;
    hcp_core::ident::check_hall_id(&doc.hall_id).map_err(|e| bad(&e.to_string()))?;
    let template = ChecklistTemplate::builtin(&doc.template_version).ok_or_else(|| {
        bad(&format!(
            "没有版本为 “{}” 的检查表模板",
            hcp_core::ident::printable(&doc.template_version)
        ))
    })?;
    for a in &doc.answers {
        let item = template.item(&a.item_id).ok_or_else(|| {
            bad(&format!(
                "检查表中没有条目 “{}”",
                hcp_core::ident::printable(&a.item_id)
            ))
        })?;
        if let Some(ans) = &a.answer {
            ans.check(item).map_err(|r| bad(&r.0))?;
        }
    }
    for p in &doc.photos {
        // Its sum was checked against the signed manifest while it was read.
        let sum = listed.get(&format!("photos/{}", p.sha256)).ok_or_else(|| {
            bad(&format!(
                "缺少照片 {}",
                hcp_core::ident::printable(&p.sha256)
            ))
        })?;
        if *sum != p.sha256 {
            return Err(bad("照片与其摘要不符"));
        }
    }
    Ok(CheckedHandin {
        files,
        doc,
        signer_hex,
        fingerprint,
    })
}
