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
    /// hcp_core::case::Case JSON.
    pub body: String,
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
    /// Callbacks recorded: (UTC, outcome).
    pub callbacks: Vec<(String, String)>,
    /// The current deadline (UTC).
    pub due_at: Option<String>,
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
    /// Grouped here rather than by SQLite's GROUP BY: a province's month is a
    /// million rows, and SQLite would sort them all first.
    pub fn report_level_counts(
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
        // Per group, levels 1..5 given by people (slots 1–5) and filled in by the
        // system (slots 7–11).
        let mut groups: std::collections::HashMap<String, (usize, [i64; 12])> =
            std::collections::HashMap::new();
        let mut keys: Vec<[Option<String>; 4]> = vec![];
        let mut key = String::new();
        let mut rows = stmt.query(params![hall_id, from, to, hcp_core::rating::SYSTEM_DEFAULT])?;
        while let Some(r) = rows.next()? {
            key.clear();
            for i in 0..4 {
                if let Some(t) = r
                    .get_ref(i)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?
                {
                    key.push_str(t);
                } else {
                    key.push('\u{1}');
                }
                key.push('\u{0}');
            }
            let level: i64 = r.get(4)?;
            let by_system: bool = r.get(5)?;
            let slot = usize::try_from(level).unwrap_or(0).min(5) + 6 * usize::from(by_system);
            if let Some(g) = groups.get_mut(key.as_str()) {
                g.1[slot] += 1;
                continue;
            }
            let mut counts = [0i64; 12];
            counts[slot] = 1;
            groups.insert(key.clone(), (keys.len(), counts));
            keys.push([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]);
        }
        let mut out = vec![];
        for (idx, counts) in groups.into_values() {
            let [hall, dep, win, staff] = keys[idx].clone();
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
        Ok(out)
    }

    /// The cases of the scope a report needs: every case still open (超期 needs
    /// them, however old) and every case of a rating given at or after `since`
    /// (UTC; `None`: all). Closed cases of older ratings are left in the cache.
    pub fn report_cases(
        &self,
        hall_id: Option<&str>,
        since: Option<&str>,
    ) -> Result<Vec<ReportCase>> {
        let mut callbacks: std::collections::HashMap<i64, Vec<(String, String)>> =
            std::collections::HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT CAST(substr(subject, 6) AS INTEGER), coalesce(json_extract(detail, '$.acted_at'), at),
                        json_extract(detail, '$.outcome')
                 FROM audit_log WHERE action = 'callback' AND subject LIKE 'case:%' ORDER BY seq",
            )?;
            for r in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })? {
                let (id, at, outcome) = r?;
                if let Some(o) = outcome {
                    callbacks.entry(id).or_default().push((at, o));
                }
            }
        }
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT c.case_id, c.kind, c.hall_id, c.evaluation_id, c.state, c.body, c.evaluated_at,
                    e.status IS NOT NULL AND e.status <> 'withdrawn' AND e.excluded = 0,
                    e.level, e.department_code, e.window_no, e.comment,
                    (SELECT measures FROM rectifications r
                      WHERE r.hall_id = c.hall_id AND r.evaluation_id = c.evaluation_id
                      ORDER BY r.submitted_at DESC LIMIT 1),
                    c.due_at
             FROM cases c LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id
             WHERE (?1 IS NULL OR c.hall_id = ?1)
               AND (?2 IS NULL OR c.evaluated_at >= ?2 OR c.state NOT IN ",
            hcp_core::closed_states_sql!(),
            ")
             ORDER BY c.evaluated_at, c.case_id",
        ))?;
        let rows = stmt.query_map(rusqlite::params![hall_id, since], |r| {
            Ok(ReportCase {
                case_id: r.get(0)?,
                kind: r.get(1)?,
                hall_id: r.get(2)?,
                evaluation_id: r.get(3)?,
                state: r.get(4)?,
                body: r.get(5)?,
                evaluated_at: r.get(6)?,
                valid: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
                level: r.get(8)?,
                department_code: r.get(9)?,
                window_no: r.get(10)?,
                comment: r.get(11)?,
                measures: r.get(12)?,
                callbacks: vec![],
                due_at: r.get(13)?,
            })
        })?;
        let mut out: Vec<ReportCase> = rows.collect::<rusqlite::Result<_>>()?;
        for c in &mut out {
            if let Some(cb) = callbacks.remove(&c.case_id) {
                c.callbacks = cb;
            }
        }
        Ok(out)
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
