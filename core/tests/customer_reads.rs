//! A customer is read on every card view (their name and language), and
//! the store keeps the customers it decoded in memory. Whatever changes a
//! customer — a profile edit, consent, forgetting — must be what the very
//! next read and card view show, also while other threads read the same
//! customer as fast as they can.
mod backend;

mod coffee;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stampcard_core::shop::ProfileChange;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_to_a_customer_is_read_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = coffee::open(dir.path(), "2026-05-04T10:00:00Z").await;
    let admin = coffee::admin();
    let card = coffee::ana_card(&shop, 5, 0).await;
    let id = card.customer_id;
    assert_eq!(
        shop.cards().card_view(card.id).expect("view").customer_name,
        "Ana"
    );

    // Readers keep the customer hot while it changes.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (shop, stop) = (shop.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    shop.customers().customer(id).expect("read");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for i in 0..200 {
        let name = format!("Ana {i}");
        shop.customers()
            .update_profile(id, ProfileChange::Name(name.clone()), &admin)
            .await
            .expect("update");
        assert_eq!(shop.customers().customer(id).expect("read").name, name);
        assert_eq!(
            shop.cards().card_view(card.id).expect("view").customer_name,
            name,
            "the view after edit {i} shows an older name"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }

    shop.customers()
        .update_profile(id, ProfileChange::Language(Some("ru".into())), &admin)
        .await
        .expect("language");
    assert_eq!(
        shop.cards()
            .card_view(card.id)
            .expect("view")
            .language
            .as_deref(),
        Some("ru")
    );
    shop.customers()
        .set_consent(id, "email", true, "test", &admin)
        .await
        .expect("consent");
    let consent = shop.customers().customer(id).expect("read").consent_email;
    assert!(consent.is_some_and(|c| c.granted));

    // A refused edit changes nothing, in memory either.
    assert!(
        shop.customers()
            .update_profile(id, ProfileChange::Name("  ".into()), &admin)
            .await
            .is_err()
    );
    assert_eq!(shop.customers().customer(id).expect("read").name, "Ana 199");

    shop.customers()
        .forget_customer(id, &admin)
        .await
        .expect("forget");
    let gone = shop.customers().customer(id).expect("read");
    assert!(gone.forgotten);
    assert_eq!(gone.name, "(forgotten)");
    assert!(gone.consent_email.is_none());
    shop.shutdown().await;
    drop(shop);

    // And it is what the store holds: the same after a restart.
    let shop = coffee::open(dir.path(), "2026-05-04T10:00:00Z").await;
    assert_eq!(shop.customers().customer(id).expect("read"), gone);
}
