//! The kept alerts, recomputed for what changed.
//!
//! Every write that moves a rating lists its hall and months in
//! `alert_hall_months_due` (and the months in `alert_months_due`, `days.rs`). Due
//! work is then done per (hall, month), oldest month first:
//! 1. the month's rows of that hall are read once; from them the spike counts of
//!    the (hall, month) are rebuilt (`alert_unit_months`, `alert_unit_bad`);
//! 2. 差评突增 is judged from the counts of the month and the eight weeks before it
//!    (`hcp_core::warning::spike_days`); only a day that fires reads its bad
//!    ratings again, for the evidence;
//! 3. the other hall rules (反复评价, 好评集中, 短时集中好评, 连号代评) run over the
//!    month's top ratings of that hall read in step 1;
//! 4. the hall's alerts of that month are replaced by what was found (an open one
//!    not found again is removed, a decided one kept).
//!
//! 疑似恶意差评 follows a rater across halls: it is recomputed per due month over the
//! month's bad ratings by named raters only. A sync of today's ratings thus reads
//! today's month of the halls it touched, not the province's month and its
//! baseline weeks.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use hcp_core::rating::{BAD_LEVEL_MAX, Channel, is_bad_level};
use hcp_core::warning::{self, Alert, Params, Rated, Rule, SpikeCounts, UnitKind};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{AlertRecompute, parse_month};
use crate::{Result, Store, StoreError, now_text};

/// Rows read before a recompute commits what it has done (a sync waiting to write
/// waits for one batch, not for the whole province).
const ROWS_PER_COMMIT: u64 = 100_000;

/// Beijing days `first..=last` as the stored UTC instants `[lo, hi)`.
fn instants(first: NaiveDate, last: NaiveDate) -> (String, String) {
    (
        format!("{}T16:00:00Z", first - Duration::days(1)),
        format!("{last}T16:00:00Z"),
    )
}

fn beijing_date(t: &DateTime<FixedOffset>) -> NaiveDate {
    t.with_timezone(&hcp_core::metrics::beijing()).date_naive()
}

/// The units 差评突增 watches, and the column that names each in `evaluations`
/// (from this fixed list, never from stored text).
const SPIKE_UNITS: [(UnitKind, Option<&str>); 4] = [
    (UnitKind::Hall, None),
    (UnitKind::Window, Some("window_no")),
    (UnitKind::Staff, Some("staff_no")),
    (UnitKind::Item, Some("item_code")),
];

fn spike_unit(kind: &str) -> Option<(UnitKind, Option<&'static str>)> {
    SPIKE_UNITS.into_iter().find(|(k, _)| k.as_str() == kind)
}

/// One counted rating as the recompute reads it.
struct Row {
    id: String,
    hall_id: String,
    window_no: Option<String>,
    staff_no: Option<String>,
    item_code: Option<String>,
    department_code: Option<String>,
    channel: Channel,
    level: u8,
    evaluated_at: DateTime<FixedOffset>,
    served_at: Option<DateTime<FixedOffset>>,
    serial_no: Option<String>,
    id_hash: Option<String>,
}

const ROW_COLUMNS: &str = "id, hall_id, window_no, staff_no, item_code, department_code, level, \
     evaluated_at, served_at, serial_no, evaluator_id_hash, channel";

/// A row of [`ROW_COLUMNS`]; `None` for a time that does not parse (refused at
/// sync; none get here) or a rating no person gave (系统默认评价: the rules leave
/// them out).
fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Row>> {
    let parse = |t: Option<String>| t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
    let channel = Channel::from_wire(&r.get::<_, String>(11)?);
    let Some(evaluated_at) = parse(r.get(7)?) else {
        return Ok(None);
    };
    if !channel.is_by_a_person() {
        return Ok(None);
    }
    Ok(Some(Row {
        id: r.get(0)?,
        hall_id: r.get(1)?,
        window_no: r.get(2)?,
        staff_no: r.get(3)?,
        item_code: r.get(4)?,
        department_code: r.get(5)?,
        level: r.get(6)?,
        evaluated_at,
        served_at: parse(r.get(8)?),
        serial_no: r.get(9)?,
        id_hash: r.get(10)?,
        channel,
    }))
}

/// The counted rows by a person that `filter` (an index choice and a WHERE clause
/// written here, never from stored text) selects.
fn read_rows(tx: &Transaction<'_>, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Row>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM evaluations {filter}
               AND status <> 'withdrawn' AND excluded = 0"
        ))?
        .query_map(args, row_of)?
        .filter_map(|r| r.transpose())
        .collect::<rusqlite::Result<_>>()?)
}

impl Row {
    fn rated(&self) -> Rated<'_> {
        Rated {
            id: &self.id,
            hall_id: &self.hall_id,
            window_no: self.window_no.as_deref(),
            staff_no: self.staff_no.as_deref(),
            item_code: self.item_code.as_deref(),
            department_code: self.department_code.as_deref(),
            channel: self.channel,
            level: self.level,
            evaluated_at: self.evaluated_at,
            served_at: self.served_at,
            serial_no: self.serial_no.as_deref(),
            id_hash: self.id_hash.as_deref(),
        }
    }
}

/// The order every rule sees its ratings in (time, then hall and number), so that
/// what they find does not depend on how the rows were read.
pub(super) fn in_rule_order(rated: &mut [Rated<'_>]) {
    rated.sort_by(|a, b| (a.evaluated_at, a.hall_id, a.id).cmp(&(b.evaluated_at, b.hall_id, b.id)));
}

/// Which kept alerts a recompute replaces.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// One hall's, of every rule but 疑似恶意差评.
    Hall(&'a str),
    /// 疑似恶意差评, of all halls.
    Raters,
}

impl Store {
    /// Recomputes every hall's alerts of `month` (`YYYY-MM`) and its 疑似恶意差评
    /// (with whatever else was due), and returns what was done for that month.
    pub fn recompute_alerts(&mut self, month: &str) -> Result<AlertRecompute> {
        let (first, last) = parse_month(month)?;
        let tx = self.write_tx()?;
        // Halls with ratings that month, and halls with alerts in it (to clear).
        tx.execute(
            "INSERT OR IGNORE INTO alert_hall_months_due (hall_id, month)
             SELECT DISTINCT hall_id, ?1 FROM evaluation_days WHERE day BETWEEN ?2 AND ?3
             UNION SELECT DISTINCT hall_id, ?1 FROM alerts WHERE day_from BETWEEN ?2 AND ?3",
            params![month, first.to_string(), last.to_string()],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO alert_months_due (month) VALUES (?1)",
            [month],
        )?;
        tx.commit()?;
        let done = self.recompute_due_alerts()?;
        Ok(done
            .into_iter()
            .find(|(m, _)| m == month)
            .map(|(_, r)| r)
            .unwrap_or_default())
    }

    /// Does the due work (see the module's text) and returns what was done per
    /// month, oldest first.
    pub fn recompute_due_alerts(&mut self) -> Result<Vec<(String, AlertRecompute)>> {
        let p = Params::default();
        let mut out: BTreeMap<String, AlertRecompute> = BTreeMap::new();
        let due: Vec<(String, String)> = self
            .conn
            .prepare("SELECT hall_id, month FROM alert_hall_months_due ORDER BY hall_id, month")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut pairs = due.iter().peekable();
        while pairs.peek().is_some() {
            let tx = self.write_tx()?;
            let now = now_text();
            let mut read = 0;
            for (hall, month) in pairs.by_ref() {
                let r = hall_month(&tx, hall, month, &p, &now)?;
                read += r.ratings;
                add(out.entry(month.clone()).or_default(), r);
                tx.execute(
                    "DELETE FROM alert_hall_months_due WHERE hall_id = ?1 AND month = ?2",
                    [hall, month],
                )?;
                if read >= ROWS_PER_COMMIT {
                    break;
                }
            }
            tx.commit()?;
        }
        let months: Vec<String> = self
            .conn
            .prepare("SELECT month FROM alert_months_due ORDER BY month")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for month in months {
            let tx = self.write_tx()?;
            let r = raters_month(&tx, &month, &p, &now_text())?;
            add(out.entry(month.clone()).or_default(), r);
            tx.execute("DELETE FROM alert_months_due WHERE month = ?1", [&month])?;
            tx.commit()?;
        }
        // A month nothing was read or found in says nothing.
        Ok(out
            .into_iter()
            .filter(|(_, r)| *r != AlertRecompute::default())
            .collect())
    }
}

fn add(acc: &mut AlertRecompute, r: AlertRecompute) {
    acc.ratings += r.ratings;
    acc.found += r.found;
    acc.new += r.new;
    acc.removed += r.removed;
}

/// One hall's month: its counts rebuilt, its spikes judged from the counts, its
/// other hall rules run over its rows, its alerts of the month replaced.
fn hall_month(
    tx: &Transaction<'_>,
    hall: &str,
    month: &str,
    p: &Params,
    now: &str,
) -> Result<AlertRecompute> {
    let (first, last) = parse_month(month)?;
    let (lo, hi) = instants(first, last);
    let rows = read_rows(
        tx,
        "INDEXED BY evaluations_by_time WHERE hall_id = ?1 AND evaluated_at >= ?2 AND evaluated_at < ?3",
        params![hall, lo, hi],
    )?;
    keep_counts(tx, hall, month, first, last, &rows)?;
    let start = first - Duration::days(i64::from(p.baseline_days));
    let kept = KeptCounts::read(tx, hall, month, start, last)?;
    let mut found: Vec<Alert> = vec![];
    for day in warning::spike_days(&kept.counts(hall, start, last), first, last, p) {
        let evidence = spike_evidence(tx, &day.unit, day.day)?;
        found.push(day.into_alert(evidence));
    }
    let mut rated: Vec<Rated<'_>> = rows
        .iter()
        .filter(|r| r.level == 5 || (r.level == 4 && r.id_hash.is_some()))
        .map(Row::rated)
        .collect();
    in_rule_order(&mut rated);
    found.extend(warning::repeat_raters(&rated, p));
    found.extend(warning::concentrated(&rated, p));
    found.extend(warning::praise_bursts(&rated, p));
    found.extend(warning::serial_runs(&rated, p));
    let mut out = keep(tx, Scope::Hall(hall), first, last, &found, now)?;
    out.ratings = rows.len() as u64;
    Ok(out)
}

/// The (hall, month)'s spike counts, from its rows.
fn keep_counts(
    tx: &Transaction<'_>,
    hall: &str,
    month: &str,
    first: NaiveDate,
    last: NaiveDate,
    rows: &[Row],
) -> Result<()> {
    let mut days: HashMap<(UnitKind, &str), u32> = HashMap::new();
    let mut bad: HashMap<(NaiveDate, UnitKind, &str), u32> = HashMap::new();
    for r in rows {
        let day = beijing_date(&r.evaluated_at);
        let bit = 1u32 << (day.day() - 1);
        for (kind, code) in [
            (UnitKind::Hall, Some(hall)),
            (UnitKind::Window, r.window_no.as_deref()),
            (UnitKind::Staff, r.staff_no.as_deref()),
            (UnitKind::Item, r.item_code.as_deref()),
        ] {
            let Some(code) = code else { continue };
            *days.entry((kind, code)).or_default() |= bit;
            if is_bad_level(r.level) {
                *bad.entry((day, kind, code)).or_default() += 1;
            }
        }
    }
    tx.execute(
        "DELETE FROM alert_unit_months WHERE hall_id = ?1 AND month = ?2",
        [hall, month],
    )?;
    tx.execute(
        "DELETE FROM alert_unit_bad WHERE hall_id = ?1 AND day BETWEEN ?2 AND ?3",
        params![hall, first.to_string(), last.to_string()],
    )?;
    let mut put = tx.prepare_cached(
        "INSERT INTO alert_unit_months (hall_id, month, kind, code, days) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((kind, code), mask) in days {
        put.execute(params![hall, month, kind.as_str(), code, mask])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO alert_unit_bad (hall_id, day, kind, code, bad) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((day, kind, code), n) in bad {
        put.execute(params![hall, day.to_string(), kind.as_str(), code, n])?;
    }
    Ok(())
}

/// One hall's kept spike counts of a month and the eight weeks before it.
struct KeptCounts {
    /// (first of the month, kind, code, days rated as bits).
    rated: Vec<(NaiveDate, UnitKind, String, u32)>,
    /// (day, kind, code, bad ratings).
    bad: Vec<(NaiveDate, UnitKind, String, u32)>,
}

impl KeptCounts {
    fn read(
        tx: &Transaction<'_>,
        hall: &str,
        month: &str,
        start: NaiveDate,
        last: NaiveDate,
    ) -> Result<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("预警计数 “{what}” 无法读取"));
        let mut rated = vec![];
        let mut stmt = tx.prepare_cached(
            "SELECT month, kind, code, days FROM alert_unit_months
             WHERE hall_id = ?1 AND month BETWEEN ?2 AND ?3",
        )?;
        let mut rows = stmt.query(params![hall, start.format("%Y-%m").to_string(), month])?;
        while let Some(r) = rows.next()? {
            let (m, kind, code, mask): (String, String, String, u32) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let first = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .map_err(|_| corrupt(&m))?;
            let (kind, _) = spike_unit(&kind).ok_or_else(|| corrupt(&kind))?;
            rated.push((first, kind, code, mask));
        }
        let mut bad = vec![];
        let mut stmt = tx.prepare_cached(
            "SELECT day, kind, code, bad FROM alert_unit_bad
             WHERE hall_id = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let mut rows = stmt.query(params![hall, start.to_string(), last.to_string()])?;
        while let Some(r) = rows.next()? {
            let (day, kind, code, n): (String, String, String, u32) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| corrupt(&day))?;
            let (kind, _) = spike_unit(&kind).ok_or_else(|| corrupt(&kind))?;
            bad.push((day, kind, code, n));
        }
        Ok(KeptCounts { rated, bad })
    }

    /// As the rule reads them, for the days `start..=last`.
    fn counts<'k>(&'k self, hall: &'k str, start: NaiveDate, last: NaiveDate) -> SpikeCounts<'k> {
        let mut c = SpikeCounts::default();
        for (first, kind, code, mask) in &self.rated {
            for bit in 0..31 {
                if mask & (1 << bit) == 0 {
                    continue;
                }
                let day = *first + Duration::days(bit);
                if (start..=last).contains(&day) {
                    c.rated((*kind, hall, code), day);
                }
            }
        }
        for (day, kind, code, n) in &self.bad {
            c.bad((*kind, hall, code), *day, *n);
        }
        c
    }
}

/// The bad ratings a spike rests on: the unit's of that day, in time order.
fn spike_evidence(
    tx: &Transaction<'_>,
    unit: &warning::Unit,
    day: NaiveDate,
) -> Result<Vec<String>> {
    let (lo, hi) = instants(day, day);
    let Some((_, column)) = spike_unit(unit.kind.as_str()) else {
        return Ok(vec![]);
    };
    // The column comes from the fixed list above; the code is a parameter.
    let unit_filter = column.map_or(String::new(), |c| format!("AND {c} = ?4"));
    let sql = format!(
        "SELECT id, channel FROM evaluations INDEXED BY evaluations_bad_by_time
         WHERE hall_id = ?1 AND evaluated_at >= ?2 AND evaluated_at < ?3
           AND level <= {BAD_LEVEL_MAX} AND status <> 'withdrawn' AND excluded = 0
           {unit_filter}
         ORDER BY evaluated_at, id"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = if column.is_some() {
        stmt.query(params![unit.hall_id, lo, hi, unit.code])?
    } else {
        stmt.query(params![unit.hall_id, lo, hi])?
    };
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        if Channel::from_wire(&r.get::<_, String>(1)?).is_by_a_person() {
            out.push(r.get(0)?);
        }
        if out.len() >= warning::MAX_EVIDENCE {
            break;
        }
    }
    Ok(out)
}

/// 疑似恶意差评 of a month: over its bad ratings by named raters, all halls.
fn raters_month(
    tx: &Transaction<'_>,
    month: &str,
    p: &Params,
    now: &str,
) -> Result<AlertRecompute> {
    let (first, last) = parse_month(month)?;
    let (lo, hi) = instants(first, last);
    let rows = read_rows(
        tx,
        &format!(
            "WHERE evaluated_at >= ?1 AND evaluated_at < ?2
               AND level <= {BAD_LEVEL_MAX} AND evaluator_id_hash IS NOT NULL"
        ),
        params![lo, hi],
    )?;
    let mut rated: Vec<Rated<'_>> = rows.iter().map(Row::rated).collect();
    in_rule_order(&mut rated);
    let found = warning::malicious_raters(&rated, p);
    let mut out = keep(tx, Scope::Raters, first, last, &found, now)?;
    out.ratings = rows.len() as u64;
    Ok(out)
}

/// Replaces the kept alerts of `scope` whose first day is in `first..=last` by
/// `found`: one found again gets its new numbers and keeps its decision; an open
/// one no longer found is removed; a decided one is kept as decided.
fn keep(
    tx: &Transaction<'_>,
    scope: Scope<'_>,
    first: NaiveDate,
    last: NaiveDate,
    found: &[Alert],
    now: &str,
) -> Result<AlertRecompute> {
    let (lo, hi) = (first.to_string(), last.to_string());
    let malicious = Rule::MaliciousRater.as_str();
    let hall = match scope {
        Scope::Hall(hall) => Some(hall),
        Scope::Raters => None,
    };
    let which = "((?3 IS NULL AND rule = ?4) OR (hall_id = ?3 AND rule <> ?4))";
    tx.execute(
        &format!(
            "UPDATE alerts SET computed_at = ''
             WHERE state = 'open' AND day_from BETWEEN ?1 AND ?2 AND {which}"
        ),
        params![lo, hi, hall, malicious],
    )?;
    let mut out = AlertRecompute {
        found: found.len() as u64,
        ..Default::default()
    };
    for a in found {
        let evidence =
            serde_json::to_string(&a.evidence).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let existed = tx
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
                |_| Ok(()),
            )
            .optional()?
            .is_some();
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
        &format!(
            "DELETE FROM alerts WHERE state = 'open' AND day_from BETWEEN ?1 AND ?2
               AND computed_at = '' AND {which}"
        ),
        params![lo, hi, hall, malicious],
    )? as u64;
    Ok(out)
}
