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
