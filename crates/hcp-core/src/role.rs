//! Who a person is in the console: the role of the profile (or, later, of a hub
//! account). A role acts on cases as an [`Actor`]; the hall is an actor too, but
//! nobody signs in as one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::case::Actor;

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Role.ts"))]
pub enum Role {
    /// 效能督查员: decides cases, issues reports, reviews visits.
    Officer,
    /// 大厅负责人: reads their own hall, prints its report.
    Director,
    /// 暗访员: files visit reports.
    Shopper,
}

/// A role name that is none of ours; its message says which are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("身份 “{0}” 无效：应为 officer（效能督查员）、director（大厅负责人）或 shopper（暗访员）")]
pub struct UnknownRole(pub String);

impl Role {
    /// Every role, in the order forms list them.
    pub const ALL: [Role; 3] = [Role::Officer, Role::Director, Role::Shopper];

    /// The storage name: officer | director | shopper.
    pub fn as_str(self) -> &'static str {
        self.actor().as_str()
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        self.actor().label_zh()
    }

    /// The actor this role acts on cases as.
    pub fn actor(self) -> Actor {
        match self {
            Role::Officer => Actor::Officer,
            Role::Director => Actor::Director,
            Role::Shopper => Actor::Shopper,
        }
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Read by name, so an unknown one gets [`UnknownRole`]'s message, not serde's.
impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_which_exist() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), r);
        }
        assert_eq!(Role::Director.label_zh(), "大厅负责人");
        assert_eq!(Role::Shopper.actor(), Actor::Shopper);
        let e = "admin".parse::<Role>().unwrap_err();
        assert!(e.to_string().contains("“admin” 无效"), "{e}");
        let e = serde_json::from_str::<Role>("\"hall\"").unwrap_err();
        assert!(e.to_string().contains("“hall” 无效"), "{e}");
    }
}
