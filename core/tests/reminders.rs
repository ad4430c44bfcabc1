//! Voucher-expiry reminders on the clock seam: each active voucher with an
//! expiry is reminded once, when it comes within the window; redeemed,
//! expired and open-ended vouchers never are.

use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::clock::ManualClock;
use stampcard_core::model::{Actor, CustomerFields, EventKind, Reward};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, TemplateDraft};
use stampcard_core::store::SledOptions;

#[tokio::test]
async fn expiring_vouchers_are_reminded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(
        "2026-05-03T10:00:00Z".parse().expect("time"),
    ));
    let shop = Shop::open(
        dir.path(),
        ShopSettings::for_tests(),
        clock.clone(),
        SledOptions::default(),
    )
    .await
    .expect("open");
    let admin = Actor::Cli { user: "t".into() };
    let reward = Reward::Voucher {
        description: "Gift".into(),
        valid_days: 0,
    };
    let t = shop
        .create_template(TemplateDraft::new("Card", "Shop", 5, reward), &admin)
        .await
        .expect("template");
    let card = shop
        .issue_card(
            t.id,
            IssueCard::New(CustomerFields {
                name: "A".into(),
                ..Default::default()
            }),
            None,
            None,
            &admin,
        )
        .await
        .expect("card");
    let coupon = |days: u32| {
        let shop = shop.clone();
        let admin = admin.clone();
        async move {
            shop.issue_coupon(card.id, "Cake", days, &admin)
                .await
                .expect("coupon")
                .vouchers[0]
                .id
        }
    };
    let in_two = coupon(2).await;
    let in_five = coupon(5).await;
    let _forever = coupon(0).await;
    let redeemed = coupon(1).await;
    shop.redeem_voucher(redeemed, &admin).await.expect("redeem");
    let one_day = coupon(1).await;

    let within = chrono::Duration::days(3);
    // Due now: the two- and one-day coupons (not the redeemed one, not the
    // five-day one, not the one without expiry).
    assert_eq!(
        shop.remind_expiring_vouchers(within).await.expect("remind"),
        vec![in_two, one_day]
    );
    // Once each.
    assert!(
        shop.remind_expiring_vouchers(within)
            .await
            .expect("remind")
            .is_empty()
    );
    // Two days later the five-day coupon comes within the window; the
    // one-day coupon has expired without a second word.
    clock.advance(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    assert_eq!(
        shop.remind_expiring_vouchers(within).await.expect("remind"),
        vec![in_five]
    );
    clock.advance(chrono::Duration::days(30));
    assert!(
        shop.remind_expiring_vouchers(within)
            .await
            .expect("remind")
            .is_empty()
    );
    // Each reminder is journaled against the card, by the scheduler.
    let reminders: Vec<_> = shop
        .journal(&Default::default())
        .expect("journal")
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::VoucherExpiring { .. }))
        .collect();
    assert_eq!(reminders.len(), 3);
    assert!(reminders.iter().all(|e| e.card_id == Some(card.id)
        && e.actor
            == Actor::Channel {
                name: "scheduler".into()
            }));
}
