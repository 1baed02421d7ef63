//! Where a case stands and who acts: the states, the roles, the appeal grounds.

use super::*;

/// The closed states as an SQL list literal, for `concat!` into the store's
/// queries (`state NOT IN …`); a test holds it to [`CaseState::is_closed`].
#[macro_export]
macro_rules! closed_states_sql {
    () => {
        "('closed', 'closed_escalated', 'closed_appealed', 'closed_revised')"
    };
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待核实.
    Open,
    /// 整改中 (also after a return or a reopening).
    Rectifying,
    /// 待验收: the hall submitted a rectification.
    AwaitingSignoff,
    /// 核实为不属实/误评: the hall may appeal within the filing window.
    AppealWindow,
    /// 解释说明: no legal basis; explained to the citizen, awaiting the callback.
    Explained,
    /// 待回访: the rectification was accepted.
    AwaitingCallback,
    /// 申诉中: the deadline clock is paused.
    UnderAppeal,
    /// 办结.
    Closed,
    /// 办结（回访两次不满意，升级处理）.
    ClosedEscalated,
    /// 申诉成立: the rating no longer counts anywhere.
    ClosedAppealed,
    /// 评价人已改评/撤评.
    ClosedRevised,
}

impl CaseState {
    /// The wire/storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Rectifying => "rectifying",
            CaseState::AwaitingSignoff => "awaiting_signoff",
            CaseState::AppealWindow => "appeal_window",
            CaseState::Explained => "explained",
            CaseState::AwaitingCallback => "awaiting_callback",
            CaseState::UnderAppeal => "under_appeal",
            CaseState::Closed => "closed",
            CaseState::ClosedEscalated => "closed_escalated",
            CaseState::ClosedAppealed => "closed_appealed",
            CaseState::ClosedRevised => "closed_revised",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Open => "待核实",
            CaseState::Rectifying => "整改中",
            CaseState::AwaitingSignoff => "待验收",
            CaseState::AppealWindow => "申诉期",
            CaseState::Explained => "解释说明",
            CaseState::AwaitingCallback => "待回访",
            CaseState::UnderAppeal => "申诉中",
            CaseState::Closed => "已办结",
            CaseState::ClosedEscalated => "已办结（升级处理）",
            CaseState::ClosedAppealed => "申诉成立",
            CaseState::ClosedRevised => "评价人已改评/撤评",
        }
    }

    /// Whether nothing more happens to the case.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseState::Closed
                | CaseState::ClosedEscalated
                | CaseState::ClosedAppealed
                | CaseState::ClosedRevised
        )
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// 效能督查员.
    Officer,
    /// 大厅负责人 (reads; does not decide).
    Director,
    /// 暗访员.
    Shopper,
    /// The hall, through its feed (appeals, rectifications, revisions).
    Hall,
}

/// 申诉理由 in Chinese for a hall-api appeal `ground` (unknown grounds: 其他).
pub fn appeal_ground_zh(ground: &str) -> &'static str {
    match ground {
        "misdirected" => "非本部门职责，正确引导后被差评",
        "malicious" => "恶意差评",
        "duplicate" => "重复评价",
        "system_error" => "系统误操作",
        _ => "其他",
    }
}

impl Actor {
    /// The storage name (audit log role): officer | director | shopper | hall.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Officer => "officer",
            Actor::Director => "director",
            Actor::Shopper => "shopper",
            Actor::Hall => "hall",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Actor::Officer => "效能督查员",
            Actor::Director => "大厅负责人",
            Actor::Shopper => "暗访员",
            Actor::Hall => "大厅",
        }
    }
}

impl CaseState {
    /// Every state, in the order of the workflow.
    pub const ALL: [CaseState; 11] = [
        CaseState::Open,
        CaseState::Rectifying,
        CaseState::AwaitingSignoff,
        CaseState::AppealWindow,
        CaseState::Explained,
        CaseState::AwaitingCallback,
        CaseState::UnderAppeal,
        CaseState::Closed,
        CaseState::ClosedEscalated,
        CaseState::ClosedAppealed,
        CaseState::ClosedRevised,
    ];

    /// The state named `s` (its storage name).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}
