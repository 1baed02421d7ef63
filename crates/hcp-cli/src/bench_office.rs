//! The benchmark's simulated office: officers who work every bad-rating case of the
//! year through the case engine up to the bench's "today" — verify the next working
//! day, sign off what the hall rectified, decide appeals, call the citizen back —
//! with a few cases left lying. What a real province's cache looks like after a
//! year (most cases closed), as opposed to the worst case where nobody acts and
//! 83 % of the cases stay open.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use hcp_core::case::{Action, Actor, CallbackResult, CaseState as S, VerifyOutcome};
use hcp_store::{BulkActs, PendingCase, Store, Who};

use crate::CliError;

/// The name the simulated office signs with.
pub(crate) const OFFICER: &str = "模拟督查员";

/// A roll in [0, 1) fixed by the case and what is decided (SplitMix64).
fn roll(case_id: i64, what: u64) -> f64 {
    let mut z = (case_id as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(what.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// What the office did, and how long it took.
pub(crate) struct OfficeYear {
    pub acts: BulkActs,
    pub took: Duration,
}

/// Works every case up to `until` (Beijing time).
pub(crate) fn work_the_year(
    store: &mut Store,
    until: DateTime<FixedOffset>,
) -> Result<OfficeYear, CliError> {
    let calendar = store.case_rules()?.calendar;
    let tz = hcp_core::metrics::beijing();
    // An office-hours instant `n` working days after `base`, never before it, and
    // nothing after the cut-off.
    let after = |base: DateTime<FixedOffset>, n: u32, r: f64| -> Option<DateTime<FixedOffset>> {
        let base = base.with_timezone(&tz);
        let day: NaiveDate = calendar.add_working_days(base.date_naive(), n).value;
        let secs = 9 * 3600 + (r * 8.0 * 3600.0) as u32;
        let mut t = tz
            .from_local_datetime(&day.and_hms_opt(secs / 3600, (secs / 60) % 60, 0)?)
            .single()?;
        if t <= base {
            t = base + chrono::Duration::minutes(20 + (r * 90.0) as i64);
        }
        (t <= until).then_some(t)
    };
    // When each case last moved by this office's hand (the engine keeps the
    // verification and the appeal's filing; acceptance and callbacks not).
    let mut last: HashMap<i64, DateTime<FixedOffset>> = HashMap::new();
    let who = Who {
        name: OFFICER,
        actor: Actor::Officer,
    };
    let started = Instant::now();
    let acts = store.act_in_bulk(
        who,
        12,
        |p: &PendingCase<'_>| {
            let id = p.case_id;
            let c = p.case;
            let mut base = c.evaluated_at;
            for t in [
                c.verified_at,
                c.appeal_filed_at,
                p.rectified_at,
                last.get(&id).copied(),
            ]
            .into_iter()
            .flatten()
            {
                base = base.max(t);
            }
            let (action, n): (Action, u32) = match c.state {
                S::Open => {
                    if roll(id, 1) < 0.01 {
                        return None; // left lying: 超期 待核实
                    }
                    let r = roll(id, 2);
                    let (outcome, note) = if r < 0.80 {
                        (
                            VerifyOutcome::True,
                            "经调取窗口录像并核实，评价反映情况属实。",
                        )
                    } else if r < 0.88 {
                        (VerifyOutcome::PartlyTrue, "经核实，评价反映情况部分属实。")
                    } else if r < 0.93 {
                        (
                            VerifyOutcome::NotTrue,
                            "经核查办件记录，评价内容与事实不符。",
                        )
                    } else if r < 0.96 {
                        (VerifyOutcome::Misrated, "该事项不属本窗口职责，属误评。")
                    } else {
                        (
                            VerifyOutcome::NoLegalBasis,
                            "评价人诉求缺乏政策依据，已解释说明。",
                        )
                    };
                    let action = Action::Verify {
                        outcome,
                        note: note.into(),
                    };
                    (action, u32::from(roll(id, 3) < 0.7))
                }
                S::AwaitingSignoff => {
                    let action =
                        if c.returns == 0 && c.rectification_rev == Some(1) && roll(id, 4) < 0.05 {
                            Action::ReturnRectification {
                                opinion: "整改报告未写明具体措施，请补充后重新提交。".into(),
                            }
                        } else {
                            Action::AcceptRectification
                        };
                    (action, 1 + u32::from(roll(id, 5) < 0.4))
                }
                S::AwaitingCallback | S::Explained => {
                    let r = roll(id, 10 + u64::from(c.unreachable_attempts));
                    let result = if c.reopened || r < 0.78 {
                        CallbackResult::Satisfied
                    } else if r < 0.90 {
                        CallbackResult::BasicallySatisfied
                    } else if r < 0.97 || c.state == S::Explained {
                        CallbackResult::Unreachable
                    } else {
                        CallbackResult::Dissatisfied
                    };
                    let note = match result {
                        CallbackResult::Unreachable => "电话回访未接通。",
                        CallbackResult::Dissatisfied => "评价人认为问题仍未解决。",
                        _ => "电话回访评价人，对处理结果表示满意。",
                    };
                    let action = Action::Callback {
                        result,
                        note: note.into(),
                    };
                    (action, if c.state == S::Explained { 3 } else { 1 })
                }
                S::AppealWindow => {
                    let action = Action::Close {
                        note: "申诉期满，大厅未提出申诉，予以办结。".into(),
                    };
                    (action, 4)
                }
                S::UnderAppeal => {
                    let malicious = p.appeal_ground.as_deref() == Some("malicious");
                    let upheld = roll(id, 20) < if malicious { 0.7 } else { 0.45 };
                    let note = if upheld {
                        "经复核，申诉成立，该差评不计入考核。"
                    } else {
                        "经复核，申诉理由不充分，维持差评。"
                    };
                    let action = Action::DecideAppeal {
                        upheld,
                        note: note.into(),
                    };
                    (action, 1 + (roll(id, 21) * 3.0) as u32)
                }
                _ => return None, // the hall's move
            };
            let at = after(base, n, roll(id, 30 + u64::from(c.unreachable_attempts)))?;
            last.insert(id, at);
            Some((action, at))
        },
        |round, seen, of| {
            if seen == of || seen % 100_000 < 4_000 {
                eprintln!("  模拟督查室第 {round} 轮：{seen}/{of} 件");
            }
        },
    )?;
    Ok(OfficeYear {
        acts,
        took: started.elapsed(),
    })
}
