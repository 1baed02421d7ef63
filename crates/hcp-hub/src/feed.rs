//! The halls' records as the hub serves them to desktops: for each hall, the
//! hall-api v1 interface itself (`v1/halls/{hall_id}/hall` and
//! `…/changes?after=&limit=`), with the account's session token as the bearer
//! token. A desktop in hub mode syncs each hall from the hub with the same client
//! code it uses against a hall; the hub never hands out the hall's own token.
//!
//! Who reads what: an officer every hall, a director only his own hall; a shopper
//! the halls' profiles (to fill visit reports against) but no ratings; an
//! administrator the hall list only.

use hcp_core::wire::MAX_PAGE_LIMIT;

use hcp_core::{Capability, Role};

use crate::{Account, Hub, HubError, HubHall, Result};

/// The default page size, as in hall-api v1.
pub const DEFAULT_PAGE_LIMIT: u32 = 1000;

impl Account {
    /// The person's role (`None` for an administrator, who does no case work).
    pub fn person(&self) -> Option<Role> {
        self.role.parse().ok()
    }

    /// Whether the account may see or do `c`: the same table as the desk's
    /// (`hcp_core::Role::may`); an administrator none of it.
    pub fn may(&self, c: Capability) -> bool {
        self.person().is_some_and(|r| r.may(c))
    }

    /// The hall a query by this account may cover (a director: his own).
    pub fn hall_scope(&self, asked: Option<String>) -> Result<Option<String>> {
        match self.person() {
            Some(r) => r
                .hall_scope(self.hall_id.as_deref(), asked)
                .map_err(HubError::Forbidden),
            None => Err(HubError::Forbidden(format!(
                "账号 {} 无权查看大厅数据",
                self.name
            ))),
        }
    }

    /// Whether the account may read the hall's ratings, appeals and rectifications.
    pub fn may_read_hall(&self, hall_id: &str) -> bool {
        self.person()
            .is_some_and(|r| r.may_read_hall(self.hall_id.as_deref(), hall_id))
    }

    /// Whether the account may read the hall's profile (its windows, staff and
    /// items): whoever may read its ratings, and shoppers, who fill visit reports
    /// against it.
    pub fn may_read_profile(&self, hall_id: &str) -> bool {
        self.may(Capability::FileVisits) || self.may_read_hall(hall_id)
    }
}

/// Reads a cursor this hub gave out: its feed's letter (`h` hall records, `c`
/// cases, `v` visits) and a number; absent = the beginning.
pub(crate) fn parse_cursor(feed: char, after: Option<&str>) -> Result<i64> {
    match after {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix(feed)
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| HubError::Invalid("游标无效：请不带 after 参数从头读取".into())),
    }
}

impl Hub {
    /// The halls the account may see: a director his own; everyone else all of them
    /// (a shopper needs the list to plan visits).
    /// Never with their internal addresses: desks reach every hall through the hub.
    pub async fn visible_halls(&self, who: &Account) -> Result<Vec<HubHall>> {
        let mut all = self.halls().await?;
        for h in &mut all {
            h.base_url.clear();
        }
        // A shopper needs every hall's name to plan visits; the rest see the
        // halls whose figures they may read.
        Ok(if who.may(Capability::FileVisits) {
            all
        } else {
            all.into_iter()
                .filter(|h| who.may_read_hall(&h.hall_id))
                .collect()
        })
    }

    fn check_hall_reader(who: &Account, hall_id: &str) -> Result<()> {
        if who.may_read_hall(hall_id) {
            Ok(())
        } else {
            Err(HubError::Forbidden(format!(
                "账号 {} 无权查看大厅 “{}” 的评价数据",
                who.name,
                hcp_core::ident::printable(hall_id)
            )))
        }
    }

    /// The hall's profile (hall-api `v1/hall`), as JSON text.
    pub async fn hall_profile(&self, who: &Account, hall_id: &str) -> Result<String> {
        if !who.may_read_profile(hall_id) {
            Self::check_hall_reader(who, hall_id)?;
        }
        let c = self.conn().await?;
        c.query_opt(
            "SELECT profile_json FROM hub_halls WHERE hall_id = $1",
            &[&hall_id],
        )
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| {
            HubError::NotFound(format!(
                "团队服务器上没有大厅 “{}”",
                hcp_core::ident::printable(hall_id)
            ))
        })
    }

    /// One page of the hub's feed of a hall (hall-api `v1/changes`), as JSON text.
    /// The records are the hall's own JSON, each at the highest rev the hub has.
    pub async fn hall_changes(
        &self,
        who: &Account,
        hall_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<String> {
        Self::check_hall_reader(who, hall_id)?;
        let after = parse_cursor('h', after)?;
        let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT).clamp(1, MAX_PAGE_LIMIT);
        let c = self.conn().await?;
        let state = c
            .query_opt(
                "SELECT h.hall_id, s.profile_seq, s.profile_rev FROM hub_halls h
                 LEFT JOIN hub_sync_state s ON s.hall_id = h.hall_id WHERE h.hall_id = $1",
                &[&hall_id],
            )
            .await?
            .ok_or_else(|| {
                HubError::NotFound(format!(
                    "团队服务器上没有大厅 “{}”",
                    hcp_core::ident::printable(hall_id)
                ))
            })?;
        let profile: Option<(i64, i64)> = match (state.get(1), state.get(2)) {
            (Some(seq), Some(rev)) if seq > after => Some((seq, rev)),
            _ => None,
        };
        let rows = c
            .query(
                "SELECT seq, kind, raw FROM hub_records WHERE hall_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&hall_id, &after, &i64::from(limit)],
            )
            .await?;
        let mut more = rows.len() as u32 == limit;
        let mut changes: Vec<(i64, String, String)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if let Some((seq, rev)) = profile {
            let pos = changes.partition_point(|c| c.0 < seq);
            if pos < changes.len() || !more {
                changes.insert(
                    pos,
                    (seq, "profile".into(), format!(r#"{{"profile_rev":{rev}}}"#)),
                );
            }
            if changes.len() > limit as usize {
                changes.pop();
                more = true;
            }
        }
        let next = changes.last().map_or(after, |c| c.0);
        let mut body =
            String::with_capacity(64 + changes.iter().map(|c| c.2.len() + 48).sum::<usize>());
        body.push_str(r#"{"changes":["#);
        for (i, (seq, kind, raw)) in changes.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            // `kind` is one of the hub's own words; `raw` is JSON the hub validated.
            body.push_str(&format!(r#"{{"seq":{seq},"kind":"{kind}","data":{raw}}}"#));
        }
        body.push_str(&format!(r#"],"next":"h{next}","more":{more}}}"#));
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_checked() {
        assert_eq!(parse_cursor('h', None).unwrap(), 0);
        assert_eq!(parse_cursor('h', Some("h42")).unwrap(), 42);
        for bad in ["42", "h-1", "h", "hx", "h1 OR 1=1"] {
            assert!(parse_cursor('h', Some(bad)).is_err(), "{bad}");
        }
    }

    fn account(role: &'static str, hall: Option<&str>) -> Account {
        Account {
            name: "x".into(),
            role,
            hall_id: hall.map(Into::into),
            disabled: false,
        }
    }

    #[test]
    fn who_reads_which_hall() {
        assert!(account("officer", None).may_read_hall("H1"));
        assert!(account("director", Some("H1")).may_read_hall("H1"));
        assert!(!account("director", Some("H1")).may_read_hall("H2"));
        assert!(!account("shopper", None).may_read_hall("H1"));
        // A shopper fills visit reports against the profile, but reads no ratings.
        assert!(account("shopper", None).may_read_profile("H1"));
        assert!(!account("admin", None).may_read_profile("H1"));
        assert!(!account("director", Some("H2")).may_read_profile("H1"));
        assert!(!account("admin", None).may_read_hall("H1"));
    }
}
