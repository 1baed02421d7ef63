//! What a case step writes, decided once for both stores. The desk's SQLite cache
//! and the office hub's PostgreSQL each find the records a step refers to, ask
//! this module what to write, and persist the answer through
//! [`CaseRepository`]: the case row, its timeline entry (with what it signs), the
//! decisions for the hall, and the effects beyond the case (a rating leaving the
//! figures, a rater marked malicious and their other open cases flagged).
//! Opening a case, a hall record meeting its case and the replay of records that
//! came before their case are decided here too.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::rules::CaseRules;
use super::{Action, Actor, Case, DecisionOut, Effect, RefersTo, Signs, Transition};
use crate::follow_up::HallFollowUp;
use crate::wire::Decision;

/// The name automatic steps (opening a case, a revised rating closing it) are
/// signed with, on the timeline and in the decisions the hall receives.
pub const SYSTEM_NAME: &str = "督查台（自动）";

/// The timeline role of automatic steps.
pub const SYSTEM_ROLE: &str = "system";

/// The opening entry's sentence.
pub const OPENED: &str = "收到差评，自动生成工单";

/// The opening entry's sentence when the rater was marked malicious before.
pub const OPENED_FLAGGED: &str =
    "收到差评，自动生成工单（评价人已被标记为恶意评价人员，请注意甄别）";

/// What an upheld malicious-rating appeal adds to its entry when the rater is known.
pub const RATER_MARKED: &str = "评价人被标记为恶意评价人员，其后续差评将提示甄别";

/// Kind of a case about a rating (the hall hears of it); the other kind is a
/// mystery shopper's finding (`visit_finding`), which the hall's API knows nothing of.
pub const BAD_RATING: &str = "bad_rating";

/// Who a timeline entry and the decisions are signed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer<'a> {
    /// A person's name, a hall's code, or [`SYSTEM_NAME`].
    pub name: &'a str,
    /// officer | director | hall | system.
    pub role: &'a str,
}

impl<'a> Signer<'a> {
    /// Automatic steps.
    pub const SYSTEM: Signer<'static> = Signer {
        name: SYSTEM_NAME,
        role: SYSTEM_ROLE,
    };

    /// A hall, through a record of its feed.
    pub fn hall(hall_id: &'a str) -> Signer<'a> {
        Signer {
            name: hall_id,
            role: Actor::Hall.as_str(),
        }
    }

    /// A person acting in a role.
    pub fn person(name: &'a str, actor: Actor) -> Signer<'a> {
        Signer {
            name,
            role: actor.as_str(),
        }
    }
}

/// A stored case, as a step needs it (and as it is after a step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseHead {
    /// The store's case number.
    pub case_id: i64,
    /// [`BAD_RATING`] or `visit_finding`.
    pub kind: String,
    /// 大厅编码.
    pub hall_id: String,
    /// The rating (or the finding's key).
    pub evaluation_id: String,
    /// The case.
    pub case: Case,
    /// Its version (every timeline entry is one).
    pub version: i64,
}

impl CaseHead {
    /// The same case as `case`, one version on.
    fn after(&self, case: Case) -> CaseHead {
        CaseHead {
            case_id: self.case_id,
            kind: self.kind.clone(),
            hall_id: self.hall_id.clone(),
            evaluation_id: self.evaluation_id.clone(),
            case,
            version: self.version + 1,
        }
    }
}

/// A hall record a step refers to: its id and its JSON as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's id.
    pub id: String,
    /// Its raw JSON (what a signature covers).
    pub raw: String,
}

/// What a store must look up before a step's writes can be decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lookups {
    /// The latest rectification of the rating.
    pub rectification: bool,
    /// The latest appeal against it.
    pub appeal: bool,
    /// The rating's raw JSON.
    pub evaluation: bool,
    /// The rater's id hash.
    pub rater: bool,
}

/// What the store found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The latest rectification.
    pub rectification: Option<Record>,
    /// The latest appeal.
    pub appeal: Option<Record>,
    /// The rating's raw JSON.
    pub evaluation: Option<String>,
    /// The rater's id hash (`None`: anonymous).
    pub rater: Option<String>,
}

impl Transition {
    /// What to look up for its writes.
    pub fn lookups(&self) -> Lookups {
        Lookups {
            rectification: self.needs(RefersTo::LatestRectification),
            appeal: self.needs(RefersTo::LatestAppeal),
            evaluation: self.signs == Signs::Evaluation,
            rater: self.effects.contains(&Effect::MarkEvaluatorMalicious),
        }
    }
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// The case's version this entry makes.
    pub version: i64,
    /// Who.
    pub actor: String,
    /// Their role.
    pub role: String,
    /// What (`case_opened`, `verified`, `hall_record_refused`, …).
    pub event: String,
    /// The state before (`None` for the opening).
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// The zh-CN sentence.
    pub summary: String,
    /// The officer's note.
    pub note: Option<String>,
    /// sha256 of the record the entry signs.
    pub signed_sha256: Option<String>,
    /// The outcome code (callback result, appeal verdict) for reports.
    pub outcome: Option<String>,
    /// When it happened (the rating's time for an opening).
    pub acted_at: DateTime<FixedOffset>,
}

/// Everything one step writes, as plain data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseWrites {
    /// The case after the step, with its new version (case number 0 for a case
    /// being opened: the store assigns it).
    pub after: CaseHead,
    /// The timeline entry.
    pub entry: TimelineEntry,
    /// Decisions for the hall, in order.
    pub decisions: Vec<Decision>,
    /// 申诉成立: the rating leaves every figure.
    pub exclude_rating: bool,
    /// A rater found malicious (their id hash): marked, and their other open
    /// cases flagged for scrutiny.
    pub mark_rater: Option<String>,
}

/// The one place a case step is persisted: the desk's cache and the hub's
/// database each implement it. `persist` writes all of `w` (in the caller's
/// transaction) or fails.
pub trait CaseRepository {
    /// The store's error.
    type Error;
    /// Writes the case row, its entry, its decisions and its effects.
    fn persist(&mut self, w: &CaseWrites) -> Result<(), Self::Error>;
}

/// sha256 of a record as received, hex.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn wire(
    d: &DecisionOut,
    head: &CaseHead,
    ref_id: Option<String>,
    at: DateTime<FixedOffset>,
    by: &str,
) -> Option<Decision> {
    // hall-api decisions are about ratings; a visit finding has none.
    (head.kind == BAD_RATING).then(|| {
        d.to_wire(
            uuid::Uuid::new_v4().to_string(),
            &head.evaluation_id,
            ref_id,
            at,
            by,
        )
    })
}

/// The writes of `t` on `head`, made by `by` at `at`; `hall_record` is the raw
/// hall record that caused it (signed when the transition signs it), `found`
/// what the store looked up for [`Transition::lookups`].
pub fn step_writes(
    head: &CaseHead,
    t: Transition,
    found: &Found,
    by: Signer<'_>,
    hall_record: Option<&str>,
    at: DateTime<FixedOffset>,
) -> CaseWrites {
    let record = |kind: RefersTo| match kind {
        RefersTo::LatestRectification => found.rectification.as_ref(),
        RefersTo::LatestAppeal => found.appeal.as_ref(),
        RefersTo::Evaluation => None,
    };
    let signed = match t.signs {
        Signs::Nothing => None,
        Signs::HallRecord => hall_record.map(sha256_hex),
        Signs::Evaluation => found.evaluation.as_deref().map(sha256_hex),
        Signs::LatestRectification => {
            record(RefersTo::LatestRectification).map(|r| sha256_hex(&r.raw))
        }
        Signs::LatestAppeal => record(RefersTo::LatestAppeal).map(|r| sha256_hex(&r.raw)),
    };
    let decisions = t
        .decisions
        .iter()
        .filter_map(|d| {
            let ref_id = record(d.refers_to).map(|r| r.id.clone());
            wire(d, head, ref_id, at, by.name)
        })
        .collect();
    let mark_rater = if t.effects.contains(&Effect::MarkEvaluatorMalicious) {
        found.rater.clone()
    } else {
        None
    };
    let summary = match mark_rater {
        Some(_) => format!("{}；{RATER_MARKED}", t.summary),
        None => t.summary.clone(),
    };
    let version = head.version + 1;
    CaseWrites {
        entry: TimelineEntry {
            version,
            actor: by.name.to_owned(),
            role: by.role.to_owned(),
            event: t.event.to_owned(),
            from: Some(head.case.state.as_str().to_owned()),
            to: t.case.state.as_str().to_owned(),
            summary,
            note: t.note.clone(),
            signed_sha256: signed,
            outcome: t
                .decisions
                .first()
                .and_then(|d| d.outcome)
                .map(str::to_owned),
            acted_at: at,
        },
        decisions,
        exclude_rating: t.effects.contains(&Effect::ExcludeEvaluation),
        mark_rater,
        after: head.after(t.case),
    }
}

/// A hall record the case refused, kept on the timeline (its own version, the
/// state unchanged) so the officer sees what the hall tried.
pub fn refusal_writes(
    head: &CaseHead,
    action: &Action,
    refused: &str,
    raw: &str,
    at: DateTime<FixedOffset>,
) -> CaseWrites {
    let summary = super::hall_record_summary(action).unwrap_or_default();
    let state = head.case.state.as_str().to_owned();
    let after = head.after(head.case.clone());
    CaseWrites {
        entry: TimelineEntry {
            version: after.version,
            actor: head.hall_id.clone(),
            role: Actor::Hall.as_str().to_owned(),
            event: "hall_record_refused".into(),
            from: Some(state.clone()),
            to: state,
            summary: format!("{summary}；未受理：{refused}"),
            note: None,
            signed_sha256: Some(sha256_hex(raw)),
            outcome: None,
            acted_at: at,
        },
        decisions: vec![],
        exclude_rating: false,
        mark_rater: None,
        after,
    }
}

/// The case a new bad rating opens: its first entry (at the rating's time, the
/// deadlines count from it) and the `case_opened` decision for the hall. The
/// store assigns the case number; `flagged` says the rater was marked before.
pub fn opening_writes(
    hall_id: &str,
    evaluation_id: &str,
    evaluated_at: DateTime<FixedOffset>,
    flagged: bool,
    now: DateTime<FixedOffset>,
) -> CaseWrites {
    let after = CaseHead {
        case_id: 0,
        kind: BAD_RATING.into(),
        hall_id: hall_id.to_owned(),
        evaluation_id: evaluation_id.to_owned(),
        case: Case::open(evaluated_at),
        version: 1,
    };
    let opened = DecisionOut {
        kind: "case_opened",
        refers_to: RefersTo::Evaluation,
        outcome: None,
        note: "已生成差评工单".into(),
    };
    CaseWrites {
        entry: TimelineEntry {
            version: 1,
            actor: SYSTEM_NAME.into(),
            role: SYSTEM_ROLE.into(),
            event: "case_opened".into(),
            from: None,
            to: after.case.state.as_str().to_owned(),
            summary: if flagged { OPENED_FLAGGED } else { OPENED }.into(),
            note: None,
            signed_sha256: None,
            outcome: None,
            acted_at: evaluated_at,
        },
        decisions: wire(&opened, &after, None, now, SYSTEM_NAME)
            .into_iter()
            .collect(),
        exclude_rating: false,
        mark_rater: None,
        after,
    }
}

/// What a step from the hall's feed does to a case.
#[derive(Debug, Clone, PartialEq)]
pub enum HallOutcome {
    /// Nothing (the case is already there, or a revision no longer applies).
    Unchanged,
    /// The case moves.
    Moves(Box<Transition>),
    /// The case refuses the hall's record (zh-CN reason); it goes on the timeline.
    Refused(String),
}

/// A step the hall's feed brings: an appeal or rectification (with its raw
/// record), or the rating no longer being bad (no record).
#[derive(Debug, Clone, PartialEq)]
pub struct HallStep {
    /// The rating.
    pub evaluation_id: String,
    /// What it does.
    pub action: Action,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// The record as received (signed on the timeline); `None` for a revision.
    pub raw: Option<String>,
}

impl HallStep {
    /// The step of an appeal or rectification as the hall sent it (`None` for
    /// another kind, or a record that no longer reads).
    pub fn follow_up(kind: &str, raw: String) -> Option<HallStep> {
        let HallFollowUp {
            evaluation_id,
            at,
            action,
        } = HallFollowUp::parse(kind, &raw)?;
        Some(HallStep {
            evaluation_id,
            action,
            at,
            raw: Some(raw),
        })
    }

    /// The step of a record already read.
    pub fn of(f: HallFollowUp, raw: &str) -> HallStep {
        HallStep {
            evaluation_id: f.evaluation_id,
            action: f.action,
            at: f.at,
            raw: Some(raw.to_owned()),
        }
    }

    /// A revised (still rated, now not bad) or withdrawn rating, noticed at `now`.
    pub fn no_longer_bad(
        evaluation_id: &str,
        withdrawn: bool,
        level: u8,
        now: DateTime<FixedOffset>,
    ) -> HallStep {
        HallStep {
            evaluation_id: evaluation_id.to_owned(),
            action: Action::EvaluationNoLongerBad {
                how: if withdrawn { "withdrawn" } else { "revised" }.into(),
                level,
            },
            at: now,
            raw: None,
        }
    }

    /// Who signs it: the hall for its record, the system for a revision.
    pub fn signer<'a>(&self, hall_id: &'a str) -> Signer<'a> {
        match self.raw {
            Some(_) => Signer::hall(hall_id),
            None => Signer::SYSTEM,
        }
    }

    /// What it does to `case` of `hall_id`. Only a hall's own record is shown
    /// refused; a revision that no longer applies (the case closed meanwhile)
    /// changes nothing.
    pub fn outcome(&self, case: &Case, hall_id: &str, rules: &CaseRules) -> HallOutcome {
        match case.apply(
            &self.action,
            Actor::Hall,
            self.at,
            &rules.calendar,
            &rules.policy(hall_id),
        ) {
            Ok(t) if t.case == *case => HallOutcome::Unchanged,
            Ok(t) => HallOutcome::Moves(Box::new(t)),
            Err(refused) if self.raw.is_some() => HallOutcome::Refused(refused.to_string()),
            Err(_) => HallOutcome::Unchanged,
        }
    }

    /// The writes of this step's `outcome` on `head` (`None`: nothing to
    /// write), given what the store found for [`HallOutcome::lookups`].
    pub fn writes(
        &self,
        head: &CaseHead,
        outcome: HallOutcome,
        found: &Found,
    ) -> Option<CaseWrites> {
        let hall = head.hall_id.as_str();
        match outcome {
            HallOutcome::Unchanged => None,
            HallOutcome::Moves(t) => Some(step_writes(
                head,
                *t,
                found,
                self.signer(hall),
                self.raw.as_deref(),
                self.at,
            )),
            HallOutcome::Refused(why) => {
                let raw = self.raw.as_deref().unwrap_or_default();
                Some(refusal_writes(head, &self.action, &why, raw, self.at))
            }
        }
    }
}

impl HallOutcome {
    /// What to look up before its writes (nothing unless the case moves).
    pub fn lookups(&self) -> Lookups {
        match self {
            HallOutcome::Moves(t) => t.lookups(),
            _ => Lookups::default(),
        }
    }
}

/// Appeals and rectifications that arrived before their case (the rating was
/// revised down to bad later, or they came first), as steps to replay when the
/// case opens: in the hall's feed order. Each item is (feed position, kind, raw).
pub fn early_steps(mut records: Vec<(i64, String, String)>) -> Vec<HallStep> {
    records.sort_by_key(|r| r.0);
    records
        .into_iter()
        .filter_map(|(_, kind, raw)| HallStep::follow_up(&kind, raw))
        .collect()
}

impl Action {
    /// An officer's (or director's) own action, as a desk may send it; what a
    /// hall does comes only from its feed.
    pub fn is_officers(&self) -> bool {
        !matches!(
            self,
            Action::RectificationSubmitted { .. }
                | Action::AppealFiled { .. }
                | Action::EvaluationNoLongerBad { .. }
        )
    }
}
