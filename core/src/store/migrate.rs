//! Data-format migrations. A data folder records its format version; a
//! newer binary brings it up to [`FORMAT_VERSION`](super::FORMAT_VERSION)
//! one step at a time (the binary backs the folder up first), an older
//! binary refuses it.

use super::StoreError;

/// One step of the data format.
pub struct Migration {
    /// The version this step produces (it applies to version `to - 1`).
    pub to: u32,
    /// What it changes, for the upgrade message.
    pub what: &'static str,
    /// Rewrites the records.
    pub apply: fn(&sled::Db) -> Result<(), StoreError>,
}

/// Every step so far, in order. Format 1 is the first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 2,
        what: "campaign deliveries and marketing touches kept per planning batch",
        apply: campaign_batches,
    },
    Migration {
        to: 3,
        what: "each card's journal linked from its card record instead of an index key per event",
        apply: card_chains,
    },
];

/// The big-endian id at `at` in a key (0 when the key is short).
fn id_at(k: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(s) = k.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    u64::from_be_bytes(b)
}

/// Format 2: a campaign's outbox entries (`q` campaign entry) and its
/// marketing touches (`t` customer time·campaign) become one planning-batch
/// record per campaign (`Q` campaign 0).
fn campaign_batches(db: &sled::Db) -> Result<(), StoreError> {
    use std::collections::BTreeMap;

    use crate::model::CampaignBatch;

    let mut batches: BTreeMap<u64, (CampaignBatch, Option<i64>)> = BTreeMap::new();
    let mut old = Vec::new();
    for kv in db.scan_prefix([b'q']) {
        let (k, _) = kv.map_err(io)?;
        let b = batches.entry(id_at(&k, 1)).or_default();
        b.0.entries.push(id_at(&k, 9));
        old.push(k);
    }
    for kv in db.scan_prefix([b't']) {
        let (k, _) = kv.map_err(io)?;
        // The touch key: unix ms × 1,000,000 + campaign.
        let touch = id_at(&k, 9);
        let ms = i64::try_from(touch / 1_000_000).unwrap_or(0);
        let b = batches.entry(touch % 1_000_000).or_default();
        b.0.customers.push(id_at(&k, 1));
        b.1 = Some(b.1.map_or(ms, |m| m.min(ms)));
        old.push(k);
    }
    let mut write = sled::Batch::default();
    for (campaign, (mut batch, ms)) in batches {
        batch.customers.sort_unstable();
        batch.customers.dedup();
        if let Some(at) = ms.and_then(chrono::DateTime::from_timestamp_millis) {
            batch.at = at;
        }
        let mut key = vec![b'Q'];
        key.extend_from_slice(&campaign.to_be_bytes());
        key.extend_from_slice(&0u64.to_be_bytes());
        let value = serde_json::to_vec(&batch).map_err(|e| StoreError::Io(e.to_string()))?;
        write.insert(key, value);
    }
    for k in old {
        write.remove(k);
    }
    db.apply_batch(write).map_err(io)
}

/// Format 3: a card record and each event of a card start with a link to
/// the card's newest / previous event (`card_chains`), and the index key
/// per event of a card (`e` card event) goes.
///
/// Written in chunks, and safe to run again after an interruption: a body
/// still without its link starts with `{`, a linked value with a zero byte
/// (ids stay below 2^56), and the links are worked out afresh each time.
fn card_chains(db: &sled::Db) -> Result<(), StoreError> {
    use std::collections::HashMap;

    use super::card_chains::{join, split};

    #[derive(serde::Deserialize)]
    struct OfCard {
        card_id: Option<u64>,
    }
    fn body(v: &[u8]) -> &[u8] {
        if v.first() == Some(&b'{') {
            v
        } else {
            split(v).map_or(v, |(_, b)| b)
        }
    }

    let mut newest: HashMap<u64, u64> = HashMap::new();
    let mut write = Chunked::new(db);
    for kv in db.scan_prefix([b'E']) {
        let (k, v) = kv.map_err(io)?;
        let event = body(&v);
        let card = serde_json::from_slice::<OfCard>(event)
            .map_err(|e| StoreError::Corrupt {
                key: format!("event {}", id_at(&k, 1)),
                reason: e.to_string(),
            })?
            .card_id;
        let prev = card
            .and_then(|c| newest.insert(c, id_at(&k, 1)))
            .unwrap_or(0);
        let linked = join(prev, event);
        if linked != *v {
            write.insert(k.to_vec(), linked)?;
        }
    }
    for kv in db.scan_prefix([b'C']) {
        let (k, v) = kv.map_err(io)?;
        let linked = join(newest.get(&id_at(&k, 1)).copied().unwrap_or(0), body(&v));
        if linked != *v {
            write.insert(k.to_vec(), linked)?;
        }
    }
    for kv in db.scan_prefix([b'e']) {
        let (k, _) = kv.map_err(io)?;
        write.remove(k.to_vec())?;
    }
    write.done()
}

/// A migration's writes, applied every 10,000.
struct Chunked<'a> {
    db: &'a sled::Db,
    batch: sled::Batch,
    n: usize,
}

impl<'a> Chunked<'a> {
    fn new(db: &'a sled::Db) -> Self {
        Self {
            db,
            batch: sled::Batch::default(),
            n: 0,
        }
    }

    fn insert(&mut self, k: Vec<u8>, v: Vec<u8>) -> Result<(), StoreError> {
        self.batch.insert(k, v);
        self.count()
    }

    fn remove(&mut self, k: Vec<u8>) -> Result<(), StoreError> {
        self.batch.remove(k);
        self.count()
    }

    fn count(&mut self) -> Result<(), StoreError> {
        self.n += 1;
        if self.n.is_multiple_of(10_000) {
            self.db
                .apply_batch(std::mem::take(&mut self.batch))
                .map_err(io)?;
        }
        Ok(())
    }

    fn done(self) -> Result<(), StoreError> {
        self.db.apply_batch(self.batch).map_err(io)
    }
}

const KEY: &[u8] = b"Mformat_version";

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The format version recorded in a database (`None` for a new one).
pub fn format_of(db: &sled::Db) -> Result<Option<u32>, StoreError> {
    match db.get(KEY).map_err(io)? {
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: "format_version".into(),
                reason: e.to_string(),
            }),
        None => Ok(None),
    }
}

/// Records a format version durably.
pub fn set_format(db: &sled::Db, version: u32) -> Result<(), StoreError> {
    db.insert(KEY, serde_json::to_vec(&version).unwrap_or_default())
        .map_err(io)?;
    db.flush().map_err(io)?;
    Ok(())
}

/// Applies the steps after the database's version, in order, recording the
/// version after each; returns what was done.
pub fn migrate(db: &sled::Db, steps: &[Migration]) -> Result<Vec<&'static str>, StoreError> {
    let start = format_of(db)?.unwrap_or(1);
    let mut version = start;
    let mut done = Vec::new();
    for step in steps.iter().filter(|s| s.to > start) {
        if step.to != version + 1 {
            return Err(StoreError::Io(format!(
                "no migration from format {version} to {}",
                step.to
            )));
        }
        (step.apply)(db)?;
        set_format(db, step.to)?;
        version = step.to;
        done.push(step.what);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename_shop(db: &sled::Db) -> Result<(), StoreError> {
        if let Some(v) = db.remove(b"Mold_name").map_err(io)? {
            db.insert(b"Mshop_name", v).map_err(io)?;
        }
        Ok(())
    }

    fn key(prefix: u8, a: u64, b: u64) -> Vec<u8> {
        let mut k = vec![prefix];
        k.extend_from_slice(&a.to_be_bytes());
        k.extend_from_slice(&b.to_be_bytes());
        k
    }

    #[test]
    fn format_2_folds_campaign_index_keys_into_one_batch_per_campaign() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("sled");
        set_format(&db, 1).expect("v1");
        let ms = 1_790_000_000_000u64;
        // Campaign 3: entries 10 and 12 to customers 7 and 8; campaign 4:
        // entry 11 to customer 7, a second later.
        for (c, e) in [(3, 10), (3, 12), (4, 11)] {
            db.insert(key(b'q', c, e), e.to_be_bytes().to_vec())
                .expect("q");
        }
        for (cu, at, c) in [(7, ms, 3), (8, ms + 5, 3), (7, ms + 1000, 4)] {
            db.insert(key(b't', cu, at * 1_000_000 + c), c.to_be_bytes().to_vec())
                .expect("t");
        }
        db.insert(b"Mshop", b"1".to_vec()).expect("other");
        let done = migrate(&db, &MIGRATIONS[..1]).expect("migrate");
        assert_eq!(done.len(), 1);
        assert_eq!(format_of(&db).expect("format"), Some(2));
        let batch = |c: u64| -> crate::model::CampaignBatch {
            let v = db.get(key(b'Q', c, 0)).expect("get").expect("batch");
            serde_json::from_slice(&v).expect("json")
        };
        let three = batch(3);
        assert_eq!(three.entries, vec![10, 12]);
        assert_eq!(three.customers, vec![7, 8]);
        assert_eq!(three.at.timestamp_millis(), ms as i64, "the earliest touch");
        let four = batch(4);
        assert_eq!((four.entries, four.customers), (vec![11], vec![7]));
        assert_eq!(four.at.timestamp_millis(), (ms + 1000) as i64);
        assert_eq!(db.scan_prefix([b'q']).count(), 0);
        assert_eq!(db.scan_prefix([b't']).count(), 0);
        assert!(db.get(b"Mshop").expect("get").is_some(), "the rest stays");
    }

    fn linked(db: &sled::Db, k: Vec<u8>) -> (u64, serde_json::Value) {
        let v = db.get(k).expect("get").expect("record");
        let (link, body) = crate::store::card_chains::split(&v).expect("linked");
        (link, serde_json::from_slice(body).expect("json"))
    }

    #[test]
    fn format_3_links_each_cards_events_and_drops_the_index_and_can_run_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("sled");
        set_format(&db, 2).expect("v2");
        let one = |p: u8, a: u64| {
            let mut k = vec![p];
            k.extend_from_slice(&a.to_be_bytes());
            k
        };
        for card in [100_001u64, 100_002] {
            db.insert(one(b'C', card), format!("{{\"id\":{card}}}").into_bytes())
                .expect("card");
        }
        // Events 1..=5: cards 1, 2, none, 1, 1.
        for (id, card) in [
            (1u64, "100001"),
            (2, "100002"),
            (3, "null"),
            (4, "100001"),
            (5, "100001"),
        ] {
            db.insert(
                one(b'E', id),
                format!("{{\"id\":{id},\"card_id\":{card}}}").into_bytes(),
            )
            .expect("event");
            if card != "null" {
                db.insert(key(b'e', card.parse().expect("card"), id), Vec::new())
                    .expect("index");
            }
        }
        let steps = &MIGRATIONS[1..];
        assert_eq!(migrate(&db, steps).expect("migrate").len(), 1);
        assert_eq!(format_of(&db).expect("format"), Some(3));
        let check = |db: &sled::Db| {
            assert_eq!(linked(db, one(b'C', 100_001)).0, 5);
            assert_eq!(linked(db, one(b'C', 100_002)).0, 2);
            let links: Vec<u64> = (1..=5).map(|id| linked(db, one(b'E', id)).0).collect();
            assert_eq!(links, vec![0, 0, 0, 1, 4]);
            assert_eq!(linked(db, one(b'E', 4)).1["id"], 4, "the body is kept");
            assert_eq!(db.scan_prefix([b'e']).count(), 0);
        };
        check(&db);
        // Interrupted half-way and run again: the same result.
        db.insert(one(b'E', 4), b"{\"id\":4,\"card_id\":100001}".to_vec())
            .expect("half");
        set_format(&db, 2).expect("v2");
        migrate(&db, steps).expect("again");
        check(&db);
    }

    fn fail(_: &sled::Db) -> Result<(), StoreError> {
        Err(StoreError::Io("step failed".into()))
    }

    #[test]
    fn steps_run_in_order_once_and_record_the_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("sled");
        set_format(&db, 1).expect("v1");
        db.insert(b"Mold_name", b"\"Corner\"".to_vec())
            .expect("insert");
        let steps = [Migration {
            to: 2,
            what: "rename old_name",
            apply: rename_shop,
        }];
        assert_eq!(
            migrate(&db, &steps).expect("migrate"),
            vec!["rename old_name"]
        );
        assert_eq!(format_of(&db).expect("format"), Some(2));
        assert!(db.get(b"Mshop_name").expect("get").is_some());
        assert!(migrate(&db, &steps).expect("again").is_empty(), "runs once");

        // A failing step leaves the version where it was.
        let failing = [Migration {
            to: 3,
            what: "fails",
            apply: fail,
        }];
        assert!(migrate(&db, &failing).is_err());
        assert_eq!(format_of(&db).expect("format"), Some(2));
    }
}
