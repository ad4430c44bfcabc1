//! A coffee card for Ana, shared by the tests that need one card on a
//! voucher template and nothing else.

use stampcard_core::Shop;
use stampcard_core::model::{Actor, Card, CustomerFields, Reward};
use stampcard_core::shop::{IssueCard, TemplateDraft};

/// The admin the set-up acts as.
pub fn admin() -> Actor {
    Actor::Cli { user: "t".into() }
}

/// A "Coffee" template whose reward is a free coffee after `stamps`
/// (the voucher valid `valid_days`, 0 = no end), and Ana's card of it.
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
    shop.cards()
        .issue_card(
            t.id,
            IssueCard::New(CustomerFields {
                name: "Ana".into(),
                ..Default::default()
            }),
            None,
            None,
            &admin(),
        )
        .await
        .expect("card")
}
