//! The REST API through real HTTP against the real binary: the auth matrix
//! (none, wrong, revoked, staff on an admin endpoint), idempotent stamping
//! (a retry replays, a different body is refused, concurrent retries add
//! once), and one error shape for bad input that changes nothing.

use crate::Shop;

#[test]
fn the_api_checks_keys_and_roles() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let staff = shop.api_key("staff", "staff");
    let admin = shop.api_key("admin", "admin");
    let bearer = |t: &str| format!("Bearer {t}");
    let get = |token: Option<&str>| {
        let auth = token.map(bearer);
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        server.request("GET", "/api/v1/templates", &headers, None)
    };
    let none = get(None);
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"]["code"], "unauthenticated");
    assert_eq!(get(Some("stc_1_0000")).status, 401);
    assert_eq!(get(Some(&format!("{staff}x"))).status, 401);
    let ok = get(Some(&staff));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()[0]["name"], "Coffee card");

    // A coupon needs an admin key: 403 for staff, 201 for admin.
    let body = r#"{"description": "Birthday cake", "valid_days": 7}"#;
    let coupon = |token: &str| {
        server.request(
            "POST",
            "/api/v1/cards/100001/vouchers",
            &[
                ("Authorization", &bearer(token)),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let refused = coupon(&staff);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.json()["error"]["code"], "forbidden");
    let made = coupon(&admin);
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.json()["vouchers"][0]["description"], "Birthday cake");
    // Listed on the card, with its code, for a staff key too.
    let listed = server.request(
        "GET",
        "/api/v1/cards/100001/vouchers",
        &[("Authorization", &bearer(&staff))],
        None,
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    let cake = listed
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["description"] == "Birthday cake"))
        .unwrap_or_else(|| panic!("the new voucher is listed: {listed}"));
    assert!(cake["code"].is_string(), "{cake}");
    // The journal names the key.
    let journal = shop.json(&["journal", "--card", "100001", "--type", "voucher_issued"]);
    assert!(journal.to_string().contains("stc_2"), "{journal}");

    // Revoking takes effect at once, while the server runs.
    shop.run(&["api-key", "revoke", "stc_1"]).ok();
    assert_eq!(get(Some(&staff)).status, 401);
    assert_eq!(get(Some(&admin)).status, 200);
    server.stop();
}

#[test]
fn stamping_is_idempotent_and_bad_input_changes_nothing() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let token = shop.api_key("staff", "staff");
    let auth = format!("Bearer {token}");
    let addr = server.http.clone();
    let code = shop.card_code(100001);
    let stamps = || shop.json(&["card", "show", "100001"])["stamps"].as_u64();
    let before = stamps();
    let post = |body: &str, idem: Option<&str>| {
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        if let Some(k) = idem {
            headers.push(("Idempotency-Key", k));
        }
        crate::http_request(&addr, "POST", "/api/v1/stamps", &headers, Some(body))
    };
    let body = format!(r#"{{"code": "{code}", "count": 1}}"#);
    // Concurrent retries of one request add one stamp and answer alike.
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| post(&body, Some("sale-4711"))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let first = answers[0].json();
    assert!(answers.iter().all(|a| a.json() == first), "{answers:?}");
    assert_eq!(stamps(), before.map(|s| s + 1));
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.head.contains("idempotent-replayed: true"))
            .count(),
        7
    );
    // The same key with a different body is refused.
    let other = format!(r#"{{"code": "{code}", "count": 2}}"#);
    let mismatch = post(&other, Some("sale-4711"));
    assert_eq!(mismatch.status, 422, "{}", mismatch.body);
    assert_eq!(mismatch.json()["error"]["code"], "idempotency_mismatch");

    // Bad input: one error shape, nothing changed.
    for (body, status, code) in [
        ("{not json", 400, "bad_json"),
        (r#"{"code": 5}"#, 422, "invalid_input"),
        (r#"{"code": "1", "colour": "red"}"#, 422, "invalid_input"),
        (r#"{"code": "100001000000000"}"#, 409, "code_forged"),
    ] {
        let r = post(body, None);
        assert_eq!(r.status, status, "{body}: {}", r.body);
        let e = r.json();
        assert!(
            e["error"]["code"].is_string() && e["error"]["message"].is_string(),
            "{e}"
        );
        if code != "code_forged" {
            assert_eq!(e["error"]["code"], code, "{body}");
        }
    }
    let huge = format!(r#"{{"code": "{}"}}"#, "1".repeat(100_000));
    assert_eq!(post(&huge, None).status, 413);
    let unknown = server.request("GET", "/api/v1/nothing", &[("Authorization", &auth)], None);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
    assert_eq!(stamps(), before.map(|s| s + 1), "bad input changed nothing");
    server.stop();
}

#[test]
fn receipts_redemptions_reversals_and_the_event_feed() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let auth = format!("Bearer {}", shop.api_key("staff", "staff"));
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let post = |path: &str, body: &str| server.request("POST", path, &json, Some(body));

    // A receipt code is claimed once.
    let receipt = shop
        .run(&["codes", "generate", "--template", "1", "--count", "1"])
        .ok()
        .stdout;
    let body = format!(r#"{{"code": "{}"}}"#, receipt.trim());
    let claimed = post("/api/v1/cards/100001/receipts", &body);
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let again = post("/api/v1/cards/100001/receipts", &body);
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.json()["error"]["code"], "already_claimed");

    // The claim is reversed through the API, by the staff key, with a reason.
    let event = claimed.json()["event_ids"][0].as_u64().expect("event id");
    let reversed = post(
        &format!("/api/v1/events/{event}/reversal"),
        r#"{"reason": "till error"}"#,
    );
    assert_eq!(reversed.status, 200, "{}", reversed.body);
    let twice = post(
        &format!("/api/v1/events/{event}/reversal"),
        r#"{"reason": "again"}"#,
    );
    assert_eq!(twice.status, 409, "{}", twice.body);

    // A voucher code is redeemed once.
    let coupon = shop.json(&["card", "coupon", "100001", "--description", "Tea"]);
    let code = coupon["card"]["vouchers"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["description"] == "Tea"))
        .and_then(|v| v["code"].as_str())
        .expect("voucher code")
        .to_string();
    let body = format!(r#"{{"code": "{code}"}}"#);
    assert_eq!(post("/api/v1/redemptions", &body).status, 200);
    let no = post("/api/v1/redemptions", &body);
    assert_eq!(
        no.json()["error"]["code"],
        "already_redeemed",
        "{}",
        no.body
    );

    // The feed pages through the journal in commit order, without gaps.
    let mut after = 0u64;
    let mut seen = Vec::new();
    loop {
        let page = server.request(
            "GET",
            &format!("/api/v1/events?after={after}&limit=7"),
            &json[..1],
            None,
        );
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        let ids: Vec<u64> = page["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["id"].as_u64())
            .collect();
        if ids.is_empty() {
            break;
        }
        seen.extend(ids);
        after = page["next_after"].as_u64().expect("next");
    }
    assert_eq!(seen.len(), shop.event_count());
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
    for bad in ["after=x", "limit=0", "limit=5000", "colour=red"] {
        let r = server.request("GET", &format!("/api/v1/events?{bad}"), &json[..1], None);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "invalid_input");
    }
    server.stop();
}

#[test]
fn cards_are_issued_looked_up_and_customers_found() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let auth = format!("Bearer {}", shop.api_key("staff", "staff"));
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let before = shop.json(&["card", "list"]).as_array().map(Vec::len);
    let made = server.request(
        "POST",
        "/api/v1/cards",
        &json,
        Some(r#"{"template_id": 1, "customer": {"name": "Pia Lund", "email": "pia@example.org"}, "source": "pos"}"#),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let card = made.json();
    assert_eq!(card["customer_name"], "Pia Lund");
    // The printed code finds the card again.
    let code = card["code"].as_str().expect("code");
    let found = server.request("GET", &format!("/api/v1/lookup/{code}"), &json[..1], None);
    assert_eq!(found.json()["kind"], "card", "{}", found.body);
    assert_eq!(found.json()["card"]["card_id"], card["card_id"]);
    let forged = server.request(
        "GET",
        "/api/v1/lookup/1000100001000000000",
        &json[..1],
        None,
    );
    assert!(forged.status >= 400, "{}", forged.body);
    assert!(forged.json()["error"]["code"].is_string());
    // Customers are found by name.
    let search = server.request("GET", "/api/v1/customers?q=pia", &json[..1], None);
    assert_eq!(search.status, 200, "{}", search.body);
    assert_eq!(search.json()[0]["email"], "pia@example.org");
    // Bad cards change nothing: no holder, both holders, unknown template,
    // a bad email.
    for body in [
        r#"{"template_id": 1}"#,
        r#"{"template_id": 1, "customer_id": 1, "customer": {"name": "X"}}"#,
        r#"{"template_id": 99, "customer": {"name": "X"}}"#,
        r#"{"template_id": 1, "customer": {"name": "X", "email": "nope"}}"#,
    ] {
        let r = server.request("POST", "/api/v1/cards", &json, Some(body));
        assert!((400..500).contains(&r.status), "{body}: {}", r.body);
        assert!(r.json()["error"]["message"].is_string());
    }
    assert_eq!(
        shop.json(&["card", "list"]).as_array().map(Vec::len),
        before.map(|n| n + 1)
    );
    server.stop();
}
