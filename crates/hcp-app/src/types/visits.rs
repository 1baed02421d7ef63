//! Mystery-shopper visits: drafts, answers, photos, reviews, task packages, keys and the checklist.

use super::*;

/// Which visit.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitIdArgs.ts")]
pub struct VisitIdArgs {
    /// Visit id.
    pub visit_id: String,
}

/// Visits of one hall or all.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "VisitListArgs.ts")]
pub struct VisitListArgs {
    /// One hall.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// A new visit.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "NewVisitArgs.ts")]
pub struct NewVisitArgs {
    /// The hall to visit.
    pub hall_id: String,
    /// Checklist template version (default v1).
    #[serde(default)]
    pub template_version: Option<String>,
}

/// One item's answer and note, saved at once.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitAnswerArgs.ts")]
pub struct VisitAnswerArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// pass | deduct | not_applicable; `null` leaves the answer as it is; `clear`
    /// removes it.
    #[serde(default)]
    pub result: Option<String>,
    /// Points deducted (with `deduct`).
    #[serde(default)]
    pub points: Option<u32>,
    /// The note; `null` leaves it as it is.
    #[serde(default)]
    pub note: Option<String>,
}

/// Header fields.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitFieldsArgs.ts")]
pub struct VisitFieldsArgs {
    /// Visit id.
    pub visit_id: String,
    /// The fields.
    pub fields: hcp_store::VisitFields,
}

/// A photo for an item.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitPhotoArgs.ts")]
pub struct VisitPhotoArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// The file's name.
    pub file_name: String,
    /// The bytes, base64.
    pub data_base64: String,
}

/// A photo of an item, to take off.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitPhotoRefArgs.ts")]
pub struct VisitPhotoRefArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// The photo's content address.
    pub sha256: String,
}

/// The officer's review.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitReviewArgs.ts")]
pub struct VisitReviewArgs {
    /// Visit id.
    pub visit_id: String,
    /// Accept (true) or return (false).
    pub accept: bool,
    /// 审核意见 (required to return).
    #[serde(default)]
    pub note: String,
    /// Deducted items to open rectification tasks for (absent: all).
    #[serde(default)]
    pub findings: Option<Vec<String>>,
    /// Comments per checklist item (item id → comment), for the shopper.
    #[serde(default)]
    pub item_comments: std::collections::BTreeMap<String, String>,
}

/// `export_task_package`: the halls to visit, when, with which checklist.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TaskPackageArgs.ts")]
pub struct TaskPackageArgs {
    /// The halls (with optional planned dates).
    pub halls: Vec<hcp_store::TaskHall>,
    /// Checklist version (default v1).
    #[serde(default)]
    pub template_version: Option<String>,
    /// 任务说明.
    #[serde(default)]
    pub note: String,
}

/// A bundle's bytes to import.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ImportVisitArgs.ts")]
pub struct ImportVisitArgs {
    /// The file (`.hcpv`, `.hcpt` or `.hcpr`), base64.
    pub data_base64: String,
}

/// A photo to show.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "PhotoArgs.ts")]
pub struct PhotoArgs {
    /// Content address.
    pub sha256: String,
    /// The thumbnail instead of the photo.
    #[serde(default)]
    pub thumbnail: bool,
}

/// A trusted key to revoke.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "RevokeKeyArgs.ts")]
pub struct RevokeKeyArgs {
    /// Its public key (hex) or fingerprint.
    pub key: String,
}

/// A shopper's key to trust.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TrustKeyArgs.ts")]
pub struct TrustKeyArgs {
    /// The public key (hex).
    pub public_key: String,
    /// Whose.
    pub name: String,
}

/// Which checklist template.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "TemplateArgs.ts")]
pub struct TemplateArgs {
    /// Its version; the current one when `null`.
    #[serde(default)]
    pub version: Option<String>,
}

/// A checklist template for the form.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "TemplateView.ts")]
pub struct TemplateView {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// Sections: (id, name, item ids).
    pub sections: Vec<TemplateSection>,
}

/// A section of a template.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "TemplateSection.ts")]
pub struct TemplateSection {
    /// Id.
    pub id: String,
    /// 栏目名称.
    pub name: String,
    /// Its item ids, in order.
    pub items: Vec<String>,
}
