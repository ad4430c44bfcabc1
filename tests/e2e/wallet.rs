//! Apple Wallet through the real binary, against a test PKI the test
//! generates: the .pkpass is checked file by file and its signature with the
//! `openssl` command line; a device registers through Apple's PassKit web
//! service protocol, a stamp pushes (the push log stands in for APNs behind
//! the sender trait), the device fetches the new pass, and the push is
//! confirmed.

use std::path::Path;
use std::time::Duration;

use stampcard_e2e::test_pki::{self, PASS_TYPE_ID, TEAM_ID, TestPki};
use stampcard_e2e::{pkpass, wait};

use crate::{Server, Shop};

/// Adds `[wallet]` with the test PKI (and the push log) to a shop's config.
pub fn configure(shop: &Shop, team: &str) -> TestPki {
    let pki = test_pki::generate(&shop.data().join("pki"));
    write_wallet_config(shop, team);
    pki
}

/// `[wallet]` over the PKI files in `pki/`, pushing to `pushes.log`.
fn write_wallet_config(shop: &Shop, team: &str) {
    set_section(
        shop,
        "wallet",
        &format!(
            "pass_type_id = \"{PASS_TYPE_ID}\"\nteam_id = \"{team}\"\n\
             certificate = \"pki/test-pass-cert.pem\"\nprivate_key = \"pki/test-pass-key.pem\"\n\
             wwdr_certificate = \"pki/test-wwdr.pem\"\npush_log = \"pushes.log\"\n"
        ),
    );
}

/// Puts `keys` into `[section]` of the shop's config (the section `init`
/// wrote, or a new one).
fn set_section(shop: &Shop, section: &str, keys: &str) {
    let path = shop.data().join("stampcard.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let header = format!("[{section}]\n");
    let text = if text.contains(&header) {
        text.replace(&header, &format!("{header}{keys}"))
    } else {
        format!("{text}\n{header}{keys}")
    };
    std::fs::write(&path, text).expect("write config");
}

/// The files of a .pkpass; every entry must be stored uncompressed.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    pkpass::files(bytes)
        .expect("a zip archive")
        .into_iter()
        .map(|e| {
            assert_eq!(
                e.compression,
                zip::CompressionMethod::Stored,
                "{} is compressed",
                e.name
            );
            (e.name, e.bytes)
        })
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in the pass"))
        .1
}

fn pass_json(files: &[(String, Vec<u8>)]) -> serde_json::Value {
    serde_json::from_slice(file(files, "pass.json")).expect("pass.json is JSON")
}

/// `openssl cms -verify` of a detached DER signature over `content`.
fn openssl_verify(signature: &Path, content: &Path, root: &Path) -> std::process::Output {
    pkpass::openssl_verify(signature, content, root).expect("run openssl")
}

/// Checks the manifest and, with the openssl command line, the signature.
fn check_signed(files: &[(String, Vec<u8>)], pki: &TestPki, dir: &Path) {
    let manifest: serde_json::Value =
        serde_json::from_slice(file(files, "manifest.json")).expect("manifest is JSON");
    let listed = manifest.as_object().expect("manifest object");
    for (name, bytes) in files {
        if name == "manifest.json" || name == "signature" {
            assert!(!listed.contains_key(name));
            continue;
        }
        let sha1: String = openssl::sha::sha1(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            listed.get(name),
            Some(&sha1.into()),
            "manifest entry of {name}"
        );
    }
    assert_eq!(listed.len(), files.len() - 2);
    let m = dir.join("manifest.json");
    let sig = dir.join("signature");
    std::fs::write(&m, file(files, "manifest.json")).expect("write");
    std::fs::write(&sig, file(files, "signature")).expect("write");
    let verify = openssl_verify(&sig, &m, &pki.root);
    assert!(
        verify.status.success(),
        "openssl cms -verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let print = std::process::Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&sig)
        .output()
        .expect("run openssl");
    let text = String::from_utf8_lossy(&print.stdout);
    assert!(text.contains("signingTime"), "no signing time:\n{text}");
    assert!(
        text.contains("TEST ONLY WWDR"),
        "WWDR not included:\n{text}"
    );
    assert!(text.contains("eContent: <ABSENT>"), "not detached:\n{text}");
    // A manifest changed by one byte no longer verifies.
    let mut tampered = file(files, "manifest.json").to_vec();
    tampered[1] ^= 1;
    std::fs::write(&m, tampered).expect("write");
    let verify = openssl_verify(&sig, &m, &pki.root);
    assert!(!verify.status.success(), "a tampered manifest verified");
}

fn pushes(shop: &Shop) -> Vec<serde_json::Value> {
    std::fs::read_to_string(shop.data().join("pushes.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("push line is JSON"))
        .collect()
}

fn wallet_entries(shop: &Shop) -> Vec<serde_json::Value> {
    shop.json(&["outbox", "list", "--limit", "1000"])
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["channel"] == "wallet")
        .cloned()
        .collect()
}

const DEVICE: &str = "d3v1ce0000library0id";
const PUSH_TOKEN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const DEVICE2: &str = "second0ipad0library";
const PUSH_TOKEN2: &str = "ffeeddccbbaa00998877665544332211";

fn registration(device: &str, serial: &str) -> String {
    format!("/passkit/v1/devices/{device}/registrations/{PASS_TYPE_ID}/{serial}")
}

fn auth(token: &str) -> String {
    format!("ApplePass {token}")
}

/// The phone (DEVICE) saves card 100001's pass: registered, 201.
fn register_phone(server: &Server, token: &str) {
    let a = auth(token);
    let body = format!("{{\"pushToken\":\"{PUSH_TOKEN}\"}}");
    let r = server.request(
        "POST",
        &registration(DEVICE, "100001"),
        &[("Authorization", &a)],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn fetch(server: &Server, token: &str, headers: &[(&str, &str)]) -> crate::HttpResponse {
    let a = auth(token);
    let mut all = vec![("Authorization", a.as_str())];
    all.extend_from_slice(headers);
    server.request(
        "GET",
        &format!("/passkit/v1/passes/{PASS_TYPE_ID}/100001"),
        &all,
        None,
    )
}

#[test]
fn a_signed_pass_is_saved_updated_by_push_and_confirmed_when_fetched() {
    let shop = Shop::demo();
    let pki = configure(&shop, TEAM_ID);
    let check = shop.run(&["wallet", "check"]).ok();
    assert!(check.stdout.contains("OK"), "{}", check.stdout);
    assert!(check.stdout.contains("days left"), "{}", check.stdout);

    // The CLI writes a signed pass; every file is in the signed manifest.
    shop.run(&["pass", "100001", "-o", "card.pkpass"]).ok();
    let bytes = std::fs::read(shop.dir.path().join("card.pkpass")).expect("pass written");
    let files = unzip(&bytes);
    for name in [
        "icon.png",
        "icon@2x.png",
        "icon@3x.png",
        "logo.png",
        "strip@2x.png",
    ] {
        assert!(files.iter().any(|(n, _)| n == name), "{name} missing");
    }
    check_signed(&files, &pki, shop.dir.path());
    let pass = pass_json(&files);
    let code = shop.card_code(100_001);
    assert_eq!(pass["formatVersion"], 1);
    assert_eq!(pass["passTypeIdentifier"], PASS_TYPE_ID);
    assert_eq!(pass["teamIdentifier"], TEAM_ID);
    assert_eq!(pass["serialNumber"], "100001");
    assert_eq!(pass["barcodes"][0]["format"], "PKBarcodeFormatQR");
    assert_eq!(pass["barcodes"][0]["message"], code.as_str());
    let token = pass["authenticationToken"]
        .as_str()
        .expect("token")
        .to_string();
    assert!(token.len() >= 16, "{token}");
    let before = shop.stamps(100_001);
    assert_eq!(
        pass["storeCard"]["headerFields"][0]["value"],
        format!("{before}/8")
    );

    let server = shop.serve(&[]);
    assert!(
        pass["webServiceURL"]
            .as_str()
            .is_some_and(|u| u.ends_with("/passkit")),
        "{pass}"
    );
    // The web card offers the pass; its download is the same pass (the
    // serial and the token never change).
    let view = shop.json(&["card", "show", "100001"]);
    let url = view["url"].as_str().expect("url");
    let path = &url[url.find("/c/").expect("card path")..];
    let (status, page) = server.get(path);
    assert_eq!(status, 200);
    assert!(page.contains("Add to Apple Wallet"), "{page}");
    let download = server.request("GET", &format!("{path}/pass.pkpass"), &[], None);
    assert_eq!(download.status, 200);
    assert!(
        download
            .head
            .contains("content-type: application/vnd.apple.pkpass"),
        "{}",
        download.head
    );
    let downloaded = pass_json(&unzip(&download.bytes));
    assert_eq!(downloaded["authenticationToken"], token.as_str());

    // Registering: a wrong token is refused, a right one registers once.
    let body = format!("{{\"pushToken\":\"{PUSH_TOKEN}\"}}");
    let reg = registration(DEVICE, "100001");
    let wrong = auth("0123456789abcdef0123456789abcdef");
    let r = server.request("POST", &reg, &[("Authorization", &wrong)], Some(&body));
    assert_eq!(r.status, 401);
    let a = auth(&token);
    let r = server.request("POST", &reg, &[("Authorization", &a)], Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = server.request("POST", &reg, &[("Authorization", &a)], Some(&body));
    assert_eq!(r.status, 200);
    let bad = registration("bad%2Fdevice", "100001");
    let r = server.request("POST", &bad, &[("Authorization", &a)], Some(&body));
    assert_eq!(r.status, 400);
    let body2 = format!("{{\"pushToken\":\"{PUSH_TOKEN2}\"}}");
    let reg2 = registration(DEVICE2, "100001");
    let r = server.request("POST", &reg2, &[("Authorization", &a)], Some(&body2));
    assert_eq!(r.status, 201, "{}", r.body);
    let saved = shop.json(&["journal", "--type", "pass_saved"]);
    assert_eq!(saved.as_array().map(Vec::len), Some(2), "{saved}");
    let platforms = shop.json(&["card", "show", "100001"])["platforms"].to_string();
    assert!(platforms.contains("apple_wallet"), "{platforms}");

    // The device's passes: all without a tag, none changed since the tag.
    let list = format!("/passkit/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}");
    let r = server.request("GET", &list, &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["serialNumbers"], serde_json::json!(["100001"]));
    let tag = r.json()["lastUpdated"].as_str().expect("tag").to_string();
    let since = format!("{list}?passesUpdatedSince={tag}");
    assert_eq!(server.request("GET", &since, &[], None).status, 204);

    // A stamp pushes once to each device: empty payload, the pass type as
    // topic.
    shop.run(&["stamp", &code]).ok();
    let pushed = wait::until(
        Duration::from_secs(20),
        || {
            let p = pushes(&shop);
            (p.len() >= 2).then_some(p)
        },
        || format!("not two pushes: {:?}", pushes(&shop)),
    );
    let mut tokens: Vec<&str> = pushed.iter().filter_map(|p| p["token"].as_str()).collect();
    tokens.sort_unstable();
    assert_eq!(tokens, [PUSH_TOKEN, PUSH_TOKEN2]);
    for p in &pushed {
        assert_eq!(p["topic"], PASS_TYPE_ID);
        assert_eq!(p["payload"], serde_json::json!({}));
    }
    wait::until(
        Duration::from_secs(20),
        || {
            let e = wallet_entries(&shop);
            (e.len() == 2 && e.iter().all(|x| x["state"] == "sent")).then_some(())
        },
        || format!("pushes not marked sent: {:?}", wallet_entries(&shop)),
    );
    let r = server.request("GET", &since, &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["serialNumbers"], serde_json::json!(["100001"]));

    // The device fetches the new pass: it shows the stamp, and the push is
    // confirmed (✅✅).
    let r = fetch(&server, &token, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.head.contains("last-modified: "), "{}", r.head);
    let fresh = pass_json(&unzip(&r.bytes));
    assert_eq!(
        fresh["storeCard"]["headerFields"][0]["value"],
        format!("{}/8", before + 1)
    );
    assert!(
        wallet_entries(&shop)
            .iter()
            .all(|e| e["state"] == "confirmed"),
        "{:?}",
        wallet_entries(&shop)
    );
    assert_eq!(fetch(&server, "wrong-token-wrong-token", &[]).status, 401);
    let future = [("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")];
    assert_eq!(fetch(&server, &token, &future).status, 304);
    let past = [("If-Modified-Since", "Mon, 01 Jan 2024 00:00:00 GMT")];
    assert_eq!(fetch(&server, &token, &past).status, 200);
    let head = server.request(
        "HEAD",
        &format!("/passkit/v1/passes/{PASS_TYPE_ID}/100001"),
        &[("Authorization", &a)],
        None,
    );
    assert_eq!(head.status, 200);
    let log = server.request(
        "POST",
        "/passkit/v1/log",
        &[("Content-Type", "application/json")],
        Some("{\"logs\":[\"test device says hello\"]}"),
    );
    assert_eq!(log.status, 200);

    // Unregistering: journaled, the card is no longer held in Wallet, and
    // the next stamp pushes nothing.
    for r in [&reg, &reg2] {
        let r = server.request("DELETE", r, &[("Authorization", &a)], None);
        assert_eq!(r.status, 200);
    }
    let removed = shop.json(&["journal", "--type", "pass_removed"]);
    assert_eq!(removed.as_array().map(Vec::len), Some(2), "{removed}");
    let platforms = shop.json(&["card", "show", "100001"])["platforms"].to_string();
    assert!(!platforms.contains("apple_wallet"), "{platforms}");
    let r = server.request("GET", &list, &[], None);
    assert_eq!(r.status, 204);

    // A device whose token APNs reports gone is forgotten after one push.
    let gone = "gone0token0of0a0removed0app";
    let body = format!("{{\"pushToken\":\"{gone}\"}}");
    let reg3 = registration("third0device", "100001");
    let r = server.request("POST", &reg3, &[("Authorization", &a)], Some(&body));
    assert_eq!(r.status, 201);
    shop.run(&["stamp", &code]).ok();
    wait::until(
        Duration::from_secs(20),
        || {
            let removed = shop.json(&["journal", "--type", "pass_removed"]);
            (removed.as_array().map(Vec::len) == Some(3)).then_some(())
        },
        || {
            format!(
                "the gone device was not dropped: {:?}",
                wallet_entries(&shop)
            )
        },
    );
    let failed = wallet_entries(&shop);
    assert_eq!(failed[0]["state"], "failed", "{failed:?}");
    assert_eq!(pushes(&shop).len(), 2, "no push to unregistered devices");

    // BadDeviceToken can mean the certificate does not fit (a sandbox
    // token under a production certificate): shown, and nothing pruned.
    let bad = "bad0token0from0a0sandbox0build";
    let body = format!("{{\"pushToken\":\"{bad}\"}}");
    let reg4 = registration("fourth0device", "100001");
    let r = server.request("POST", &reg4, &[("Authorization", &a)], Some(&body));
    assert_eq!(r.status, 201);
    shop.run(&["stamp", &code]).ok();
    let refused = wait::until(
        Duration::from_secs(20),
        || {
            wallet_entries(&shop)
                .into_iter()
                .find(|e| e["recipient"] == bad && e["state"] == "failed")
        },
        || {
            format!(
                "no failed push to the bad token: {:?}",
                wallet_entries(&shop)
            )
        },
    );
    let why = refused["last_error"].as_str().unwrap_or_default();
    assert!(
        why.contains("BadDeviceToken") && why.contains("registration is kept"),
        "{refused}"
    );
    let removed = shop.json(&["journal", "--type", "pass_removed"]);
    assert_eq!(removed.as_array().map(Vec::len), Some(3), "{removed}");
    let fourth = format!("/passkit/v1/devices/fourth0device/registrations/{PASS_TYPE_ID}");
    let r = server.request("GET", &fourth, &[], None);
    assert_eq!(r.status, 200, "the registration is still there: {}", r.body);

    // A forgotten customer's pass is voided: the device still gets it, void.
    let customer = view["customer_id"].as_u64().expect("customer id");
    shop.run(&["customer", "forget", &customer.to_string(), "--yes"])
        .ok();
    let r = fetch(&server, &token, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let voided = pass_json(&unzip(&r.bytes));
    assert_eq!(voided["voided"], true, "{voided}");
    assert!(
        !voided
            .to_string()
            .contains(view["customer_name"].as_str().unwrap_or("?")),
        "the forgotten name is not on the pass: {voided}"
    );
    server.stop();
}

#[test]
fn wallet_configuration_mistakes_are_explained() {
    let shop = Shop::demo();
    let r = shop.run(&["pass", "100001", "-o", "x.pkpass"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not configured"), "{}", r.stderr);
    assert!(!shop.dir.path().join("x.pkpass").exists());

    // A certificate for another team is refused by the check with the reason.
    configure(&shop, "OTHERTEAM9");
    let r = shop.run(&["wallet", "check"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stdout.contains("PROBLEM") && r.stdout.contains("team"),
        "{}",
        r.stdout
    );
    let r = shop.run(&["pass", "100001", "-o", "x.pkpass"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("team"), "{}", r.stderr);

    // Half a [wallet] section is a config error naming what is missing.
    let path = shop.data().join("stampcard.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, text.replace("team_id = \"OTHERTEAM9\"\n", "")).expect("write");
    let r = shop.run(&["card", "list"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("wallet.team_id"), "{}", r.stderr);
}

#[test]
fn a_pass_carries_the_shops_locations_for_the_lock_screen() {
    let shop = Shop::demo();
    configure(&shop, TEAM_ID);
    let config = shop.data().join("stampcard.toml");
    let plain = std::fs::read_to_string(&config).expect("config");
    set_section(
        &shop,
        "wallet",
        "locations = [{ latitude = 52.5200, longitude = 13.4050, text = \"Your coffee card is around the corner\" }, { latitude = 48.137, longitude = 11.575 }]\n",
    );
    shop.run(&["pass", "100001", "-o", "card.pkpass"]).ok();
    let bytes = std::fs::read(shop.dir.path().join("card.pkpass")).expect("pass written");
    let pass = pass_json(&unzip(&bytes));
    let locations = pass["locations"].as_array().expect("locations");
    assert_eq!(locations.len(), 2, "{pass}");
    assert_eq!(locations[0]["latitude"], 52.52);
    assert_eq!(locations[0]["longitude"], 13.405);
    assert_eq!(
        locations[0]["relevantText"],
        "Your coffee card is around the corner"
    );
    assert!(locations[1]["relevantText"].is_null());

    // More than Apple allows, or a place off the globe: a config error
    // that names the key, and nothing runs.
    for bad in [
        format!(
            "locations = [{}]\n",
            ["{ latitude = 1.0, longitude = 2.0 }"; 11].join(", ")
        ),
        "locations = [{ latitude = 95.0, longitude = 2.0 }]\n".to_string(),
    ] {
        std::fs::write(&config, &plain).expect("reset");
        set_section(&shop, "wallet", &bad);
        let r = shop.run(&["pass", "100001", "-o", "bad.pkpass"]);
        assert_ne!(r.code, 0, "{bad}");
        assert!(r.stderr.contains("wallet.locations"), "{}", r.stderr);
        assert!(!shop.dir.path().join("bad.pkpass").exists());
    }
}

#[test]
fn a_pass_speaks_its_holders_language() {
    let shop = Shop::demo();
    configure(&shop, TEAM_ID);
    let pass_of = |name: &str| {
        shop.run(&["pass", "100001", "-o", name]).ok();
        pass_json(&unzip(
            &std::fs::read(shop.dir.path().join(name)).expect("pass written"),
        ))
    };
    let english = pass_of("en.pkpass");
    assert_eq!(
        field(&english, "headerFields", "progress")["label"],
        "Stamps"
    );
    let token = english["authenticationToken"]
        .as_str()
        .expect("token")
        .to_string();

    // The pass is on a phone: the device registered, up to date.
    let server = shop.serve(&[]);
    register_phone(&server, &token);
    let list = format!("/passkit/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}");
    let tag = server.request("GET", &list, &[], None).json()["lastUpdated"]
        .as_str()
        .expect("tag")
        .to_string();
    let since = format!("{list}?passesUpdatedSince={tag}");
    assert_eq!(server.request("GET", &since, &[], None).status, 204);

    // A change the pass does not show (the phone number): no push.
    let holder = shop.json(&["card", "show", "100001"])["customer_id"].to_string();
    shop.run(&["customer", "edit", &holder, "--phone", "+4915112345678"])
        .ok();
    // The holder switches to Russian: the phone is told, and the pass it
    // fetches speaks Russian.
    shop.run(&["customer", "edit", &holder, "--language", "ru"])
        .ok();
    wait::until(
        Duration::from_secs(20),
        || (!pushes(&shop).is_empty()).then_some(()),
        || "no push for the new language".to_string(),
    );
    let changed = server.request("GET", &since, &[], None);
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        changed.json()["serialNumbers"],
        serde_json::json!(["100001"])
    );
    let fetched = fetch(&server, &token, &[]);
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    let russian = pass_json(&unzip(&fetched.bytes));
    assert_eq!(
        russian,
        pass_of("ru.pkpass"),
        "the pushed pass is the current one"
    );
    let progress = field(&russian, "headerFields", "progress");
    assert_eq!(progress["label"], "Штампы");
    assert_eq!(progress["changeMessage"], "Штампы: %@");
    assert_eq!(
        field(&russian, "backFields", "card")["label"],
        "Номер карты"
    );
    // The same card, the same identity: only the words changed.
    for key in ["serialNumber", "authenticationToken", "barcodes"] {
        assert_eq!(russian[key], english[key], "{key}");
    }
    // One push, for the language (none for the phone number).
    let newest = shop.json(&["journal", "--type", "customer_updated", "--limit", "1"]);
    let entries = wallet_entries(&shop);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        entries[0]["source_event"], newest[0]["id"],
        "{entries:?} {newest}"
    );
    server.stop();
}

#[test]
fn an_expiring_certificate_is_warned_about() {
    let shop = Shop::demo();
    let dir = shop.data().join("pki");
    test_pki::generate_with(&dir, PASS_TYPE_ID, TEAM_ID, 10);
    write_wallet_config(&shop, TEAM_ID);
    let r = shop.run(&["wallet", "check"]).ok();
    assert!(r.stdout.contains("expires in"), "{}", r.stdout);
    // The console's Settings say the expiry once, with what to do.
    let tmux = crate::console::admin_console(&shop, "STAMPCARD_LOG=warn");
    tmux.keys(&["8"]);
    let screen = tmux.wait_for("Apple Wallet passes: on");
    let line = screen
        .lines()
        .find(|l| l.contains("Apple Wallet passes"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(screen.matches("expire").count(), 1, "{screen}");
    assert!(screen.contains("renew"), "{line}");
    tmux.quit();
}

#[test]
fn the_apns_request_has_the_pass_type_as_topic_and_an_empty_payload() {
    use a2::request::payload::PayloadLike;
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = test_pki::generate(dir.path());
    let read = |p: &Path| std::fs::read(p).expect("read");
    let certs = stampcard_wallet::certs::PassCertificates::from_pem(
        &read(&pki.cert),
        &read(&pki.key),
        &read(&pki.wwdr),
    )
    .expect("test certificates load");
    // The real a2 client builds from the pass certificate and key.
    stampcard_wallet::push::ApnsSender::new(&certs).expect("a2 client");
    let payload = stampcard_wallet::push::PassUpdatePayload::new(PASS_TYPE_ID, PUSH_TOKEN);
    assert_eq!(payload.to_json_string().expect("json"), "{}");
    assert_eq!(payload.get_device_token(), PUSH_TOKEN);
    assert_eq!(payload.get_options().apns_topic, Some(PASS_TYPE_ID));
}

/// Base64url (no padding) decoded.
pub fn unbase64url(text: &str) -> Vec<u8> {
    let mut s = text.replace('-', "+").replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    openssl::base64::decode_block(&s).expect("base64url")
}

/// Creates a campaign to template 1's holders on the `wallet` channel
/// (both wallets); what `campaign create` answered.
pub fn wallet_campaign(shop: &Shop, push: &str, text: &str) -> serde_json::Value {
    shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--channels",
        "wallet",
        "--push",
        push,
        "--text",
        text,
    ])
}

/// Writes a new service-account key file (test-only) into the shop's
/// folder, where `[google_wallet]` looks for it; the key.
pub fn write_google_key(shop: &Shop) -> openssl::pkey::PKey<openssl::pkey::Private> {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("rsa"))
        .expect("key");
    let pem = String::from_utf8(key.private_key_to_pem_pkcs8().expect("pem")).expect("utf8");
    let account = serde_json::json!({
        "type": "service_account",
        "client_email": GOOGLE_ACCOUNT,
        "private_key": pem,
    });
    std::fs::write(shop.data().join("google-sa.json"), account.to_string()).expect("write");
    key
}

/// The service account the Google tests use (test-only).
pub const GOOGLE_ACCOUNT: &str = "stamps@test-only.iam.gserviceaccount.com";
/// The issuer id the Google tests use.
pub const GOOGLE_ISSUER: &str = "3388000000022222222";

/// Turns on Google Wallet with a service-account key made for the test,
/// its API and token endpoint a fake on 127.0.0.1 that trusts the key;
/// the key (to check signatures with) and the fake.
pub fn configure_google(
    shop: &Shop,
) -> (
    openssl::pkey::PKey<openssl::pkey::Private>,
    stampcard_e2e::fake_google::FakeGoogle,
) {
    let key = write_google_key(shop);
    let public = openssl::pkey::PKey::public_key_from_pem(&key.public_key_to_pem().expect("pem"))
        .expect("public key");
    let fake = stampcard_e2e::fake_google::FakeGoogle::start(GOOGLE_ACCOUNT, GOOGLE_ISSUER, public);
    set_section(
        shop,
        "google_wallet",
        &format!(
            "issuer_id = \"{GOOGLE_ISSUER}\"\nservice_account_key = \"google-sa.json\"\napi_url = \"{}\"\ntoken_url = \"{}\"\ncallback_keys_url = \"{}\"\n",
            fake.api_url(),
            fake.token_url(),
            fake.keys_url()
        ),
    );
    (key, fake)
}

fn field<'a>(pass: &'a serde_json::Value, group: &str, key: &str) -> &'a serde_json::Value {
    pass["storeCard"][group]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["key"] == key))
        .unwrap_or_else(|| panic!("no {group} field {key}: {pass}"))
}

#[test]
fn campaign_news_reaches_the_lock_screen_through_the_pass() {
    let shop = Shop::demo();
    configure(&shop, TEAM_ID);
    shop.run(&["pass", "100001", "-o", "card.pkpass"]).ok();
    let bytes = std::fs::read(shop.dir.path().join("card.pkpass")).expect("pass written");
    let token = pass_json(&unzip(&bytes))["authenticationToken"]
        .as_str()
        .expect("token")
        .to_string();
    let server = shop.serve(&[
        ("STAMPCARD_CAMPAIGNS__FREQUENCY_CAP", "10"),
        ("STAMPCARD_OUTBOX__LOG_FILE", "messages.log"),
    ]);
    register_phone(&server, &token);

    let campaign = |text: &str| -> serde_json::Value {
        let created = wallet_campaign(&shop, "Pie is back!", text);
        assert_eq!(
            created["audience"]["per_channel"]["wallet"], 1,
            "only the saved card: {created}"
        );
        let id = created["campaign"]["id"].as_u64().expect("id").to_string();
        shop.json(&["campaign", "send", &id])
    };
    let pushes_to_device = || {
        pushes(&shop)
            .iter()
            .filter(|p| p["token"] == PUSH_TOKEN)
            .count()
    };
    let fetched_after_push = |n: usize| -> serde_json::Value {
        wait::until(
            Duration::from_secs(20),
            || (pushes_to_device() >= n).then_some(()),
            || format!("{} pushes, {n} expected", pushes_to_device()),
        );
        let r = fetch(&server, &token, &[]);
        assert_eq!(r.status, 200);
        pass_json(&unzip(&r.bytes))
    };

    // The campaign posts its PUSH text to the pass and pushes once; the
    // news field announces it (%@), the other fields stay silent in that
    // update so the lock screen shows the text, not a generic notice.
    let sent = campaign("Pumpkin pie is back this week.");
    assert_eq!(sent["messages"], 1, "{sent}");
    let pass = fetched_after_push(1);
    let news = field(&pass, "backFields", "news");
    assert_eq!(news["value"], "Pie is back!");
    assert_eq!(news["changeMessage"], "%@");
    assert!(
        field(&pass, "headerFields", "progress")["changeMessage"].is_null(),
        "{pass}"
    );
    for f in pass["storeCard"]["secondaryFields"]
        .as_array()
        .expect("fields")
    {
        assert!(f["changeMessage"].is_null(), "silent: {f}");
    }
    let status = wait::until(
        Duration::from_secs(20),
        || {
            let s = shop.json(&["campaign", "show", &sent["id"].to_string()]);
            (s["status"]["deliveries"]["wallet"]["confirmed"] == 1).then_some(s)
        },
        || {
            format!(
                "{}",
                shop.json(&["campaign", "show", &sent["id"].to_string()])
            )
        },
    );
    assert!(
        status["status"]["deliveries"]["wallet"]["n/a"].is_null(),
        "{status}"
    );
    let journaled = shop.json(&["journal", "--type", "wallet_news"]);
    assert_eq!(journaled.as_array().map(Vec::len), Some(1), "{journaled}");

    // A message to the same card on another channel is journaled on the
    // card (campaign_delivered) but is no new pass version: the device is
    // told of no change, and the pass still announces the news.
    let list = format!("/passkit/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}");
    let r = server.request("GET", &list, &[], None);
    let tag = r.json()["lastUpdated"].as_str().expect("tag").to_string();
    let message = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--segment",
        "card:100001",
        "--channels",
        "log",
        "--text",
        "Your table is ready.",
    ])["campaign"]["id"]
        .to_string();
    shop.json(&["campaign", "send", &message]);
    wait::until(
        Duration::from_secs(20),
        || {
            let j = shop.json(&[
                "journal",
                "--card",
                "100001",
                "--type",
                "campaign_delivered",
            ]);
            (j.as_array().map(Vec::len) == Some(1)).then_some(())
        },
        || "the log message is not journaled".into(),
    );
    let since = format!("{list}?passesUpdatedSince={tag}");
    assert_eq!(server.request("GET", &since, &[], None).status, 204);
    let r = fetch(&server, &token, &[]);
    let pass = pass_json(&unzip(&r.bytes));
    assert_eq!(field(&pass, "backFields", "news")["changeMessage"], "%@");

    // A stamp afterwards: progress announces itself again, the news stays.
    shop.run(&["stamp", &shop.card_code(100_001)]).ok();
    let pass = fetched_after_push(2);
    assert!(!field(&pass, "headerFields", "progress")["changeMessage"].is_null());
    assert_eq!(field(&pass, "backFields", "news")["value"], "Pie is back!");

    // The same PUSH text again still changes the field's value, or Wallet
    // would show nothing; it reads the same.
    campaign("Still pie.");
    let pass = fetched_after_push(3);
    let value = field(&pass, "backFields", "news")["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_ne!(value, "Pie is back!");
    assert_eq!(value.trim_end_matches('\u{200b}'), "Pie is back!");
    assert!(field(&pass, "headerFields", "progress")["changeMessage"].is_null());

    // Editing the template restyles every saved pass of its cards: a push,
    // a new version for the device, the new business name on the pass.
    let r = server.request("GET", &list, &[], None);
    let tag = r.json()["lastUpdated"].as_str().expect("tag").to_string();
    shop.run(&["template", "edit", "1", "--business", "Corner Bakery"])
        .ok();
    let pass = fetched_after_push(4);
    assert_eq!(pass["logoText"], "Corner Bakery", "{pass}");
    let since = format!("{list}?passesUpdatedSince={tag}");
    let r = server.request("GET", &since, &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["serialNumbers"], serde_json::json!(["100001"]));
    server.stop();
}

#[test]
fn a_restore_on_a_new_machine_keeps_both_wallets_and_the_logos() {
    let shop = Shop::demo();
    let pki = configure(&shop, TEAM_ID);
    let (_, _google) = configure_google(&shop);
    // One certificate lives outside the data folder, named by an absolute path.
    let outside = tempfile::tempdir().expect("tempdir");
    let wwdr = outside.path().join("AppleWWDRCAG4.pem");
    std::fs::rename(shop.data().join("pki/test-wwdr.pem"), &wwdr).expect("move");
    let cfg = shop.data().join("stampcard.toml");
    let text = std::fs::read_to_string(&cfg).expect("config").replace(
        "wwdr_certificate = \"pki/test-wwdr.pem\"",
        &format!("wwdr_certificate = \"{}\"", wwdr.display()),
    );
    std::fs::write(&cfg, text).expect("config");
    // A template with its own logo.
    image::RgbImage::from_pixel(200, 50, image::Rgb([200, 30, 30]))
        .save(shop.data().join("shop-logo.png"))
        .expect("logo");
    let definition = crate::fixture("templates/tea-with-logo.toml");
    shop.run(&[
        "template",
        "create",
        "--file",
        definition.to_str().expect("path"),
    ])
    .ok();
    let backup = shop.path("shop.backup");
    shop.run(&["backup", backup.to_str().expect("path")]).ok();

    // A new machine: only the backup file comes along.
    let moved = tempfile::tempdir().expect("tempdir");
    let file = moved.path().join("shop.backup");
    std::fs::copy(&backup, &file).expect("copy");
    // The test's own root of trust, to verify signatures afterwards.
    let root = moved.path().join("test-root.pem");
    std::fs::copy(&pki.root, &root).expect("copy root");
    let pki = TestPki { root, ..pki };
    drop(outside);
    drop(shop);
    let new = Shop::empty();
    let restored = new.json(&["restore", file.to_str().expect("path")]);
    let files = restored["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 5, "{restored}");
    // The config points inside the new folder, and each file is there.
    let config = std::fs::read_to_string(new.data().join("stampcard.toml")).expect("config");
    assert!(
        config.contains("files/AppleWWDRCAG4.pem") && !config.contains(&wwdr.display().to_string()),
        "{config}"
    );
    for name in [
        "pki/test-pass-cert.pem",
        "pki/test-pass-key.pem",
        "files/AppleWWDRCAG4.pem",
        "google-sa.json",
        "shop-logo.png",
    ] {
        assert!(new.data().join(name).exists(), "{name} restored");
    }
    // Apple: a signed pass that openssl verifies against the test root.
    let pass = new.path("card.pkpass");
    new.run(&["pass", "100001", "-o", pass.to_str().expect("path")])
        .ok();
    let files = unzip(&std::fs::read(&pass).expect("pass"));
    check_signed(&files, &pki, new.dir.path());
    // Google: the web card offers the save link; the logo is served.
    let server = new.serve(&[]);
    let view = new.json(&["card", "show", "100001"]);
    let url = view["url"].as_str().expect("url");
    let (status, page) = server.get(&url[url.find("/c/").expect("path")..]);
    assert_eq!(status, 200);
    assert!(page.contains("Save to Google Wallet"), "{page}");
    let tea = new
        .json(&["template", "list"])
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "Tea card").cloned())
        .expect("the tea template");
    let logo = server.get(&format!("/t/{}/logo.png", tea["id"]));
    assert_eq!(logo.0, 200);
    server.stop();
}
