//! The command line as scripts and people use it; bad input changes nothing.

use std::os::unix::fs::PermissionsExt;

use crate::{Shop, write};
use stampcard_e2e::printed;

#[test]
fn init_creates_a_private_config_and_refuses_twice() {
    let shop = Shop::demo();
    let mode = std::fs::metadata(shop.data().join("stampcard.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = shop.run(&["init"]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
}

#[test]
fn stamping_by_code_shows_progress_and_the_goal() {
    let shop = Shop::demo();
    let code = shop.card_code(100002); // Tomasz: 7/8
    let out = shop.run(&["stamp", &code]).ok();
    assert!(out.stdout.contains("0/8"), "{}", out.stdout);
    assert!(out.stdout.contains("GOAL REACHED"), "{}", out.stdout);
    let json = shop.json(&["card", "show", "100002"]);
    assert_eq!(json["vouchers"].as_array().unwrap().len(), 1);
    let voucher = json["vouchers"][0]["code"].as_str().unwrap().to_string();
    shop.run(&["redeem", &voucher]).ok();
    let again = shop.run(&["redeem", &voucher]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("already redeemed"),
        "{}",
        again.stderr
    );
}

#[test]
fn bad_codes_and_counts_are_refused_and_change_nothing() {
    let shop = Shop::demo();
    let code = shop.card_code(100001);
    let before = (shop.stamps(100001), shop.event_count());
    let mut forged = code.clone().into_bytes();
    forged[12] = if forged[12] == b'9' {
        b'0'
    } else {
        forged[12] + 1
    };
    let forged = String::from_utf8(forged).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["stamp", &forged], "mistyped"),
        (&["stamp", "12345"], "19 digits"),
        (&["stamp", "1000100001ABCDEFGH0"], "digits only"),
        (&["stamp", &code, "--count", "0"], "between 1 and 100"),
        (&["stamp", &code, "--count", "101"], "between 1 and 100"),
        (&["stamp", &code, "--count", "-1"], "unexpected argument"),
        (&["stamp", &code, "--count", "99999999999"], "invalid value"),
        (
            &["stamp", &code, "--idempotency-key", ""],
            "idempotency key",
        ),
        (&["card", "show", "999999"], "not found"),
        (&["reverse", "99999", "--reason", "x"], "not found"),
        (&["journal", "--type", "nonsense"], "unknown event type"),
    ];
    for (args, message) in cases {
        let out = shop.run(args);
        assert_ne!(out.code, 0, "{args:?} should fail");
        assert!(
            out.stderr.contains(message),
            "{args:?}: expected '{message}' in: {}",
            out.stderr
        );
    }
    assert_eq!((shop.stamps(100001), shop.event_count()), before);
}

#[test]
fn json_errors_carry_a_stable_code() {
    let shop = Shop::demo();
    let out = shop.run(&["--json", "stamp", "1000100001000000000"]);
    assert_eq!(out.code, 1);
    let code = out.json()["error"]["code"].as_str().unwrap().to_string();
    assert!(code == "code_mistyped" || code == "code_forged", "{code}");
}

#[test]
fn reissued_card_refuses_its_old_code() {
    let shop = Shop::demo();
    let old = shop.card_code(100001);
    let new = shop.json(&["card", "reissue", "100001"])["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, new);
    let out = shop.run(&["stamp", &old]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("replaced"), "{}", out.stderr);
    shop.run(&["stamp", &new]).ok();
}

#[test]
fn idempotent_stamps_through_the_cli() {
    let shop = Shop::demo();
    let code = shop.card_code(100001);
    let first = shop.json(&["stamp", &code, "--idempotency-key", "till1-0042"]);
    let retry = shop.json(&["stamp", &code, "--idempotency-key", "till1-0042"]);
    assert_eq!(retry["replayed"], true);
    assert_eq!(first["event_ids"], retry["event_ids"]);
    assert_eq!(shop.stamps(100001), 4);
    let other = shop.run(&[
        "stamp",
        &code,
        "--count",
        "2",
        "--idempotency-key",
        "till1-0042",
    ]);
    assert_eq!(other.code, 1);
    // The error names the caller's key, nothing internal (no scope).
    assert!(
        other
            .stderr
            .contains("'till1-0042' was already used with a different request")
            && !other.stderr.contains("cli:")
            && !other.stderr.contains('|'),
        "{}",
        other.stderr
    );
}

#[test]
fn malformed_template_definitions_are_refused() {
    let shop = Shop::demo();
    let before = shop.json(&["template", "list"]).as_array().unwrap().len();
    let cases = [
        (
            "a.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = 8\n",
            "reward",
        ),
        (
            "b.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = \"eight\"\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n",
            "stamps_required",
        ),
        (
            "c.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = 0\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n",
            "between 1 and 100",
        ),
        (
            "d.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = 8\ncolour = 1\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n",
            "colour",
        ),
        (
            "e.json",
            "{\"name\": \"X\", \"business_name\": \"Y\", \"stamps_required\": 8, \"reward\": {\"kind\": \"lottery\", \"prizes\": []}}",
            "1 to 20 prizes",
        ),
        ("f.json", "{not json", "f.json"),
        (
            "g.toml",
            &format!(
                "name = \"{}\"\nbusiness_name = \"Y\"\nstamps_required = 8\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n",
                "x".repeat(500)
            ),
            "at most 100",
        ),
        (
            "h.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = 8\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n[branding]\nbackground = \"red\"\nforeground = \"#000000\"\nlabel = \"#000000\"\nstamp_icon = \"*\"\n",
            "branding.background",
        ),
        (
            "i.toml",
            "name = \"X\"\nbusiness_name = \"Y\"\nstamps_required = 8\n[reward]\nkind = \"simple\"\ndescription = \"d\"\n[branding]\nbackground = \"#000000\"\nforeground = \"#ffffff\"\nlabel = \"#ffffff\"\nstamp_icon = \"*\"\nlogo = \"../stampcard.toml\"\n",
            "branding.logo must be the name of a PNG file",
        ),
    ];
    for (name, text, message) in cases {
        let path = shop.path(name);
        write(&path, text);
        let out = shop.run(&["template", "create", "--file", path.to_str().unwrap()]);
        assert_ne!(out.code, 0, "{name} should fail");
        assert!(
            out.stderr.contains(message),
            "{name}: expected '{message}' in: {}",
            out.stderr
        );
    }
    let binary = shop.path("bin.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = shop.run(&["template", "create", "--file", binary.to_str().unwrap()]);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.stderr);
    assert_eq!(
        shop.json(&["template", "list"]).as_array().unwrap().len(),
        before
    );
}

#[test]
fn template_edits_make_versions_and_cards_keep_progress() {
    let shop = Shop::demo();
    let edited = shop.json(&["template", "edit", "1", "--stamps", "10"]);
    assert_eq!(edited["version"], 2);
    let card = shop.json(&["card", "show", "100001"]);
    assert_eq!(card["progress"]["stamps"], 3);
    assert_eq!(card["progress"]["of"], 10);
    assert_eq!(card["template_version"], 2);
}

#[test]
fn receipt_codes_and_pos_codes_claim_once() {
    let shop = Shop::demo();
    let codes = shop.json(&[
        "codes",
        "generate",
        "--template",
        "1",
        "--count",
        "3",
        "--stamps",
        "2",
    ]);
    let code = codes[0].as_str().unwrap().to_string();
    shop.run(&["codes", "claim", &code, "--card", "100001"])
        .ok();
    let again = shop.run(&["codes", "claim", &code, "--card", "100003"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already used"), "{}", again.stderr);
    assert_eq!(shop.stamps(100001), 5);

    let key = shop.json(&["pos-key", "create", "--name", "till 1"]);
    let (id, secret) = (
        key["id"].to_string(),
        key["key"].as_str().unwrap().to_string(),
    );
    let today = chrono::Utc::now().date_naive().to_string();
    let derive = |receipt: &str, template: &str| {
        shop.json(&[
            "codes",
            "derive",
            "--key-id",
            &id,
            "--key",
            &secret,
            "--date",
            &today,
            "--till",
            "2",
            "--receipt",
            receipt,
            "--template",
            template,
            "--stamps",
            "1",
        ])["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pos = derive("4711", "1");
    shop.run(&["codes", "claim", &pos, "--card", "100001"]).ok();
    assert_eq!(shop.stamps(100001), 6);
    assert_eq!(
        shop.run(&["codes", "claim", &pos, "--card", "100001"]).code,
        1
    );
    // A code for another template is refused for this card.
    let other = derive("4712", "2");
    let out = shop.run(&["codes", "claim", &other, "--card", "100001"]);
    assert!(out.stderr.contains("template 2"), "{}", out.stderr);
    // Revoking the key refuses its codes from now on.
    shop.run(&["pos-key", "revoke", &id]).ok();
    let after = derive("4713", "1");
    let out = shop.run(&["codes", "claim", &after, "--card", "100001"]);
    assert!(out.stderr.contains("revoked"), "{}", out.stderr);
}

#[test]
fn reversal_and_journal_name_who_did_it() {
    let shop = Shop::demo();
    let code = shop.card_code(100001);
    let stamped = shop.json(&["stamp", &code]);
    let event = stamped["event_ids"][0].as_u64().unwrap();
    shop.run(&["reverse", &event.to_string(), "--reason", "double scan"])
        .ok();
    assert_eq!(shop.stamps(100001), 3);
    let again = shop.run(&["reverse", &event.to_string(), "--reason", "again"]);
    assert!(
        again.stderr.contains("already reversed"),
        "{}",
        again.stderr
    );
    let journal = shop.json(&["journal", "--card", "100001", "--limit", "2"]);
    assert_eq!(journal[0]["type"], "reversal");
    assert_eq!(journal[0]["of"], event);
    assert_eq!(journal[0]["actor"]["kind"], "cli");
    assert_eq!(journal[1]["type"], "stamp_added");
}

#[test]
fn customers_merge_forget_and_export() {
    let shop = Shop::demo();
    let issued = shop.json(&[
        "card",
        "issue",
        "--template",
        "1",
        "--name",
        "Mira J.",
        "--phone",
        "+49 170 555 0199",
    ]);
    let dup_customer = issued["customer_id"].as_u64().unwrap();
    shop.run(&["customer", "merge", "1", &dup_customer.to_string()])
        .ok();
    let cards = shop.json(&["customer", "show", "1"])["cards"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(cards, 2);
    let export = shop.path("mira.json");
    shop.run(&["customer", "export", "1", "-o", export.to_str().unwrap()])
        .ok();
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    assert_eq!(data["customer"]["name"], "Mira Jansen");
    assert_eq!(data["cards"].as_array().unwrap().len(), 2);
    assert!(!data["events"].as_array().unwrap().is_empty());
    let refused = shop.run(&["customer", "forget", "1"]);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    shop.run(&["customer", "forget", "1", "--yes"]).ok();
    let c = shop.json(&["customer", "show", "1"]);
    assert_eq!(c["customer"]["email"], serde_json::Value::Null);
    assert_eq!(c["customer"]["forgotten"], true);
    let code_card = shop.json(&["card", "show", "100001"]);
    assert_eq!(code_card["deleted"], true);
}

#[test]
fn consent_given_or_withdrawn_at_the_counter_is_kept_and_journaled() {
    let shop = Shop::demo();
    let issued = shop.json(&[
        "card",
        "issue",
        "--template",
        "1",
        "--name",
        "Ola N.",
        "--email",
        "ola@example.com",
    ]);
    let id = issued["customer_id"].to_string();
    let events = || shop.json(&["journal", "--type", "consent_changed"]);
    let before = events().as_array().map(Vec::len).unwrap_or(0);

    // Bad input is refused and changes nothing.
    for bad in [
        vec!["customer", "consent", &id, "sms", "off"],
        vec!["customer", "consent", &id, "email", "maybe"],
        vec!["customer", "consent", "999999", "email", "off"],
    ] {
        let r = shop.run(&bad);
        assert_ne!(r.code, 0, "{bad:?}");
        assert!(!r.stderr.is_empty(), "{bad:?} says why");
    }
    assert_eq!(events().as_array().map(Vec::len).unwrap_or(0), before);

    let said = shop.run(&["customer", "consent", &id, "email", "on"]).ok();
    assert!(
        said.stdout.contains("email marketing consent given"),
        "{}",
        said.stdout
    );
    shop.run(&[
        "customer",
        "consent",
        &id,
        "email",
        "off",
        "--source",
        "phone call",
    ])
    .ok();
    // Said twice: the first withdrawal stands, nothing new is journaled.
    shop.run(&["customer", "consent", &id, "email", "off"]).ok();
    let c = shop.json(&["customer", "show", &id]);
    assert_eq!(c["customer"]["consent_email"]["granted"], false, "{c}");
    assert_eq!(
        c["customer"]["consent_email"]["source"], "phone call",
        "{c}"
    );
    let journal = events();
    let mine: Vec<&serde_json::Value> = journal
        .as_array()
        .expect("journal")
        .iter()
        .filter(|e| e["customer_id"] == issued["customer_id"])
        .collect();
    assert_eq!(mine.len(), 2, "{journal}");
    assert!(
        mine.iter().any(|e| e["granted"] == false
            && e["source"] == "phone call"
            && e["channel"] == "email"),
        "{journal}"
    );
    assert!(
        mine.iter().all(|e| e["actor"]["kind"] == "cli"),
        "{journal}"
    );
}

#[test]
fn staff_pins_are_unique_and_validated() {
    let shop = Shop::demo();
    let taken = shop.run(&["staff", "add", "--name", "Kim", "--pin", "1234"]);
    assert!(taken.stderr.contains("PIN is taken"), "{}", taken.stderr);
    let short = shop.run(&["staff", "add", "--name", "Kim", "--pin", "12"]);
    assert!(short.stderr.contains("4 to 8 digits"), "{}", short.stderr);
    shop.run(&["staff", "add", "--name", "Kim", "--pin", "7777"])
        .ok();
    shop.run(&["staff", "disable", "Kim"]).ok();
    let list = shop.json(&["staff", "list"]);
    let kim = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Kim")
        .unwrap()
        .clone();
    assert_eq!(kim["enabled"], false);
}

#[test]
fn config_errors_are_reported_at_start_with_the_key() {
    let shop = Shop::demo();
    let out = shop
        .command(&["card", "list"])
        .env("STAMPCARD_SHOP__TIMEZONE", "Mars/Olympus")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("environment variable STAMPCARD_SHOP__TIMEZONE")
            && err.contains("shop.timezone")
            && !err.contains("stampcard.toml"),
        "{err}"
    );
    // A Bot API URL the bot could not use is refused at load, not at the
    // first message.
    for bad in ["http://", "ftp://example.org", "not a url"] {
        let out = shop
            .command(&["card", "list"])
            .env("STAMPCARD_TELEGRAM__TOKEN", "123:abc")
            .env("STAMPCARD_TELEGRAM__API_URL", bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(
            err.contains("telegram.api_url") && err.contains(bad),
            "{err}"
        );
    }
}

#[test]
fn exports_stream_csv_and_json() {
    let shop = Shop::demo();
    let csv = shop
        .run(&["export", "--format", "csv", "--table", "journal"])
        .ok()
        .stdout;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("id,type,time"));
    assert_eq!(lines.count(), shop.event_count());
    let json = shop
        .run(&["export", "--format", "json", "--table", "customers"])
        .ok()
        .stdout;
    assert_eq!(json.lines().count(), 5);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["name"], "Mira Jansen");
}

#[test]
fn non_utf8_arguments_are_refused_and_change_nothing() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let shop = Shop::demo();
    let before = shop.event_count();
    let bad = OsStr::from_bytes(&[0x66, 0x6f, 0xff, 0x6f]);
    let out = shop
        .command(&["card", "issue", "--template", "1", "--name"])
        .arg(bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("UTF-8"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = shop.command(&["stamp"]).arg(bad).output().unwrap();
    assert!(!out.status.success());
    let long_name = "n".repeat(10_000);
    let out = shop.run(&["card", "issue", "--template", "1", "--name", &long_name]);
    assert!(out.stderr.contains("at most 100"), "{}", out.stderr);
    assert_eq!(shop.event_count(), before);
}

#[test]
fn posters_and_code_sheets_are_written_as_svg_or_png() {
    let shop = Shop::demo();
    let out = shop.json(&[
        "poster",
        "--template",
        "1",
        "--source",
        "table",
        "-o",
        "poster.svg",
    ]);
    let url = out["url"].as_str().expect("url").to_string();
    assert!(url.ends_with("/j/1?s=table"), "{url}");
    let svg = std::fs::read_to_string(shop.path("poster.svg")).expect("svg");
    assert!(svg.contains(&url.replace('&', "&amp;")) && svg.contains("Coffee card"));
    // It opens in a renderer that is not ours, and its QR code is the link.
    assert_eq!(
        printed::svg_qr_contents(&shop.path("poster.svg"), 1200),
        vec![url.clone()]
    );
    shop.run(&["poster", "--template", "1", "-o", "poster.png"])
        .ok();
    let png = std::fs::read(shop.path("poster.png")).expect("png");
    assert_eq!(&png[..4], b"\x89PNG");
    let plain = url.trim_end_matches("?s=table").to_string();
    assert_eq!(
        printed::png_qr_contents(&shop.path("poster.png")),
        vec![plain]
    );
    // A sheet of receipt codes: each code printed beneath its QR code.
    let run = shop
        .run(&[
            "codes",
            "generate",
            "--template",
            "1",
            "--count",
            "5",
            "--sheet",
            "sheet.svg",
        ])
        .ok();
    let sheet = std::fs::read_to_string(shop.path("sheet.svg")).expect("sheet");
    for code in run.stdout.lines() {
        assert!(sheet.contains(code), "{code} on the sheet");
    }
    // Each QR code on the rendered sheet is one code's claim link.
    let links = printed::svg_qr_contents(&shop.path("sheet.svg"), 2400);
    let mut codes: Vec<&str> = run.stdout.lines().collect();
    codes.sort();
    let mut claimed: Vec<&str> = links
        .iter()
        .filter_map(|l| l.rsplit_once("/r/").map(|(_, c)| c))
        .collect();
    claimed.sort();
    assert_eq!(claimed, codes, "{links:?}");
    // Bad input: a clear error, nothing written.
    for args in [
        &["poster", "--template", "1", "-o", "poster.jpg"][..],
        &["poster", "--template", "99", "-o", "none.svg"][..],
        &[
            "poster",
            "--template",
            "1",
            "--source",
            "no spaces",
            "-o",
            "tag.svg",
        ][..],
    ] {
        let r = shop.run(args);
        assert_ne!(r.code, 0, "{args:?}");
        assert!(!r.stderr.is_empty());
    }
    assert!(
        !shop.path("poster.jpg").exists()
            && !shop.path("none.svg").exists()
            && !shop.path("tag.svg").exists()
    );
}

#[test]
fn the_journal_filters_by_who_template_and_day() {
    let shop = Shop::demo();
    let all = shop.json(&["journal", "--limit", "1000"]);
    let total = all.as_array().map(|a| a.len()).unwrap_or(0);
    let jules = shop.json(&["journal", "--who", "jules", "--limit", "1000"]);
    let jules = jules.as_array().cloned().unwrap_or_default();
    assert!(!jules.is_empty() && jules.len() < total);
    assert!(jules.iter().all(|e| e["actor"]["name"] == "Jules"));
    let tpl2 = shop.json(&["journal", "--template", "2", "--limit", "1000"]);
    assert!(
        tpl2.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e["template_id"] == 2))
    );
    let none = shop.json(&["journal", "--day", "2001-01-01"]);
    assert_eq!(none.as_array().map(|a| a.len()), Some(0));
    let bad = shop.run(&["journal", "--day", "yesterday"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn a_card_qr_code_is_written_to_print() {
    let shop = Shop::demo();
    let out = shop.json(&["card", "qr", "100001", "-o", "card.svg"]);
    let url = out["url"].as_str().expect("url");
    let svg = std::fs::read_to_string(shop.path("card.svg")).expect("svg");
    assert!(svg.contains(url) && svg.contains(&shop.card_code(100001)));
    assert_eq!(
        printed::svg_qr_contents(&shop.path("card.svg"), 1200),
        vec![url.to_string()]
    );
    shop.run(&["card", "qr", "100001", "-o", "card.png"]).ok();
    assert_eq!(
        &std::fs::read(shop.path("card.png")).expect("png")[..4],
        b"\x89PNG"
    );
    assert_eq!(
        printed::png_qr_contents(&shop.path("card.png")),
        vec![url.to_string()]
    );
    assert_ne!(
        shop.run(&["card", "qr", "999999", "-o", "none.svg"]).code,
        0
    );
    assert!(!shop.path("none.svg").exists());
}

#[test]
fn api_keys_are_shown_once_listed_without_tokens_and_revoked() {
    let shop = Shop::demo();
    let created = shop.json(&["api-key", "create", "--name", "pos1", "--role", "staff"]);
    let token = created["token"].as_str().expect("token").to_string();
    let prefix = created["prefix"].as_str().expect("prefix").to_string();
    assert!(token.starts_with(&format!("{prefix}_")), "{created}");
    let listed = shop.run(&["api-key", "list", "--json"]).ok().stdout;
    assert!(listed.contains(&prefix) && !listed.contains(&token[prefix.len() + 1..]));
    // A bad role or an empty name is refused and makes no key.
    assert_ne!(
        shop.run(&["api-key", "create", "--name", "x", "--role", "root"])
            .code,
        0
    );
    let empty = shop.run(&["api-key", "create", "--name", " ", "--role", "admin"]);
    assert!(empty.stderr.contains("name of 1 to 64"), "{}", empty.stderr);
    assert_eq!(
        shop.json(&["api-key", "list"]).as_array().map(Vec::len),
        Some(1)
    );
    let revoked = shop.json(&["api-key", "revoke", &prefix]);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let unknown = shop.run(&["api-key", "revoke", "stc_999"]);
    assert!(unknown.stderr.contains("not found"), "{}", unknown.stderr);
}

#[test]
fn pos_keys_move_to_long_codes_without_breaking_printed_ones() {
    let shop = Shop::demo();
    let key = shop.json(&["pos-key", "create", "--name", "till 3"]);
    let (id, secret) = (
        key["id"].to_string(),
        key["key"].as_str().expect("key").to_string(),
    );
    let today = chrono::Utc::now().date_naive();
    let derive = |receipt: &str, day: chrono::NaiveDate, long: bool| {
        let day = day.format("%Y-%m-%d").to_string();
        let mut args = vec![
            "codes",
            "derive",
            "--key-id",
            &id,
            "--key",
            &secret,
            "--date",
            &day,
            "--till",
            "1",
            "--receipt",
            receipt,
            "--template",
            "1",
            "--stamps",
            "1",
        ];
        if long {
            args.push("--long");
        }
        shop.run(&args).ok().stdout.trim().to_string()
    };
    let yesterday = today.pred_opt().expect("yesterday");
    let (printed, short_today, long_today) = (
        derive("1", yesterday, false),
        derive("2", today, false),
        derive("3", today, true),
    );
    assert_eq!((printed.len(), long_today.len()), (34, 42));
    shop.run(&["pos-key", "long-only", &id]).ok();
    let claim = |code: &str| shop.run(&["codes", "claim", code, "--card", "100001"]);
    // Printed before the change: still claimable. From today on: long only.
    assert_eq!(claim(&printed).code, 0, "a code printed before stays valid");
    let refused = claim(&short_today);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("long codes"), "{}", refused.stderr);
    assert_eq!(claim(&long_today).code, 0);
    // A long code with one MAC digit changed is forged, not a typo: its
    // check digit is made right again.
    let mut body: Vec<u8> = long_today.as_bytes()[..41].to_vec();
    body[30] = if body[30] == b'9' { b'0' } else { body[30] + 1 };
    let body = String::from_utf8(body).expect("digits");
    let forged = format!("{body}{}", stampcard_core::codes::damm(&body));
    let r = claim(&forged);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not issued by this shop"), "{}", r.stderr);
}
