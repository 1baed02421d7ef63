//! 电子监察预警 in the cache: the rules of `hcp_core::warning` recomputed per hall
//! and month for what a write touched (`recompute.rs`; the spikes from kept counts),
//! the reference that runs them over the rows (`reference.rs`), and the alerts kept
//! with what the officers decided about them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use hcp_core::warning::{self, Params};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::audit::{AuditEntry, append_in};
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

mod recompute;
mod reference;

/// One stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "AlertRow.ts")]
pub struct AlertRow {
    /// Its number.
    pub alert_id: i64,
    /// `spike`, `repeat_rater`, `concentrated`, `praise_burst`, `serial_run`,
    /// `malicious_rater` (`hcp_core::warning::Rule`).
    pub rule: String,
    /// The rule, zh-CN.
    pub rule_label: String,
    /// `hall`, `window`, `staff`, `item`, `evaluator`, `department`.
    pub unit_kind: String,
    /// 大厅编码.
    pub hall_id: String,
    /// Window no., staff no., item code, evaluator hash (the hall's code for the hall).
    pub code: String,
    /// First day (Beijing), `YYYY-MM-DD`.
    pub day_from: String,
    /// Last day.
    pub day_to: String,
    /// What was seen.
    pub observed: f64,
    /// What is normal, where the rule has a baseline.
    pub baseline: Option<f64>,
    /// The explanation with the numbers, zh-CN.
    pub explanation: String,
    /// The evaluations it rests on.
    pub evidence: Vec<String>,
    /// `open`, `acknowledged` (已确认) or `dismissed` (已排除).
    pub state: String,
    /// The officer's note.
    pub note: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (UTC).
    pub decided_at: Option<String>,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// The unit's name (window, staff, item, department), when the hall's
    /// profile has it.
    pub unit_name: Option<String>,
}

/// What a recompute did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "AlertRecompute.ts")]
pub struct AlertRecompute {
    /// Ratings read (the month and the baseline weeks before it).
    pub ratings: u64,
    /// Alerts the rules found for the month.
    pub found: u64,
    /// …of which new.
    pub new: u64,
    /// Open alerts no longer found, removed.
    pub removed: u64,
}

fn parse_month(month: &str) -> Result<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| StoreError::Refused(format!("月份格式应为 YYYY-MM：{month}")))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| StoreError::Refused(format!("月份超出范围：{month}")))?;
    Ok((first, next - Duration::days(1)))
}

/// The alert's columns, then the names people read beside the codes: the hall's,
/// and the unit's from the hall's profile (an item not in it: from the first
/// rating the alert rests on; a rater has none).
const ALERT_COLUMNS: &str = "alert_id, rule, unit_kind, hall_id, code, day_from, day_to, observed, \
     baseline, explanation, evidence, state, note, decided_by, decided_at, \
     (SELECT h.name FROM halls h WHERE h.hall_id = alerts.hall_id), \
     CASE unit_kind \
       WHEN 'window' THEN (SELECT w.name FROM windows w WHERE w.hall_id = alerts.hall_id AND w.no = alerts.code) \
       WHEN 'staff' THEN (SELECT s.name FROM staff s WHERE s.hall_id = alerts.hall_id AND s.no = alerts.code) \
       WHEN 'department' THEN (SELECT d.name FROM departments d WHERE d.hall_id = alerts.hall_id AND d.code = alerts.code) \
       WHEN 'item' THEN coalesce( \
         (SELECT i.name FROM service_items i WHERE i.hall_id = alerts.hall_id AND i.code = alerts.code), \
         (SELECT e.item_name FROM evaluations e WHERE e.hall_id = alerts.hall_id \
            AND e.id = json_extract(alerts.evidence, '$[0]'))) \
     END";

fn alert_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    let rule: String = r.get(1)?;
    let evidence: String = r.get(10)?;
    Ok(AlertRow {
        alert_id: r.get(0)?,
        rule_label: rule_label(&rule).to_owned(),
        rule,
        unit_kind: r.get(2)?,
        hall_id: r.get(3)?,
        code: r.get(4)?,
        day_from: r.get(5)?,
        day_to: r.get(6)?,
        observed: r.get(7)?,
        baseline: r.get(8)?,
        explanation: r.get(9)?,
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        state: r.get(11)?,
        note: r.get(12)?,
        decided_by: r.get(13)?,
        decided_at: r.get(14)?,
        hall_name: r.get(15)?,
        unit_name: r.get(16)?,
    })
}

fn rule_label(rule: &str) -> &'static str {
    warning::Rule::parse(rule).map_or("其他", |r| r.label_zh())
}

impl Store {
    /// The alerts whose first day is in `month` (all months when `None`), of one
    /// rule or all, newest first.
    pub fn alerts(&self, month: Option<&str>, rule: Option<&str>) -> Result<Vec<AlertRow>> {
        let (lo, hi) = match month {
            Some(m) => {
                let (a, b) = parse_month(m)?;
                (a.to_string(), b.to_string())
            }
            None => ("0000-01-01".to_owned(), "9999-12-31".to_owned()),
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts
             WHERE day_from BETWEEN ?1 AND ?2 AND (?3 IS NULL OR rule = ?3)
             ORDER BY day_from DESC, alert_id DESC"
        ))?;
        let rows = stmt.query_map(params![lo, hi, rule], alert_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// 确认 (`acknowledged`) or 排除 (`dismissed`) an alert, with a note (audited).
    pub fn decide_alert(
        &mut self,
        alert_id: i64,
        state: &str,
        note: &str,
        who: Who<'_>,
    ) -> Result<AlertRow> {
        if !matches!(state, "acknowledged" | "dismissed") {
            return Err(StoreError::Refused("预警只能确认或排除".into()));
        }
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2000 {
            return Err(StoreError::Refused(
                "请填写处置说明（不超过 2000 字）".into(),
            ));
        }
        let tx = self.write_tx()?;
        let changed = tx.execute(
            "UPDATE alerts SET state = ?2, note = ?3, decided_by = ?4, decided_at = ?5
             WHERE alert_id = ?1",
            params![alert_id, state, note, who.name, now_text()],
        )?;
        if changed == 0 {
            return Err(StoreError::Refused(format!("没有编号为 {alert_id} 的预警")));
        }
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: &format!("alert:{alert_id}"),
                action: if state == "acknowledged" {
                    "alert_acknowledged"
                } else {
                    "alert_dismissed"
                },
                detail: &serde_json::json!({ "note": note }).to_string(),
            },
        )?;
        let row = tx.query_row(
            &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?1"),
            [alert_id],
            alert_of,
        )?;
        tx.commit()?;
        Ok(row)
    }
}

/// One day of an alert's unit: its ratings and its bad ratings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "AlertDay.ts")]
pub struct AlertDay {
    /// `YYYY-MM-DD` (Beijing).
    pub day: String,
    /// Ratings (not withdrawn, not excluded by an upheld appeal).
    pub total: i64,
    /// …of which bad.
    pub bad: i64,
}

/// One rating an alert rests on, as the evidence table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "AlertEvidence.ts")]
pub struct AlertEvidence {
    /// 评价编号.
    pub id: String,
    /// 大厅编码.
    pub hall_id: String,
    /// 评价时间 (UTC, RFC 3339).
    pub evaluated_at: String,
    /// 办理时间.
    pub served_at: Option<String>,
    /// 1–5.
    pub level: i64,
    /// `valid`, `revised`, `withdrawn`.
    pub status: String,
    /// 渠道.
    pub channel: String,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 事项名称.
    pub item_name: Option<String>,
    /// 办件编号.
    pub serial_no: Option<String>,
    /// Whether the evaluator is named (the hash itself is not shown).
    pub real_name: bool,
    /// The bad rating's case, where one was opened (an appeal on it can mark the
    /// rater as malicious).
    pub case_id: Option<i64>,
}

/// An alert with what an officer checks it against.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "AlertDetail.ts")]
pub struct AlertDetail {
    /// The alert.
    pub alert: AlertRow,
    /// 差评突增: the fewest bad ratings in a day that fire at its baseline.
    pub threshold: Option<u32>,
    /// The evaluations it rests on, oldest first (those still in the cache).
    pub evidence: Vec<AlertEvidence>,
    /// The unit's days around it (the baseline weeks before a spike), every day of
    /// the span, zero-filled.
    pub series: Vec<AlertDay>,
}

impl Store {
    /// One alert with its evidence and its unit's daily series.
    pub fn alert_detail(&self, alert_id: i64) -> Result<AlertDetail> {
        let alert = self
            .conn
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?1"),
                [alert_id],
                alert_of,
            )
            .optional()?
            .ok_or_else(|| StoreError::Refused(format!("没有编号为 {alert_id} 的预警")))?;
        let p = Params::default();
        let threshold = (alert.rule == warning::Rule::Spike.as_str())
            .then(|| alert.baseline.map(|b| warning::spike_threshold(b, &p)))
            .flatten();
        let evaluator = alert.unit_kind == "evaluator";
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.hall_id, e.evaluated_at, e.served_at, e.level, e.status, e.channel,
                    e.window_no, e.staff_no, e.item_name, e.serial_no, e.evaluator_real_name,
                    (SELECT min(c.case_id) FROM cases c
                      WHERE c.hall_id = e.hall_id AND c.evaluation_id = e.id)
             FROM evaluations e
             WHERE e.id = ?1
               AND (CASE WHEN ?2 THEN e.evaluator_id_hash = ?3 ELSE e.hall_id = ?3 END)",
        )?;
        let mut evidence = vec![];
        for id in &alert.evidence {
            let key = if evaluator {
                &alert.code
            } else {
                &alert.hall_id
            };
            let row = stmt
                .query_row(params![id, evaluator, key], |r| {
                    Ok(AlertEvidence {
                        id: r.get(0)?,
                        hall_id: r.get(1)?,
                        evaluated_at: r.get(2)?,
                        served_at: r.get(3)?,
                        level: r.get(4)?,
                        status: r.get(5)?,
                        channel: r.get(6)?,
                        window_no: r.get(7)?,
                        staff_no: r.get(8)?,
                        item_name: r.get(9)?,
                        serial_no: r.get(10)?,
                        real_name: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
                        case_id: r.get(12)?,
                    })
                })
                .optional()?;
            evidence.extend(row);
        }
        evidence.sort_by(|a, b| a.evaluated_at.cmp(&b.evaluated_at));
        drop(stmt);
        let series = self.alert_series(&alert, &p)?;
        Ok(AlertDetail {
            alert,
            threshold,
            evidence,
            series,
        })
    }

    fn alert_series(&self, a: &AlertRow, p: &Params) -> Result<Vec<AlertDay>> {
        let parse = |d: &str| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|e| StoreError::Corrupt(format!("预警日期 “{d}”：{e}")))
        };
        let (from, to) = (parse(&a.day_from)?, parse(&a.day_to)?);
        let before = if a.rule == warning::Rule::Spike.as_str() {
            i64::from(p.baseline_days)
        } else {
            14
        };
        let first = from - Duration::days(before);
        let last = to + Duration::days(7);
        let lo = format!("{}T16:00:00Z", first - Duration::days(1));
        let hi = format!("{last}T16:00:00Z");
        // The column is chosen from a fixed list, never from the alert's text.
        let (column, scoped) = match a.unit_kind.as_str() {
            "window" => ("window_no", true),
            "staff" => ("staff_no", true),
            "item" => ("item_code", true),
            "department" => ("department_code", true),
            "evaluator" => ("evaluator_id_hash", false),
            _ => ("hall_id", true),
        };
        let sql = format!(
            "SELECT date(evaluated_at, '+8 hours'), count(*), sum(level <= ?5)
             FROM evaluations
             WHERE {column} = ?1 AND (?2 = 0 OR hall_id = ?3)
               AND evaluated_at >= ?4 AND evaluated_at < ?6
               AND status <> 'withdrawn' AND excluded = 0
             GROUP BY 1"
        );
        let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                a.code,
                scoped,
                a.hall_id,
                lo,
                hcp_core::rating::BAD_LEVEL_MAX,
                hi
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
        )?;
        for row in rows {
            let (d, total, bad) = row?;
            counts.insert(d, (total, bad));
        }
        let mut out = vec![];
        let mut d = first;
        while d <= last {
            let key = d.to_string();
            let (total, bad) = counts.get(&key).copied().unwrap_or((0, 0));
            out.push(AlertDay {
                day: key,
                total,
                bad,
            });
            d += Duration::days(1);
        }
        Ok(out)
    }
}
