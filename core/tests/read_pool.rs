//! The seam's synchronous reads served the way a networked store serves
//! them: every read (and commit) runs on a `ReadPool` of the store's own
//! threads, after a simulated network round trip, while the shop runs on a
//! current-thread runtime — the case where blocking inside the runtime
//! would panic. The shop's commands and queries work unchanged.
mod backend;

mod coffee;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use stampcard_core::Shop;
use stampcard_core::clock::ManualClock;
use stampcard_core::model::Event;
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::JournalQuery;
use stampcard_core::store::{
    CommitFuture, Family, Key, Mutation, ReadPool, Record, Scan, SledOptions, SledStore,
    SnapshotFuture, SnapshotSink, Store, StoreError,
};

const POOL: &str = "remote-store";

/// A store "across the network": sled behind a pool and a delay.
struct Remote {
    inner: Arc<SledStore>,
    pool: ReadPool,
    reads: Arc<AtomicUsize>,
}

impl Remote {
    fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&SledStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (inner, reads) = (self.inner.clone(), self.reads.clone());
        self.pool.run(async move {
            tokio::time::sleep(Duration::from_micros(200)).await;
            let on_pool = std::thread::current().name() == Some(POOL);
            if on_pool {
                reads.fetch_add(1, Ordering::Relaxed);
            }
            read(&inner)
        })
    }
}

impl Store for Remote {
    fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let key = key.clone();
        self.read(move |s| s.get(&key))
    }

    fn scan(&self, family: Family, scan: Scan) -> Result<Vec<(Key, Record)>, StoreError> {
        self.read(move |s| s.scan(family, scan))
    }

    fn for_each(
        &self,
        family: Family,
        visit: &mut dyn FnMut(Key, Record) -> bool,
    ) -> Result<(), StoreError> {
        for (k, r) in self.read(move |s| s.scan(family, Scan::default()))? {
            if !visit(k, r) {
                break;
            }
        }
        Ok(())
    }

    fn commit(&self, mutation: Mutation) -> CommitFuture {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let inner = self.inner.clone();
        self.pool.spawn(async move {
            tokio::time::sleep(Duration::from_micros(200)).await;
            let _ = tx.send(inner.commit(mutation).await);
        });
        Box::pin(async move { rx.await.map_err(|_| StoreError::Closed)? })
    }

    fn next_id(&self, family: Family) -> Result<u64, StoreError> {
        self.read(move |s| s.next_id(family))
    }

    fn last_event_id(&self) -> u64 {
        self.inner.last_event_id()
    }

    fn watch_events(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.watch_events()
    }

    fn snapshot(&self, sink: SnapshotSink) -> SnapshotFuture {
        self.inner.snapshot(sink)
    }

    fn card_event_ids(&self, card: u64, after: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.read(move |s| s.card_event_ids(card, after, limit))
    }

    fn card_events(
        &self,
        card: u64,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<(), StoreError> {
        let events = self.read(move |s| {
            let mut all = Vec::new();
            s.card_events(card, &mut |e| {
                all.push(e);
                true
            })?;
            Ok(all)
        })?;
        for e in events {
            if !visit(e) {
                break;
            }
        }
        Ok(())
    }

    fn count(&self, family: Family) -> Result<u64, StoreError> {
        self.read(move |s| s.count(family))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_shop_runs_on_a_store_whose_reads_go_through_its_own_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled = Arc::new(SledStore::open(dir.path(), SledOptions::default()).expect("open"));
    let reads = Arc::new(AtomicUsize::new(0));
    let remote = Arc::new(Remote {
        inner: sled.clone(),
        pool: ReadPool::new(POOL, 2).expect("pool"),
        reads: reads.clone(),
    });
    let clock = Arc::new(ManualClock::new(
        "2026-05-04T10:00:00Z".parse().expect("time"),
    ));
    let shop = Shop::with_store(remote, ShopSettings::for_tests(), clock)
        .await
        .expect("shop on the remote store");
    let admin = coffee::admin();
    let card = coffee::ana_card(&shop, 3, 0).await;
    let code = shop.cards().card_code(&card);
    for _ in 0..3 {
        shop.cards()
            .stamp_code(&code, 1, None, &admin)
            .await
            .expect("stamp");
    }
    let view = shop.cards().card_view(card.id).expect("view");
    assert_eq!(view.vouchers.len(), 1, "the third stamp earned the voucher");
    assert_eq!(shop.cards().cards(Scan::default()).expect("cards").len(), 1);
    let found = shop.customers().search_customers("Ana", 5).expect("search");
    assert_eq!(found.len(), 1);
    let stamps = shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("stamp_added".into()),
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(stamps.len(), 3);
    assert!(
        reads.load(Ordering::Relaxed) > 10,
        "the reads ran on the store's own threads"
    );
    // A bad code still gets its clear error through the pool, and changes nothing.
    assert!(
        shop.cards()
            .stamp_code("C-0000-0000", 1, None, &admin)
            .await
            .is_err()
    );
    assert_eq!(
        shop.cards().card(card.id).expect("card").counter,
        card.counter
    );
    shop.shutdown().await;
    sled.close();
}
