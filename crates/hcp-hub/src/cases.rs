//! The case engine on the hub: hcp-core's `Case::apply` decides, this module
//! persists the `Transition` in PostgreSQL — the case with its new version, a
//! timeline row, the decisions for the hall in the outbox, the side effects — in
//! the caller's transaction. Cases open from the ratings the hub syncs; officers'
//! actions arrive in batches from desktops, each with a UUID (a repeat changes
//! nothing) and the case version the officer saw (a stale one is a conflict).

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{
    Action, Actor, Case, DeadlinePolicy, DecisionOut, RefersTo, Signs, Transition,
};
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

/// The calendar and deadline policy of cases on the hub (the built-in working
/// calendar and the default policy; per-hall policies are a follow-up).
pub(crate) struct Rules {
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
}

impl Rules {
    pub(crate) fn load() -> Rules {
        Rules {
            calendar: WorkingCalendar::builtin(),
            policy: DeadlinePolicy::default(),
        }
    }

    fn due(&self, case: &Case) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match case.current_deadline(&self.calendar, &self.policy) {
            Some(d) => (
                Some(d.due_at.with_timezone(&Utc)),
                Some(
                    hcp_core::case::warning_from(&d, &self.calendar, self.policy.warn_before)
                        .with_timezone(&Utc),
                ),
            ),
            None => (None, None),
        }
    }
}

fn beijing_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// A case as stored.
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

async fn case_of_evaluation(
    tx: &Transaction<'_>,
    hall_id: &str,
    evaluation_id: &str,
) -> Result<Option<StoredCase>> {
    let id = tx
        .query_opt(
            "SELECT case_id FROM hub_cases
             WHERE hall_id = $1 AND evaluation_id = $2 AND kind = 'bad_rating'",
            &[&hall_id, &evaluation_id],
        )
        .await?;
    match id {
        Some(r) => load_case(tx, r.get(0)).await,
        None => Ok(None),
    }
}

/// The transaction lock under which case writes take their feed numbers (held
/// to commit, so a reader never sees number N+1 before N).
const CASE_FEED_LOCK: i64 = 0x4843_5043; // "HCPC"

/// Takes the case feed's lock (again is harmless) and the next feed number.
async fn next_change_seq(tx: &Transaction<'_>) -> Result<i64> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CASE_FEED_LOCK])
        .await?;
    Ok(tx
        .query_one("SELECT nextval('hub_case_change_seq')", &[])
        .await?
        .get(0))
}

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
            "SELECT id, raw FROM hub_records WHERE hall_id = $1 AND kind = $2 AND evaluation_id = $3
             ORDER BY hall_seq DESC LIMIT 1",
            &[&hall_id, &kind, &evaluation_id],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

/// Persists `t` on `stored` (whose row the caller locked): the case and its
/// version, the timeline row, the decisions for the hall, the side effects.
/// Returns the new version.
pub(crate) async fn write_transition(
    tx: &Transaction<'_>,
    rules: &Rules,
    stored: &StoredCase,
    t: &Transition,
    by: By<'_>,
    hall_record_raw: Option<&str>,
    at: DateTime<FixedOffset>,
) -> Result<i64> {
    let version = stored.version + 1;
    let (due, warn) = rules.due(&t.case);
    let seq = next_change_seq(tx).await?;
    tx.execute(
        "UPDATE hub_cases SET state = $2, body = $3, version = $4, due_at = $5, warn_at = $6,
            updated_at = now(), change_seq = $7
         WHERE case_id = $1",
        &[
            &stored.case_id,
            &t.case.state.as_str(),
            &to_json(&t.case),
            &version,
            &due,
            &warn,
            &seq,
        ],
    )
    .await?;
    let wants = |kind: RefersTo, signs: Signs| {
        t.signs == signs || t.decisions.iter().any(|d| d.refers_to == kind)
    };
    let (hall, eval) = (&stored.hall_id, &stored.evaluation_id);
    let rectification = if wants(RefersTo::LatestRectification, Signs::LatestRectification) {
        latest_follow_up(tx, "rectification", hall, eval).await?
    } else {
        None
    };
    let appeal = if wants(RefersTo::LatestAppeal, Signs::LatestAppeal) {
        latest_follow_up(tx, "appeal", hall, eval).await?
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
                &[hall, eval],
            )
            .await?
            .map(|r| sha256_hex(&r.get::<_, String>(0))),
        Signs::LatestRectification => record(RefersTo::LatestRectification).map(|r| sha256_hex(&r.1)),
        Signs::LatestAppeal => record(RefersTo::LatestAppeal).map(|r| sha256_hex(&r.1)),
    };
    tx.execute(
        "INSERT INTO hub_case_events (case_id, version, actor, role, event, from_state, to_state,
            summary, note, signed_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &stored.case_id,
            &version,
            &by.name,
            &by.role,
            &t.event,
            &stored.case.state.as_str(),
            &t.case.state.as_str(),
            &t.summary,
            &t.note,
            &signed,
        ],
    )
    .await?;
    for d in &t.decisions {
        let ref_id = record(d.refers_to).map(|r| r.0.clone());
        queue_decision(tx, stored, d, ref_id, by, at).await?;
    }
    for effect in &t.effects {
        match effect {
            hcp_core::case::Effect::ExcludeEvaluation => {
                // The case's state (申诉成立) is what excludes it from the figures.
            }
            hcp_core::case::Effect::MarkEvaluatorMalicious => {
                tx.execute(
                    "INSERT INTO hub_malicious_marks (id_hash, case_id)
                     SELECT id_hash, $3 FROM hub_records
                     WHERE hall_id = $1 AND kind = 'evaluation' AND id = $2 AND id_hash IS NOT NULL
                     ON CONFLICT (id_hash) DO NOTHING",
                    &[hall, eval, &stored.case_id],
                )
                .await?;
            }
        }
    }
    Ok(version)
}

async fn queue_decision(
    tx: &Transaction<'_>,
    stored: &StoredCase,
    d: &DecisionOut,
    ref_id: Option<String>,
    by: By<'_>,
    at: DateTime<FixedOffset>,
) -> Result<()> {
    let decision = Decision {
        id: uuid::Uuid::new_v4().to_string(),
        kind: d.kind.to_owned(),
        evaluation_id: stored.evaluation_id.clone(),
        ref_id,
        outcome: d.outcome.map(str::to_owned),
        note: d.note.clone(),
        decided_at: at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8")),
        officer: by.name.to_owned(),
    };
    tx.execute(
        "INSERT INTO hub_outbox (id, hall_id, case_id, kind, body) VALUES ($1, $2, $3, $4, $5)",
        &[
            &decision.id,
            &stored.hall_id,
            &stored.case_id,
            &decision.kind,
            &to_json(&decision),
        ],
    )
    .await?;
    Ok(())
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
    let (due, warn): (Vec<_>, Vec<_>) = cases.iter().map(|c| rules.due(c)).unzip();
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
    let decisions: Vec<Decision> = evals
        .iter()
        .map(|e| Decision {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "case_opened".into(),
            evaluation_id: e.clone(),
            ref_id: None,
            outcome: None,
            note: "已生成差评工单".into(),
            decided_at: now,
            officer: SYSTEM_NAME.into(),
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
    for r in early {
        let (kind, raw): (String, String) = (r.get(0), r.get(1));
        if let Some(f) = FollowUp::parse(&kind, &raw) {
            on_follow_up(tx, rules, hall_id, &f, &raw).await?;
        }
    }
    Ok(evals)
}

/// An appeal or rectification as the case engine sees it.
pub(crate) struct FollowUp {
    pub evaluation_id: String,
    pub at: DateTime<FixedOffset>,
    pub action: Action,
}

impl FollowUp {
    pub(crate) fn parse(kind: &str, raw: &str) -> Option<FollowUp> {
        match kind {
            "appeal" => {
                let a: hcp_core::wire::Appeal = serde_json::from_str(raw).ok()?;
                Some(FollowUp {
                    evaluation_id: a.evaluation_id,
                    at: a.filed_at,
                    action: Action::AppealFiled {
                        id: a.id,
                        ground: a.ground,
                        by: a.filed_by,
                    },
                })
            }
            "rectification" => {
                let r: hcp_core::wire::Rectification = serde_json::from_str(raw).ok()?;
                Some(FollowUp {
                    evaluation_id: r.evaluation_id,
                    at: r.submitted_at,
                    action: Action::RectificationSubmitted {
                        id: r.id,
                        rev: r.rev,
                        by: r.responsible,
                    },
                })
            }
            _ => None,
        }
    }
}

/// Applies a hall's appeal or rectification to its case (if it has one yet).
pub(crate) async fn on_follow_up(
    tx: &Transaction<'_>,
    rules: &Rules,
    hall_id: &str,
    f: &FollowUp,
    raw: &str,
) -> Result<()> {
    let Some(stored) = case_of_evaluation(tx, hall_id, &f.evaluation_id).await? else {
        return Ok(()); // no case (yet): opening one later picks the record up
    };
    let by = By {
        name: hall_id,
        role: "hall",
    };
    match stored
        .case
        .apply(&f.action, Actor::Hall, f.at, &rules.calendar, &rules.policy)
    {
        Ok(t) if t.case == stored.case => {}
        Ok(t) => {
            write_transition(tx, rules, &stored, &t, by, Some(raw), f.at).await?;
        }
        Err(refused) => {
            // Kept on the timeline so the officer sees what the hall tried: a
            // timeline row is a version, the state stays as it was.
            let summary = hcp_core::case::hall_record_summary(&f.action).unwrap_or_default();
            let version = stored.version + 1;
            let seq = next_change_seq(tx).await?;
            tx.execute(
                "UPDATE hub_cases SET version = $2, updated_at = now(), change_seq = $3
                 WHERE case_id = $1",
                &[&stored.case_id, &version, &seq],
            )
            .await?;
            tx.execute(
                "INSERT INTO hub_case_events (case_id, version, actor, role, event, from_state,
                    to_state, summary, signed_sha256)
                 VALUES ($1, $2, $3, 'hall', 'hall_record_refused', $4, $4, $5, $6)",
                &[
                    &stored.case_id,
                    &version,
                    &hall_id,
                    &stored.case.state.as_str(),
                    &format!("{summary}；未受理：{refused}"),
                    &sha256_hex(raw),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// A rating that stopped being bad (revised up or withdrawn): its case closes.
pub(crate) async fn on_no_longer_bad(
    tx: &Transaction<'_>,
    rules: &Rules,
    hall_id: &str,
    evaluation_id: &str,
    withdrawn: bool,
    level: u8,
) -> Result<()> {
    let Some(stored) = case_of_evaluation(tx, hall_id, evaluation_id).await? else {
        return Ok(());
    };
    let action = Action::EvaluationNoLongerBad {
        how: if withdrawn { "withdrawn" } else { "revised" }.into(),
        level,
    };
    let now = beijing_now();
    if let Ok(t) = stored
        .case
        .apply(&action, Actor::Hall, now, &rules.calendar, &rules.policy)
        && t.case != stored.case
    {
        write_transition(tx, rules, &stored, &t, SYSTEM, None, now).await?;
    }
    Ok(())
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
        if batch.len() > MAX_ACTIONS_PER_REQUEST {
            return Err(HubError::Invalid(format!(
                "一次最多提交 {MAX_ACTIONS_PER_REQUEST} 个操作"
            )));
        }
        let rules = Rules::load();
        let mut out = Vec::with_capacity(batch.len());
        for a in batch {
            out.push(self.act_one(who, &rules, a).await?);
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
        if who.role != "officer" {
            let message = if who.role == "director" {
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
            &rules.policy,
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

fn parse_case_cursor(after: Option<&str>) -> Result<i64> {
    match after {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix('c')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| HubError::Invalid("游标无效：请不带 after 参数从头读取".into())),
    }
}

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
        let ok = match who.role {
            "officer" => true,
            "director" => hall_id.is_none() || who.hall_id.as_deref() == hall_id,
            _ => false,
        };
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
        let after = parse_case_cursor(after)?;
        let limit = limit
            .unwrap_or(crate::DEFAULT_PAGE_LIMIT)
            .clamp(1, hcp_core::wire::MAX_PAGE_LIMIT);
        let c = self.conn().await?;
        let hall = if who.role == "director" {
            who.hall_id.clone()
        } else {
            None
        };
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
