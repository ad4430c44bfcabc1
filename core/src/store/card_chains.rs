//! Each card's journal as a chain (data format 3).
//!
//! A stored card record starts with the id of the card's newest journal
//! event, and a stored event of a card starts with the id of the card's
//! event before it (0 ends the chain): eight big-endian bytes, then the JSON
//! body. Reading a card's history walks the chain from the card record,
//! newest first.
//!
//! Format 2 kept an index key per event of a card instead: one more write
//! into a random place of the tree for every stamp, which cost about a third
//! of the store's work per stamp (BENCHMARKS.md, run 20). The links cost no
//! extra write: the committer sets them while it writes the card record and
//! the event anyway.
//!
//! Only the committer writes links, so they agree with commit order however
//! many writers (card actors, consumers, the shop) add events for a card.

use std::collections::{HashMap, HashSet};

use super::StoreError;

/// Bytes of the link in front of a card record or an event.
pub const LINK_LEN: usize = 8;

/// The committer remembers the newest event of at most this many cards; a
/// card it forgot is read from the store.
const REMEMBERED: usize = 200_000;

/// Splits a stored value into its link and its JSON body.
pub fn split(value: &[u8]) -> Option<(u64, &[u8])> {
    let link = value.get(..LINK_LEN)?;
    let mut b = [0u8; LINK_LEN];
    b.copy_from_slice(link);
    Some((u64::from_be_bytes(b), value.get(LINK_LEN..)?))
}

/// A stored value: the link, then the body.
pub fn join(link: u64, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(LINK_LEN + body.len());
    v.extend_from_slice(&link.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The key of a card record.
pub fn card_key(card: u64) -> Vec<u8> {
    super::sled_layout::encode_key(&super::Key::Card(card))
}

/// The card of a card-record key, if it is one (the inverse of
/// [`card_key`], cheap enough for every key the committer writes).
pub fn card_of_key(key: &[u8]) -> Option<u64> {
    match key {
        [b'C', id @ ..] if id.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(id);
            Some(u64::from_be_bytes(b))
        }
        _ => None,
    }
}

/// A card record as one commit group leaves it.
struct Pending {
    body: Vec<u8>,
    newest: u64,
}

/// The committer's view of the chains: what it remembers across groups,
/// and the card records the current group writes.
#[derive(Default)]
pub struct Chains {
    newest: HashMap<u64, u64>,
    group: HashMap<u64, Pending>,
    /// Cards the current group deleted.
    gone: HashSet<u64>,
}

impl Chains {
    /// The card's newest event and its record's body, from this group, the
    /// memory or the store; `None` when the card does not exist.
    fn pending(&mut self, db: &sled::Db, card: u64) -> Result<Option<&mut Pending>, StoreError> {
        use std::collections::hash_map::Entry;
        Ok(match self.group.entry(card) {
            Entry::Occupied(p) => Some(p.into_mut()),
            Entry::Vacant(slot) => match db.get(card_key(card)).map_err(io)? {
                Some(stored) => {
                    let (newest, body) = split(&stored).ok_or_else(|| short(card))?;
                    Some(slot.insert(Pending {
                        body: body.to_vec(),
                        newest,
                    }))
                }
                None => None,
            },
        })
    }

    /// The card's newest event id as the group leaves it so far (0: none);
    /// `None` when the card does not exist (a card version guard).
    pub fn newest(&mut self, db: &sled::Db, card: u64) -> Result<Option<u64>, StoreError> {
        if self.gone.contains(&card) {
            return Ok(None);
        }
        if let Some(p) = self.group.get(&card) {
            return Ok(Some(p.newest));
        }
        if let Some(n) = self.newest.get(&card) {
            return Ok(Some(*n));
        }
        match db.get(card_key(card)).map_err(io)? {
            Some(stored) => Ok(Some(split(&stored).ok_or_else(|| short(card))?.0)),
            None => Ok(None),
        }
    }

    /// A card record written in this group (its JSON body).
    pub fn put_card(&mut self, db: &sled::Db, card: u64, body: Vec<u8>) -> Result<(), StoreError> {
        let newest = match self.group.get(&card) {
            Some(p) => p.newest,
            None => match self.newest.get(&card) {
                Some(n) => *n,
                None => match db.get(card_key(card)).map_err(io)? {
                    Some(stored) => split(&stored).ok_or_else(|| short(card))?.0,
                    None => 0,
                },
            },
        };
        self.gone.remove(&card);
        self.group.insert(card, Pending { body, newest });
        Ok(())
    }

    /// A card record deleted in this group.
    pub fn delete_card(&mut self, card: u64) {
        self.group.remove(&card);
        self.newest.remove(&card);
        self.gone.insert(card);
    }

    /// Links event `id` of `card` into its chain; returns the card's event
    /// before it (0 when none, or when the card does not exist).
    pub fn link(&mut self, db: &sled::Db, card: u64, id: u64) -> Result<u64, StoreError> {
        Ok(match self.pending(db, card)? {
            Some(p) => std::mem::replace(&mut p.newest, id),
            None => 0,
        })
    }

    /// Adds the card records this group writes, with their links.
    pub fn finish(&mut self, batch: &mut sled::Batch) {
        for (card, p) in &self.group {
            batch.insert(card_key(*card), join(p.newest, &p.body));
        }
    }

    /// After the group's write: remember its cards' newest events if it was
    /// durable; forget them otherwise.
    pub fn settle(&mut self, durable: bool) {
        self.gone.clear();
        if durable {
            if self.newest.len() + self.group.len() > REMEMBERED {
                self.newest.clear();
            }
            for (card, p) in self.group.drain() {
                self.newest.insert(card, p.newest);
            }
        } else {
            for card in self.group.keys() {
                self.newest.remove(card);
            }
            self.group.clear();
        }
    }
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

fn short(card: u64) -> StoreError {
    StoreError::Corrupt {
        key: format!("card {card}"),
        reason: "the record is shorter than its link".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_splits_into_its_link_and_body() {
        let v = join(42, b"{\"a\":1}");
        assert_eq!(split(&v), Some((42, &b"{\"a\":1}"[..])));
        assert_eq!(split(b"1234567"), None);
        assert_eq!(card_of_key(&card_key(100_001)), Some(100_001));
        assert_eq!(card_of_key(b"C12"), None);
        assert_eq!(card_of_key(&[b'E', 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn events_chain_in_commit_order_and_a_failed_group_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let mut chains = Chains::default();
        // A card issued with its first event, then two more in the group.
        chains.put_card(&db, 7, b"{}".to_vec()).unwrap();
        assert_eq!(chains.link(&db, 7, 10).unwrap(), 0);
        assert_eq!(chains.link(&db, 7, 11).unwrap(), 10);
        // An event of a card that does not exist is not linked.
        assert_eq!(chains.link(&db, 8, 12).unwrap(), 0);
        let mut batch = sled::Batch::default();
        chains.finish(&mut batch);
        db.apply_batch(batch).unwrap();
        chains.settle(true);
        assert_eq!(split(&db.get(card_key(7)).unwrap().unwrap()).unwrap().0, 11);
        assert!(db.get(card_key(8)).unwrap().is_none());

        // A later group continues the chain, also after forgetting.
        assert_eq!(chains.link(&db, 7, 13).unwrap(), 11);
        chains.settle(false);
        assert_eq!(chains.link(&db, 7, 13).unwrap(), 11, "read from the store");
        chains.put_card(&db, 7, b"{\"x\":1}".to_vec()).unwrap();
        let mut batch = sled::Batch::default();
        chains.finish(&mut batch);
        db.apply_batch(batch).unwrap();
        chains.settle(true);
        assert_eq!(
            split(&db.get(card_key(7)).unwrap().unwrap()),
            Some((13, &b"{\"x\":1}"[..]))
        );
    }
}
