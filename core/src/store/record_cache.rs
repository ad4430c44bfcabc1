//! Decoded customer records, kept in memory between reads.
//!
//! Every card view names the card's customer (name, language), so every API
//! stamp read and decoded one customer record from sled: about 5 % of
//! `serve`'s time under API load (BENCHMARKS.md, run 29). Customers change
//! rarely, so the store keeps the records it has decoded and the committer
//! drops a key once a group that wrote or deleted it is applied, before any
//! caller of that group hears back.
//!
//! A read racing a write must not put the old value back after the
//! committer dropped it: each read notes the cache's generation before it
//! reads the store, and its result is kept only if no write came in
//! between. A second process writing the same store would not be seen
//! here: a networked store keeps its own (or none).

use std::collections::HashMap;
use std::sync::Mutex;

use super::records::Record;

/// How many records are kept before the cache starts afresh.
pub const CACHED_RECORDS: usize = 100_000;

/// Encoded keys that are cached: customers ('U').
pub fn cacheable(key: &[u8]) -> bool {
    key.first() == Some(&b'U')
}

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    records: HashMap<Vec<u8>, Record>,
}

/// Decoded records by encoded key.
#[derive(Debug)]
pub struct RecordCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl RecordCache {
    /// An empty cache of at most `capacity` records (0: none kept).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity,
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached record, or the generation a read of the store must
    /// present to [`RecordCache::keep`].
    pub fn get(&self, key: &[u8]) -> Result<Record, u64> {
        let inner = self.inner();
        match inner.records.get(key) {
            Some(record) => Ok(record.clone()),
            None => Err(inner.generation),
        }
    }

    /// Keeps a record read from the store, unless a write was applied
    /// since the read began (its generation is no longer current).
    pub fn keep(&self, generation: u64, key: &[u8], record: &Record) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        if inner.records.len() >= self.capacity {
            inner.records.clear();
        }
        inner.records.insert(key.to_vec(), record.clone());
    }

    /// Forgets these keys: a group that wrote them was applied (or may have
    /// been). Reads begun before this do not keep what they found.
    pub fn written<'a>(&self, keys: impl IntoIterator<Item = &'a [u8]>) {
        let mut inner = self.inner();
        inner.generation += 1;
        for key in keys {
            inner.records.remove(key);
        }
    }

    /// Forgets everything (the database was swapped or rewritten).
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;

    fn customer(name: &str) -> Record {
        Record::Customer(Customer {
            id: 7,
            name: name.into(),
            ..Customer::default()
        })
    }

    fn name(r: Record) -> String {
        match r {
            Record::Customer(c) => c.name,
            _ => String::new(),
        }
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = RecordCache::new(10);
        let key = b"U1".as_slice();
        let Err(generation) = cache.get(key) else {
            panic!("an empty cache answered");
        };
        // The committer applies a write of this key while the read runs.
        cache.written([key]);
        cache.keep(generation, key, &customer("old"));
        assert!(cache.get(key).is_err(), "the stale read was kept");
        let Err(generation) = cache.get(key) else {
            panic!("nothing was kept");
        };
        cache.keep(generation, key, &customer("new"));
        assert_eq!(cache.get(key).map(name), Ok("new".to_string()));
    }

    #[test]
    fn a_write_drops_the_key_and_a_full_cache_starts_afresh() {
        let cache = RecordCache::new(2);
        for k in [b"U1", b"U2"] {
            let Err(g) = cache.get(k) else { panic!() };
            cache.keep(g, k, &customer("a"));
        }
        assert!(cache.get(b"U1").is_ok() && cache.get(b"U2").is_ok());
        cache.written([b"U1".as_slice()]);
        assert!(cache.get(b"U1").is_err());
        assert!(cache.get(b"U2").is_ok());
        let Err(g) = cache.get(b"U3") else { panic!() };
        cache.keep(g, b"U3", &customer("c"));
        let Err(g) = cache.get(b"U4") else { panic!() };
        cache.keep(g, b"U4", &customer("d"));
        assert!(cache.get(b"U4").is_ok());
        assert!(cache.get(b"U2").is_err(), "a full cache kept growing");
        cache.clear();
        assert!(cache.get(b"U4").is_err());
    }
}
