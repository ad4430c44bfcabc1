//! The newest committed journal events, kept decoded in memory.
//!
//! Every follower of the journal (the consumers, the metrics, the console's
//! and SSH sessions' live journal) reads each new event once; from the
//! store, that is one JSON decode per event per follower, which the profile
//! of an API stamp found to cost as much as the stamp's own view
//! (BENCHMARKS.md, run 29). The committer puts each group's events here
//! once they are durable, before it tells the followers, so a follower that
//! keeps up reads them from here, and one that fell further behind than
//! this window reads the store as before.
//!
//! What this holds is exactly what the store holds: events are added only
//! by the committer, in id order, after their group is flushed; a gap in
//! the ids (a failed group's ids are given again) starts the window anew.
//! A second process writing the same journal would not be seen here: a
//! networked store keeps its own (or none).

use std::collections::VecDeque;
use std::sync::RwLock;

use crate::model::Event;

/// How many of the newest events are kept.
pub const RECENT_EVENTS: usize = 8192;

/// A window of the newest committed events, oldest first, ids consecutive.
#[derive(Debug)]
pub struct RecentEvents {
    window: RwLock<VecDeque<Event>>,
    capacity: usize,
}

impl RecentEvents {
    /// An empty window of at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            window: RwLock::new(VecDeque::with_capacity(capacity.min(RECENT_EVENTS))),
            capacity,
        }
    }

    /// Adds a flushed group's events, in id order.
    pub fn committed(&self, events: Vec<Event>) {
        if events.is_empty() || self.capacity == 0 {
            return;
        }
        let mut window = self.window.write().unwrap_or_else(|e| e.into_inner());
        for e in events {
            if window.back().is_some_and(|last| last.id + 1 != e.id) {
                window.clear();
            }
            if window.len() == self.capacity {
                window.pop_front();
            }
            window.push_back(e);
        }
    }

    /// The events after `after`, oldest first, at most `limit` (0: all),
    /// when the window reaches back to the one right after it; `None` when
    /// the store must be read.
    pub fn after(&self, after: u64, limit: usize) -> Option<Vec<Event>> {
        let window = self.window.read().unwrap_or_else(|e| e.into_inner());
        let first = window.front()?.id;
        if after.checked_add(1)? < first {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).ok()?;
        let limit = if limit == 0 { usize::MAX } else { limit };
        Some(window.iter().skip(skip).take(limit).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, EventKind};

    fn event(id: u64) -> Event {
        Event {
            id,
            at: chrono::DateTime::UNIX_EPOCH,
            kind: EventKind::RewardGiven,
            card_id: Some(1),
            customer_id: None,
            template_id: None,
            code: None,
            progress: None,
            reward: None,
            actor: Actor::channel("test"),
        }
    }

    fn ids(events: Option<Vec<Event>>) -> Option<Vec<u64>> {
        events.map(|v| v.into_iter().map(|e| e.id).collect())
    }

    #[test]
    fn answers_only_what_it_reaches_back_to() {
        let recent = RecentEvents::new(4);
        assert_eq!(ids(recent.after(0, 0)), None, "empty: read the store");
        recent.committed((5..=7).map(event).collect());
        assert_eq!(ids(recent.after(4, 0)), Some(vec![5, 6, 7]));
        assert_eq!(ids(recent.after(5, 1)), Some(vec![6]));
        assert_eq!(ids(recent.after(7, 0)), Some(vec![]));
        assert_eq!(ids(recent.after(3, 0)), None, "event 4 is not held");
        // The oldest leave; a gap starts the window anew.
        recent.committed((8..=9).map(event).collect());
        assert_eq!(ids(recent.after(5, 0)), Some(vec![6, 7, 8, 9]));
        assert_eq!(ids(recent.after(4, 0)), None);
        recent.committed(vec![event(9)]);
        assert_eq!(ids(recent.after(8, 0)), Some(vec![9]));
        assert_eq!(ids(recent.after(7, 0)), None);
    }
}
