//! A coffee card for Ana, shared by the tests that need one card on a
//! voucher template and nothing else, and the shop they open for it.

use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::clock::ManualClock;
use stampcard_core::model::{Actor, Card, CustomerFields, Reward};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, TemplateDraft};
use stampcard_core::store::SledOptions;

/// A shop in `dir` on test settings, its clock standing at `now`.
#[allow(dead_code)] // not every test opens its shop this way
pub async fn open(dir: &std::path::Path, now: &str) -> Shop {
    let clock = Arc::new(ManualClock::new(now.parse().expect("time")));
    crate::backend::open(
        dir,
        ShopSettings::for_tests(),
        clock,
        SledOptions::default(),
    )
    .await
    .expect("open")
}

/// The admin the set-up acts as.
pub fn admin() -> Actor {
    Actor::Cli { user: "t".into() }
}

/// A "Coffee" template whose reward is a free coffee after `stamps`
/// (the voucher valid `valid_days`, 0 = no end), and Ana's card of it.
#[allow(dead_code)] // not every test needs Ana's card
pub async fn ana_card(shop: &Shop, stamps: u32, valid_days: u32) -> Card {
    let t = shop
        .templates()
        .create_template(
            TemplateDraft::new(
                "Coffee",
                "Shop",
                stamps,
                Reward::Voucher {
                    description: "A free coffee".into(),
                    valid_days,
                },
            ),
            &admin(),
        )
        .await
        .expect("template");
    card_for(shop, t.id, "Ana").await
}

/// A new customer's card of a template.
pub async fn card_for(shop: &Shop, template: u64, name: &str) -> Card {
    shop.cards()
        .issue_card(
            template,
            IssueCard::New(CustomerFields {
                name: name.into(),
                ..Default::default()
            }),
            None,
            None,
            &admin(),
        )
        .await
        .expect("card")
}
