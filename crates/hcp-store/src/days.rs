//! The per-day figures (`evaluation_days`): what each evaluation row counts on its
//! Beijing day, collected over a transaction and written once. The feed writer and
//! the case engine's effects (an upheld appeal excludes a rating) both move them.

use rusqlite::{Transaction, params};

use crate::{Result, StoreError};

/// What one evaluation row counts in `evaluation_days`: (total, withdrawn, good, bad).
pub(crate) type DayFigures = [i64; 4];

/// A stored level (an integer column) that is a bad rating.
pub(crate) fn is_bad_stored(level: i64) -> bool {
    u8::try_from(level).is_ok_and(hcp_core::rating::is_bad_level)
}

/// An evaluation excluded by an upheld appeal counts as neither good nor bad.
pub(crate) fn figures(level: i64, status: &str, excluded: bool) -> DayFigures {
    let withdrawn = status == "withdrawn";
    let counted = !withdrawn && !excluded;
    [
        1,
        i64::from(withdrawn),
        i64::from(counted && !is_bad_stored(level)),
        i64::from(counted && is_bad_stored(level)),
    ]
}

/// `acc += sign × f`, figure by figure.
fn add_figures(acc: &mut DayFigures, f: DayFigures, sign: i64) {
    for (a, x) in acc.iter_mut().zip(f) {
        *a += sign * x;
    }
}

/// Changes to `evaluation_days` collected over a transaction, by (hall, Beijing day).
#[derive(Default)]
pub(crate) struct DayDeltas(std::collections::HashMap<(String, String), DayFigures>);

impl DayDeltas {
    pub(crate) fn add(&mut self, hall_id: &str, day: String, f: DayFigures, sign: i64) {
        add_figures(
            self.0.entry((hall_id.to_owned(), day)).or_default(),
            f,
            sign,
        );
    }

    pub(crate) fn write(self, tx: &Transaction<'_>) -> Result<()> {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO evaluation_days (hall_id, day, total, withdrawn, good, bad)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (hall_id, day) DO UPDATE SET total = total + excluded.total,
                withdrawn = withdrawn + excluded.withdrawn, good = good + excluded.good,
                bad = bad + excluded.bad",
        )?;
        let mut months = std::collections::BTreeSet::new();
        // …and per hall, for the hall rules and their counts (`alert_hall_months_due`).
        let mut alert_hall_months = std::collections::BTreeSet::new();
        // The reports' groups of every hall and month a rating moved in (`report_groups`).
        let mut hall_months = std::collections::BTreeSet::new();
        // The halls' totals move by the sum of their days' (`hall_tally`).
        let mut halls: std::collections::HashMap<String, DayFigures> = Default::default();
        // …and the days' totals over all halls by theirs (`day_tally`).
        let mut days: std::collections::HashMap<String, DayFigures> = Default::default();
        for ((hall, day), f) in self.0 {
            // A revision that moves no figure (5 → 4, a new 办件编号) may still move
            // an alert: its months are due all the same.
            for m in alert_months_of(&day) {
                alert_hall_months.insert((hall.clone(), m.clone()));
                months.insert(m);
            }
            if let Some(m) = day.get(..7) {
                hall_months.insert((hall.clone(), m.to_owned()));
            }
            if f != [0; 4] {
                stmt.execute(params![hall, day, f[0], f[1], f[2], f[3]])?;
                add_figures(halls.entry(hall).or_default(), f, 1);
                add_figures(days.entry(day).or_default(), f, 1);
            }
        }
        let mut tally = tx.prepare_cached(
            "INSERT INTO hall_tally (hall_id, evaluations, withdrawn, bad) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (hall_id) DO UPDATE SET evaluations = evaluations + excluded.evaluations,
                withdrawn = withdrawn + excluded.withdrawn, bad = bad + excluded.bad",
        )?;
        for (hall, f) in halls {
            tally.execute(params![hall, f[0], f[1], f[3]])?;
        }
        let mut by_day = tx.prepare_cached(
            "INSERT INTO day_tally (day, total, withdrawn, good, bad) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (day) DO UPDATE SET total = total + excluded.total,
                withdrawn = withdrawn + excluded.withdrawn, good = good + excluded.good,
                bad = bad + excluded.bad",
        )?;
        for (day, f) in days {
            by_day.execute(params![day, f[0], f[1], f[2], f[3]])?;
        }
        let mut due =
            tx.prepare_cached("INSERT OR IGNORE INTO alert_months_due (month) VALUES (?1)")?;
        for m in months {
            due.execute([m])?;
        }
        let mut hall_due = tx.prepare_cached(
            "INSERT OR IGNORE INTO alert_hall_months_due (hall_id, month) VALUES (?1, ?2)",
        )?;
        for (hall, m) in alert_hall_months {
            hall_due.execute([hall, m])?;
        }
        let mut report_due = tx.prepare_cached(
            "INSERT OR IGNORE INTO report_months_due (hall_id, month) VALUES (?1, ?2)",
        )?;
        for (hall, m) in hall_months {
            report_due.execute([hall, m])?;
        }
        Ok(())
    }
}

/// The months (`YYYY-MM`) whose alerts a rating of `day` (`YYYY-MM-DD`) can move:
/// its own, and those of the 56 days after it, where it is in a spike's baseline,
/// up to the current month.
pub(crate) fn alert_months_of(day: &str) -> Vec<String> {
    use chrono::{Datelike, Duration, NaiveDate};
    let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        return vec![];
    };
    let now = chrono::Utc::now()
        .with_timezone(&hcp_core::metrics::beijing())
        .date_naive();
    let last = (d + Duration::days(i64::from(
        hcp_core::warning::Params::default().baseline_days,
    )))
    .min(now)
    .max(d);
    let mut out = vec![];
    let mut m = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d);
    while m <= last {
        out.push(m.format("%Y-%m").to_string());
        let Some(next) = m.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        m = next;
    }
    out
}

/// The Beijing-time day of a stored UTC instant (`2026-10-31T16:10:00Z` → `2026-11-01`).
pub(crate) fn beijing_day_of_utc_text(t: &str) -> Result<String> {
    let at = chrono::DateTime::parse_from_rfc3339(t)
        .map_err(|e| StoreError::Corrupt(format!("评价时间 “{t}” 无法解析：{e}")))?;
    Ok(beijing_day(&at))
}

pub(crate) fn beijing_day(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.with_timezone(&hcp_core::metrics::beijing())
        .format("%Y-%m-%d")
        .to_string()
}
