//! The domain of HCP Supervisor, pure: no I/O, no async, no SQL.
//!
//! * [`wire`] — the hall-api v1 types, shared by the sync client and the reference
//!   hall server so the two cannot drift apart.
//! * [`hub`] — what the office hub and a desktop replica exchange about cases.
//! * [`rating`] — levels, channels, reasons and the bad-rating rule of DOMAIN.md.
//! * [`calendar`] — China's working days (holiday-cn data) and deadlines in them.
//! * [`case`] — the bad-rating case state machine with its guards and deadlines.
//! * [`metrics`] — rates (numerator/denominator, "—" over zero) and Beijing months.
//! * [`ident`] — checks identifiers from outside (hall codes, visit ids) before they
//!   can become a file name, a path or a query pattern.
//! * [`validate`] — turns a raw change-feed record into a typed one, or names
//!   precisely what is wrong with it (for the quarantine).

pub mod calendar;
pub mod capability;
pub mod case;
pub mod feed;
pub mod follow_up;
pub mod hub;
pub mod ident;
pub mod metrics;
pub mod office;
pub mod rating;
pub mod role;
pub mod validate;
pub mod visit;
pub mod warning;
pub mod wire;

pub use calendar::{Deadline, WorkingCalendar};
pub use capability::Capability;
pub use rating::{Channel, Level, ReasonTag};
pub use role::Role;
pub use validate::{InvalidRecord, ValidRecord, validate_change};
