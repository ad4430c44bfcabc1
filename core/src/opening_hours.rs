//! The shop's opening hours (`[shop] opening_hours`): spans per weekday in
//! the shop's time zone, with dated exceptions.
//!
//! ```toml
//! [shop.opening_hours]
//! mon = "08:00-18:00"
//! sat = "09:00-13:00, 14:00-17:00"
//! sun = "closed"
//! "2026-12-24" = "08:00-12:00"
//! "2026-12-25" = "closed"
//! ```
//!
//! A weekday left out is closed; no table at all means always open (the
//! outside-hours rules are then off). A span ends on its own day: one past
//! midnight is written as two (`fri = "18:00-24:00"`, `sat = "00:00-02:00"`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

/// Minutes since midnight, from (inclusive) to (exclusive).
type Span = (u32, u32);

/// When the shop is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpeningHours {
    /// `None`: always open.
    week: Option<[Vec<Span>; 7]>,
    /// Dated exceptions, replacing their weekday's spans.
    dated: BTreeMap<NaiveDate, Vec<Span>>,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

impl OpeningHours {
    /// Always open.
    pub fn always() -> Self {
        Self::default()
    }

    /// Whether any hours are set (else the shop counts as always open).
    pub fn is_set(&self) -> bool {
        self.week.is_some()
    }

    /// Reads the table: keys are `mon` … `sun` or dates `YYYY-MM-DD`,
    /// values `closed` or spans `HH:MM-HH:MM` separated by commas. The
    /// error names the key and says what is wrong.
    pub fn parse(table: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut week: [Vec<Span>; 7] = Default::default();
        let mut dated = BTreeMap::new();
        for (key, value) in table {
            let spans = parse_spans(value).map_err(|e| format!("`{key}` = \"{value}\": {e}"))?;
            match DAYS.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)) {
                Some((_, day)) => week[day.num_days_from_monday() as usize] = spans,
                None => {
                    let date = NaiveDate::parse_from_str(key, "%Y-%m-%d").map_err(|_| {
                        format!(
                            "`{key}` is neither a weekday (mon, tue, wed, thu, fri, sat, sun) nor a date (YYYY-MM-DD)"
                        )
                    })?;
                    dated.insert(date, spans);
                }
            }
        }
        Ok(Self {
            week: (!table.is_empty()).then_some(week),
            dated,
        })
    }

    /// Whether the shop is open at a moment (always, when no hours are set).
    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        let Some(week) = &self.week else {
            return true;
        };
        let local = at.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        let spans = match self.dated.get(&local.date_naive()) {
            Some(spans) => spans,
            None => &week[local.weekday().num_days_from_monday() as usize],
        };
        spans
            .iter()
            .any(|(from, to)| (*from..*to).contains(&minute))
    }
}

fn parse_spans(value: &str) -> Result<Vec<Span>, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let mut spans: Vec<Span> = Vec::new();
    for part in value.split(',') {
        let (from, to) = part
            .trim()
            .split_once('-')
            .ok_or("write spans as HH:MM-HH:MM (e.g. \"08:00-18:00\"), or \"closed\"")?;
        let (from, to) = (minutes(from)?, minutes(to)?);
        if to <= from {
            return Err(format!(
                "a span ends after it starts; one past midnight is two spans (\"18:00-24:00\" and the next day's \"00:00-02:00\"), not {}",
                part.trim()
            ));
        }
        if spans.iter().any(|(f, t)| from < *t && *f < to) {
            return Err(format!("{} overlaps another span", part.trim()));
        }
        spans.push((from, to));
    }
    Ok(spans)
}

fn minutes(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text == "24:00" {
        return Ok(24 * 60);
    }
    let t = NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("'{text}' is not a time HH:MM"))?;
    Ok(t.hour() * 60 + t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(pairs: &[(&str, &str)]) -> Result<OpeningHours, String> {
        OpeningHours::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn weekdays_spans_and_dated_exceptions() {
        let h = hours(&[
            ("mon", "08:00-12:00, 13:00-18:00"),
            ("tue", "08:00-24:00"),
            ("2026-12-07", "closed"),
        ])
        .unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Monday 2026-11-30, Berlin is UTC+1.
        assert!(h.is_open(at("2026-11-30T07:00:00Z"), tz));
        assert!(!h.is_open(at("2026-11-30T11:30:00Z"), tz), "lunch");
        assert!(
            !h.is_open(at("2026-11-30T17:00:00Z"), tz),
            "18:00 is closed"
        );
        assert!(h.is_open(at("2026-12-01T22:59:00Z"), tz), "tue 23:59");
        assert!(!h.is_open(at("2026-12-02T10:00:00Z"), tz), "wed left out");
        assert!(!h.is_open(at("2026-12-07T10:00:00Z"), tz), "dated closed");
        assert!(OpeningHours::always().is_open(at("2026-12-07T03:00:00Z"), tz));
    }

    #[test]
    fn malformed_tables_say_which_key_and_why() {
        for (pairs, says) in [
            (vec![("monday", "08:00-18:00")], "neither a weekday"),
            (vec![("mon", "8-18")], "is not a time"),
            (vec![("mon", "18:00-02:00")], "past midnight"),
            (vec![("mon", "08:00-12:00,11:00-13:00")], "overlaps"),
            (vec![("2026-02-30", "closed")], "neither a weekday"),
            (vec![("sun", "open")], "HH:MM-HH:MM"),
        ] {
            let e = hours(&pairs).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
