//! Read side: exports, counts, the quarantine list.

use rusqlite::params;
use serde::Serialize;

use crate::{Result, Store};

/// One stored evaluation (latest rev), as columns plus the raw record.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "EvaluationRow.ts")]
pub struct EvaluationRow {
    /// 大厅编码.
    pub hall_id: String,
    /// 评价编号.
    pub id: String,
    /// Latest rev.
    pub rev: i64,
    /// 办件编号.
    pub serial_no: Option<String>,
    /// 事项编码.
    pub item_code: Option<String>,
    /// 事项名称.
    pub item_name: Option<String>,
    /// 部门编码.
    pub department_code: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 评价渠道.
    pub channel: String,
    /// 1..5.
    pub level: u8,
    /// 差评原因 tags (JSON array text).
    pub reasons: String,
    /// 评价内容.
    pub comment: String,
    /// 办理时间 (UTC).
    pub served_at: Option<String>,
    /// 评价时间 (UTC).
    pub evaluated_at: String,
    /// 实名评价.
    pub evaluator_real_name: bool,
    /// 评价人 (masked).
    pub evaluator_name_masked: Option<String>,
    /// 联系电话 (masked).
    pub evaluator_phone_masked: Option<String>,
    /// valid | revised | withdrawn.
    pub status: String,
    /// The record as the hall sent it.
    pub raw_json: String,
}

/// The columns [`evaluation_from_row`] reads, in its order.
pub(crate) const EVALUATION_COLUMNS: &str = "hall_id, id, rev, serial_no, item_code, item_name,
    department_code, window_no, staff_no, channel, level, reasons, comment, served_at,
    evaluated_at, evaluator_real_name, evaluator_name_masked, evaluator_phone_masked, status,
    raw_json, evaluator_id_hash";

/// An [`EvaluationRow`] from a row selected with [`EVALUATION_COLUMNS`].
pub(crate) fn evaluation_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EvaluationRow> {
    let mut row = EvaluationRow {
        hall_id: r.get(0)?,
        id: r.get(1)?,
        rev: r.get(2)?,
        serial_no: r.get(3)?,
        item_code: r.get(4)?,
        item_name: r.get(5)?,
        department_code: r.get(6)?,
        window_no: r.get(7)?,
        staff_no: r.get(8)?,
        channel: r.get(9)?,
        level: r.get(10)?,
        reasons: r.get(11)?,
        comment: r.get(12)?,
        served_at: r.get(13)?,
        evaluated_at: r.get(14)?,
        evaluator_real_name: r.get(15)?,
        evaluator_name_masked: r.get(16)?,
        evaluator_phone_masked: r.get(17)?,
        status: r.get(18)?,
        raw_json: r.get(19)?,
    };
    if row.raw_json.is_empty() {
        let id_hash: Option<String> = r.get(20)?;
        row.raw_json =
            crate::raw::rebuild(&raw_columns(&row, id_hash.as_deref())).unwrap_or_default();
    }
    Ok(row)
}

/// The columns of a row, for rebuilding its raw record.
fn raw_columns<'a>(row: &'a EvaluationRow, id_hash: Option<&'a str>) -> crate::raw::Columns<'a> {
    crate::raw::Columns {
        hall_id: &row.hall_id,
        id: &row.id,
        rev: row.rev,
        serial_no: row.serial_no.as_deref(),
        item_code: row.item_code.as_deref(),
        item_name: row.item_name.as_deref(),
        department_code: row.department_code.as_deref(),
        window_no: row.window_no.as_deref(),
        staff_no: row.staff_no.as_deref(),
        channel: &row.channel,
        level: i64::from(row.level),
        reasons: &row.reasons,
        comment: &row.comment,
        served_at: row.served_at.as_deref(),
        evaluated_at: &row.evaluated_at,
        real_name: row.evaluator_real_name,
        name_masked: row.evaluator_name_masked.as_deref(),
        phone_masked: row.evaluator_phone_masked.as_deref(),
        id_hash,
        status: &row.status,
    }
}

/// The stored revision and raw record (rebuilt when not kept) of one evaluation.
pub(crate) fn evaluation_raw(
    conn: &rusqlite::Connection,
    hall_id: &str,
    id: &str,
) -> rusqlite::Result<Option<(i64, String)>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&format!(
        "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE hall_id = ?1 AND id = ?2"
    ))?
    .query_row([hall_id, id], evaluation_from_row)
    .optional()
    .map(|row| row.map(|r| (r.rev, r.raw_json)))
}

/// (hall_id, id, rev, status, level) of a stored evaluation.
pub type EvaluationKey = (String, String, i64, String, u8);

/// A quarantined record.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "QuarantineRow.ts")]
pub struct QuarantineRow {
    /// 大厅编码.
    pub hall_id: String,
    /// Feed position.
    pub seq: i64,
    /// The change's kind.
    pub kind: String,
    /// The offending field.
    pub field: String,
    /// Why (zh-CN).
    pub reason: String,
    /// The raw change.
    pub raw: String,
    /// When (UTC).
    pub quarantined_at: String,
}

/// What the cache holds for a hall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "HallCounts.ts")]
pub struct HallCounts {
    /// Evaluations (latest revs), any status.
    pub evaluations: i64,
    /// Of which withdrawn.
    pub withdrawn: i64,
    /// Bad ratings (level 1–2, not withdrawn).
    pub bad: i64,
    /// Appeals.
    pub appeals: i64,
    /// Rectifications.
    pub rectifications: i64,
    /// Quarantined records.
    pub quarantined: i64,
}

impl Store {
    /// Calls `f` for every stored evaluation (latest rev) of one hall or all, by
    /// hall then id. Streams: nothing is collected in memory.
    pub fn for_each_evaluation(
        &self,
        hall_id: Option<&str>,
        mut f: impl FnMut(EvaluationRow) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations
             WHERE (?1 IS NULL OR hall_id = ?1) ORDER BY hall_id, id"
        ))?;
        let mut rows = stmt.query([hall_id])?;
        while let Some(r) = rows.next()? {
            let row = evaluation_from_row(r)?;
            f(row).map_err(|e| crate::StoreError::Io {
                path: "输出".into(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// (hall_id, id, rev, status, level) of every stored evaluation, sorted: the
    /// cache's state in a form tests and diagnostics can compare.
    pub fn evaluation_keys(&self) -> Result<Vec<EvaluationKey>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, id, rev, status, level FROM evaluations ORDER BY hall_id, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// (hall_id, id, rev) of every appeal and rectification, sorted, each list
    /// prefixed by its kind.
    pub fn follow_up_keys(&self) -> Result<Vec<(String, String, String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 'appeal', hall_id, id, rev FROM appeals
             UNION ALL SELECT 'rectification', hall_id, id, rev FROM rectifications
             ORDER BY 1, 2, 3",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ids of a hall's bad ratings (level 1–2, not withdrawn) evaluated in
    /// `[from, to)` (UTC text), newest first, at most `limit`.
    pub fn bad_rating_ids(
        &self,
        hall_id: &str,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(BAD_RATING_IDS)?;
        let rows = stmt.query_map(params![hall_id, from, to, limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What the cache holds for one hall.
    pub fn hall_counts(&self, hall_id: &str) -> Result<HallCounts> {
        let c = &self.conn;
        let one = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [hall_id], |r| r.get(0))?) };
        // Evaluation figures come from the per-day table the sync keeps; the
        // follow-ups are few and indexed by hall.
        let (evaluations, withdrawn, bad) = c.query_row(
            "SELECT coalesce(sum(total), 0), coalesce(sum(withdrawn), 0), coalesce(sum(bad), 0)
             FROM evaluation_days WHERE hall_id = ?1",
            [hall_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(HallCounts {
            evaluations,
            withdrawn,
            bad,
            appeals: one("SELECT count(*) FROM appeals WHERE hall_id = ?1")?,
            rectifications: one("SELECT count(*) FROM rectifications WHERE hall_id = ?1")?,
            quarantined: one("SELECT count(*) FROM quarantine WHERE hall_id = ?1")?,
        })
    }

    /// Every hall's counts at once, for the tables that list all halls: read from
    /// `hall_tally`, which triggers keep with the rows it counts (migration 0022);
    /// [`hall_counts`](Self::hall_counts) counts those rows for one hall.
    pub fn all_hall_counts(&self) -> Result<std::collections::HashMap<String, HallCounts>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, evaluations, withdrawn, bad, appeals, rectifications, quarantined
             FROM hall_tally",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                HallCounts {
                    evaluations: r.get(1)?,
                    withdrawn: r.get(2)?,
                    bad: r.get(3)?,
                    appeals: r.get(4)?,
                    rectifications: r.get(5)?,
                    quarantined: r.get(6)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Quarantined records, newest first (all halls, or one).
    pub fn quarantine(&self, hall_id: Option<&str>) -> Result<Vec<QuarantineRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, seq, kind, field, reason, raw, quarantined_at FROM quarantine
             WHERE (?1 IS NULL OR hall_id = ?1) ORDER BY quarantined_at DESC, hall_id, seq DESC",
        )?;
        let rows = stmt.query_map([hall_id], |r| {
            Ok(QuarantineRow {
                hall_id: r.get(0)?,
                seq: r.get(1)?,
                kind: r.get(2)?,
                field: r.get(3)?,
                reason: r.get(4)?,
                raw: r.get(5)?,
                quarantined_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Bad ratings of a hall in a range, newest first. The bound is in the text: only
/// then can SQLite use the partial index `evaluations_bad_by_time`.
pub(crate) const BAD_RATING_IDS: &str = concat!(
    "SELECT id FROM evaluations
     WHERE hall_id = ?1 AND level <= ",
    hcp_core::bad_level_max!(),
    " AND status <> 'withdrawn'
       AND evaluated_at >= ?2 AND evaluated_at < ?3
     ORDER BY evaluated_at DESC LIMIT ?4"
);

impl Store {
    /// The `CREATE` statements of the evaluations table and its indexes, as the
    /// migrations define them (the benchmark builds a twin table from them).
    pub fn evaluations_ddl() -> String {
        crate::MIGRATIONS
            .iter()
            .map(|m| crate::migration_sql(m))
            .flat_map(|m| m.split(';').map(str::to_owned).collect::<Vec<_>>())
            .map(|stmt| {
                stmt.lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .filter(|stmt| {
                let t = stmt.trim();
                t.starts_with("CREATE TABLE evaluations ")
                    || t.starts_with("ALTER TABLE evaluations ")
                    || (t.starts_with("CREATE INDEX") && t.contains(" ON evaluations "))
            })
            .map(|stmt| format!("{};\n", stmt.trim()))
            .collect()
    }

    /// Writes every column of every evaluations row as CSV (header line first, all
    /// fields quoted) — the same rows the benchmark feeds to `sqlite3 .import`.
    pub fn write_evaluations_csv(&self, w: &mut dyn std::io::Write) -> Result<u64> {
        let io = |e: std::io::Error| crate::StoreError::Io {
            path: "CSV".into(),
            source: e,
        };
        let mut stmt = self.conn.prepare("SELECT * FROM evaluations")?;
        let cols = stmt.column_count();
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        writeln!(w, "{}", names.join(",")).map_err(io)?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        let mut line = String::new();
        while let Some(r) = rows.next()? {
            line.clear();
            for i in 0..cols {
                if i > 0 {
                    line.push(',');
                }
                match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => {}
                    rusqlite::types::ValueRef::Integer(v) => line.push_str(&v.to_string()),
                    rusqlite::types::ValueRef::Real(v) => line.push_str(&v.to_string()),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        line.push('"');
                        line.push_str(&String::from_utf8_lossy(t).replace('"', "\"\""));
                        line.push('"');
                    }
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes()).map_err(io)?;
            n += 1;
        }
        Ok(n)
    }
}
