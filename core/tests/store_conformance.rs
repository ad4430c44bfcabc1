//! One store conformance suite, run against both backends: sled in a
//! temporary folder, and PostgreSQL on a real server the test process
//! starts (one empty database per store). Every `Store` method, each guard,
//! commit order under concurrent writers, card chains and the card version
//! guard, reopening, one writer per store, and a whole shop copied from one
//! backend to the other and back.

mod backend;
mod coffee;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::clock::ManualClock;
use stampcard_core::model::{Actor, EventKind, NewEvent};
use stampcard_core::settings::ShopSettings;
use stampcard_core::store::{
    Family, Key, Mutation, PgOptions, PgStore, Record, Scan, SledOptions, SledStore, Store,
    StoreError,
};

/// Where a store lives: a folder or a database.
#[derive(Clone)]
enum Place {
    Sled(Arc<tempfile::TempDir>),
    Pg(String),
}

impl Place {
    fn new(pg: bool) -> Self {
        if pg {
            Place::Pg(backend::postgres::shared().database())
        } else {
            Place::Sled(Arc::new(tempfile::tempdir().expect("tempdir")))
        }
    }

    fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            Place::Sled(dir) => Arc::new(SledStore::open(dir.path(), SledOptions::default())?),
            Place::Pg(url) => Arc::new(PgStore::open(url, PgOptions::default())?),
        })
    }

    /// Opens, waiting while a store just closed lets go.
    fn reopen(&self) -> Arc<dyn Store> {
        for _ in 0..50 {
            match self.open() {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(100))
                }
                other => return other.expect("open"),
            }
        }
        panic!("the store stayed locked")
    }

    async fn shop(&self, store: Arc<dyn Store>) -> Shop {
        let clock = Arc::new(ManualClock::new(
            "2026-03-02T10:00:00Z".parse().expect("time"),
        ));
        Shop::with_store(store, ShopSettings::for_tests(), clock)
            .await
            .expect("shop")
    }
}

/// Runs one conformance check against sled and against PostgreSQL.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sled {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Place::new(false)).await
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Place::new(true)).await
            })*
        }
    };
}

both!(
    records_read_back_as_written_and_scans_page,
    an_absent_guard_refuses_exactly_once_and_writes_nothing,
    the_card_version_guard_refuses_stale_and_missing_cards,
    the_cursor_guard_refuses_a_cursor_moved_by_another_writer,
    event_ids_follow_commit_order_under_concurrent_writers,
    ids_come_from_sequences_and_survive_a_reopen,
    a_second_writer_is_refused,
    a_shop_copied_to_the_other_backend_reads_the_same,
);

fn event(card: Option<u64>, note: &str) -> NewEvent {
    NewEvent {
        at: "2026-03-02T10:00:00Z".parse().expect("time"),
        kind: EventKind::StampRefused {
            count: 1,
            reason: note.into(),
            flagged: false,
            refusal: None,
        },
        card_id: card,
        customer_id: None,
        template_id: None,
        code: None,
        progress: None,
        reward: None,
        actor: Actor::channel("conformance"),
    }
}

fn meta(name: &str, value: i64) -> (Key, Record) {
    (
        Key::Meta(name.into()),
        Record::Meta(serde_json::json!(value)),
    )
}

async fn records_read_back_as_written_and_scans_page(place: Place) {
    let store = place.open().expect("open");
    let mut m = Mutation::new();
    let (k, r) = meta("probe", 7);
    m.put(k.clone(), r.clone());
    for id in 1..=10 {
        m.put(Key::OutboxPending(id), Record::Index(id));
        m.put(Key::PushOfCard(5, id), Record::Index(id));
    }
    m.put(Key::Cursor("notifier".into()), Record::Cursor(42));
    m.put(Key::CustomerByTelegram(-9), Record::Index(3));
    store.commit(m).await.expect("commit");
    assert_eq!(store.get(&k).expect("get"), Some(r));
    assert_eq!(
        store.get(&Key::Cursor("notifier".into())).expect("get"),
        Some(Record::Cursor(42))
    );
    assert_eq!(
        store.get(&Key::CustomerByTelegram(-9)).expect("get"),
        Some(Record::Index(3))
    );
    assert_eq!(store.get(&Key::Meta("nothing".into())).expect("get"), None);
    let ids = |rows: Vec<(Key, Record)>| -> Vec<u64> {
        rows.into_iter()
            .map(|(k, _)| match k {
                Key::OutboxPending(id) | Key::PushOfCard(_, id) => id,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let scan = |after, reverse, limit| {
        ids(store
            .scan(
                Family::OutboxPending,
                Scan {
                    after,
                    reverse,
                    limit,
                },
            )
            .expect("scan"))
    };
    assert_eq!(scan(None, false, 0), (1..=10).collect::<Vec<_>>());
    assert_eq!(scan(Some(4), false, 3), vec![5, 6, 7]);
    assert_eq!(scan(None, true, 2), vec![10, 9]);
    assert_eq!(scan(Some(4), true, 0), vec![3, 2, 1]);
    assert_eq!(
        ids(store
            .scan(Family::PushesOfCard(5), Scan::default())
            .expect("scan")),
        (1..=10).collect::<Vec<_>>()
    );
    assert!(
        store
            .scan(Family::PushesOfCard(6), Scan::default())
            .expect("scan")
            .is_empty()
    );
    assert_eq!(store.count(Family::OutboxPending).expect("count"), 10);
    let mut seen = Vec::new();
    store
        .for_each(Family::OutboxPending, &mut |k, _| {
            seen.push(k);
            seen.len() < 4
        })
        .expect("for_each");
    assert_eq!(seen.len(), 4, "the visitor stops the visit");
    // Deletes and puts of one mutation.
    let mut m = Mutation::new();
    m.deletes.push(Key::OutboxPending(1));
    m.deletes.push(Key::PushOfCard(5, 2));
    m.put(Key::OutboxPending(11), Record::Index(11));
    store.commit(m).await.expect("commit");
    assert_eq!(scan(None, false, 2), vec![2, 3]);
    assert_eq!(store.count(Family::PushesOfCard(5)).expect("count"), 9);
    assert_eq!(store.get(&Key::OutboxPending(1)).expect("get"), None);
    store.close();
}

async fn an_absent_guard_refuses_exactly_once_and_writes_nothing(place: Place) {
    let store = place.open().expect("open");
    // Fifty writers claim one receipt code at once: one wins, and only the
    // winner's event and records are written.
    let claim = Key::Meta("claimed:R-1".into());
    let mut tasks = Vec::new();
    for n in 0..50 {
        let (s, claim) = (store.clone(), claim.clone());
        tasks.push(tokio::spawn(async move {
            let mut m = Mutation::new();
            m.guard_absent(claim.clone());
            m.put(claim, Record::Meta(serde_json::json!(n)));
            m.put(
                Key::Meta(format!("side:{n}")),
                Record::Meta(serde_json::json!(n)),
            );
            m.event(event(None, &format!("claim {n}")));
            s.commit(m).await
        }));
    }
    let mut won = Vec::new();
    for (n, t) in tasks.into_iter().enumerate() {
        match t.await.expect("task") {
            Ok(c) => won.push((n, c.event_ids)),
            Err(StoreError::Conflict(k)) => assert_eq!(k, claim),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim wins");
    let (winner, ids) = &won[0];
    assert_eq!(ids.len(), 1);
    assert_eq!(
        store.get(&claim).expect("get"),
        Some(Record::Meta(serde_json::json!(winner)))
    );
    for n in 0..50 {
        let side = store.get(&Key::Meta(format!("side:{n}"))).expect("get");
        assert_eq!(side.is_some(), n == *winner, "side record {n}");
    }
    assert_eq!(store.count(Family::Events).expect("count"), 1);
    // A refused mutation in the same batch as accepted ones leaves them be.
    let mut m1 = Mutation::new();
    m1.put(Key::Meta("a".into()), Record::Meta(serde_json::json!(1)));
    let mut m2 = Mutation::new();
    m2.guard_absent(claim.clone());
    m2.put(Key::Meta("b".into()), Record::Meta(serde_json::json!(2)));
    let (r1, r2) = tokio::join!(store.commit(m1), store.commit(m2));
    assert!(r1.is_ok());
    assert!(matches!(r2, Err(StoreError::Conflict(_))));
    assert!(store.get(&Key::Meta("a".into())).expect("get").is_some());
    assert!(store.get(&Key::Meta("b".into())).expect("get").is_none());
    // A key deleted earlier in the same batch is absent for a later guard.
    let mut del = Mutation::new();
    del.deletes.push(claim.clone());
    let mut again = Mutation::new();
    again.guard_absent(claim.clone());
    again.put(claim.clone(), Record::Meta(serde_json::json!("again")));
    let (d, a) = tokio::join!(store.commit(del), store.commit(again));
    d.expect("delete");
    // Either order is a correct commit order; the record says which won.
    match a {
        Ok(_) => assert_eq!(
            store.get(&claim).expect("get"),
            Some(Record::Meta(serde_json::json!("again")))
        ),
        Err(StoreError::Conflict(_)) => assert_eq!(store.get(&claim).expect("get"), None),
        Err(e) => panic!("{e}"),
    }
    store.close();
}

async fn the_card_version_guard_refuses_stale_and_missing_cards(place: Place) {
    let store = place.open().expect("open");
    let shop = place.shop(store.clone()).await;
    let card = coffee::ana_card(&shop, 8, 0).await;
    let newest = |s: &Arc<dyn Store>| s.card_event_ids(card.id, 0, 1).expect("ids")[0];
    let version = newest(&store);
    let mut m = Mutation::new();
    m.guard_card_at(card.id, version);
    m.event(event(Some(card.id), "guarded"));
    let first = store.commit(m).await.expect("at its version");
    assert_eq!(
        newest(&store),
        first.event_ids[0],
        "the event joins the card's chain"
    );
    let mut stale = Mutation::new();
    stale.guard_card_at(card.id, version);
    stale.event(event(Some(card.id), "stale"));
    assert!(matches!(
        store.commit(stale).await,
        Err(StoreError::Conflict(Key::Card(c))) if c == card.id
    ));
    // A platform added without an event: a write that names the card's
    // old platforms is refused, one naming the new ones holds.
    let before = shop.cards().card(card.id).expect("card");
    let mut held = before.clone();
    held.platforms
        .insert(stampcard_core::model::Platform::GoogleWallet);
    let mut add = Mutation::new();
    add.guard_card_held_on(card.id, before.platforms.clone());
    add.put(Key::Card(card.id), Record::Card(held.clone()));
    store.commit(add).await.expect("platform added");
    let mut stale = Mutation::new();
    stale.guard_card_held_on(card.id, before.platforms.clone());
    stale.put(Key::Card(card.id), Record::Card(before.clone()));
    assert!(matches!(
        store.commit(stale).await,
        Err(StoreError::Conflict(Key::Card(c))) if c == card.id
    ));
    let mut current = Mutation::new();
    current.guard_card_held_on(card.id, held.platforms.clone());
    store.commit(current).await.expect("at its platforms");
    let mut missing = Mutation::new();
    missing.guard_card_at(999_999, 0);
    assert!(matches!(
        store.commit(missing).await,
        Err(StoreError::Conflict(Key::Card(999_999)))
    ));
    // The card's history, newest first, is its events and nothing else; an
    // event about a card that does not exist joins no chain.
    store
        .commit({
            let mut m = Mutation::new();
            m.event(event(Some(999_999), "orphan"));
            m
        })
        .await
        .expect("orphan");
    let mut history = Vec::new();
    store
        .card_events(card.id, &mut |e| {
            history.push(e.id);
            true
        })
        .expect("history");
    assert_eq!(history[0], first.event_ids[0]);
    assert!(history.windows(2).all(|w| w[0] > w[1]), "{history:?}");
    assert_eq!(
        store.card_event_ids(card.id, history[1], 10).expect("ids"),
        vec![history[0]]
    );
    assert!(
        store
            .card_event_ids(999_999, 0, 10)
            .expect("ids")
            .is_empty()
    );
    // A derived record gets the ids of its mutation's events.
    let mut m = Mutation::new();
    m.event(event(Some(card.id), "one"));
    m.event(event(Some(card.id), "two"));
    m.derive(|ids| {
        (
            Key::Meta("derived".into()),
            Record::Meta(serde_json::json!(ids)),
        )
    });
    let c = store.commit(m).await.expect("derived");
    assert_eq!(
        store.get(&Key::Meta("derived".into())).expect("get"),
        Some(Record::Meta(serde_json::json!(c.event_ids)))
    );
    shop.shutdown().await;
}

async fn event_ids_follow_commit_order_under_concurrent_writers(place: Place) {
    let store = place.open().expect("open");
    let shop = place.shop(store.clone()).await;
    let template = coffee::ana_card(&shop, 5, 0).await.template_id;
    let mut cards = Vec::new();
    for i in 0..4 {
        cards.push(coffee::card_for(&shop, template, &format!("C{i}")).await.id);
    }
    let start = store.last_event_id();
    let watch = store.watch_events();
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let (s, cards) = (store.clone(), cards.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..40u64 {
                let mut m = Mutation::new();
                let card = cards[((w + i) % 4) as usize];
                for _ in 0..=(i % 3) {
                    m.event(event(Some(card), &format!("{w}/{i}")));
                }
                let c = s.commit(m).await.expect("commit");
                mine.push((card, c.event_ids));
            }
            mine
        }));
    }
    let mut by_card: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    let mut all = BTreeSet::new();
    for t in tasks {
        for (card, ids) in t.await.expect("task") {
            assert!(
                ids.windows(2).all(|w| w[1] == w[0] + 1),
                "one write's ids are consecutive"
            );
            for id in ids {
                assert!(all.insert(id), "id {id} given twice");
                by_card.entry(card).or_default().insert(id);
            }
        }
    }
    let last = *all.iter().next_back().expect("events");
    assert_eq!(all.len() as u64, last - start, "no id skipped");
    assert_eq!(store.last_event_id(), last);
    assert_eq!(*watch.borrow(), last, "the watch saw the newest id");
    let journal: Vec<u64> = store
        .scan(
            Family::Events,
            Scan {
                after: Some(start),
                ..Default::default()
            },
        )
        .expect("journal")
        .into_iter()
        .map(|(k, _)| match k {
            Key::Event(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(journal, all.iter().copied().collect::<Vec<_>>());
    for (card, ids) in by_card {
        let chain: Vec<u64> = store.card_event_ids(card, start, 10_000).expect("chain");
        let expected: Vec<u64> = ids.iter().rev().copied().collect();
        assert_eq!(
            chain, expected,
            "card {card}'s chain is its events, newest first"
        );
    }
    shop.shutdown().await;
}

async fn ids_come_from_sequences_and_survive_a_reopen(place: Place) {
    let store = place.open().expect("open");
    assert_eq!(store.next_id(Family::Cards).expect("id"), 100_001);
    assert_eq!(store.next_id(Family::Cards).expect("id"), 100_002);
    assert_eq!(store.next_id(Family::Customers).expect("id"), 1);
    store
        .commit({
            let mut m = Mutation::new();
            let (k, r) = meta("kept", 1);
            m.put(k, r);
            m.event(event(None, "kept"));
            m
        })
        .await
        .expect("commit");
    let last = store.last_event_id();
    assert!(last > 0);
    store.close();
    drop(store);
    let store = place.reopen();
    assert_eq!(store.last_event_id(), last);
    assert_eq!(
        store.get(&Key::Meta("kept".into())).expect("get"),
        Some(Record::Meta(serde_json::json!(1)))
    );
    let next = store
        .commit({
            let mut m = Mutation::new();
            m.event(event(None, "after"));
            m
        })
        .await
        .expect("commit");
    assert_eq!(next.event_ids, vec![last + 1]);
    store.close();
}

async fn the_cursor_guard_refuses_a_cursor_moved_by_another_writer(place: Place) {
    let store = place.open().expect("open");
    let cursor = Key::Cursor("conformance".into());
    let advance = |from: u64, to: u64| {
        let mut m = Mutation::new();
        m.guard_cursor_at("conformance", from);
        m.put(cursor.clone(), Record::Cursor(to));
        m.put(
            Key::Meta(format!("work {from}-{to}")),
            Record::Meta(1.into()),
        );
        m
    };
    // A cursor that does not exist is at no position.
    assert!(matches!(
        store.commit(advance(0, 5)).await,
        Err(StoreError::Conflict(Key::Cursor(_)))
    ));
    let mut start = Mutation::new();
    start.put(cursor.clone(), Record::Cursor(3));
    store.commit(start).await.expect("start");
    store.commit(advance(3, 7)).await.expect("from where it is");
    // A second writer that still believes the cursor is at 3 writes nothing.
    assert!(matches!(
        store.commit(advance(3, 9)).await,
        Err(StoreError::Conflict(Key::Cursor(name))) if name == "conformance"
    ));
    assert_eq!(store.get(&cursor).expect("get"), Some(Record::Cursor(7)));
    assert_eq!(store.get(&Key::Meta("work 3-9".into())).expect("get"), None);
    assert!(
        store
            .get(&Key::Meta("work 3-7".into()))
            .expect("get")
            .is_some()
    );
    store.close();
}

async fn a_second_writer_is_refused(place: Place) {
    let store = place.open().expect("open");
    assert!(matches!(place.open(), Err(StoreError::Locked(_))));
    store.close();
    drop(store);
    place.reopen().close();
}

/// Every record of a store, decoded, by key.
fn records_of(store: &Arc<dyn Store>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let families = [
        Family::Cards,
        Family::Customers,
        Family::Templates,
        Family::Vouchers,
        Family::Events,
        Family::Staff,
        Family::Receipts,
        Family::Outbox,
        Family::OutboxPending,
        Family::Campaigns,
        Family::Automations,
    ];
    for family in families {
        store
            .for_each(family, &mut |k, r| {
                out.insert(format!("{k:?}"), format!("{r:?}"));
                true
            })
            .expect("for_each");
    }
    out
}

async fn a_shop_copied_to_the_other_backend_reads_the_same(place: Place) {
    let store = place.open().expect("open");
    let shop = place.shop(store.clone()).await;
    let card = coffee::ana_card(&shop, 3, 30).await;
    for _ in 0..4 {
        shop.cards()
            .stamp_card(card.id, 1, None, &coffee::admin())
            .await
            .expect("stamp");
    }
    let before = records_of(&store);
    let history = shop.journal().card_history(card.id).expect("history");
    // The snapshot, loaded into the other backend.
    let mut records = Vec::new();
    {
        let sink_records = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = sink_records.clone();
        store
            .snapshot(Box::new(move |k, v| {
                sink.lock().expect("sink").push((k.to_vec(), v.to_vec()));
                Ok(())
            }))
            .await
            .expect("snapshot");
        records.append(&mut sink_records.lock().expect("records"));
    }
    shop.shutdown().await;
    let other = Place::new(matches!(place, Place::Sled(_)));
    // Loaded as a restore loads: into the empty store, then opened anew.
    match &other {
        Place::Sled(dir) => {
            let s = SledStore::open(dir.path(), SledOptions::default()).expect("open");
            s.load_snapshot(records.into_iter().map(Ok)).expect("load");
            s.close();
        }
        Place::Pg(url) => {
            let s = PgStore::open(url, PgOptions::default()).expect("open");
            s.load_snapshot(records.into_iter().map(Ok)).expect("load");
            s.close();
        }
    }
    let loaded = other.reopen();
    assert_eq!(records_of(&loaded), before);
    let copied = other.shop(loaded.clone()).await;
    assert_eq!(
        copied.journal().card_history(card.id).expect("history"),
        history
    );
    // The printed code still stamps, and new ids continue after the old.
    let more = copied
        .cards()
        .stamp_card(card.id, 1, None, &coffee::admin())
        .await
        .expect("stamp after the copy");
    assert!(
        more.event_ids
            .iter()
            .all(|id| *id > history.last().expect("events").id)
    );
    let next_card = loaded.next_id(Family::Cards).expect("id");
    assert!(next_card > card.id);
    copied.shutdown().await;
}

/// PostgreSQL only: connections killed by the server (as a failover or a
/// network cut does) while writers commit. A commit is never reported
/// wrongly: an acknowledged write is there, a write reported as not made
/// is not, and the store carries on once the connections are back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_broken_connection_never_misreports_a_commit() {
    let server = backend::postgres::shared();
    let url = server.database();
    let name = url.rsplit('/').next().expect("database").to_string();
    let store: Arc<dyn Store> = Arc::new(PgStore::open(&url, PgOptions::default()).expect("open"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let (stop, name) = (stop.clone(), name.clone());
        std::thread::spawn(move || {
            let mut kills = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(40));
                server.psql(
                    "postgres",
                    &format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                    ),
                );
                kills += 1;
            }
            kills
        })
    };
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..60 {
                let key = Key::Meta(format!("w:{w}:{i}"));
                let mut m = Mutation::new();
                m.put(key.clone(), Record::Meta(serde_json::json!(i)));
                m.event(event(None, "cut"));
                outcomes.push((key, s.commit(m).await));
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.expect("task"));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let kills = killer.join().expect("killer");
    let read = |key: &Key| {
        for _ in 0..100 {
            if let Ok(r) = store.get(key) {
                return r;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the store did not come back for reads");
    };
    let (mut acked, mut refused, mut unresolved) = (0, 0, 0);
    for (key, outcome) in &outcomes {
        match outcome {
            Ok(_) => {
                acked += 1;
                assert!(read(key).is_some(), "acknowledged {key:?} is there");
            }
            Err(StoreError::Unresolved(_)) => unresolved += 1,
            Err(e) => {
                refused += 1;
                assert!(
                    read(key).is_none(),
                    "{key:?} reported as not written ({e}) is absent"
                );
            }
        }
    }
    println!("{kills} kills: {acked} acknowledged, {refused} refused, {unresolved} unknown");
    assert!(acked > 0 && kills > 3);
    // Every acknowledged write's event is in the journal once, ids unique.
    let events = store.count(Family::Events).expect("count");
    assert!(
        events >= acked as u64 && events <= (acked + unresolved) as u64,
        "{events} events for {acked} acknowledged and {unresolved} unknown writes"
    );
    let after = store
        .commit({
            let mut m = Mutation::new();
            m.event(event(None, "after"));
            m
        })
        .await
        .expect("writes carry on");
    assert_eq!(after.event_ids.len(), 1);
    store.close();
}

/// A fresh database on the tests' PostgreSQL, and how to open it as one
/// more node of a shop several nodes share.
fn shared_database() -> (Place, impl Fn() -> Arc<dyn Store>) {
    let url = backend::postgres::shared().database();
    let options = PgOptions {
        shared: true,
        ..PgOptions::default()
    };
    let place = Place::Pg(url.clone());
    let open = move || -> Arc<dyn Store> { Arc::new(PgStore::open(&url, options).expect("open")) };
    (place, open)
}

/// Two shops (as two nodes would) sharing one database: both stamp the
/// same card at once and every stamp counts once; both create a customer
/// with the same Telegram id at once and one of them is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_nodes_sharing_a_database_neither_lose_nor_double() {
    let (place, open) = shared_database();
    let (store_a, store_b) = (open(), open());
    let a = place.shop(store_a.clone()).await;
    // Ana's card exists before B starts: B reads the template at start.
    let card = coffee::ana_card(&a, 100, 0).await;
    let b = place.shop(store_b.clone()).await;
    let actor = Actor::channel("conformance");
    let stamps = |shop: Shop| {
        let actor = actor.clone();
        async move {
            for _ in 0..40 {
                shop.cards()
                    .stamp_card(card.id, 1, None, &actor)
                    .await
                    .expect("stamp");
            }
        }
    };
    tokio::join!(stamps(a.clone()), stamps(b.clone()));
    let stamped = a.cards().card(card.id).expect("card");
    assert_eq!(
        stamped.lifetime_stamps,
        card.lifetime_stamps + 80,
        "no stamp lost"
    );
    // A template saved anew on A: B's very next stamp uses it (its cached
    // copy may not know yet; the template guard makes it read it).
    let current = a.templates().templates()[0].clone();
    let mut draft = stampcard_core::shop::TemplateDraft::new(
        &current.name,
        &current.business_name,
        90,
        current.reward.clone(),
    );
    draft.terms = current.terms.clone();
    let saved = a
        .templates()
        .edit_template(current.id, draft, &Actor::channel("system"))
        .await
        .expect("edit");
    let next = b
        .cards()
        .stamp_card(card.id, 1, None, &actor)
        .await
        .expect("stamp on B");
    assert_eq!(next.card.template_version, saved.version);
    let fields = || stampcard_core::model::CustomerFields {
        name: "Tele".into(),
        telegram_id: Some(4242),
        ..Default::default()
    };
    let (one, other) = tokio::join!(
        a.customers().create_customer(fields(), "test", &actor),
        b.customers().create_customer(fields(), "test", &actor)
    );
    assert_eq!(
        [one.is_ok(), other.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "{one:?} {other:?}"
    );
    let refused = one.err().or(other.err()).expect("one refused");
    assert!(refused.to_string().contains("exists already"), "{refused}");
    a.shutdown().await;
    b.shutdown().await;
}

/// Two nodes on one database: one node changes a customer's name while the
/// other changes their e-mail, many times at once — the customers' lock
/// across nodes keeps every read-change-write whole, so neither change is
/// lost; an hourly limit counts both nodes' requests together; and a lock
/// another node holds is waited for, not skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_locks_and_hourly_counts_hold_across_two_nodes() {
    use stampcard_core::shop::ProfileChange;
    let (place, open) = shared_database();
    let (store_a, store_b) = (open(), open());
    let a = place.shop(store_a.clone()).await;
    let b = place.shop(store_b.clone()).await;
    let actor = Actor::channel("conformance");
    let fields = stampcard_core::model::CustomerFields {
        name: "Ana".into(),
        ..Default::default()
    };
    let ana = a
        .customers()
        .create_customer(fields, "test", &actor)
        .await
        .expect("customer");
    let edits = |shop: Shop, email: bool| {
        let actor = actor.clone();
        async move {
            for i in 0..30 {
                let change = match email {
                    true => ProfileChange::Email(Some(format!("ana{i}@example.com"))),
                    false => ProfileChange::Name(format!("Ana {i}")),
                };
                shop.customers()
                    .update_profile_fields(ana.id, vec![change], &actor)
                    .await
                    .expect("edit");
            }
        }
    };
    tokio::join!(edits(a.clone(), false), edits(b.clone(), true));
    let last = a.customers().customer(ana.id).expect("ana");
    assert_eq!(
        (last.name.as_str(), last.email.as_deref()),
        ("Ana 29", Some("ana29@example.com")),
        "a change made on one node was overwritten by the other"
    );

    // Twelve joins from one address, alternating nodes, with 5 an hour
    // allowed: five in all, not five per node.
    let mut allowed = 0;
    for i in 0..12 {
        let shop = if i % 2 == 0 { &a } else { &b };
        if shop
            .access()
            .hourly_allow("join", "203.0.113.9", 5)
            .await
            .expect("count")
        {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
    assert_eq!(
        b.access()
            .hourly_count("join", "203.0.113.9")
            .await
            .expect("count"),
        5
    );

    // A lock held on A: B's request waits until A lets go.
    let held = store_a.lock_across("test").await.expect("lock on A");
    let waiting = tokio::spawn({
        let store_b = store_b.clone();
        async move {
            store_b
                .lock_across("test")
                .await
                .map(|_| std::time::Instant::now())
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "B took a lock A holds");
    let released = std::time::Instant::now();
    drop(held);
    let got = waiting.await.expect("task").expect("lock on B");
    assert!(got >= released);
    a.shutdown().await;
    b.shutdown().await;
}

/// Two nodes: a card resident on B is first opened in Google Wallet through
/// A (a write without a journal event); B's next stamp keeps the platform
/// (the card-platforms guard makes B read the card again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_platform_added_on_one_node_survives_a_stamp_on_another() {
    use stampcard_core::model::Platform;
    let (place, open) = shared_database();
    let a = place.shop(open()).await;
    let card = coffee::ana_card(&a, 100, 0).await;
    let b = place.shop(open()).await;
    let actor = Actor::channel("conformance");
    b.cards()
        .stamp_card(card.id, 1, None, &actor)
        .await
        .expect("stamp on B: the card is resident there");
    a.cards()
        .add_platform(card.id, Platform::GoogleWallet, &actor)
        .await
        .expect("opened in Google Wallet through A");
    b.cards()
        .stamp_card(card.id, 1, None, &actor)
        .await
        .expect("stamp on B again");
    let now = a.cards().card(card.id).expect("card");
    assert!(
        now.platforms.contains(&Platform::GoogleWallet),
        "the platform was dropped: {:?}",
        now.platforms
    );
    assert_eq!(now.lifetime_stamps, card.lifetime_stamps + 2);
    a.shutdown().await;
    b.shutdown().await;
}

/// Two nodes: B checked an API key; A revokes it while B's listener
/// connection is down (the notification is lost). Once B's listener is
/// back, B refuses the key: a reconnected listener drops what its process
/// keeps in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_node_whose_listener_reconnects_forgets_what_it_missed() {
    use stampcard_core::model::Role;
    use stampcard_core::store::LISTENER_NAME;
    let (place, open) = shared_database();
    let Place::Pg(url) = &place else {
        unreachable!()
    };
    let name = url.rsplit('/').next().expect("database").to_string();
    let server = backend::postgres::shared();
    let a = place.shop(open()).await;
    let b = place.shop(open()).await;
    let admin = Actor::Cli { user: "t".into() };
    let (key, token) = a
        .access()
        .create_api_key("till", Role::Staff, &admin)
        .await
        .expect("create");
    // B drops its keys when it hears of the create: let it hear of it
    // first. Notices arrive in order, so once B has a template A saved
    // after the key, it has handled the key's notice too.
    let draft = stampcard_core::shop::TemplateDraft::new(
        "Sync",
        "Shop",
        5,
        stampcard_core::model::Reward::Simple {
            description: "A free coffee".into(),
        },
    );
    let sync = a
        .templates()
        .create_template(draft, &admin)
        .await
        .expect("template")
        .id;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !b.templates().templates().iter().any(|t| t.id == sync) {
        assert!(std::time::Instant::now() < deadline, "B never heard of A");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    b.access().authenticate_api_key(&token).expect("B knows it");

    // No new connections to the shop's database, and both listeners cut.
    let listeners = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND application_name = '{LISTENER_NAME}'"
    );
    // Both listeners are up (each connects on its own task, soon after open).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.psql("postgres", &listeners).trim() != "2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the listeners never came"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server.psql(
        "postgres",
        &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"),
    );
    server.psql(
        "postgres",
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND application_name = '{LISTENER_NAME}'"
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.psql("postgres", &listeners).trim() != "0" {
        assert!(std::time::Instant::now() < deadline, "the listeners stay");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    a.access()
        .revoke_api_key(&key.id.to_string(), &admin)
        .await
        .expect("revoked through A's pool");
    assert!(
        b.access().authenticate_api_key(&token).is_ok(),
        "B heard of the revoke although nobody listened"
    );

    server.psql(
        "postgres",
        &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while b.access().authenticate_api_key(&token).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "B still lets the revoked key in after its listener came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    a.shutdown().await;
    b.shutdown().await;
}
