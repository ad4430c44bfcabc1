//! The sled store across restarts and crash leftovers.
mod backend;

use stampcard_core::store::{Key, Mutation, Record, SledOptions, SledStore, Store};

#[tokio::test]
async fn an_unfinished_snapshot_left_by_a_crash_does_not_stop_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
        let mut m = Mutation::new();
        m.put(
            Key::Meta("probe".into()),
            Record::Meta(serde_json::json!(42)),
        );
        store.commit(m).await.expect("commit");
        store.close();
    }
    // What a SIGKILL during sled's snapshot write leaves: an empty `.generating`
    // file whose name sorts after every finished snapshot.
    std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFFF.generating"), b"").expect("write");
    // Plain sled refuses to open such a folder …
    assert!(
        sled::open(dir.path()).is_err(),
        "sled 0.34.7 trips over the leftover"
    );
    // … our store removes the leftover and opens with every record intact.
    let store = SledStore::open(dir.path(), SledOptions::default()).expect("reopen");
    assert_eq!(
        store.get(&Key::Meta("probe".into())).expect("get"),
        Some(Record::Meta(serde_json::json!(42)))
    );
    assert!(!dir.path().join("snap.FFFFFFFFFFFFFFFF.generating").exists());
}

mod chains {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use stampcard_core::Shop;
    use stampcard_core::clock::SystemClock;
    use stampcard_core::model::{Actor, CustomerFields, EventKind, NewEvent, Reward};
    use stampcard_core::settings::ShopSettings;
    use stampcard_core::shop::{IssueCard, JournalQuery, TemplateDraft};
    use stampcard_core::store::{Mutation, SledOptions};

    async fn open(dir: &std::path::Path) -> Shop {
        crate::backend::open(
            dir,
            ShopSettings::for_tests(),
            Arc::new(SystemClock),
            SledOptions::default(),
        )
        .await
        .expect("open")
    }

    /// An event about a card written outside its actor (as the consumers
    /// do), without a card record in the same write.
    fn outside_event(card: u64) -> Mutation {
        let mut m = Mutation::new();
        m.event(NewEvent {
            at: chrono::Utc::now(),
            kind: EventKind::StampRefused {
                count: 1,
                reason: "probe".into(),
                flagged: false,
                refusal: None,
            },
            card_id: Some(card),
            customer_id: None,
            template_id: None,
            code: None,
            progress: None,
            reward: None,
            actor: Actor::channel("probe"),
        });
        m
    }

    /// Every card's history, read through its chain, is the journal's
    /// events of that card in order, and the per-card journal query agrees.
    fn assert_chains_match_the_journal(shop: &Shop, cards: &[u64]) {
        let all = shop
            .journal()
            .journal(&JournalQuery {
                limit: 1_000_000,
                ..Default::default()
            })
            .expect("journal");
        let mut by_card: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for e in &all {
            if let Some(c) = e.card_id {
                by_card.entry(c).or_default().push(e.id);
            }
        }
        for card in cards {
            let ids = |events: Vec<stampcard_core::model::Event>| -> Vec<u64> {
                events.iter().map(|e| e.id).collect()
            };
            let history = ids(shop.journal().card_history(*card).expect("history"));
            assert_eq!(Some(&history), by_card.get(card), "card {card}");
            let newest = ids(shop
                .journal()
                .journal(&JournalQuery {
                    card: Some(*card),
                    newest_first: true,
                    limit: 3,
                    ..Default::default()
                })
                .expect("newest"));
            let expected: Vec<u64> = history.iter().rev().take(3).copied().collect();
            assert_eq!(newest, expected, "card {card}, newest first");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_cards_history_follows_commit_order_with_many_writers_and_after_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let admin = Actor::Cli {
            user: "test".into(),
        };
        let mut cards = Vec::new();
        {
            let shop = open(dir.path()).await;
            let draft = TemplateDraft::new(
                "Chain card",
                "Chain Shop",
                5,
                Reward::Voucher {
                    description: "A coffee".into(),
                    valid_days: 0,
                },
            );
            let t = shop
                .templates()
                .create_template(draft, &admin)
                .await
                .expect("template");
            for i in 0..6 {
                let fields = CustomerFields {
                    name: format!("Customer {i}"),
                    ..Default::default()
                };
                let card = shop
                    .cards()
                    .issue_card(t.id, IssueCard::New(fields), None, None, &admin)
                    .await
                    .expect("card");
                cards.push(card.id);
            }
            // Stamps through the actors (goals reached: several events per
            // write) race with events written straight to the store, and
            // with an event of a card that does not exist.
            let mut tasks = Vec::new();
            for (n, card) in cards.iter().copied().enumerate() {
                let s = shop.clone();
                let a = admin.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..40 {
                        s.cards()
                            .stamp_card(card, 1 + (n as u32 % 3), None, &a)
                            .await
                            .expect("stamp");
                    }
                }));
                let s = shop.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..20 {
                        s.store().commit(outside_event(card)).await.expect("event");
                    }
                }));
            }
            shop.store()
                .commit(outside_event(999_999))
                .await
                .expect("orphan event");
            for t in tasks {
                t.await.expect("task");
            }
            assert_chains_match_the_journal(&shop, &cards);
            assert!(
                shop.journal()
                    .card_history(999_999)
                    .expect("none")
                    .is_empty()
            );
            shop.shutdown().await;
        }
        // Reopened, the committer knows no chain: it reads them back.
        let shop = open(dir.path()).await;
        for card in &cards {
            shop.cards()
                .stamp_card(*card, 1, None, &admin)
                .await
                .expect("stamp");
            shop.store()
                .commit(outside_event(*card))
                .await
                .expect("event");
        }
        assert_chains_match_the_journal(&shop, &cards);
        let first = shop.journal().card_history(cards[0]).expect("history");
        assert!(first.len() > 60, "{}", first.len());
        assert!(matches!(first[0].kind, EventKind::CardIssued { .. }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_naming_a_stale_card_version_is_refused_and_changes_nothing() {
        use stampcard_core::store::{Key, StoreError};
        let dir = tempfile::tempdir().expect("tempdir");
        let admin = Actor::Cli {
            user: "test".into(),
        };
        let card = {
            let shop = open(dir.path()).await;
            let draft = TemplateDraft::new(
                "Guarded card",
                "Guard Shop",
                5,
                Reward::Voucher {
                    description: "A coffee".into(),
                    valid_days: 0,
                },
            );
            let t = shop
                .templates()
                .create_template(draft, &admin)
                .await
                .expect("template");
            let fields = CustomerFields {
                name: "Version Holder".into(),
                ..Default::default()
            };
            let card = shop
                .cards()
                .issue_card(t.id, IssueCard::New(fields), None, None, &admin)
                .await
                .expect("card")
                .id;
            let newest = |shop: &Shop| {
                shop.journal()
                    .card_history(card)
                    .expect("history")
                    .last()
                    .map_or(0, |e| e.id)
            };
            let seen = newest(&shop);
            // A write computed from the card as it is goes in.
            let mut m = outside_event(card);
            m.guard_card_at(card, seen);
            let done = shop.store().commit(m).await.expect("current version");
            assert_eq!(newest(&shop), done.event_ids[0]);
            // The same version again is stale now: refused, nothing written.
            let events = shop.journal().card_history(card).expect("history").len();
            let mut m = outside_event(card);
            m.guard_card_at(card, seen);
            let refused = shop.store().commit(m).await.expect_err("stale version");
            assert!(
                matches!(refused, StoreError::Conflict(Key::Card(id)) if id == card),
                "{refused:?}"
            );
            assert_eq!(
                shop.journal().card_history(card).expect("history").len(),
                events
            );
            // A card that does not exist is no version.
            let mut m = outside_event(card + 1000);
            m.guard_card_at(card + 1000, 0);
            assert!(matches!(
                shop.store().commit(m).await,
                Err(StoreError::Conflict(_))
            ));
            shop.shutdown().await;
            card
        };
        // After a restart the version comes from the stored card.
        let shop = open(dir.path()).await;
        let history = shop.journal().card_history(card).expect("history");
        let newest = history.last().map_or(0, |e| e.id);
        let mut m = outside_event(card);
        m.guard_card_at(card, newest - 1);
        assert!(shop.store().commit(m).await.is_err(), "stale after restart");
        let mut m = outside_event(card);
        m.guard_card_at(card, newest);
        shop.store().commit(m).await.expect("current after restart");
    }
}
