//! Campaigns through the REST API and the CLI against the real binary:
//! created with their audience, sent, delivered on the log channel exactly
//! once per recipient even when the server is killed with SIGKILL in the
//! middle of the delivery or between two planning batches; the role and
//! bad input are refused.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::Shop;

const ENV: [(&str, &str); 2] = [
    ("STAMPCARD_OUTBOX__LOG_FILE", "messages.log"),
    ("STAMPCARD_OUTBOX__LOG_PER_SECOND", "8"),
];

/// Deliveries in the log channel's file per customer (recipient) of the
/// messages that start with `text`.
fn delivered(shop: &Shop, text: &str) -> BTreeMap<String, usize> {
    messages(shop, text)
        .into_iter()
        .fold(BTreeMap::new(), |mut seen, (to, _)| {
            *seen.entry(to).or_insert(0) += 1;
            seen
        })
}

/// Waits until each of `holders` recipients has a message starting with
/// `text`, and checks that nobody has two.
fn delivered_once_each(shop: &Shop, text: &str, holders: u64) {
    let all = stampcard_e2e::wait::until(
        Duration::from_secs(60),
        || {
            let d = delivered(shop, text);
            (d.len() as u64 == holders).then_some(d)
        },
        || format!("delivered {:?}", delivered(shop, text)),
    );
    assert!(all.values().all(|n| *n == 1), "exactly once each: {all:?}");
}

/// (recipient, text) of every log-channel message that starts with `text`.
fn messages(shop: &Shop, text: &str) -> Vec<(String, String)> {
    let log = std::fs::read_to_string(shop.data().join("messages.log")).unwrap_or_default();
    let mut out = Vec::new();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("torn or bad log line ({e}): {line}"));
        let said = v["text"].as_str().unwrap_or_default();
        if said.starts_with(text) {
            let to = v["to"].as_str().unwrap_or_default().to_string();
            out.push((to, said.to_string()));
        }
    }
    out
}

#[test]
fn a_campaign_reaches_every_recipient_once_across_a_sigkill() {
    let shop = Shop::demo();
    for i in 0..17 {
        shop.new_card(1, &format!("Guest {i}"));
    }
    let admin = shop.api_key("crm", "admin");
    let staff = shop.api_key("pos", "staff");
    let server = shop.serve(&ENV);
    let post = |token: &str, path: &str, body: &str| {
        server.request(
            "POST",
            path,
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let text = "Pumpkin pie is back — this week only.";
    let body = format!(
        r#"{{"template_id": 1, "text": "{text}", "push_text": "Pie is back!", "channels": ["log", "wallet"]}}"#
    );
    // Staff keys may not; a PUSH text over the limit is refused; nothing stored.
    assert_eq!(post(&staff, "/api/v1/campaigns", &body).status, 403);
    let long = body.replace("Pie is back!", "Pumpkin pie is back this week");
    let refused = post(&admin, "/api/v1/campaigns", &long);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("at most 20")
    );
    assert_eq!(
        shop.json(&["campaign", "list"]).as_array().map(Vec::len),
        Some(0)
    );

    let created = post(&admin, "/api/v1/campaigns", &body);
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let holders = created["audience"]["cards"].as_u64().expect("audience");
    assert!(holders >= 18, "{created}");
    assert_eq!(created["audience"]["per_channel"]["log"], holders);
    assert_eq!(
        created["audience"]["per_channel"]["wallet"], 0,
        "no wallet yet"
    );
    let id = created["campaign"]["id"].as_u64().expect("id");
    assert_eq!(
        created["campaign"]["name"]
            .as_str()
            .map(|n| n.starts_with("1_")),
        Some(true)
    );

    let sent = post(&admin, &format!("/api/v1/campaigns/{id}/send"), "{}");
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.json()["recipients"], holders);
    assert_eq!(sent.json()["state"], "sent");
    // Kill the server while the log channel (8/s) is still delivering.
    stampcard_e2e::wait::until(
        Duration::from_secs(30),
        || (delivered(&shop, text).len() >= 3).then_some(()),
        || "nothing delivered".into(),
    );
    assert!(
        (delivered(&shop, text).len() as u64) < holders,
        "killed mid-delivery"
    );
    server.kill9();

    let server = shop.serve(&ENV);
    delivered_once_each(&shop, text, holders);
    // The file line is written before its entry is marked confirmed: wait
    // for the last mark too.
    let status = stampcard_e2e::wait::until(
        Duration::from_secs(30),
        || {
            let s = shop.json(&["campaign", "show", &id.to_string()]);
            (s["status"]["deliveries"]["log"]["confirmed"] == holders).then_some(s)
        },
        || format!("{}", shop.json(&["campaign", "show", &id.to_string()])),
    );
    assert_eq!(
        status["status"]["deliveries"]["log"]
            .as_object()
            .map(|o| o.len()),
        Some(1),
        "nothing queued or failed: {status}"
    );
    assert_eq!(status["status"]["deliveries"]["wallet"]["n/a"], holders);
    // Each delivered message is journaled on its card, once, also the ones
    // the kill caught between the file line and the mark.
    let delivered_events =
        shop.json(&["journal", "--type", "campaign_delivered", "--limit", "1000"]);
    let cards: BTreeSet<String> = delivered_events
        .as_array()
        .expect("journal")
        .iter()
        .map(|e| {
            assert_eq!(e["campaign_id"], id, "{e}");
            assert_eq!(e["channel"], "log", "{e}");
            e["card_id"].to_string()
        })
        .collect();
    assert_eq!(
        delivered_events.as_array().map(Vec::len),
        Some(holders as usize),
        "{delivered_events}"
    );
    assert_eq!(cards.len() as u64, holders, "one per card");
    let journal = shop.json(&["journal", "--type", "campaign_sent"]);
    assert_eq!(journal.as_array().map(Vec::len), Some(1), "{journal}");
    assert!(
        journal.to_string().contains("stc_1"),
        "the API key is named: {journal}"
    );
    // The card's web page shows the message that reached it.
    let url = shop.json(&["card", "show", "100001"])["url"]
        .as_str()
        .expect("url")
        .to_string();
    let (status, page) = server.get(&url[url.find("/c/").expect("card path")..]);
    assert_eq!(status, 200);
    assert!(page.contains("<div class=\"news\">"), "{page}");
    assert!(page.contains(text), "{page}");
    server.stop();
}

#[test]
fn a_campaign_killed_between_planning_batches_resumes_with_one_voucher_and_message_each() {
    let shop = Shop::demo();
    for i in 0..13 {
        shop.new_card(1, &format!("Guest {i}"));
    }
    // Five recipients per planning batch; the server kills itself with
    // SIGKILL once the first batch is durable and the second one is planned
    // (its vouchers issued, its messages not yet stored).
    let batch = ("STAMPCARD_CAMPAIGNS__PLAN_BATCH", "5");
    let server = shop.serve(&[
        ENV[0],
        ENV[1],
        batch,
        ("STAMPCARD_CRASH_AT", "campaign-batch:1"),
    ]);
    let text = "Soup season opens on Monday.";
    let created = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--segment",
        "all",
        "--channels",
        "log",
        "--text",
        text,
        "--voucher",
        "Free soup",
        "--voucher-days",
        "14",
    ]);
    let id = created["campaign"]["id"].to_string();
    let holders = created["audience"]["per_channel"]["log"]
        .as_u64()
        .expect("audience");
    assert!(holders > 10, "three batches at least: {created}");

    let mark = shop.json(&["journal", "--limit", "1"])[0]["id"].to_string();
    let send = shop.run(&["campaign", "send", &id]);
    assert_ne!(send.code, 0, "the server died under the command");
    server.wait_killed();
    let half = shop.json(&["campaign", "show", &id]);
    assert_eq!(half["status"]["campaign"]["state"], "planning", "{half}");
    // One batch (five cards) is planned, not the whole audience.
    assert_eq!(
        half["status"]["campaign"]["planned_after"], 100005,
        "{half}"
    );
    let first = half["status"]["campaign"]["recipients"]
        .as_u64()
        .expect("recipients");
    assert!(first > 0 && first < holders, "{half}");

    // At start the server resumes the planning where the last batch ended.
    let server = shop.serve(&[ENV[0], ENV[1], batch]);
    delivered_once_each(&shop, text, holders);
    let done = shop.json(&["campaign", "show", &id]);
    assert_eq!(done["status"]["campaign"]["state"], "sent", "{done}");
    assert_eq!(done["status"]["campaign"]["recipients"], holders, "{done}");
    assert_eq!(done["status"]["campaign"]["messages"], holders, "{done}");

    // One voucher per recipient, also for the batch planned before the
    // kill, and each message names its recipient's own voucher.
    let issued = shop.json(&[
        "journal",
        "--type",
        "voucher_issued",
        "--after",
        &mark,
        "--limit",
        "1000",
    ]);
    let issued = issued.as_array().expect("journal");
    assert_eq!(issued.len() as u64, holders, "{issued:?}");
    let cards: BTreeSet<String> = issued.iter().map(|e| e["card_id"].to_string()).collect();
    assert_eq!(cards.len() as u64, holders, "one each: {issued:?}");
    let codes: BTreeSet<String> = messages(&shop, text)
        .into_iter()
        .map(|(_, said)| {
            said.split("code ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .unwrap_or_else(|| panic!("no voucher code in {said}"))
                .to_string()
        })
        .collect();
    assert_eq!(codes.len() as u64, holders, "{codes:?}");
    let journal = shop.json(&["journal", "--type", "campaign_sent"]);
    assert_eq!(journal.as_array().map(Vec::len), Some(1), "{journal}");
    server.stop();
}

#[test]
fn campaigns_are_renamed_and_drafts_deleted_while_sent_ones_stay() {
    let shop = Shop::demo();
    let run = |args: &[&str]| {
        let out = shop.command(args).envs(ENV).output().expect("run");
        crate::Run::from(out)
    };
    let create = |text: &str| {
        run(&[
            "--json",
            "campaign",
            "create",
            "--template",
            "1",
            "--channels",
            "log",
            "--text",
            text,
        ])
        .ok()
        .json()["campaign"]["id"]
            .to_string()
    };
    let names = || -> Vec<String> {
        shop.json(&["campaign", "list"])
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s["campaign"]["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let draft = create("Soup week.");
    let sent = create("Bread week.");
    run(&["campaign", "send", &sent]).ok();

    let said = run(&["campaign", "rename", &draft, "  Soup week  "]).ok();
    assert!(
        said.stdout.contains("is now \"Soup week\""),
        "{}",
        said.stdout
    );
    run(&["campaign", "rename", &sent, "Bread week"]).ok();
    assert_eq!(names(), ["Bread week", "Soup week"]);
    // Bad names and unknown campaigns are refused and change nothing.
    for bad in [
        vec!["campaign", "rename", &draft, " "],
        vec!["campaign", "rename", &draft, "two\nlines"],
        vec!["campaign", "rename", "999", "Ghost"],
        vec!["campaign", "delete", "999"],
    ] {
        let r = run(&bad);
        assert_ne!(r.code, 0, "{bad:?}");
        assert!(!r.stderr.is_empty(), "{bad:?} says why");
    }
    // A sent campaign stays; a draft goes.
    let refused = run(&["campaign", "delete", &sent]);
    assert!(
        refused
            .stderr
            .contains("only drafts and scheduled campaigns"),
        "{}",
        refused.stderr
    );
    assert_eq!(names(), ["Bread week", "Soup week"]);
    run(&["campaign", "delete", &draft]).ok();
    assert_eq!(names(), ["Bread week"]);
    assert_ne!(run(&["campaign", "show", &draft]).code, 0);
}

#[test]
fn an_automation_nudges_a_card_one_stamp_from_the_reward_once() {
    let shop = Shop::demo();
    // With the log channel on (as `serve` would have it).
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = shop
            .command(&all)
            .envs(ENV)
            .output()
            .expect("run stampcard");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let (card, code) = shop.new_card(1, "Nora Nudge");
    shop.run(&["stamp", &code, "--count", "7"]).ok();
    let bad = shop.run(&[
        "automation",
        "create",
        "--template",
        "1",
        "--when",
        "fortnightly",
        "--text",
        "x",
    ]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("is not an automation"),
        "{}",
        bad.stderr
    );
    assert_eq!(
        shop.json(&["automation", "list"]).as_array().map(Vec::len),
        Some(0)
    );

    let created = json(&[
        "automation",
        "create",
        "--template",
        "1",
        "--when",
        "almost-ready",
        "--channels",
        "log",
        "--text",
        "One more stamp and the coffee is on us!",
    ]);
    let due = created["due"].as_u64().expect("due");
    assert!(due >= 1, "{created}");
    let runs = json(&["automation", "run"]);
    let runs = runs.as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["recipients"].as_u64(), Some(due));
    let show = shop.json(&[
        "campaign",
        "show",
        &runs[0]["id"].to_string(),
        "--recipients",
    ]);
    assert!(
        show["recipients"]
            .as_array()
            .is_some_and(|r| r.iter().any(|e| e["card_id"] == card)),
        "{show}"
    );
    // Once per occasion: nothing is due any more.
    assert_eq!(shop.json(&["automation", "list"])[0]["due"], 0);
    assert_eq!(
        shop.json(&["automation", "run"]).as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn automations_are_managed_over_the_api() {
    let shop = Shop::demo();
    let admin = shop.api_key("crm", "admin");
    let staff = shop.api_key("pos", "staff");
    let server = shop.serve(&ENV);
    let call = |method: &str, token: &str, path: &str, body: Option<&str>| {
        server.request(
            method,
            path,
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };
    let body = r#"{"template_id": 1, "when": "birthday:7", "text": "Happy birthday! A cake is on us.",
        "channels": ["log"], "voucher": {"description": "Birthday cake", "valid_days": 14}}"#;
    // Staff keys may not; a bad trigger or an unknown field is refused;
    // nothing is stored.
    assert_eq!(
        call("POST", &staff, "/api/v1/automations", Some(body)).status,
        403
    );
    let bad = call(
        "POST",
        &admin,
        "/api/v1/automations",
        Some(&body.replace("birthday:7", "fortnightly")),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("is not an automation"), "{}", bad.body);
    let unknown = call(
        "POST",
        &admin,
        "/api/v1/automations",
        Some(&body.replace("\"when\"", "\"every\": 1, \"when\"")),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_eq!(
        call("GET", &admin, "/api/v1/automations", None).json(),
        serde_json::json!([])
    );

    let created = call("POST", &admin, "/api/v1/automations", Some(body));
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let id = created["automation"]["id"].as_u64().expect("id");
    assert_eq!(created["automation"]["enabled"], true);
    assert_eq!(
        created["automation"]["voucher"]["description"],
        "Birthday cake"
    );
    assert!(created["due"].is_u64(), "{created}");
    let list = call("GET", &admin, "/api/v1/automations", None).json();
    assert_eq!(list[0]["automation"]["id"], id, "{list}");
    assert_eq!(call("GET", &staff, "/api/v1/automations", None).status, 403);

    // Off and on again; the CLI sees the same.
    let path = format!("/api/v1/automations/{id}");
    let off = call("PATCH", &admin, &path, Some(r#"{"enabled": false}"#));
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["enabled"], false);
    assert_eq!(
        shop.json(&["automation", "list"])[0]["automation"]["enabled"],
        false
    );
    assert_eq!(
        call("PATCH", &staff, &path, Some(r#"{"enabled": true}"#)).status,
        403
    );
    assert_eq!(
        call(
            "PATCH",
            &admin,
            "/api/v1/automations/999",
            Some(r#"{"enabled": true}"#)
        )
        .status,
        404
    );
    assert_eq!(
        call("PATCH", &admin, &path, Some(r#"{"enabled": "yes"}"#)).status,
        422
    );
    assert_eq!(
        shop.json(&["automation", "list"])[0]["automation"]["enabled"],
        false
    );
    server.stop();
}
