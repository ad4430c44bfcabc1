//! The channel trait every delivery channel implements (bot, email, wallet
//! push, webhooks, the log channel).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::OutboxEntry;

/// A boxed future (the trait is used as `dyn Channel`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a channel did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted; delivery is confirmed later (wallet pushes).
    Sent {
        /// The channel's id of the message.
        receipt: Option<String>,
    },
    /// Accepted and, for this channel, delivered (Telegram, email).
    Confirmed {
        /// The channel's id of the message.
        receipt: Option<String>,
    },
}

/// After a crash, what became of an entry caught mid-send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// It went out, with the outcome its send would have reported.
    Delivered(SendOutcome),
    /// It did not go out (or going out twice is harmless): send it again.
    NotSent,
    /// The channel cannot tell: it fails rather than risk a duplicate.
    Unknown,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later (network error, rate limited, server busy).
    Retry {
        /// What went wrong.
        reason: String,
        /// The server's `retry_after`, when it named one.
        after: Option<Duration>,
    },
    /// Never deliverable (blocked by the user, bad address …).
    Permanent(String),
}

/// The default of [`RateLimits::memory_window`].
pub const MEMORY_WINDOW: usize = 5_000;
/// The default of [`RateLimits::recipient_share`].
pub const RECIPIENT_SHARE: usize = 500;

/// A channel's delivery limits and retry policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Most sends per second over all recipients.
    pub per_second: f64,
    /// Least time between two sends to one recipient.
    pub per_recipient: Duration,
    /// Attempts before a message fails for good.
    pub max_attempts: u32,
    /// First retry delay; doubles with each attempt.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Most unfinished entries the dispatcher holds in memory; the rest
    /// wait in the store (a backlog costs disk, not memory).
    pub memory_window: usize,
    /// Most of them per recipient, so one dead recipient's backlog leaves
    /// room for the others.
    pub recipient_share: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_second: 25.0,
            per_recipient: Duration::ZERO,
            max_attempts: 8,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(3600),
            memory_window: MEMORY_WINDOW,
            recipient_share: RECIPIENT_SHARE,
        }
    }
}

impl RateLimits {
    /// The delay before attempt `attempts + 1` after a failure.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// A delivery channel.
pub trait Channel: Send + Sync + 'static {
    /// The channel's name, as stored in outbox entries.
    fn name(&self) -> &str;

    /// Its rate limits and retry policy.
    fn limits(&self) -> RateLimits;

    /// Sends one message.
    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>>;

    /// Whether messages about one card must reach each recipient in the
    /// order they were queued (webhooks): a message waits while an earlier
    /// one for the same recipient and card is unfinished (e.g. retrying).
    fn in_order_per_card(&self) -> bool {
        false
    }

    /// After a crash: what became of an entry caught mid-send. By default
    /// the channel cannot tell (the entry then fails rather than risk a
    /// duplicate).
    fn was_delivered<'a>(&'a self, _entry: &'a OutboxEntry) -> BoxFuture<'a, Recovery> {
        Box::pin(async { Recovery::Unknown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let l = RateLimits {
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            ..Default::default()
        };
        assert_eq!(l.backoff_after(1), Duration::from_secs(2));
        assert_eq!(l.backoff_after(2), Duration::from_secs(4));
        assert_eq!(l.backoff_after(4), Duration::from_secs(16));
        assert_eq!(l.backoff_after(5), Duration::from_secs(30));
        assert_eq!(l.backoff_after(99), Duration::from_secs(30));
    }
}
