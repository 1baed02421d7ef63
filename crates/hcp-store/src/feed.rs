//! Applying the change feed: one page and its cursor in one transaction, so a crash
//! can neither skip nor double a record.

use chrono::{DateTime, Utc};
use hcp_core::validate::ValidRecord;
use hcp_core::wire::{Appeal, Evaluation, Rectification};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::days::{DayDeltas, beijing_day, beijing_day_of_utc_text, figures};
use crate::halls::write_profile;
use crate::{Result, Store, StoreError, now_text, utc_text};

pub use hcp_core::feed::{FeedRecord, PageOutcome, PageToApply, QuarantineEntry};

/// One thing a spreadsheet row brings, in the order it happened.
// Nearly every item is a record; boxing them to shrink the rare verdict's slot
// would cost an allocation per row.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ImportItem<'a> {
    /// An evaluation, appeal or rectification, as a hall's feed would bring it.
    Record(FeedRecord<'a>),
    /// The provincial system's verdict on an appeal.
    Verdict(AppealVerdict),
}

/// An appeal's verdict as a 差评工单 export carries it (驳回理由, 工单状态).
#[derive(Debug, Clone)]
pub struct AppealVerdict {
    /// The evaluation whose case is under appeal.
    pub evaluation_id: String,
    /// 申诉成立 (else 驳回).
    pub upheld: bool,
    /// 复核意见 as the export gives it.
    pub note: String,
    /// When it was known to be decided (the export's time).
    pub at: chrono::DateTime<chrono::FixedOffset>,
}

/// What applying a file's rows did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOutcome {
    /// The evaluations' upserts.
    pub evaluations: PageOutcome,
    /// The appeals'.
    pub appeals: PageOutcome,
    /// The rectifications'.
    pub rectifications: PageOutcome,
    /// Appeal verdicts that moved a case.
    pub verdicts: u64,
}

/// Per-hall sync bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "SyncState.ts")]
pub struct SyncState {
    /// Where to resume the feed; `None` = from the beginning.
    pub cursor: Option<String>,
    /// Last attempt (UTC).
    pub last_attempt_at: Option<String>,
    /// Last sync that reached the end of the feed (UTC).
    pub last_success_at: Option<String>,
    /// Last failure's reason (zh-CN), cleared by a success.
    pub last_error: Option<String>,
    /// When it failed.
    pub last_error_at: Option<String>,
    /// Pages stored, all time.
    pub pages_total: i64,
    /// Records seen, all time.
    pub records_total: i64,
    /// Records quarantined, all time.
    pub quarantined_total: i64,
    /// Unknown-kind changes skipped, all time.
    pub skipped_total: i64,
    /// Restarts from the beginning after `410 Gone`.
    pub restarts_total: i64,
}

/// How an upsert went.
enum Upsert {
    New,
    Updated,
    Unchanged,
}

impl Store {
    /// The sync bookkeeping of a hall.
    pub fn sync_state(&self, hall_id: &str) -> Result<SyncState> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT cursor, last_attempt_at, last_success_at, last_error, last_error_at,
                    pages_total, records_total, quarantined_total, skipped_total, restarts_total
             FROM sync_state WHERE hall_id = ?1",
        )?;
        stmt.query_row([hall_id], |r| {
            Ok(SyncState {
                cursor: r.get(0)?,
                last_attempt_at: r.get(1)?,
                last_success_at: r.get(2)?,
                last_error: r.get(3)?,
                last_error_at: r.get(4)?,
                pages_total: r.get(5)?,
                records_total: r.get(6)?,
                quarantined_total: r.get(7)?,
                skipped_total: r.get(8)?,
                restarts_total: r.get(9)?,
            })
        })
        .optional()?
        .ok_or_else(|| StoreError::UnknownHall(hall_id.to_owned()))
    }

    /// Stores one page of a hall's feed and its next cursor in one transaction.
    /// Records are upserted by `rev`: a lower or equal rev changes nothing, so the
    /// same page applied twice changes nothing.
    pub fn apply_page(&mut self, hall_id: &str, page: &PageToApply<'_>) -> Result<PageOutcome> {
        self.apply_pages(hall_id, std::slice::from_ref(page))
    }

    /// Stores consecutive pages of a hall's feed and the last page's cursor in one
    /// transaction (all or nothing). During a bulk sync this writes the random
    /// per-window/per-staff index pages once per batch instead of once per page.
    pub fn apply_pages(&mut self, hall_id: &str, pages: &[PageToApply<'_>]) -> Result<PageOutcome> {
        self.store_pages(hall_id, pages)
    }

    /// What the rows of a spreadsheet bring for several halls, in one transaction
    /// (one disk flush for the lot): records through the feed's upsert, case
    /// engine and per-day figures, and the provincial system's appeal verdicts as
    /// `by`'s decisions; the halls' feed cursors are left where they are.
    pub fn apply_import_items(
        &mut self,
        batch: &[(&str, Vec<ImportItem<'_>>)],
        by: crate::cases::Who<'_>,
    ) -> Result<FileOutcome> {
        if batch.iter().all(|(_, items)| items.is_empty()) {
            return Ok(FileOutcome::default());
        }
        let tx = self.write_tx()?;
        let mut total = FileOutcome::default();
        let now = now_text();
        let mut days = DayDeltas::default();
        let rules = case_engine(&tx)?;
        for (hall_id, items) in batch {
            let mut records = 0i64;
            for item in items {
                match item {
                    ImportItem::Record(rec) => {
                        records += 1;
                        let out = match rec.record {
                            ValidRecord::Appeal(_) => &mut total.appeals,
                            ValidRecord::Rectification(_) => &mut total.rectifications,
                            _ => &mut total.evaluations,
                        };
                        write_record(&tx, hall_id, rec, &now, out, &mut days, rules.as_ref())?;
                    }
                    ImportItem::Verdict(v) => {
                        // Verdicts are decisions: only an officer's import records them,
                        // and a hub's replica leaves cases to the hub.
                        if let Some(rules) = &rules
                            && by.actor == hcp_core::case::Actor::Officer
                        {
                            let action = hcp_core::case::Action::DecideAppeal {
                                upheld: v.upheld,
                                note: v.note.clone(),
                            };
                            if crate::cases::on_appeal_verdict(
                                &tx,
                                rules,
                                hall_id,
                                &v.evaluation_id,
                                &action,
                                v.at,
                                by,
                            )? {
                                total.verdicts += 1;
                            }
                        }
                    }
                }
            }
            let n = tx.execute(
                "UPDATE sync_state SET records_total = records_total + ?2 WHERE hall_id = ?1",
                params![hall_id, records],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownHall((*hall_id).to_owned()));
            }
        }
        days.write(&tx)?;
        tx.commit()?;
        Ok(total)
    }

    fn store_pages(&mut self, hall_id: &str, pages: &[PageToApply<'_>]) -> Result<PageOutcome> {
        let Some(last) = pages.last() else {
            return Ok(PageOutcome::default());
        };
        // A hall with nothing new answers one empty page with the cursor it was
        // asked with: there is nothing to write, and with synchronous=FULL a
        // commit costs a disk flush per hall of every idle sync.
        let empty = pages.iter().all(|p| {
            p.records.is_empty()
                && p.quarantined.is_empty()
                && p.skipped_unknown == 0
                && p.profile.is_none()
        });
        if empty && self.sync_state(hall_id)?.cursor.as_deref() == Some(last.next_cursor) {
            return Ok(PageOutcome::default());
        }
        let tx = self.write_tx()?;
        let mut out = PageOutcome::default();
        let now = now_text();
        let mut seen = 0i64;
        let mut days = DayDeltas::default();
        let rules = case_engine(&tx)?;
        for page in pages {
            out.skipped += page.skipped_unknown;
            seen += (page.records.len() + page.quarantined.len()) as i64;
            write_page(
                &tx,
                hall_id,
                page,
                &now,
                &mut out,
                &mut days,
                rules.as_ref(),
            )?;
        }
        days.write(&tx)?;
        let n = tx.execute(
            "UPDATE sync_state SET cursor = ?2, pages_total = pages_total + ?6,
                    records_total = records_total + ?3, quarantined_total = quarantined_total + ?4,
                    skipped_total = skipped_total + ?5
             WHERE hall_id = ?1",
            params![
                hall_id,
                last.next_cursor,
                seen,
                out.quarantined as i64,
                out.skipped as i64,
                pages.len() as i64
            ],
        )?;
        if n == 0 {
            return Err(StoreError::UnknownHall(hall_id.to_owned()));
        }
        tx.commit()?;
        Ok(out)
    }

    /// Forgets the cursor after `410 Gone`: the next page starts from the beginning
    /// and the rev rule keeps what is stored.
    pub fn restart_feed(&self, hall_id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_state SET cursor = NULL, restarts_total = restarts_total + 1 WHERE hall_id = ?1",
            [hall_id],
        )?;
        Ok(())
    }

    /// Marks the start of a sync attempt.
    /// [`record_sync_end`](Self::record_sync_end) for many halls in one
    /// transaction: one disk flush for a sync of 500 halls, not 500.
    pub fn record_sync_ends(&mut self, ends: &[SyncEnd]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for e in ends {
            sync_end(
                &tx,
                &e.hall_id,
                e.attempted_at,
                e.error.as_deref().map_or(Ok(()), Err),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records how a sync attempt that began at `attempted_at` ended: `Ok` clears
    /// the last error. One write per attempt (the start is recorded with the end).
    pub fn record_sync_end(
        &self,
        hall_id: &str,
        attempted_at: DateTime<Utc>,
        outcome: std::result::Result<(), &str>,
    ) -> Result<()> {
        sync_end(&self.conn, hall_id, attempted_at, outcome)
    }
}

/// How a hall's sync ended, for [`Store::record_sync_ends`].
#[derive(Debug, Clone)]
pub struct SyncEnd {
    /// 大厅编码.
    pub hall_id: String,
    /// When the sync began.
    pub attempted_at: DateTime<Utc>,
    /// Why it failed (zh-CN), or `None`.
    pub error: Option<String>,
}

fn sync_end(
    conn: &rusqlite::Connection,
    hall_id: &str,
    attempted_at: DateTime<Utc>,
    outcome: std::result::Result<(), &str>,
) -> Result<()> {
    let now = now_text();
    let attempted = utc_text(attempted_at);
    match outcome {
        Ok(()) => conn.execute(
            "UPDATE sync_state SET last_attempt_at = ?3, last_success_at = ?2, last_error = NULL,
                    last_error_at = NULL
             WHERE hall_id = ?1",
            params![hall_id, now, attempted],
        )?,
        Err(reason) => conn.execute(
            "UPDATE sync_state SET last_attempt_at = ?4, last_error = ?2, last_error_at = ?3
             WHERE hall_id = ?1",
            params![hall_id, reason, now, attempted],
        )?,
    };
    Ok(())
}

/// The case engine's rules, or `None` when the cache is a hub's replica (the hub
/// opens and moves the cases; this cache receives them from the hub's case feed).
fn case_engine(tx: &Transaction<'_>) -> Result<Option<crate::cases::CaseRules>> {
    let replica: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM settings WHERE key = 'hub.link')")?
        .query_row([], |r| r.get(0))?;
    if replica {
        Ok(None)
    } else {
        Ok(Some(crate::cases::load_rules(tx)?))
    }
}

/// One page's records, quarantine and profile, inside the caller's transaction.
fn write_page(
    tx: &Transaction<'_>,
    hall_id: &str,
    page: &PageToApply<'_>,
    now: &str,
    out: &mut PageOutcome,
    days: &mut DayDeltas,
    rules: Option<&crate::cases::CaseRules>,
) -> Result<()> {
    if let Some(profile) = &page.profile {
        write_profile(tx, profile)?;
    }
    for rec in &page.records {
        write_record(tx, hall_id, rec, now, out, days, rules)?;
    }
    let mut q = tx.prepare_cached(
        "INSERT OR IGNORE INTO quarantine (hall_id, seq, kind, raw, field, reason, quarantined_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in &page.quarantined {
        out.quarantined += q.execute(params![
            hall_id, e.seq, e.kind, e.raw, e.field, e.reason, now
        ])? as u64;
        tracing::warn!(hall_id, seq = e.seq, field = %e.field, "record quarantined");
    }
    Ok(())
}

/// One valid record of a page (or of a file's rows), with what it does to its
/// case, inside the caller's transaction.
fn write_record(
    tx: &Transaction<'_>,
    hall_id: &str,
    rec: &FeedRecord<'_>,
    now: &str,
    out: &mut PageOutcome,
    days: &mut DayDeltas,
    rules: Option<&crate::cases::CaseRules>,
) -> Result<()> {
    let how = match &rec.record {
        ValidRecord::Evaluation(e) => upsert_evaluation(tx, e, rec, now, days, rules)?,
        ValidRecord::Appeal(a) => {
            let how = upsert_appeal(tx, a, rec, now)?;
            if let Some(rules) = rules
                && !matches!(how, Upsert::Unchanged)
            {
                let f = hcp_core::follow_up::HallFollowUp::of_appeal(a);
                let step = hcp_core::case::HallStep::of(f, rec.raw);
                crate::cases::on_hall_step(tx, rules, hall_id, &step)?;
            }
            how
        }
        ValidRecord::Rectification(r) => {
            let how = upsert_rectification(tx, r, rec, now)?;
            if let Some(rules) = rules
                && !matches!(how, Upsert::Unchanged)
            {
                let f = hcp_core::follow_up::HallFollowUp::of_rectification(r);
                let step = hcp_core::case::HallStep::of(f, rec.raw);
                crate::cases::on_hall_step(tx, rules, hall_id, &step)?;
            }
            how
        }
        ValidRecord::Profile(_) => Upsert::Unchanged,
        ValidRecord::UnknownKind(_) => return Ok(()),
    };
    match how {
        Upsert::New => out.new += 1,
        Upsert::Updated => out.updated += 1,
        Upsert::Unchanged => out.unchanged += 1,
    }
    Ok(())
}

fn ts(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    utc_text(t.with_timezone(&Utc))
}

/// Inserts when new; otherwise replaces only when `rev` is higher.
fn upsert_evaluation(
    tx: &Transaction<'_>,
    e: &Evaluation,
    rec: &FeedRecord<'_>,
    now: &str,
    days: &mut DayDeltas,
    rules: Option<&crate::cases::CaseRules>,
) -> Result<Upsert> {
    let reasons =
        serde_json::to_string(&e.reasons).map_err(|x| StoreError::Corrupt(x.to_string()))?;
    let served = e.served_at.as_ref().map(ts);
    let evaluated = ts(&e.evaluated_at);
    let ev = &e.evaluator;
    let columns = crate::raw::Columns {
        hall_id: &e.hall_id,
        id: &e.id,
        rev: e.rev,
        serial_no: e.serial_no.as_deref(),
        item_code: e.item_code.as_deref(),
        item_name: e.item_name.as_deref(),
        department_code: e.department_code.as_deref(),
        window_no: e.window_no.as_deref(),
        staff_no: e.staff_no.as_deref(),
        channel: &e.channel,
        level: i64::from(e.level),
        reasons: &reasons,
        comment: &e.comment,
        served_at: served.as_deref(),
        evaluated_at: &evaluated,
        real_name: ev.real_name,
        name_masked: ev.name_masked.as_deref(),
        phone_masked: ev.phone_masked.as_deref(),
        id_hash: ev.id_hash.as_deref(),
        status: e.status.as_str(),
    };
    let raw = crate::raw::to_store(&columns, rec.raw);
    let values = params![
        e.hall_id,
        e.id,
        e.rev,
        rec.seq,
        e.serial_no,
        e.item_code,
        e.item_name,
        e.department_code,
        e.window_no,
        e.staff_no,
        e.channel,
        e.level,
        reasons,
        e.comment,
        served,
        evaluated,
        ev.real_name,
        ev.name_masked,
        ev.phone_masked,
        ev.id_hash,
        e.status.as_str(),
        raw,
        now
    ];
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO evaluations (hall_id, id, rev, seq, serial_no, item_code, item_name,
                department_code, window_no, staff_no, channel, level, reasons, comment, served_at,
                evaluated_at, evaluator_real_name, evaluator_name_masked, evaluator_phone_masked,
                evaluator_id_hash, status, raw_json, synced_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22, ?23)",
        )?
        .execute(values)?;
    let is_bad = hcp_core::rating::needs_case(i64::from(e.level), e.status.as_str());
    let change = |was_bad| crate::cases::EvaluationChange {
        hall_id: &e.hall_id,
        evaluation_id: &e.id,
        evaluated_at: e.evaluated_at,
        id_hash: ev.id_hash.as_deref(),
        was_bad,
        is_bad,
        status: e.status.as_str(),
        level: e.level,
    };
    if inserted == 1 {
        days.add(
            &e.hall_id,
            beijing_day(&e.evaluated_at),
            figures(i64::from(e.level), e.status.as_str(), false),
            1,
        );
        if is_bad && let Some(rules) = rules {
            crate::cases::on_evaluation(tx, rules, &change(None))?;
        }
        return Ok(Upsert::New);
    }
    // Already stored: replace only with a higher rev, and move its day figures.
    type Stored = (i64, i64, String, String, bool, String, String);
    let (old_rev, old_level, old_status, old_at, excluded, old_channel, old_comment): Stored = tx
        .prepare_cached(
            "SELECT rev, level, status, evaluated_at, excluded, channel, comment FROM evaluations
             WHERE hall_id = ?1 AND id = ?2",
        )?
        .query_row(params![e.hall_id, e.id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
    if old_rev >= e.rev {
        return Ok(Upsert::Unchanged);
    }
    // The version replaced stays in the rating's history.
    let how = rec.revision.unwrap_or(match e.status.as_str() {
        "withdrawn" => "withdrawn",
        "revised" => "revised",
        _ => "updated",
    });
    tx.prepare_cached(
        "INSERT OR IGNORE INTO evaluation_history (hall_id, id, rev, level, status, channel,
            evaluated_at, comment, how, replaced_by_rev, replaced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        e.hall_id,
        e.id,
        old_rev,
        old_level,
        old_status,
        old_channel,
        old_at,
        old_comment,
        how,
        e.rev,
        now
    ])?;
    let new_figures = figures(i64::from(e.level), e.status.as_str(), excluded);
    tx.prepare_cached(
        "UPDATE evaluations SET rev = ?3, seq = ?4, serial_no = ?5, item_code = ?6, item_name = ?7,
            department_code = ?8, window_no = ?9, staff_no = ?10, channel = ?11, level = ?12,
            reasons = ?13, comment = ?14, served_at = ?15, evaluated_at = ?16,
            evaluator_real_name = ?17, evaluator_name_masked = ?18, evaluator_phone_masked = ?19,
            evaluator_id_hash = ?20, status = ?21, raw_json = ?22, synced_at = ?23
         WHERE hall_id = ?1 AND id = ?2",
    )?
    .execute(values)?;
    days.add(
        &e.hall_id,
        beijing_day_of_utc_text(&old_at)?,
        figures(old_level, &old_status, excluded),
        -1,
    );
    days.add(&e.hall_id, beijing_day(&e.evaluated_at), new_figures, 1);
    let was_bad = hcp_core::rating::needs_case(old_level, &old_status);
    if was_bad != is_bad
        && let Some(rules) = rules
    {
        crate::cases::on_evaluation(tx, rules, &change(Some(was_bad)))?;
    }
    Ok(Upsert::Updated)
}

fn upsert_appeal(
    tx: &Transaction<'_>,
    a: &Appeal,
    rec: &FeedRecord<'_>,
    now: &str,
) -> Result<Upsert> {
    let att =
        serde_json::to_string(&a.attachments).map_err(|x| StoreError::Corrupt(x.to_string()))?;
    let values = params![
        a.hall_id,
        a.id,
        a.rev,
        rec.seq,
        a.evaluation_id,
        ts(&a.filed_at),
        a.filed_by,
        a.ground,
        a.statement,
        att,
        rec.raw,
        now
    ];
    upsert_by_rev(
        tx,
        "INSERT OR IGNORE INTO appeals (hall_id, id, rev, seq, evaluation_id, filed_at, filed_by,
            ground, statement, attachments, raw_json, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        "UPDATE appeals SET rev = ?3, seq = ?4, evaluation_id = ?5, filed_at = ?6, filed_by = ?7,
            ground = ?8, statement = ?9, attachments = ?10, raw_json = ?11, synced_at = ?12
         WHERE hall_id = ?1 AND id = ?2 AND rev < ?3",
        values,
    )
}

/// Inserts a record, or replaces the stored one when this rev is higher (the
/// update's `WHERE` says so); a replayed or older rev changes nothing.
fn upsert_by_rev(
    tx: &Transaction<'_>,
    insert: &str,
    update: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<Upsert> {
    if tx.prepare_cached(insert)?.execute(values)? == 1 {
        return Ok(Upsert::New);
    }
    Ok(if tx.prepare_cached(update)?.execute(values)? == 1 {
        Upsert::Updated
    } else {
        Upsert::Unchanged
    })
}

fn upsert_rectification(
    tx: &Transaction<'_>,
    r: &Rectification,
    rec: &FeedRecord<'_>,
    now: &str,
) -> Result<Upsert> {
    let att =
        serde_json::to_string(&r.attachments).map_err(|x| StoreError::Corrupt(x.to_string()))?;
    let values = params![
        r.hall_id,
        r.id,
        r.rev,
        rec.seq,
        r.evaluation_id,
        ts(&r.submitted_at),
        r.responsible,
        r.measures,
        att,
        rec.raw,
        now
    ];
    upsert_by_rev(
        tx,
        "INSERT OR IGNORE INTO rectifications (hall_id, id, rev, seq, evaluation_id, submitted_at,
            responsible, measures, attachments, raw_json, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        "UPDATE rectifications SET rev = ?3, seq = ?4, evaluation_id = ?5, submitted_at = ?6,
            responsible = ?7, measures = ?8, attachments = ?9, raw_json = ?10, synced_at = ?11
         WHERE hall_id = ?1 AND id = ?2 AND rev < ?3",
        values,
    )
}
