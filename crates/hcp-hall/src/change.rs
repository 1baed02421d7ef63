//! A change as the reference hall appends it to a feed: what the generator makes
//! and the feed serves (its own file, so neither depends on the other for it).

use serde::{Deserialize, Serialize};

/// A change to append: its kind and its data as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChange {
    /// evaluation | appeal | rectification | profile | anything (tests add odd kinds).
    pub kind: String,
    /// The record, JSON text.
    pub data: String,
}

impl NewChange {
    /// A change from a typed record.
    pub fn new<T: Serialize>(kind: &str, data: &T) -> Self {
        Self {
            kind: kind.to_string(),
            data: serde_json::to_string(data).expect("wire types always serialise"),
        }
    }
}
