//! Metric arithmetic shared by the dashboard and the monthly report (DOMAIN.md,
//! "Monthly report — metrics, exactly"): a rate is kept as numerator and
//! denominator; a rate over zero has no value and is shown as "—".

/// A rate: numerator / denominator, with the percentage rounded to 2 decimals
/// (`None` when the denominator is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// 分子.
    pub numerator: i64,
    /// 分母.
    pub denominator: i64,
    /// Percent, 2 decimals; `None` over zero.
    pub percent: Option<f64>,
}

impl Rate {
    /// `numerator / denominator`.
    pub fn of(numerator: i64, denominator: i64) -> Self {
        let percent = (denominator != 0)
            .then(|| (numerator as f64 * 10_000.0 / denominator as f64).round() / 100.0);
        Self {
            numerator,
            denominator,
            percent,
        }
    }

    /// "93.27%" or "—".
    pub fn display(&self) -> String {
        self.percent
            .map_or_else(|| "—".to_string(), |p| format!("{p:.2}%"))
    }
}

/// A rate as people see it — in the report, on the dashboard: the exact
/// numerator and denominator, the percentage rounded to two decimals, and its
/// text ("93.27%", or "—" over zero).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RateView.ts"))]
pub struct RateView {
    /// 分子.
    pub numerator: i64,
    /// 分母.
    pub denominator: i64,
    /// Percent, 2 decimals; `null` over zero.
    pub percent: Option<f64>,
    /// "93.27%" or "—".
    pub display: String,
}

impl RateView {
    /// `numerator / denominator`.
    pub fn of(numerator: i64, denominator: i64) -> Self {
        Rate::of(numerator, denominator).into()
    }
}

impl From<Rate> for RateView {
    fn from(r: Rate) -> Self {
        Self {
            numerator: r.numerator,
            denominator: r.denominator,
            percent: r.percent,
            display: r.display(),
        }
    }
}

/// Beijing time (Asia/Shanghai has had no daylight saving since 1991: +08:00 always).
pub fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// A calendar month as reports, filters and exports name it (`2026-10`), in
/// Beijing time. Parsed once here for every front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// 2000–2100.
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

impl Month {
    /// `2026-10` (spaces around it are ignored), or a zh-CN reason.
    pub fn parse(s: &str) -> Result<Month, String> {
        let bad = || format!("月份 “{}” 格式不正确，应为 YYYY-MM，如 2026-10", s.trim());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// Its UTC instants `[start, end)` as the cache stores them.
    pub fn bounds_utc(self) -> (String, String) {
        month_bounds_utc(self.year, self.month).expect("a parsed month exists")
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The UTC instants `[start, end)` of a Beijing-time calendar month, as the cache
/// stores them (`2026-09-30T16:00:00Z`). `None` for a month that does not exist.
pub fn month_bounds_utc(year: i32, month: u32) -> Option<(String, String)> {
    use chrono::{NaiveDate, TimeZone};
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let at = |d: NaiveDate| {
        beijing()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .single()
            .map(|t| {
                t.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
    };
    Some((at(first)?, at(next)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_to_two_decimals_and_zero_denominators_have_no_value() {
        let r = Rate::of(2, 3);
        assert_eq!(r.percent, Some(66.67));
        assert_eq!(r.display(), "66.67%");
        let none = Rate::of(0, 0);
        assert_eq!(none.percent, None);
        assert_eq!(none.display(), "—");
    }

    #[test]
    fn months_are_beijing_months() {
        let (a, b) = month_bounds_utc(2026, 10).unwrap();
        assert_eq!(a, "2026-09-30T16:00:00Z");
        assert_eq!(b, "2026-10-31T16:00:00Z");
        // 2026-10-31T23:30+08:00 is 15:30Z on the 31st: inside October.
        assert!("2026-10-31T15:30:00Z" < b.as_str());
        // 2026-11-01T00:10+08:00 is 16:10Z on the 31st: November.
        assert!("2026-10-31T16:10:00Z" >= b.as_str());
        let (a, b) = month_bounds_utc(2026, 12).unwrap();
        assert_eq!(
            (a.as_str(), b.as_str()),
            ("2026-11-30T16:00:00Z", "2026-12-31T16:00:00Z")
        );
        assert!(month_bounds_utc(2026, 13).is_none());
    }

    #[test]
    fn months_parse_once_for_everyone() {
        let m = Month::parse(" 2026-10 ").unwrap();
        assert_eq!((m.year, m.month), (2026, 10));
        assert_eq!(m.to_string(), "2026-10");
        assert_eq!(Month::parse("2026-3").unwrap().to_string(), "2026-03");
        assert_eq!(
            m.bounds_utc(),
            (
                "2026-09-30T16:00:00Z".to_string(),
                "2026-10-31T16:00:00Z".to_string()
            )
        );
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "26-10",
            "1999-12",
            "2026-10-01",
            "二〇二六-10",
        ] {
            let e = Month::parse(bad).unwrap_err();
            assert!(e.contains("YYYY-MM"), "{bad}: {e}");
        }
    }
}
