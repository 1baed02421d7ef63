//! What happens to a case: the actions with their outcomes, and why one is refused.

use super::*;

/// 核实结论.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// 属实.
    True,
    /// 部分属实.
    PartlyTrue,
    /// 不属实.
    NotTrue,
    /// 误评.
    Misrated,
    /// 无法律依据/诉求不合理 → 解释说明.
    NoLegalBasis,
}

/// 回访结果.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackResult {
    /// 满意.
    Satisfied,
    /// 基本满意.
    BasicallySatisfied,
    /// 不满意.
    Dissatisfied,
    /// 联系不上.
    Unreachable,
}

/// What happens to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// The officer's verification, with a note.
    Verify {
        /// 核实结论.
        outcome: VerifyOutcome,
        /// 核实说明.
        note: String,
    },
    /// The hall submitted (or resubmitted) a rectification.
    RectificationSubmitted {
        /// The rectification's id.
        id: String,
        /// Its rev.
        rev: i64,
        /// 责任人 as the hall names them.
        #[serde(default)]
        by: String,
    },
    /// 验收通过.
    AcceptRectification,
    /// 退回, with the officer's opinion.
    ReturnRectification {
        /// 退回意见 (required).
        opinion: String,
    },
    /// The hall filed an appeal.
    AppealFiled {
        /// The appeal's id.
        id: String,
        /// `malicious` appeals mark the evaluator when upheld.
        ground: String,
        /// 申诉人 as the hall names them.
        #[serde(default)]
        by: String,
    },
    /// 申诉复核结论.
    DecideAppeal {
        /// 申诉成立.
        upheld: bool,
        /// 复核意见 (required).
        note: String,
    },
    /// 回访.
    Callback {
        /// The answer.
        result: CallbackResult,
        /// 回访记录.
        note: String,
    },
    /// 转办 to another lead department.
    Transfer {
        /// The new 牵头部门 code.
        department: String,
        /// Why (required).
        reason: String,
    },
    /// Sets the lead and co-handling departments.
    Assign {
        /// 牵头部门.
        lead: String,
        /// 协办部门.
        co: Vec<String>,
    },
    /// The evaluator revised to ≥ 3 or withdrew (automatic, from the feed).
    EvaluationNoLongerBad {
        /// `revised` or `withdrawn`.
        how: String,
        /// The level it was revised to (`revised` only).
        #[serde(default)]
        level: u8,
    },
    /// The officer confirms a mystery-shopper finding was rectified (closes it).
    FindingRectified {
        /// 整改核查说明.
        note: String,
    },
    /// The officer closes a case whose appeal window passed without an appeal.
    Close {
        /// 办结说明.
        note: String,
    },
}

/// Why an action was refused (zh-CN for people).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl VerifyOutcome {
    /// Every outcome.
    pub const ALL: [VerifyOutcome; 5] = [
        VerifyOutcome::True,
        VerifyOutcome::PartlyTrue,
        VerifyOutcome::NotTrue,
        VerifyOutcome::Misrated,
        VerifyOutcome::NoLegalBasis,
    ];

    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::True => "true",
            VerifyOutcome::PartlyTrue => "partly_true",
            VerifyOutcome::NotTrue => "not_true",
            VerifyOutcome::Misrated => "misrated",
            VerifyOutcome::NoLegalBasis => "no_legal_basis",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            VerifyOutcome::True => "属实",
            VerifyOutcome::PartlyTrue => "部分属实",
            VerifyOutcome::NotTrue => "不属实",
            VerifyOutcome::Misrated => "误评",
            VerifyOutcome::NoLegalBasis => "无法律依据（解释说明）",
        }
    }

    /// The outcome named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl CallbackResult {
    /// Every result.
    pub const ALL: [CallbackResult; 4] = [
        CallbackResult::Satisfied,
        CallbackResult::BasicallySatisfied,
        CallbackResult::Dissatisfied,
        CallbackResult::Unreachable,
    ];

    /// The wire name (hall-api `callback` outcome).
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackResult::Satisfied => "satisfied",
            CallbackResult::BasicallySatisfied => "basically_satisfied",
            CallbackResult::Dissatisfied => "dissatisfied",
            CallbackResult::Unreachable => "unreachable",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            CallbackResult::Satisfied => "满意",
            CallbackResult::BasicallySatisfied => "基本满意",
            CallbackResult::Dissatisfied => "不满意",
            CallbackResult::Unreachable => "联系不上",
        }
    }

    /// The result named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}
