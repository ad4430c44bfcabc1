//! Analytics per shop-local day, from the real journal, moving time through
//! the clock seam.
mod backend;

use std::sync::Arc;

use stampcard_core::clock::ManualClock;
use stampcard_core::model::{Actor, CustomerFields, Reward, Role};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, TemplateDraft};
use stampcard_core::store::SledOptions;

#[tokio::test]
async fn days_count_stamps_cards_and_vouchers_in_the_shop_time_zone() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 23:30 UTC on May 3 is already May 4 in Berlin (UTC+2).
    let clock = Arc::new(ManualClock::new(
        "2026-05-03T23:30:00Z".parse().expect("time"),
    ));
    let mut settings = ShopSettings::for_tests();
    settings.timezone = chrono_tz::Europe::Berlin;
    let shop = crate::backend::open(dir.path(), settings, clock.clone(), SledOptions::default())
        .await
        .expect("open");
    let admin = Actor::Cli { user: "t".into() };
    let t = shop
        .templates()
        .create_template(
            TemplateDraft::new(
                "Card",
                "Shop",
                2,
                Reward::Voucher {
                    description: "Gift".into(),
                    valid_days: 0,
                },
            ),
            &admin,
        )
        .await
        .expect("template");
    let sam = shop
        .access()
        .add_staff("Sam", Role::Staff, "1111", &admin)
        .await
        .expect("staff");
    let staff = stampcard_core::shop::Access::staff_actor(&sam);
    let card = shop
        .cards()
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
    // May 4 (Berlin): 2 stamps by Sam, a goal, a voucher.
    let o = shop
        .cards()
        .stamp_card(card.id, 2, None, &staff)
        .await
        .expect("stamp");
    let voucher = o.vouchers.first().expect("voucher").id;
    // May 6: one stamp by the CLI, the voucher redeemed, a second card.
    clock.advance(chrono::Duration::days(2));
    shop.cards()
        .stamp_card(card.id, 1, None, &admin)
        .await
        .expect("stamp");
    shop.cards()
        .redeem_voucher(voucher, &staff)
        .await
        .expect("redeem");
    shop.cards()
        .issue_card(
            t.id,
            IssueCard::New(CustomerFields {
                name: "B".into(),
                ..Default::default()
            }),
            None,
            None,
            &admin,
        )
        .await
        .expect("card");

    let a = shop.journal().analytics(7).expect("analytics");
    assert_eq!(a.days.len(), 7);
    let day = |d: &str| {
        a.days
            .iter()
            .find(|x| x.day.to_string() == d)
            .cloned()
            .unwrap_or_else(|| panic!("day {d} in {:?}", a.days))
    };
    assert_eq!(
        a.days.last().map(|d| d.day.to_string()).as_deref(),
        Some("2026-05-06")
    );
    assert_eq!(
        (day("2026-05-04").stamps, day("2026-05-04").new_cards),
        (2, 1)
    );
    assert_eq!(day("2026-05-04").vouchers_issued, 1);
    assert_eq!(day("2026-05-05").stamps, 0);
    assert_eq!(
        (day("2026-05-06").stamps, day("2026-05-06").new_cards),
        (1, 1)
    );
    assert_eq!(day("2026-05-06").vouchers_redeemed, 1);
    assert_eq!(a.active_customers, 1);
    assert!((a.redemption_rate - 1.0).abs() < 1e-9);
    assert_eq!(a.per_actor.first(), Some(&("Sam".to_string(), 2)));
    // A one-day window sees only today.
    let today = shop.journal().analytics(1).expect("analytics");
    assert_eq!(today.days.len(), 1);
    assert_eq!(today.days[0].stamps, 1);
}
