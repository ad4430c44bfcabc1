//! When an Apple device asks which of its passes changed, the tag it gets
//! for next time never skips a change the pass updater has not recorded
//! yet (a holder's new language is a pass's version only once recorded):
//! a device asking in that moment is told of the change on its next ask,
//! and a change no pass shows does not hold the tag back.

mod backend;
mod coffee;

use std::sync::Arc;
use std::time::Duration;

use stampcard_core::consumers::{PASS_UPDATER, PassUpdater, run_consumer, start_cursor};
use stampcard_core::shop::ProfileChange;

const DEVICE: &str = "d3v1ce0000library0id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_asking_before_the_updater_ran_hears_of_the_change_next_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = coffee::open(dir.path(), "2026-12-03T10:00:00Z").await;
    let card = coffee::ana_card(&shop, 8, 0).await;
    let passes = shop.passes();
    let pass = passes.ensure_pass(card.id).await.expect("pass");
    let serial = stampcard_core::model::PassRecord::serial_of(card.id);
    passes
        .register_pass_device(&serial, &pass.auth_token, DEVICE, "a1b2c3d4e5f6")
        .await
        .expect("registered");
    start_cursor(shop.context(), PASS_UPDATER)
        .await
        .expect("cursor");
    let (_, tag) = passes.passes_updated(DEVICE, None).expect("list");
    assert!(
        passes
            .passes_updated(DEVICE, Some(tag))
            .expect("list")
            .0
            .is_empty()
    );

    // A change no pass shows (her phone) does not hold the tag back, even
    // before the updater saw it.
    shop.customers()
        .update_profile(
            card.customer_id,
            ProfileChange::Phone(Some("+4915112345678".into())),
            &coffee::admin(),
        )
        .await
        .expect("phone");
    let (none, tag) = passes.passes_updated(DEVICE, Some(tag)).expect("list");
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(tag, shop.store().last_event_id());

    // Ana switches to Russian; the device asks before the updater ran.
    shop.customers()
        .update_profile(
            card.customer_id,
            ProfileChange::Language(Some("ru".into())),
            &coffee::admin(),
        )
        .await
        .expect("language");
    let (early, next) = passes.passes_updated(DEVICE, Some(tag)).expect("list");
    assert!(early.is_empty(), "not a new version yet: {early:?}");

    // The updater records the change; the device's next ask finds it.
    let (stop, rx) = tokio::sync::watch::channel(false);
    let ctx = shop.context().clone();
    let updater = tokio::spawn(async move {
        run_consumer(ctx, Arc::new(PassUpdater), rx)
            .await
            .expect("updater");
    });
    let last = shop.store().last_event_id();
    for _ in 0..500 {
        if shop
            .journal()
            .consumer_cursor(PASS_UPDATER)
            .expect("cursor")
            >= last
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (changed, _) = passes.passes_updated(DEVICE, Some(next)).expect("list");
    assert_eq!(changed, vec![serial]);
    let _ = stop.send(true);
    let _ = updater.await;
    shop.shutdown().await;
}
