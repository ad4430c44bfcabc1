//! Races and passivation against the real store and actors.
mod backend;

use std::sync::Arc;
use std::time::Duration;

use stampcard_core::clock::SystemClock;
use stampcard_core::model::{Actor, CustomerFields, EventKind, Reward};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, JournalQuery, TemplateDraft};
use stampcard_core::store::SledOptions;
use stampcard_core::{CoreError, Shop};

fn admin() -> Actor {
    Actor::Cli {
        user: "test".into(),
    }
}

async fn shop(settings: ShopSettings) -> (Shop, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = crate::backend::open(
        dir.path(),
        settings,
        Arc::new(SystemClock),
        SledOptions::default(),
    )
    .await
    .expect("open");
    (shop, dir)
}

async fn template(shop: &Shop, stamps: u32) -> u64 {
    let draft = TemplateDraft::new(
        "Race card",
        "Race Shop",
        stamps,
        Reward::Voucher {
            description: "A coffee".into(),
            valid_days: 0,
        },
    );
    shop.templates()
        .create_template(draft, &admin())
        .await
        .expect("template")
        .id
}

async fn cards(shop: &Shop, template: u64, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let fields = CustomerFields {
            name: format!("Customer {i}"),
            ..Default::default()
        };
        ids.push(
            shop.cards()
                .issue_card(template, IssueCard::New(fields), None, None, &admin())
                .await
                .expect("card")
                .id,
        );
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_claims_of_one_code_succeed_once() {
    let (shop, _dir) = shop(ShopSettings::for_tests()).await;
    let t = template(&shop, 8).await;
    let ids = cards(&shop, t, 50).await;
    let code = shop
        .cards()
        .generate_receipts(t, 1, 2, &admin())
        .await
        .expect("codes")[0]
        .clone();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let (shop, code, card) = (shop.clone(), code.clone(), ids[i % ids.len()]);
        tasks.push(tokio::spawn(async move {
            shop.cards()
                .claim_receipt(&code, card, &Actor::channel("receipt"))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => ok += 1,
            Err(CoreError::AlreadyClaimed) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(ok, 1);
    let total: u32 = ids
        .iter()
        .map(|id| shop.cards().card(*id).expect("card").stamps)
        .sum();
    assert_eq!(total, 2, "exactly one card got the two stamps");
    let claims = shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("receipt_claimed".into()),
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(claims.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_redeems_of_one_voucher_succeed_once() {
    let (shop, _dir) = shop(ShopSettings::for_tests()).await;
    let t = template(&shop, 1).await;
    let card = cards(&shop, t, 1).await[0];
    let outcome = shop
        .cards()
        .stamp_card(card, 1, None, &admin())
        .await
        .expect("stamp");
    let code = shop.cards().voucher_code(&outcome.vouchers[0]);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (shop, code) = (shop.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            shop.cards().redeem_code(&code, &admin()).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => ok += 1,
            Err(CoreError::AlreadyRedeemed { .. }) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passivation_under_a_tiny_cap_loses_no_message() {
    let mut settings = ShopSettings::for_tests();
    settings.max_resident_actors = 2;
    settings.actor_idle = Duration::from_millis(100);
    let (shop, _dir) = shop(settings).await;
    let t = template(&shop, 100).await;
    let ids = cards(&shop, t, 20).await;
    let mut tasks = Vec::new();
    for round in 0..10 {
        for (i, id) in ids.iter().enumerate() {
            let (shop, id) = (shop.clone(), *id);
            tasks.push(tokio::spawn(async move {
                shop.cards()
                    .stamp_card(id, 1 + ((round + i) % 3) as u32, None, &admin())
                    .await
            }));
        }
    }
    let mut expected = std::collections::HashMap::new();
    for (n, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.expect("join").expect("stamp");
        let (round, i) = (n / ids.len(), n % ids.len());
        *expected.entry(outcome.card.id).or_insert(0u32) += 1 + ((round + i) % 3) as u32;
    }
    for id in &ids {
        assert_eq!(
            shop.cards().card(*id).expect("card").stamps,
            expected[id],
            "card {id}"
        );
        let stamps: u32 = shop
            .journal()
            .card_history(*id)
            .expect("history")
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::StampAdded { effect, .. } => Some(effect.count),
                _ => None,
            })
            .sum();
        assert_eq!(stamps, expected[id], "journal of card {id}");
    }
    let stats = shop.directory_stats().await.expect("stats");
    assert!(stats.passivations > 0, "{stats:?}");
    assert!(stats.resident <= 3, "{stats:?}");
}

#[tokio::test]
async fn unknown_cards_are_reported_not_found() {
    let (shop, _dir) = shop(ShopSettings::for_tests()).await;
    let err = shop
        .cards()
        .stamp_card(999_999, 1, None, &admin())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");
}
