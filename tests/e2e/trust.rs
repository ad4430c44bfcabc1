//! Trust, as a shop meets it: a card template that stamps only from the
//! card's live rotating code — shown on the web card with a countdown that
//! a headless Chromium sees change without a reload, computed by Google
//! Wallet from the secret our object gives it (checked with Python's own
//! HMAC), used once at the counter; and fraud alerts: each rule once into
//! the staff chat of the fake Bot API and the console (tmux), by email in
//! the owner's language, none over the demo's history, bad settings refused.

use std::time::Duration;

use serde_json::Value;
use stampcard_e2e::wait;

use crate::Shop;

fn python() -> String {
    std::env::var("STAMPCARD_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The rotating code an independent RFC 6238 implementation (Python's
/// standard library) computes from Google Wallet's `rotatingBarcode`: the
/// value pattern with `{totp_value_0}` filled in, at the current time.
fn code_from_google_object(object: &Value) -> String {
    let barcode = &object["rotatingBarcode"];
    let pattern = barcode["valuePattern"].as_str().expect("valuePattern");
    let totp = &barcode["totpDetails"];
    assert_eq!(totp["algorithm"], "TOTP_SHA1");
    assert_eq!(totp["periodMillis"], "30000");
    let key = totp["parameters"][0]["key"].as_str().expect("key");
    assert_eq!(totp["parameters"][0]["valueLength"], 8);
    let script = format!(
        "import hmac,hashlib,struct,time\n\
         h=hmac.new(bytes.fromhex('{key}'),struct.pack('>Q',int(time.time())//30),hashlib.sha1).digest()\n\
         o=h[-1]&15\n\
         print('%08d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%10**8))"
    );
    let out = std::process::Command::new(python())
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for this test: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pattern.replace(
        "{totp_value_0}",
        String::from_utf8_lossy(&out.stdout).trim(),
    )
}

fn live_code(server: &crate::Server, card_path: &str) -> (String, u64) {
    let r = server.request("GET", &format!("{card_path}/code.json"), &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert!(v["svg"].as_str().is_some_and(|s| s.contains("<svg")), "{v}");
    (
        v["code"].as_str().expect("code").to_string(),
        v["seconds_left"].as_u64().expect("seconds left"),
    )
}

/// Runs `f` with a fresh live code that has at least 5 seconds left (so a
/// window does not end between fetching and using it).
fn with_fresh_code<T>(server: &crate::Server, card_path: &str, f: impl Fn(&str) -> T) -> T {
    let (mut code, left) = live_code(server, card_path);
    if left < 5 {
        std::thread::sleep(Duration::from_secs(left + 1));
        code = live_code(server, card_path).0;
    }
    f(&code)
}

#[test]
fn a_rotating_codes_card_stamps_once_from_its_live_code() {
    let shop = Shop::demo();
    shop.run(&["template", "edit", "1", "--rotating-codes"])
        .ok();
    let shown = shop.run(&["template", "show", "1"]).ok().stdout;
    assert!(shown.contains("live rotating code only"), "{shown}");
    let (_key, google) = crate::wallet::configure_google(&shop);
    let server = shop.serve(&[]);
    let (card, printed) = shop.new_card(1, "Rosa Linde");
    let view = shop.json(&["card", "show", &card.to_string()]);
    let url = view["url"].as_str().expect("url");
    let card_path = url[url.find("/c/").expect("path")..].to_string();

    // The web card shows the live code with its countdown, not the printed one.
    let (status, page) = server.get(&card_path);
    assert_eq!(status, 200);
    assert!(page.contains("id=\"live-code\""), "{page}");
    assert!(page.contains("changes in"), "{page}");
    assert!(!page.contains(&printed), "the printed code is not shown");
    let (code, left) = live_code(&server, &card_path);
    assert_eq!(code.len(), 18, "{code}");
    assert!(code.starts_with(&format!("5{card:09}")), "{code}");
    assert!((1..=30).contains(&left), "{left}");

    // Google Wallet's rotating barcode computes the same code on the phone.
    let location = server.request("GET", &format!("{card_path}/google"), &[], None);
    assert_eq!(location.status, 303, "{}", location.body);
    let object_id = format!("{}.stampcard-card-{card}", crate::wallet::GOOGLE_ISSUER);
    let object = google.object(&object_id).expect("the object was inserted");
    assert!(object.get("barcode").is_none(), "{object}");
    let same = wait::until(
        Duration::from_secs(10),
        || {
            let (ours, _) = live_code(&server, &card_path);
            (code_from_google_object(&object) == ours).then_some(ours)
        },
        || "Google's rotating barcode and the web card disagree".to_string(),
    );
    assert!(same.starts_with('5'));

    // A card saved in Google Wallet before its template turned to rotating
    // codes: the edit patches its object with the rotating barcode and
    // clears the static one; turned back, the other way round.
    shop.run(&["template", "edit", "1", "--rotating-codes=false"])
        .ok();
    let (earlier, _) = shop.new_card(1, "Early Saver");
    let path = shop.json(&["card", "show", &earlier.to_string()])["url"]
        .as_str()
        .map(|u| u[u.find("/c/").expect("path")..].to_string())
        .expect("url");
    let saved = server.request("GET", &format!("{path}/google"), &[], None);
    assert_eq!(saved.status, 303, "{}", saved.body);
    let earlier_id = format!("{}.stampcard-card-{earlier}", crate::wallet::GOOGLE_ISSUER);
    let static_object = google.object(&earlier_id).expect("inserted");
    assert!(
        static_object.get("rotatingBarcode").is_none(),
        "{static_object}"
    );
    assert!(static_object["barcode"]["value"].is_string());
    // Turns the template's rotating codes on or off; waits for the patch.
    let switch_to = |rotating: bool| -> Value {
        let flag = match rotating {
            true => "--rotating-codes",
            false => "--rotating-codes=false",
        };
        shop.run(&["template", "edit", "1", flag]).ok();
        wait::until(
            Duration::from_secs(20),
            || {
                google
                    .object(&earlier_id)
                    .filter(|o| o.get("rotatingBarcode").is_some() == rotating)
            },
            || format!("not patched: {:?}", google.object(&earlier_id)),
        )
    };
    let rotating_object = switch_to(true);
    assert_eq!(
        rotating_object["rotatingBarcode"]["totpDetails"]["algorithm"], "TOTP_SHA1",
        "{rotating_object}"
    );
    assert!(
        rotating_object.get("barcode").is_none(),
        "the printed code stays beside the live one: {rotating_object}"
    );
    let back = switch_to(false);
    assert_eq!(back["barcode"], static_object["barcode"], "{back}");
    switch_to(true);

    // At the counter: the live code stamps once; a second scan (a
    // screenshot) is refused and journaled; the printed code is refused.
    let before = shop.stamps(card);
    let (code, again) = with_fresh_code(&server, &card_path, |code| {
        let first = shop.run(&["stamp", code]);
        let again = shop.run(&["stamp", code]);
        (code.to_string(), (first, again))
    });
    let (first, again) = again;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("already used"), "{}", again.stderr);
    let printed_run = shop.run(&["stamp", &printed]);
    assert_ne!(printed_run.code, 0);
    assert!(
        printed_run.stderr.contains("live rotating code"),
        "{}",
        printed_run.stderr
    );
    assert_eq!(shop.stamps(card), before + 1);
    let refused: Vec<Value> = shop
        .json(&["journal", "--type", "stamp_refused", "--limit", "10"])
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        refused
            .iter()
            .any(|e| e["card_id"] == card && e["code"] == code.as_str()),
        "the replay is journaled with its code: {refused:?}"
    );

    // In a browser the code changes by itself, without a reload.
    let browser = crate::browser::Browser::start();
    browser.open(&format!("http://{}{card_path}", server.http));
    browser.script("window.stillHere = 'yes'; return null;");
    let first = browser.script("return document.getElementById('live-code').textContent");
    let first = first.as_str().expect("a live code").to_string();
    let countdown = browser.script("return document.getElementById('live-left').textContent");
    assert!(
        countdown.as_str().is_some_and(|t| t.contains(" s")),
        "{countdown}"
    );
    let next = wait::until(
        Duration::from_secs(45),
        || {
            let now = browser.script("return document.getElementById('live-code').textContent");
            now.as_str().filter(|c| *c != first).map(str::to_string)
        },
        || format!("the code on the page stayed {first}"),
    );
    assert!(next.starts_with(&format!("5{card:09}")), "{next}");
    assert_eq!(
        browser.script("return window.stillHere || null"),
        "yes",
        "the page was reloaded"
    );
    drop(browser);
    server.stop();
}

/// `n` new customers join on the web from `address` (as the local proxy
/// forwards it).
fn join_from(server: &crate::Server, address: &str, n: usize) {
    for i in 0..n {
        let r = server.request(
            "POST",
            "/j/1",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-Forwarded-For", address),
            ],
            Some(&format!("name=Guest+{i}")),
        );
        assert_eq!(r.status, 303, "join {i}: {}", r.body);
    }
}

/// The owner's staff chat in the fake Bot API.
const STAFF_CHAT: i64 = -1_001_777_000_001;

/// Appends TOML to the shop's config.
fn append_config(shop: &Shop, text: &str) {
    let path = shop.data().join("stampcard.toml");
    let mut config = std::fs::read_to_string(&path).expect("config");
    config.push_str(text);
    std::fs::write(&path, config).expect("write config");
}

#[test]
fn alerts_reach_the_staff_chat_once_and_the_console() {
    // The demo with its weeks of history: Jules has usual hours.
    let shop = Shop::empty();
    shop.init(&["--demo", "--timezone", "UTC"]);
    // Closed all week: every stamp at the counter is outside opening hours,
    // whenever this test runs.
    append_config(
        &shop,
        &format!(
            "\n[alerts]\ntelegram_chat = {STAFF_CHAT}\nfailed_pins = 3\n\n[shop.opening_hours]\nmon = \"closed\"\n"
        ),
    );
    let fake = stampcard_e2e::fake_telegram::FakeTelegram::start();
    let server = shop.serve(&[
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        ("STAMPCARD_TELEGRAM__THROTTLE", "false"),
    ]);
    let run = |args: &[&str]| shop.run(args);
    let template = |extra: &[&str]| -> u64 {
        let mut args = vec![
            "--json",
            "template",
            "create",
            "--name",
            "Test",
            "--business",
            "Corner",
            "--reward",
            "A cake",
        ];
        args.extend_from_slice(extra);
        run(&args).ok().json()["id"].as_u64().expect("template id")
    };
    let plain = template(&["--stamps", "50"]);
    let (_, plain_code) = shop.new_card(plain, "Friend of the house");
    let quick = template(&["--stamps", "2", "--reward-kind", "voucher"]);
    let (quick_card, quick_code) = shop.new_card(quick, "Another friend");
    let rotating = template(&["--stamps", "10", "--rotating-codes"]);
    let (rotating_card, _) = shop.new_card(rotating, "Screenshot owner");

    // Three wrong PINs at the console's lock screen, then Jules.
    let console = crate::Tmux::start(&shop, &["console"]);
    console.wait_for("PIN");
    for i in 0..3 {
        console.keys(&["-l", "9999"]);
        console.keys(&["Enter"]);
        console.wait_for("Wrong PIN");
        // The console waits longer after each wrong PIN (1 s, 2 s …, on
        // its clock that ticks each second).
        std::thread::sleep(Duration::from_millis((1000 << i) + 1200));
    }
    let console = console.sign_in("2468", "Jules");
    let scan = |code: &str, then: &str| {
        console.keys(&["-l", code]);
        console.keys(&["Enter"]);
        console.wait_for(then)
    };
    // At the counter: 20 stamps on one card within minutes — outside
    // opening hours, more than 10 on one card in 10 minutes, and an hour
    // far above Jules's usual.
    scan(&plain_code, "1/50");
    for n in 2..=20 {
        console.keys(&["+"]);
        console.wait_for(&format!("{n}/50"));
    }
    // A reward redeemed right after Jules stamped it full.
    console.keys(&["Escape"]);
    scan(&quick_code, "1/2");
    console.keys(&["+"]);
    console.wait_for("0/2");
    let voucher = shop.json(&["card", "show", &quick_card.to_string()])["vouchers"][0]["code"]
        .as_str()
        .expect("voucher code")
        .to_string();
    console.keys(&["Escape"]);
    scan(&voucher, "Redeemed");
    // A screenshot of a live code shown six times more.
    let view = shop.json(&["card", "show", &rotating_card.to_string()]);
    let url = view["url"].as_str().expect("url");
    let card_path = url[url.find("/c/").expect("path")..].to_string();
    with_fresh_code(&server, &card_path, |code| {
        console.keys(&["Escape"]);
        scan(code, "1/10");
        for _ in 0..6 {
            console.keys(&["Escape"]);
            scan(code, "already used");
        }
    });
    console.keys(&["Escape"]);
    // Eleven new cards from one network address (behind the proxy).
    join_from(&server, "203.0.113.7", 11);

    // Seven rules, seven messages in the staff chat — each once.
    let rules = [
        ("failed_pins", "wrong PINs in a row"),
        ("outside_hours", "Jules stamped a card at"),
        ("card_stamps", "stamps within 10 minutes"),
        ("staff_hour", "Jules added 20 stamps in one hour"),
        ("quick_redeem", "Jules redeemed the reward of card"),
        ("bad_codes", "replayed, expired or forged codes"),
        ("address", "from one network address (203.0.113.7)"),
    ];
    wait::until(
        Duration::from_secs(30),
        || (fake.texts_to(STAFF_CHAT).len() >= rules.len()).then_some(()),
        || format!("alerts in the staff chat: {:#?}", fake.texts_to(STAFF_CHAT)),
    );
    // The bot ignores what staff say in that chat; a customer still gets
    // answers (so the chat's message was handled, and dropped).
    fake.group_message(STAFF_CHAT, 7001, "Owner", "/start");
    fake.message(7002, "Lena", "en", "/help");
    fake.wait_for_text(7002, "/cards");
    let texts = fake.texts_to(STAFF_CHAT);
    assert_eq!(texts.len(), rules.len(), "{texts:#?}");
    for (rule, says) in rules {
        assert_eq!(
            texts.iter().filter(|t| t.contains(says)).count(),
            1,
            "{rule} once, saying {says:?}: {texts:#?}"
        );
    }
    let listed = shop.json(&["alerts", "list"]);
    let listed = listed.as_array().expect("alerts");
    assert_eq!(listed.len(), rules.len(), "{listed:#?}");
    let card_alert = listed
        .iter()
        .find(|a| a["rule"] == "card_stamps")
        .expect("the card alert");
    assert!(
        card_alert["findings"].as_u64().unwrap_or(0) > 1,
        "later stamps are evidence of the same alert: {card_alert}"
    );
    let later = card_alert["findings"].as_u64().unwrap_or(0) - 1;
    let plain = shop.run(&["alerts", "list"]).ok().stdout;
    let noun = if later == 1 { "finding" } else { "findings" };
    assert!(
        plain.contains(&format!("{later} later {noun} added to it")),
        "the list counts the findings after the first: {plain}"
    );
    let journaled = shop.json(&["journal", "--type", "alert_raised", "--limit", "100"]);
    assert_eq!(journaled.as_array().map(|a| a.len()), Some(rules.len()));

    // The console: Jules (staff) sees no badge; the owner sees it on every
    // screen, opens the Alerts tab and acknowledges one.
    assert!(
        !console.screen().contains("alerts (F5"),
        "{}",
        console.screen()
    );
    console.keys(&["F12"]);
    let console = console.sign_in("1234", "Owner");
    console.wait_for("7 alerts");
    console.keys(&["F5"]);
    console.wait_for("1 Templates");
    console.keys(&["9"]);
    let tab = console.wait_for("failed_pins");
    assert!(tab.contains("NEW"), "{tab}");
    console.keys(&["a"]);
    let after = console.wait_for("6 alerts");
    assert!(after.contains("seen: Owner"), "{after}");
    assert_eq!(
        fake.texts_to(STAFF_CHAT).len(),
        rules.len(),
        "nothing resent"
    );
    console.quit();
    server.stop();
}

#[test]
fn the_demo_history_raises_no_alert_and_bad_settings_are_refused() {
    // The demo as a newcomer makes it: weeks of history.
    let shop = Shop::empty();
    shop.init(&["--demo", "--timezone", "UTC"]);
    // The demo's counter opens 08:00-18:00 every day.
    let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let hours =
        |span: &str| -> String { week.iter().map(|d| format!("{d} = \"{span}\"\n")).collect() };
    let config = std::fs::read_to_string(shop.data().join("stampcard.toml")).expect("config");
    append_config(
        &shop,
        &format!("\n[shop.opening_hours]\n{}", hours("08:00-18:00")),
    );
    let replay = shop.run(&["alerts", "replay", "--days", "60"]).ok().stdout;
    assert!(replay.contains("no alert"), "{replay}");
    // The same history against shorter hours: the rules do look.
    std::fs::write(shop.data().join("stampcard.toml"), &config).expect("restore");
    append_config(
        &shop,
        &format!("\n[shop.opening_hours]\n{}", hours("09:00-17:00")),
    );
    let found = shop.json(&["alerts", "replay", "--days", "60"]);
    let found = found.as_array().expect("findings");
    assert!(
        !found.is_empty() && found.iter().all(|f| f["rule"] == "outside_hours"),
        "{found:#?}"
    );

    // An unknown rule, a malformed opening hour: one clear error, at start.
    for (bad, says) in [
        ("\n[alerts]\ncard_stampz = 3\n", "card_stampz"),
        (
            "\n[shop.opening_hours]\nmon = \"8-18\"\n",
            "key `shop.opening_hours`: `mon` = \"8-18\": '8' is not a time HH:MM",
        ),
        (
            "\n[shop.opening_hours]\nmonday = \"08:00-18:00\"\n",
            "`monday` is neither a weekday",
        ),
        (
            "\n[alerts]\nstaff_factor = -1\n",
            "key `alerts.staff_factor`",
        ),
        (
            "\n[alerts]\ntelegram_chat = 5\n",
            "set [telegram] token too",
        ),
    ] {
        std::fs::write(shop.data().join("stampcard.toml"), &config).expect("restore");
        append_config(&shop, bad);
        let r = shop.run(&["serve"]);
        assert_ne!(r.code, 0, "{bad}");
        assert!(r.stderr.contains(says), "{bad}: {}", r.stderr);
        assert_eq!(
            r.stderr.matches("error").count(),
            1,
            "one error, not a trace: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

#[test]
fn an_alert_is_emailed_to_the_owner_in_their_language() {
    let smtp = stampcard_e2e::smtp_server::SmtpServer::start();
    let shop = Shop::demo();
    append_config(
        &shop,
        "\n[alerts]\nemail = [\"owner@shop.test\"]\nlanguage = \"ru\"\n",
    );
    let port = smtp.port.to_string();
    let server = shop.serve(&[
        ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
        ("STAMPCARD_SMTP__PORT", &port),
        ("STAMPCARD_SMTP__SECURITY", "none"),
        ("STAMPCARD_SMTP__FROM", "Test Roastery <news@shop.test>"),
    ]);
    join_from(&server, "203.0.113.9", 12);
    let mail = wait::until(
        Duration::from_secs(30),
        || {
            smtp.messages()
                .into_iter()
                .find(|m| m.rcpt().contains(&"owner@shop.test".to_string()))
        },
        || format!("no alert email among {} messages", smtp.count()),
    );
    let subject = mail.header("Subject").unwrap_or_default();
    assert!(subject.contains("Тревога"), "{subject}");
    let text = mail.part("text/plain").unwrap_or_default();
    assert!(
        text.contains("новых карт с одного сетевого адреса (203.0.113.9)"),
        "{text}"
    );
    // One alert, one email, however many joins followed.
    std::thread::sleep(Duration::from_secs(1));
    let to_owner = smtp
        .messages()
        .into_iter()
        .filter(|m| m.rcpt().contains(&"owner@shop.test".to_string()))
        .count();
    assert_eq!(to_owner, 1);
    server.stop();
}
