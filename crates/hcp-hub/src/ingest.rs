//! The hub's hall sync: hcp-sync's pipeline (fetch ahead, validate, quarantine,
//! retry, `410` restart) with PostgreSQL as the sink. Each batch of pages and its
//! cursor commit in one transaction; records are upserted by `rev`, so a batch
//! stored twice (a hub killed after committing, before the hall saw the next
//! request) changes nothing.
//!
//! One process syncs a hall at a time: the sync holds a PostgreSQL advisory lock
//! on the hall for its whole run (on its own connection, so a killed process
//! releases it with the connection). A second hub process on the same database
//! skips a hall that is being synced.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hcp_core::case::HallStep;
use hcp_core::feed::{PageOutcome, PageToApply};
use hcp_core::validate::ValidRecord;
use hcp_sync::{
    FeedSink, FetchedBatch, HallEndpoint, HallReport, ProgressFn, SyncError, SyncOptions, Token,
};
use serde::Serialize;

use crate::db::Conn;
use crate::{Hub, HubError, Result};

/// A sync that stored at least this many records is followed by a vacuum.
const BULK_ROWS: u64 = 100_000;

/// Advisory lock namespace of hall syncs (the first key of the two-key form).
const SYNC_LOCK_SPACE: i32 = 0x4843_5053; // "HCPS"

/// The two keys of the advisory lock a hall's sync holds (for tools and tests
/// that must see or hold it).
pub fn sync_lock_keys(hall_id: &str) -> (i32, i32) {
    (SYNC_LOCK_SPACE, hall_lock_key(hall_id))
}

/// The second key: a stable number of the hall's code.
fn hall_lock_key(hall_id: &str) -> i32 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(hall_id.as_bytes());
    i32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Takes the hall's sync lock on `conn` if no other session holds it: the one
/// lock under which a hall is synced and its decisions delivered.
async fn try_hall_lock(conn: &Conn, hall_id: &str) -> Result<bool> {
    Ok(conn
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&SYNC_LOCK_SPACE, &hall_lock_key(hall_id)],
        )
        .await?
        .get(0))
}

/// Releases the hall's sync lock; a connection whose unlock failed is broken,
/// and dropping it ends the session and with it the lock.
async fn hall_unlock(conn: &mut Conn, hall_id: &str) {
    if conn
        .execute(
            "SELECT pg_advisory_unlock($1, $2)",
            &[&SYNC_LOCK_SPACE, &hall_lock_key(hall_id)],
        )
        .await
        .is_err()
    {
        conn.discard();
    }
}

fn sink_err(e: tokio_postgres::Error) -> SyncError {
    SyncError::Sink(HubError::Db(e).to_string())
}

/// Where a hub sync's time went, ms.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SyncTiming {
    /// In PostgreSQL transactions storing pages (records, case engine, cursor).
    pub store_ms: u64,
    /// Delivering the decisions left when the last page was stored (they go out
    /// during the sync too), answers included.
    pub push_ms: u64,
}

/// How a hall's sync on the hub went.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HubSyncReport {
    /// This process synced it and delivered its pending decisions.
    Synced {
        /// The hall's feed into the hub.
        sync: HallReport,
        /// The hub's decisions out to the hall.
        push: hcp_sync::PushReport,
        /// Where the time went, ms: storing pages in PostgreSQL (records, cases,
        /// cursor), and delivering the decisions; the rest of `sync.elapsed_ms` is
        /// the hall's answers and their validation not hidden behind storing.
        timing: SyncTiming,
    },
    /// Another hub process is syncing it right now.
    Busy {
        /// 大厅编码.
        hall_id: String,
    },
}

/// What is stored of a record already: its rev, and an evaluation's level and
/// status.
type StoredRev = (i64, Option<i16>, Option<String>);

/// One record of a batch, as the hub stores it.
struct Row<'a> {
    kind: &'static str,
    id: &'a str,
    rev: i64,
    hall_seq: i64,
    evaluation_id: &'a str,
    level: Option<i16>,
    status: Option<&'a str>,
    evaluated_at: Option<DateTime<Utc>>,
    id_hash: Option<&'a str>,
    raw: &'a str,
}

fn row<'a>(seq: i64, raw: &'a str, r: &'a ValidRecord) -> Option<Row<'a>> {
    Some(match r {
        ValidRecord::Evaluation(e) => Row {
            kind: "evaluation",
            id: &e.id,
            rev: e.rev,
            hall_seq: seq,
            evaluation_id: &e.id,
            level: Some(i16::from(e.level)),
            status: Some(e.status.as_str()),
            evaluated_at: Some(e.evaluated_at.with_timezone(&Utc)),
            id_hash: e.evaluator.id_hash.as_deref(),
            raw,
        },
        ValidRecord::Appeal(a) => Row {
            kind: "appeal",
            id: &a.id,
            rev: a.rev,
            hall_seq: seq,
            evaluation_id: &a.evaluation_id,
            level: None,
            status: None,
            evaluated_at: None,
            id_hash: None,
            raw,
        },
        ValidRecord::Rectification(x) => Row {
            kind: "rectification",
            id: &x.id,
            rev: x.rev,
            hall_seq: seq,
            evaluation_id: &x.evaluation_id,
            level: None,
            status: None,
            evaluated_at: None,
            id_hash: None,
            raw,
        },
        ValidRecord::Profile(_) | ValidRecord::UnknownKind(_) => return None,
    })
}

/// PostgreSQL as the sink of one hall's sync, on the connection that holds the
/// hall's advisory lock.
pub(crate) struct PgSink {
    conn: Conn,
    /// Time spent in `store`.
    stored: std::time::Duration,
    /// Records this sync added…
    added: u64,
    /// …and how many it takes before the next `ANALYZE` (see [`PgSink::keep_statistics`]).
    analyze_at: u64,
    /// Whether a record at its first revision is taken for new without looking
    /// (see [`store_pages`]); off for the rest of the sync once that was wrong.
    first_revs_new: bool,
}

/// A sync that adds this many records analyzes the table, and again each time it
/// has grown them fourfold.
const ANALYZE_FIRST_AT: u64 = 20_000;

impl PgSink {
    /// Keeps the planner's statistics up with a bulk sync. Without them it takes a
    /// hall that grew from nothing to a million rows during this sync for a small
    /// one and reads every one of its rows for each batch's lookups (a bitmap scan
    /// of the hall instead of index probes — measured: the two lookups took 17 of
    /// 46 s of a million-row ingest). `ANALYZE` samples a fixed number of rows, so
    /// analyzing at 20k, 80k, 320k… added rows costs a few hundred ms in all (every
    /// doubling was measured at 2.8 s for a million rows; the plans only need the
    /// order of magnitude).
    async fn keep_statistics(&mut self, added: u64) {
        self.added += added;
        if self.added < self.analyze_at {
            return;
        }
        self.analyze_at = self.added.saturating_mul(4);
        // The cases and decisions the records open grow with them.
        for table in ["hub_records", "hub_cases", "hub_outbox"] {
            if let Err(e) = self.conn.batch_execute(&format!("ANALYZE {table}")).await {
                tracing::warn!(error = %e, table, "analyze during a bulk sync failed");
            }
        }
    }
}

impl FeedSink for PgSink {
    async fn begin(
        &mut self,
        hall_id: &str,
    ) -> std::result::Result<(Option<String>, i64), SyncError> {
        self.conn
            .execute(
                "INSERT INTO hub_sync_state (hall_id) VALUES ($1) ON CONFLICT (hall_id) DO NOTHING",
                &[&hall_id],
            )
            .await
            .map_err(sink_err)?;
        let r = self
            .conn
            .query_one(
                "SELECT cursor, profile_rev FROM hub_sync_state WHERE hall_id = $1",
                &[&hall_id],
            )
            .await
            .map_err(sink_err)?;
        Ok((r.get(0), r.get(1)))
    }

    async fn restart(&mut self, hall_id: &str) -> std::result::Result<(), SyncError> {
        self.conn
            .execute(
                "UPDATE hub_sync_state SET cursor = NULL, restarts_total = restarts_total + 1
                 WHERE hall_id = $1",
                &[&hall_id],
            )
            .await
            .map_err(sink_err)?;
        Ok(())
    }

    async fn store(
        &mut self,
        hall_id: &str,
        mut batch: FetchedBatch,
    ) -> std::result::Result<PageOutcome, SyncError> {
        let pages = batch.pages()?;
        let t = std::time::Instant::now();
        let mut r = store_pages(&mut self.conn, hall_id, &pages, self.first_revs_new).await;
        if self.first_revs_new
            && let Err(HubError::Db(e)) = &r
            && e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
        {
            // A first revision the hub had after all (a batch stored again after a
            // crash, a feed restarted from the beginning): the batch is stored
            // again the careful way, and so is the rest of this sync.
            tracing::info!(
                hall_id,
                "records seen before: looking each one up from now on"
            );
            self.first_revs_new = false;
            r = store_pages(&mut self.conn, hall_id, &pages, false).await;
        }
        let r = r.map_err(|e| SyncError::Sink(e.to_string()));
        if let Ok(o) = &r {
            self.keep_statistics(o.new).await;
        }
        self.stored += t.elapsed();
        r
    }

    async fn finish(
        &mut self,
        hall_id: &str,
        attempted_at: DateTime<Utc>,
        outcome: std::result::Result<(), &str>,
    ) {
        let r = match outcome {
            Ok(()) => {
                self.conn
                    .execute(
                        "UPDATE hub_sync_state SET last_attempt_at = $2, last_success_at = now(),
                            last_error = NULL, last_error_at = NULL
                         WHERE hall_id = $1",
                        &[&hall_id, &attempted_at],
                    )
                    .await
            }
            Err(reason) => {
                self.conn
                    .execute(
                        "UPDATE hub_sync_state SET last_attempt_at = $2, last_error = $3,
                            last_error_at = now()
                         WHERE hall_id = $1",
                        &[&hall_id, &attempted_at, &reason],
                    )
                    .await
            }
        };
        if let Err(e) = r {
            tracing::warn!(hall_id, error = %e, "could not record the end of a hall sync");
        }
    }
}

/// Stores consecutive pages and the last cursor in one transaction.
///
/// With `first_revs_new`, a record at its first revision is taken for one the hub
/// never had, without looking it up: the feed sends each revision once, so only a
/// batch stored again (a crash between commit and the next request) or a restarted
/// feed brings one back — and then the record's key is taken already, the `COPY`
/// fails on it, nothing of the transaction stays, and the caller stores the batch
/// again without the shortcut. Later revisions are always looked up. (Measured:
/// the lookup of every key was 4.0 s of a million-row first sync.)
async fn store_pages(
    conn: &mut Conn,
    hall_id: &str,
    pages: &[PageToApply<'_>],
    first_revs_new: bool,
) -> Result<PageOutcome> {
    let mut out = PageOutcome::default();
    let Some(last) = pages.last() else {
        return Ok(out);
    };
    let tx = conn.transaction().await?;
    let state = tx
        .query_one(
            "SELECT last_seq, cursor FROM hub_sync_state WHERE hall_id = $1 FOR UPDATE",
            &[&hall_id],
        )
        .await?;
    let (mut seq, cursor): (i64, Option<String>) = (state.get(0), state.get(1));
    let empty = pages.iter().all(|p| {
        p.records.is_empty()
            && p.quarantined.is_empty()
            && p.skipped_unknown == 0
            && p.profile.is_none()
    });
    if empty && cursor.as_deref() == Some(last.next_cursor) {
        return Ok(out);
    }

    // The highest rev of each key in the batch (a record can come twice).
    let mut rows: Vec<Row<'_>> = vec![];
    let mut at: HashMap<(&str, &str), usize> = HashMap::new();
    let mut seen = 0i64;
    for page in pages {
        out.skipped += page.skipped_unknown;
        seen += (page.records.len() + page.quarantined.len()) as i64;
        if let Some(profile) = &page.profile {
            let json = serde_json::to_string(profile).unwrap_or_default();
            seq += 1;
            tx.execute(
                "UPDATE hub_halls SET name = $2, profile_json = $3, updated_at = now()
                 WHERE hall_id = $1",
                &[&hall_id, &profile.name, &json],
            )
            .await?;
            tx.execute(
                "UPDATE hub_sync_state SET profile_rev = $2, profile_seq = $3 WHERE hall_id = $1",
                &[&hall_id, &profile.profile_rev, &seq],
            )
            .await?;
        }
        for rec in &page.records {
            let Some(r) = row(rec.seq, rec.raw, &rec.record) else {
                continue;
            };
            match at.get(&(r.kind, r.id)) {
                Some(&i) if rows[i].rev >= r.rev => out.unchanged += 1,
                Some(&i) => {
                    out.unchanged += 1;
                    rows[i] = r;
                }
                None => {
                    at.insert((r.kind, r.id), rows.len());
                    rows.push(r);
                }
            }
        }
    }

    // What is stored already, to tell new from updated from unchanged.
    let looked_up = rows.iter().filter(|r| !(first_revs_new && r.rev <= 1));
    let kinds: Vec<&str> = looked_up.clone().map(|r| r.kind).collect();
    let ids: Vec<&str> = looked_up.map(|r| r.id).collect();
    // A hall's first sync has nothing stored yet: no need to look.
    let first_sync = state.get::<_, i64>(0) == 0;
    let stored: HashMap<(String, String), StoredRev> = if first_sync || ids.is_empty() {
        HashMap::new()
    } else {
        tx.query(
            "SELECT kind, id, rev, level, status FROM hub_records
             WHERE hall_id = $1 AND (kind, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
            &[&hall_id, &kinds, &ids],
        )
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4))))
        .collect()
    };
    // Each changed row, and whether the hub had it before (a revision).
    let mut changed: Vec<(&Row<'_>, bool)> = vec![];
    for r in &rows {
        let before = stored.get(&(r.kind.to_owned(), r.id.to_owned()));
        match before {
            Some((rev, ..)) if *rev >= r.rev => {
                out.unchanged += 1;
                continue;
            }
            Some(_) => out.updated += 1,
            None => out.new += 1,
        }
        changed.push((r, before.is_some()));
    }
    // What the ratings' revs mean for cases, taken one by one in feed order as a
    // desk takes them (the stored row keeps only the batch's last rev): the first
    // time a rating turns bad opens its case (once), each time it stops being bad
    // is a step (a revision or a withdrawal) at that rev's place in the feed.
    let bad = |level: Option<i16>, status: Option<&str>| {
        level.is_some_and(|l| hcp_core::rating::needs_case(i64::from(l), status.unwrap_or("")))
    };
    let mut openings = vec![];
    let mut opened_ids: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut rating_steps: Vec<(i64, &str, bool, u8)> = vec![];
    let mut rating_now: HashMap<&str, (i64, bool)> = HashMap::new();
    for rec in pages.iter().flat_map(|p| &p.records) {
        let ValidRecord::Evaluation(e) = &rec.record else {
            continue;
        };
        let (floor, was_bad) = match rating_now.get(e.id.as_str()) {
            Some(&(rev, was)) => (rev, Some(was)),
            None => match stored.get(&("evaluation".to_owned(), e.id.clone())) {
                Some((rev, level, status)) => (*rev, Some(bad(*level, status.as_deref()))),
                None => (0, None),
            },
        };
        if e.rev <= floor {
            continue;
        }
        let is_bad = bad(Some(i16::from(e.level)), Some(e.status.as_str()));
        if is_bad && was_bad != Some(true) && opened_ids.insert(e.id.as_str()) {
            openings.push(crate::cases::Opening {
                evaluation_id: e.id.clone(),
                evaluated_at: e.evaluated_at,
                id_hash: e.evaluator.id_hash.clone(),
            });
        }
        if !is_bad && was_bad == Some(true) {
            let withdrawn = e.status.as_str() == "withdrawn";
            rating_steps.push((rec.seq, e.id.as_str(), withdrawn, e.level));
        }
        rating_now.insert(e.id.as_str(), (e.rev, is_bad));
    }
    if !changed.is_empty() {
        let first = seq + 1;
        seq += changed.len() as i64;
        // Rows the hub never had go in by COPY: nothing can conflict with them while
        // this sync holds the hall's lock. Revisions replace what is stored.
        let (mut fresh, mut revised) = (vec![], vec![]);
        for ((r, had), seq) in changed.iter().zip(first..=seq) {
            if *had { &mut revised } else { &mut fresh }.push((*r, seq));
        }
        copy_records(&tx, hall_id, &fresh).await?;
        upsert_records(&tx, hall_id, &revised).await?;
    }

    // The case engine, in the same transaction: a crash keeps records and cases
    // together.
    let rules = crate::cases::Rules::load(&tx).await?;
    // Records stored before this batch precede all of it in the hall's feed.
    let batch_start = pages
        .iter()
        .flat_map(|p| &p.records)
        .map(|r| r.seq)
        .min()
        .unwrap_or(i64::MAX);
    crate::cases::open_cases(&tx, &rules, hall_id, &openings, batch_start).await?;
    // Then this batch's steps in the hall's order, as a desk takes them one by
    // one: a rectification after a revision meets a closed case.
    let now = Utc::now().with_timezone(&hcp_core::metrics::beijing());
    let mut steps: Vec<(i64, HallStep)> = rating_steps
        .into_iter()
        .map(|(seq, id, withdrawn, level)| {
            (seq, HallStep::no_longer_bad(id, withdrawn, level, now))
        })
        .collect();
    // Every rev of an appeal or rectification newer than what came before it
    // (stored, or earlier in this batch) is a step, as a desk applies them one by
    // one — even where the stored row keeps only the batch's last rev.
    let mut newest: HashMap<(&str, &str), i64> = HashMap::new();
    for rec in pages.iter().flat_map(|p| &p.records) {
        let Some(r) = row(rec.seq, rec.raw, &rec.record) else {
            continue;
        };
        if r.kind == "evaluation" {
            continue;
        }
        let floor = match newest.get(&(r.kind, r.id)) {
            Some(&rev) => rev,
            None => stored
                .get(&(r.kind.to_owned(), r.id.to_owned()))
                .map_or(0, |s| s.0),
        };
        if r.rev > floor {
            newest.insert((r.kind, r.id), r.rev);
            if let Some(step) = HallStep::follow_up(r.kind, r.raw.to_owned()) {
                steps.push((r.hall_seq, step));
            }
        }
    }
    steps.sort_by_key(|(seq, _)| *seq);
    let steps: Vec<_> = steps.into_iter().map(|(_, s)| s).collect();
    crate::cases::apply_hall_steps(&tx, &rules, hall_id, &steps).await?;

    let quarantined: Vec<_> = pages.iter().flat_map(|p| &p.quarantined).collect();
    if !quarantined.is_empty() {
        let seqs: Vec<i64> = quarantined.iter().map(|q| q.seq).collect();
        let kinds: Vec<&str> = quarantined.iter().map(|q| q.kind.as_str()).collect();
        let raws: Vec<&str> = quarantined.iter().map(|q| q.raw).collect();
        let fields: Vec<&str> = quarantined.iter().map(|q| q.field.as_str()).collect();
        let reasons: Vec<&str> = quarantined.iter().map(|q| q.reason.as_str()).collect();
        out.quarantined = tx
            .execute(
                "INSERT INTO hub_quarantine (hall_id, seq, kind, raw, field, reason)
                 SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[])
                 ON CONFLICT (hall_id, seq) DO NOTHING",
                &[&hall_id, &seqs, &kinds, &raws, &fields, &reasons],
            )
            .await?;
        for q in &quarantined {
            tracing::warn!(hall_id, seq = q.seq, field = %q.field, "record quarantined");
        }
    }

    tx.execute(
        "UPDATE hub_sync_state SET cursor = $2, last_seq = $3, pages_total = pages_total + $4,
            records_total = records_total + $5, quarantined_total = quarantined_total + $6,
            skipped_total = skipped_total + $7
         WHERE hall_id = $1",
        &[
            &hall_id,
            &last.next_cursor,
            &seq,
            &(pages.len() as i64),
            &seen,
            &(out.quarantined as i64),
            &(out.skipped as i64),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

impl Hub {
    /// The endpoints of the registered halls (with their tokens: for the sync only).
    async fn endpoints(&self, only: &[String]) -> Result<Vec<HallEndpoint>> {
        let c = self.conn().await?;
        let rows = c
            .query(
                "SELECT hall_id, base_url, token, ca_file, removed_at IS NOT NULL
                 FROM hub_halls ORDER BY hall_id",
                &[],
            )
            .await?;
        let mut out = vec![];
        for r in rows {
            let hall_id: String = r.get(0);
            if !only.is_empty() && !only.contains(&hall_id) {
                continue;
            }
            // A removed hall is history: nothing to fetch, no token to fetch with.
            if r.get::<_, bool>(4) {
                if only.contains(&hall_id) {
                    return Err(HubError::Invalid(format!(
                        "大厅 “{hall_id}” 已从团队服务器移除，不再同步（重新 hcp hub hall add 可恢复）"
                    )));
                }
                continue;
            }
            out.push(HallEndpoint {
                hall_id,
                base_url: r.get(1),
                token: Token::new(r.get::<_, String>(2)),
                ca_file: r.get::<_, Option<String>>(3).map(Into::into),
            });
        }
        if let Some(missing) = only.iter().find(|h| !out.iter().any(|e| &e.hall_id == *h)) {
            return Err(HubError::Invalid(format!(
                "团队服务器上没有登记大厅 “{}”",
                hcp_core::ident::printable(missing)
            )));
        }
        Ok(out)
    }

    /// Syncs the registered halls (all when `only` is empty), `options.concurrency`
    /// at a time, each into PostgreSQL under its advisory lock. A hall another
    /// process is syncing is reported [`HubSyncReport::Busy`] and left to it.
    pub async fn sync_halls(
        &self,
        only: &[String],
        options: &SyncOptions,
        progress: ProgressFn,
    ) -> Result<Vec<HubSyncReport>> {
        use futures::StreamExt;
        let eps = self.endpoints(only).await?;
        let order: Vec<String> = eps.iter().map(|e| e.hall_id.clone()).collect();
        let mut reports: Vec<HubSyncReport> = futures::stream::iter(eps)
            .map(|ep| {
                let progress = progress.clone();
                async move { self.sync_one(ep, options, progress).await }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect::<Vec<Result<HubSyncReport>>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let key = |r: &HubSyncReport| match r {
            HubSyncReport::Synced { sync, .. } => sync.hall_id.clone(),
            HubSyncReport::Busy { hall_id } => hall_id.clone(),
        };
        reports.sort_by_key(|r| order.iter().position(|h| *h == key(r)));
        Ok(reports)
    }

    async fn sync_one(
        &self,
        ep: HallEndpoint,
        options: &SyncOptions,
        progress: ProgressFn,
    ) -> Result<HubSyncReport> {
        let conn = self.conn().await?;
        if !try_hall_lock(&conn, &ep.hall_id).await? {
            return Ok(HubSyncReport::Busy {
                hall_id: ep.hall_id,
            });
        }
        let mut sink = PgSink {
            conn,
            stored: std::time::Duration::ZERO,
            added: 0,
            analyze_at: ANALYZE_FIRST_AT,
            first_revs_new: true,
        };
        // The decisions for the hall go out while its records still come in (on a
        // second connection, under the same lock): a bulk first sync opens tens of
        // thousands of cases, and delivering them after the last page was measured
        // at 5 of 29 s of a million-row ingest.
        let finished = std::sync::atomic::AtomicBool::new(false);
        let ingest = async {
            let r = hcp_sync::sync_hall_into(&mut sink, ep.clone(), options, progress).await;
            finished.store(true, std::sync::atomic::Ordering::Release);
            (r, std::time::Instant::now())
        };
        let ((report, pushing), push) =
            tokio::join!(ingest, self.push_during(&ep, options, &finished));
        hall_unlock(&mut sink.conn, &ep.hall_id).await;
        // After a bulk sync, vacuum and analyze the records at once rather than
        // leave it to autovacuum: until then the first reader of each new row
        // (a desk's first sync through the hub) pays for setting its hint bits and
        // the planner has no statistics — measured: a new replica took 60 s instead
        // of 11 s right after a million-row ingest.
        // One statement per request: several in one simple query run as one
        // implicit transaction, and VACUUM refuses to run inside a transaction.
        if report.outcome.new + report.outcome.updated >= BULK_ROWS {
            for sql in ["VACUUM (ANALYZE) hub_records", "ANALYZE hub_cases"] {
                if let Err(e) = sink.conn.batch_execute(sql).await {
                    tracing::warn!(error = %e, sql, "vacuum after a bulk sync failed");
                }
            }
        }
        let timing = SyncTiming {
            store_ms: sink.stored.as_millis() as u64,
            push_ms: pushing.elapsed().as_millis() as u64,
        };
        Ok(HubSyncReport::Synced {
            sync: report,
            push,
            timing,
        })
    }
}

impl Hub {
    /// Delivers a hall's decisions until its sync has `finished`, on a connection
    /// of its own: a round, then a short pause when it delivered nothing. The last
    /// round starts after the sync ended, so every decision the sync queued goes
    /// out (or stays pending with the reason, as before).
    async fn push_during(
        &self,
        ep: &HallEndpoint,
        options: &SyncOptions,
        finished: &std::sync::atomic::AtomicBool,
    ) -> hcp_sync::PushReport {
        let mut total = hcp_sync::PushReport {
            hall_id: ep.hall_id.clone(),
            ..Default::default()
        };
        let mut conn = match self.conn().await {
            Ok(c) => c,
            Err(e) => {
                total.error = Some(e.to_string());
                return total;
            }
        };
        loop {
            let last = finished.load(std::sync::atomic::Ordering::Acquire);
            let p = hcp_sync::push_hall_from(
                &mut crate::outbox::PgOutbox { conn: &mut conn },
                ep.clone(),
                options,
            )
            .await;
            let moved = p.accepted + p.duplicate + p.rejected;
            total.accepted += p.accepted;
            total.duplicate += p.duplicate;
            total.rejected += p.rejected;
            total.pending = p.pending;
            if last {
                total.error = p.error;
                return total;
            }
            // Nothing to deliver yet, or the hall refused for now: the last round,
            // after the sync, tries again and reports.
            if moved == 0 || p.error.is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }

    /// Delivers decisions as soon as an accepted step queues them, for ever (run
    /// beside [`Hub::sync_on_schedule`] by `hcp hub serve`): woken by each
    /// accepted batch, it pushes every hall with pending decisions under that
    /// hall's sync lock, so delivery stays one process at a time and exactly
    /// once. A hall whose sync holds the lock is tried again shortly (that sync
    /// delivers what it can meanwhile); one that cannot be reached is left to the
    /// next scheduled sync, which reports it.
    pub async fn deliver_on_notice(&self, options: &SyncOptions) {
        loop {
            self.outbox_notice.notified().await;
            // A burst of steps goes out as one round.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            for _ in 0..150 {
                match self.deliver_pending(options).await {
                    Ok(true) => break,
                    Ok(false) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivering decisions failed");
                        break;
                    }
                }
            }
        }
    }

    /// One delivery round over the halls with pending decisions; `false` when a
    /// hall was busy (its lock held elsewhere) and should be tried again.
    async fn deliver_pending(&self, options: &SyncOptions) -> Result<bool> {
        let pending: Vec<String> = {
            let c = self.conn().await?;
            c.query(
                "SELECT DISTINCT hall_id FROM hub_outbox WHERE state = 'pending'",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect()
        };
        if pending.is_empty() {
            return Ok(true);
        }
        let mut all_done = true;
        for ep in self
            .endpoints(&[])
            .await?
            .into_iter()
            .filter(|e| pending.contains(&e.hall_id))
        {
            let mut conn = self.conn().await?;
            if !try_hall_lock(&conn, &ep.hall_id).await? {
                all_done = false;
                continue;
            }
            let hall_id = ep.hall_id.clone();
            let p = hcp_sync::push_hall_from(
                &mut crate::outbox::PgOutbox { conn: &mut conn },
                ep,
                options,
            )
            .await;
            hall_unlock(&mut conn, &hall_id).await;
            match &p.error {
                None => tracing::info!(
                    %hall_id,
                    delivered = p.accepted + p.duplicate,
                    rejected = p.rejected,
                    "decisions delivered"
                ),
                Some(e) => tracing::warn!(
                    %hall_id,
                    pending = p.pending,
                    error = %e,
                    "decisions not delivered; the next sync tries again"
                ),
            }
        }
        Ok(all_done)
    }

    /// Syncs every registered hall now and then every `every`, for ever (the
    /// hub's schedule). Failures are logged and retried at the next turn.
    pub async fn sync_on_schedule(&self, every: std::time::Duration, options: &SyncOptions) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.sync_halls(&[], options, no_progress()).await {
                Ok(reports) => {
                    for r in reports {
                        if let HubSyncReport::Synced { sync: h, push, .. } = r {
                            tracing::info!(
                                hall_id = %h.hall_id,
                                new = h.outcome.new,
                                updated = h.outcome.updated,
                                error = h.error.as_deref().unwrap_or(""),
                                delivered = push.accepted + push.duplicate,
                                pending = push.pending,
                                "scheduled hall sync"
                            );
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduled hall sync failed"),
            }
        }
    }
}

/// Progress that goes nowhere.
pub fn no_progress() -> ProgressFn {
    Arc::new(|_| {})
}

/// The columns of `hub_records` a sync writes, in the order both writers bind them.
const RECORD_COLUMNS: &str = "hall_id, kind, id, rev, seq, hall_seq, evaluation_id, level, status, evaluated_at, id_hash, raw";

/// Rows `(row, feed seq)` the hub does not have yet, by `COPY … (FORMAT binary)`.
async fn copy_records(
    tx: &tokio_postgres::Transaction<'_>,
    hall_id: &str,
    rows: &[(&Row<'_>, i64)],
) -> Result<()> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;
    if rows.is_empty() {
        return Ok(());
    }
    let sink = tx
        .copy_in(&format!(
            "COPY hub_records ({RECORD_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::INT2,
            Type::TEXT,
            Type::TIMESTAMPTZ,
            Type::TEXT,
            Type::TEXT,
        ],
    );
    futures::pin_mut!(writer);
    for (r, seq) in rows {
        writer
            .as_mut()
            .write(&[
                &hall_id,
                &r.kind,
                &r.id,
                &r.rev,
                seq,
                &r.hall_seq,
                &r.evaluation_id,
                &r.level,
                &r.status,
                &r.evaluated_at,
                &r.id_hash,
                &r.raw,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Revisions `(row, feed seq)` of rows the hub has: each replaces the stored one
/// if its rev is higher.
async fn upsert_records(
    tx: &tokio_postgres::Transaction<'_>,
    hall_id: &str,
    rows: &[(&Row<'_>, i64)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: for<'r> fn(&'r Row<'r>) -> &'r str| {
        rows.iter().map(|(r, _)| f(r)).collect::<Vec<&str>>()
    };
    let seqs: Vec<i64> = rows.iter().map(|(_, seq)| *seq).collect();
    let revs: Vec<i64> = rows.iter().map(|(r, _)| r.rev).collect();
    let hall_seqs: Vec<i64> = rows.iter().map(|(r, _)| r.hall_seq).collect();
    let levels: Vec<Option<i16>> = rows.iter().map(|(r, _)| r.level).collect();
    let statuses: Vec<Option<&str>> = rows.iter().map(|(r, _)| r.status).collect();
    let times: Vec<Option<DateTime<Utc>>> = rows.iter().map(|(r, _)| r.evaluated_at).collect();
    let hashes: Vec<Option<&str>> = rows.iter().map(|(r, _)| r.id_hash).collect();
    tx.execute(
        &format!(
            "INSERT INTO hub_records ({RECORD_COLUMNS})
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[],
            $7::text[], $8::int2[], $9::text[], $10::timestamptz[], $11::text[], $12::text[])
         ON CONFLICT (hall_id, kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
            hall_seq = excluded.hall_seq, evaluation_id = excluded.evaluation_id,
            level = excluded.level, status = excluded.status,
            evaluated_at = excluded.evaluated_at, id_hash = excluded.id_hash,
            raw = excluded.raw, synced_at = now()
         WHERE hub_records.rev < excluded.rev"
        ),
        &[
            &hall_id,
            &col(|r| r.kind),
            &col(|r| r.id),
            &revs,
            &seqs,
            &hall_seqs,
            &col(|r| r.evaluation_id),
            &levels,
            &statuses,
            &times,
            &hashes,
            &col(|r| r.raw),
        ],
    )
    .await?;
    Ok(())
}
