//! PIN prompts that cannot be guessed: every wrong PIN at any prompt of any
//! console on this machine counts; after [`FREE_FAILURES`] in a row every
//! prompt is locked for [`FIRST_LOCK_SECS`], doubling with each further
//! lock-out up to [`MAX_LOCK_SECS`]. The count and the lock-out are kept in
//! the store (a restart does not reset them) and each failure is journaled
//! (`sign_in_failed`, never the PIN). A right PIN clears the count. SSH
//! sessions sign in by key and the CLI by the machine account: a kiosk user
//! guessing PINs can slow sign-ins down but never lock the owner out of those.

use super::shop_lock::ShopLock;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Access;
use crate::error::CoreResult;
use crate::model::{Actor, EventKind, NewEvent, Staff};
use crate::store::{Key, Mutation, Record};

/// Wrong PINs in a row before the first lock-out.
pub const FREE_FAILURES: u32 = 5;
/// The first lock-out.
pub const FIRST_LOCK_SECS: i64 = 30;
/// The longest lock-out.
pub const MAX_LOCK_SECS: i64 = 15 * 60;

/// What a PIN prompt gets back.
#[derive(Debug, Clone, PartialEq)]
pub enum PinCheck {
    /// The PIN's staff member.
    Staff(Staff),
    /// A wrong PIN; this many more before a lock-out.
    Wrong {
        /// Wrong PINs left before the next lock-out.
        left: u32,
    },
    /// Every PIN prompt waits until then (the PIN was not tried).
    Locked {
        /// When PINs are tried again.
        until: DateTime<Utc>,
    },
}

/// The guard's state in the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Guard {
    /// Wrong PINs since the last right one or lock-out.
    failures: u32,
    /// Lock-outs since the last right PIN.
    lockouts: u32,
    /// No PIN is tried before this.
    locked_until: Option<DateTime<Utc>>,
}

fn key() -> Key {
    Key::Meta("pin_guard".into())
}

/// One check at a time (the count is read, changed and written back).
static CHECKING: ShopLock = ShopLock::new("pin_guard");

impl Access {
    fn pin_guard(&self) -> CoreResult<Guard> {
        self.meta(&key())
    }

    /// When PIN prompts open again, if they are locked now.
    pub fn pins_locked_until(&self) -> CoreResult<Option<DateTime<Utc>>> {
        let now = self.clock().now();
        Ok(self.pin_guard()?.locked_until.filter(|t| *t > now))
    }

    /// Checks a PIN typed at `prompt` ("lock screen", "kiosk", "admin
    /// screens") of the console acting as `actor`, within the guard.
    pub async fn check_pin(&self, pin: &str, prompt: &str, actor: &Actor) -> CoreResult<PinCheck> {
        let _one = CHECKING.lock(&**self.store()).await?;
        let now = self.clock().now();
        let mut g = self.pin_guard()?;
        if let Some(until) = g.locked_until.filter(|t| *t > now) {
            return Ok(PinCheck::Locked { until });
        }
        if let Some(staff) = self.sign_in(pin)? {
            if g.failures > 0 || g.lockouts > 0 {
                let mut m = Mutation::new();
                m.put(key(), Record::Meta(serde_json::Value::Null));
                self.store().commit(m).await?;
            }
            return Ok(PinCheck::Staff(staff));
        }
        g.failures += 1;
        let failures = g.failures + g.lockouts * FREE_FAILURES;
        let locked = g.failures >= FREE_FAILURES;
        if locked {
            let secs = (FIRST_LOCK_SECS << g.lockouts.min(16)).min(MAX_LOCK_SECS);
            g.locked_until = Some(now + Duration::seconds(secs));
            g.lockouts += 1;
            g.failures = 0;
        }
        let mut m = Mutation::new();
        m.put(
            key(),
            Record::Meta(serde_json::to_value(&g).unwrap_or_default()),
        );
        m.event(NewEvent::of_shop(
            now,
            EventKind::SignInFailed {
                prompt: prompt.to_string(),
                failures,
                locked,
            },
            actor.clone(),
        ));
        self.store().commit(m).await?;
        Ok(match g.locked_until.filter(|_| locked) {
            Some(until) => PinCheck::Locked { until },
            None => PinCheck::Wrong {
                left: FREE_FAILURES - g.failures,
            },
        })
    }
}
