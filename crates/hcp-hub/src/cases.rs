//! The case engine on the hub: hcp-core decides what a step writes (the case with
//! its new version, the timeline entry, the decisions for the hall, the effects
//! beyond the case), this module persists it in PostgreSQL in the caller's
//! transaction — the same writes the desk's cache persists. Cases open from the
//! ratings the hub syncs; officers' actions arrive in batches from desktops, each
//! with a UUID (a repeat changes nothing) and the case version the officer saw (a
//! stale one is a conflict).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::Capability;
use hcp_core::case::{
    Actor, BAD_RATING, Case, CaseHead, CaseRepository, CaseWrites, Found, HallStep, Lookups,
    Record, Signer, Transition, early_steps, opening_writes, step_writes,
};
use serde::Serialize;
use tokio_postgres::Transaction;

use hcp_core::hub::{
    ActionRequest, ActionResult, CaseChange, CasePage, CaseView, MAX_ACTIONS_PER_REQUEST,
    TimelineEntry,
};

use crate::audit::{Entry, append};
use crate::{Account, Hub, HubError, Result};

/// The name the hub's own transitions are made under (core's, as on a desk).
pub use hcp_core::case::SYSTEM_NAME;

pub(crate) use crate::rules::Rules;

fn beijing_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&hcp_core::metrics::beijing())
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn read_case(case_id: i64, body: &str) -> Result<Case> {
    serde_json::from_str(body)
        .map_err(|e| HubError::Invalid(format!("工单 {case_id} 的数据已损坏：{e}")))
}

async fn load_case(tx: &Transaction<'_>, case_id: i64) -> Result<Option<CaseHead>> {
    let Some(r) = tx
        .query_opt(
            "SELECT case_id, hall_id, evaluation_id, version, body, kind FROM hub_cases
             WHERE case_id = $1 FOR UPDATE",
            &[&case_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let body: String = r.get(4);
    Ok(Some(CaseHead {
        case_id: r.get(0),
        kind: r.get(5),
        hall_id: r.get(1),
        evaluation_id: r.get(2),
        version: r.get(3),
        case: read_case(case_id, &body)?,
    }))
}

/// The transaction lock under which case writes take their feed numbers (held
/// to commit, so a reader never sees number N+1 before N).
pub(crate) const CASE_FEED_LOCK: i64 = 0x4843_5043; // "HCPC"

/// What a transition's writes refer to, as the hub holds it.
async fn find(tx: &Transaction<'_>, head: &CaseHead, l: Lookups) -> Result<Found> {
    let (hall, eval) = (head.hall_id.as_str(), head.evaluation_id.as_str());
    let latest = |kind: &'static str| async move {
        Ok::<_, HubError>(
            tx.query_opt(
                "SELECT id, raw FROM hub_records
                 WHERE hall_id = $1 AND kind <> 'evaluation' AND kind = $2 AND evaluation_id = $3
                 ORDER BY hall_seq DESC LIMIT 1",
                &[&hall, &kind, &eval],
            )
            .await?
            .map(|r| Record {
                id: r.get(0),
                raw: r.get(1),
            }),
        )
    };
    let rectification = if l.rectification {
        latest("rectification").await?
    } else {
        None
    };
    let appeal = if l.appeal {
        latest("appeal").await?
    } else {
        None
    };
    let rating = if l.evaluation || l.rater {
        tx.query_opt(
            "SELECT raw, id_hash FROM hub_records
             WHERE hall_id = $1 AND kind = 'evaluation' AND id = $2",
            &[&hall, &eval],
        )
        .await?
    } else {
        None
    };
    Ok(Found {
        rectification,
        appeal,
        evaluation: rating.as_ref().filter(|_| l.evaluation).map(|r| r.get(0)),
        rater: rating.as_ref().filter(|_| l.rater).and_then(|r| r.get(1)),
    })
}

/// Steps persisted together: each kind of row is written with one statement, so
/// a sync that moves thousands of cases costs a handful of round trips, and an
/// officer's single action goes the same way.
pub(crate) struct Writes<'r> {
    rules: &'r Rules,
    /// The cases' new rows, one per case (a case moved twice keeps its last).
    cases: Vec<CaseRow>,
    index: HashMap<i64, usize>,
    events: Vec<EventRow>,
    outbox: Vec<OutboxRow>,
    /// Ratings that leave the figures: (hall, evaluation).
    exclusions: Vec<(String, String)>,
    /// Raters to mark malicious: (id_hash, case).
    marks: Vec<(String, i64)>,
}

struct CaseRow {
    case_id: i64,
    state: &'static str,
    body: String,
    version: i64,
    due: Option<DateTime<Utc>>,
    warn: Option<DateTime<Utc>>,
}

struct EventRow {
    case_id: i64,
    version: i64,
    actor: String,
    role: String,
    event: String,
    from: Option<String>,
    to: String,
    summary: String,
    note: Option<String>,
    signed: Option<String>,
}

struct OutboxRow {
    id: String,
    hall_id: String,
    case_id: i64,
    kind: String,
    body: String,
}

impl CaseRepository for Writes<'_> {
    type Error = HubError;

    /// Buffers `w`; [`Writes::flush`] writes it.
    fn persist(&mut self, w: &CaseWrites) -> Result<()> {
        let (due, warn) = self.rules.due(&w.after.hall_id, &w.after.case);
        let row = CaseRow {
            case_id: w.after.case_id,
            state: w.after.case.state.as_str(),
            body: to_json(&w.after.case),
            version: w.after.version,
            due,
            warn,
        };
        match self.index.get(&w.after.case_id) {
            Some(&i) => self.cases[i] = row,
            None => {
                self.index.insert(w.after.case_id, self.cases.len());
                self.cases.push(row);
            }
        }
        self.events.push(event_row(w));
        for d in &w.decisions {
            self.outbox.push(OutboxRow {
                id: d.id.clone(),
                hall_id: w.after.hall_id.clone(),
                case_id: w.after.case_id,
                kind: d.kind.clone(),
                body: to_json(d),
            });
        }
        if w.exclude_rating {
            self.exclusions
                .push((w.after.hall_id.clone(), w.after.evaluation_id.clone()));
        }
        if let Some(hash) = &w.mark_rater {
            self.marks.push((hash.clone(), w.after.case_id));
        }
        Ok(())
    }
}

fn event_row(w: &CaseWrites) -> EventRow {
    let e = &w.entry;
    EventRow {
        case_id: w.after.case_id,
        version: e.version,
        actor: e.actor.clone(),
        role: e.role.clone(),
        event: e.event.clone(),
        from: e.from.clone(),
        to: e.to.clone(),
        summary: e.summary.clone(),
        note: e.note.clone(),
        signed: e.signed_sha256.clone(),
    }
}

impl<'r> Writes<'r> {
    pub(crate) fn new(rules: &'r Rules) -> Self {
        Writes {
            rules,
            cases: vec![],
            index: HashMap::new(),
            events: vec![],
            outbox: vec![],
            exclusions: vec![],
            marks: vec![],
        }
    }

    /// Decides `t` on `head` (whose row the caller locked) and buffers its
    /// writes; `head` becomes the case after it. Returns the new version.
    pub(crate) async fn step(
        &mut self,
        tx: &Transaction<'_>,
        head: &mut CaseHead,
        t: Transition,
        by: Signer<'_>,
        at: DateTime<FixedOffset>,
    ) -> Result<i64> {
        let found = find(tx, head, t.lookups()).await?;
        let w = step_writes(head, t, &found, by, None, at);
        self.persist(&w)?;
        *head = w.after;
        Ok(head.version)
    }

    /// Decides a step of the hall's feed on `head` and buffers its writes.
    async fn hall_step(
        &mut self,
        tx: &Transaction<'_>,
        head: &mut CaseHead,
        step: &HallStep,
    ) -> Result<()> {
        let outcome = step.outcome(&head.case, &head.hall_id, self.rules);
        let found = find(tx, head, outcome.lookups()).await?;
        if let Some(w) = step.writes(head, outcome, &found) {
            self.persist(&w)?;
            *head = w.after;
        }
        Ok(())
    }

    /// Writes everything buffered, under the case feed's lock.
    pub(crate) async fn flush(self, tx: &Transaction<'_>) -> Result<()> {
        if self.cases.is_empty() {
            return Ok(());
        }
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CASE_FEED_LOCK])
            .await?;
        let c = &self.cases;
        let ids: Vec<i64> = c.iter().map(|r| r.case_id).collect();
        let states: Vec<&str> = c.iter().map(|r| r.state).collect();
        let bodies: Vec<&str> = c.iter().map(|r| r.body.as_str()).collect();
        let versions: Vec<i64> = c.iter().map(|r| r.version).collect();
        let due: Vec<Option<DateTime<Utc>>> = c.iter().map(|r| r.due).collect();
        let warn: Vec<Option<DateTime<Utc>>> = c.iter().map(|r| r.warn).collect();
        tx.execute(
            "UPDATE hub_cases c SET state = u.state, body = u.body, version = u.version,
                due_at = u.due, warn_at = u.warn, updated_at = now(),
                change_seq = nextval('hub_case_change_seq')
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[],
                         $6::timestamptz[]) AS u (id, state, body, version, due, warn)
             WHERE c.case_id = u.id",
            &[&ids, &states, &bodies, &versions, &due, &warn],
        )
        .await?;
        insert_events(tx, &self.events).await?;
        insert_outbox(tx, &self.outbox).await?;
        if !self.exclusions.is_empty() {
            let (halls, evals): (Vec<&str>, Vec<&str>) = self
                .exclusions
                .iter()
                .map(|(h, e)| (h.as_str(), e.as_str()))
                .unzip();
            tx.execute(
                "UPDATE hub_records r SET excluded = TRUE
                 FROM unnest($1::text[], $2::text[]) AS u (hall, id)
                 WHERE r.hall_id = u.hall AND r.kind = 'evaluation' AND r.id = u.id",
                &[&halls, &evals],
            )
            .await?;
        }
        for (hash, case_id) in &self.marks {
            tx.execute(
                "INSERT INTO hub_malicious_marks (id_hash, case_id) VALUES ($1, $2)
                 ON CONFLICT (id_hash) DO NOTHING",
                &[hash, case_id],
            )
            .await?;
            // Their other open cases are flagged for scrutiny (and reach the desks).
            tx.execute(
                concat!(
                    "UPDATE hub_cases c SET flagged_malicious = TRUE, updated_at = now(),
                        change_seq = nextval('hub_case_change_seq')
                     FROM hub_records r
                     WHERE r.kind = 'evaluation' AND r.id_hash = $1 AND r.level <= ",
                    hcp_core::bad_level_max!(),
                    " AND c.hall_id = r.hall_id AND c.evaluation_id = r.id
                       AND c.kind = 'bad_rating' AND NOT c.flagged_malicious
                       AND NOT (c.state = ANY($2))"
                ),
                &[hash, &closed_states()],
            )
            .await?;
        }
        Ok(())
    }
}

async fn insert_events(tx: &Transaction<'_>, e: &[EventRow]) -> Result<()> {
    if e.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&EventRow) -> &str| e.iter().map(f).collect::<Vec<&str>>();
    let ocol = |f: fn(&EventRow) -> Option<&str>| e.iter().map(f).collect::<Vec<Option<&str>>>();
    let ev_cases: Vec<i64> = e.iter().map(|r| r.case_id).collect();
    let ev_versions: Vec<i64> = e.iter().map(|r| r.version).collect();
    tx.execute(
        "INSERT INTO hub_case_events (case_id, version, actor, role, event, from_state, to_state,
            summary, note, signed_sha256)
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])",
        &[
            &ev_cases,
            &ev_versions,
            &col(|r| &r.actor),
            &col(|r| &r.role),
            &col(|r| &r.event),
            &ocol(|r| r.from.as_deref()),
            &col(|r| &r.to),
            &col(|r| &r.summary),
            &ocol(|r| r.note.as_deref()),
            &ocol(|r| r.signed.as_deref()),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_outbox(tx: &Transaction<'_>, o: &[OutboxRow]) -> Result<()> {
    if o.is_empty() {
        return Ok(());
    }
    let ocol = |f: fn(&OutboxRow) -> &str| o.iter().map(f).collect::<Vec<&str>>();
    let cases: Vec<i64> = o.iter().map(|r| r.case_id).collect();
    // In the order decided: the outbox's seq is the order the hall hears.
    tx.execute(
        "INSERT INTO hub_outbox (id, hall_id, case_id, kind, body)
         SELECT id, hall, c, kind, body
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[])
              WITH ORDINALITY AS u (id, hall, c, kind, body, n)
         ORDER BY n",
        &[
            &ocol(|r| &r.id),
            &ocol(|r| &r.hall_id),
            &cases,
            &ocol(|r| &r.kind),
            &ocol(|r| &r.body),
        ],
    )
    .await?;
    Ok(())
}

/// Applies the feed's steps to their cases in order (a step whose rating has no
/// case yet waits for it: opening a case picks up its records), loading every
/// case once and writing them all at the end.
pub(crate) async fn apply_hall_steps(
    tx: &Transaction<'_>,
    rules: &Rules,
    hall_id: &str,
    steps: &[HallStep],
) -> Result<()> {
    if steps.is_empty() {
        return Ok(());
    }
    let evals: Vec<&str> = steps.iter().map(|s| s.evaluation_id.as_str()).collect();
    let rows = tx
        .query(
            "SELECT case_id, hall_id, evaluation_id, version, body, kind FROM hub_cases
             WHERE hall_id = $1 AND kind = 'bad_rating' AND evaluation_id = ANY($2)
             ORDER BY case_id FOR UPDATE",
            &[&hall_id, &evals],
        )
        .await?;
    let mut cases = HashMap::new();
    for r in rows {
        let case_id: i64 = r.get(0);
        let body: String = r.get(4);
        let evaluation_id: String = r.get(2);
        cases.insert(
            evaluation_id.clone(),
            CaseHead {
                case_id,
                kind: r.get(5),
                hall_id: r.get(1),
                evaluation_id,
                version: r.get(3),
                case: read_case(case_id, &body)?,
            },
        );
    }
    let mut w = Writes::new(rules);
    for step in steps {
        if let Some(head) = cases.get_mut(&step.evaluation_id) {
            w.hall_step(tx, head, step).await?;
        }
    }
    w.flush(tx).await
}

/// A bad rating that needs a case (from the feed).
pub(crate) struct Opening {
    pub evaluation_id: String,
    pub evaluated_at: DateTime<FixedOffset>,
    pub id_hash: Option<String>,
}

/// Opens the cases of new bad ratings of one hall, in one statement; each new
/// case gets its first timeline entry and a `case_opened` decision for the hall,
/// as core writes them. Then appeals and rectifications stored before this batch
/// (feed position below `batch_start`) apply; the batch's own records follow as
/// its steps. Returns the evaluations whose cases were opened now.
pub(crate) async fn open_cases(
    tx: &Transaction<'_>,
    rules: &Rules,
    hall_id: &str,
    openings: &[Opening],
    batch_start: i64,
) -> Result<Vec<String>> {
    if openings.is_empty() {
        return Ok(vec![]);
    }
    let hashes: Vec<Option<&str>> = openings.iter().map(|o| o.id_hash.as_deref()).collect();
    let known: Vec<&str> = hashes.iter().flatten().copied().collect();
    let marked: std::collections::HashSet<String> = tx
        .query(
            "SELECT id_hash FROM hub_malicious_marks WHERE id_hash = ANY($1)",
            &[&known],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let now = beijing_now();
    // Whether each rater was marked before: the case opens flagged.
    let flagged: Vec<bool> = openings
        .iter()
        .map(|o| o.id_hash.as_ref().is_some_and(|h| marked.contains(h)))
        .collect();
    let writes: Vec<CaseWrites> = openings
        .iter()
        .zip(&flagged)
        .map(|(o, &f)| opening_writes(hall_id, &o.evaluation_id, o.evaluated_at, f, now))
        .collect();
    let ids: Vec<&str> = writes
        .iter()
        .map(|w| w.after.evaluation_id.as_str())
        .collect();
    let bodies: Vec<String> = writes.iter().map(|w| to_json(&w.after.case)).collect();
    let states: Vec<&str> = writes.iter().map(|w| w.after.case.state.as_str()).collect();
    let at: Vec<DateTime<Utc>> = openings
        .iter()
        .map(|o| o.evaluated_at.with_timezone(&Utc))
        .collect();
    let (due, warn): (Vec<_>, Vec<_>) = writes
        .iter()
        .map(|w| rules.due(hall_id, &w.after.case))
        .unzip();
    let versions: Vec<i64> = writes.iter().map(|w| w.after.version).collect();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CASE_FEED_LOCK])
        .await?;
    let opened = tx
        .query(
            "INSERT INTO hub_cases (hall_id, evaluation_id, kind, state, body, version,
                evaluated_at, due_at, warn_at, flagged_malicious, change_seq)
             SELECT $1, o.id, $2, o.state, o.body, o.version, o.at, o.due, o.warn, o.flagged,
                    nextval('hub_case_change_seq')
             FROM unnest($3::text[], $4::text[], $5::text[], $6::int8[], $7::timestamptz[],
                         $8::timestamptz[], $9::timestamptz[], $10::bool[])
                  AS o (id, state, body, version, at, due, warn, flagged)
             ON CONFLICT (hall_id, evaluation_id, kind) DO NOTHING
             RETURNING case_id, evaluation_id",
            &[
                &hall_id,
                &BAD_RATING,
                &ids,
                &states,
                &bodies,
                &versions,
                &at,
                &due,
                &warn,
                &flagged,
            ],
        )
        .await?;
    if opened.is_empty() {
        return Ok(vec![]);
    }
    let case_of: HashMap<String, i64> = opened.iter().map(|r| (r.get(1), r.get(0))).collect();
    let (mut events, mut outbox) = (vec![], vec![]);
    for mut w in writes {
        let Some(&case_id) = case_of.get(&w.after.evaluation_id) else {
            continue; // opened before (e.g. the rating went 2 → 4 → 2)
        };
        w.after.case_id = case_id;
        events.push(event_row(&w));
        for d in &w.decisions {
            outbox.push(OutboxRow {
                id: d.id.clone(),
                hall_id: w.after.hall_id.clone(),
                case_id,
                kind: d.kind.clone(),
                body: to_json(d),
            });
        }
    }
    insert_events(tx, &events).await?;
    insert_outbox(tx, &outbox).await?;
    // Appeals and rectifications that arrived before their case (e.g. the rating
    // was revised down to bad later) apply now, in the hall's order.
    let evals: Vec<String> = case_of.into_keys().collect();
    let early = tx
        .query(
            "SELECT hall_seq, kind, raw FROM hub_records
             WHERE hall_id = $1 AND kind <> 'evaluation' AND evaluation_id = ANY($2)
               AND hall_seq < $3",
            &[&hall_id, &evals, &batch_start],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    apply_hall_steps(tx, rules, hall_id, &early_steps(early)).await?;
    Ok(evals)
}

fn rejected(id: &str, reason: &str, message: String) -> ActionResult {
    ActionResult {
        id: id.to_owned(),
        status: "rejected".into(),
        reason: Some(reason.into()),
        message: Some(message),
        version: None,
        state: None,
    }
}

impl Hub {
    /// Decides a batch of actions in order, each in its own transaction.
    pub async fn act(&self, who: &Account, batch: &[ActionRequest]) -> Result<Vec<ActionResult>> {
        // Before anything is read or written: the case ids of a batch say nothing
        // to whom may not act on them.
        if !who.may(Capability::ViewCases) {
            return Err(HubError::Forbidden(
                "只有效能督查员与大厅负责人可以办理工单".into(),
            ));
        }
        if batch.len() > MAX_ACTIONS_PER_REQUEST {
            return Err(HubError::Invalid(format!(
                "一次最多提交 {MAX_ACTIONS_PER_REQUEST} 个操作"
            )));
        }
        let rules = {
            let c = self.conn().await?;
            Rules::load(&*c).await?
        };
        let mut out = Vec::with_capacity(batch.len());
        for a in batch {
            out.push(self.act_one(who, &rules, a).await?);
        }
        // Decisions an accepted step queued leave for the hall now, not at the
        // next scheduled sync.
        if out.iter().any(|r| r.status == "accepted") {
            self.outbox_notice.notify_one();
        }
        Ok(out)
    }

    async fn act_one(
        &self,
        who: &Account,
        rules: &Rules,
        a: &ActionRequest,
    ) -> Result<ActionResult> {
        if uuid::Uuid::parse_str(&a.id).is_err() {
            return Ok(rejected(&a.id, "invalid", "操作编号须为 UUID".into()));
        }
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The id first: a second request with it waits here for the first to
        // commit, then finds it.
        let fresh = tx
            .execute(
                "INSERT INTO hub_actions (id, account, case_id, status) VALUES ($1, $2, $3, 'pending')
                 ON CONFLICT (id) DO NOTHING",
                &[&a.id, &who.name, &a.case_id],
            )
            .await?
            == 1;
        if !fresh {
            let r = tx
                .query_one(
                    "SELECT status, reason, message, version, account FROM hub_actions WHERE id = $1",
                    &[&a.id],
                )
                .await?;
            let account: String = r.get(4);
            if account != who.name {
                return Ok(rejected(&a.id, "invalid", "操作编号已被占用".into()));
            }
            let status: String = r.get(0);
            return Ok(ActionResult {
                id: a.id.clone(),
                status: if status == "accepted" {
                    "duplicate".into()
                } else {
                    status
                },
                reason: r.get(1),
                message: r.get(2),
                version: r.get(3),
                state: None,
            });
        }
        let result = self.decide(&tx, who, rules, a).await?;
        tx.execute(
            "UPDATE hub_actions SET status = $2, reason = $3, message = $4, version = $5 WHERE id = $1",
            &[&a.id, &result.status, &result.reason, &result.message, &result.version],
        )
        .await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn decide(
        &self,
        tx: &Transaction<'_>,
        who: &Account,
        rules: &Rules,
        a: &ActionRequest,
    ) -> Result<ActionResult> {
        let Some(stored) = load_case(tx, a.case_id).await? else {
            return Ok(rejected(
                &a.id,
                "invalid",
                format!("没有编号为 {} 的工单", a.case_id),
            ));
        };
        if !who.may(Capability::DecideCases) {
            let message = if who.may(Capability::ViewCases) {
                "大厅负责人不能办理工单：工单由效能督查员办理"
            } else {
                "该账号不能办理工单"
            };
            return Ok(rejected(&a.id, "forbidden", message.into()));
        }
        if !a.action.is_officers() {
            return Ok(rejected(
                &a.id,
                "invalid",
                "该操作只能由大厅的数据产生".into(),
            ));
        }
        let current = |mut r: ActionResult| {
            r.version = Some(stored.version);
            r.state = Some(stored.case.state.as_str().to_owned());
            r
        };
        if stored.version != a.expected_version {
            return Ok(current(rejected(
                &a.id,
                "conflict",
                format!(
                    "工单已被他人更新（当前第 {} 版，您操作的是第 {} 版），请查看最新办理情况后再操作",
                    stored.version, a.expected_version
                ),
            )));
        }
        let now = beijing_now();
        let t = match stored.case.apply(
            &a.action,
            Actor::Officer,
            now,
            &rules.calendar,
            &rules.policy(&stored.hall_id),
        ) {
            Ok(t) => t,
            Err(refused) => return Ok(current(rejected(&a.id, "invalid", refused.to_string()))),
        };
        let by = Signer {
            name: &who.name,
            role: who.role,
        };
        let mut head = stored.clone();
        let (event, summary, note) = (t.event, t.summary.clone(), t.note.clone());
        let to = t.case.state.as_str();
        let mut w = Writes::new(rules);
        let version = w.step(tx, &mut head, t, by, now).await?;
        w.flush(tx).await?;
        let detail = serde_json::json!({
            "action_id": a.id, "from": stored.case.state.as_str(), "to": to,
            "summary": summary, "note": note, "version": version,
            "hall_id": stored.hall_id, "evaluation_id": stored.evaluation_id,
        })
        .to_string();
        append(
            tx,
            &Entry {
                actor: &who.name,
                role: who.role,
                subject: &format!("case:{}", stored.case_id),
                action: event,
                detail: &detail,
            },
        )
        .await?;
        Ok(ActionResult {
            id: a.id.clone(),
            status: "accepted".into(),
            reason: None,
            message: None,
            version: Some(version),
            state: Some(to.to_owned()),
        })
    }
}

const CASE_COLUMNS: &str = "case_id, hall_id, evaluation_id, kind, state, version, due_at, \
     warn_at, flagged_malicious, body, change_seq, EXISTS (SELECT 1 FROM hub_records r \
     WHERE r.hall_id = hub_cases.hall_id AND r.kind = 'evaluation' \
     AND r.id = hub_cases.evaluation_id AND r.excluded)";

impl Hub {
    /// Cases with their timelines, from rows selected with [`CASE_COLUMNS`].
    async fn case_views(
        c: &tokio_postgres::Client,
        rows: &[tokio_postgres::Row],
    ) -> Result<Vec<(i64, CaseView)>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let events = c
            .query(
                "SELECT case_id, version, at, actor, role, event, from_state, to_state, summary,
                        note, signed_sha256
                 FROM hub_case_events WHERE case_id = ANY($1) ORDER BY case_id, version",
                &[&ids],
            )
            .await?;
        let mut timelines: std::collections::HashMap<i64, Vec<TimelineEntry>> =
            std::collections::HashMap::new();
        for e in events {
            timelines.entry(e.get(0)).or_default().push(TimelineEntry {
                version: e.get(1),
                at: e.get(2),
                actor: e.get(3),
                role: e.get(4),
                event: e.get(5),
                from_state: e.get(6),
                to_state: e.get(7),
                summary: e.get(8),
                note: e.get(9),
                signed_sha256: e.get(10),
            });
        }
        rows.iter()
            .map(|r| {
                let case_id: i64 = r.get(0);
                let body: String = r.get(9);
                let case = serde_json::from_str(&body)
                    .map_err(|e| HubError::Invalid(format!("工单 {case_id} 的数据已损坏：{e}")))?;
                Ok((
                    r.get(10),
                    CaseView {
                        case_id,
                        hall_id: r.get(1),
                        evaluation_id: r.get(2),
                        kind: r.get(3),
                        state: r.get(4),
                        version: r.get(5),
                        due_at: r.get(6),
                        warn_at: r.get(7),
                        flagged_malicious: r.get(8),
                        excluded: r.get(11),
                        case,
                        timeline: timelines.remove(&case_id).unwrap_or_default(),
                    },
                ))
            })
            .collect()
    }

    fn check_case_reader(who: &Account, hall_id: Option<&str>) -> Result<()> {
        let ok = who.may(Capability::ViewCases) && hall_id.is_none_or(|h| who.may_read_hall(h));
        if ok {
            Ok(())
        } else {
            Err(HubError::Forbidden(format!(
                "账号 {} 无权查看工单",
                who.name
            )))
        }
    }

    /// One case (officers: any; a director: his hall's).
    pub async fn case(&self, who: &Account, case_id: i64) -> Result<CaseView> {
        Self::check_case_reader(who, None)?;
        let c = self.conn().await?;
        let rows = c
            .query(
                &format!("SELECT {CASE_COLUMNS} FROM hub_cases WHERE case_id = $1"),
                &[&case_id],
            )
            .await?;
        let not_found = || HubError::NotFound(format!("没有编号为 {case_id} 的工单"));
        let (_, view) = Self::case_views(&c, &rows)
            .await?
            .pop()
            .ok_or_else(not_found)?;
        // Another hall's case does not exist for a director.
        Self::check_case_reader(who, Some(&view.hall_id)).map_err(|_| not_found())?;
        Ok(view)
    }

    /// One page of the office's case feed, scoped to the account: an officer
    /// every case, a director his hall's, anyone else nothing.
    pub async fn case_changes(
        &self,
        who: &Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<CasePage> {
        Self::check_case_reader(who, None)?;
        let after = crate::feed::parse_cursor('c', after)?;
        let limit = limit
            .unwrap_or(crate::DEFAULT_PAGE_LIMIT)
            .clamp(1, hcp_core::wire::MAX_PAGE_LIMIT);
        let c = self.conn().await?;
        let hall = who.hall_scope(None)?;
        let rows = c
            .query(
                &format!(
                    "SELECT {CASE_COLUMNS} FROM hub_cases
                     WHERE change_seq > $1 AND ($2::text IS NULL OR hall_id = $2)
                     ORDER BY change_seq LIMIT $3"
                ),
                &[&after, &hall, &i64::from(limit)],
            )
            .await?;
        let more = rows.len() as u32 == limit;
        let changes: Vec<CaseChange> = Self::case_views(&c, &rows)
            .await?
            .into_iter()
            .map(|(seq, case)| CaseChange { seq, case })
            .collect();
        let next = changes.last().map_or(after, |c| c.seq);
        Ok(CasePage {
            changes,
            next: format!("c{next}"),
            more,
        })
    }
}

/// Recomputes the deadline columns of every open case whose deadline moved; they
/// take new feed numbers so desks receive the new deadlines. Returns how many.
pub(crate) async fn recompute_deadlines(tx: &tokio_postgres::Transaction<'_>) -> Result<u64> {
    let rules = Rules::load(tx).await?;
    let rows = tx
        .query(
            "SELECT case_id, hall_id, body, due_at, warn_at FROM hub_cases
             WHERE NOT (state = ANY($1))
             FOR UPDATE",
            &[&closed_states()],
        )
        .await?;
    let (mut ids, mut dues, mut warns) = (vec![], vec![], vec![]);
    for r in rows {
        let case_id: i64 = r.get(0);
        let hall: String = r.get(1);
        let body: String = r.get(2);
        let case: Case = serde_json::from_str(&body)
            .map_err(|e| HubError::Invalid(format!("工单 {case_id} 的数据已损坏：{e}")))?;
        let (due, warn) = rules.due(&hall, &case);
        let before: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (r.get(3), r.get(4));
        if (due, warn) != before {
            ids.push(case_id);
            dues.push(due);
            warns.push(warn);
        }
    }
    if ids.is_empty() {
        return Ok(0);
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CASE_FEED_LOCK])
        .await?;
    tx.execute(
        "UPDATE hub_cases c SET due_at = u.due, warn_at = u.warn, updated_at = now(),
            change_seq = nextval('hub_case_change_seq')
         FROM unnest($1::int8[], $2::timestamptz[], $3::timestamptz[]) AS u (id, due, warn)
         WHERE c.case_id = u.id",
        &[&ids, &dues, &warns],
    )
    .await?;
    Ok(ids.len() as u64)
}

/// The states in which a case is closed (its deadline no longer runs).
fn closed_states() -> Vec<&'static str> {
    hcp_core::case::CaseState::ALL
        .iter()
        .filter(|s| s.is_closed())
        .map(|s| s.as_str())
        .collect()
}
