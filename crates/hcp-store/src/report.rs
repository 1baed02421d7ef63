//! Reads for the monthly report (月度通报): raw figures and rows; hcp-report turns
//! them into the metrics of DOMAIN.md.

use rusqlite::params;
use serde::Serialize;

use crate::{Result, Store, StoreError};

/// Valid evaluations (latest rev, not withdrawn, not excluded by an upheld appeal)
/// of one (hall, department, window, staff, level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelCount {
    /// 大厅编码.
    pub hall_id: String,
    /// 部门编码.
    pub department_code: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 1..5.
    pub level: u8,
    /// Filled in by the system (系统默认评价), not given by a person.
    pub system_default: bool,
    /// How many.
    pub n: i64,
}

/// A bad-rating case with what the report needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportCase {
    /// 工单号.
    pub case_id: i64,
    /// `bad_rating` or `visit_finding`.
    pub kind: String,
    /// 大厅编码.
    pub hall_id: String,
    /// 评价编号 (or `visit#item` for findings).
    pub evaluation_id: String,
    /// State.
    pub state: String,
    /// Working days the deadlines were paused under appeal.
    pub paused_working_days: i64,
    /// When it was closed (RFC 3339 as the case keeps it, to the nanosecond).
    pub closed_at: Option<String>,
    /// 评价时间 (UTC; the finding's acceptance for findings).
    pub evaluated_at: String,
    /// The evaluation still counts (not withdrawn, not excluded).
    pub valid: bool,
    /// 1..5 when the evaluation is cached.
    pub level: Option<u8>,
    /// 部门编码.
    pub department_code: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 评价内容.
    pub comment: Option<String>,
    /// 整改措施 (the latest rectification).
    pub measures: Option<String>,
    /// The outcomes of the callbacks recorded (storage names), in order.
    pub callbacks: Vec<String>,
    /// The current deadline (UTC).
    pub due_at: Option<String>,
}

/// How many cases of one hall were overdue at a cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueCount {
    /// 大厅编码.
    pub hall_id: String,
    /// 超期件数.
    pub overdue: i64,
    /// The earliest of their deadlines (UTC).
    pub earliest_due_at: String,
}

/// What a report reads of a case (`cases c`, joined by [`REPORT_CASE_JOIN`]); the
/// 15th column is the closing time as the case body keeps it, the 16th the
/// callbacks' outcomes (migration 0029).
const REPORT_CASE_COLUMNS: &str = "c.case_id, c.kind, c.hall_id, c.evaluation_id, c.state,
    c.paused_working_days, c.evaluated_at,
    e.status IS NOT NULL AND e.status <> 'withdrawn' AND e.excluded = 0,
    e.level, e.department_code, e.window_no, e.comment,
    (SELECT measures FROM rectifications r
      WHERE r.hall_id = c.hall_id AND r.evaluation_id = c.evaluation_id
      ORDER BY r.submitted_at DESC LIMIT 1),
    c.due_at, c.acted_closed_at, c.callback_outcomes";

/// The same without what only a ledger line shows (department, window, comment,
/// measures: `NULL`), for the cases the figures count.
/// The rating's level and validity come from the case row (kept by triggers,
/// migrations 0027 and 0028), so these need no join to the ratings; every column is in the
/// index `cases_report_facts`, so the case rows are not read either.
const REPORT_CASE_FACTS: &str = "c.case_id, c.kind, c.hall_id, c.evaluation_id, c.state,
    c.paused_working_days, c.evaluated_at, c.rating_valid, c.rating_level, NULL, NULL, NULL,
    NULL, c.due_at, c.acted_closed_at, c.callback_outcomes";

/// [`Store::report_cases`]'s statement.
pub(crate) fn report_cases_sql() -> String {
    format!(
        "SELECT {REPORT_CASE_FACTS} FROM cases c
         WHERE c.evaluated_at >= ?2 AND c.evaluated_at < ?3 AND (?1 IS NULL OR c.hall_id = ?1)
         UNION ALL
         SELECT {REPORT_CASE_FACTS} FROM cases c
         WHERE c.evaluated_at >= ?4 AND c.evaluated_at < ?2 AND (?1 IS NULL OR c.hall_id = ?1)
           AND c.case_id IN (SELECT c2.case_id FROM appeals a
                             JOIN cases c2 ON c2.hall_id = a.hall_id
                              AND c2.evaluation_id = a.evaluation_id
                             WHERE a.filed_at >= ?4)
         ORDER BY 7, 1"
    )
}

const REPORT_CASE_JOIN: &str =
    "LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id";

/// `[from, to)` (UTC text) as whole Beijing months: (first, last) as `YYYY-MM`.
fn whole_months(from: &str, to: &str) -> Option<(String, String)> {
    use chrono::{Datelike, Timelike};
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&hcp_core::metrics::beijing()))
    };
    let (a, b) = (at(from)?, at(to)?);
    let starts_month = |t: &chrono::DateTime<chrono::FixedOffset>| {
        t.day() == 1 && t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0
    };
    if !starts_month(&a) || !starts_month(&b) || b <= a {
        return None;
    }
    let last = b.date_naive().pred_opt()?;
    Some((
        a.format("%Y-%m").to_string(),
        last.format("%Y-%m").to_string(),
    ))
}

/// Level counts summed per (hall, department, window, staff), from rows of
/// `hall_id, department_code, window_no, staff_no, level, by_system`.
#[derive(Default)]
struct GroupCounts {
    /// Per group, levels 1..5 given by people (slots 1–5) and filled in by the
    /// system (slots 7–11).
    groups: std::collections::HashMap<String, (usize, [i64; 12])>,
    keys: Vec<[Option<String>; 4]>,
    key: String,
}

impl GroupCounts {
    fn add(&mut self, r: &rusqlite::Row<'_>, n: i64) -> Result<()> {
        self.key.clear();
        for i in 0..4 {
            if let Some(t) = r
                .get_ref(i)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
            {
                self.key.push_str(t);
            } else {
                self.key.push('\u{1}');
            }
            self.key.push('\u{0}');
        }
        let level: i64 = r.get(4)?;
        let by_system: bool = r.get(5)?;
        let slot = usize::try_from(level).unwrap_or(0).min(5) + 6 * usize::from(by_system);
        if let Some(g) = self.groups.get_mut(self.key.as_str()) {
            g.1[slot] += n;
            return Ok(());
        }
        let mut counts = [0i64; 12];
        counts[slot] = n;
        self.groups
            .insert(self.key.clone(), (self.keys.len(), counts));
        self.keys.push([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]);
        Ok(())
    }

    fn finish(self) -> Vec<LevelCount> {
        let mut out = vec![];
        for (idx, counts) in self.groups.into_values() {
            let [hall, dep, win, staff] = self.keys[idx].clone();
            for (slot, n) in counts.iter().enumerate() {
                let level = slot % 6;
                if *n > 0 && level > 0 {
                    out.push(LevelCount {
                        hall_id: hall.clone().unwrap_or_default(),
                        department_code: dep.clone(),
                        window_no: win.clone(),
                        staff_no: staff.clone(),
                        level: level as u8,
                        system_default: slot >= 6,
                        n: *n,
                    });
                }
            }
        }
        out
    }
}

/// An appeal with its verdict, if decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportAppeal {
    /// 大厅编码.
    pub hall_id: String,
    /// 申诉编号.
    pub appeal_id: String,
    /// 评价编号.
    pub evaluation_id: String,
    /// 提出时间 (UTC).
    pub filed_at: String,
    /// 申诉理由 code.
    pub ground: String,
    /// 申诉说明.
    pub statement: String,
    /// `upheld` / `dismissed` when decided.
    pub verdict: Option<String>,
    /// 复核时间 (UTC).
    pub decided_at: Option<String>,
}

/// A visit for the report (never the shopper).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportVisit {
    /// Visit id.
    pub visit_id: String,
    /// 大厅编码.
    pub hall_id: String,
    /// When it closed (UTC).
    pub closed_at: String,
}

/// The settings key of the report policy: 系统默认评价 count in 评价量 and the
/// rates ("1") or are counted apart only (absent, the default).
const COUNT_SYSTEM_DEFAULT: &str = "report.count_system_default";

impl Store {
    /// Whether reports count 系统默认评价 in 评价量, 好评率 and the other rates
    /// (off by default: they are counted apart).
    pub fn count_system_default(&self) -> Result<bool> {
        Ok(self.setting(COUNT_SYSTEM_DEFAULT)?.as_deref() == Some("1"))
    }

    /// Sets that policy (officers only), audited.
    pub fn set_count_system_default(&mut self, on: bool, who: crate::Who<'_>) -> Result<()> {
        if who.actor != hcp_core::case::Actor::Officer {
            return Err(StoreError::Refused(
                "只有效能督查员可以修改通报统计口径".into(),
            ));
        }
        let detail = serde_json::json!({ "count_system_default": on }).to_string();
        self.set_setting_audited(
            COUNT_SYSTEM_DEFAULT,
            on.then_some("1"),
            &crate::AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "policy:report",
                action: "report_policy_set",
                detail: &detail,
            },
        )
    }

    /// Valid evaluations of `[from, to)` (UTC text) grouped to the staff level.
    /// Whole Beijing months (every report period) come from `report_groups`,
    /// rebuilt first for the halls and months a change listed as due; any other
    /// span is counted from the rows.
    pub fn report_level_counts(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<LevelCount>> {
        let Some((first, last)) = whole_months(from, to) else {
            return self.level_counts_from_rows(hall_id, from, to);
        };
        if !self.refresh_report_groups(hall_id, &first, &last)? {
            // Another connection is writing (a sync): count from the rows, as
            // they are now, and leave the rebuild to the next report.
            return self.level_counts_from_rows(hall_id, from, to);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, department_code, window_no, staff_no, level, system_default, n
             FROM report_groups
             WHERE month >= ?2 AND month <= ?3 AND (?1 IS NULL OR hall_id = ?1)",
        )?;
        let mut acc = GroupCounts::default();
        let mut rows = stmt.query(params![hall_id, first, last])?;
        while let Some(r) = rows.next()? {
            acc.add(r, r.get(6)?)?;
        }
        Ok(acc.finish())
    }

    /// Rebuilds the due (hall, month) groups of `[first, last]` (`YYYY-MM`) from
    /// the rows. `false` when the cache is busy with another writer (nothing
    /// written then).
    fn refresh_report_groups(
        &self,
        hall_id: Option<&str>,
        first: &str,
        last: &str,
    ) -> Result<bool> {
        let due: Vec<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT hall_id, month FROM report_months_due
                 WHERE month >= ?2 AND month <= ?3 AND (?1 IS NULL OR hall_id = ?1)",
            )?
            .query_map(params![hall_id, first, last], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if due.is_empty() {
            return Ok(true);
        }
        if !self.conn.is_autocommit() {
            // Inside a caller's transaction: no transaction of our own.
            return Ok(false);
        }
        // Wait a little for the write lock, not the 30 s a sync's writes may wait.
        self.conn
            .busy_timeout(std::time::Duration::from_millis(500))?;
        let begun = self.conn.execute_batch("BEGIN IMMEDIATE");
        let restored = self.conn.busy_timeout(std::time::Duration::from_secs(30));
        match begun {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                restored?;
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
        restored?;
        let rebuilt = (|| -> Result<()> {
            for (hall, month) in &due {
                let Ok(m) = hcp_core::metrics::Month::parse(month) else {
                    continue;
                };
                let (from, to) = m.bounds_utc();
                self.conn
                    .prepare_cached("DELETE FROM report_groups WHERE hall_id = ?1 AND month = ?2")?
                    .execute(params![hall, month])?;
                self.conn
                    .prepare_cached(
                        "INSERT INTO report_groups (hall_id, month, department_code, window_no,
                            staff_no, level, system_default, n)
                         SELECT hall_id, ?2, department_code, window_no, staff_no, level,
                                channel = ?5, count(*)
                         FROM evaluations INDEXED BY evaluations_by_time
                         WHERE hall_id = ?1 AND evaluated_at >= ?3 AND evaluated_at < ?4
                           AND status <> 'withdrawn' AND excluded = 0
                         GROUP BY department_code, window_no, staff_no, level, channel = ?5",
                    )?
                    .execute(params![
                        hall,
                        month,
                        from,
                        to,
                        hcp_core::rating::SYSTEM_DEFAULT
                    ])?;
                self.conn
                    .prepare_cached(
                        "DELETE FROM report_months_due WHERE hall_id = ?1 AND month = ?2",
                    )?
                    .execute(params![hall, month])?;
            }
            Ok(())
        })();
        match rebuilt {
            Ok(()) => self.conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(true)
    }

    /// The same figures counted from the rows of `[from, to)`. Grouped here rather
    /// than by SQLite's GROUP BY: a province's month is a million rows, and SQLite
    /// would sort them all first.
    fn level_counts_from_rows(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<LevelCount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, department_code, window_no, staff_no, level, channel = ?4
             FROM evaluations
             WHERE evaluated_at >= ?2 AND evaluated_at < ?3 AND (?1 IS NULL OR hall_id = ?1)
               AND status <> 'withdrawn' AND excluded = 0",
        )?;
        let mut acc = GroupCounts::default();
        let mut rows = stmt.query(params![hall_id, from, to, hcp_core::rating::SYSTEM_DEFAULT])?;
        while let Some(r) = rows.next()? {
            acc.add(r, 1)?;
        }
        Ok(acc.finish())
    }

    /// The bad-rating cases of ratings given in `[from, to)` (UTC) with everything
    /// a ledger line shows (差评整改台账).
    pub fn report_ledger_cases(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
        limit: Option<usize>,
    ) -> Result<Vec<ReportCase>> {
        let sql = format!(
            "SELECT {REPORT_CASE_COLUMNS} FROM cases c {REPORT_CASE_JOIN}
             WHERE c.case_id IN (
                 SELECT case_id FROM cases
                 WHERE evaluated_at >= ?2 AND evaluated_at < ?3 AND (?1 IS NULL OR hall_id = ?1)
                   AND kind = 'bad_rating'
                 ORDER BY evaluated_at, case_id LIMIT ?4)
             ORDER BY c.evaluated_at, c.case_id"
        );
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.report_case_rows(&sql, params![hall_id, from, to, limit])
    }

    /// The ledger of `[from, to)` in all: (cases, closed, not closed and past their
    /// deadline at `cutoff`).
    pub fn report_ledger_summary(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
        cutoff: &str,
    ) -> Result<(i64, i64, i64)> {
        let closed = hcp_core::closed_states_sql!();
        Ok(self.conn.query_row(
            &format!(
                "SELECT count(*), coalesce(sum(state IN {closed}), 0),
                        coalesce(sum(state NOT IN {closed} AND due_at < ?4), 0)
                 FROM cases
                 WHERE evaluated_at >= ?2 AND evaluated_at < ?3 AND (?1 IS NULL OR hall_id = ?1)
                   AND kind = 'bad_rating'"
            ),
            params![hall_id, from, to, cutoff],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// 典型案例 as a report picks them when the officer chose none: the ledger's
    /// cases of `[from, to)` not closed whose deadline passed before `cutoff`, the
    /// severest rating first, then the most recent (to the minute the ledger
    /// prints), then in ledger order; `limit` of them.
    pub fn report_typical_cases(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
        cutoff: &str,
        limit: usize,
    ) -> Result<Vec<ReportCase>> {
        let sql = format!(
            "SELECT {REPORT_CASE_COLUMNS} FROM cases c {REPORT_CASE_JOIN}
             WHERE c.case_id IN (
                 SELECT case_id FROM cases
                 WHERE evaluated_at >= ?2 AND evaluated_at < ?3 AND (?1 IS NULL OR hall_id = ?1)
                   AND kind = 'bad_rating' AND state NOT IN {} AND due_at < ?4
                 ORDER BY rating_level, substr(evaluated_at, 1, 16) DESC, evaluated_at, case_id
                 LIMIT ?5)
             ORDER BY c.rating_level, substr(c.evaluated_at, 1, 16) DESC, c.evaluated_at, c.case_id",
            hcp_core::closed_states_sql!()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.report_case_rows(&sql, params![hall_id, from, to, cutoff, limit])
    }

    /// The cases a report's figures count, without the ledger's text (department,
    /// window, comment and measures are `None`): those of ratings given in
    /// `[from, to)` (UTC), and, of ratings given in `[appealed_from, from)`, those
    /// with an appeal (only an appeal pauses a deadline, so only they can fall due
    /// much later).
    pub fn report_cases(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
        appealed_from: &str,
    ) -> Result<Vec<ReportCase>> {
        let sql = report_cases_sql();
        self.report_case_rows(&sql, params![hall_id, from, to, appealed_from])
    }

    /// Cases not closed whose current deadline passed before `cutoff` (UTC), the
    /// longest overdue first; `limit` of them (`None`: all).
    pub fn report_overdue_cases(
        &self,
        hall_id: Option<&str>,
        cutoff: &str,
        limit: Option<usize>,
    ) -> Result<Vec<ReportCase>> {
        let sql = format!(
            "SELECT {REPORT_CASE_COLUMNS} FROM cases c {REPORT_CASE_JOIN}
             WHERE c.case_id IN (
                 SELECT case_id FROM cases
                 WHERE state NOT IN {} AND due_at < ?2 AND (?1 IS NULL OR hall_id = ?1)
                 ORDER BY due_at, case_id LIMIT ?3)
             ORDER BY c.due_at, c.case_id",
            hcp_core::closed_states_sql!()
        );
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.report_case_rows(&sql, params![hall_id, cutoff, limit])
    }

    /// Cases by number (典型案例 chosen from outside the period's cases).
    pub fn report_cases_by_id(&self, ids: &[i64]) -> Result<Vec<ReportCase>> {
        let sql = format!(
            "SELECT {REPORT_CASE_COLUMNS} FROM cases c {REPORT_CASE_JOIN} WHERE c.case_id = ?1"
        );
        let mut out = vec![];
        for id in ids {
            out.extend(self.report_case_rows(&sql, params![id])?);
        }
        Ok(out)
    }

    /// Per hall: how many cases not closed were overdue at `cutoff` (UTC), and the
    /// earliest of their deadlines; the most first.
    pub fn report_overdue_by_hall(
        &self,
        hall_id: Option<&str>,
        cutoff: &str,
    ) -> Result<Vec<OverdueCount>> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT hall_id, count(*), min(due_at) FROM cases
             WHERE state NOT IN ",
            hcp_core::closed_states_sql!(),
            " AND due_at < ?2 AND (?1 IS NULL OR hall_id = ?1)
             GROUP BY hall_id ORDER BY count(*) DESC, hall_id",
        ))?;
        let rows = stmt.query_map(params![hall_id, cutoff], |r| {
            Ok(OverdueCount {
                hall_id: r.get(0)?,
                overdue: r.get(1)?,
                earliest_due_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The cases not closed with a deadline, counted per deadline (a deadline is the
    /// end of a working day, so a province has a few hundred), earliest first: how
    /// many were overdue at any cut-off is a sum over this.
    pub fn report_open_deadlines(&self, hall_id: Option<&str>) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT due_at, count(*) FROM cases
             WHERE state NOT IN ",
            hcp_core::closed_states_sql!(),
            " AND due_at IS NOT NULL AND (?1 IS NULL OR hall_id = ?1)
             GROUP BY due_at ORDER BY due_at",
        ))?;
        let rows = stmt.query_map(params![hall_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn report_case_rows(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ReportCase>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |r| {
            Ok(ReportCase {
                case_id: r.get(0)?,
                kind: r.get(1)?,
                hall_id: r.get(2)?,
                evaluation_id: r.get(3)?,
                state: r.get(4)?,
                paused_working_days: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                closed_at: r.get(14)?,
                evaluated_at: r.get(6)?,
                valid: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
                level: r.get(8)?,
                department_code: r.get(9)?,
                window_no: r.get(10)?,
                comment: r.get(11)?,
                measures: r.get(12)?,
                callbacks: r
                    .get::<_, Option<String>>(15)?
                    .map(|s| s.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
                due_at: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Appeals filed in `[from, to)` with their verdicts.
    pub fn report_appeals(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportAppeal>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.hall_id, a.id, a.evaluation_id, a.filed_at, a.ground, a.statement,
                    (SELECT json_extract(l.detail, '$.outcome') FROM audit_log l
                      WHERE l.action = 'appeal_decided' AND l.subject = 'case:' || c.case_id
                      ORDER BY l.seq DESC LIMIT 1),
                    (SELECT coalesce(json_extract(l.detail, '$.acted_at'), l.at) FROM audit_log l
                      WHERE l.action = 'appeal_decided' AND l.subject = 'case:' || c.case_id
                      ORDER BY l.seq DESC LIMIT 1)
             FROM appeals a
             LEFT JOIN cases c ON c.hall_id = a.hall_id AND c.evaluation_id = a.evaluation_id
                              AND c.kind = 'bad_rating'
             WHERE a.filed_at >= ?2 AND a.filed_at < ?3 AND (?1 IS NULL OR a.hall_id = ?1)
             ORDER BY a.filed_at, a.id",
        )?;
        let rows = stmt.query_map(params![hall_id, from, to], |r| {
            Ok(ReportAppeal {
                hall_id: r.get(0)?,
                appeal_id: r.get(1)?,
                evaluation_id: r.get(2)?,
                filed_at: r.get(3)?,
                ground: r.get(4)?,
                statement: r.get(5)?,
                verdict: r.get(6)?,
                decided_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Visits closed in `[from, to)` (the audit row of their closing says when).
    pub fn report_visits(
        &self,
        hall_id: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportVisit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.visit_id, v.hall_id,
                    max(coalesce(json_extract(l.detail, '$.acted_at'), l.at)) AS closed
             FROM visits v
             JOIN audit_log l ON l.subject = 'visit:' || v.visit_id AND l.action = 'visit_closed'
             WHERE v.state = 'closed' AND (?1 IS NULL OR v.hall_id = ?1)
             GROUP BY v.visit_id HAVING closed >= ?2 AND closed < ?3
             ORDER BY 3",
        )?;
        let rows = stmt.query_map(params![hall_id, from, to], |r| {
            Ok(ReportVisit {
                visit_id: r.get(0)?,
                hall_id: r.get(1)?,
                closed_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Names of a hall's departments, windows, staff or service items: (hall, code,
    /// name).
    pub fn profile_names(&self, what: &str) -> Result<Vec<(String, String, String)>> {
        let sql = match what {
            "departments" => "SELECT hall_id, code, name FROM departments",
            "windows" => "SELECT hall_id, no, name FROM windows",
            "staff" => "SELECT hall_id, no, name FROM staff",
            "items" => "SELECT hall_id, code, name FROM service_items",
            other => return Err(StoreError::Corrupt(format!("unknown list {other}"))),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
