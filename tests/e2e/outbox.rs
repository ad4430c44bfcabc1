//! The outbox and the notifier under SIGKILL, with the log channel: every
//! stamp's message is queued exactly once and delivered exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::Rng;

use crate::{Shop, Stamper};

const LOG: (&str, &str) = ("STAMPCARD_OUTBOX__LOG_FILE", "messages.log");

/// Entry ids in the log channel's file, with how often each appears.
fn delivered(shop: &Shop) -> BTreeMap<u64, usize> {
    let text = std::fs::read_to_string(shop.data().join("messages.log")).unwrap_or_default();
    let mut seen = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("torn or bad log line ({e}): {line}"));
        let id = v["entry"].as_u64().expect("entry id");
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

fn outbox(shop: &Shop) -> Vec<serde_json::Value> {
    shop.json(&["outbox", "list", "--limit", "1000000"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits (polling, with a timeout) until no message is queued or sending
/// and the notifier has reached these events (a restarted server catches
/// up from its cursor after it is ready; on PostgreSQL that takes a few
/// round trips). A message that never comes still fails the test, here
/// after the timeout.
fn drained(shop: &Shop, reached: &BTreeSet<u64>) -> Vec<serde_json::Value> {
    let unfinished = |e: &serde_json::Value| e["state"] == "queued" || e["state"] == "sending";
    let covers = |all: &Vec<serde_json::Value>| {
        let sources: BTreeSet<u64> = all
            .iter()
            .filter_map(|e| e["source_event"].as_u64())
            .collect();
        reached.is_subset(&sources)
    };
    stampcard_e2e::wait::until(
        Duration::from_secs(60),
        || Some(outbox(shop)).filter(|all| !all.iter().any(unfinished) && covers(all)),
        || {
            format!(
                "the outbox does not drain, or misses events of {reached:?}: {:?}",
                outbox(shop)
            )
        },
    )
}

fn stamp_events(shop: &Shop, after: u64) -> BTreeSet<u64> {
    shop.json(&["journal", "--type", "stamp_added", "--limit", "1000000"])
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["id"].as_u64())
        .filter(|id| *id > after)
        .collect()
}

fn last_event(shop: &Shop) -> u64 {
    shop.json(&["journal", "--limit", "1"])[0]["id"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn messages_survive_sigkill_exactly_once() {
    let shop = Shop::demo();
    // Lottery cards have no daily cap, so every stamp is accepted.
    let codes: Vec<String> = (0..4)
        .map(|i| shop.new_card(2, &format!("Guest {i}")).1)
        .collect();
    // The notifier starts at the present: nothing before this is messaged.
    let server = shop.serve(&[LOG]);
    let start = last_event(&shop);
    server.stop();
    let mut rng = rand::rng();
    for _ in 0..8 {
        let server = shop.serve(&[LOG]);
        let stamper = Stamper::start(&shop, &codes);
        std::thread::sleep(Duration::from_millis(rng.random_range(100..600)));
        // Killed while stamps and their messages are in flight.
        server.kill9();
        stamper.stop();
    }
    let server = shop.serve(&[LOG]);
    let stamps = stamp_events(&shop, start);
    let entries = drained(&shop, &stamps);
    server.stop();

    assert!(
        stamps.len() >= 8,
        "the test stamped too little: {}",
        stamps.len()
    );
    // Queued exactly once: one message per stamp event, none for anything else.
    let mut per_event: BTreeMap<u64, usize> = BTreeMap::new();
    for e in &entries {
        if let Some(ev) = e["source_event"].as_u64() {
            *per_event.entry(ev).or_insert(0) += 1;
        }
    }
    let stamp_messages: BTreeSet<u64> = per_event
        .keys()
        .copied()
        .filter(|e| stamps.contains(e))
        .collect();
    assert_eq!(stamp_messages, stamps, "every stamp is messaged");
    assert!(
        per_event.values().all(|n| *n == 1),
        "one message per event: {per_event:?}"
    );
    // Delivered exactly once: every entry is in the log once, and done.
    let log = delivered(&shop);
    assert!(
        log.values().all(|n| *n == 1),
        "nothing is sent twice: {log:?}"
    );
    let ids: BTreeSet<u64> = entries.iter().filter_map(|e| e["id"].as_u64()).collect();
    assert_eq!(
        log.keys().copied().collect::<BTreeSet<_>>(),
        ids,
        "nothing is lost"
    );
    for e in &entries {
        assert!(
            e["state"] == "confirmed" || e["state"] == "sent",
            "delivered: {e}"
        );
    }
}

#[test]
fn the_notifier_catches_up_from_its_cursor() {
    let shop = Shop::demo();
    let server = shop.serve(&[LOG]);
    server.stop();
    // While no server runs, the shop goes on stamping at the counter.
    let (_, code) = shop.new_card(2, "Ada");
    let offline: Vec<u64> = (0..3)
        .map(|_| {
            shop.json(&["stamp", &code])["event_ids"][0]
                .as_u64()
                .unwrap_or(0)
        })
        .collect();
    assert!(
        delivered(&shop).is_empty(),
        "nothing is sent without a server"
    );
    let server = shop.serve(&[LOG]);
    let expected = stamp_events(&shop, 0)
        .into_iter()
        .filter(|e| *e >= offline.iter().copied().min().unwrap_or(0))
        .collect::<BTreeSet<_>>();
    assert_eq!(expected.len(), 3);
    let entries = drained(&shop, &expected);
    server.stop();
    let events: BTreeSet<u64> = entries
        .iter()
        .filter_map(|e| e["source_event"].as_u64())
        .collect();
    assert_eq!(
        events, expected,
        "the three offline stamps are messaged on restart"
    );
    assert_eq!(delivered(&shop).len(), 3);
}
