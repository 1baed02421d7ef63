//! The demo's month end: 典型案例 chosen, alerts decided, last month's report issued.

use super::*;

/// The month before the anchor's (Beijing), `YYYY-MM`: the demo's finished month.
pub(crate) fn last_month(anchor: DateTime<Utc>) -> String {
    let today = bj(anchor).date_naive();
    let last = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(1)))
        .unwrap_or(today);
    format!("{:04}-{:02}", last.year(), last.month())
}

/// The officer picks two of last month's cases as 典型案例 (加入典型案例): an
/// escalated one and one that ran over its deadline.
pub(crate) fn pick_typical(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    if !s.typical_cases(&month, None)?.is_empty() {
        return Ok(());
    }
    let rows = s
        .list_cases(
            &CaseFilter {
                kind: Some("bad_rating".into()),
                limit: Some(500),
                ..CaseFilter::default()
            },
            anchor,
        )?
        .rows;
    let in_month = |r: &&hcp_store::CaseListRow| {
        parse_utc(&r.evaluated_at).is_some_and(|t| bj(t).format("%Y-%m").to_string() == month)
    };
    let escalated = rows
        .iter()
        .filter(in_month)
        .find(|r| r.state == "closed_escalated");
    let late = rows
        .iter()
        .filter(in_month)
        .find(|r| r.urgency == Some(hcp_core::case::Urgency::Overdue))
        .or_else(|| rows.iter().filter(in_month).find(|r| r.state == "closed"));
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    for r in [escalated, late].into_iter().flatten() {
        s.set_typical(r.case_id, true, officer)?;
    }
    Ok(())
}

/// A few of last month's alerts decided by the demo officer (the report's 预警与
/// 处置 shows them): a window's spike and a burst of praise confirmed, a spike
/// of an item dismissed as the same event as its window's. The rest stay open.
pub(crate) fn decide_alerts(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    s.recompute_due_alerts()?;
    let alerts = s.alerts(Some(&month), None)?;
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let first = |rule: &str, kind: &str| {
        alerts
            .iter()
            .find(|a| a.rule == rule && a.unit_kind == kind && a.state == "open")
            .map(|a| a.alert_id)
    };
    let decisions = [
        (
            first("spike", "window"),
            "acknowledged",
            "已约谈窗口负责人，当日差评逐件回访，要求三个工作日内报送整改情况",
        ),
        (
            first("praise_burst", "window"),
            "acknowledged",
            "经调取评价器记录核实，系窗口人员代为评价，已责令整改并在全厅通报",
        ),
        (
            first("spike", "item"),
            "dismissed",
            "与同日该窗口差评突增为同一事件，已并入窗口预警处置",
        ),
    ];
    for (id, state, note) in decisions {
        if let Some(id) = id {
            s.decide_alert(id, state, note, officer)?;
        }
    }
    Ok(())
}

/// Last month's reports, issued by the demo officer (once): all halls, and the
/// main hall's own (what its director sees).
pub(crate) fn issue_last_month(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let month = last_month(anchor);
    // The issuing office, as 设置 → 发文机关 would have it: the 通报 is a 公文.
    if crate::report::office_settings(s)?.name.is_empty() {
        crate::report::keep_office(
            s,
            crate::OfficeSettings {
                name: "示范市政务服务管理局".into(),
                mark: String::new(),
                code: "示政管".into(),
                to: vec!["各县（市、区）政务服务中心".into(), "市直有关部门".into()],
                cc: vec!["市纪委监委".into(), "市政府办公室".into()],
                printer: "示范市政务服务管理局办公室".into(),
                public_url: "https://zwfw.example.gov.cn/hcp/gongshi/".into(),
            },
            DEMO_OFFICER,
        )?;
    }
    // 太湖县 (the demo's main hall), for its director.
    let main_hall = s
        .halls()?
        .into_iter()
        .filter(|h| h.source == "api")
        .map(|h| h.hall_id)
        .max_by_key(|h| h == "340825-ZWFW");
    for hall_id in [None, main_hall] {
        if s.issued_reports()?
            .iter()
            .any(|r| r.month == month && r.hall_id == hall_id)
        {
            continue;
        }
        crate::report::issue_as(
            s,
            &crate::ReportIssueArgs {
                month: month.clone(),
                hall_id,
                correction: None,
                typical: vec![],
                early: false,
            },
            DEMO_OFFICER,
        )?;
    }
    Ok(())
}
