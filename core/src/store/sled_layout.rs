//! The sled store's byte layout, as one table: each record kind's key
//! prefix, the parts of its key, how its value decodes, and the families
//! (scans and id sequences) over those prefixes. `encode_key`, `decode_key`,
//! `decode_record`, `family_prefix` and the first id of each sequence are
//! all generated from it, so a new kind is one line here.
//!
//! Ids are big-endian, so byte order is id order; a Telegram id is shifted
//! by 2⁶³ so negative ids sort first.

use super::card_chains;
use super::{Family, IdempotencyRecord, Key, Record, StoreError};
use crate::model::Event;

/// One part of a key, after its prefix byte.
trait Part: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn take(k: &[u8], at: &mut usize) -> Result<Self, StoreError>;
}

impl Part for u64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn take(k: &[u8], at: &mut usize) -> Result<Self, StoreError> {
        let slice = k.get(*at..*at + 8).ok_or_else(|| corrupt(k, "short key"))?;
        let mut b = [0u8; 8];
        b.copy_from_slice(slice);
        *at += 8;
        Ok(u64::from_be_bytes(b))
    }
}

/// A template version number, stored as eight bytes.
impl Part for u32 {
    fn put(&self, out: &mut Vec<u8>) {
        u64::from(*self).put(out)
    }
    fn take(k: &[u8], at: &mut usize) -> Result<Self, StoreError> {
        u64::take(k, at).map(|v| v as u32)
    }
}

impl Part for i64 {
    fn put(&self, out: &mut Vec<u8>) {
        ((*self as u64) ^ (1 << 63)).put(out)
    }
    fn take(k: &[u8], at: &mut usize) -> Result<Self, StoreError> {
        u64::take(k, at).map(|v| (v ^ (1 << 63)) as i64)
    }
}

/// Text runs to the end of the key.
impl Part for String {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn take(k: &[u8], at: &mut usize) -> Result<Self, StoreError> {
        let text = String::from_utf8(k[*at..].to_vec()).map_err(|e| corrupt(k, e))?;
        *at = k.len();
        Ok(text)
    }
}

/// How a value decodes.
mod value {
    use super::*;

    fn json<T: serde::de::DeserializeOwned>(k: &[u8], v: &[u8]) -> Result<T, StoreError> {
        serde_json::from_slice(v).map_err(|e| corrupt(k, e))
    }

    /// A JSON body.
    pub fn plain<T: serde::de::DeserializeOwned>(
        wrap: fn(T) -> Record,
    ) -> impl Fn(&[u8], &[u8]) -> Result<Record, StoreError> {
        move |k, v| json(k, v).map(wrap)
    }

    /// A JSON body behind its card-chain link (cards and events).
    pub fn linked<T: serde::de::DeserializeOwned>(
        wrap: fn(T) -> Record,
    ) -> impl Fn(&[u8], &[u8]) -> Result<Record, StoreError> {
        move |k, v| {
            let body = card_chains::split(v)
                .map(|(_, body)| body)
                .ok_or_else(|| corrupt(k, "shorter than its link"))?;
            json(k, body).map(wrap)
        }
    }

    /// An index whose value is the id it points at (eight bytes; 0 if not).
    pub fn index() -> impl Fn(&[u8], &[u8]) -> Result<Record, StoreError> {
        |_, v| {
            let mut b = [0u8; 8];
            if v.len() == 8 {
                b.copy_from_slice(v);
            }
            Ok(Record::Index(u64::from_be_bytes(b)))
        }
    }

    /// An index whose key's second id is the id it points at.
    pub fn second_id() -> impl Fn(&[u8], &[u8]) -> Result<Record, StoreError> {
        |k, _| u64::take(k, &mut 9).map(Record::Index)
    }
}

macro_rules! layout {
    (
        kinds { $( $prefix:literal $variant:ident ( $($part:ident : $ty:ty),* ) => $value:expr ; )* }
        families { $( $family:ident $(($arg:ident))? => $fprefix:literal $(, first $first:literal)? ; )* }
    ) => {
        /// Encodes a key.
        pub(crate) fn encode_key(key: &Key) -> Vec<u8> {
            match key {
                $( Key::$variant($($part),*) => {
                    let mut k = Vec::with_capacity(17);
                    k.push($prefix);
                    $( Part::put($part, &mut k); )*
                    k
                } )*
            }
        }

        /// Decodes a key.
        pub(super) fn decode_key(k: &[u8]) -> Result<Key, StoreError> {
            let mut at = 1;
            let _ = &mut at;
            match k.first() {
                $( Some(&$prefix) => Ok(Key::$variant($( <$ty as Part>::take(k, &mut at)? ),*)), )*
                Some(_) => Err(corrupt(k, "unknown key prefix")),
                None => Err(corrupt(k, "empty key")),
            }
        }

        /// Decodes the value stored under a key.
        pub(super) fn decode_record(k: &[u8], v: &[u8]) -> Result<Record, StoreError> {
            match k.first() {
                $( Some(&$prefix) => ($value)(k, v), )*
                _ => Err(corrupt(k, "unknown key prefix")),
            }
        }

        /// The key prefix a family's records share.
        pub(super) fn family_prefix(family: Family) -> Vec<u8> {
            match family {
                $( Family::$family $(($arg))? => {
                    #[allow(unused_mut)]
                    let mut k = vec![$fprefix];
                    $( $arg.put(&mut k); )?
                    k
                } )*
            }
        }

        /// The prefix and first id of a family's id sequence, for families that have one.
        pub(super) fn sequence(family: Family) -> Option<(u8, u64)> {
            match family {
                $( $( Family::$family => Some(($fprefix, $first)), )? )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

layout! {
    kinds {
        b'C' Card(id: u64) => value::linked(Record::Card);
        b'U' Customer(id: u64) => value::plain(Record::Customer);
        b'T' Template(id: u64) => value::plain(Record::Template);
        b'V' TemplateVersion(id: u64, version: u32) => value::plain(Record::Template);
        b'W' Voucher(id: u64) => value::plain(Record::Voucher);
        b'E' Event(id: u64) => value::linked::<Event>(Record::Event);
        b'S' Staff(id: u64) => value::plain(Record::Staff);
        b'R' Receipt(code: String) => value::plain(Record::Receipt);
        b'X' ReceiptClaim(code: String) => value::plain(Record::Claim);
        b'P' PosKey(id: u64) => value::plain(Record::PosKey);
        b'A' ApiKey(id: u64) => value::plain(Record::ApiKey);
        b'H' Webhook(id: u64) => value::plain(Record::Webhook);
        b'G' Campaign(id: u64) => value::plain(Record::Campaign);
        b'Q' CampaignBatch(campaign: u64, batch: u64) => value::plain(Record::CampaignBatch);
        b'I' Idempotency(key: String) => value::plain::<IdempotencyRecord>(Record::Idempotency);
        b'M' Meta(name: String) => value::plain(Record::Meta);
        b'c' CardOfCustomer(customer: u64, card: u64) => value::index();
        b'w' VoucherOfCard(card: u64, voucher: u64) => value::index();
        b'g' CustomerByTelegram(telegram: i64) => value::index();
        b'r' ReversalOf(event: u64) => value::index();
        b'O' Outbox(id: u64) => value::plain(Record::Outbox);
        b'o' OutboxPending(id: u64) => value::index();
        b'K' Cursor(name: String) => value::plain(Record::Cursor);
        b'Y' Pass(card: u64) => value::plain(Record::Pass);
        b'y' PassOfDevice(device: u64, card: u64) => value::second_id();
        b'z' PushOfCard(card: u64, entry: u64) => value::second_id();
        b'N' Automation(id: u64) => value::plain(Record::Automation);
        b'n' AutomationDone(automation: u64, card: u64) => value::index();
    }
    families {
        Cards => b'C', first 100_001;
        Customers => b'U', first 1;
        Templates => b'T', first 1;
        TemplateVersions(template) => b'V';
        Vouchers => b'W', first 1;
        Events => b'E';
        Staff => b'S', first 1;
        Receipts => b'R';
        PosKeys => b'P', first 1;
        ApiKeys => b'A', first 1;
        Webhooks => b'H', first 1;
        Campaigns => b'G', first 1;
        CampaignBatches(campaign) => b'Q';
        CardsOfCustomer(customer) => b'c';
        VouchersOfCard(card) => b'w';
        Batches => b'B', first 1;
        Outbox => b'O', first 1;
        OutboxPending => b'o';
        PassesOfDevice(device) => b'y';
        PushesOfCard(card) => b'z';
        Automations => b'N', first 1;
    }
}

/// Encodes a record's value (cards and events get their link in front from
/// the committer).
/// Our records contain no maps with non-string keys, so JSON cannot fail.
fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The value of an event record (before its link).
pub(super) fn encode_event(e: &Event) -> Vec<u8> {
    json(e)
}

pub(super) fn encode_record(r: &Record) -> Vec<u8> {
    match r {
        Record::Index(id) => id.to_be_bytes().to_vec(),
        Record::Card(x) => json(x),
        Record::Customer(x) => json(x),
        Record::Template(x) => json(x),
        Record::Voucher(x) => json(x),
        Record::Event(x) => encode_event(x),
        Record::Staff(x) => json(x),
        Record::Receipt(x) => json(x),
        Record::Claim(x) => json(x),
        Record::PosKey(x) => json(x),
        Record::ApiKey(x) => json(x),
        Record::Webhook(x) => json(x),
        Record::Campaign(x) => json(x),
        Record::CampaignBatch(x) => json(x),
        Record::Automation(x) => json(x),
        Record::Idempotency(x) => json(x),
        Record::Meta(x) => json(x),
        Record::Outbox(x) => json(x),
        Record::Cursor(x) => json(x),
        Record::Pass(x) => json(x),
    }
}

pub(super) fn corrupt(k: &[u8], reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(k).into_owned(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_kind_decodes_to_itself_and_sorts_by_id() {
        let keys = [
            Key::Card(100_001),
            Key::TemplateVersion(3, 7),
            Key::Receipt("AB12".into()),
            Key::CustomerByTelegram(-42),
            Key::CustomerByTelegram(42),
            Key::PushOfCard(5, 9),
            Key::Meta("format_version".into()),
        ];
        for key in &keys {
            assert_eq!(&decode_key(&encode_key(key)).expect("decodes"), key);
        }
        assert!(
            encode_key(&Key::CustomerByTelegram(-42)) < encode_key(&Key::CustomerByTelegram(42))
        );
        assert!(encode_key(&Key::Card(255)) < encode_key(&Key::Card(256)));
        assert!(encode_key(&Key::Card(7)).starts_with(&family_prefix(Family::Cards)));
        assert!(
            encode_key(&Key::VoucherOfCard(4, 8))
                .starts_with(&family_prefix(Family::VouchersOfCard(4)))
        );
        assert_eq!(sequence(Family::Cards), Some((b'C', 100_001)));
        assert_eq!(sequence(Family::Events), None);
        assert!(decode_key(b"").is_err() && decode_key(b"\x01").is_err());
        assert!(decode_key(b"C\x00").is_err(), "a short key is refused");
    }

    #[test]
    fn an_index_in_the_key_reads_its_second_id() {
        let k = encode_key(&Key::PassOfDevice(11, 100_002));
        assert_eq!(
            decode_record(&k, b"").expect("index"),
            Record::Index(100_002)
        );
    }
}
