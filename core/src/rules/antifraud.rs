//! Cooldown between stamps and the daily cap, in shop-local days.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::clock::local_day;
use crate::error::Refusal;
use crate::model::{Card, FraudRules};

/// Checks whether `count` stamps may be added to `card` at `now`.
/// `cooldown` is false for receipt claims, which are one-time by nature.
pub fn check_fraud(
    card: &Card,
    rules: &FraudRules,
    count: u32,
    now: DateTime<Utc>,
    tz: Tz,
    cooldown: bool,
) -> Result<(), Refusal> {
    if cooldown
        && rules.cooldown_secs > 0
        && let Some(last) = card.last_stamp_at
    {
        let elapsed = (now - last).num_seconds();
        if elapsed < i64::from(rules.cooldown_secs) {
            return Err(Refusal::Cooldown {
                elapsed_secs: elapsed.max(0),
                cooldown_secs: rules.cooldown_secs,
            });
        }
    }
    if rules.daily_cap > 0 {
        let today = local_day(now, tz);
        let so_far = if card.today == Some(today) {
            card.stamps_today
        } else {
            0
        };
        if so_far.saturating_add(count) > rules.daily_cap {
            return Err(Refusal::DailyCap {
                today: so_far,
                cap: rules.daily_cap,
            });
        }
    }
    Ok(())
}
