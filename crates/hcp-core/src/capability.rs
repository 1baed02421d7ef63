//! What a person may see and do, decided once from the role: the store, the app's
//! commands, the CLI and the UI all ask [`Role::may`] (the UI receives the list as
//! the viewer's capabilities and builds its menus and buttons from it). A
//! director's capabilities hold for his own hall only: [`Role::hall_scope`] turns
//! the hall a query asked for into the one it may cover, for the desk and the hub.

use serde::Serialize;

use crate::Role;

/// One thing a person may see or do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Capability.ts"))]
pub enum Capability {
    /// 工作台.
    ViewDashboard,
    /// 评价查询.
    ViewRatings,
    /// 差评工单 and their timelines (a director: his hall's, read-only).
    ViewCases,
    /// 申诉复核's queue.
    ViewAppeals,
    /// 核实、验收、申诉复核、回访、转办: the steps of a case.
    DecideCases,
    /// 预警 (a director: his hall's).
    ViewAlerts,
    /// 确认、关闭预警.
    HandleAlerts,
    /// 暗访.
    ViewVisits,
    /// 填写、提交、导出暗访记录.
    FileVisits,
    /// 审核暗访交件、下发任务包、信任暗访员密钥.
    ReviewVisits,
    /// The names of the shoppers (those who inspect a hall incognito).
    SeeShopperNames,
    /// 月度通报: preview, print and export (a director: his hall's).
    ViewReports,
    /// 签发通报.
    IssueReports,
    /// 大厅与同步: the halls and their sync state (a director: his hall).
    ViewHalls,
    /// 添加、移除大厅.
    ManageHalls,
    /// 同步大厅 (on a single desk; a desk linked to the hub refreshes from it).
    SyncHalls,
    /// 导入评价表格、差评工单.
    ImportFiles,
    /// 办理时限、节假日、通报口径.
    EditPolicies,
    /// Every hall's figures (a director sees only his own).
    AllHalls,
}

impl Capability {
    /// Every capability, in the order the table lists them.
    pub const ALL: [Capability; 19] = [
        Capability::ViewDashboard,
        Capability::ViewRatings,
        Capability::ViewCases,
        Capability::ViewAppeals,
        Capability::DecideCases,
        Capability::ViewAlerts,
        Capability::HandleAlerts,
        Capability::ViewVisits,
        Capability::FileVisits,
        Capability::ReviewVisits,
        Capability::SeeShopperNames,
        Capability::ViewReports,
        Capability::IssueReports,
        Capability::ViewHalls,
        Capability::ManageHalls,
        Capability::SyncHalls,
        Capability::ImportFiles,
        Capability::EditPolicies,
        Capability::AllHalls,
    ];

    /// 中文名, for refusals.
    pub fn label_zh(self) -> &'static str {
        match self {
            Capability::ViewDashboard => "查看工作台",
            Capability::ViewRatings => "查询评价",
            Capability::ViewCases => "查看差评工单",
            Capability::ViewAppeals => "查看申诉复核",
            Capability::DecideCases => "办理工单",
            Capability::ViewAlerts => "查看预警",
            Capability::HandleAlerts => "处理预警",
            Capability::ViewVisits => "查看暗访",
            Capability::FileVisits => "填写暗访记录",
            Capability::ReviewVisits => "审核暗访",
            Capability::SeeShopperNames => "查看暗访员姓名",
            Capability::ViewReports => "查看月度通报",
            Capability::IssueReports => "签发通报",
            Capability::ViewHalls => "查看大厅与同步",
            Capability::ManageHalls => "添加或移除大厅",
            Capability::SyncHalls => "同步大厅",
            Capability::ImportFiles => "导入评价表格",
            Capability::EditPolicies => "修改办理时限与口径",
            Capability::AllHalls => "查看全部大厅",
        }
    }
}

impl Role {
    /// Whether this role may see or do `c`.
    pub fn may(self, c: Capability) -> bool {
        use Capability::*;
        match self {
            // The office's own: everything but filing a shopper's visit.
            Role::Officer => c != FileVisits,
            // His hall, read: its figures, cases, alerts and reports.
            Role::Director => matches!(
                c,
                ViewDashboard
                    | ViewRatings
                    | ViewCases
                    | ViewAppeals
                    | ViewAlerts
                    | ViewReports
                    | ViewHalls
            ),
            // Visits, and nothing of the ratings.
            Role::Shopper => matches!(c, ViewVisits | FileVisits),
        }
    }

    /// Everything this role may, in table order.
    pub fn capabilities(self) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.may(*c))
            .collect()
    }

    /// `Ok`, or the zh-CN refusal naming the role and what it may not do.
    pub fn check(self, c: Capability) -> Result<(), String> {
        if self.may(c) {
            Ok(())
        } else {
            Err(format!("{}不能{}", self.label_zh(), c.label_zh()))
        }
    }

    /// Whether a person of this role (belonging to `own` hall, for a director)
    /// may read `hall`'s ratings, cases, alerts and reports.
    pub fn may_read_hall(self, own: Option<&str>, hall: &str) -> bool {
        self.may(Capability::ViewRatings) && (self.may(Capability::AllHalls) || own == Some(hall))
    }

    /// The hall a query by this role may cover: what was asked (`None` = all)
    /// for the office; a director's own hall whatever was asked, and a refusal
    /// when he asked for another. One rule for the desk and the hub.
    pub fn hall_scope(
        self,
        own: Option<&str>,
        asked: Option<String>,
    ) -> Result<Option<String>, String> {
        if self.may(Capability::AllHalls) || !self.may(Capability::ViewRatings) {
            return Ok(asked);
        }
        let Some(own) = own else {
            return Err(format!(
                "{}尚未指定所属大厅，请先在设置中填写",
                self.label_zh()
            ));
        };
        match asked {
            Some(a) if a != own => Err(format!("{}只能查看本大厅的数据", self.label_zh())),
            _ => Ok(Some(own.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, role by role: a change to who may do what shows here.
    #[test]
    fn each_roles_capabilities() {
        let names = |r: Role| -> Vec<String> {
            r.capabilities()
                .into_iter()
                .map(|c| {
                    serde_json::to_value(c)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(
            names(Role::Officer),
            [
                "view_dashboard",
                "view_ratings",
                "view_cases",
                "view_appeals",
                "decide_cases",
                "view_alerts",
                "handle_alerts",
                "view_visits",
                "review_visits",
                "see_shopper_names",
                "view_reports",
                "issue_reports",
                "view_halls",
                "manage_halls",
                "sync_halls",
                "import_files",
                "edit_policies",
                "all_halls",
            ]
        );
        assert_eq!(
            names(Role::Director),
            [
                "view_dashboard",
                "view_ratings",
                "view_cases",
                "view_appeals",
                "view_alerts",
                "view_reports",
                "view_halls",
            ]
        );
        assert_eq!(names(Role::Shopper), ["view_visits", "file_visits"]);
        assert_eq!(
            Role::Director.check(Capability::ManageHalls).unwrap_err(),
            "大厅负责人不能添加或移除大厅"
        );
    }

    #[test]
    fn a_director_is_held_to_his_hall() {
        let d = Role::Director;
        assert_eq!(d.hall_scope(Some("H1"), None), Ok(Some("H1".into())));
        assert_eq!(
            d.hall_scope(Some("H1"), Some("H1".into())),
            Ok(Some("H1".into()))
        );
        assert_eq!(
            d.hall_scope(Some("H1"), Some("H2".into())).unwrap_err(),
            "大厅负责人只能查看本大厅的数据"
        );
        assert!(d.hall_scope(None, None).is_err());
        assert_eq!(Role::Officer.hall_scope(None, None), Ok(None));
        assert_eq!(
            Role::Officer.hall_scope(None, Some("H2".into())),
            Ok(Some("H2".into()))
        );
        assert!(d.may_read_hall(Some("H1"), "H1"));
        assert!(!d.may_read_hall(Some("H1"), "H2"));
        assert!(Role::Officer.may_read_hall(None, "H2"));
        assert!(!Role::Shopper.may_read_hall(None, "H1"));
    }
}
