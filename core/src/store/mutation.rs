//! What one atomic, durable write consists of.

use super::{Key, Record};
use crate::model::NewEvent;

/// A write whose record needs the ids of the mutation's events.
pub type Derived = Box<dyn FnOnce(&[u64]) -> (Key, Record) + Send>;

/// A precondition checked atomically at commit, in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The key must not exist (e.g. a receipt claim, an idempotency key).
    Absent(Key),
    /// The card must be at this version: its newest journal event is
    /// `newest_event` (0: it has none yet). A write computed from a card
    /// names the version it read, and is refused (`Conflict`) when another
    /// writer — another process, once several serve one shop — changed the
    /// card since. A card that does not exist fails it.
    CardAt {
        /// The card.
        card: u64,
        /// The id of its newest event when the write was computed.
        newest_event: u64,
    },
    /// The card's record must still be held on these platforms: a card
    /// first opened in Telegram or Google Wallet is written without a
    /// journal event, so its version does not move; a write computed from
    /// the card before that would drop the platform.
    CardHeldOn {
        /// The card.
        card: u64,
        /// Its platforms when the write was computed.
        platforms: std::collections::BTreeSet<crate::model::Platform>,
    },
    /// A template's latest version must still be this one: a write computed
    /// with a template that another node has since saved anew is refused.
    TemplateAt {
        /// The template.
        template: u64,
        /// Its version the write was computed with.
        version: u32,
    },
    /// A journal consumer's cursor must still be where this process last
    /// stored it: a consumer that lost its duty to another node (which
    /// moved the cursor on) cannot write what that node writes too.
    CursorAt {
        /// The consumer.
        name: String,
        /// Where its cursor was last stored.
        at: u64,
    },
}

/// One atomic, durable write.
#[derive(Default)]
pub struct Mutation {
    /// Preconditions; if one fails nothing is written.
    pub guards: Vec<Guard>,
    /// Records to write.
    pub puts: Vec<(Key, Record)>,
    /// Keys to delete.
    pub deletes: Vec<Key>,
    /// Journal events, in order; the store assigns their ids.
    pub events: Vec<NewEvent>,
    /// Records built from the assigned event ids.
    pub derived: Vec<Derived>,
}

impl Mutation {
    /// An empty mutation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record to write.
    pub fn put(&mut self, key: Key, record: Record) -> &mut Self {
        self.puts.push((key, record));
        self
    }

    /// Adds a journal event; returns its index in the mutation.
    pub fn event(&mut self, event: NewEvent) -> usize {
        self.events.push(event);
        self.events.len() - 1
    }

    /// Adds a precondition that a key is absent.
    pub fn guard_absent(&mut self, key: Key) -> &mut Self {
        self.guards.push(Guard::Absent(key));
        self
    }

    /// Adds a precondition that a card is still at a version (see
    /// [`Guard::CardAt`]).
    pub fn guard_card_at(&mut self, card: u64, newest_event: u64) -> &mut Self {
        self.guards.push(Guard::CardAt { card, newest_event });
        self
    }

    /// Adds a precondition that a card is still held on `platforms` (see
    /// [`Guard::CardHeldOn`]).
    pub fn guard_card_held_on(
        &mut self,
        card: u64,
        platforms: std::collections::BTreeSet<crate::model::Platform>,
    ) -> &mut Self {
        self.guards.push(Guard::CardHeldOn { card, platforms });
        self
    }

    /// Adds a precondition that a template's latest version is still
    /// `version` (see [`Guard::TemplateAt`]).
    pub fn guard_template_at(&mut self, template: u64, version: u32) -> &mut Self {
        self.guards.push(Guard::TemplateAt { template, version });
        self
    }

    /// Adds a precondition that a consumer's cursor is still at `at` (see
    /// [`Guard::CursorAt`]).
    pub fn guard_cursor_at(&mut self, name: &str, at: u64) -> &mut Self {
        self.guards.push(Guard::CursorAt {
            name: name.to_string(),
            at,
        });
        self
    }

    /// Adds a record built from the assigned event ids.
    pub fn derive(
        &mut self,
        f: impl FnOnce(&[u64]) -> (Key, Record) + Send + 'static,
    ) -> &mut Self {
        self.derived.push(Box::new(f));
        self
    }
}

/// The outcome of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Committed {
    /// Ids assigned to the mutation's events, in order.
    pub event_ids: Vec<u64>,
}
