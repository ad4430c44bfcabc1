//! Once-only duties across nodes (several `serve` processes on one
//! PostgreSQL): the Telegram bot — one poller per bot token, which the fake
//! Bot API enforces with 409 as Telegram does — moves to another node when
//! its node is SIGKILLed, and a campaign half sent by a killed node is
//! finished by another, each holder messaged at most once and the whole
//! shop within Telegram's 30 messages a second.

use std::time::{Duration, Instant};

use stampcard_e2e::fake_telegram::FakeTelegram;
use stampcard_e2e::{postgres, wait};

use super::postgres::{pg_shop, try_post};
use crate::{Server, Shop};

/// The folders of `n` more nodes of the shop in the database at `url`
/// (made from the database alone).
fn nodes_of(url: &str, n: usize) -> Vec<Shop> {
    (0..n)
        .map(|_| {
            let node = Shop::empty();
            node.run(&["init", "--store", url, "--node"]).ok();
            node
        })
        .collect()
}

/// A node's `serve` with the bot pointed at `fake`.
fn serve_node(shop: &Shop, fake: &FakeTelegram, throttle: bool) -> Server {
    shop.serve(&[
        ("STAMPCARD_STORE__SHARED", "true"),
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        (
            "STAMPCARD_TELEGRAM__THROTTLE",
            if throttle { "true" } else { "false" },
        ),
    ])
}

#[test]
fn the_bot_answers_from_another_node_within_ten_seconds_of_its_nodes_death() {
    let server = postgres::shared();
    let (first, url, _cards) = pg_shop(server, 0);
    let fake = FakeTelegram::start();
    let a = serve_node(&first, &fake, false);
    // A is the leader: it took every duty before B started.
    fake.message(7001, "Ana", "en", "/start j1");
    fake.wait_for_text(7001, "Load");
    let nodes = nodes_of(&url, 1);
    let b = serve_node(&nodes[0], &fake, false);
    // `stampcard nodes` on either node: both, A with every duty.
    let duties_of = |http: &str| {
        let listed = nodes[0].json(&["nodes"]);
        listed
            .as_array()
            .and_then(|l| l.iter().find(|n| n["http"] == format!("http://{http}")))
            .map(|n| n["duties"].clone())
    };
    let holds = |d: &serde_json::Value, name: &str| {
        d.as_array().is_some_and(|l| l.iter().any(|x| x == name))
    };
    let a_duties = wait::until(
        Duration::from_secs(15),
        || {
            duties_of(&a.http)
                .zip(duties_of(&b.http))
                .filter(|(a, _)| holds(a, "telegram dispatcher"))
        },
        || format!("{}", nodes[0].json(&["nodes"])),
    );
    assert!(holds(&a_duties.0, "telegram dispatcher"), "{a_duties:?}");
    assert_eq!(a_duties.1, serde_json::json!([]), "{a_duties:?}");
    let shown = nodes[0].run(&["nodes"]).ok().stdout;
    assert!(
        shown.contains("duties: ") && shown.contains("no duties"),
        "{shown}"
    );

    a.kill9();
    let killed = Instant::now();
    // Said during the gap: answered once, by B.
    fake.message(7002, "Boris", "en", "/start j1");
    fake.wait_for_text(7002, "Load");
    let gap = killed.elapsed();
    assert!(
        gap < Duration::from_secs(10),
        "answered {gap:?} after the leader died"
    );
    // The card Ana got on A is hers on B too: /start again shows it, no new one.
    fake.message(7001, "Ana", "en", "/start j1");
    wait::until(
        Duration::from_secs(10),
        || (fake.texts_to(7001).len() >= 2).then_some(()),
        || format!("{:?}", fake.texts_to(7001)),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.texts_to(7002).len(), 1, "{:?}", fake.texts_to(7002));
    assert_eq!(fake.texts_to(7001).len(), 2, "{:?}", fake.texts_to(7001));
    let cards = nodes[0].json(&["card", "list"]);
    assert_eq!(cards.as_array().map(Vec::len), Some(2), "{cards}");
    assert_eq!(fake.conflicts(), 0, "two nodes polled Telegram at once");
    // B took A's duties; A is listed silent once its heartbeats stop.
    wait::until(
        Duration::from_secs(30),
        || duties_of(&b.http).filter(|d| holds(d, "telegram dispatcher")),
        || format!("{}", nodes[0].json(&["nodes"])),
    );
    wait::until(
        Duration::from_secs(30),
        || {
            let shown = nodes[0].run(&["nodes"]).ok().stdout;
            shown.contains("SILENT since").then_some(())
        },
        || nodes[0].run(&["nodes"]).ok().stdout,
    );
    b.stop();
}

#[test]
fn a_campaign_half_sent_by_a_killed_node_is_finished_by_another_once_per_holder() {
    const HOLDERS: i64 = 1000;
    const TEXT: &str = "Cardamom week";
    let server = postgres::shared();
    let (first, url, _cards) = pg_shop(server, 0);
    let fake = FakeTelegram::start();
    // The holders join through the bot while it answers without limits
    // (this shop alone: the limits below are the shop's).
    let joining = first.serve(&[
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        ("STAMPCARD_TELEGRAM__THROTTLE", "false"),
    ]);
    for user in 0..HOLDERS {
        fake.message(100_000 + user, "Holder", "en", "/start j1");
    }
    wait::until(
        Duration::from_secs(120),
        || ((0..HOLDERS).all(|u| !fake.texts_to(100_000 + u).is_empty())).then_some(()),
        || "not every holder joined".to_string(),
    );
    joining.stop();

    // Two nodes with Telegram's limits; A takes the duties first.
    let a = serve_node(&first, &fake, true);
    let nodes = nodes_of(&url, 1);
    let b = serve_node(&nodes[0], &fake, true);
    let created = first.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--channels",
        "telegram",
        "--text",
        TEXT,
    ]);
    assert_eq!(
        created["audience"]["per_channel"]["telegram"], HOLDERS,
        "{created}"
    );
    let sent = |fake: &FakeTelegram| {
        fake.calls()
            .into_iter()
            .filter(|c| {
                c.method == "sendmessage"
                    && c.body["text"].as_str().is_some_and(|t| t.contains(TEXT))
            })
            .collect::<Vec<_>>()
    };
    first.run(&["campaign", "send", "1"]).ok();
    wait::until(
        Duration::from_secs(60),
        || (sent(&fake).len() >= 200).then_some(()),
        || format!("{} sent", sent(&fake).len()),
    );
    a.kill9();
    let status = wait::until(
        Duration::from_secs(120),
        || {
            let s = nodes[0].json(&["campaign", "show", "1"]);
            let t = &s["status"]["deliveries"]["telegram"];
            let settled: i64 = ["sent", "confirmed", "failed"]
                .iter()
                .map(|k| t[k].as_i64().unwrap_or(0))
                .sum();
            (settled == HOLDERS).then_some(s)
        },
        || format!("{}", nodes[0].json(&["campaign", "show", "1"])),
    );
    let calls = sent(&fake);
    let mut per_holder = std::collections::BTreeMap::<i64, usize>::new();
    for c in &calls {
        *per_holder
            .entry(c.body["chat_id"].as_i64().unwrap_or(0))
            .or_default() += 1;
    }
    let twice: Vec<_> = per_holder.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "messaged twice: {twice:?}");
    // A message the killed node had in flight is settled as unknown (failed),
    // never sent again: only those holders may have none.
    let failed = status["status"]["deliveries"]["telegram"]["failed"]
        .as_i64()
        .unwrap_or(0);
    let missing = HOLDERS - per_holder.len() as i64;
    assert!(
        missing <= failed && failed <= 3,
        "{missing} without, {failed} failed: {status}"
    );
    // Telegram's 30 a second, for the whole shop, across the handover (a
    // little slack for the network between the limiter and the fake).
    let times: Vec<Instant> = calls.iter().map(|c| c.at).collect();
    for (i, t) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_millis(950))
            .count();
        assert!(within <= 30, "{within} messages within a second");
    }
    assert_eq!(fake.conflicts(), 0, "two nodes polled Telegram at once");
    b.stop();
}

/// An update as Telegram posts it: `/start j1` from `user`.
fn start_update(id: i64, user: i64) -> String {
    serde_json::json!({
        "update_id": id,
        "message": {
            "message_id": id,
            "date": 1_767_000_000,
            "chat": {"id": user, "type": "private", "first_name": "Wren"},
            "from": {"id": user, "is_bot": false, "first_name": "Wren", "language_code": "en"},
            "text": "/start j1",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]
        }
    })
    .to_string()
}

#[test]
fn in_webhook_mode_any_node_takes_an_update_once_and_only_with_the_secret_token() {
    let server = postgres::shared();
    let (first, url, _cards) = pg_shop(server, 0);
    let fake = FakeTelegram::start();
    let hook = [(
        "STAMPCARD_TELEGRAM__WEBHOOK_URL",
        "https://shop.example/tg/updates",
    )];
    let a = first.serve(&[
        ("STAMPCARD_STORE__SHARED", "true"),
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        ("STAMPCARD_TELEGRAM__THROTTLE", "false"),
        hook[0],
    ]);
    let nodes = nodes_of(&url, 1);
    let b = nodes[0].serve(&[]);
    // The bot's node told Telegram where to post, with a secret token.
    let set = wait::until(
        Duration::from_secs(30),
        || fake.calls().into_iter().find(|c| c.method == "setwebhook"),
        || "no setWebhook".to_string(),
    );
    assert_eq!(
        set.body["url"], "https://shop.example/tg/updates",
        "{}",
        set.body
    );
    let secret = set.body["secret_token"]
        .as_str()
        .expect("secret token")
        .to_string();
    assert!(secret.len() >= 32, "{secret}");
    let posted = |node: &Server, token: Option<&str>, body: &str| {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(t) = token {
            headers.push(("X-Telegram-Bot-Api-Secret-Token", t));
        }
        try_post(&node.http, "/tg/updates", &headers, body).expect("node up")
    };
    let update = start_update(900, 8001);
    // Without the token, or with another: refused, nothing handled.
    assert_eq!(posted(&b, None, &update).0, 401);
    assert_eq!(
        posted(&b, Some("0123456789abcdef0123456789abcdef"), &update).0,
        401
    );
    assert_eq!(posted(&b, Some(&secret), "{\"not\": \"an update\"}").0, 400);
    std::thread::sleep(Duration::from_secs(1));
    assert!(fake.texts_to(8001).is_empty(), "{:?}", fake.texts_to(8001));
    // Posted to B (not the bot's node): answered by the bot.
    assert_eq!(posted(&b, Some(&secret), &update).0, 200);
    fake.wait_for_text(8001, "Load");
    // Telegram's retry of the same update, to the other node: answered once.
    assert_eq!(posted(&a, Some(&secret), &update).0, 200);
    assert_eq!(posted(&b, Some(&secret), &update).0, 200);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.texts_to(8001).len(), 1, "{:?}", fake.texts_to(8001));
    // In webhook mode nobody polls.
    assert!(
        !fake.calls().iter().any(|c| c.method == "getupdates"),
        "a node polled in webhook mode"
    );
    a.stop();
    b.stop();
}
