//! The mystery-shopper visit (暗访) of DOMAIN.md: versioned checklist templates,
//! the visit's lifecycle and its score. Pure: the store keeps drafts, photos and
//! bundles.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::case::{Actor, Refused};

/// The checklist template new visits and task packages use (the shipped one).
pub const CURRENT_TEMPLATE: &str = "v1";

/// How grave a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 一般.
    General,
    /// 较重.
    Serious,
    /// 严重: any deduction fails the visit.
    Severe,
}

impl Severity {
    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::General => "一般",
            Severity::Serious => "较重",
            Severity::Severe => "严重",
        }
    }
}

/// One thing the shopper checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Stable id within the template, e.g. `1.2`.
    pub id: String,
    /// What is checked.
    pub title: String,
    /// What to look for.
    pub look_for: String,
    /// Points when passed.
    pub weight: u32,
    /// How grave a deduction is.
    pub severity: Severity,
}

/// A section of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistSection {
    /// Stable id, e.g. `1`.
    pub id: String,
    /// 栏目名称.
    pub name: String,
    /// Its items.
    pub items: Vec<ChecklistItem>,
}

/// A versioned checklist template (`assets/checklists/*.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    /// `v1`, `v2`, …: a visit keeps the version it was started with.
    pub version: String,
    /// 模板名称.
    pub name: String,
    /// The sections, in order.
    pub sections: Vec<ChecklistSection>,
}

impl ChecklistTemplate {
    /// The template shipped as v1 (GB/T 36112 and published 暗访 practice).
    pub fn v1() -> Self {
        Self::parse(include_str!("../../../assets/checklists/v1.json"))
            .expect("the shipped checklist template is valid")
    }

    /// The shipped template of a version.
    pub fn builtin(version: &str) -> Option<Self> {
        (version == CURRENT_TEMPLATE).then(Self::v1)
    }

    /// Parses and checks a template: unique item ids, positive weights.
    pub fn parse(json: &str) -> Result<Self, Refused> {
        let t: ChecklistTemplate =
            serde_json::from_str(json).map_err(|e| Refused(format!("检查表模板格式错误：{e}")))?;
        let mut seen = HashSet::new();
        for item in t.items() {
            if !seen.insert(item.id.as_str()) {
                return Err(Refused(format!(
                    "检查表模板中的条目编号 “{}” 重复",
                    item.id
                )));
            }
            if item.weight == 0 {
                return Err(Refused(format!("检查表条目 “{}” 的分值应大于 0", item.id)));
            }
        }
        Ok(t)
    }

    /// Every item, in order.
    pub fn items(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    /// One item.
    pub fn item(&self, id: &str) -> Option<&ChecklistItem> {
        self.items().find(|i| i.id == id)
    }
}

/// The shopper's answer to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Answer {
    /// 符合: full points.
    Pass,
    /// 扣分.
    Deduct {
        /// Points taken off (at most the item's weight).
        points: u32,
    },
    /// 不适用: out of the score.
    NotApplicable,
}

impl Answer {
    /// Checks the answer against its item.
    pub fn check(&self, item: &ChecklistItem) -> Result<(), Refused> {
        if let Answer::Deduct { points } = self
            && (*points == 0 || *points > item.weight)
        {
            return Err(Refused(format!(
                "条目 {} 扣分应为 1–{} 分",
                item.id, item.weight
            )));
        }
        Ok(())
    }
}

/// A visit's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Σ earned over applicable answered items.
    pub earned: u32,
    /// Σ max over applicable answered items.
    pub applicable_max: u32,
    /// Score × 10, rounded half up (one decimal); `None` when nothing applies.
    pub tenths: Option<u32>,
    /// A 严重 item was deducted: the visit fails whatever the score.
    pub severe_failed: bool,
    /// Items answered.
    pub answered: u32,
    /// Items in the template.
    pub total: u32,
}

impl Score {
    /// "92.5", or "—" when nothing applies.
    pub fn display(&self) -> String {
        match self.tenths {
            Some(t) => format!("{}.{}", t / 10, t % 10),
            None => "—".into(),
        }
    }
}

/// Σ earned / Σ applicable max × 100, rounded to one decimal, over the answered
/// items; not-applicable items count in neither sum; any 严重 deduction fails.
pub fn score(template: &ChecklistTemplate, answers: &BTreeMap<String, Answer>) -> Score {
    let mut s = Score {
        earned: 0,
        applicable_max: 0,
        tenths: None,
        severe_failed: false,
        answered: 0,
        total: 0,
    };
    for item in template.items() {
        s.total += 1;
        let Some(a) = answers.get(&item.id) else {
            continue;
        };
        s.answered += 1;
        match a {
            Answer::Pass => {
                s.earned += item.weight;
                s.applicable_max += item.weight;
            }
            Answer::Deduct { points } => {
                s.earned += item.weight - (*points).min(item.weight);
                s.applicable_max += item.weight;
                if item.severity == Severity::Severe {
                    s.severe_failed = true;
                }
            }
            Answer::NotApplicable => {}
        }
    }
    if s.applicable_max > 0 {
        let (e, m) = (u64::from(s.earned), u64::from(s.applicable_max));
        s.tenths = Some(((e * 2000 + m) / (2 * m)) as u32);
    }
    s
}

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitState {
    /// 计划.
    Planned,
    /// 暗访中: the draft is being filled.
    InField,
    /// 已提交.
    Submitted,
    /// 审核通过.
    Accepted,
    /// 已退回: back to the shopper with the officer's comments.
    Returned,
    /// 已办结.
    Closed,
}

impl VisitState {
    /// Every state.
    pub const ALL: [VisitState; 6] = [
        VisitState::Planned,
        VisitState::InField,
        VisitState::Submitted,
        VisitState::Accepted,
        VisitState::Returned,
        VisitState::Closed,
    ];

    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitState::Planned => "planned",
            VisitState::InField => "in_field",
            VisitState::Submitted => "submitted",
            VisitState::Accepted => "accepted",
            VisitState::Returned => "returned",
            VisitState::Closed => "closed",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            VisitState::Planned => "计划",
            VisitState::InField => "暗访中",
            VisitState::Submitted => "已提交",
            VisitState::Accepted => "审核通过",
            VisitState::Returned => "已退回",
            VisitState::Closed => "已办结",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the shopper may still change answers.
    pub fn editable(self) -> bool {
        matches!(
            self,
            VisitState::Planned | VisitState::InField | VisitState::Returned
        )
    }
}

/// What happens to a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitAction {
    /// The shopper changes the draft (an answer, a note, a photo, the times).
    Edit,
    /// The shopper hands it in (every item answered).
    Submit {
        /// Items not answered yet.
        unanswered: u32,
    },
    /// The shopper takes a handed-in visit back to correct it (after the officer
    /// returned it, or before it was reviewed); the next hand-in is a new revision.
    Reopen,
    /// The officer accepts it.
    Accept,
    /// The officer returns it with comments.
    Return {
        /// 退回意见 (required).
        note: String,
    },
    /// The officer closes an accepted visit.
    Close,
}

/// The state after `action` by `actor`, or why not.
pub fn visit_transition(
    state: VisitState,
    action: &VisitAction,
    actor: Actor,
) -> Result<VisitState, Refused> {
    use VisitState as V;
    let wrong_state = || {
        Refused(format!(
            "暗访记录当前为「{}」，不能进行此操作",
            state.label_zh()
        ))
    };
    let only = |who: Actor, what: &str| {
        if actor == who {
            Ok(())
        } else {
            Err(Refused(format!(
                "只有{}可以{what}（当前身份：{}）",
                who.label_zh(),
                actor.label_zh()
            )))
        }
    };
    match action {
        VisitAction::Edit => {
            only(Actor::Shopper, "填写暗访记录")?;
            if !state.editable() {
                return Err(wrong_state());
            }
            Ok(if state == V::Returned {
                V::Returned
            } else {
                V::InField
            })
        }
        VisitAction::Submit { unanswered } => {
            only(Actor::Shopper, "提交暗访记录")?;
            if !matches!(state, V::InField | V::Returned) {
                return Err(wrong_state());
            }
            if *unanswered > 0 {
                return Err(Refused(format!(
                    "还有 {unanswered} 个检查项未填写，填写完才能提交"
                )));
            }
            Ok(V::Submitted)
        }
        VisitAction::Reopen => {
            only(Actor::Shopper, "撤回修改暗访记录")?;
            if !matches!(state, V::Submitted | V::Returned) {
                return Err(wrong_state());
            }
            Ok(V::InField)
        }
        VisitAction::Accept => {
            only(Actor::Officer, "审核暗访记录")?;
            if state != V::Submitted {
                return Err(wrong_state());
            }
            Ok(V::Accepted)
        }
        VisitAction::Return { note } => {
            only(Actor::Officer, "审核暗访记录")?;
            if state != V::Submitted {
                return Err(wrong_state());
            }
            if note.trim().is_empty() {
                return Err(Refused("请填写退回意见".into()));
            }
            Ok(V::Returned)
        }
        VisitAction::Close => {
            only(Actor::Officer, "办结暗访记录")?;
            if state != V::Accepted {
                return Err(wrong_state());
            }
            Ok(V::Closed)
        }
    }
}

/// The visit's header fields the shopper fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "VisitFields.ts"))]
#[serde(default)]
pub struct VisitFields {
    /// 暗访开始时间 (RFC 3339).
    pub started_at: Option<String>,
    /// 暗访结束时间 (RFC 3339).
    pub ended_at: Option<String>,
    /// 观察的窗口号（逗号分隔）.
    pub windows: String,
    /// 观察的工作人员工号（逗号分隔）.
    pub staff: String,
    /// 排队等候（分钟）.
    pub queue_minutes: Option<u32>,
    /// 总体情况.
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, weight: u32, severity: Severity) -> ChecklistItem {
        ChecklistItem {
            id: id.into(),
            title: id.into(),
            look_for: String::new(),
            weight,
            severity,
        }
    }

    fn template() -> ChecklistTemplate {
        ChecklistTemplate {
            version: "t".into(),
            name: "t".into(),
            sections: vec![ChecklistSection {
                id: "1".into(),
                name: "s".into(),
                items: vec![
                    item("a", 5, Severity::General),
                    item("b", 3, Severity::Serious),
                    item("c", 2, Severity::Severe),
                    item("d", 10, Severity::General),
                ],
            }],
        }
    }

    fn answers(list: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn shipped_v1_has_nine_sections_and_about_forty_items() {
        let t = ChecklistTemplate::v1();
        assert_eq!(t.version, "v1");
        assert_eq!(t.sections.len(), 9);
        let n = t.items().count();
        assert!((36..=44).contains(&n), "{n} items");
        assert!(t.items().any(|i| i.severity == Severity::Severe));
        assert!(t.items().all(|i| !i.look_for.is_empty()));
    }

    #[test]
    fn not_applicable_items_leave_both_sums() {
        let s = score(
            &template(),
            &answers(&[
                ("a", Answer::Pass),
                ("b", Answer::Deduct { points: 1 }),
                ("c", Answer::Pass),
                ("d", Answer::NotApplicable),
            ]),
        );
        // (5 + 2 + 2) / (5 + 3 + 2) = 90.0
        assert_eq!((s.earned, s.applicable_max), (9, 10));
        assert_eq!(s.display(), "90.0");
        assert!(!s.severe_failed);
        assert_eq!((s.answered, s.total), (4, 4));
    }

    #[test]
    fn rounds_to_one_decimal_half_up() {
        // 14 / 15 = 93.333… → 93.3; 19/20… use 2/3 = 66.666… → 66.7
        let s = score(
            &template(),
            &answers(&[("a", Answer::Pass), ("d", Answer::Deduct { points: 1 })]),
        );
        assert_eq!(s.display(), "93.3");
        let s = score(
            &template(),
            &answers(&[("b", Answer::Deduct { points: 1 })]),
        );
        assert_eq!(s.display(), "66.7");
        // 0.05 exactly: 399/400 … with weights 5+3+2+10 = 20: 19.99 is not
        // reachable; check half-up with 1/8 = 12.5 → "12.5" (exact).
        let s = score(
            &template(),
            &answers(&[
                ("a", Answer::Deduct { points: 5 }),
                ("b", Answer::Deduct { points: 2 }),
            ]),
        );
        assert_eq!(s.display(), "12.5");
    }

    #[test]
    fn a_severe_deduction_fails_whatever_the_score() {
        let s = score(
            &template(),
            &answers(&[
                ("a", Answer::Pass),
                ("b", Answer::Pass),
                ("c", Answer::Deduct { points: 1 }),
                ("d", Answer::Pass),
            ]),
        );
        assert_eq!(s.display(), "95.0");
        assert!(s.severe_failed);
    }

    #[test]
    fn nothing_applicable_has_no_score() {
        let s = score(&template(), &answers(&[("a", Answer::NotApplicable)]));
        assert_eq!(s.tenths, None);
        assert_eq!(s.display(), "—");
    }

    #[test]
    fn deductions_stay_within_the_weight() {
        let t = template();
        let a = t.item("a").unwrap();
        assert!(Answer::Deduct { points: 6 }.check(a).is_err());
        assert!(Answer::Deduct { points: 0 }.check(a).is_err());
        assert!(Answer::Deduct { points: 5 }.check(a).is_ok());
    }

    #[test]
    fn templates_with_duplicate_ids_are_refused() {
        let mut t = template();
        t.sections[0].items.push(item("a", 1, Severity::General));
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            ChecklistTemplate::parse(&json)
                .unwrap_err()
                .0
                .contains("重复")
        );
    }

    #[test]
    fn every_transition_and_its_refusals() {
        use VisitState as V;
        let s = Actor::Shopper;
        let o = Actor::Officer;
        let t = |st, a: VisitAction, who| visit_transition(st, &a, who);
        assert_eq!(t(V::Planned, VisitAction::Edit, s), Ok(V::InField));
        assert_eq!(t(V::Returned, VisitAction::Edit, s), Ok(V::Returned));
        assert!(t(V::Submitted, VisitAction::Edit, s).is_err());
        assert!(t(V::InField, VisitAction::Edit, o).is_err());
        assert!(
            t(V::InField, VisitAction::Submit { unanswered: 2 }, s)
                .unwrap_err()
                .0
                .contains("2 个检查项")
        );
        assert_eq!(
            t(V::InField, VisitAction::Submit { unanswered: 0 }, s),
            Ok(V::Submitted)
        );
        assert_eq!(
            t(V::Returned, VisitAction::Submit { unanswered: 0 }, s),
            Ok(V::Submitted)
        );
        assert!(t(V::Planned, VisitAction::Submit { unanswered: 0 }, s).is_err());
        assert_eq!(t(V::Submitted, VisitAction::Accept, o), Ok(V::Accepted));
        assert!(t(V::Submitted, VisitAction::Accept, s).is_err());
        assert!(t(V::Submitted, VisitAction::Accept, Actor::Director).is_err());
        assert!(t(V::InField, VisitAction::Accept, o).is_err());
        assert!(
            t(V::Submitted, VisitAction::Return { note: " ".into() }, o)
                .unwrap_err()
                .0
                .contains("退回意见")
        );
        assert_eq!(
            t(
                V::Submitted,
                VisitAction::Return {
                    note: "补照片".into()
                },
                o
            ),
            Ok(V::Returned)
        );
        assert_eq!(t(V::Submitted, VisitAction::Reopen, s), Ok(V::InField));
        assert_eq!(t(V::Returned, VisitAction::Reopen, s), Ok(V::InField));
        assert!(t(V::Accepted, VisitAction::Reopen, s).is_err());
        assert!(t(V::Submitted, VisitAction::Reopen, o).is_err());
        assert_eq!(t(V::Accepted, VisitAction::Close, o), Ok(V::Closed));
        assert!(t(V::Submitted, VisitAction::Close, o).is_err());
        assert!(t(V::Closed, VisitAction::Edit, s).is_err());
    }
}
