//! Delivery counts per channel since the process started (for metrics):
//! the dispatchers record each outcome, and how many messages they hold in
//! memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// One channel's outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChannelCounts {
    /// Accepted by the channel (sent or confirmed).
    pub delivered: u64,
    /// Attempts that failed and will be retried.
    pub retried: u64,
    /// Messages given up on.
    pub failed: u64,
    /// Unfinished messages the dispatcher holds in memory now.
    pub in_memory: u64,
    /// The most it held at once.
    pub peak_in_memory: u64,
}

/// Counts per channel.
#[derive(Debug, Default)]
pub struct OutboxStats(Mutex<BTreeMap<String, ChannelCounts>>);

impl OutboxStats {
    /// Records an outcome on `channel`.
    pub(crate) fn record(&self, channel: &str, f: impl FnOnce(&mut ChannelCounts)) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(channel) {
            Some(c) => f(c),
            None => f(map.entry(channel.to_string()).or_default()),
        }
    }

    /// The counts now.
    pub fn snapshot(&self) -> BTreeMap<String, ChannelCounts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
