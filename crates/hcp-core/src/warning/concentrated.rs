//! 疑似刷好评（好评集中, Rule::Concentrated): a staff member's praise coming mostly from a few named evaluators.

use super::*;

/// 疑似刷好评（好评集中）: a staff member whose good ratings by named evaluators in
/// `ratings` (one period) number at least `concentrated_min_good`, and of which
/// the top `concentrated_top` evaluators gave at least `concentrated_share`.
pub fn concentrated(ratings: &[Rated<'_>], p: &Params) -> Vec<Alert> {
    let mut by_staff: HashMap<(&str, &str), Vec<&Rated<'_>>> = HashMap::default();
    for r in ratings
        .iter()
        .filter(|r| r.is_good() && r.id_hash.is_some())
    {
        let Some(staff) = r.staff_no else { continue };
        by_staff.entry((r.hall_id, staff)).or_default().push(r);
    }
    let mut by_staff: Vec<_> = by_staff
        .into_iter()
        .filter(|(_, v)| v.len() as u32 >= p.concentrated_min_good)
        .collect();
    by_staff.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![];
    for ((hall, staff), rs) in by_staff {
        let unit = Unit {
            kind: UnitKind::Staff,
            hall_id: hall.to_owned(),
            code: staff.to_owned(),
        };
        let total = rs.len();
        if (total as u32) < p.concentrated_min_good {
            continue;
        }
        let mut per: HashMap<&str, Vec<&Rated<'_>>> = HashMap::default();
        for r in &rs {
            per.entry(r.id_hash.unwrap_or_default())
                .or_default()
                .push(r);
        }
        let mut top: Vec<(&str, Vec<&Rated<'_>>)> = per.into_iter().collect();
        top.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        top.truncate(p.concentrated_top);
        let from_top: usize = top.iter().map(|(_, v)| v.len()).sum();
        let share = from_top as f64 / total as f64;
        if share < p.concentrated_share {
            continue;
        }
        let first = rs.iter().map(|r| r.day()).min().unwrap_or_default();
        let last = rs.iter().map(|r| r.day()).max().unwrap_or_default();
        out.push(Alert {
            rule: Rule::Concentrated,
            explanation: format!(
                "{} 的 {} 条实名好评中，{} 位评价人给出 {} 条（{:.0}%）",
                unit.kind.label(&unit.code),
                total,
                top.len(),
                from_top,
                share * 100.0
            ),
            unit,
            from: first,
            to: last,
            observed: share,
            baseline: None,
            evidence: evidence(
                top.iter()
                    .flat_map(|(_, v)| v.iter().map(|r| r.id.to_owned())),
            ),
        });
    }
    out
}
