//! The view built from what a card's actor returned (with the vouchers the
//! actor keeps) is the view read from the store, after every kind of
//! command that writes vouchers — and a replayed idempotent answer, which
//! carries no vouchers, reads them.
mod backend;

mod coffee;

use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::actors::CardOutcome;
use stampcard_core::clock::ManualClock;

use stampcard_core::settings::ShopSettings;

use stampcard_core::store::SledOptions;

fn same_as_stored(shop: &Shop, outcome: &CardOutcome, what: &str) {
    let from_outcome = shop.cards().view_of_outcome(outcome).expect("view");
    let stored = shop
        .cards()
        .card_view(outcome.card.id)
        .expect("stored view");
    assert_eq!(from_outcome, stored, "after {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_from_the_actor_matches_the_store_after_every_voucher_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(
        "2026-05-04T10:00:00Z".parse().expect("time"),
    ));
    let shop = crate::backend::open(
        dir.path(),
        ShopSettings::for_tests(),
        clock.clone(),
        SledOptions::default(),
    )
    .await
    .expect("open");
    let admin = coffee::admin();
    let card = coffee::ana_card(&shop, 2, 3).await;
    let cards = shop.cards();
    let mut outcome = cards
        .stamp_card(card.id, 1, None, &admin)
        .await
        .expect("stamp");
    same_as_stored(&shop, &outcome, "the first stamp");
    assert!(
        outcome.known.vouchers.is_some(),
        "the actor knows the vouchers"
    );
    for i in 0..5 {
        outcome = cards
            .stamp_card(card.id, 1, None, &admin)
            .await
            .expect("stamp");
        same_as_stored(&shop, &outcome, &format!("stamp {i}"));
    }
    let earned = cards.vouchers_of_card(card.id).expect("vouchers");
    assert!(earned.len() >= 2, "stamps earned vouchers: {earned:?}");
    outcome = cards
        .redeem_voucher(earned[0].id, &admin)
        .await
        .expect("redeem");
    same_as_stored(&shop, &outcome, "a redemption");
    let code = cards.voucher_code(&earned[1]);
    outcome = cards
        .redeem_code(&code, &admin)
        .await
        .expect("redeem by code");
    same_as_stored(&shop, &outcome, "a redemption by code");
    outcome = cards
        .issue_coupon(card.id, "Cake", 7, &admin)
        .await
        .expect("coupon");
    same_as_stored(&shop, &outcome, "a coupon");
    // Expiry is a matter of time, not of a write.
    clock.advance(chrono::Duration::days(5));
    outcome = cards
        .stamp_card(card.id, 1, None, &admin)
        .await
        .expect("stamp");
    same_as_stored(&shop, &outcome, "vouchers expired");
    outcome = cards.reissue(card.id, &admin).await.expect("reissue");
    same_as_stored(&shop, &outcome, "a reissue");

    // A replayed answer carries no vouchers: its view reads them.
    let first = cards
        .stamp_card(card.id, 1, Some("key-1"), &admin)
        .await
        .expect("stamp");
    let replay = cards
        .stamp_card(card.id, 1, Some("key-1"), &admin)
        .await
        .expect("replay");
    assert!(replay.replayed && replay.known.vouchers.is_none());
    assert_eq!(first.event_ids, replay.event_ids);
    same_as_stored(&shop, &replay, "a replay");
    shop.shutdown().await;
}
