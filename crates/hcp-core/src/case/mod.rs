//! The bad-rating case (差评工单) as a pure state machine, and what each step
//! writes — one engine for the desk's cache and the office hub:
//! - `state`: where a case stands, who acts; `action`: what happens to it;
//! - `machine`: the case, its guards and [`Case::apply`];
//! - `transition`: what an action does, as data (event, sentence, signature,
//!   decisions, effects); `writes`: the rows a step writes, persisted by each
//!   store through [`CaseRepository`];
//! - `deadline`: working-day deadlines, the clock paused under appeal, the overdue
//!   warning; `rules`: the calendar and policies as one [`CaseRules`];
//! - `tabs`: the inbox's tabs.
//!
//! No I/O here.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Deadline, WorkingCalendar};
use crate::metrics::beijing;

mod action;
mod deadline;
mod machine;
mod rules;
mod state;
mod tabs;
mod transition;
mod writes;
pub use action::*;
pub use deadline::*;
pub use machine::*;
pub use rules::{CALENDAR_PREFIX, CaseRules, Due, POLICY_DEFAULT, POLICY_HALL_PREFIX};
pub use state::*;
pub use tabs::*;
pub use transition::*;
pub use writes::{
    BAD_RATING, CaseHead, CaseRepository, CaseWrites, Found, HallOutcome, HallStep, Lookups,
    OPENED, OPENED_FLAGGED, RATER_MARKED, Record, SYSTEM_NAME, SYSTEM_ROLE, Signer, TimelineEntry,
    early_steps, opening_writes, refusal_writes, sha256_hex, step_writes,
};

#[cfg(test)]
mod tests;
