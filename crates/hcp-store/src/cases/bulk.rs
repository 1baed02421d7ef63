//! Many officers' actions in few transactions: rounds over every case that is not
//! closed, each case's next action proposed by the caller and decided by the case
//! engine exactly as [`Store::act_on_case`] decides it (the same transition, audit
//! row, decisions for the hall and side effects), a few thousand cases per
//! transaction. The benchmark's simulated office works a province's year of cases
//! this way; one at a time, half a million cases would take an hour of commits.

use chrono::{DateTime, FixedOffset};
use hcp_core::case::{Action, Case};
use rusqlite::OptionalExtension;

use crate::{Result, Store};

use super::commands::DeskCases;
use super::*;

/// What the caller sees of a case that is not closed, to propose its next action.
#[derive(Debug)]
pub struct PendingCase<'a> {
    /// 工单号.
    pub case_id: i64,
    /// Its hall.
    pub hall_id: &'a str,
    /// The rated evaluation.
    pub evaluation_id: &'a str,
    /// Where it stands and what it remembers.
    pub case: &'a Case,
    /// When the hall submitted its latest rectification, if it did.
    pub rectified_at: Option<DateTime<FixedOffset>>,
    /// The ground of the latest appeal, if one was filed.
    pub appeal_ground: Option<String>,
}

/// What a bulk run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BulkActs {
    /// Actions the engine took.
    pub acted: u64,
    /// Actions the engine refused (the case is left as it was).
    pub refused: u64,
    /// Rounds run (the last one moved nothing, or the limit was reached).
    pub rounds: u32,
}

/// Cases per transaction.
const CHUNK: usize = 4_000;

impl Store {
    /// Up to `max_rounds` rounds over the bad-rating cases that are not closed: for
    /// each, `next` proposes an action and when (or nothing: the case waits), and
    /// the engine takes it or refuses it. Stops after a round that moved nothing.
    /// `progress` hears (round, cases looked at in it, cases in it).
    pub fn act_in_bulk(
        &mut self,
        who: Who<'_>,
        max_rounds: u32,
        mut next: impl FnMut(&PendingCase<'_>) -> Option<(Action, DateTime<FixedOffset>)>,
        mut progress: impl FnMut(u32, usize, usize),
    ) -> Result<BulkActs> {
        let mut out = BulkActs::default();
        for round in 1..=max_rounds {
            let ids: Vec<i64> = self
                .conn
                .prepare(
                    "SELECT case_id FROM cases WHERE closed_at IS NULL AND kind = 'bad_rating'
                     ORDER BY case_id",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            out.rounds = round;
            let mut moved = 0u64;
            let mut seen = 0usize;
            for chunk in ids.chunks(CHUNK) {
                let tx = self.write_tx()?;
                let rules = load_rules(&tx)?;
                for &id in chunk {
                    let Some(stored) = load_case(&tx, "case_id = ?1", &[&id])? else {
                        continue;
                    };
                    if stored.case.state.is_closed() {
                        continue;
                    }
                    let (hall, eval) = (stored.hall_id.as_str(), stored.evaluation_id.as_str());
                    let rectified_at = tx
                        .prepare_cached(
                            "SELECT submitted_at FROM rectifications
                             WHERE hall_id = ?1 AND evaluation_id = ?2 ORDER BY rev DESC LIMIT 1",
                        )?
                        .query_row([hall, eval], |r| r.get::<_, String>(0))
                        .optional()?
                        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
                    let appeal_ground = tx
                        .prepare_cached(
                            "SELECT ground FROM appeals
                             WHERE hall_id = ?1 AND evaluation_id = ?2 ORDER BY seq DESC LIMIT 1",
                        )?
                        .query_row([hall, eval], |r| r.get::<_, String>(0))
                        .optional()?;
                    let pending = PendingCase {
                        case_id: id,
                        hall_id: hall,
                        evaluation_id: eval,
                        case: &stored.case,
                        rectified_at,
                        appeal_ground,
                    };
                    let Some((action, at)) = next(&pending) else {
                        continue;
                    };
                    let policy = rules.policy(hall);
                    match stored
                        .case
                        .apply(&action, who.actor, at, &rules.calendar, &policy)
                    {
                        Ok(t) => {
                            DeskCases::new(&tx, &rules).step(&stored, t, who.signer(), None, at)?;
                            moved += 1;
                        }
                        Err(_) => out.refused += 1,
                    }
                }
                tx.commit()?;
                seen += chunk.len();
                progress(round, seen, ids.len());
            }
            out.acted += moved;
            if moved == 0 {
                break;
            }
        }
        tracing::info!(
            acted = out.acted,
            refused = out.refused,
            rounds = out.rounds,
            "bulk case actions recorded"
        );
        Ok(out)
    }
}
