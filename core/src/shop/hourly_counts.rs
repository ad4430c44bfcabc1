//! Counts per hour that every node of the shop shares: the web join and
//! claim pages' limits per network address, and forged receipt codes per
//! POS key. One node keeps such counts in memory; nodes that share a
//! database keep them there, so a client spread over three nodes gets the
//! allowance once, not three times.
//!
//! Each kind keeps one record per clock hour (`subject → count`); the count
//! of the last hour is this hour's plus the previous hour's weighted by the
//! part of it still inside the window (a sliding-window estimate). The
//! read-count-write runs under the shop lock `hourly` (a look alone takes
//! none); the hour before the
//! previous one is deleted as the new one is written.

use std::collections::BTreeMap;

use super::Access;
use super::shop_lock::ShopLock;
use crate::error::CoreResult;
use crate::store::{Key, Mutation, Record};

/// One count at a time across nodes.
static COUNTING: ShopLock = ShopLock::new("hourly");

/// Counts of one kind in one hour.
type Counts = BTreeMap<String, u32>;

fn key(kind: &str, hour: i64) -> Key {
    Key::Meta(format!("hourly/{kind}/{hour}"))
}

impl Access {
    fn counts(&self, kind: &str, hour: i64) -> CoreResult<Counts> {
        self.meta(&key(kind, hour))
    }

    /// `subject`'s count of `kind` over the last hour; with `add` (and
    /// while below `limit`), this one counted too. Returns the count
    /// before, and whether it was added.
    async fn hourly(
        &self,
        kind: &str,
        subject: &str,
        add: bool,
        limit: u32,
    ) -> CoreResult<(u32, bool)> {
        // Only a count that may be written takes the lock: a look is a read.
        let _one = match add {
            true => Some(COUNTING.lock(&**self.store()).await?),
            false => None,
        };
        let secs = self.clock().now().timestamp();
        let (hour, into) = (secs.div_euclid(3600), secs.rem_euclid(3600));
        let mut now = self.counts(kind, hour)?;
        let before = self.counts(kind, hour - 1)?;
        let earlier = f64::from(before.get(subject).copied().unwrap_or(0));
        let outside = into as f64 / 3600.0;
        let count =
            now.get(subject).copied().unwrap_or(0) + (earlier * (1.0 - outside)).floor() as u32;
        if !add || count >= limit {
            return Ok((count, false));
        }
        *now.entry(subject.to_string()).or_default() += 1;
        let mut m = Mutation::new();
        m.put(
            key(kind, hour),
            Record::Meta(serde_json::to_value(&now).unwrap_or_default()),
        );
        m.deletes.push(key(kind, hour - 2));
        self.store().commit(m).await?;
        Ok((count, true))
    }

    /// Whether `subject` (an address) may do `kind` once more within
    /// `per_hour` over the last hour, on every node together; counts it if so.
    pub async fn hourly_allow(&self, kind: &str, subject: &str, per_hour: u32) -> CoreResult<bool> {
        Ok(self.hourly(kind, subject, true, per_hour).await?.1)
    }

    /// Counts one more `kind` of `subject`; returns the count over the last
    /// hour, this one included.
    pub async fn hourly_add(&self, kind: &str, subject: &str) -> CoreResult<u32> {
        Ok(self.hourly(kind, subject, true, u32::MAX).await?.0 + 1)
    }

    /// Counts a join or receipt claim (`what`: "join", "claim") from a
    /// network address for the alerts: the one that makes it more than
    /// `[alerts] address_per_hour` within the hour is journaled
    /// (`address_busy`), once, and the alerts consumer raises the alert.
    pub async fn count_address(&self, what: &str, address: &str) -> CoreResult<()> {
        let limit = self.settings().alerts.address_per_hour;
        if limit == 0 {
            return Ok(());
        }
        let count = self.hourly_add(&format!("address_{what}"), address).await?;
        if count != limit + 1 {
            return Ok(());
        }
        let mut m = Mutation::new();
        m.event(crate::model::NewEvent::of_shop(
            self.clock().now(),
            crate::model::EventKind::AddressBusy {
                what: what.into(),
                address: address.into(),
                count,
            },
            crate::model::Actor::channel("web"),
        ));
        self.store().commit(m).await?;
        Ok(())
    }

    /// `subject`'s count of `kind` over the last hour.
    pub async fn hourly_count(&self, kind: &str, subject: &str) -> CoreResult<u32> {
        Ok(self.hourly(kind, subject, false, 0).await?.0)
    }
}
