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

/// A report's period on the Beijing calendar: a month (`2026-10`), a quarter
/// (`2026-Q3`) or a year (`2026`). Its text form is the key issued reports are
/// filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// 月度.
    Month(Month),
    /// 季度: year and 1–4.
    Quarter(i32, u32),
    /// 年度.
    Year(i32),
}

impl Period {
    /// `2026-10`, `2026-Q3` (or `2026q3`) or `2026`, or a zh-CN reason.
    pub fn parse(s: &str) -> Result<Period, String> {
        let t = s.trim();
        let bad = || {
            format!(
                "统计期间 “{}” 格式不正确，应为月份 2026-10、季度 2026-Q3 或年度 2026",
                crate::ident::printable(t)
            )
        };
        let year = |y: &str| -> Result<i32, String> {
            match y.parse::<i32>() {
                Ok(v) if y.len() == 4 && (2000..=2100).contains(&v) => Ok(v),
                _ => Err(bad()),
            }
        };
        if t.len() == 4 {
            return Ok(Period::Year(year(t)?));
        }
        if let Some((y, q)) = t
            .split_once(['-', ' '])
            .filter(|(_, q)| q.starts_with(['Q', 'q']))
        {
            return match q[1..].parse::<u32>() {
                Ok(n @ 1..=4) if q.len() == 2 => Ok(Period::Quarter(year(y)?, n)),
                _ => Err(bad()),
            };
        }
        Month::parse(t).map(Period::Month).map_err(|_| bad())
    }

    /// `monthly`, `quarterly` or `yearly`.
    pub fn kind(self) -> &'static str {
        match self {
            Period::Month(_) => "monthly",
            Period::Quarter(..) => "quarterly",
            Period::Year(_) => "yearly",
        }
    }

    /// The year it falls in (the issue number's 〔year〕).
    pub fn year(self) -> i32 {
        match self {
            Period::Month(m) => m.year,
            Period::Quarter(y, _) | Period::Year(y) => y,
        }
    }

    /// Its months, in order.
    pub fn months(self) -> Vec<Month> {
        let (year, first, n) = match self {
            Period::Month(m) => (m.year, m.month, 1),
            Period::Quarter(y, q) => (y, 3 * q - 2, 3),
            Period::Year(y) => (y, 1, 12),
        };
        (first..first + n)
            .map(|month| Month { year, month })
            .collect()
    }

    /// The period before (上月 / 上季度 / 上年).
    pub fn previous(self) -> Period {
        match self {
            Period::Month(m) if m.month == 1 => Period::Month(Month {
                year: m.year - 1,
                month: 12,
            }),
            Period::Month(m) => Period::Month(Month {
                year: m.year,
                month: m.month - 1,
            }),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Year(y) => Period::Year(y - 1),
        }
    }

    /// Its first and last Beijing day.
    pub fn days(self) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let months = self.months();
        let (a, b) = (months[0], months[months.len() - 1]);
        let first = chrono::NaiveDate::from_ymd_opt(a.year, a.month, 1).expect("valid month");
        let last = chrono::NaiveDate::from_ymd_opt(b.year, b.month, 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
            .expect("valid month");
        (first, last)
    }

    /// Its UTC instants `[start, end)` as the cache stores them.
    pub fn bounds_utc(self) -> (String, String) {
        let months = self.months();
        (
            months[0].bounds_utc().0,
            months[months.len() - 1].bounds_utc().1,
        )
    }

    /// `2026年10月`, `2026年第三季度`, `2026年`.
    pub fn label_zh(self) -> String {
        match self {
            Period::Month(m) => format!("{}年{}月", m.year, m.month),
            Period::Quarter(y, q) => {
                format!("{y}年第{}季度", ["一", "二", "三", "四"][q as usize - 1])
            }
            Period::Year(y) => format!("{y}年"),
        }
    }

    /// How the text calls this period and the one before: (本月, 上月), (本季度,
    /// 上季度), (本年度, 上年度).
    pub fn names_zh(self) -> (&'static str, &'static str) {
        match self {
            Period::Month(_) => ("本月", "上月"),
            Period::Quarter(..) => ("本季度", "上季度"),
            Period::Year(_) => ("本年度", "上年度"),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Period::Year(y) => write!(f, "{y:04}"),
        }
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
    fn periods_parse_print_and_step_back() {
        let q = Period::parse(" 2026-q3 ").unwrap();
        assert_eq!(q, Period::Quarter(2026, 3));
        assert_eq!(q.to_string(), "2026-Q3");
        assert_eq!(q.label_zh(), "2026年第三季度");
        assert_eq!(
            q.months().iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["2026-07", "2026-08", "2026-09"]
        );
        // Beijing midnight of 1 July and 1 October, in UTC.
        assert_eq!(
            q.bounds_utc(),
            ("2026-06-30T16:00:00Z".into(), "2026-09-30T16:00:00Z".into())
        );
        assert_eq!(
            Period::parse("2026-Q1").unwrap().previous().to_string(),
            "2025-Q4"
        );
        let y = Period::parse("2026").unwrap();
        assert_eq!(y.months().len(), 12);
        assert_eq!(y.days().1.to_string(), "2026-12-31");
        assert_eq!(y.previous(), Period::Year(2025));
        assert_eq!(y.kind(), "yearly");
        let m = Period::parse("2026-01").unwrap();
        assert_eq!(m.previous().to_string(), "2025-12");
        assert_eq!(m.names_zh(), ("本月", "上月"));
        for bad in [
            "2026-Q5", "2026-Q0", "2026-Q", "26", "2026-13", "Q3", "2026-Q3x", "1999",
        ] {
            let e = Period::parse(bad).unwrap_err();
            assert!(e.contains("统计期间"), "{bad}: {e}");
        }
    }

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
