//! 电子监察预警 in the cache: the rules of `hcp_core::warning` run over a month's
//! ratings (and the eight weeks before it, for the spikes' baselines), and the
//! alerts they find kept with what the officers decided about them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use hcp_core::rating::Channel;
use hcp_core::warning::{self, Params, Rated};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::audit::{AuditEntry, append_in};
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

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

/// A rating's columns the rules read; its text lives in the [`Arena`].
struct Slim {
    id: Span,
    hall_id: Span,
    window_no: Option<Span>,
    staff_no: Option<Span>,
    item_code: Option<Span>,
    department_code: Option<Span>,
    channel: Channel,
    level: u8,
    evaluated_at: DateTime<FixedOffset>,
    served_at: Option<DateTime<FixedOffset>>,
    /// The 办件编号's text only where a rule reads it (an anonymous online top
    /// rating, for 连号代评); elsewhere an empty span says only that there is one.
    serial_no: Option<Span>,
    id_hash: Option<Span>,
}

type Span = (usize, usize);

/// The text of a million rows in one buffer instead of six million strings; codes
/// that repeat (hall, window, staff, item) are kept once.
#[derive(Default)]
struct Arena {
    text: String,
    codes: HashMap<String, Span>,
}

impl Arena {
    fn put(&mut self, s: &str) -> Span {
        let a = self.text.len();
        self.text.push_str(s);
        (a, self.text.len())
    }
    fn code(&mut self, s: &str) -> Span {
        if let Some(&span) = self.codes.get(s) {
            return span;
        }
        let span = self.put(s);
        self.codes.insert(s.to_owned(), span);
        span
    }
    fn get(&self, (a, b): Span) -> &str {
        &self.text[a..b]
    }
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
    /// Runs the warning rules over `month` (`YYYY-MM`) and keeps what they find:
    /// an alert found again gets its new numbers and keeps its decision; an open
    /// one no longer found (a rating revised or withdrawn since) is removed; a
    /// decided one is kept as decided.
    pub fn recompute_alerts(&mut self, month: &str) -> Result<AlertRecompute> {
        let (first, last) = parse_month(month)?;
        let p = Params::default();
        let from = first - Duration::days(i64::from(p.baseline_days));
        // Beijing days → UTC instants: [from 00:00 +08:00, last+1 00:00 +08:00).
        let lo = format!("{}T16:00:00Z", from - Duration::days(1));
        let hi = format!("{last}T16:00:00Z");
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, hall_id, window_no, staff_no, item_code, level, evaluated_at, served_at,
                    serial_no, evaluator_id_hash, department_code, channel
             FROM evaluations
             WHERE evaluated_at >= ?1 AND evaluated_at < ?2
               AND status <> 'withdrawn' AND excluded = 0",
        )?;
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok();
        let mut arena = Arena::default();
        let mut slim: Vec<Slim> = vec![];
        let mut rows = stmt.query([&lo, &hi])?;
        while let Some(r) = rows.next()? {
            let text = |i: usize| -> rusqlite::Result<Option<&str>> {
                Ok(r.get_ref(i)?.as_str_or_null().ok().flatten())
            };
            // A time that does not parse was refused at sync; none get here.
            let Some(evaluated_at) = text(6)?.and_then(parse) else {
                continue;
            };
            let (Some(id), Some(hall)) = (text(0)?, text(1)?) else {
                continue;
            };
            let level: u8 = r.get(5)?;
            let channel = Channel::from_wire(text(11)?.unwrap_or_default());
            let id_hash = text(9)?.map(|t| arena.put(t));
            let read_serial = level == 5 && id_hash.is_none() && channel.is_online();
            let serial_no = text(8)?.map(|t| if read_serial { arena.put(t) } else { (0, 0) });
            slim.push(Slim {
                id: arena.put(id),
                hall_id: arena.code(hall),
                window_no: text(2)?.map(|t| arena.code(t)),
                staff_no: text(3)?.map(|t| arena.code(t)),
                item_code: text(4)?.map(|t| arena.code(t)),
                department_code: text(10)?.map(|t| arena.code(t)),
                channel,
                level,
                evaluated_at,
                served_at: text(7)?.and_then(parse),
                serial_no,
                id_hash,
            });
        }
        drop(rows);
        drop(stmt);
        let rated: Vec<Rated<'_>> = slim
            .iter()
            .map(|s| Rated {
                id: arena.get(s.id),
                hall_id: arena.get(s.hall_id),
                window_no: s.window_no.map(|x| arena.get(x)),
                staff_no: s.staff_no.map(|x| arena.get(x)),
                item_code: s.item_code.map(|x| arena.get(x)),
                department_code: s.department_code.map(|x| arena.get(x)),
                channel: s.channel,
                level: s.level,
                evaluated_at: s.evaluated_at,
                served_at: s.served_at,
                serial_no: s.serial_no.map(|x| arena.get(x)),
                id_hash: s.id_hash.map(|x| arena.get(x)),
            })
            .collect();
        let found = warning::all_alerts(&rated, first, last, &p);
        let now = now_text();
        let (lo_day, hi_day) = (first.to_string(), last.to_string());
        let tx = self.write_tx()?;
        let mut out = AlertRecompute {
            ratings: rated.len() as u64,
            found: found.len() as u64,
            ..Default::default()
        };
        // The month's open alerts are stale until found again.
        tx.execute(
            "UPDATE alerts SET computed_at = '' WHERE state = 'open' AND day_from BETWEEN ?1 AND ?2",
            params![lo_day, hi_day],
        )?;
        for a in &found {
            let evidence = serde_json::to_string(&a.evidence)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let existed: bool = tx
                .prepare_cached(
                    "SELECT 1 FROM alerts WHERE rule = ?1 AND unit_kind = ?2 AND hall_id = ?3
                       AND code = ?4 AND day_from = ?5",
                )?
                .query_row(
                    params![
                        a.rule.as_str(),
                        a.unit.kind.as_str(),
                        a.unit.hall_id,
                        a.unit.code,
                        a.from.to_string()
                    ],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            out.new += u64::from(!existed);
            tx.prepare_cached(
                "INSERT INTO alerts (rule, unit_kind, hall_id, code, day_from, day_to, observed,
                    baseline, explanation, evidence, computed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (rule, unit_kind, hall_id, code, day_from) DO UPDATE SET
                    day_to = excluded.day_to, observed = excluded.observed,
                    baseline = excluded.baseline, explanation = excluded.explanation,
                    evidence = excluded.evidence, computed_at = excluded.computed_at",
            )?
            .execute(params![
                a.rule.as_str(),
                a.unit.kind.as_str(),
                a.unit.hall_id,
                a.unit.code,
                a.from.to_string(),
                a.to.to_string(),
                a.observed,
                a.baseline,
                a.explanation,
                evidence,
                now
            ])?;
        }
        out.removed = tx.execute(
            "DELETE FROM alerts WHERE state = 'open' AND day_from BETWEEN ?1 AND ?2
               AND computed_at = ''",
            params![lo_day, hi_day],
        )? as u64;
        tx.commit()?;
        Ok(out)
    }

    /// Recomputes the months a write has marked due since the last recompute (a
    /// month with no ratings of its own has no alerts: it is only cleared), and
    /// returns what was done, months oldest first.
    pub fn recompute_due_alerts(&mut self) -> Result<Vec<(String, AlertRecompute)>> {
        let due: Vec<String> = self
            .conn
            .prepare("SELECT month FROM alert_months_due ORDER BY month")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = vec![];
        for month in due {
            let (first, last) = parse_month(&month)?;
            let rated: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM evaluation_days WHERE day BETWEEN ?1 AND ?2
                   AND total > 0)",
                params![first.to_string(), last.to_string()],
                |r| r.get(0),
            )?;
            // Cleared first: a sync writing meanwhile marks it due again.
            self.conn
                .execute("DELETE FROM alert_months_due WHERE month = ?1", [&month])?;
            if rated {
                match self.recompute_alerts(&month) {
                    Ok(r) => out.push((month, r)),
                    Err(e) => {
                        self.conn.execute(
                            "INSERT OR IGNORE INTO alert_months_due (month) VALUES (?1)",
                            [&month],
                        )?;
                        return Err(e);
                    }
                }
            }
        }
        Ok(out)
    }

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
