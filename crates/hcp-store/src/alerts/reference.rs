//! The reference: every rule over the rows of a month and the baseline weeks
//! before it, in memory, nothing kept. The kept alerts (recomputed per hall from
//! counts, `recompute.rs`) must equal what this finds; a test
//! (`tests/cli/alerts.rs`) holds them to it after every sync.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset};
use hcp_core::rating::Channel;
use hcp_core::warning::{self, Alert, Params, Rated};

use super::parse_month;
use crate::{Result, Store};

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

impl Store {
    /// Every rule over `month`'s rows (`YYYY-MM`), as the kept alerts of that month
    /// should be once its due work is done. Writes nothing; reads the month and the
    /// eight weeks before it into memory (a province's month: ~2 GB).
    pub fn alerts_from_rows(&self, month: &str) -> Result<Vec<Alert>> {
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
        let mut rated: Vec<Rated<'_>> = slim
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
        super::recompute::in_rule_order(&mut rated);
        Ok(warning::all_alerts(&rated, first, last, &p))
    }
}
