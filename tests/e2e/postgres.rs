//! The shop on PostgreSQL through the real binary, against a real server
//! the tests start (`stampcard_e2e::postgres`): moving a shop there and
//! back, serving it, one writer per database, bad URLs, `serve` killed
//! under concurrent stamping, and PostgreSQL itself restarted under load.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use stampcard_e2e::postgres::{self, PgServer};

use crate::Shop;

/// A demo shop on sled (whatever the test run selects).
fn sled_demo() -> Shop {
    let shop = Shop::empty();
    shop.run(&["init", "--demo", "--timezone", "UTC", "--history-days", "3"])
        .ok();
    shop
}

/// A shop on a new database of `server`, with one card of a 100-stamp
/// template per name: (shop, url, [(card id, code)]).
pub(crate) fn pg_shop(server: &PgServer, cards: usize) -> (Shop, String, Vec<(u64, String)>) {
    let shop = Shop::empty();
    let url = server.database();
    shop.run(&["init", "--timezone", "UTC", "--store", &url])
        .ok();
    shop.run(&[
        "template",
        "create",
        "--name",
        "Load",
        "--business",
        "Test",
        "--stamps",
        "100",
        "--reward",
        "A prize",
    ])
    .ok();
    let cards = (0..cards)
        .map(|i| shop.new_card(1, &format!("Load {i}")))
        .collect();
    (shop, url, cards)
}

/// One POST that may fail (the server may be dead): status and body.
pub(crate) fn try_post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body.as_bytes()).ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    Some((status, body))
}

/// Stamps each card through the API at `addr()` (asked before each
/// request: a restarted server moves) from its own thread, one stamp per
/// request with a fresh idempotency key, until `stop`; returns the keys the
/// server acknowledged (200), per card.
pub(crate) fn stamp_until(
    addr: &(dyn Fn() -> String + Sync),
    token: &str,
    cards: &[(u64, String)],
    prefix: &str,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<(u64, String)> {
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (id, code) in cards {
            let acked = &acked;
            s.spawn(move || {
                let auth = format!("Bearer {token}");
                let body = format!(r#"{{"code": "{code}", "count": 1}}"#);
                let mut n = 0;
                while !stop() {
                    n += 1;
                    let key = format!("{prefix}-{id}-{n}");
                    let headers = [
                        ("Authorization", auth.as_str()),
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", key.as_str()),
                    ];
                    match try_post(&addr(), "/api/v1/stamps", &headers, &body) {
                        Some((200, _)) => acked.lock().expect("acked").push((*id, key)),
                        Some(_) => std::thread::sleep(Duration::from_millis(20)),
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }
    });
    acked.into_inner().expect("acked")
}

/// Every acknowledged stamp is in its card's journal exactly once, no key
/// twice, and each card's count agrees with its journal.
pub(crate) fn assert_exactly_once(
    shop: &Shop,
    url: &str,
    cards: &[(u64, String)],
    acked: &[(u64, String)],
) {
    for (id, _) in cards {
        let journal = stamps_of(shop, url, *id);
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for e in journal.as_array().expect("events") {
            let key = e["idempotency_key"].as_str().unwrap_or_default();
            // Scoped by the API: `…|api:<key prefix>:<our key>`.
            let key = key
                .rsplit([':', '|'])
                .next()
                .unwrap_or_default()
                .to_string();
            *per_key.entry(key).or_default() += 1;
        }
        for (card, key) in acked.iter().filter(|(c, _)| c == id) {
            assert_eq!(
                per_key.get(key),
                Some(&1),
                "acknowledged stamp {key} of card {card} is there exactly once"
            );
        }
        assert!(
            per_key.values().all(|n| *n == 1),
            "a stamp twice: {per_key:?}"
        );
        // Every 100 stamps roll over into a reward waiting.
        let card = shop.json(&["card", "show", &id.to_string()]);
        let stamps = card["progress"]["stamps"].as_u64().expect("stamps")
            + 100 * card["rewards_pending"].as_u64().expect("rewards");
        assert_eq!(
            stamps as usize,
            per_key.len(),
            "card {id} agrees with its journal"
        );
    }
}

#[test]
fn a_shop_moves_to_postgres_serves_there_and_moves_back() {
    let shop = sled_demo();
    let url = postgres::shared().database();
    let copied = shop.run(&["store", "copy", "--to", &url]).ok();
    assert!(copied.stdout.contains("Copied "), "{}", copied.stdout);
    assert!(
        !copied.stdout.contains(postgres::PASSWORD),
        "{}",
        copied.stdout
    );
    let before = shop.json(&["journal", "--limit", "100000"]);
    // The shop-wide settings and SSH host key went in with it.
    let name = url.rsplit('/').next().expect("database").to_string();
    assert_eq!(
        postgres::shared()
            .psql(
                &name,
                "SELECT count(*) FROM meta WHERE name IN ('shop_settings', 'ssh_host_key')"
            )
            .trim(),
        "2"
    );
    // Copying again into the same database is refused: it is not empty.
    let again = shop.run(&["store", "copy", "--to", &url]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
    assert!(!again.stderr.contains(postgres::PASSWORD));

    let env = [("STAMPCARD_STORE__URL", url.as_str())];
    let server = shop.serve(&env);
    // The printed code of a copied card stamps on PostgreSQL.
    let code = shop.card_code(100002);
    let token = {
        let run = shop
            .command(&[
                "--json", "api-key", "create", "--name", "pos", "--role", "staff",
            ])
            .env("STAMPCARD_STORE__URL", &url)
            .output()
            .expect("api key");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
        v["token"].as_str().expect("token").to_string()
    };
    let (status, body) = try_post(
        &server.http,
        "/api/v1/stamps",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        &format!(r#"{{"code": "{code}", "count": 1}}"#),
    )
    .expect("stamp");
    assert_eq!(status, 200, "{body}");
    // A second serve on the same database, from another folder: refused.
    let other = Shop::empty();
    std::fs::create_dir_all(other.data()).expect("folder");
    std::fs::copy(
        shop.data().join("stampcard.toml"),
        other.data().join("stampcard.toml"),
    )
    .expect("config");
    let second = other
        .command(&["serve"])
        .env("STAMPCARD_STORE__URL", &url)
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .output()
        .expect("second serve");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another stampcard process"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    server.stop();

    // And back into a folder of its own: the same journal, one stamp more.
    let back = tempfile::tempdir().expect("tempdir");
    let folder = back.path().join("data");
    let run = shop
        .command(&["store", "copy", "--to", &folder.to_string_lossy()])
        .env("STAMPCARD_STORE__URL", &url)
        .output()
        .expect("copy back");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let config = std::fs::read_to_string(folder.join("stampcard.toml")).expect("config");
    assert!(!config.contains("postgres://"), "{config}");
    let after = crate::Run::from(
        std::process::Command::new(crate::binary())
            .args([
                "--json",
                "--data",
                &folder.to_string_lossy(),
                "journal",
                "--limit",
                "100000",
            ])
            .output()
            .expect("journal"),
    )
    .ok()
    .json();
    let (before, after) = (before.as_array().expect("a"), after.as_array().expect("b"));
    assert_eq!(
        after.len(),
        before.len() + 1,
        "the stamp made on PostgreSQL came back"
    );
    assert_eq!(&after[1..], &before[..], "the history is the same");
    assert_eq!(after[0]["type"], "stamp_added");
}

#[test]
fn a_backup_of_either_store_restores_into_the_other() {
    let shop = sled_demo();
    let journal = |s: &Shop, url: Option<&str>| journal_on(s, url, &["--limit", "100000"]);
    let from_sled = shop.path("sled.backup");
    shop.run(&["backup", &from_sled.to_string_lossy()]).ok();

    // The folder's backup into PostgreSQL (the URL given at restore).
    let url = postgres::shared().database();
    let on_pg = Shop::empty();
    let out = on_pg
        .command(&["restore", &from_sled.to_string_lossy()])
        .env("STAMPCARD_STORE__URL", &url)
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(journal(&on_pg, Some(&url)), journal(&shop, None));
    let code = shop.card_code(100001);
    let stamped = on_pg
        .command(&["--json", "stamp", &code])
        .env("STAMPCARD_STORE__URL", &url)
        .output()
        .expect("stamp");
    assert!(
        stamped.status.success(),
        "{}",
        String::from_utf8_lossy(&stamped.stderr)
    );

    // PostgreSQL's backup back into a folder: the same journal, and each
    // card's chain goes on from the stamp made on PostgreSQL.
    let from_pg = shop.path("pg.backup");
    let out = on_pg
        .command(&["backup", &from_pg.to_string_lossy()])
        .env("STAMPCARD_STORE__URL", &url)
        .output()
        .expect("backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_sled = Shop::empty();
    on_sled.run(&["restore", &from_pg.to_string_lossy()]).ok();
    let expected = journal(&on_pg, Some(&url));
    assert_eq!(journal(&on_sled, None), expected);
    let card = ["--card", "100001", "--limit", "1000"];
    assert_eq!(
        journal_on(&on_sled, None, &card),
        journal_on(&on_pg, Some(&url), &card)
    );
    let again = on_sled.json(&["stamp", &code]);
    let newest = on_sled.json(&["journal", "--card", "100001", "--limit", "1"]);
    assert_eq!(newest[0]["id"], again["event_ids"][0], "{newest}");
}

/// A card's `stamp_added` events, newest first, from the shop in
/// PostgreSQL at `url`.
pub(crate) fn stamps_of(shop: &Shop, url: &str, card: u64) -> serde_json::Value {
    journal_on(
        shop,
        Some(url),
        &[
            "--card",
            &card.to_string(),
            "--type",
            "stamp_added",
            "--limit",
            "1000000",
        ],
    )
}

/// `journal <args>` of a shop, kept in PostgreSQL at `url` if given.
pub(crate) fn journal_on(shop: &Shop, url: Option<&str>, args: &[&str]) -> serde_json::Value {
    let mut command = shop.command(&[&["--json", "journal"], args].concat());
    if let Some(url) = url {
        command.env("STAMPCARD_STORE__URL", url);
    }
    let out = command.output().expect("journal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_bad_store_is_one_clear_line_exit_2_and_nothing_written() {
    let server = postgres::shared();
    let shop = sled_demo();
    let run = |url: &str| {
        let out = shop
            .command(&["journal", "--limit", "1"])
            .env("STAMPCARD_STORE__URL", url)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(!stderr.contains(postgres::PASSWORD), "{stderr}");
        assert!(!stderr.contains("nope-secret"), "{stderr}");
        stderr
    };
    let port = server.port;
    assert!(
        run(&format!(
            "postgres://postgres:nope-secret@127.0.0.1:{port}/postgres"
        ))
        .contains("password authentication failed")
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = closed.local_addr().expect("addr").port();
    drop(closed);
    assert!(
        run(&format!(
            "postgres://postgres:nope-secret@127.0.0.1:{dead}/x"
        ))
        .contains("cannot connect")
    );
    assert!(run("mysql://root:nope-secret@127.0.0.1/shop").contains("not a postgres:// URL"));
    assert!(run("postgres://root:nope-secret@127.0.0.1:notaport/shop").contains("not valid"));
    assert!(run(&server.url("no_such_database")).contains("does not exist"));
    // A database of another application: refused, its table left alone.
    let other = server.database();
    let name = other.rsplit('/').next().expect("name").to_string();
    server.psql(
        &name,
        "CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1)",
    );
    assert!(run(&other).contains("another application"));
    assert_eq!(
        server
            .psql(
                &name,
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            )
            .trim(),
        "1"
    );
    // A database written by a newer stampcard: refused, nothing written.
    let newer = server.database();
    let name = newer.rsplit('/').next().expect("name").to_string();
    let ok = shop
        .command(&["journal", "--limit", "1"])
        .env("STAMPCARD_STORE__URL", &newer)
        .output()
        .expect("create the schema");
    assert!(ok.status.success());
    server.psql(
        &name,
        "INSERT INTO stampcard_schema (version, written_by) VALUES (99, 'stampcard 99')",
    );
    let events = server.psql(&name, "SELECT count(*) FROM events");
    assert!(run(&newer).contains("newer stampcard"));
    assert_eq!(server.psql(&name, "SELECT count(*) FROM events"), events);
}

#[test]
fn serve_killed_under_concurrent_stamping_keeps_every_acknowledged_stamp_once() {
    let server = postgres::shared();
    let (shop, url, cards) = pg_shop(server, 3);
    let token = shop.api_key("load", "staff");
    let mut acked = Vec::new();
    let mut rng = rand::rng();
    for round in 0..6 {
        let serve = shop.serve(&[]);
        let addr = serve.http.clone();
        let until = Instant::now() + Duration::from_millis(rng.random_range(300..1500));
        let serve = Arc::new(Mutex::new(Some(serve)));
        let killer = {
            let serve = serve.clone();
            std::thread::spawn(move || {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
                if let Some(s) = serve.lock().expect("serve").take() {
                    s.kill9();
                }
            })
        };
        let dead = || Instant::now() >= until + Duration::from_millis(300);
        acked.extend(stamp_until(
            &|| addr.clone(),
            &token,
            &cards,
            &format!("r{round}"),
            &dead,
        ));
        killer.join().expect("killer");
    }
    println!("{} stamps acknowledged over 6 kills", acked.len());
    assert!(
        acked.len() >= 30,
        "only {} stamps acknowledged",
        acked.len()
    );
    assert_exactly_once(&shop, &url, &cards, &acked);
}

#[test]
fn postgres_restarted_under_load_serve_reconnects_and_carries_on() {
    // A server of its own: it is restarted mid-test.
    let pg = PgServer::start();
    let (shop, url, cards) = pg_shop(&pg, 2);
    let token = shop.api_key("load", "staff");
    let serve = shop.serve(&[]);
    let start = Instant::now();
    let stop = || start.elapsed() >= Duration::from_secs(8);
    let acked = std::thread::scope(|s| {
        let load = s.spawn(|| stamp_until(&|| serve.http.clone(), &token, &cards, "load", &stop));
        std::thread::sleep(Duration::from_secs(2));
        pg.restart_immediate();
        load.join().expect("load")
    });
    // Stamps were acknowledged after the restart too: serve carried on.
    let after = stamp_until(&|| serve.http.clone(), &token, &cards[..1], "after", &{
        let t = Instant::now();
        move || t.elapsed() >= Duration::from_millis(500)
    });
    assert!(
        !after.is_empty(),
        "serve answers again after PostgreSQL restarted"
    );
    let (_, body) = {
        let r = crate::http_request(&serve.http, "GET", "/healthz", &[], None);
        (r.status, r.body)
    };
    assert!(!body.is_empty());
    serve.stop();
    let mut all = acked;
    all.extend(after);
    assert_exactly_once(&shop, &url, &cards, &all);
}
