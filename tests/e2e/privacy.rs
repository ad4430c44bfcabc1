//! A forgotten customer is gone from what the shop keeps and hands out: no
//! message to them is sent after the forget, the outbox keeps neither their
//! address nor the text, and a backup or an export taken afterwards holds
//! none of their name, phone or email.

use std::time::Duration;

use stampcard_e2e::wait;

use crate::Shop;

#[test]
fn a_forgotten_customer_is_in_no_backup_export_or_message() {
    let shop = Shop::demo();
    // Email that cannot go out yet: the message waits, retrying.
    let server = shop.serve(&[
        ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
        ("STAMPCARD_SMTP__PORT", "9"),
        ("STAMPCARD_SMTP__SECURITY", "none"),
        ("STAMPCARD_SMTP__FROM", "news@shop.test"),
    ]);
    let joined = server.request(
        "POST",
        "/j/1",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("name=Zelda+Quartermain&email=zelda.q%40example.org&phone=%2B49+170+5559876&consent_email=yes"),
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let created = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--segment",
        "all",
        "--channels",
        "email",
        "--text",
        "Soup is back.",
    ]);
    let campaign = created["campaign"]["id"].to_string();
    shop.run(&["campaign", "send", &campaign]).ok();
    let customers = shop.json(&["customer", "list"]);
    let zelda = customers
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Zelda Quartermain"))
        .and_then(|c| c["id"].as_u64())
        .expect("Zelda is a customer")
        .to_string();
    shop.run(&["customer", "forget", &zelda, "--yes"]).ok();

    // Her message is never sent, and keeps nothing of her.
    let show = shop.json(&["campaign", "show", &campaign, "--recipients"]);
    let text = show.to_string();
    assert!(!text.contains("zelda"), "{show}");
    assert!(text.contains("the customer was forgotten"), "{show}");
    // A backup and an export taken now hold none of her.
    let backup = shop.path("after.backup");
    shop.run(&["backup", backup.to_str().expect("path")]).ok();
    let export = shop
        .run(&["export", "--format", "json", "--table", "customers"])
        .ok()
        .stdout;
    let bytes = std::fs::read(&backup).expect("backup");
    let backup_text = String::from_utf8_lossy(&bytes);
    for trace in ["Zelda", "Quartermain", "zelda.q@example.org", "5559876"] {
        assert!(!backup_text.contains(trace), "{trace} in the backup");
        assert!(!export.contains(trace), "{trace} in the export");
    }
    server.stop();
}

#[test]
fn restoring_an_older_backup_keeps_later_forgets() {
    let shop = Shop::demo();
    let before = shop.path("before.backup");
    shop.run(&["backup", before.to_str().expect("path")]).ok();
    // Mira asks to be forgotten after that backup.
    shop.run(&["customer", "forget", "1", "--yes"]).ok();
    // The owner restores the older backup over the folder: she stays forgotten.
    let restored = shop
        .run(&["restore", before.to_str().expect("path"), "--force"])
        .ok();
    assert!(
        restored.stderr.contains("Forgot again 1 customer"),
        "{}",
        restored.stderr
    );
    let mira = shop.json(&["customer", "show", "1"]);
    assert!(!mira.to_string().contains("Mira"), "{mira}");
    let after = shop.path("after.backup");
    shop.run(&["backup", after.to_str().expect("path")]).ok();
    let bytes = std::fs::read(&after).expect("backup");
    let text = String::from_utf8_lossy(&bytes);
    for trace in ["Mira Jansen", "mira@example.org", "5550101"] {
        assert!(
            !text.contains(trace),
            "{trace} in a backup after the restore"
        );
    }
    // The other customers came back as they were.
    let tomasz = shop.json(&["customer", "show", "2"]);
    assert!(tomasz.to_string().contains("Tomasz"), "{tomasz}");
}

/// Fails naming the files under `dir` that hold any of `needles`.
fn assert_in_no_file(dir: &std::path::Path, needles: &[&str]) {
    for t in needles {
        assert_eq!(
            found_in_files(dir, t),
            Vec::<std::path::PathBuf>::new(),
            "{t}"
        );
    }
}

/// The files under `dir` that hold `needle`. Scheduled backups taken
/// before a forget are left out: they age out with `backup.keep` (the
/// README states the bound).
fn found_in_files(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "backups") {
                    continue;
                }
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path);
            }
        }
    }
    hits
}

#[test]
fn forgotten_values_leave_every_file_of_the_data_folder() {
    let shop = Shop::demo();
    let traces = ["Mira Jansen", "mira@example.org", "5550101"];
    for t in traces {
        assert!(
            !found_in_files(&shop.data(), t).is_empty(),
            "{t} is in the store first"
        );
    }
    // Forgotten at the counter's CLI (no server): the store is rewritten by
    // the next command that opens the folder (here a plain look at a card).
    shop.run(&["customer", "forget", "1", "--yes"]).ok();
    shop.run(&["card", "show", "100003"]).ok();
    assert_in_no_file(&shop.data(), &traces);
    // Forgotten through a running server: the server rewrites its store in
    // place within seconds, and goes on serving from the new files.
    let server = shop.serve(&[]);
    shop.run(&["customer", "forget", "2", "--yes"]).ok();
    wait::until(
        Duration::from_secs(60),
        || {
            ["Tomasz", "tomasz@example.org"]
                .iter()
                .all(|t| found_in_files(&shop.data(), t).is_empty())
                .then_some(())
        },
        || {
            format!(
                "still in {:?}",
                found_in_files(&shop.data(), "tomasz@example.org")
            )
        },
    );
    let code = shop.card_code(100003);
    shop.run(&["stamp", &code]).ok();
    assert_eq!(server.get("/healthz").0, 200);
    server.stop();
    assert_in_no_file(&shop.data(), &["Tomasz", "tomasz@example.org"]);
    // Everything else is still there, and the stamp given after the rewrite.
    assert_eq!(shop.stamps(100003), 10 % 8);
}

#[test]
fn a_forget_erases_the_customer_from_exports_and_the_message_log() {
    let shop = Shop::demo();
    let exports = shop.data().join("exports");
    std::fs::create_dir_all(&exports).expect("exports folder");
    for (format, name) in [("csv", "customers.csv"), ("json", "customers.jsonl")] {
        let out = exports.join(name);
        shop.run(&[
            "export",
            "--format",
            format,
            "--table",
            "customers",
            "--output",
            out.to_str().expect("path"),
        ])
        .ok();
    }
    // The message log as the log channel writes it, an earlier message in it.
    let log = shop.data().join("messages.log");
    std::fs::write(
        &log,
        "{\"entry\":1,\"to\":\"mira@example.org\",\"text\":\"Hello Mira Jansen\"}\n\
         {\"entry\":2,\"to\":\"tomasz@example.org\",\"text\":\"Hello\"}\n",
    )
    .expect("log");
    let traces = ["Mira Jansen", "mira@example.org", "5550101"];
    for t in traces {
        assert!(
            found_in_files(&exports, t).len() >= 2,
            "{t} is in the exports first"
        );
    }
    let forgot = shop
        .command(&["customer", "forget", "1", "--yes"])
        .env("STAMPCARD_OUTBOX__LOG_FILE", "messages.log")
        .output()
        .expect("runs");
    assert!(forgot.status.success(), "{forgot:?}");
    shop.run(&["card", "show", "100003"]).ok();
    assert_in_no_file(&shop.data(), &traces);
    // The others are still in the exports and the log.
    let csv = std::fs::read_to_string(exports.join("customers.csv")).expect("csv");
    assert!(csv.contains("Tomasz"), "{csv}");
    assert!(csv.contains("(forgotten)"), "{csv}");
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(log.contains("tomasz@example.org"), "{log}");
    assert_eq!(log.lines().count(), 2, "{log}");
}
