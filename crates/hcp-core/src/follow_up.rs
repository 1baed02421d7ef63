//! What a hall's follow-up record is on its case: an appeal (申诉) is
//! [`Action::AppealFiled`], a rectification report (整改反馈) is
//! [`Action::RectificationSubmitted`], at the time the hall gives. The one mapping
//! from a hall's record to a case step — the desk's feed and the hub's ingest both
//! take it from here.

use chrono::{DateTime, FixedOffset};

use crate::case::Action;
use crate::wire::{Appeal, Rectification};

/// A hall's appeal or rectification as the step it is on its case.
#[derive(Debug, Clone, PartialEq)]
pub struct HallFollowUp {
    /// The rating whose case it moves.
    pub evaluation_id: String,
    /// When the hall says it happened (申诉时间, 整改反馈时间).
    pub at: DateTime<FixedOffset>,
    /// The step.
    pub action: Action,
}

impl HallFollowUp {
    /// An appeal.
    pub fn of_appeal(a: &Appeal) -> Self {
        Self {
            evaluation_id: a.evaluation_id.clone(),
            at: a.filed_at,
            action: Action::AppealFiled {
                id: a.id.clone(),
                ground: a.ground.clone(),
                by: a.filed_by.clone(),
            },
        }
    }

    /// A rectification report.
    pub fn of_rectification(r: &Rectification) -> Self {
        Self {
            evaluation_id: r.evaluation_id.clone(),
            at: r.submitted_at,
            action: Action::RectificationSubmitted {
                id: r.id.clone(),
                rev: r.rev,
                by: r.responsible.clone(),
            },
        }
    }

    /// From the record exactly as the hall sent it; `kind` is the feed's kind
    /// (`appeal`, `rectification`). `None` for another kind, or a record that no
    /// longer reads.
    pub fn parse(kind: &str, raw: &str) -> Option<Self> {
        match kind {
            "appeal" => Some(Self::of_appeal(&serde_json::from_str(raw).ok()?)),
            "rectification" => Some(Self::of_rectification(&serde_json::from_str(raw).ok()?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_their_steps() {
        let appeal = r#"{"id":"A1","rev":1,"hall_id":"340825-ZWFW","evaluation_id":"E1",
            "filed_at":"2026-10-12T10:00:00+08:00","filed_by":"窗口负责人","ground":"malicious",
            "statement":"","attachments":[]}"#;
        let f = HallFollowUp::parse("appeal", appeal).unwrap();
        assert_eq!(f.evaluation_id, "E1");
        assert_eq!(
            f.action,
            Action::AppealFiled {
                id: "A1".into(),
                ground: "malicious".into(),
                by: "窗口负责人".into()
            }
        );
        assert!(HallFollowUp::parse("evaluation", appeal).is_none());
        assert!(HallFollowUp::parse("appeal", "{").is_none());
    }
}
