//! The full-screen console, end to end: the real binary inside tmux (its own
//! server socket), driven with keys, read back from the screen.

use crate::{Shop, Tmux};
use stampcard_e2e::printed;

/// The console in tmux with extra environment, signed in as the demo owner
/// (admin), on the admin screens.
pub(crate) fn admin_console(shop: &Shop, env: &str) -> Tmux {
    let tmux = Tmux::run(&format!(
        "env {env} {} --data {} console",
        crate::binary().display(),
        shop.data().display()
    ));
    tmux.wait_for("The console is locked.");
    tmux.keys(&["1234", "Enter"]);
    tmux.wait_for("owner (admin)");
    tmux.keys(&["F5"]);
    tmux.wait_for("Journal");
    tmux
}

#[test]
fn staff_sign_in_and_stamp_a_card_in_the_console() {
    let shop = Shop::demo();
    let (_, code) = shop.new_card(2, "Screen Test");
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("Scanner │ jules (staff)");
    tmux.keys(&[&code, "Enter"]);
    let screen = tmux.wait_for("Screen Test");
    assert!(screen.contains("1/"), "{screen}");
    tmux.keys(&["+"]);
    tmux.wait_for("2/");
    tmux.quit();
    // The stamps are in the store, under the staff member who added them.
    let journal = shop.json(&["journal", "--type", "stamp_added", "--limit", "2"]);
    assert_eq!(journal[0]["actor"]["name"], "Jules", "{journal}");
}

#[test]
fn the_shown_card_follows_changes_made_elsewhere() {
    let shop = Shop::demo();
    let (card, code) = shop.new_card(1, "Live Card");
    shop.run(&["stamp", &code, "--count", "3"]).ok();
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("jules (staff)");
    // Staff look the card up without stamping it: by name.
    tmux.keys(&["-l", "Live Card"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("3/8");
    // Another till stamps it (the CLI, through this console's socket)…
    let stamped = shop.json(&["stamp", &code, "--count", "2"]);
    tmux.wait_for("5/8");
    // …and an admin reverses that stamp: the screen follows both.
    let event = stamped["event_ids"][0].to_string();
    shop.run(&["reverse", &event, "--reason", "wrong card"])
        .ok();
    let screen = tmux.wait_for("3/8");
    assert!(
        screen.contains("Live Card") && !screen.contains("5/8"),
        "{screen}"
    );
    tmux.quit();
    assert_eq!(shop.stamps(card), 3);
}

#[test]
fn the_console_attaches_to_a_running_server() {
    let shop = Shop::demo();
    let (card, code) = shop.new_card(2, "Attached");
    let server = shop.serve(&[]);
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["1234", "Enter"]);
    tmux.wait_for("owner (admin)");
    tmux.keys(&[&code, "Enter"]);
    tmux.wait_for("Attached");
    // The server saw it: the CLI (through the socket) reads the stamp.
    assert_eq!(shop.stamps(card), 1);
    tmux.quit();
    server.stop();
}

#[test]
fn disabling_a_staff_member_ends_their_session_at_once() {
    let shop = Shop::demo();
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("jules (staff)");
    // An admin disables Jules from another terminal (through the console's socket).
    shop.run(&["staff", "disable", "Jules"]).ok();
    let screen = tmux.wait_for("Signed out: this staff account was disabled.");
    assert!(screen.contains("The console is locked."), "{screen}");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("Wrong PIN.");
    tmux.quit();
}

#[test]
fn an_admin_takes_a_backup_from_the_settings_tab() {
    let shop = Shop::demo();
    let tmux = admin_console(&shop, "STAMPCARD_BACKUP__EVERY_HOURS=0");
    tmux.keys(&["8"]);
    tmux.wait_for("Last backup: none yet");
    tmux.keys(&["b"]);
    tmux.wait_for("Take a backup now?");
    tmux.keys(&["y"]);
    tmux.wait_for("Backup written to");
    let files: Vec<_> = std::fs::read_dir(shop.data().join("backups"))
        .expect("backups folder")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    tmux.quit();
    // The backup restores.
    let restored = Shop::empty();
    restored
        .run(&["restore", files[0].path().to_str().unwrap_or_default()])
        .ok();
}

#[test]
fn an_admin_sends_a_message_to_a_card_holder() {
    let shop = Shop::demo();
    let tmux = admin_console(&shop, "STAMPCARD_OUTBOX__LOG_FILE=messages.log");
    tmux.keys(&["2"]);
    tmux.wait_for("Card 100001");
    tmux.keys(&["m"]);
    tmux.wait_for("Message to");
    tmux.keys(&["-l", "Free pastry with every coffee today!"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Message queued for card 100001 on log (campaign");
    // The outbox delivers it on the log channel.
    let log = shop.data().join("messages.log");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let text = stampcard_e2e::wait::until(
        std::time::Duration::from_secs(30),
        || Some(read()).filter(|t| t.contains("Free pastry with every coffee today!")),
        || format!("not delivered: {}", read()),
    );
    assert!(text.contains("\"card\":100001"), "{text}");
    tmux.quit();
}

#[test]
fn an_admin_plans_a_campaign_in_the_console_and_follows_its_delivery() {
    let shop = Shop::demo();
    let tmux = admin_console(&shop, "STAMPCARD_OUTBOX__LOG_FILE=messages.log");
    tmux.keys(&["4"]);
    tmux.wait_for("Campaigns — none yet");
    tmux.keys(&["n"]);
    tmux.wait_for("New campaign");
    // The audience is counted as the form changes: all holders on the log
    // channel.
    tmux.keys(&["Down", "C-u"]);
    tmux.keys(&["-l", "log, wallet"]);
    let screen = tmux.wait_for("Wallet 0");
    let cards = |screen: &str| -> u64 {
        screen
            .split("Audience: ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let holders = stampcard_e2e::wait::until(
        std::time::Duration::from_secs(30),
        || Some(cards(&tmux.screen())).filter(|n| *n > 0),
        || format!("no audience: {screen}"),
    );
    // The PUSH counter runs against the limit; too long is refused and
    // nothing is stored.
    tmux.keys(&["Down"]);
    tmux.keys(&["-l", "Fresh bread every morning"]);
    tmux.wait_for("(25/20)");
    tmux.keys(&["Down"]);
    tmux.keys(&[
        "-l",
        "**Double stamps** on Friday, see [menu](https://bake.example/menu)",
    ]);
    tmux.keys(&["C-s"]);
    tmux.wait_for("at most 20 fit on the lock screen");
    assert!(
        shop.json(&["campaign", "list"])
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    tmux.keys(&["Up", "C-u"]);
    tmux.keys(&["-l", "Double stamps Friday"]);
    tmux.wait_for("(20/20)");
    // The preview shows the lock screen and the message, markup rendered.
    let screen = tmux.wait_for("Wallet — lock screen");
    assert!(screen.contains("Double stamps on Friday, see"), "{screen}");
    tmux.keys(&["C-s"]);
    tmux.wait_for(&format!(
        "Send it now to {holders} card(s): Log file {holders}, Wallet 0?"
    ));
    tmux.keys(&["y"]);
    tmux.wait_for(&format!("to {holders} recipient(s) queued"));
    // The list: the tags, the state and the delivery counts.
    tmux.wait_for("Log file Wallet");
    let log = shop.data().join("messages.log");
    let delivered = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("on Friday, see"))
            .count() as u64
    };
    stampcard_e2e::wait::until(
        std::time::Duration::from_secs(60),
        || (delivered() == holders).then_some(()),
        || format!("delivered {} of {holders}", delivered()),
    );
    tmux.keys(&["r"]);
    tmux.wait_for(&format!("✅✅ {holders}"));
    // Its messages, one per recipient, with the customer's name.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc: back");
    let screen = tmux.wait_for(&format!(" {holders} message(s) "));
    assert!(screen.contains("100001"), "{screen}");
    assert!(screen.contains("confirmed"), "{screen}");
    // Back in the list: rename it; a sent campaign is not deleted.
    tmux.keys(&["Escape"]);
    tmux.wait_for("e rename x delete");
    tmux.keys(&["e"]);
    tmux.wait_for("New name of campaign");
    tmux.keys(&["C-u"]);
    tmux.keys(&["-l", "Friday doubles"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("is now \"Friday doubles\"");
    tmux.keys(&["x"]);
    tmux.wait_for("only drafts and scheduled campaigns are deleted");
    tmux.quit();
    let list = shop.json(&["campaign", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["campaign"]["name"], "Friday doubles", "{list}");
}

#[test]
fn printables_are_exported_from_the_codes_tab() {
    let shop = Shop::demo();
    let tmux = admin_console(&shop, "STAMPCARD_LOG=warn");
    tmux.keys(&["5"]);
    tmux.wait_for("Template: Coffee card");
    tmux.keys(&["g"]);
    tmux.keys(&["4", "Enter"]);
    tmux.wait_for("4 receipt codes made");
    tmux.keys(&["s"]);
    tmux.wait_for("Written codes-");
    tmux.keys(&["P"]);
    tmux.wait_for("poster-template-1.png");
    tmux.quit();
    let names: Vec<String> = std::fs::read_dir(shop.data().join("exports"))
        .expect("exports")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    // The SVGs open in a renderer that is not ours: four receipt links on
    // the sheet, the join link on the poster.
    let sheet = names
        .iter()
        .find(|n| n.starts_with("codes-") && n.ends_with(".svg"))
        .expect("a codes sheet");
    let links = printed::svg_qr_contents(&shop.data().join("exports").join(sheet), 2400);
    assert_eq!(links.len(), 4, "{links:?}");
    assert!(links.iter().all(|l| l.contains("/r/")), "{links:?}");
    let poster = printed::svg_qr_contents(
        &shop.data().join("exports").join("poster-template-1.svg"),
        1200,
    );
    assert!(
        poster.len() == 1 && poster[0].ends_with("/j/1"),
        "{poster:?}"
    );
    for ext in [".svg", ".png"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("codes-") && n.ends_with(ext)),
            "{names:?}"
        );
        assert!(
            names
                .iter()
                .any(|n| n == &format!("poster-template-1{ext}")),
            "{names:?}"
        );
    }
}

#[test]
fn an_admin_exports_tables_from_the_settings_tab() {
    let shop = Shop::demo();
    let tmux = admin_console(&shop, "CI=true");
    tmux.keys(&["8"]);
    tmux.wait_for("e: export");
    tmux.keys(&["e"]);
    tmux.wait_for("Export: customers");
    tmux.keys(&["-l", "customers xml"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("'xml' is not a format");
    tmux.keys(&["e"]);
    tmux.wait_for("Export: customers");
    tmux.keys(&["-l", "customers"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Exported");
    tmux.quit();
    let files: Vec<_> = std::fs::read_dir(shop.data().join("exports"))
        .expect("exports folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let csv = std::fs::read_to_string(&files[0]).expect("export");
    let customers = shop.json(&["customer", "list", "--limit", "1000"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,name,phone,email"), "{csv}");
    assert_eq!(
        lines.len() - 1,
        customers.as_array().map(Vec::len).unwrap_or(0),
        "one row per customer: {csv}"
    );
    assert!(csv.contains("Mira Jansen"), "{csv}");
}

/// Holds the store's file lock from another process (as a process that is
/// quitting holds it while it writes its last pages) for `secs`; returns
/// once the lock is held.
fn hold_store_lock(shop: &Shop, secs: f64) -> std::process::Child {
    use std::io::BufRead;
    let db = shop.data().join("store").join("db");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys, time\n\
             f = open(sys.argv[1], 'rb+')\n\
             fcntl.flock(f, fcntl.LOCK_EX)\n\
             print('held', flush=True)\n\
             time.sleep(float(sys.argv[2]))",
        ])
        .arg(&db)
        .arg(secs.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (the tests need it)");
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("holder");
    assert_eq!(line.trim(), "held");
    holder
}

#[test]
fn a_command_waits_for_a_process_letting_go_of_the_store() {
    // sled's file lock (on PostgreSQL the owner's advisory lock is waited
    // for the same way, in the store).
    let shop = Shop::demo();
    // Let go of after a second and a half: the command runs then.
    let mut holder = hold_store_lock(&shop, 1.5);
    let started = std::time::Instant::now();
    let shown = shop.json(&["card", "show", "100001"]);
    assert_eq!(shown["card_id"], 100001, "{shown}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    holder.wait().expect("holder");

    // Held on and on: after a few seconds, the clear error.
    let mut holder = hold_store_lock(&shop, 20.0);
    let refused = shop.run(&["card", "show", "100001"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("in use by another stampcard process"),
        "{}",
        refused.stderr
    );
    let _ = holder.kill();
    let _ = holder.wait();
}
