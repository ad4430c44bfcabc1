//! Trust, as a shop meets it: a card template that stamps only from the
//! card's live rotating code — shown on the web card with a countdown that
//! a headless Chromium sees change without a reload, computed by Google
//! Wallet from the secret our object gives it (checked with Python's own
//! HMAC), used once at the counter.

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
