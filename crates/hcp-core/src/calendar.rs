//! China's working-day calendar (DOMAIN.md, "Working days") and deadlines counted
//! in working days.
//!
//! Working days are Monday–Friday minus statutory holidays plus make-up workdays
//! (调休上班), from the State Council's schedule in the holiday-cn JSON format
//! (`{"year": 2026, "days": [{"name", "date", "isOffDay"}]}`). A year without data
//! falls back to Monday–Friday, and every answer that touched such a year says so,
//! so the UI can warn that the deadline is an estimate.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Weekday};
use serde::Deserialize;

use crate::metrics::beijing;

/// Why a calendar file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not holiday-cn JSON.
    #[error("节假日数据格式错误：{0}")]
    Format(String),
    /// A date outside the file's year (or not a date).
    #[error("节假日数据中的日期 “{date}” 不属于 {year} 年")]
    WrongYear {
        /// The file's year.
        year: i32,
        /// The offending date text.
        date: String,
    },
}

#[derive(Deserialize)]
struct HolidayFile {
    year: i32,
    days: Vec<HolidayDay>,
}

#[derive(Deserialize)]
struct HolidayDay {
    #[allow(dead_code)]
    name: String,
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// Working days, from official data where the calendar has the year.
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    years: BTreeSet<i32>,
    /// Exceptions to Monday–Friday: `true` = off (holiday), `false` = make-up workday.
    exceptions: HashMap<NaiveDate, bool>,
}

/// A day count or a date, and whether it rests on the Monday–Friday fallback for a
/// year the calendar has no data for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted<T> {
    /// The answer.
    pub value: T,
    /// `true` when a year without official data was involved (an estimate).
    pub estimated: bool,
}

/// A deadline: 23:59:59 +08:00 of its last working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The last working day (Beijing date).
    pub last_day: NaiveDate,
    /// The instant the deadline ends.
    pub due_at: DateTime<FixedOffset>,
    /// `true` when it rests on the Monday–Friday fallback (show a warning).
    pub estimated: bool,
}

impl WorkingCalendar {
    /// The calendar with the data shipped in `assets/calendar` (2024–2026).
    pub fn builtin() -> Self {
        let mut c = Self::default();
        for json in [
            include_str!("../../../assets/calendar/2024.json"),
            include_str!("../../../assets/calendar/2025.json"),
            include_str!("../../../assets/calendar/2026.json"),
        ] {
            c.import_year(json)
                .expect("the shipped calendar data is valid");
        }
        c
    }

    /// Adds (or replaces) one year from a holiday-cn JSON file; returns the year.
    /// Nothing changes when the file is refused.
    pub fn import_year(&mut self, json: &str) -> Result<i32, CalendarError> {
        let file: HolidayFile =
            serde_json::from_str(json).map_err(|e| CalendarError::Format(e.to_string()))?;
        let mut days = Vec::with_capacity(file.days.len());
        for d in &file.days {
            let date = NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
                .ok()
                .filter(|x| x.year() == file.year)
                .ok_or_else(|| CalendarError::WrongYear {
                    year: file.year,
                    date: d.date.clone(),
                })?;
            days.push((date, d.is_off_day));
        }
        self.exceptions.retain(|d, _| d.year() != file.year);
        self.exceptions.extend(days);
        self.years.insert(file.year);
        Ok(file.year)
    }

    /// The years with official data.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `d` is a working day, and whether that is an estimate.
    pub fn is_working_day(&self, d: NaiveDate) -> Counted<bool> {
        let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if !self.years.contains(&d.year()) {
            return Counted {
                value: weekday,
                estimated: true,
            };
        }
        Counted {
            value: self.exceptions.get(&d).map_or(weekday, |off| !off),
            estimated: false,
        }
    }

    /// The `n`th working day after `start` (the start day itself does not count).
    /// `n = 0` is `start`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Counted<NaiveDate> {
        let mut d = start;
        let mut left = n;
        let mut estimated = false;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            let w = self.is_working_day(d);
            estimated |= w.estimated;
            if w.value {
                left -= 1;
            }
        }
        Counted {
            value: d,
            estimated,
        }
    }

    /// Working days in `(from, to]`: how many working days after `from` end on or
    /// before `to` (0 when `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Counted<i64> {
        let mut n = 0;
        let mut estimated = false;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            let w = self.is_working_day(d);
            estimated |= w.estimated;
            n += i64::from(w.value);
        }
        Counted {
            value: n,
            estimated,
        }
    }

    /// The deadline `n` working days after the clock starts at `started` (its
    /// Beijing day does not count): 23:59:59 +08:00 of the last day.
    pub fn deadline(&self, started: DateTime<FixedOffset>, n: u32) -> Deadline {
        let start_day = started.with_timezone(&beijing()).date_naive();
        let last = self.add_working_days(start_day, n);
        let due_at = beijing()
            .from_local_datetime(&last.value.and_hms_opt(23, 59, 59).expect("valid time"))
            .single()
            .expect("+08:00 has no gaps");
        Deadline {
            last_day: last.value,
            due_at,
            estimated: last.estimated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn the_domain_example_across_national_day_2026() {
        // DOMAIN.md: a bad rating on 2026-09-28 (Mon) with 15 working days is due
        // 2026-10-23 23:59:59 +08:00 (10-10 is a make-up Saturday).
        let c = WorkingCalendar::builtin();
        let d = c.deadline(at("2026-09-28T10:00:00+08:00"), 15);
        assert_eq!(d.last_day, day("2026-10-23"));
        assert_eq!(d.due_at, at("2026-10-23T23:59:59+08:00"));
        assert!(!d.estimated);
    }

    #[test]
    fn national_day_2025_and_its_make_up_saturday() {
        let c = WorkingCalendar::builtin();
        // 10-01..10-08 off; 10-09 (Thu) is the first working day after 09-30.
        assert_eq!(
            c.add_working_days(day("2025-09-30"), 1).value,
            day("2025-10-09")
        );
        // 10-11 (Sat) is a make-up workday.
        assert_eq!(
            c.add_working_days(day("2025-09-30"), 3).value,
            day("2025-10-11")
        );
        assert!(
            c.is_working_day(day("2025-09-28")).value,
            "Sunday make-up workday"
        );
        assert!(!c.is_working_day(day("2025-10-08")).value);
    }

    #[test]
    fn spring_festival_2026_with_its_make_up_saturdays() {
        let c = WorkingCalendar::builtin();
        // 02-14 (Sat) is a workday, 02-15..02-23 are off, 02-28 (Sat) is a workday.
        assert_eq!(
            c.add_working_days(day("2026-02-13"), 1).value,
            day("2026-02-14")
        );
        assert_eq!(
            c.add_working_days(day("2026-02-13"), 2).value,
            day("2026-02-24")
        );
        assert_eq!(
            c.add_working_days(day("2026-02-27"), 1).value,
            day("2026-02-28")
        );
        assert_eq!(
            c.working_days_between(day("2026-02-13"), day("2026-02-28"))
                .value,
            // 02-14, 02-24, 02-25, 02-26, 02-27, 02-28
            6
        );
    }

    #[test]
    fn the_clock_starts_on_the_beijing_day() {
        let c = WorkingCalendar::builtin();
        // 2026-10-09T17:00Z is 10-10 01:00 in Beijing (a make-up Saturday): the start
        // day is 10-10, so one working day later is 10-12 (Mon).
        let d = c.deadline(at("2026-10-09T17:00:00+00:00"), 1);
        assert_eq!(d.last_day, day("2026-10-12"));
    }

    #[test]
    fn end_of_2026_into_2027_without_data_falls_back_and_says_so() {
        let c = WorkingCalendar::builtin();
        let inside = c.deadline(at("2026-12-28T09:00:00+08:00"), 3);
        assert_eq!(inside.last_day, day("2026-12-31"));
        assert!(!inside.estimated);
        // 2027 has no data: Mon–Fri, so 01-01 (Fri) counts although it will be a
        // holiday; the deadline is flagged as an estimate.
        let across = c.deadline(at("2026-12-30T09:00:00+08:00"), 5);
        assert_eq!(across.last_day, day("2027-01-06"));
        assert!(across.estimated);
        assert!(
            c.working_days_between(day("2026-12-30"), day("2027-01-04"))
                .estimated
        );
    }

    #[test]
    fn importing_a_year_replaces_it_and_bad_files_change_nothing() {
        let mut c = WorkingCalendar::builtin();
        let y2027 = r#"{"year": 2027, "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#;
        assert_eq!(c.import_year(y2027), Ok(2027));
        let d = c.deadline(at("2026-12-30T09:00:00+08:00"), 5);
        assert_eq!(d.last_day, day("2027-01-07"));
        assert!(!d.estimated);
        let before = c.years().collect::<Vec<_>>();
        let wrong =
            r#"{"year": 2028, "days": [{"name": "x", "date": "2027-05-01", "isOffDay": true}]}"#;
        assert!(matches!(
            c.import_year(wrong),
            Err(CalendarError::WrongYear { .. })
        ));
        assert!(matches!(
            c.import_year("not json"),
            Err(CalendarError::Format(_))
        ));
        assert_eq!(c.years().collect::<Vec<_>>(), before);
        assert_eq!(
            c.add_working_days(day("2027-04-30"), 1).value,
            day("2027-05-03")
        );
    }

    #[test]
    fn zero_days_and_empty_spans() {
        let c = WorkingCalendar::builtin();
        assert_eq!(
            c.add_working_days(day("2026-10-01"), 0).value,
            day("2026-10-01")
        );
        assert_eq!(
            c.working_days_between(day("2026-10-09"), day("2026-10-01"))
                .value,
            0
        );
    }
}
