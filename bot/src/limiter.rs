//! Telegram's limits on what the bot sends: at most 1 message a second and
//! 20 a minute to one chat, and 30 a second overall; a 429's `retry_after`
//! holds every send back until it has passed.
//!
//! Each send reserves the earliest slot that keeps every limit and sleeps
//! until then, so a reply that breaks no limit goes out at once. (teloxide's
//! `Throttle` checks its queue on a 250 ms tick, which puts up to a quarter
//! of a second on every reply; see BENCHMARKS.md.) Time is tokio's, so tests
//! run it on a paused clock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// The limits a [`Limiter`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages a second to one chat.
    pub per_sec_chat: u32,
    /// Messages a minute to one chat.
    pub per_min_chat: u32,
    /// Messages a second over all chats.
    pub per_sec_overall: u32,
}

impl Default for Limits {
    /// Telegram's published limits for bots.
    fn default() -> Self {
        Limits {
            per_sec_chat: 1,
            per_min_chat: 20,
            per_sec_overall: 30,
        }
    }
}

impl Limits {
    /// Limits so high they never hold a reply back: for test servers and
    /// benchmarks, never for the real Telegram.
    pub fn relaxed() -> Self {
        Limits {
            per_sec_chat: 10_000,
            per_min_chat: 600_000,
            per_sec_overall: 100_000,
        }
    }
}

/// Sends reserved so far: per chat, and overall.
#[derive(Default)]
struct State {
    chats: HashMap<i64, VecDeque<Instant>>,
    overall: VecDeque<Instant>,
    frozen_until: Option<Instant>,
    swept: Option<Instant>,
}

/// Hands out send slots within [`Limits`].
pub struct Limiter {
    limits: Limits,
    state: Mutex<State>,
}

/// The earliest time from `now` at which one more send keeps `sent`
/// (ascending) at most `limit` in any `window`.
fn slot(sent: &VecDeque<Instant>, now: Instant, limit: u32, window: Duration) -> Instant {
    let limit = limit.max(1) as usize;
    match sent.len().checked_sub(limit) {
        Some(i) => now.max(sent[i] + window),
        None => now,
    }
}

/// Forgets sends that can no longer count against a slot from `now` on.
fn prune(sent: &mut VecDeque<Instant>, now: Instant) {
    while sent.front().is_some_and(|t| *t + MINUTE <= now) {
        sent.pop_front();
    }
}

impl Limiter {
    /// A limiter keeping `limits`.
    pub fn new(limits: Limits) -> Self {
        Limiter {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a set of timestamps: still usable after a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves the chat's next slot. Slots of one chat only ever grow, so
    /// its list stays sorted.
    fn reserve_chat(&self, chat: i64) -> Instant {
        let now = Instant::now();
        let mut s = self.state();
        if s.swept.is_none_or(|t| t + MINUTE <= now) {
            s.chats
                .retain(|_, sent| sent.back().is_some_and(|t| *t + MINUTE > now));
            s.swept = Some(now);
        }
        let sent = s.chats.entry(chat).or_default();
        prune(sent, now);
        let at = slot(sent, now, self.limits.per_sec_chat, SECOND).max(slot(
            sent,
            now,
            self.limits.per_min_chat,
            MINUTE,
        ));
        sent.push_back(at);
        at
    }

    /// Reserves the next overall slot, after any freeze. Reservations are
    /// made in lock order from a later `now`, so the list stays sorted.
    fn reserve_overall(&self) -> Instant {
        let mut s = self.state();
        let now = Instant::now().max(s.frozen_until.unwrap_or_else(Instant::now));
        prune(&mut s.overall, now);
        let at = slot(&s.overall, now, self.limits.per_sec_overall, SECOND);
        s.overall.push_back(at);
        at
    }

    /// Waits until one more message to `chat` keeps every limit.
    pub async fn admit(&self, chat: i64) {
        tokio::time::sleep_until(self.reserve_chat(chat)).await;
        tokio::time::sleep_until(self.reserve_overall()).await;
        // A 429 may have come back while this send waited.
        loop {
            let frozen = self.state().frozen_until;
            match frozen {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
    }

    /// Holds every send back for `wait` (Telegram answered 429).
    pub fn freeze(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut s = self.state();
        s.frozen_until = Some(s.frozen_until.map_or(until, |t| t.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// When each of `n` sends to `chat` (all asked for at once) went out,
    /// in seconds from the start.
    async fn times(limiter: &Arc<Limiter>, chats: &[i64]) -> Vec<f64> {
        let start = Instant::now();
        let tasks: Vec<_> = chats
            .iter()
            .map(|&chat| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.admit(chat).await;
                    (Instant::now() - start).as_secs_f64()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out.sort_by(f64::total_cmp);
        out
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_one_a_second_and_twenty_a_minute() {
        let limiter = Arc::new(Limiter::new(Limits::default()));
        let t = times(&limiter, &[7; 22]).await;
        // The first goes at once, then one a second …
        for (i, at) in t.iter().take(20).enumerate() {
            assert!((at - i as f64).abs() < 0.01, "send {i} at {at}: {t:?}");
        }
        // … and the 21st waits for the minute since the first to pass.
        assert!((t[20] - 60.0).abs() < 0.01, "{t:?}");
        assert!((t[21] - 61.0).abs() < 0.01, "{t:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn many_chats_share_thirty_a_second() {
        let limiter = Arc::new(Limiter::new(Limits::default()));
        let chats: Vec<i64> = (0..75).collect();
        let t = times(&limiter, &chats).await;
        let in_window = |from: f64| t.iter().filter(|x| **x >= from && **x < from + 1.0).count();
        assert_eq!(in_window(0.0), 30, "{t:?}");
        assert_eq!(in_window(1.0), 30, "{t:?}");
        assert_eq!(in_window(2.0), 15, "{t:?}");
        // No one-second window anywhere holds more than 30.
        assert!(t.iter().all(|&from| in_window(from) <= 30), "{t:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_within_the_limits_is_not_held() {
        let limiter = Arc::new(Limiter::new(Limits::default()));
        let t = times(&limiter, &[1, 2, 3]).await;
        assert_eq!(t, vec![0.0, 0.0, 0.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_everyone_back() {
        let limiter = Arc::new(Limiter::new(Limits::default()));
        limiter.freeze(Duration::from_secs(5));
        let t = times(&limiter, &[1, 2]).await;
        assert!(t.iter().all(|x| (x - 5.0).abs() < 0.01), "{t:?}");
        // A shorter freeze does not shorten a longer one.
        limiter.freeze(Duration::from_secs(3));
        limiter.freeze(Duration::from_secs(1));
        let t = times(&limiter, &[3]).await;
        assert!((t[0] - 3.0).abs() < 0.01, "{t:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_chats_are_forgotten() {
        let limiter = Arc::new(Limiter::new(Limits::default()));
        times(&limiter, &[1, 2, 3]).await;
        tokio::time::advance(MINUTE * 2).await;
        times(&limiter, &[4]).await;
        assert_eq!(limiter.state().chats.len(), 1);
    }
}
