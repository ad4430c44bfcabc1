//! The clock seam: every time-based rule reads the time through [`Clock`].

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::sync::{Arc, Mutex};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A manual clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to an instant.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The shop-local calendar day an instant falls on.
///
/// Converting an instant to local time is always unambiguous, so days are
/// well defined across DST changes: a local day simply lasts 23 or 25 hours.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The instant of a shop-local wall-clock time: the earlier of two in a DST
/// fold; in a DST gap, the first instant after it (the hour that does not
/// exist is skipped).
pub fn local_to_utc(tz: &Tz, local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
        chrono::LocalResult::None => (1..=4)
            .map(|h| local + chrono::Duration::hours(h))
            .find_map(|l| tz.from_local_datetime(&l).earliest())
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// Parses a shop-local time typed as `2026-12-01 09:30`.
pub fn parse_local(tz: &Tz, text: &str) -> Result<DateTime<Utc>, String> {
    let local = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M")
        .map_err(|_| format!("'{text}' is not a shop-local time like 2026-12-01 09:30"))?;
    local_to_utc(tz, local)
        .ok_or_else(|| format!("'{text}' does not exist in the shop's time zone"))
}
