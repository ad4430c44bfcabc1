//! Receipt codes cannot be guessed through the claim page `/r/<code>`,
//! which tells whether a code is genuine: each client address gets
//! [`LOOKUPS_PER_HOUR`] lookups and claims an hour; and since an attacker
//! can rotate addresses, each POS key gets a budget of
//! [`FORGED_PER_KEY_PER_HOUR`] forged codes an hour, after which that key's
//! codes are refused on the web for the rest of the hour and the guessing
//! is journaled (`receipt_guessing`). At that rate an 8-digit MAC takes
//! 10^8 / 2 / 50 = 1,000,000 hours (about 114 years) to forge on average.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use stampcard_core::codes::CodeError;
use stampcard_core::{CoreError, Shop};

use crate::join_limit::JoinLimit;

/// Receipt lookups and claims per client address and hour.
pub const LOOKUPS_PER_HOUR: u32 = 60;
/// Forged codes per POS key and hour before its codes are refused.
pub const FORGED_PER_KEY_PER_HOUR: u32 = 50;

/// Why a receipt code is not looked up.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// This address asked too often.
    Busy,
    /// Not a genuine code (or its POS key is under attack).
    Invalid,
}

/// The limits of the claim page.
#[derive(Debug)]
pub struct ReceiptGuard {
    lookups: JoinLimit,
    forged: Mutex<HashMap<u16, VecDeque<DateTime<Utc>>>>,
}

impl Default for ReceiptGuard {
    fn default() -> Self {
        Self {
            lookups: JoinLimit::new("receipt_lookup", LOOKUPS_PER_HOUR),
            forged: Mutex::new(HashMap::new()),
        }
    }
}

/// The POS key a derived receipt code names (`4` · key id (3) · …).
fn pos_key(code: &str) -> Option<u16> {
    let code = code.trim();
    ((code.len() == 34 || code.len() == 42) && code.starts_with('4'))
        .then(|| code.get(1..4)?.parse().ok())
        .flatten()
}

impl ReceiptGuard {
    /// Forged codes of `key` within the last hour (with `add`, this one
    /// counted): in this process, or where nodes share the shop's database,
    /// in it.
    async fn forged_in(&self, shop: &Shop, key: u16, add: bool) -> u32 {
        if !shop.store().is_shared() {
            return self.forged_recently(key, shop.clock().now(), add);
        }
        let access = shop.access();
        let subject = key.to_string();
        let counted = match add {
            true => access.hourly_add("receipt_forged", &subject).await,
            false => access.hourly_count("receipt_forged", &subject).await,
        };
        counted.unwrap_or_else(|e| {
            tracing::warn!("counting forged codes of POS key {key}: {e}");
            0
        })
    }

    /// Forged codes of `key` within the hour before `now`.
    fn forged_recently(&self, key: u16, now: DateTime<Utc>, add: bool) -> u32 {
        let since = now - Duration::hours(1);
        let mut forged = self.forged.lock().unwrap_or_else(|e| e.into_inner());
        let times = forged.entry(key).or_default();
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if add {
            times.push_back(now);
        }
        times.len() as u32
    }

    /// The template of a genuine receipt code looked up by `client`.
    pub async fn template(&self, shop: &Shop, client: IpAddr, code: &str) -> Result<u64, Refused> {
        if !self.lookups.allow_in(shop, client).await {
            return Err(Refused::Busy);
        }
        let key = pos_key(code);
        if let Some(k) = key
            && self.forged_in(shop, k, false).await >= FORGED_PER_KEY_PER_HOUR
        {
            return Err(Refused::Invalid);
        }
        match shop.customers().receipt_template(code) {
            Ok(t) => Ok(t),
            Err(CoreError::Code(CodeError::Forged)) => {
                if let Some(k) = key {
                    let n = self.forged_in(shop, k, true).await;
                    if n == FORGED_PER_KEY_PER_HOUR
                        && let Err(e) = shop.cards().note_receipt_guessing(k, n).await
                    {
                        tracing::warn!("journaling receipt guessing of POS key {k}: {e}");
                    }
                }
                Err(Refused::Invalid)
            }
            Err(_) => Err(Refused::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pos_key;

    #[test]
    fn the_pos_key_of_a_derived_code() {
        assert_eq!(pos_key("4007261122002004711000102292852820"), Some(7));
        assert_eq!(pos_key("3123456789012345"), None);
        assert_eq!(pos_key("4007"), None);
    }
}
