//! The logical form of a record, which backups hold: one JSON object per
//! record, `{"key": {"Card": 100001}, "value": {...}}`, with the key as
//! [`Key`] names it and the value as the record's own JSON (an index's
//! value is the id it points at). Nothing of a backend's addressing is in
//! it: no key prefixes, no card-chain links, no tables.
//!
//! Either backend's snapshot (given in the sled store's encoding, the
//! stores' common interchange) turns into this form with [`encode`], and
//! [`decode_all`] turns a whole set back, recomputing each card's journal
//! chain from the events' cards and ids, so it loads into either backend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::card_chains;
use super::sled_layout::{decode_key, decode_record, encode_key};
use super::{Key, Record, StoreError};

/// A record in the sled store's encoding: key and value.
pub type RawRecord = (Vec<u8>, Vec<u8>);

/// Per card: its record's place in a list, and its events' ids and places.
#[derive(Default)]
struct Chain {
    card: Option<usize>,
    events: Vec<(u64, usize)>,
}

/// One record in logical form.
#[derive(Serialize, Deserialize)]
struct Line {
    key: Key,
    value: serde_json::Value,
}

fn bad(reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        key: "a backup record".into(),
        reason: reason.to_string(),
    }
}

/// The logical form of one record given in the sled store's encoding.
pub fn encode(k: &[u8], v: &[u8]) -> Result<Vec<u8>, StoreError> {
    let key = decode_key(k)?;
    let value: serde_json::Value = if key.is_index() {
        match decode_record(k, v)? {
            Record::Index(id) => id.into(),
            _ => return Err(bad("an index without an id")),
        }
    } else {
        let body = if matches!(key, Key::Card(_) | Key::Event(_)) {
            card_chains::split(v)
                .map(|(_, body)| body)
                .ok_or_else(|| bad("shorter than its link"))?
        } else {
            v
        };
        serde_json::from_slice(body).map_err(|e| bad(format!("{key:?}: {e}")))?
    };
    serde_json::to_vec(&Line { key, value }).map_err(bad)
}

/// Turns records in logical form back into the sled store's encoding, each
/// decoded (a damaged one is refused here, before anything is loaded), with
/// every card's journal chain linked again in event-id order.
pub fn decode_all(lines: impl IntoIterator<Item = Vec<u8>>) -> Result<Vec<RawRecord>, StoreError> {
    let mut out = Vec::new();
    let mut cards: BTreeMap<u64, Chain> = BTreeMap::new();
    for line in lines {
        let Line { key, value } = serde_json::from_slice(&line).map_err(bad)?;
        let k = encode_key(&key);
        let v = if key.is_index() {
            let id = value
                .as_u64()
                .ok_or_else(|| bad(format!("{key:?}: an index needs an id")))?;
            id.to_be_bytes().to_vec()
        } else {
            serde_json::to_vec(&value).map_err(bad)?
        };
        let linked = match &key {
            Key::Card(_) | Key::Event(_) => card_chains::join(0, &v),
            _ => v,
        };
        match decode_record(&k, &linked).map_err(|e| bad(format!("{key:?}: {e}")))? {
            Record::Card(card) => cards.entry(card.id).or_default().card = Some(out.len()),
            Record::Event(event) => {
                if let Some(card) = event.card_id {
                    cards
                        .entry(card)
                        .or_default()
                        .events
                        .push((event.id, out.len()));
                }
            }
            _ => {}
        }
        out.push((k, linked));
    }
    for Chain { card, mut events } in cards.into_values() {
        events.sort_unstable();
        let mut previous = 0u64;
        for (id, at) in events {
            out[at].1[..card_chains::LINK_LEN].copy_from_slice(&previous.to_be_bytes());
            previous = id;
        }
        if let Some(at) = card {
            out[at].1[..card_chains::LINK_LEN].copy_from_slice(&previous.to_be_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::{Actor, Card, Event, EventKind, Template};

    fn event(id: u64, card: Option<u64>) -> Vec<u8> {
        serde_json::to_vec(&Event {
            id,
            at: chrono::Utc::now(),
            kind: EventKind::RewardGiven,
            card_id: card,
            customer_id: None,
            template_id: None,
            code: None,
            progress: None,
            reward: None,
            actor: Actor::channel("test"),
        })
        .expect("json")
    }

    fn card(id: u64) -> Vec<u8> {
        let template: Template = serde_json::from_value(serde_json::json!({
            "id": 1, "version": 1, "name": "Coffee", "business_name": "Shop",
            "stamps_required": 8, "reward": {"kind": "simple", "description": "A coffee"},
            "created_at": "2026-01-01T00:00:00Z",
        }))
        .expect("template fixture");
        serde_json::to_vec(&Card::new(id, &template, 1, chrono::Utc::now(), None, None))
            .expect("json")
    }

    #[test]
    fn records_round_trip_and_chains_are_linked_again_in_id_order() {
        let card = card(7);
        // Given out of order, as a database may hand them over.
        let raw = [
            (
                encode_key(&Key::Event(9)),
                card_chains::join(5, &event(9, Some(7))),
            ),
            (encode_key(&Key::Card(7)), card_chains::join(9, &card)),
            (
                encode_key(&Key::Event(5)),
                card_chains::join(0, &event(5, Some(7))),
            ),
            (
                encode_key(&Key::Event(6)),
                card_chains::join(0, &event(6, None)),
            ),
            (
                encode_key(&Key::CardOfCustomer(3, 7)),
                7u64.to_be_bytes().to_vec(),
            ),
            (encode_key(&Key::Meta("last_batch".into())), b"4".to_vec()),
        ];
        let lines: Vec<Vec<u8>> = raw
            .iter()
            .map(|(k, v)| encode(k, v))
            .collect::<Result<_, _>>()
            .expect("encodes");
        let text = String::from_utf8(lines[1].clone()).expect("utf8");
        assert!(text.starts_with(r#"{"key":{"Card":7},"value":"#), "{text}");
        let back = decode_all(lines).expect("decodes");
        let link = |k: &Key| {
            let (_, v) = back
                .iter()
                .find(|(key, _)| *key == encode_key(k))
                .expect("there");
            card_chains::split(v).expect("link").0
        };
        assert_eq!(
            link(&Key::Card(7)),
            9,
            "the card points at its newest event"
        );
        assert_eq!(link(&Key::Event(9)), 5);
        assert_eq!(link(&Key::Event(5)), 0);
        assert_eq!(link(&Key::Event(6)), 0, "an event of no card ends at once");
        assert_eq!(back[4], raw[4], "an index keeps its id");
        assert_eq!(back[5], raw[5]);
    }

    #[test]
    fn a_damaged_record_is_refused() {
        let line = br#"{"key":{"Card":7},"value":{"id":"seven"}}"#.to_vec();
        assert!(decode_all([line]).is_err());
        assert!(decode_all([b"{not json".to_vec()]).is_err());
        let index = br#"{"key":{"ReversalOf":7},"value":"x"}"#.to_vec();
        assert!(decode_all([index]).is_err());
    }
}
