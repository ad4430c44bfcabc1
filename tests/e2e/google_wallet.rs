//! Google Wallet through the real binary and a fake of Google's API: the
//! save link inserts the card's object (and its class) and only names it;
//! from then on every change of the card patches the object, through the
//! outbox (retried on 5xx, failed with Google's reason on 4xx), and a
//! template edit patches the class.

use std::time::Duration;

use serde_json::Value;
use stampcard_e2e::fake_google::FakeGoogle;
use stampcard_e2e::wait;

use crate::Shop;
use crate::wallet::{
    GOOGLE_ACCOUNT, GOOGLE_ISSUER, configure_google, unbase64url, wallet_campaign, write_google_key,
};

const PATIENCE: Duration = Duration::from_secs(20);

fn object_id(card: u64) -> String {
    format!("{GOOGLE_ISSUER}.stampcard-card-{card}")
}

/// The object's "stamps/of" once it reads `want`.
fn wait_for_balance(google: &FakeGoogle, card: u64, want: &str) -> Value {
    wait::until(
        PATIENCE,
        || {
            google
                .object(&object_id(card))
                .filter(|o| o["loyaltyPoints"]["balance"]["string"] == want)
        },
        || {
            format!(
                "object {card} never read {want}: {:?}",
                google.object(&object_id(card))
            )
        },
    )
}

/// Opens a card's "Save to Google Wallet" link as a phone does; Google's
/// save page it forwards to.
fn open_save_link(shop: &Shop, server: &crate::Server, card: u64) -> String {
    let url = shop.json(&["card", "show", &card.to_string()])["url"]
        .as_str()
        .expect("url")
        .to_string();
    let path = format!("{}/google", &url[url.find("/c/").expect("path")..]);
    let forward = server.request("GET", &path, &[], None);
    assert_eq!(forward.status, 303, "{}", forward.body);
    forward.header("location").expect("a location").to_string()
}

fn google_entries(shop: &Shop) -> Vec<Value> {
    shop.json(&["outbox", "list", "--limit", "1000"])
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["channel"] == "google-wallet")
        .cloned()
        .collect()
}

#[test]
fn a_google_wallet_card_follows_every_change() {
    let shop = Shop::demo();
    let (key, google) = configure_google(&shop);
    let server = shop.serve(&[("STAMPCARD_OUTBOX__RETRY_SECS", "0.2")]);
    let view = shop.json(&["card", "show", "100001"]);
    let url = view["url"].as_str().expect("url");
    let card_path = &url[url.find("/c/").expect("path")..];

    // The web card's button leads to the card's forward, which inserts the
    // object and its class, then sends the phone to Google's save page with
    // a link that only names the object.
    let (status, page) = server.get(card_path);
    assert_eq!(status, 200);
    assert!(page.contains("Save to Google Wallet"), "{page}");
    assert!(page.contains(&format!("{card_path}/google")), "{page}");
    assert!(
        !page.contains("Add to Apple Wallet"),
        "no passes configured"
    );
    assert!(google.object(&object_id(100001)).is_none());
    let location = open_save_link(&shop, &server, 100001);
    let jwt = location
        .strip_prefix("https://pay.google.com/gp/v/save/")
        .unwrap_or_else(|| panic!("not Google's save page: {location}"));
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let mut verifier =
        openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key).expect("v");
    verifier
        .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .expect("update");
    assert!(
        verifier.verify(&unbase64url(parts[2])).expect("verify"),
        "the save link's signature does not verify with the service-account key: {location}"
    );
    let claims: Value = serde_json::from_slice(&unbase64url(parts[1])).expect("claims JSON");
    assert_eq!(claims["iss"], GOOGLE_ACCOUNT);
    assert_eq!(claims["aud"], "google");
    assert_eq!(claims["typ"], "savetowallet");
    let named = &claims["payload"]["loyaltyObjects"][0];
    assert_eq!(named["id"], object_id(100001).as_str());
    assert_eq!(
        named.as_object().map(|o| o.len()),
        Some(2),
        "the link names the object (id and class), it does not carry it: {named}"
    );
    let class_id = named["classId"].as_str().expect("class id").to_string();
    let class = google.class(&class_id).expect("the class was inserted");
    assert_eq!(class["issuerName"], view["business_name"]);
    let object = google
        .object(&object_id(100001))
        .expect("the object was inserted");
    assert_eq!(object["classId"], class_id.as_str());
    assert_eq!(object["state"], "ACTIVE");
    assert_eq!(object["barcode"]["value"], view["code"]);
    assert_eq!(object["accountName"], view["customer_name"]);
    let before = shop.stamps(100001);
    assert_eq!(
        object["loyaltyPoints"]["balance"]["string"],
        format!("{before}/8")
    );
    // Opening the link again inserts nothing new.
    open_save_link(&shop, &server, 100001);
    assert_eq!(google.object_patches(&object_id(100001)), 0);
    assert_eq!(google.class_writes(&class_id), 1);
    assert_eq!(google.token_requests(), 1, "the access token is kept");
    assert!(google.refused_assertions().is_empty());

    // A stamp patches the object with the new progress.
    shop.run(&["stamp", &shop.card_code(100_001)]).ok();
    wait_for_balance(&google, 100001, &format!("{}/8", before + 1));

    // Google fails twice (500, then 429), then takes it: applied once.
    let patches = google.object_patches(&object_id(100001));
    google.fail_next(&[500, 429]);
    shop.run(&["stamp", &shop.card_code(100_001)]).ok();
    wait_for_balance(&google, 100001, &format!("{}/8", before + 2));
    assert_eq!(google.object_patches(&object_id(100001)), patches + 1);

    // Stamps up to the goal: the voucher with its code is on the object.
    let to_goal = 8 - (before + 2);
    shop.run(&[
        "stamp",
        &shop.card_code(100_001),
        "--count",
        &to_goal.to_string(),
    ])
    .ok();
    let after = shop.stamps(100001);
    let object = wait_for_balance(&google, 100001, &format!("{after}/8"));
    let vouchers = shop.json(&["card", "show", "100001"])["vouchers"].clone();
    let code = vouchers[0]["code"].as_str().expect("a voucher code");
    assert!(
        object["textModulesData"].to_string().contains(code),
        "the voucher's code is not on the object: {object}"
    );

    // A refusal (400) is final, with Google's reason for the owner.
    google.fail_next(&[400]);
    shop.run(&["stamp", &shop.card_code(100_001)]).ok();
    let failed = wait::until(
        PATIENCE,
        || {
            google_entries(&shop)
                .into_iter()
                .find(|e| e["state"] == "failed")
        },
        || format!("no failed Google update: {:?}", google_entries(&shop)),
    );
    let reason = failed["last_error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("400") && reason.contains("INVALID_ARGUMENT"),
        "{failed}"
    );

    // The wallet doctor says what works and what failed, and fails.
    let check = shop.run(&["wallet", "check"]);
    assert_ne!(check.code, 0, "{}", check.stdout);
    for said in [
        "Google Wallet: PROBLEMS",
        "an access token was fetched",
        &format!("issuer {GOOGLE_ISSUER} answers (1 loyalty classes)"),
        "cards held: 1",
        "failing: card 100001",
        "INVALID_ARGUMENT",
        "not HTTPS",
        "Apple Wallet: not configured",
    ] {
        assert!(
            check.stdout.contains(said),
            "no '{said}' in:\n{}",
            check.stdout
        );
    }

    // A template edit patches the class.
    shop.run(&["template", "edit", "1", "--business", "Corner Bakery"])
        .ok();
    wait::until(
        PATIENCE,
        || {
            google
                .class(&class_id)
                .filter(|c| c["issuerName"] == "Corner Bakery")
        },
        || format!("the class was not patched: {:?}", google.class(&class_id)),
    );

    // A deleted card's object turns INACTIVE, without the holder's name.
    shop.run(&["card", "delete", "100001", "--yes"]).ok();
    let object = wait::until(
        PATIENCE,
        || {
            google
                .object(&object_id(100001))
                .filter(|o| o["state"] == "INACTIVE")
        },
        || format!("still active: {:?}", google.object(&object_id(100001))),
    );
    assert_eq!(object["accountName"], "");
    // A card nobody saved to Google is never written there.
    shop.run(&["stamp", &shop.card_code(100_002)]).ok();
    assert!(google.object(&object_id(100002)).is_none());

    // A customer who joins on the web page (in Russian) saves the new card
    // the same way, and Google shows it in her language.
    let joined = server.request(
        "POST",
        "/j/1",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept-Language", "ru-RU,ru;q=0.9"),
        ],
        Some("name=Zoe+Web"),
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let location = joined.header("location").expect("the card").to_string();
    let card_page = location.split('?').next().unwrap_or_default();
    let saved = server.request("GET", &format!("{card_page}/google"), &[], None);
    assert_eq!(saved.status, 303, "{}", saved.body);
    let card: u64 = card_page
        .trim_start_matches("/c/")
        .split('-')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("a card id in the link");
    let object = google
        .object(&object_id(card))
        .expect("the new card's object");
    assert_eq!(object["accountName"], "Zoe Web");
    assert_eq!(object["loyaltyPoints"]["balance"]["string"], "0/8");
    assert_eq!(object["loyaltyPoints"]["label"], "Штампы", "{object}");

    // She corrects her name and switches to English: the object follows.
    let zoe = shop.json(&["card", "show", &card.to_string()])["customer_id"].to_string();
    shop.run(&["customer", "edit", &zoe, "--name", "Zoë Weber"])
        .ok();
    shop.run(&["customer", "edit", &zoe, "--language", "en"])
        .ok();
    wait::until(
        PATIENCE,
        || {
            google.object(&object_id(card)).filter(|o| {
                o["accountName"] == "Zoë Weber" && o["loyaltyPoints"]["label"] == "Stamps"
            })
        },
        || format!("not patched: {:?}", google.object(&object_id(card))),
    );
    server.stop();
}

#[test]
fn campaign_news_reaches_google_cards_within_googles_notification_budget() {
    let shop = Shop::demo();
    let (_, google) = configure_google(&shop);
    let server = shop.serve(&[
        ("STAMPCARD_CAMPAIGNS__FREQUENCY_CAP", "10"),
        ("STAMPCARD_OUTBOX__RETRY_SECS", "0.2"),
    ]);
    open_save_link(&shop, &server, 100001);

    let campaign = |push: &str| -> String {
        let created = wallet_campaign(&shop, push, "Fresh pie every morning.");
        // `wallet` picks both wallets; each is counted on its own.
        let per_channel = &created["audience"]["per_channel"];
        assert_eq!(
            per_channel["google-wallet"], 1,
            "only the saved card: {created}"
        );
        assert_eq!(per_channel["wallet"], 0, "no Apple passes here: {created}");
        let id = created["campaign"]["id"].as_u64().expect("id").to_string();
        shop.json(&["campaign", "send", &id]);
        id
    };
    let messages_arrived = |n: usize| {
        wait::until(
            PATIENCE,
            || {
                let m = google.messages();
                (m.len() >= n).then_some(m)
            },
            || format!("{} messages, {n} expected", google.messages().len()),
        )
    };

    // The first three notify; Google refuses a fourth notification on the
    // same object within a day, so it arrives as text only and says so.
    let mut ids = Vec::new();
    for (i, push) in [
        "Pie is back!",
        "Cherry pie today",
        "Last slices",
        "Pie week ends",
    ]
    .iter()
    .enumerate()
    {
        ids.push(campaign(push));
        let messages = messages_arrived(i + 1);
        let last = &messages[i];
        assert_eq!(last.object, object_id(100001));
        assert_eq!(last.message["body"], *push);
        assert_eq!(
            last.message["id"],
            format!("campaign-{}-card-100001", ids[i]).as_str()
        );
        let kind = if i < 3 { "TEXT_AND_NOTIFY" } else { "TEXT" };
        assert_eq!(last.message["messageType"], kind, "message {i}");
    }
    assert_eq!(
        google.messages().len(),
        4,
        "each campaign added one message"
    );
    let shown = |id: &str| {
        shop.json(&["campaign", "show", id, "--recipients"])
            .to_string()
    };
    let quiet = wait::until(
        PATIENCE,
        || Some(shown(&ids[3])).filter(|s| s.contains("no notification: Google's limit")),
        || shown(&ids[3]),
    );
    assert!(quiet.contains("sent"), "{quiet}");
    assert!(
        !shown(&ids[0]).contains("Google's limit"),
        "{}",
        shown(&ids[0])
    );
    server.stop();
}

#[test]
fn a_message_added_just_before_a_crash_is_not_added_again() {
    let shop = Shop::demo();
    let (_, google) = configure_google(&shop);
    let server = shop.serve(&[("STAMPCARD_CRASH_AT", "outbox-sent:1")]);
    open_save_link(&shop, &server, 100001);
    let created = wallet_campaign(&shop, "Pie is back!", "Fresh pie.");
    let id = created["campaign"]["id"].as_u64().expect("id").to_string();
    shop.json(&["campaign", "send", &id]);
    // Google took the message; the server died before writing that down.
    server.wait_killed();
    assert_eq!(google.messages().len(), 1);

    // Started again, it finds the message on the object by its id.
    let server = shop.serve(&[]);
    let shown = || {
        shop.json(&["campaign", "show", &id, "--recipients"])
            .to_string()
    };
    wait::until(
        PATIENCE,
        || Some(shown()).filter(|s| s.contains(&format!("campaign-{id}-card-100001"))),
        shown,
    );
    assert_eq!(google.messages().len(), 1, "the message was added twice");
    server.stop();
}

#[test]
fn the_wallet_doctor_tells_a_healthy_google_setup_from_a_broken_one() {
    let shop = Shop::demo();
    let r = shop.run(&["wallet", "check"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no wallet is configured"), "{}", r.stderr);

    let (_, google) = configure_google(&shop);
    let ok = shop.run(&["wallet", "check"]).ok();
    assert!(ok.stdout.contains("Google Wallet: OK"), "{}", ok.stdout);
    assert!(
        ok.stdout.contains("last update reached: never"),
        "{}",
        ok.stdout
    );
    let json = shop.json(&["wallet", "check"]);
    assert_eq!(json["google"]["configured"], true, "{json}");
    assert_eq!(json["public_url_https"], false, "{json}");
    assert!(google.refused_assertions().is_empty());

    // The console's Settings say it in one line.
    let tmux = crate::console::admin_console(&shop, "STAMPCARD_LOG=warn");
    tmux.keys(&["8"]);
    tmux.wait_for(&format!(
        "Google Wallet: on — issuer {GOOGLE_ISSUER}, no failing updates"
    ));
    drop(tmux);

    // push-test writes the card's object now (inserting it), quietly, and
    // does not count the card as saved.
    let test = shop.run(&["wallet", "push-test", "100001"]).ok();
    assert!(
        test.stdout
            .contains(&format!("Google Wallet object {}", object_id(100001)))
            && test.stdout.contains("accepted"),
        "{}",
        test.stdout
    );
    let object = google.object(&object_id(100001)).expect("written");
    assert_eq!(object["state"], "ACTIVE");
    assert!(google.messages().is_empty(), "a test write never notifies");
    let json = shop.json(&["wallet", "check"]);
    assert_eq!(json["google"]["cards"], 0, "{json}");

    // Another key than the one Google knows: refused at the token, said so.
    write_google_key(&shop);
    let bad = shop.run(&["wallet", "check"]);
    assert_ne!(bad.code, 0, "{}", bad.stdout);
    assert!(
        bad.stdout.contains("no access token") && bad.stdout.contains("invalid_grant"),
        "{}",
        bad.stdout
    );
    assert_eq!(
        google.refused_assertions(),
        vec!["the signature does not verify".to_string()]
    );
}

#[test]
fn googles_save_and_delete_callbacks_are_verified_and_counted_once() {
    let shop = Shop::demo();
    let (_, google) = configure_google(&shop);
    let server = shop.serve(&[]);
    let object = object_id(100003);
    let later = chrono::Utc::now().timestamp_millis() + 60_000;
    let post = |body: &str| {
        server.request(
            "POST",
            "/google/callback",
            &[("Content-Type", "application/json")],
            Some(body),
        )
    };
    let journal = |kind: &str| {
        shop.json(&["journal", "--type", kind])
            .as_array()
            .map_or(0, Vec::len)
    };
    let platforms = || shop.json(&["card", "show", "100003"])["platforms"].to_string();
    assert!(!platforms().contains("google"), "{}", platforms());

    // Forged (a key Google never published), for another issuer, expired,
    // or not JSON at all: refused, and nothing changes.
    for (body, why) in [
        (
            google.forged_callback(GOOGLE_ISSUER, &object, "save", "n-forged"),
            "not signed by Google",
        ),
        (
            google.callback("1234567890", &object, "save", "n-other", later),
            "for this issuer",
        ),
        (
            google.callback(GOOGLE_ISSUER, &object, "save", "n-old", 1_000),
            "expired",
        ),
        ("{\"signature\":1}".to_string(), "not a Google callback"),
    ] {
        let r = post(&body);
        assert_eq!(r.status, 400, "{why}: {}", r.body);
        assert!(r.body.contains(why), "{why}: {}", r.body);
    }
    assert_eq!(journal("pass_saved"), 0);
    assert!(!platforms().contains("google"), "{}", platforms());

    // A save: the card is held in Google Wallet, journaled once.
    let save = google.callback(GOOGLE_ISSUER, &object, "save", "n-1", later);
    assert_eq!(post(&save).status, 200);
    assert!(platforms().contains("google_wallet"), "{}", platforms());
    assert_eq!(journal("pass_saved"), 1);
    // Google repeats it: nothing more.
    assert_eq!(post(&save).status, 200);
    assert_eq!(journal("pass_saved"), 1);

    // A delete, then the old save replayed: it stays removed.
    let del = google.callback(GOOGLE_ISSUER, &object, "del", "n-2", later);
    assert_eq!(post(&del).status, 200);
    assert!(!platforms().contains("google"), "{}", platforms());
    assert_eq!(journal("pass_removed"), 1);
    assert_eq!(post(&save).status, 200);
    assert!(
        !platforms().contains("google"),
        "the replayed save changed it"
    );
    assert_eq!(journal("pass_saved"), 1);

    // Another shop's object, or a card that does not exist.
    let foreign = google.callback(GOOGLE_ISSUER, "999.other-object", "save", "n-3", later);
    assert_eq!(post(&foreign).status, 400);
    let missing = google.callback(GOOGLE_ISSUER, &object_id(999_999), "save", "n-4", later);
    assert_eq!(post(&missing).status, 404);

    // The class tells Google where to call.
    open_save_link(&shop, &server, 100003);
    let class = google
        .class(&format!("{GOOGLE_ISSUER}.stampcard-template-1"))
        .expect("class");
    assert!(
        class["callbackOptions"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/google/callback")),
        "{class}"
    );
    server.stop();
}
