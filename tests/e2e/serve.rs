//! `stampcard serve` owns the data folder; the CLI, the console and HTTP
//! reach the shop through it.

use std::io::Write;
use std::process::Stdio;

use crate::Shop;

/// Starts `stampcard console` with piped standard streams.
fn console(shop: &Shop) -> std::process::Child {
    shop.command(&["console"])
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn console")
}

/// Commands whose output must not depend on whether a server runs.
const COMMANDS: &[&[&str]] = &[
    &["card", "list"],
    &["--json", "card", "show", "100001"],
    &["card", "show", "100003"],
    &["template", "list"],
    &["--json", "template", "show", "1"],
    &["customer", "list"],
    &["staff", "list"],
    &["journal", "--limit", "8"],
    &["--json", "journal", "--card", "100001"],
    &["export", "--format", "csv", "--table", "cards"],
    // Refusals: same message, same exit code.
    &["stamp", "1234"],
    &["--json", "stamp", "1000000000000000000"],
    &["card", "show", "999999"],
    &["customer", "forget", "1"],
];

#[test]
fn the_cli_prints_the_same_through_the_socket_as_offline() {
    let shop = Shop::demo();
    let offline: Vec<_> = COMMANDS.iter().map(|c| shop.run(c)).collect();
    let server = shop.serve(&[]);
    let socket = shop.data().join("stampcard.sock");
    let mode = std::fs::metadata(&socket).expect("socket exists");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    for (args, before) in COMMANDS.iter().zip(&offline) {
        let now = shop.run(args);
        assert_eq!(now.code, before.code, "exit code of {args:?}");
        assert_eq!(now.stdout, before.stdout, "stdout of {args:?}");
        assert_eq!(now.stderr, before.stderr, "stderr of {args:?}");
    }
    assert_ne!(offline[10].code, 0, "a refusal exits non-zero");

    // Changes go through the server too, and files land relative to the caller.
    let code = shop.card_code(100001);
    let stamped = shop.json(&["stamp", &code]);
    assert_eq!(stamped["card"]["card_id"], 100001);
    shop.run(&["export", "--format", "json", "--output", "journal.jsonl"])
        .ok();
    assert!(shop.path("journal.jsonl").exists());

    // The folder cannot be restored or served twice while it runs.
    let restore = shop.run(&["restore", "nothing.bak", "--force"]);
    assert_eq!(restore.code, 2);
    assert!(
        restore.stderr.contains("stop it before restoring"),
        "{}",
        restore.stderr
    );
    let second = shop.run(&["serve"]);
    assert_eq!(second.code, 2);
    assert!(second.stderr.contains("in use"), "{}", second.stderr);

    server.stop();
    assert!(!socket.exists(), "the socket is removed on a clean stop");
    // Offline again, the stamp made through the server is there.
    assert_eq!(
        shop.stamps(100001),
        offline[1].json()["progress"]["stamps"]
            .as_u64()
            .unwrap_or(0)
            + 1
    );
}

#[test]
fn a_stale_socket_after_a_crash_is_harmless() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    server.kill9();
    assert!(shop.data().join("stampcard.sock").exists());
    // No server: the CLI opens the folder itself, and serve replaces the socket.
    shop.run(&["card", "list"]).ok();
    let server = shop.serve(&[]);
    shop.run(&["card", "list"]).ok();
    server.stop();
}

#[test]
fn the_console_attaches_to_the_running_server() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let (card, code) = shop.new_card(2, "Walk-in");
    let mut console = console(&shop);
    let mut stdin = console.stdin.take().expect("stdin");
    writeln!(stdin, "{code}\n{code}\n12345\nq").expect("type codes");
    drop(stdin);
    let out = console.wait_with_output().expect("console ends");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Ember & Oak Coffee"), "{text}");
    assert!(text.contains("✗"), "a bad code is refused: {text}");
    assert_eq!(shop.stamps(card), 2, "{text}");
    server.stop();
}

#[test]
fn http_answers_health_and_the_web_card() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("health JSON");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["shop"], "Ember & Oak Coffee");
    // Each listener says whether it accepts.
    for listener in ["HTTP", "SSH", "admin socket"] {
        assert_eq!(health["listeners"][listener], "ok", "{health}");
    }

    let card = shop.json(&["card", "show", "100001"]);
    let url = card["url"].as_str().expect("url");
    let path = &url[url.find("/c/").expect("card path")..];
    let (status, page) = server.get(path);
    assert_eq!(status, 200);
    assert!(
        page.contains(card["customer_name"].as_str().unwrap_or("?")),
        "{page}"
    );
    assert!(
        page.contains(card["code"].as_str().unwrap_or("?")),
        "{page}"
    );
    let (status, json) = server.get(&format!("{path}/card.json"));
    assert_eq!(status, 200);
    assert!(json.contains("\"card_id\":100001"), "{json}");

    // A forged token, and the old link after a reissue, show nothing.
    let forged = format!("/c/100001-{}", "0".repeat(32));
    assert_eq!(server.get(&forged).0, 404);
    shop.run(&["card", "reissue", "100001"]).ok();
    assert_eq!(server.get(path).0, 404);
    let new_url = shop.json(&["card", "show", "100001"])["url"]
        .as_str()
        .map(str::to_string);
    assert_ne!(new_url.as_deref(), Some(url));
    server.stop();
}

#[test]
fn a_console_without_a_server_serves_the_cli_too() {
    let shop = Shop::demo();
    let (card, code) = shop.new_card(2, "Counter Guest");
    let mut console = console(&shop);
    let mut stdin = console.stdin.take().expect("stdin");
    let stdout = console.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let next = || {
        lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the console answers")
    };
    while !next().contains("Scan or type") {}
    writeln!(stdin, "{code}").expect("scan");
    let answer = next();
    assert!(answer.contains("1/"), "the console stamped: {answer}");
    // While the console runs, other commands go through its socket.
    assert_eq!(shop.stamps(card), 1);
    shop.run(&["stamp", &code]).ok();
    writeln!(stdin, "q").expect("quit");
    drop(stdin);
    let status = console.wait().expect("console ends");
    assert!(status.success());
    assert_eq!(shop.stamps(card), 2);
}
