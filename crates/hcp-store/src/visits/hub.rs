//! Visits and the office hub. A shopper's desk in hub mode uploads each submitted
//! revision once and keeps the hub's answer here; an officer's desk takes the
//! hub's visit feed (its cursor lives here) and imports the bundles as vouched
//! for by the hub ([`Store::import_visit_from_hub`]).

use rusqlite::params;
use serde::Serialize;
use serde_json::json;

use crate::cases::Who;
use crate::{Result, Store, now_text};

use super::audit_visit;

/// The visit feed's cursor.
const VISIT_CURSOR_SETTING: &str = "hub.visit_cursor";

/// A visit submitted on this desk and its hand-in to the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "HubVisitUpload.ts")]
pub struct HubVisitUpload {
    /// The visit.
    pub visit_id: String,
    /// The visited hall.
    pub hall_id: String,
    /// The submitted revision.
    pub rev: i64,
    /// `pending` (待发送), `accepted` or `rejected`.
    pub state: String,
    /// The hub's words on a rejection.
    pub message: Option<String>,
    /// When the hub answered (UTC).
    pub answered_at: Option<String>,
}

impl Store {
    /// Visits submitted here whose submitted revision the hub has not answered
    /// yet (待发送), oldest first: `(visit_id, rev)`.
    pub fn pending_hub_visits(&self) -> Result<Vec<(String, i64)>> {
        Ok(self
            .conn
            .prepare(
                "SELECT v.visit_id, v.rev FROM visits v
                 LEFT JOIN hub_visit_uploads u ON u.visit_id = v.visit_id
                 WHERE v.origin = 'local' AND v.state = 'submitted' AND v.rev > 0
                   AND (u.rev IS NULL OR u.rev < v.rev)
                 ORDER BY v.submitted_at, v.visit_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Keeps the hub's answer to the upload of `rev` (audited).
    pub fn settle_hub_visit(
        &mut self,
        visit_id: &str,
        rev: i64,
        accepted: bool,
        message: Option<&str>,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let state = if accepted { "accepted" } else { "rejected" };
        tx.execute(
            "INSERT INTO hub_visit_uploads (visit_id, rev, state, message, answered_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (visit_id) DO UPDATE SET rev = excluded.rev, state = excluded.state,
                message = excluded.message, answered_at = excluded.answered_at",
            params![visit_id, rev, state, message, now_text()],
        )?;
        audit_visit(
            &tx,
            who,
            visit_id,
            if accepted {
                "visit_uploaded"
            } else {
                "visit_upload_refused"
            },
            json!({ "rev": rev, "message": message }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every visit submitted here with its hand-in to the hub, newest first.
    pub fn hub_visit_uploads(&self) -> Result<Vec<HubVisitUpload>> {
        Ok(self
            .conn
            .prepare(
                "SELECT v.visit_id, v.hall_id, v.rev,
                    CASE WHEN u.rev IS NULL OR u.rev < v.rev THEN 'pending' ELSE u.state END,
                    CASE WHEN u.rev < v.rev THEN NULL ELSE u.message END,
                    CASE WHEN u.rev < v.rev THEN NULL ELSE u.answered_at END
                 FROM visits v LEFT JOIN hub_visit_uploads u ON u.visit_id = v.visit_id
                 WHERE v.origin = 'local' AND v.rev > 0
                   AND (v.state = 'submitted' OR u.visit_id IS NOT NULL)
                 ORDER BY v.submitted_at DESC, v.visit_id",
            )?
            .query_map([], |r| {
                Ok(HubVisitUpload {
                    visit_id: r.get(0)?,
                    hall_id: r.get(1)?,
                    rev: r.get(2)?,
                    state: r.get(3)?,
                    message: r.get(4)?,
                    answered_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The visit feed's cursor.
    pub fn hub_visit_cursor(&self) -> Result<Option<String>> {
        self.setting(VISIT_CURSOR_SETTING)
    }

    /// Moves the visit feed's cursor on (after the page's visits are imported).
    pub fn set_hub_visit_cursor(&mut self, next: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![VISIT_CURSOR_SETTING, next],
        )?;
        Ok(())
    }
}
