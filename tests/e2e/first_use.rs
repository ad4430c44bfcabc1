//! A shop's first minutes, as a stranger follows the README: `init` that
//! leaves an owner who can sign in, one demo folder for every `--demo`,
//! exit codes and error texts as documented, `-o -` to standard output.

use std::process::Command;

use crate::{Shop, Tmux, binary};

/// `stampcard` in a directory, without `--data` (the defaults apply).
fn bare(dir: &std::path::Path, args: &[&str]) -> crate::Run {
    let out = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env_remove("STAMPCARD_DATA")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run stampcard");
    crate::Run::from(out)
}

#[test]
fn init_with_an_admin_lets_the_owner_sign_in() {
    let shop = Shop::empty();
    // A bad PIN is refused before anything is written.
    let bad = shop.run(&["init", "--admin", "Mara", "--pin", "12ab"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("4 to 8 digits"), "{}", bad.stderr);
    assert!(!shop.data().exists(), "nothing is created");
    let lonely = shop.run(&["init", "--pin", "4321"]);
    assert_eq!(lonely.code, 2, "--pin needs --admin: {}", lonely.stderr);

    let made = shop.json(&[
        "init",
        "--admin",
        "Mara",
        "--pin",
        "4321",
        "--timezone",
        "UTC",
    ]);
    assert_eq!(made["admin"], "Mara", "{made}");
    let staff = shop.json(&["staff", "list"]);
    assert_eq!(staff[0]["name"], "Mara", "{staff}");
    assert_eq!(staff[0]["role"], "admin", "{staff}");
    // The console opens for her PIN.
    Tmux::start(&shop, &["console"])
        .sign_in("4321", "Mara")
        .quit();
}

#[test]
fn init_without_an_admin_says_how_to_make_one_and_so_does_the_lock_screen() {
    let shop = Shop::empty();
    let made = shop.run(&["init", "--timezone", "UTC"]).ok();
    let command = format!(
        "stampcard --data {} staff add --name Owner --role admin --pin",
        shop.data().display()
    );
    assert!(made.stdout.contains(&command), "{}", made.stdout);
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("no staff yet");
    let screen = tmux.wait_for("staff add --name Owner --role admin");
    assert!(!screen.contains("Wrong PIN"), "{screen}");
    tmux.keys(&["-l", "1234"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Create the first admin");
    tmux.quit();
    // The printed command works, and then the PIN does.
    shop.run(&[
        "staff", "add", "--name", "Owner", "--role", "admin", "--pin", "5555",
    ])
    .ok();
    Tmux::start(&shop, &["console"])
        .sign_in("5555", "Owner")
        .quit();
}

#[test]
fn every_demo_uses_one_folder_and_one_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    bare(
        dir.path(),
        &["init", "--demo", "--timezone", "UTC", "--history-days", "0"],
    )
    .ok();
    assert!(dir.path().join("stampcard-demo/stampcard.toml").exists());
    assert!(!dir.path().join("stampcard-data").exists());
    // A code printed for the demo is taken by the demo's commands.
    let card = bare(
        dir.path(),
        &[
            "--json",
            "--data",
            "stampcard-demo",
            "card",
            "show",
            "100001",
        ],
    )
    .ok()
    .json();
    let code = card["code"].as_str().expect("code").to_string();
    // The console --demo runs on that same folder: the card's code stamps.
    let stamped = Command::new(binary())
        .args(["console", "--demo"])
        .current_dir(dir.path())
        .env_remove("STAMPCARD_DATA")
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{code}")?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("console --demo");
    let text = String::from_utf8_lossy(&stamped.stdout);
    assert!(
        stamped.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&stamped.stderr)
    );
    assert!(!text.contains("forged") && text.contains("4/8"), "{text}");
    assert!(!dir.path().join("stampcard-data").exists());
}

#[test]
fn exit_codes_and_errors_say_what_the_readme_says() {
    let shop = Shop::demo();
    let before = shop.event_count();
    // Bad input exits 2, whether clap or the shop checks it.
    for args in [
        &[
            "card",
            "issue",
            "--template",
            "1",
            "--name",
            "A",
            "--birthday",
            "1990-13-01",
        ][..],
        &[
            "card",
            "issue",
            "--template",
            "1",
            "--name",
            "A",
            "--birthday",
            "2999-01-01",
        ][..],
        &[
            "card",
            "issue",
            "--template",
            "1",
            "--name",
            "A",
            "--email",
            "not-an-address",
        ][..],
    ] {
        let r = shop.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    assert_eq!(shop.event_count(), before, "nothing changed");
    // A "no" at the counter exits 1.
    assert_eq!(shop.run(&["stamp", "1000100001000000000"]).code, 1);

    // A used voucher says when, shop-local to the minute.
    let v = shop.json(&["card", "show", "100003"])["vouchers"][0]["code"]
        .as_str()
        .map(str::to_string)
        .expect("Aiko's demo card has a voucher");
    shop.run(&["redeem", &v]).ok();
    let used = shop.run(&["redeem", &v]);
    assert_eq!(used.code, 1, "{}", used.stderr);
    let at = used
        .stderr
        .split(" on ")
        .nth(1)
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    assert!(
        chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M").is_ok(),
        "'{at}' in {}",
        used.stderr
    );

    // A config error from the environment names the variable.
    let mut c = shop.command(&["card", "list"]);
    c.env("STAMPCARD_HTTP__PUBLIC_URL", "ftp://nowhere");
    let out = c.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("STAMPCARD_HTTP__PUBLIC_URL") && !err.contains("stampcard.toml"),
        "{err}"
    );
}

#[test]
fn minus_as_the_output_file_writes_to_standard_output() {
    let shop = Shop::demo();
    let qr = shop.run(&["card", "qr", "100001", "-o", "-"]).ok();
    assert!(
        qr.stdout.starts_with("<?xml") && qr.stdout.contains("</svg>"),
        "{}",
        qr.stdout
    );
    assert!(!shop.dir.path().join("-").exists());
    let poster = shop.run(&["poster", "--template", "1", "-o", "-"]).ok();
    assert!(roxmltree_ok(&poster.stdout), "{}", poster.stdout);
    let codes = shop
        .run(&[
            "codes",
            "generate",
            "--template",
            "1",
            "--count",
            "3",
            "-o",
            "-",
        ])
        .ok();
    assert_eq!(codes.stdout.lines().count(), 3, "{}", codes.stdout);
    let export = shop
        .run(&["export", "--format", "csv", "--table", "cards", "-o", "-"])
        .ok();
    assert!(export.stdout.lines().count() > 1, "{}", export.stdout);
    assert!(!shop.dir.path().join("-").exists());
}

fn roxmltree_ok(svg: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.svg");
    std::fs::write(&path, svg).expect("write");
    stampcard_e2e::printed::svg_qr_contents(&path, 1200).len() == 1
}

#[test]
fn the_demo_shop_has_weeks_of_believable_history() {
    let shop = Shop::empty();
    let made = shop
        .run(&["init", "--demo", "--timezone", "Europe/Berlin"])
        .ok();
    assert!(
        made.stdout.contains("Demo history over 42 days"),
        "{}",
        made.stdout
    );
    let a = shop.json(&["analytics", "--days", "42"]);
    let days = a["days"].as_array().cloned().unwrap_or_default();
    let stamped: Vec<(chrono::NaiveDate, u64)> = days
        .iter()
        .filter_map(|d| {
            Some((
                d["day"].as_str()?.parse().ok()?,
                d["stamps"].as_u64().filter(|n| *n > 0)?,
            ))
        })
        .collect();
    assert!(stamped.len() >= 35, "stamps on most days: {a}");
    // A weekly rhythm: Saturdays are busier than Mondays.
    use chrono::Datelike;
    let mean = |w: chrono::Weekday| {
        let v: Vec<u64> = stamped
            .iter()
            .filter(|(d, _)| d.weekday() == w)
            .map(|(_, n)| *n)
            .collect();
        v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
    };
    assert!(
        mean(chrono::Weekday::Sat) > mean(chrono::Weekday::Mon),
        "{a}"
    );
    let redeemed: u64 = days
        .iter()
        .filter_map(|d| d["vouchers_redeemed"].as_u64())
        .sum();
    assert!(redeemed >= 10, "{a}");
    let stampers = a["per_actor"].as_array().map_or(0, Vec::len);
    assert!(stampers >= 3, "several staff stamped: {a}");
    // Every kind of thing a shop does is in the journal.
    for kind in [
        "voucher_redeemed",
        "lottery_played",
        "reversal",
        "receipt_claimed",
        "card_issued",
    ] {
        let found = shop.json(&["journal", "--type", kind, "--limit", "1"]);
        assert_eq!(found.as_array().map(Vec::len), Some(1), "a {kind} event");
    }
    let customers = shop.json(&["customer", "list"]);
    assert!(
        customers.as_array().map_or(0, Vec::len) >= 20,
        "{customers}"
    );
    // A campaign sent weeks ago with its deliveries, and one still to come.
    let campaigns = shop.json(&["campaign", "list"]);
    let list = campaigns.as_array().cloned().unwrap_or_default();
    let sent = list
        .iter()
        .find(|c| c["campaign"]["state"] == "sent")
        .expect("a sent campaign");
    assert!(
        sent["deliveries"]["email"]["confirmed"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{sent}"
    );
    let scheduled = list
        .iter()
        .find(|c| c["campaign"]["state"] == "scheduled")
        .expect("a scheduled campaign");
    let when: chrono::DateTime<chrono::Utc> = scheduled["campaign"]["scheduled_for"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a time");
    assert!(when > chrono::Utc::now(), "{scheduled}");
    // Nothing lies in the future.
    let newest = shop.json(&["journal", "--limit", "1"]);
    let at: chrono::DateTime<chrono::Utc> = newest[0]["at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("at");
    assert!(at <= chrono::Utc::now(), "{newest}");
    // The console's Analytics tab draws real bars from it.
    let tmux = Tmux::start(&shop, &["console"]).sign_in("1234", "Owner");
    tmux.keys(&["F5"]);
    tmux.keys(&["6"]);
    let screen = tmux.wait_for("Stamps per day");
    assert!(
        screen.contains("Maya") || screen.contains("Jules"),
        "{screen}"
    );
    tmux.quit();
}
