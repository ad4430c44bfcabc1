//! The journal's newest events are served from memory (the committer's
//! window of recent events) to every follower: what it gives must be, field
//! for field, what the store gives for the same ids, for every kind a
//! shop's day writes, and a follower behind the window still reads it all.

mod coffee;

use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::clock::ManualClock;
use stampcard_core::model::{CustomerFields, Event};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, JournalQuery};
use stampcard_core::store::{Key, Record, SledOptions};

async fn open(dir: &std::path::Path) -> Shop {
    let clock = Arc::new(ManualClock::new(
        "2026-05-04T10:00:00.123456789Z".parse().expect("time"),
    ));
    Shop::open(
        dir,
        ShopSettings::for_tests(),
        clock,
        SledOptions::default(),
    )
    .await
    .expect("open")
}

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
        let shop = open(dir.path()).await;
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
        let bob = cards
            .issue_card(
                card.template_id,
                IssueCard::New(CustomerFields {
                    name: "Bob «Б» 🙂".into(),
                    ..Default::default()
                }),
                None,
                None,
                &admin,
            )
            .await
            .expect("card");
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
    let shop = open(dir.path()).await;
    assert_eq!(journal(&shop, 0), served);
}
