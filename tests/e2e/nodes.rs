//! Several `serve` processes (nodes) on one PostgreSQL database, each with
//! a data folder of its own and `[store] shared = true`, every process on
//! 127.0.0.1: stamps through all three APIs while nodes are SIGKILLed and
//! started again, one receipt code and one voucher raced from all three,
//! and a journal consumer whose duty moves to another node.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use rand::Rng;
use stampcard_e2e::webhook_receiver::Receiver;
use stampcard_e2e::{postgres, wait};

use super::postgres::{assert_exactly_once, journal_on, pg_shop, stamp_until, stamps_of, try_post};
use crate::{Server, Shop};

/// What makes a `serve` a node of a shared database.
const SHARED: [(&str, &str); 1] = [("STAMPCARD_STORE__SHARED", "true")];

/// The folders of `n` nodes of the shop `first` (its config copied: the
/// same database and shop secret).
fn node_folders(first: &Shop, n: usize) -> Vec<Shop> {
    (1..n)
        .map(|_| {
            let node = Shop::empty();
            std::fs::create_dir_all(node.data()).expect("folder");
            for file in ["stampcard.toml", "ssh_host_key"] {
                let from = first.data().join(file);
                if from.exists() {
                    std::fs::copy(&from, node.data().join(file)).expect("copy");
                }
            }
            node
        })
        .collect()
}

/// A JSON POST through a node's API: status and body, `None` if the node
/// is unreachable.
fn post(
    addr: &str,
    token: &str,
    path: &str,
    body: &str,
    key: Option<&str>,
) -> Option<(u16, String)> {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    try_post(addr, path, &headers, body)
}

#[test]
fn three_nodes_killed_and_restarted_under_stamping_keep_every_stamp_once_in_order() {
    let server = postgres::shared();
    let (first, url, cards) = pg_shop(server, 4);
    let token = first.api_key("load", "staff");
    let mut folders = vec![first];
    folders.extend(node_folders(&folders[0], 3));
    let nodes: Vec<Mutex<Option<Server>>> = folders
        .iter()
        .map(|f| Mutex::new(Some(f.serve(&SHARED))))
        .collect();
    let addrs: Vec<Mutex<String>> = nodes
        .iter()
        .map(|n| Mutex::new(n.lock().expect("node").as_ref().expect("up").http.clone()))
        .collect();
    let acked = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    let kills = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (node, addr) in addrs.iter().enumerate() {
            let (acked, done, token, cards) = (&acked, &done, &token, &cards);
            s.spawn(move || {
                let stamped = stamp_until(
                    &|| addr.lock().expect("addr").clone(),
                    token,
                    cards,
                    &format!("n{node}"),
                    &|| done.load(Ordering::Relaxed),
                );
                acked.lock().expect("acked").extend(stamped);
            });
        }
        // Kill a random node every 0.3–0.9 s and start it again at once.
        let mut rng = rand::rng();
        while kills.load(Ordering::Relaxed) < 12 {
            std::thread::sleep(Duration::from_millis(rng.random_range(300..900)));
            let victim = rng.random_range(0..nodes.len());
            if let Some(node) = nodes[victim].lock().expect("node").take() {
                node.kill9();
            }
            let fresh = folders[victim].serve(&SHARED);
            *addrs[victim].lock().expect("addr") = fresh.http.clone();
            *nodes[victim].lock().expect("node") = Some(fresh);
            kills.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(500));
        done.store(true, Ordering::Relaxed);
    });
    for node in &nodes {
        if let Some(n) = node.lock().expect("node").take() {
            n.stop();
        }
    }
    let acked = acked.into_inner().expect("acked");
    println!(
        "{} stamps acknowledged through 3 nodes over {} kills",
        acked.len(),
        kills.load(Ordering::Relaxed)
    );
    assert!(
        acked.len() >= 60,
        "only {} stamps acknowledged",
        acked.len()
    );
    for node in 0..3 {
        assert!(
            acked
                .iter()
                .any(|(_, k)| k.starts_with(&format!("n{node}-"))),
            "node {node} acknowledged stamps"
        );
    }
    assert_exactly_once(&folders[0], &url, &cards, &acked);
    // Each card's journal in commit order: every stamp counts on from the
    // one before it, whichever node made it.
    for (id, _) in &cards {
        let journal = stamps_of(&folders[0], &url, *id);
        let mut events: Vec<(u64, u64)> = journal
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                (
                    e["id"].as_u64().expect("id"),
                    e["progress"]["stamps"].as_u64().expect("stamps"),
                )
            })
            .collect();
        events.sort_unstable();
        for pair in events.windows(2) {
            assert_eq!(
                (pair[0].1 + 1) % 100,
                pair[1].1 % 100,
                "card {id}: event {} follows event {}",
                pair[1].0,
                pair[0].0
            );
        }
    }
}

#[test]
fn a_receipt_code_and_a_voucher_raced_from_three_nodes_are_won_once() {
    let server = postgres::shared();
    let (first, url, cards) = pg_shop(server, 3);
    let token = first.api_key("load", "staff");
    let codes_file = first.path("codes.txt");
    first
        .run(&[
            "codes",
            "generate",
            "--template",
            "1",
            "--count",
            "100",
            "--output",
            &codes_file.to_string_lossy(),
        ])
        .ok();
    let codes: Vec<String> = std::fs::read_to_string(&codes_file)
        .expect("codes")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 100);
    let coupon = first.json(&[
        "card",
        "coupon",
        &cards[0].0.to_string(),
        "--description",
        "A free cake",
    ]);
    let code = coupon["card"]["vouchers"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["description"] == "A free cake"))
        .and_then(|v| v["code"].as_str())
        .expect("voucher code")
        .to_string();
    let mut folders = vec![first];
    folders.extend(node_folders(&folders[0], 3));
    let nodes: Vec<Server> = folders.iter().map(|f| f.serve(&SHARED)).collect();
    let addrs: Vec<&str> = nodes.iter().map(|n| n.http.as_str()).collect();

    // Each code claimed at once through the three nodes, each onto its own card.
    let mut winners = Vec::new();
    for receipt in &codes {
        let barrier = Barrier::new(3);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = addrs
                .iter()
                .zip(&cards)
                .map(|(addr, (card, _))| {
                    let (barrier, token) = (&barrier, &token);
                    s.spawn(move || {
                        let body = format!(r#"{{"code": "{receipt}"}}"#);
                        barrier.wait();
                        post(
                            addr,
                            token,
                            &format!("/api/v1/cards/{card}/receipts"),
                            &body,
                            None,
                        )
                        .expect("node up")
                        .0
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("claim"))
                .collect()
        });
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "code {receipt}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 409].contains(s)),
            "{statuses:?}"
        );
        winners.push(statuses.iter().position(|s| *s == 200).expect("winner"));
    }

    // A voucher redeemed through the three nodes at once: once.
    let barrier = Barrier::new(3);
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = addrs
            .iter()
            .map(|addr| {
                let (barrier, token, code) = (&barrier, &token, &code);
                s.spawn(move || {
                    barrier.wait();
                    post(
                        addr,
                        token,
                        "/api/v1/redemptions",
                        &format!(r#"{{"code": "{code}"}}"#),
                        None,
                    )
                    .expect("node up")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("redeem"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{statuses:?}"
    );
    for node in nodes {
        node.stop();
    }
    // The journal agrees: 100 claims, one redemption.
    let count = |kind: &str| {
        let v = journal_on(
            &folders[0],
            Some(&url),
            &["--type", kind, "--limit", "100000"],
        );
        v.as_array().expect("events").len()
    };
    assert_eq!(count("receipt_claimed"), 100);
    assert_eq!(count("voucher_redeemed"), 1);
    println!(
        "claims won per node: {:?}",
        (0..3)
            .map(|n| winners.iter().filter(|w| **w == n).count())
            .collect::<Vec<_>>()
    );
}

/// Sends a signal to a node's process.
fn signal(node: &Server, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &node.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {sig}");
}

#[test]
fn a_consumer_whose_duty_moved_while_its_node_was_paused_queues_nothing_twice() {
    let server = postgres::shared();
    let (first, url, cards) = pg_shop(server, 1);
    let database = url.rsplit('/').next().expect("database").to_string();
    let receiver = Receiver::start(true);
    first
        .run(&[
            "webhook",
            "create",
            "--url",
            &receiver.url("/crm"),
            "--events",
            "stamp_added",
        ])
        .ok();
    let token = first.api_key("load", "staff");
    let mut folders = vec![first];
    folders.extend(node_folders(&folders[0], 2));
    let a = folders[0].serve(&SHARED);
    // A takes every duty before B starts.
    std::thread::sleep(Duration::from_millis(1500));
    let b = folders[1].serve(&SHARED);
    let (card, code) = &cards[0];
    let body = format!(r#"{{"code": "{code}", "count": 1}}"#);
    let mut stamps = Vec::new();
    let mut stamp = |node: &Server, n: usize| {
        for _ in 0..n {
            let (status, out) =
                post(&node.http, &token, "/api/v1/stamps", &body, None).expect("stamp");
            assert_eq!(status, 200, "{out}");
            let v: serde_json::Value = serde_json::from_str(&out).expect("json");
            stamps.push(v["event_ids"][0].as_u64().expect("event id"));
        }
    };
    let delivered = |n: usize| {
        wait::until(
            Duration::from_secs(30),
            || (receiver.received().len() >= n).then_some(()),
            || format!("{} of {n} delivered", receiver.received().len()),
        )
    };
    stamp(&a, 3);
    delivered(3);

    // A stops in its tracks, and its duties' sessions end (as if its link
    // to the database broke): B takes them and carries on.
    signal(&a, "-STOP");
    let ended = server.psql(
        &database,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1398031445",
    );
    assert_ne!(ended.trim(), "0", "A held duties");
    stamp(&b, 5);
    delivered(8);
    // A wakes up still believing it holds its duties, with events to handle.
    signal(&a, "-CONT");
    std::thread::sleep(Duration::from_secs(3));
    stamp(&b, 2);
    delivered(10);
    std::thread::sleep(Duration::from_secs(2));
    a.stop();
    b.stop();

    // One outbox entry (one delivery id) per stamp: retries of an entry may
    // repeat it, but no event got a second entry.
    let mut entries: std::collections::BTreeMap<u64, std::collections::BTreeSet<String>> =
        Default::default();
    for d in receiver.received() {
        let v = d.json();
        assert_eq!(v["event"]["card_id"], *card);
        entries
            .entry(v["event"]["id"].as_u64().expect("event id"))
            .or_default()
            .insert(v["delivery_id"].to_string());
    }
    stamps.sort_unstable();
    assert_eq!(entries.keys().copied().collect::<Vec<_>>(), stamps);
    for (event, ids) in &entries {
        assert_eq!(ids.len(), 1, "event {event} queued once: {ids:?}");
    }
}

#[test]
fn what_one_node_changes_the_others_use_at_once() {
    let server = postgres::shared();
    let (first, _url, cards) = pg_shop(server, 1);
    first
        .run(&[
            "staff", "add", "--name", "Jules", "--role", "staff", "--pin", "4821",
        ])
        .ok();
    first
        .run(&[
            "staff", "add", "--name", "Owner", "--role", "admin", "--pin", "9137",
        ])
        .ok();
    let jules = super::ssh::keygen(&first, "jules_key");
    let owner = super::ssh::keygen(&first, "owner_key");
    first
        .run(&["staff", "add-key", "Jules", &format!("{jules}.pub")])
        .ok();
    first
        .run(&["staff", "add-key", "Owner", &format!("{owner}.pub")])
        .ok();
    let token = first.api_key("load", "staff");
    let spare = first.api_key("spare", "staff");
    let door = first.api_key("front-door", "staff");
    let mut folders = vec![first];
    folders.extend(node_folders(&folders[0], 2));
    let a = folders[0].serve(&SHARED);
    let b = folders[1].serve(&SHARED);
    let code = &cards[0].1;
    let body = format!(r#"{{"code": "{code}", "count": 1}}"#);
    let stamp = |node: &Server, token: &str| {
        post(&node.http, token, "/api/v1/stamps", &body, None).expect("node up")
    };
    assert_eq!(stamp(&b, &token).0, 200);

    // B's consoles: the owner's journal, and Jules at the counter.
    let owner_tmux = super::ssh::console_over_ssh(&owner, &b.ssh);
    owner_tmux.wait_for("owner (admin)");
    owner_tmux.keys(&["F5"]);
    owner_tmux.wait_for("Journal (live)");
    let jules_tmux = super::ssh::console_over_ssh(&jules, &b.ssh);
    jules_tmux.wait_for("jules (staff)");

    // A stamp through A appears in B's live journal.
    assert_eq!(stamp(&a, &door).0, 200);
    owner_tmux.wait_for("api:front-door");
    // B's Settings tab lists both nodes, and who holds the duties.
    owner_tmux.keys(&["8"]);
    let screen = owner_tmux.wait_for("Nodes (stampcard nodes):");
    assert!(screen.contains("up, heartbeat"), "{screen}");

    // The template edited through A (its admin socket): B's next stamp uses it.
    let edited = folders[0]
        .run(&["template", "edit", "1", "--stamps", "40"])
        .ok();
    assert!(edited.code == 0, "{}", edited.stderr);
    let (status, out) = stamp(&b, &token);
    assert_eq!(status, 200, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["card"]["progress"]["of"], 40, "{v}");
    assert_eq!(v["card"]["template_version"], 2, "{v}");

    // A key revoked through A: B refuses it at once.
    assert_eq!(stamp(&b, &spare).0, 200);
    let prefix = spare.split('_').take(2).collect::<Vec<_>>().join("_");
    let revoked = std::time::Instant::now();
    folders[0].run(&["api-key", "revoke", &prefix]).ok();
    // (B read the key before; a revoke it did not hear of would let it in.
    // It hears of it through PostgreSQL's notification, a moment after the
    // revoke's commit.)
    wait::until(
        Duration::from_secs(5),
        || (stamp(&b, &spare).0 == 401).then_some(()),
        || "B still takes the revoked key".to_string(),
    );
    assert!(
        revoked.elapsed() < Duration::from_secs(3),
        "refused after {:?}",
        revoked.elapsed()
    );

    // Jules disabled through A: the session on B ends within a second.
    let disabled = std::time::Instant::now();
    folders[0].run(&["staff", "disable", "Jules"]).ok();
    jules_tmux.wait_for("SESSION-ENDED");
    assert!(
        disabled.elapsed() < Duration::from_secs(3),
        "ended after {:?}",
        disabled.elapsed()
    );
    owner_tmux.keys(&["C-c"]);
    owner_tmux.wait_for("SESSION-ENDED");
    a.stop();
    b.stop();
}

#[test]
fn a_node_whose_shop_wide_settings_differ_is_refused_and_a_new_one_takes_the_shops_host_key() {
    let server = postgres::shared();
    let (first, _url, _cards) = pg_shop(server, 1);
    let other_key = super::ssh::keygen(&first, "other_host_key");
    let mut folders = vec![first];
    folders.extend(node_folders(&folders[0], 5));
    let a = folders[0].serve(&SHARED);
    let refused = |node: &Shop, env: &[(&str, &str)]| {
        let mut c = node.command(&["serve"]);
        c.env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
            .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
            .env("STAMPCARD_STORE__SHARED", "true");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("serve");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        stderr
    };
    // A rule that differs: named, with both values.
    let said = refused(&folders[1], &[("STAMPCARD_RULES__STAFF_UNDO_MINUTES", "9")]);
    assert!(
        said.contains("`rules.staff_undo_minutes` is 9 here and 5 there"),
        "{said}"
    );
    // Another shop secret: named, never shown.
    let secret = "ab".repeat(32);
    let said = refused(&folders[2], &[("STAMPCARD_SHOP__SECRET", &secret)]);
    assert!(
        said.contains("`shop.secret`") && said.contains("(hidden)"),
        "{said}"
    );
    assert!(!said.contains(&secret), "{said}");
    // Another SSH host key: refused.
    std::fs::copy(&other_key, folders[3].data().join("ssh_host_key")).expect("key");
    let said = refused(&folders[3], &[]);
    assert!(said.contains("SSH host key"), "{said}");
    // No host key of its own: it takes the shop's, and serves.
    let own = folders[4].data().join("ssh_host_key");
    assert!(!own.exists(), "copied before the shop had one");
    let e = folders[4].serve(&SHARED);
    assert_eq!(
        std::fs::read(&own).expect("taken"),
        std::fs::read(folders[0].data().join("ssh_host_key")).expect("the shop's")
    );
    e.stop();
    a.stop();
}

#[test]
fn a_node_made_with_init_node_takes_the_shops_settings_from_the_database() {
    let server = postgres::shared();
    let (first, url, cards) = pg_shop(server, 1);
    let token = first.api_key("counter", "staff");
    let secret = std::fs::read_to_string(first.data().join("stampcard.toml"))
        .expect("config")
        .lines()
        .find_map(|l| {
            l.strip_prefix("secret = ")
                .map(|s| s.trim_matches('"').to_string())
        })
        .expect("the shop secret");
    let a = first.serve(&SHARED);

    // A node folder from the database alone: no shop secret in its file.
    // Its URL names two hosts, the first down (as after a failover): it
    // finds the one that takes writes.
    let multi = format!(
        "{}?target_session_attrs=read-write",
        url.replacen("@127.0.0.1:", "@127.0.0.1:1,127.0.0.1:", 1)
    );
    assert_ne!(multi, url);
    let node = Shop::empty();
    let made = node.run(&["init", "--store", &multi, "--node"]).ok();
    assert!(made.stdout.contains("a node of"), "{}", made.stdout);
    let file = std::fs::read_to_string(node.data().join("stampcard.toml")).expect("file");
    assert!(
        file.contains("shared = true") && !file.contains("secret"),
        "{file}"
    );
    let shown = node.run(&["store", "settings"]).ok().stdout;
    assert!(
        shown.contains("[rules]") && shown.contains("(hidden)"),
        "{shown}"
    );
    assert!(!shown.contains(&secret), "the secret printed: {shown}");

    // It serves the shop: a card code signed with the shop's secret stamps.
    let b = node.serve(&[]);
    let body = format!(r#"{{"code": "{}", "count": 1}}"#, cards[0].1);
    let (status, out) = post(&b.http, &token, "/api/v1/stamps", &body, None).expect("up");
    assert_eq!(status, 200, "{out}");
    b.stop();

    // A rule changed for the whole shop: the node takes it at its next start;
    // the first folder, whose file still says otherwise, is then refused.
    let update = first
        .command(&["store", "settings", "--update"])
        .env("STAMPCARD_STORE__SHARED", "true")
        .env("STAMPCARD_RULES__STAFF_UNDO_MINUTES", "9")
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&update.stdout);
    assert!(update.status.success(), "{said}");
    assert!(said.contains("rules.staff_undo_minutes: 5 → 9"), "{said}");
    let settings = node.json(&["store", "settings"]);
    assert_eq!(
        settings["settings"]["rules"]["staff_undo_minutes"], 9,
        "{settings}"
    );
    assert_eq!(settings["settings"]["shop"]["secret"], "(hidden)");
    a.stop();
    let again = first
        .command(&["serve"])
        .env("STAMPCARD_STORE__SHARED", "true")
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .output()
        .expect("serve");
    let said = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{said}");
    assert!(said.contains("is 5 here and 9 there"), "{said}");

    // Bad input: a node of a database that holds no shop is one clear line,
    // and leaves no folder behind.
    let empty = server.database();
    let lost = Shop::empty();
    let out = lost
        .command(&["init", "--store", &empty, "--node"])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("holds no shop-wide settings yet"), "{said}");
    assert!(!lost.data().exists(), "a folder was left behind");
}
