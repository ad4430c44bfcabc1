//! Joining by Telegram: one customer per Telegram user, one card per
//! template, even when the join button is tapped many times at once.
mod backend;

use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::clock::SystemClock;
use stampcard_core::model::{Actor, Platform, Reward};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{TelegramUser, TemplateDraft};
use stampcard_core::store::SledOptions;

async fn template(shop: &Shop, name: &str) -> u64 {
    let reward = Reward::Simple {
        description: "Gift".into(),
    };
    let draft = TemplateDraft::new(name, "Shop", 5, reward);
    shop.templates()
        .create_template(draft, &Actor::Cli { user: "t".into() })
        .await
        .expect("template")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_user_gets_one_card_per_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = crate::backend::open(
        dir.path(),
        ShopSettings::for_tests(),
        Arc::new(SystemClock),
        SledOptions::default(),
    )
    .await
    .expect("open");
    let coffee = template(&shop, "Coffee").await;
    let bakery = template(&shop, "Bakery").await;
    let user = TelegramUser {
        id: 4242,
        name: "Lena".into(),
        language: Some("ru".into()),
    };
    let taps: Vec<_> = (0..20)
        .map(|_| {
            let (shop, user) = (shop.clone(), user.clone());
            tokio::spawn(async move {
                shop.customers()
                    .join_telegram(coffee, &user, Some("table".into()))
                    .await
            })
        })
        .collect();
    let mut cards = Vec::new();
    for t in taps {
        cards.push(t.await.expect("task").expect("join"));
    }
    assert_eq!(cards.iter().filter(|j| j.new).count(), 1, "one card issued");
    assert!(cards.iter().all(|j| j.card.id == cards[0].card.id));
    assert!(cards[0].card.platforms.contains(&Platform::Telegram));
    assert_eq!(cards[0].card.source.as_deref(), Some("table"));
    let customer = shop
        .customers()
        .customer_by_telegram(4242)
        .expect("lookup")
        .expect("customer");
    assert_eq!(customer.language.as_deref(), Some("ru"));
    let other = shop
        .customers()
        .join_telegram(bakery, &user, None)
        .await
        .expect("join");
    assert!(other.new && other.card.customer_id == customer.id);
    assert!(
        shop.customers()
            .join_telegram(999, &user, None)
            .await
            .is_err(),
        "unknown template"
    );
}
