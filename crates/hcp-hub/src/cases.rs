//! The case engine on the hub: hcp-core's `Case::apply` decides, this module
//! persists the `Transition` in PostgreSQL — the case with its new version, a
//! timeline row, the decisions for the hall in the outbox, the side effects — in
//! the caller's transaction. Cases open from the ratings the hub syncs; officers'
//! actions arrive in batches from desktops, each with a UUID (a repeat changes
//! nothing) and the case version the officer saw (a stale one is a conflict).

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::Capability;
use hcp_core::case::{Action, Actor, Case, DecisionOut, RefersTo, Signs, Transition};
use hcp_core::wire::Decision;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;

use hcp_core::hub::{
    ActionRequest, ActionResult, CaseChange, CasePage, CaseView, MAX_ACTIONS_PER_REQUEST,
    TimelineEntry,
};

use crate::audit::{Entry, append};
use crate::{Account, Hub, HubError, Result};

/// The name the hub's own transitions are made under.
pub const SYSTEM_NAME: &str = "系统";

pub(crate) use crate::rules::Rules;

fn beijing_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&hcp_core::metrics::beijing())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// A case as stored.
#[derive(Clone)]
pub(crate) struct StoredCase {
    case_id: i64,
    hall_id: String,
    evaluation_id: String,
    version: i64,
    case: Case,
}

async fn load_case(tx: &Transaction<'_>, case_id: i64) -> Result<Option<StoredCase>> {
    let Some(r) = tx
        .query_opt(
            "SELECT case_id, hall_id, evaluation_id, version, body FROM hub_cases
             WHERE case_id = $1 FOR UPDATE",
            &[&case_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let body: String = r.get(4);
    let case = serde_json::from_str(&body)
        .map_err(|e| HubError::Invalid(format!("工单 {case_id} 的数据已损坏：{e}")))?;
    Ok(Some(StoredCase {
        case_id: r.get(0),
        hall_id: r.get(1),
        evaluation_id: r.get(2),
        version: r.get(3),
        case,
    }))
}

/// The transaction lock under which case writes take their feed numbers (held
/// to commit, so a reader never sees number N+1 before N).
pub(crate) const CASE_FEED_LOCK: i64 = 0x4843_5043; // "HCPC"

/// Who made a transition.
#[derive(Clone, Copy)]
pub(crate) struct By<'a> {
    pub name: &'a str,
    pub role: &'a str,
}

const SYSTEM: By<'static> = By {
    name: SYSTEM_NAME,
    role: "system",
};

/// The latest appeal or rectification of an evaluation: (id, raw).
async fn latest_follow_up(
    tx: &Transaction<'_>,
    kind: &str,
    hall_id: &str,
    evaluation_id: &str,
) -> Result<Option<(String, String)>> {
    Ok(tx
        .query_opt(
            "SELECT id, raw FROM hub_records
             WHERE hall_id = $1 AND kind <> 'evaluation' AND kind = $2 AND evaluation_id = $3
             ORDER BY hall_seq DESC LIMIT 1",
            &[&hall_id, &kind, &evaluation_id],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

/// Who made a transition, from which hall record (signed on the timeline), when.
#[derive(Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub by: By<'a>,
    pub raw: Option<&'a str>,
    pub at: DateTime<FixedOffset>,
}

/// Transitions persisted together: each kind of row is written with one
/// statement, so a sync that moves thousands of cases costs a handful of round
/// trips, and an officer's single action goes the same way.
#[derive(Default)]
pub(crate) struct Writes {
    /// The cases' new rows, one per case (a case moved twice keeps its last).
    cases: Vec<CaseRow>,
    index: std::collections::HashMap<i64, usize>,
    events: Vec<EventRow>,
    outbox: Vec<OutboxRow>,
    /// Evaluators to mark malicious: (hall, evaluation, case).
    marks: Vec<(String, String, i64)>,
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

impl Writes {
    fn set_case(&mut self, rules: &Rules, stored: &StoredCase) {
        let (due, warn) = rules.due(&stored.hall_id, &stored.case);
        let row = CaseRow {
            case_id: stored.case_id,
            state: stored.case.state.as_str(),
            body: to_json(&stored.case),
            version: stored.version,
            due,
            warn,
        };
        match self.index.get(&stored.case_id) {
            Some(&i) => self.cases[i] = row,
            None => {
                self.index.insert(stored.case_id, self.cases.len());
                self.cases.push(row);
            }
        }
    }

    /// Adds `t` on `stored` (whose row the caller locked): the case with its next
    /// version, the timeline row, the decisions for the hall, the side effects.
    /// `stored` becomes the case after it. Returns the new version.
    pub(crate) async fn add(
        &mut self,
        tx: &Transaction<'_>,
        rules: &Rules,
        stored: &mut StoredCase,
        t: Transition,
        from: Origin<'_>,
    ) -> Result<i64> {
        let Origin {
            by,
            raw: hall_record_raw,
            at,
        } = from;
        let (hall, eval) = (stored.hall_id.clone(), stored.evaluation_id.clone());
        let rectification = if t.needs(RefersTo::LatestRectification) {
            latest_follow_up(tx, "rectification", &hall, &eval).await?
        } else {
            None
        };
        let appeal = if t.needs(RefersTo::LatestAppeal) {
            latest_follow_up(tx, "appeal", &hall, &eval).await?
        } else {
            None
        };
        let record = |kind: RefersTo| match kind {
            RefersTo::LatestRectification => rectification.as_ref(),
            RefersTo::LatestAppeal => appeal.as_ref(),
            RefersTo::Evaluation => None,
        };
        let signed = match t.signs {
            Signs::Nothing => None,
            Signs::HallRecord => hall_record_raw.map(sha256_hex),
            Signs::Evaluation => tx
                .query_opt(
                    "SELECT raw FROM hub_records WHERE hall_id = $1 AND kind = 'evaluation' AND id = $2",
                    &[&hall, &eval],
                )
                .await?
                .map(|r| sha256_hex(&r.get::<_, String>(0))),
            Signs::LatestRectification => {
                record(RefersTo::LatestRectification).map(|r| sha256_hex(&r.1))
            }
            Signs::LatestAppeal => record(RefersTo::LatestAppeal).map(|r| sha256_hex(&r.1)),
        };
        let version = stored.version + 1;
        self.events.push(EventRow {
            case_id: stored.case_id,
            version,
            actor: by.name.to_owned(),
            role: by.role.to_owned(),
            event: t.event.to_owned(),
            from: Some(stored.case.state.as_str().to_owned()),
            to: t.case.state.as_str().to_owned(),
            summary: t.summary.clone(),
            note: t.note.clone(),
            signed,
        });
        for d in &t.decisions {
            let ref_id = record(d.refers_to).map(|r| r.0.clone());
            let decision = d.to_wire(uuid::Uuid::new_v4().to_string(), &eval, ref_id, at, by.name);
            self.outbox.push(OutboxRow {
                id: decision.id.clone(),
                hall_id: hall.clone(),
                case_id: stored.case_id,
                kind: decision.kind.clone(),
                body: to_json(&decision),
            });
        }
        for effect in &t.effects {
            match effect {
                hcp_core::case::Effect::ExcludeEvaluation => {
                    // The case's state (申诉成立) is what excludes it from the figures.
                }
                hcp_core::case::Effect::MarkEvaluatorMalicious => {
                    self.marks
                        .push((hall.clone(), eval.clone(), stored.case_id));
                }
            }
        }
        stored.case = t.case;
        stored.version = version;
        self.set_case(rules, stored);
        Ok(version)
    }

    /// A hall record the case refused, kept on the timeline so the officer sees
    /// what the hall tried: a timeline row is a version, the state stays.
    fn add_refusal(&mut self, rules: &Rules, stored: &mut StoredCase, summary: String, raw: &str) {
        stored.version += 1;
        let state = stored.case.state.as_str().to_owned();
        self.events.push(EventRow {
            case_id: stored.case_id,
            version: stored.version,
            actor: stored.hall_id.clone(),
            role: "hall".into(),
            event: "hall_record_refused".into(),
            from: Some(state.clone()),
            to: state,
            summary,
            note: None,
            signed: Some(sha256_hex(raw)),
        });
        self.set_case(rules, stored);
    }

    /// Writes everything added, under the case feed's lock.
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
        let e = &self.events;
        let col = |f: fn(&EventRow) -> &str| e.iter().map(f).collect::<Vec<&str>>();
        let ocol =
            |f: fn(&EventRow) -> Option<&str>| e.iter().map(f).collect::<Vec<Option<&str>>>();
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
        if !self.outbox.is_empty() {
            let o = &self.outbox;
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
        }
        for (hall, eval, case_id) in &self.marks {
            tx.execute(
                "INSERT INTO hub_malicious_marks (id_hash, case_id)
                 SELECT id_hash, $3 FROM hub_records
                 WHERE hall_id = $1 AND kind = 'evaluation' AND id = $2 AND id_hash IS NOT NULL
                 ON CONFLICT (id_hash) DO NOTHING",
                &[hall, eval, case_id],
            )
            .await?;
        }
        Ok(())
    }
}

/// Persists one transition (an officer's action). Returns the new version.
pub(crate) async fn write_transition(
    tx: &Transaction<'_>,
    rules: &Rules,
    stored: &StoredCase,
    t: &Transition,
    by: By<'_>,
    hall_record_raw: Option<&str>,
    at: DateTime<FixedOffset>,
) -> Result<i64> {
    let mut w = Writes::default();
    let mut s = stored.clone();
    let version = w
        .add(
            tx,
            rules,
            &mut s,
            t.clone(),
            Origin {
                by,
                raw: hall_record_raw,
                at,
            },
        )
        .await?;
    w.flush(tx).await?;
    Ok(version)
}

/// What the hall's feed does to a case: an appeal or rectification, or the
/// rating no longer being bad.
pub(crate) struct HallStep {
    pub evaluation_id: String,
    pub action: Action,
    pub at: DateTime<FixedOffset>,
    /// The record's raw JSON (signed on the timeline); `None` for a revision.
    pub raw: Option<String>,
}

impl HallStep {
    /// A step for a revised or withdrawn rating.
    pub(crate) fn no_longer_bad(evaluation_id: &str, withdrawn: bool, level: u8) -> HallStep {
        HallStep {
            evaluation_id: evaluation_id.to_owned(),
            action: Action::EvaluationNoLongerBad {
                how: if withdrawn { "withdrawn" } else { "revised" }.into(),
                level,
            },
            at: beijing_now(),
            raw: None,
        }
    }
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
            "SELECT case_id, hall_id, evaluation_id, version, body FROM hub_cases
             WHERE hall_id = $1 AND kind = 'bad_rating' AND evaluation_id = ANY($2)
             ORDER BY case_id FOR UPDATE",
            &[&hall_id, &evals],
        )
        .await?;
    let mut cases = std::collections::HashMap::new();
    for r in rows {
        let case_id: i64 = r.get(0);
        let body: String = r.get(4);
        let case = serde_json::from_str(&body)
            .map_err(|e| HubError::Invalid(format!("工单 {case_id} 的数据已损坏：{e}")))?;
        let evaluation_id: String = r.get(2);
        cases.insert(
            evaluation_id.clone(),
            StoredCase {
                case_id,
                hall_id: r.get(1),
                evaluation_id,
                version: r.get(3),
                case,
            },
        );
    }
    let mut w = Writes::default();
    for step in steps {
        let Some(stored) = cases.get_mut(&step.evaluation_id) else {
            continue;
        };
        let by = match step.raw {
            Some(_) => By {
                name: hall_id,
                role: "hall",
            },
            None => SYSTEM,
        };
        match stored.case.apply(
            &step.action,
            Actor::Hall,
            step.at,
            &rules.calendar,
            &rules.policy(hall_id),
        ) {
            Ok(t) if t.case == stored.case => {}
            Ok(t) => {
                let from = Origin {
                    by,
                    raw: step.raw.as_deref(),
                    at: step.at,
                };
                w.add(tx, rules, stored, t, from).await?;
            }
            Err(refused) => {
                // Only a hall's own record is shown refused; a revision that no
                // longer applies (the case closed meanwhile) changes nothing.
                if let Some(raw) = &step.raw {
                    let summary =
                        hcp_core::case::hall_record_summary(&step.action).unwrap_or_default();
                    w.add_refusal(rules, stored, format!("{summary}；未受理：{refused}"), raw);
                }
            }
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
/// case gets its timeline row and a `case_opened` decision for the hall. Then
/// appeals and rectifications that came before their case apply. Returns the
/// evaluations whose cases were opened now.
pub(crate) async fn open_cases(
    tx: &Transaction<'_>,
    rules: &Rules,
    hall_id: &str,
    openings: &[Opening],
) -> Result<Vec<String>> {
    if openings.is_empty() {
        return Ok(vec![]);
    }
    let cases: Vec<Case> = openings
        .iter()
        .map(|o| Case::open(o.evaluated_at))
        .collect();
    let ids: Vec<&str> = openings.iter().map(|o| o.evaluation_id.as_str()).collect();
    let bodies: Vec<String> = cases.iter().map(to_json).collect();
    let states: Vec<&str> = cases.iter().map(|c| c.state.as_str()).collect();
    let at: Vec<DateTime<Utc>> = openings
        .iter()
        .map(|o| o.evaluated_at.with_timezone(&Utc))
        .collect();
    let (due, warn): (Vec<_>, Vec<_>) = cases.iter().map(|c| rules.due(hall_id, c)).unzip();
    let hashes: Vec<Option<&str>> = openings.iter().map(|o| o.id_hash.as_deref()).collect();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CASE_FEED_LOCK])
        .await?;
    let opened = tx
        .query(
            "INSERT INTO hub_cases (hall_id, evaluation_id, state, body, version, evaluated_at,
                due_at, warn_at, flagged_malicious, change_seq)
             SELECT $1, o.id, o.state, o.body, 1, o.at, o.due, o.warn,
                    EXISTS (SELECT 1 FROM hub_malicious_marks m WHERE m.id_hash = o.hash),
                    nextval('hub_case_change_seq')
             FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[],
                         $6::timestamptz[], $7::timestamptz[], $8::text[])
                  AS o (id, state, body, at, due, warn, hash)
             ON CONFLICT (hall_id, evaluation_id, kind) DO NOTHING
             RETURNING case_id, evaluation_id, flagged_malicious",
            &[&hall_id, &ids, &states, &bodies, &at, &due, &warn, &hashes],
        )
        .await?;
    if opened.is_empty() {
        return Ok(vec![]);
    }
    let case_ids: Vec<i64> = opened.iter().map(|r| r.get(0)).collect();
    let evals: Vec<String> = opened.iter().map(|r| r.get(1)).collect();
    let summaries: Vec<&str> = opened
        .iter()
        .map(|r| {
            if r.get::<_, bool>(2) {
                "收到差评，自动生成工单（评价人已被标记为恶意评价人员，请注意甄别）"
            } else {
                "收到差评，自动生成工单"
            }
        })
        .collect();
    tx.execute(
        "INSERT INTO hub_case_events (case_id, version, actor, role, event, to_state, summary)
         SELECT c, 1, $2, 'system', 'case_opened', 'open', s
         FROM unnest($1::int8[], $3::text[]) AS o (c, s)",
        &[&case_ids, &SYSTEM_NAME, &summaries],
    )
    .await?;
    let now = beijing_now();
    let opened_decision = DecisionOut {
        kind: "case_opened",
        refers_to: RefersTo::Evaluation,
        outcome: None,
        note: "已生成差评工单".into(),
    };
    let decisions: Vec<Decision> = evals
        .iter()
        .map(|e| {
            opened_decision.to_wire(uuid::Uuid::new_v4().to_string(), e, None, now, SYSTEM_NAME)
        })
        .collect();
    let dids: Vec<&str> = decisions.iter().map(|d| d.id.as_str()).collect();
    let dbodies: Vec<String> = decisions.iter().map(to_json).collect();
    tx.execute(
        "INSERT INTO hub_outbox (id, hall_id, case_id, kind, body)
         SELECT d, $1, c, 'case_opened', b FROM unnest($2::text[], $3::int8[], $4::text[]) AS o (d, c, b)",
        &[&hall_id, &dids, &case_ids, &dbodies],
    )
    .await?;
    // Appeals and rectifications that arrived before their case (e.g. the rating
    // was revised down to bad later) apply now, in the hall's order.
    let early = tx
        .query(
            "SELECT kind, raw FROM hub_records
             WHERE hall_id = $1 AND kind <> 'evaluation' AND evaluation_id = ANY($2)
             ORDER BY hall_seq",
            &[&hall_id, &evals],
        )
        .await?;
    let steps: Vec<HallStep> = early
        .iter()
        .filter_map(|r| HallStep::follow_up(&r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    apply_hall_steps(tx, rules, hall_id, &steps).await?;
    Ok(evals)
}

impl HallStep {
    /// The step of an appeal or rectification as the hall sent it (`None` for
    /// another kind, or a record that no longer reads).
    pub(crate) fn follow_up(kind: &str, raw: String) -> Option<HallStep> {
        let hcp_core::follow_up::HallFollowUp {
            evaluation_id,
            at,
            action,
        } = hcp_core::follow_up::HallFollowUp::parse(kind, &raw)?;
        Some(HallStep {
            evaluation_id,
            action,
            at,
            raw: Some(raw),
        })
    }
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

/// The actions a desktop may send: the officer's own (what the hall does comes
/// from its feed).
fn officer_action(a: &Action) -> bool {
    !matches!(
        a,
        Action::RectificationSubmitted { .. }
            | Action::AppealFiled { .. }
            | Action::EvaluationNoLongerBad { .. }
    )
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
        if !officer_action(&a.action) {
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
        let by = By {
            name: &who.name,
            role: who.role,
        };
        let version = write_transition(tx, rules, &stored, &t, by, None, now).await?;
        let detail = serde_json::json!({
            "action_id": a.id, "from": stored.case.state.as_str(), "to": t.case.state.as_str(),
            "summary": t.summary, "note": t.note, "version": version,
            "hall_id": stored.hall_id, "evaluation_id": stored.evaluation_id,
        })
        .to_string();
        append(
            tx,
            &Entry {
                actor: &who.name,
                role: who.role,
                subject: &format!("case:{}", stored.case_id),
                action: t.event,
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
            state: Some(t.case.state.as_str().to_owned()),
        })
    }
}

const CASE_COLUMNS: &str = "case_id, hall_id, evaluation_id, kind, state, version, due_at, \
                            warn_at, flagged_malicious, body, change_seq";

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
