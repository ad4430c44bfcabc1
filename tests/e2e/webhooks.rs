//! Webhooks through the real binary: deliveries signed with the webhook's
//! secret (verified here with HMAC-SHA256), only the subscribed event
//! types, in journal order per card, and retried until a receiver that was
//! down comes back — nothing lost, the delivery log in the CLI.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use stampcard_e2e::wait;
use stampcard_e2e::webhook_receiver::{Delivery, Receiver};

use crate::Shop;

/// Checks a delivery's signature the way a receiver would.
fn verify(secret: &str, d: &Delivery) -> bool {
    let ts = d.header("stampcard-timestamp");
    let Some(hex_sig) = d.header("stampcard-signature").strip_prefix("v1=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{ts}.{}", d.body).as_bytes());
    mac.verify_slice(&sig).is_ok()
}

#[test]
fn webhooks_are_signed_filtered_ordered_and_retried_until_the_receiver_is_back() {
    let shop = Shop::demo();
    let receiver = Receiver::start(false);
    let hook = shop.json(&[
        "webhook",
        "create",
        "--url",
        &receiver.url("/loyalty"),
        "--events",
        "stamp_added,voucher_redeemed",
    ]);
    let secret = hook["secret"].as_str().expect("secret").to_string();
    assert_eq!(secret.len(), 64, "256-bit secret: {hook}");

    // Bad input is refused with the reason and creates nothing.
    let bad = shop.run(&["webhook", "create", "--url", "ftp://crm.example/x"]);
    assert_ne!(bad.code, 0, "{}", bad.stdout);
    assert!(bad.stderr.contains("http://"), "{}", bad.stderr);
    let bad = shop.run(&[
        "webhook",
        "create",
        "--url",
        "https://crm.example/x",
        "--events",
        "stamp",
    ]);
    assert!(bad.stderr.contains("not an event type"), "{}", bad.stderr);
    assert_eq!(
        shop.json(&["webhook", "list"]).as_array().map(Vec::len),
        Some(1)
    );

    let server = shop.serve(&[("STAMPCARD_OUTBOX__RETRY_SECS", "0.2")]);
    let code = shop.card_code(100001);
    let before = shop.json(&["journal", "--limit", "1"])[0]["id"]
        .as_u64()
        .expect("last event");
    for _ in 0..3 {
        shop.run(&["stamp", &code]).ok();
    }
    // Not subscribed: no delivery.
    shop.run(&["adjust", "--reason", "test", "100001", "1"])
        .ok();

    // The receiver is down: the first delivery is tried again and again,
    // and the later ones of the same card wait behind it.
    wait::until(
        Duration::from_secs(30),
        || (receiver.dropped() >= 2).then_some(()),
        || format!("dropped {}", receiver.dropped()),
    );
    receiver.set_up(true);
    let got = wait::until(
        Duration::from_secs(60),
        || {
            let r = receiver.received();
            (r.len() >= 3).then_some(r)
        },
        || format!("received {:?}", receiver.received()),
    );
    let journal: Vec<u64> = shop
        .json(&["journal", "--card", "100001", "--type", "stamp_added"])
        .as_array()
        .expect("journal")
        .iter()
        .map(|e| e["id"].as_u64().expect("id"))
        .filter(|id| *id > before)
        .rev()
        .collect();
    assert_eq!(journal.len(), 3);
    let ids: Vec<u64> = got
        .iter()
        .map(|d| d.json()["event"]["id"].as_u64().expect("event id"))
        .collect();
    assert_eq!(ids, journal, "every stamp once, in journal order");
    for d in &got {
        assert!(verify(&secret, d), "signature of {d:?}");
        assert!(
            !verify(&"0".repeat(64), d),
            "a wrong secret must not verify"
        );
        assert_eq!(d.header("stampcard-event"), "stamp_added");
        assert_eq!(d.json()["event"]["type"], "stamp_added");
        assert_eq!(d.json()["event"]["card_id"], 100001);
        assert_eq!(d.header("content-type"), "application/json");
        let ts: i64 = d.header("stampcard-timestamp").parse().expect("timestamp");
        assert!(
            (chrono::Utc::now().timestamp() - ts).abs() < 600,
            "the timestamp is the send time"
        );
        let delivery: u64 = d.header("stampcard-delivery").parse().expect("delivery id");
        assert_eq!(d.json()["delivery_id"], delivery);
    }

    // The delivery log: all confirmed, the first after retries. (The
    // receiver has a delivery before its entry is marked: wait for the marks.)
    let log = wait::until(
        Duration::from_secs(20),
        || {
            let log = shop.json(&["webhook", "deliveries", "1"]);
            let all = log.as_array()?.clone();
            (all.len() == 3 && all.iter().all(|e| e["state"] == "confirmed")).then_some(all)
        },
        || format!("{}", shop.json(&["webhook", "deliveries", "1"])),
    );
    let first = log.last().expect("oldest");
    assert!(first["attempts"].as_u64() >= Some(3), "{first}");
    assert!(
        first["last_error"].is_string(),
        "the failure is kept: {first}"
    );

    // A deleted webhook gets nothing more; a webhook made afterwards gets
    // the next stamp (queued by the same consumer, in the same write as
    // any delivery to the deleted one would have been).
    shop.run(&["webhook", "delete", "1"]).ok();
    let later = Receiver::start(true);
    shop.run(&["webhook", "create", "--url", &later.url("/")])
        .ok();
    shop.run(&["stamp", &code]).ok();
    wait::until(
        Duration::from_secs(30),
        || (!later.received().is_empty()).then_some(()),
        || "the new webhook never got the stamp".into(),
    );
    assert_eq!(receiver.received().len(), 3, "nothing after delete");
    let log = shop.json(&["webhook", "deliveries", "1"]);
    assert_eq!(log.as_array().map(Vec::len), Some(3));
    server.stop();

    // The console's settings tab shows the webhook's delivery log.
    let tmux = crate::console::admin_console(&shop, "CI=true");
    tmux.keys(&["8"]);
    let screen = tmux.wait_for("✅✅ confirmed");
    assert!(screen.contains(&later.url("/")), "{screen}");
    assert!(screen.contains("stamp_added"), "{screen}");
    assert!(
        !screen.contains("/loyalty"),
        "deleted webhooks are not listed: {screen}"
    );
    tmux.quit();
}
