//! The inbox's tabs: which states each shows.

use super::*;

/// A tab of the case inbox: a name and the states it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTab {
    /// The tab's key (`todo`, a state, `closed`).
    pub key: &'static str,
    /// 中文名 (全部待办, a state's name, 已办结).
    pub label_zh: &'static str,
    /// Whether it lists closed cases (no deadlines to warn about).
    pub closed: bool,
    /// The states it lists.
    pub states: Vec<CaseState>,
}

/// The case inbox's tabs, in order: all open work, each open state, then closed.
pub fn case_tabs() -> Vec<CaseTab> {
    use CaseState as S;
    let mut tabs = vec![CaseTab {
        key: "todo",
        label_zh: "全部待办",
        closed: false,
        states: S::ALL.into_iter().filter(|s| !s.is_closed()).collect(),
    }];
    for s in [
        S::Open,
        S::AwaitingSignoff,
        S::Rectifying,
        S::UnderAppeal,
        S::AwaitingCallback,
        S::Explained,
        S::AppealWindow,
    ] {
        tabs.push(CaseTab {
            key: s.as_str(),
            label_zh: s.label_zh(),
            closed: false,
            states: vec![s],
        });
    }
    tabs.push(CaseTab {
        key: "closed",
        label_zh: "已办结",
        closed: true,
        states: S::ALL.into_iter().filter(|s| s.is_closed()).collect(),
    });
    tabs
}
