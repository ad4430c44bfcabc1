//! The journal's newest events are served from memory (the committer's
//! window of recent events) to every follower: what it gives must be, field
//! for field, what the store gives for the same ids, for every kind a
//! shop's day writes, and a follower behind the window still reads it all.
mod backend;

mod coffee;

use stampcard_core::Shop;
use stampcard_core::model::Event;
use stampcard_core::shop::JournalQuery;
use stampcard_core::store::{Key, Record};

fn journal(shop: &Shop, after: u64) -> Vec<Event> {
    shop.journal()
        .journal(&JournalQuery {
            after: Some(after),
            limit: 10_000,
            ..Default::default()
        })
        .expect("journal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_events_read_as_the_store_has_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = {
        let shop = coffee::open(dir.path(), "2026-05-04T10:00:00.123456789Z").await;
        let admin = coffee::admin();
        let card = coffee::ana_card(&shop, 2, 3).await;
        let cards = shop.cards();
        for i in 0..3 {
            cards
                .stamp_card(card.id, 1, Some(&format!("till-{i}")), &admin)
                .await
                .expect("stamp");
        }
        let voucher = cards.card_view(card.id).expect("view").vouchers[0]
            .code
            .clone();
        cards.redeem_code(&voucher, &admin).await.expect("redeem");
        let bob = coffee::card_for(&shop, card.template_id, "Bob «Б» 🙂").await;
        cards
            .stamp_code(
                &cards.card_view(bob.id).expect("view").code,
                1,
                None,
                &admin,
            )
            .await
            .expect("stamp by code");

        let served = journal(&shop, 0);
        assert!(served.len() >= 8, "a day's events: {}", served.len());
        let kinds: std::collections::BTreeSet<_> = served.iter().map(|e| e.kind.name()).collect();
        for kind in ["card_issued", "stamp_added", "voucher_redeemed"] {
            assert!(kinds.contains(kind), "{kind} among {kinds:?}");
        }
        for e in &served {
            match shop.store().get(&Key::Event(e.id)).expect("read") {
                Some(Record::Event(stored)) => assert_eq!(&stored, e, "event {}", e.id),
                other => panic!("event {} is stored as {other:?}", e.id),
            }
        }
        // Any starting point inside, and the newest: nothing after it.
        let newest = served.last().map(|e| e.id).unwrap_or(0);
        assert_eq!(journal(&shop, 3), served[3..].to_vec());
        assert!(journal(&shop, newest).is_empty());

        shop.shutdown().await;
        served
    };
    // After a restart the window is empty: the same journal, from the store.
    let shop = coffee::open(dir.path(), "2026-05-04T10:00:00.123456789Z").await;
    assert_eq!(journal(&shop, 0), served);
}
