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
use crate::wallet::{GOOGLE_ACCOUNT, GOOGLE_ISSUER, configure_google, unbase64url};

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
    let forward = server.request("GET", &format!("{card_path}/google"), &[], None);
    assert_eq!(forward.status, 303);
    let location = forward.header("location").expect("a location").to_string();
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
    assert_eq!(
        server
            .request("GET", &format!("{card_path}/google"), &[], None)
            .status,
        303
    );
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
    server.stop();
}
