//! What the newest events of recently viewed cards said about campaign
//! news, so a card's view reads only the events written since it was last
//! shown (one or two after a stamp) instead of its last thirty. A card's
//! events only ever get newer ids (ids follow commit order), so what was
//! seen up to an id stays true; how far back the news lies is counted on.

use std::collections::HashMap;
use std::sync::Mutex;

/// Cards remembered at most; past that the memory starts over.
const CARDS: usize = 50_000;

/// What a card's events said, up to its newest event seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// The newest event id read (0: the card had none).
    pub newest: u64,
    /// The newest news event: its campaign and how many newer events came
    /// after it.
    pub news: Option<Heard>,
}

/// A campaign message among a card's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heard {
    /// The event that carried it.
    pub event: u64,
    /// Its campaign.
    pub campaign_id: u64,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Events of the card newer than it.
    pub after: usize,
}

/// Per card, what its newest events said.
#[derive(Default)]
pub(crate) struct NewsCache(Mutex<HashMap<u64, Seen>>);

impl NewsCache {
    pub fn get(&self, card: u64) -> Option<Seen> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&card)
            .copied()
    }

    pub fn put(&self, card: u64, seen: Seen) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CARDS && !map.contains_key(&card) {
            map.clear();
        }
        map.insert(card, seen);
    }
}
