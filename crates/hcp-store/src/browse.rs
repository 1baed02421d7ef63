//! The read side the console's screens use: filtered evaluation lists paged by key
//! (never by OFFSET, so page 2,000 is as fast as page 1), one evaluation with what
//! the hall filed on it, and the dashboard's figures.
//!
//! Filters are built from fixed SQL fragments with every value bound as a
//! parameter.

use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::queries::{EVALUATION_COLUMNS, EvaluationRow, evaluation_from_row};
use crate::{Result, Store};

/// What the 评价查询 form asks for. Every field is optional; times are UTC
/// instants (`2026-10-01T00:00:00Z`), `to` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export_to = "EvaluationFilter.ts")]
pub struct EvaluationFilter {
    /// 大厅编码.
    pub hall_id: Option<String>,
    /// Levels to include (empty: all).
    pub levels: Vec<u8>,
    /// 评价渠道.
    pub channel: Option<String>,
    /// Evaluated at or after (UTC).
    pub from: Option<String>,
    /// Evaluated before (UTC).
    pub to: Option<String>,
    /// 部门编码.
    pub department_code: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 事项编码.
    pub item_code: Option<String>,
    /// Text that the comment contains.
    pub text: Option<String>,
    /// Include withdrawn ratings (off by default: they no longer count).
    pub include_withdrawn: bool,
}

/// Where the previous page ended: the last row's time and row number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "PageKey.ts")]
pub struct PageKey {
    /// `evaluated_at` of the last row shown.
    pub evaluated_at: String,
    /// Its row number in the cache.
    pub row: i64,
}

/// One line of the evaluation list.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "EvaluationListRow.ts")]
pub struct EvaluationListRow {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: String,
    /// 评价编号.
    pub id: String,
    /// 1..5.
    pub level: u8,
    /// 评价渠道.
    pub channel: String,
    /// 评价时间 (UTC).
    pub evaluated_at: String,
    /// 部门名称 (the code when the profile does not know it).
    pub department: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 服务人员姓名, from the profile.
    pub staff_name: Option<String>,
    /// 事项名称.
    pub item_name: Option<String>,
    /// 评价内容.
    pub comment: String,
    /// valid | revised | withdrawn.
    pub status: String,
    /// The paging key of this row.
    pub key: PageKey,
}

/// Counts over a time span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export_to = "SpanCounts.ts")]
pub struct SpanCounts {
    /// Latest revs not withdrawn.
    pub counted: i64,
    /// Of which level 3–5.
    pub good: i64,
    /// Of which level 1–2.
    pub bad: i64,
}

/// Bad ratings of one day (Beijing time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export_to = "DayCount.ts")]
pub struct DayCount {
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub day: String,
    /// Bad ratings that day.
    pub bad: i64,
}

/// An appeal or rectification filed on an evaluation, as the detail view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "FollowUp.ts")]
pub struct FollowUp {
    /// `appeal` | `rectification`.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Its rev.
    pub rev: i64,
    /// Filed / submitted at (UTC).
    pub at: String,
    /// 申诉人 or 整改责任人.
    pub by: String,
    /// 申诉理由 (appeals only).
    pub ground: Option<String>,
    /// Statement or measures.
    pub text: String,
}

/// One version of an evaluation, as its history shows it (oldest first; the last
/// one is the evaluation as it counts now).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "EvaluationVersion.ts")]
pub struct EvaluationVersion {
    /// Its rev.
    pub rev: i64,
    /// 1..5.
    pub level: u8,
    /// valid | revised | withdrawn.
    pub status: String,
    /// 评价渠道 code.
    pub channel: String,
    /// 评价时间 (UTC).
    pub evaluated_at: String,
    /// 评价内容.
    pub comment: String,
    /// How it came to be: `first`, `second_rating` (二次评价), `follow_up` (追评),
    /// `revised` (改评), `withdrawn` (撤评), `updated` (更正).
    pub how: String,
    /// The same in Chinese.
    pub how_label: String,
    /// Whether this is the version that counts.
    pub current: bool,
}

fn version_label(how: &str) -> &'static str {
    match how {
        "first" => "首次评价",
        "second_rating" => "二次评价",
        "follow_up" => "追评",
        "revised" => "改评",
        "withdrawn" => "撤评",
        _ => "更正",
    }
}

/// SQL `WHERE` fragments and their bound values.
struct Where {
    sql: String,
    values: Vec<Value>,
}

impl Where {
    fn new() -> Self {
        Self {
            sql: "1 = 1".into(),
            values: vec![],
        }
    }
    fn and(&mut self, fragment: &str, value: impl Into<Value>) {
        self.values.push(value.into());
        self.sql.push_str(" AND ");
        self.sql
            .push_str(&fragment.replace('?', &format!("?{}", self.values.len())));
    }
}

fn text_value(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn filter_where(f: &EvaluationFilter) -> Where {
    let mut w = Where::new();
    if let Some(h) = text_value(&f.hall_id) {
        w.and("e.hall_id = ?", h);
    }
    if !f.include_withdrawn {
        w.sql.push_str(" AND e.status <> 'withdrawn'");
    }
    let levels: Vec<u8> = f
        .levels
        .iter()
        .copied()
        .filter(|l| (1..=5).contains(l))
        .collect();
    if !levels.is_empty() && levels.len() < 5 {
        // Levels are 1..=5, checked above, so the list is made of digits only.
        let list: Vec<String> = levels.iter().map(u8::to_string).collect();
        w.sql
            .push_str(&format!(" AND e.level IN ({})", list.join(", ")));
    }
    if let Some(c) = text_value(&f.channel) {
        w.and("e.channel = ?", c);
    }
    if let Some(t) = text_value(&f.from) {
        w.and("e.evaluated_at >= ?", t);
    }
    if let Some(t) = text_value(&f.to) {
        w.and("e.evaluated_at < ?", t);
    }
    if let Some(d) = text_value(&f.department_code) {
        w.and("e.department_code = ?", d);
    }
    if let Some(n) = text_value(&f.window_no) {
        w.and("e.window_no = ?", n);
    }
    if let Some(n) = text_value(&f.staff_no) {
        w.and("e.staff_no = ?", n);
    }
    if let Some(n) = text_value(&f.item_code) {
        w.and("e.item_code = ?", n);
    }
    if let Some(t) = text_value(&f.text) {
        w.and("e.comment LIKE ? ESCAPE '\\'", like_pattern(&t));
    }
    w
}

impl Store {
    /// One page of evaluations matching `f`, newest first, starting after `after`.
    /// Returns the rows and whether more follow.
    pub fn list_evaluations(
        &self,
        f: &EvaluationFilter,
        after: Option<&PageKey>,
        limit: u32,
    ) -> Result<(Vec<EvaluationListRow>, bool)> {
        let limit = limit.clamp(1, 500);
        let mut w = filter_where(f);
        if let Some(k) = after {
            w.values.push(Value::Text(k.evaluated_at.clone()));
            w.values.push(Value::Integer(k.row));
            let (a, b) = (w.values.len() - 1, w.values.len());
            w.sql.push_str(&format!(
                " AND (e.evaluated_at < ?{a} OR (e.evaluated_at = ?{a} AND e.rowid < ?{b}))"
            ));
        }
        w.values.push(Value::Integer(i64::from(limit) + 1));
        let sql = format!(
            "SELECT e.hall_id, coalesce(h.name, e.hall_id), e.id, e.level, e.channel, e.evaluated_at,
                    coalesce(d.name, e.department_code), e.window_no, e.staff_no, s.name,
                    e.item_name, e.comment, e.status, e.rowid
             FROM evaluations e
             LEFT JOIN halls h ON h.hall_id = e.hall_id
             LEFT JOIN departments d ON d.hall_id = e.hall_id AND d.code = e.department_code
             LEFT JOIN staff s ON s.hall_id = e.hall_id AND s.no = e.staff_no
             WHERE {}
             ORDER BY e.evaluated_at DESC, e.rowid DESC
             LIMIT ?{}",
            w.sql,
            w.values.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows: Vec<EvaluationListRow> = stmt
            .query_map(rusqlite::params_from_iter(w.values.iter()), |r| {
                let evaluated_at: String = r.get(5)?;
                Ok(EvaluationListRow {
                    hall_id: r.get(0)?,
                    hall_name: r.get(1)?,
                    id: r.get(2)?,
                    level: r.get(3)?,
                    channel: r.get(4)?,
                    department: r.get(6)?,
                    window_no: r.get(7)?,
                    staff_no: r.get(8)?,
                    staff_name: r.get(9)?,
                    item_name: r.get(10)?,
                    comment: r.get(11)?,
                    status: r.get(12)?,
                    key: PageKey {
                        evaluated_at: evaluated_at.clone(),
                        row: r.get(13)?,
                    },
                    evaluated_at,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    /// Calls `each` for every evaluation matching a filter, newest first, with
    /// every stored column; streams, and stops when `each` answers `false`.
    pub fn for_each_matching_evaluation(
        &self,
        f: &EvaluationFilter,
        mut each: impl FnMut(crate::EvaluationRow) -> bool,
    ) -> Result<()> {
        let w = filter_where(f);
        let sql = format!(
            "SELECT {} FROM evaluations e WHERE {} ORDER BY e.evaluated_at DESC, e.rowid DESC",
            crate::queries::EVALUATION_COLUMNS,
            w.sql
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(w.values.iter()))?;
        while let Some(r) = rows.next()? {
            if !each(crate::queries::evaluation_from_row(r)?) {
                break;
            }
        }
        Ok(())
    }

    /// How many evaluations match `f` (for the 「共 N 条」 beside the pager; the
    /// list itself does not wait for it).
    pub fn count_evaluations(&self, f: &EvaluationFilter) -> Result<i64> {
        let w = filter_where(f);
        let sql = format!("SELECT count(*) FROM evaluations e WHERE {}", w.sql);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row(rusqlite::params_from_iter(w.values.iter()), |r| r.get(0))?)
    }

    /// One evaluation (latest rev) with every stored column.
    pub fn evaluation(&self, hall_id: &str, id: &str) -> Result<Option<EvaluationRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE hall_id = ?1 AND id = ?2"
        ))?;
        Ok(stmt
            .query_row([hall_id, id], evaluation_from_row)
            .optional()?)
    }

    /// The appeals and rectifications a hall filed on one evaluation, oldest first.
    pub fn follow_ups(&self, hall_id: &str, evaluation_id: &str) -> Result<Vec<FollowUp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 'appeal', id, rev, filed_at, filed_by, ground, statement
               FROM appeals WHERE hall_id = ?1 AND evaluation_id = ?2
             UNION ALL
             SELECT 'rectification', id, rev, submitted_at, responsible, NULL, measures
               FROM rectifications WHERE hall_id = ?1 AND evaluation_id = ?2
             ORDER BY 4",
        )?;
        let rows = stmt.query_map([hall_id, evaluation_id], |r| {
            Ok(FollowUp {
                kind: r.get(0)?,
                id: r.get(1)?,
                rev: r.get(2)?,
                at: r.get(3)?,
                by: r.get(4)?,
                ground: r.get(5)?,
                text: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An evaluation's versions, oldest first: those a later rev replaced (each
    /// named by what replaced it) and the current one. Empty when it is unknown.
    pub fn evaluation_versions(
        &self,
        hall_id: &str,
        evaluation_id: &str,
    ) -> Result<Vec<EvaluationVersion>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rev, level, status, channel, evaluated_at, comment, how FROM evaluation_history
             WHERE hall_id = ?1 AND id = ?2
             UNION ALL
             SELECT rev, level, status, channel, evaluated_at, comment, NULL FROM evaluations
             WHERE hall_id = ?1 AND id = ?2
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([hall_id, evaluation_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u8>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let rows: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
        // Each stored row names what replaced it: the next version is that.
        let mut how = "first".to_owned();
        let mut out = Vec::with_capacity(rows.len());
        for (rev, level, status, channel, evaluated_at, comment, replaced_by) in rows {
            let current = replaced_by.is_none();
            out.push(EvaluationVersion {
                rev,
                level,
                status,
                channel,
                evaluated_at,
                comment,
                how_label: version_label(&how).to_owned(),
                how: how.clone(),
                current,
            });
            if let Some(next) = replaced_by {
                how = next;
            }
        }
        Ok(out)
    }

    /// Counted / good / bad evaluations of the Beijing days `first..=last`
    /// (`YYYY-MM-DD`), all halls or one, from the per-day figures.
    pub fn day_span_counts(
        &self,
        hall_id: Option<&str>,
        first: &str,
        last: &str,
    ) -> Result<SpanCounts> {
        // One hall: its key range; all halls: the days' totals (`day_tally`;
        // ?1 is then NULL and names no hall).
        let mut stmt = self.conn.prepare_cached(if hall_id.is_some() {
            "SELECT coalesce(sum(good + bad), 0), coalesce(sum(good), 0), coalesce(sum(bad), 0)
             FROM evaluation_days WHERE hall_id = ?1 AND day >= ?2 AND day <= ?3"
        } else {
            "SELECT coalesce(sum(good + bad), 0), coalesce(sum(good), 0), coalesce(sum(bad), 0)
             FROM day_tally WHERE day >= ?2 AND day <= ?3 AND ?1 IS NULL"
        })?;
        Ok(
            stmt.query_row(rusqlite::params![hall_id, first, last], |r| {
                Ok(SpanCounts {
                    counted: r.get(0)?,
                    good: r.get(1)?,
                    bad: r.get(2)?,
                })
            })?,
        )
    }

    /// Bad ratings per Beijing day of `first..=last`, days with none left out.
    pub fn daily_bad(
        &self,
        hall_id: Option<&str>,
        first: &str,
        last: &str,
    ) -> Result<Vec<DayCount>> {
        let mut stmt = self.conn.prepare_cached(if hall_id.is_some() {
            "SELECT day, sum(bad) FROM evaluation_days
             WHERE hall_id = ?1 AND day >= ?2 AND day <= ?3
             GROUP BY day HAVING sum(bad) > 0 ORDER BY day"
        } else {
            "SELECT day, bad FROM day_tally
             WHERE day >= ?2 AND day <= ?3 AND ?1 IS NULL AND bad > 0 ORDER BY day"
        })?;
        let rows = stmt.query_map(rusqlite::params![hall_id, first, last], |r| {
            Ok(DayCount {
                day: r.get(0)?,
                bad: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest Beijing day with a counted evaluation.
    pub fn latest_day(&self, hall_id: Option<&str>) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT max(day) FROM evaluation_days
             WHERE good + bad > 0 AND (?1 IS NULL OR hall_id = ?1)",
        )?;
        Ok(stmt.query_row([hall_id], |r| r.get(0))?)
    }

    /// (hall, day) rows where the per-day figures differ from a recount of the
    /// evaluations, and ("*", day) where the days' totals over all halls
    /// (`day_tally`) differ from the per-day figures' sum (empty when
    /// consistent): for tests and `hcp` diagnostics.
    pub fn evaluation_days_drift(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "WITH recount AS (
                SELECT hall_id, date(evaluated_at, '+8 hours') AS day, count(*) AS total,
                       sum(status = 'withdrawn') AS withdrawn,
                       sum(status <> 'withdrawn' AND excluded = 0 AND level > ?1) AS good,
                       sum(status <> 'withdrawn' AND excluded = 0 AND level <= ?1) AS bad
                FROM evaluations GROUP BY 1, 2),
             kept AS (SELECT hall_id, day, total, withdrawn, good, bad FROM evaluation_days
                      WHERE total <> 0 OR withdrawn <> 0 OR good <> 0 OR bad <> 0),
             summed AS (SELECT '*' AS hall_id, day, sum(total) AS total,
                               sum(withdrawn) AS withdrawn, sum(good) AS good, sum(bad) AS bad
                        FROM kept GROUP BY day),
             tally AS (SELECT '*' AS hall_id, day, total, withdrawn, good, bad FROM day_tally
                       WHERE total <> 0 OR withdrawn <> 0 OR good <> 0 OR bad <> 0)
             SELECT hall_id, day FROM (SELECT * FROM recount EXCEPT SELECT * FROM kept)
             UNION
             SELECT hall_id, day FROM (SELECT * FROM kept EXCEPT SELECT * FROM recount)
             UNION
             SELECT hall_id, day FROM (SELECT * FROM summed EXCEPT SELECT * FROM tally)
             UNION
             SELECT hall_id, day FROM (SELECT * FROM tally EXCEPT SELECT * FROM summed)
             ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([hcp_core::rating::BAD_LEVEL_MAX], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Distinct values for the form's selects: (code, name) of departments,
    /// windows or staff of a hall (all halls when `None`).
    pub fn profile_options(
        &self,
        hall_id: Option<&str>,
        what: ProfileList,
    ) -> Result<Vec<(String, String)>> {
        let sql = match what {
            ProfileList::Departments => {
                "SELECT DISTINCT code, name FROM departments WHERE (?1 IS NULL OR hall_id = ?1) ORDER BY code"
            }
            ProfileList::Windows => {
                "SELECT DISTINCT no, name FROM windows WHERE (?1 IS NULL OR hall_id = ?1) ORDER BY no"
            }
            ProfileList::Staff => {
                "SELECT DISTINCT no, name FROM staff WHERE (?1 IS NULL OR hall_id = ?1) ORDER BY no"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([hall_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// An application setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?;
        Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
    }

    /// Sets (or clears) a setting and writes its audit row in the same
    /// transaction: for settings a person changes (the user profile).
    pub fn set_setting_audited(
        &mut self,
        key: &str,
        value: Option<&str>,
        entry: &crate::AuditEntry<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        match value {
            Some(v) => tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => tx.execute("DELETE FROM settings WHERE key = ?1", [key])?,
        };
        crate::audit::append_in(&tx, entry)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (`Some`) or clears (`None`) an application setting.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => self
                .conn
                .execute("DELETE FROM settings WHERE key = ?1", [key])?,
        };
        Ok(())
    }
}

/// Which profile list [`Store::profile_options`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileList {
    /// 部门.
    Departments,
    /// 窗口.
    Windows,
    /// 人员.
    Staff,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn filters_bind_values_and_never_inline_text() {
        let f = EvaluationFilter {
            hall_id: Some("H1'; DROP TABLE evaluations; --".into()),
            levels: vec![1, 2, 9],
            text: Some("  跑了三趟 ".into()),
            ..EvaluationFilter::default()
        };
        let w = filter_where(&f);
        assert!(!w.sql.contains("DROP"), "{}", w.sql);
        assert!(w.sql.contains("e.level IN (1, 2)"), "{}", w.sql);
        assert_eq!(w.values.len(), 2);
        assert_eq!(w.values[1], Value::Text("%跑了三趟%".into()));
    }
}
