//! The demo's mystery-shopper visits: a task package, a shopper's installation, signed hand-ins and reviews.

use super::*;

// ---- visits ----

/// One demo visit: where, when, what was found, and how the office answered.
pub(crate) struct VisitPlan {
    pub(crate) hall: usize,
    pub(crate) day: NaiveDate,
    pub(crate) deductions: &'static [(&'static str, u32, &'static str)],
    pub(crate) outcome: VisitOutcome,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum VisitOutcome {
    AcceptedAndClosed,
    Accepted,
    Returned,
    /// Handed in, waiting for the officer's review.
    Waiting,
}

pub(crate) fn demo_visits(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    if !s.list_visits(None)?.is_empty() {
        return Ok(()); // done in an earlier, interrupted build
    }
    let rules = s.case_rules()?;
    let clock = Clock {
        cal: &rules.calendar,
        anchor: bj(anchor),
    };
    let today = clock.anchor.date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month = month_start
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(month_start);
    let halls: Vec<String> = s
        .halls()?
        .into_iter()
        .filter(|h| h.source == "api")
        .map(|h| h.hall_id)
        .collect();
    if halls.is_empty() {
        return Ok(());
    }
    let plans = [
        VisitPlan {
            hall: 0,
            day: clock.add(last_month, 4),
            deductions: &[
                (
                    "3.3",
                    2,
                    "询问材料时，工作人员答复“这个不归我管，自己去问”。",
                ),
                ("8.2", 1, "等候区老花镜、饮水机均未配备。"),
            ],
            outcome: VisitOutcome::AcceptedAndClosed,
        },
        VisitPlan {
            hall: 1 % halls.len(),
            day: clock.add(last_month, 8),
            deductions: &[
                ("5.1", 2, "未一次性告知所需材料，需再次提交户口本复印件。"),
                ("6.1", 1, "上午 10 点排队等候约 35 分钟。"),
            ],
            outcome: VisitOutcome::AcceptedAndClosed,
        },
        VisitPlan {
            hall: 2 % halls.len(),
            day: clock.add(today - Duration::days(12), 0),
            deductions: &[
                ("7.3", 2, "办结后工作人员示意“给个非常满意”。"),
                ("9.2", 1, "人员公示栏照片与在岗人员不符。"),
            ],
            outcome: VisitOutcome::Accepted,
        },
        VisitPlan {
            hall: 0,
            day: clock.add(today - Duration::days(6), 0),
            deductions: &[("4.2", 1, "指引去的窗口不办理该事项。")],
            outcome: VisitOutcome::Returned,
        },
        VisitPlan {
            hall: 1 % halls.len(),
            day: clock.add(today - Duration::days(3), 0),
            deductions: &[("6.4", 1, "叫号屏故障，现场无人维持秩序。")],
            outcome: VisitOutcome::Waiting,
        },
    ];
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let shopper = Who {
        name: DEMO_SHOPPER,
        actor: Actor::Shopper,
    };
    let tmp = tempfile::tempdir()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法创建临时目录：{e}")))?;
    let io = |e: std::io::Error| AppError::new(ErrorCode::Internal, e.to_string());
    // The officer's task package, and the shopper's laptop that imports it.
    let package = tmp.path().join("任务.hcpt");
    let tasks: Vec<TaskHall> = plans
        .iter()
        .map(|p| TaskHall {
            hall_id: halls[p.hall].clone(),
            planned_date: Some(p.day.to_string()),
        })
        .collect();
    s.export_task_package(
        &tasks,
        hcp_core::visit::CURRENT_TEMPLATE,
        "本期窗口服务暗访：重点看一次性告知与好差评执行",
        &package,
        officer,
    )?;
    let mut shop = Store::open(tmp.path().join("shopper").join("hcp.db"))?;
    shop.trust_key(&s.own_key()?.public_key, "效能督查室", shopper)?;
    shop.import_task_package(&std::fs::read(&package).map_err(io)?, shopper)?;
    s.trust_key(&shop.own_key()?.public_key, DEMO_SHOPPER, officer)?;
    let template = ChecklistTemplate::v1();
    for (n, p) in plans.iter().enumerate() {
        let hall = &halls[p.hall];
        let id = shop.create_visit(hall, hcp_core::visit::CURRENT_TEMPLATE, shopper)?;
        let profile = shop.hall_profile(hall)?;
        let start = office_time(p.day, 0.15 + 0.1 * n as f64);
        shop.set_visit_fields(
            &id,
            &VisitFields {
                started_at: Some(start.to_rfc3339()),
                ended_at: Some((start + Duration::minutes(55)).to_rfc3339()),
                windows: profile
                    .windows
                    .iter()
                    .take(2)
                    .map(|w| w.no.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                staff: profile
                    .staff
                    .iter()
                    .take(2)
                    .map(|w| w.no.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                queue_minutes: Some(8 + 9 * n as u32),
                note: "以办理营业执照变更为由到窗口咨询，全程观察约一小时。".into(),
            },
            shopper,
        )?;
        for item in template.items() {
            let (answer, note) = match p.deductions.iter().find(|d| d.0 == item.id) {
                Some((_, points, note)) => (Answer::Deduct { points: *points }, Some(*note)),
                None if item.id == "8.3" && n % 2 == 1 => (Answer::NotApplicable, None),
                None => (Answer::Pass, None),
            };
            shop.set_visit_answer(&id, &item.id, Some(&answer), note, shopper)?;
        }
        for (i, (item, _, _)) in p.deductions.iter().enumerate() {
            shop.attach_visit_photo(
                &id,
                item,
                &demo_photo((n * 7 + i) as u32),
                &format!("现场照片{}.png", i + 1),
                shopper,
            )?;
        }
        shop.submit_visit(&id, shopper)?;
        let bundle = tmp.path().join(format!("{n}.hcpv"));
        shop.export_visit(&id, &bundle)?;
        s.import_visit(&std::fs::read(&bundle).map_err(io)?, officer)?;
        let review_at = clock
            .later(start, 1, 0.4)
            .unwrap_or_else(|| clock.anchor - Duration::hours(1));
        let none = BTreeMap::new();
        match p.outcome {
            VisitOutcome::AcceptedAndClosed | VisitOutcome::Accepted => {
                let opened = s.review_visit(
                    &id,
                    &VisitReview {
                        accept: true,
                        note: "情况属实，扣分项转大厅整改。",
                        findings: None,
                        item_comments: &none,
                    },
                    officer,
                    review_at,
                )?;
                if p.outcome == VisitOutcome::AcceptedAndClosed {
                    // The hall fixed what was found; the office closes the visit.
                    let fixed = clock.later(review_at, 3, 0.5).unwrap_or(review_at);
                    for case_id in opened {
                        let d = s.case_detail(case_id, anchor)?;
                        s.act_on_case(
                            case_id,
                            &Action::FindingRectified {
                                note: "复查现场，问题已整改到位。".into(),
                            },
                            officer,
                            Some(d.case.version),
                            fixed,
                        )?;
                    }
                    let closed = clock.later(fixed, 1, 0.3).unwrap_or(fixed);
                    s.close_visit(&id, officer, closed)?;
                }
            }
            VisitOutcome::Waiting => {}
            VisitOutcome::Returned => {
                let mut comments = BTreeMap::new();
                comments.insert(
                    "4.2".to_string(),
                    "请写明被指引去的窗口号和时间，并补拍指引标识照片。".to_string(),
                );
                s.review_visit(
                    &id,
                    &VisitReview {
                        accept: false,
                        note: "4.2 证据不足，请补充后重新交件。",
                        findings: None,
                        item_comments: &comments,
                    },
                    officer,
                    review_at,
                )?;
            }
        }
    }
    Ok(())
}

/// A small "photo" for the demo's evidence: a counter, a person, a sign, in
/// colours that differ per photo.
pub(crate) fn demo_photo(n: u32) -> Vec<u8> {
    let (w, h) = (480u32, 360u32);
    let hue = |k: u32| ((n * 53 + k * 97) % 200) as u8;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let wall = image::Rgb([225 - hue(1) / 8, 228 - hue(2) / 10, 232]);
        if y > 230 {
            image::Rgb([140 + hue(3) / 4, 110, 90]) // counter
        } else if (60..140).contains(&x) && (30..70).contains(&y) {
            image::Rgb([200, 40 + hue(4) / 3, 40]) // sign
        } else {
            let (cx, cy) = (300i64 + i64::from(n % 5) * 20, 150i64);
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            if dx * dx + dy * dy < 40 * 40 || (dx.abs() < 55 && (190..232).contains(&y)) {
                image::Rgb([60, 80 + hue(5) / 2, 140]) // person
            } else {
                wall
            }
        }
    });
    let mut out = std::io::Cursor::new(vec![]);
    let _ = image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}
