//! Cases: acting on them, counting them, their deadline policies and 典型案例.

use super::*;

/// Which case.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "CaseIdArgs.ts")]
pub struct CaseIdArgs {
    /// 工单号.
    pub case_id: i64,
}

/// Cases per state of one hall or all.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "CaseCountArgs.ts")]
pub struct CaseCountArgs {
    /// One hall (a director always sees only their own).
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// An officer's action on a case (hall actions come only from the feed).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export_to = "CaseActionInput.ts")]
pub enum CaseActionInput {
    /// 核实: outcome true | partly_true | not_true | misrated | no_legal_basis.
    Verify {
        /// 核实结论.
        outcome: String,
        /// 核实说明.
        note: String,
    },
    /// 验收通过.
    AcceptRectification,
    /// 退回 with an opinion.
    ReturnRectification {
        /// 退回意见.
        opinion: String,
    },
    /// 申诉复核.
    DecideAppeal {
        /// 申诉成立.
        upheld: bool,
        /// 复核意见.
        note: String,
    },
    /// 回访: satisfied | basically_satisfied | dissatisfied | unreachable.
    Callback {
        /// 回访结果.
        result: String,
        /// 回访记录.
        note: String,
    },
    /// 转办.
    Transfer {
        /// New 牵头部门.
        department: String,
        /// 转办理由.
        reason: String,
    },
    /// 牵头/协办部门.
    Assign {
        /// 牵头部门.
        lead: String,
        /// 协办部门.
        #[serde(default)]
        co: Vec<String>,
    },
    /// A mystery-shopper finding checked as rectified: closes it.
    FindingRectified {
        /// 整改核查说明.
        note: String,
    },
    /// 办结 after the appeal window.
    Close {
        /// 办结说明.
        note: String,
    },
}

/// An action on a case, naming the version the officer saw.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "CaseActionArgs.ts")]
pub struct CaseActionArgs {
    /// 工单号.
    pub case_id: i64,
    /// The version shown (refused when the case changed meanwhile).
    #[serde(default)]
    pub version: Option<i64>,
    /// What to do.
    pub action: CaseActionInput,
}

/// Bulk assign.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "AssignCasesArgs.ts")]
pub struct AssignCasesArgs {
    /// 工单号.
    pub case_ids: Vec<i64>,
    /// 承办人.
    pub assignee: String,
}

/// Deadlines in working days (DOMAIN.md defaults: 1, 15, 3, 5; warning 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "DeadlinePolicyView.ts")]
pub struct DeadlinePolicyView {
    /// 核实/回访.
    pub verify: u32,
    /// 整改反馈.
    pub rectify: u32,
    /// 申诉提出.
    pub appeal_filing: u32,
    /// 申诉复核.
    pub appeal_review: u32,
    /// 超期预警 before the deadline.
    pub warn_before: u32,
}

/// One hall's policy.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HallPolicy.ts")]
pub struct HallPolicy {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Its policy.
    pub policy: DeadlinePolicyView,
    /// Whether it is the hall's own (otherwise the default applies).
    pub own: bool,
}

/// What 设置 shows about deadlines and the calendar.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "CaseSettings.ts")]
pub struct CaseSettings {
    /// The default policy.
    pub default_policy: DeadlinePolicyView,
    /// Every hall's.
    pub halls: Vec<HallPolicy>,
    /// Years with official working-day data.
    pub calendar_years: Vec<i32>,
    /// Of which imported by an officer.
    pub imported_years: Vec<i32>,
    /// Whether reports count 系统默认评价 in 评价量 and 好评率 (off: counted apart).
    pub count_system_default: bool,
}

/// Sets the default policy (`hall_id` absent) or a hall's.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "SetPolicyArgs.ts")]
pub struct SetPolicyArgs {
    /// The hall; absent: the default.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// The policy.
    pub policy: DeadlinePolicyView,
}

/// A holiday-cn JSON file's text.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ImportCalendarArgs.ts")]
pub struct ImportCalendarArgs {
    /// The file's contents.
    pub json: String,
}

/// 加入/移出典型案例.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "SetTypicalArgs.ts")]
pub struct SetTypicalArgs {
    /// 工单号.
    pub case_id: i64,
    /// Pick (true) or unpick (false).
    pub typical: bool,
}

/// A month's 典型案例, for the report's picker.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TypicalArgs.ts")]
pub struct TypicalArgs {
    /// `YYYY-MM`.
    pub month: String,
    /// One hall, or all.
    #[serde(default)]
    pub hall_id: Option<String>,
}
