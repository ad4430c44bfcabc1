//! `/metrics` on the running server: journal events and stamps counted,
//! request latencies per route, outbox outcomes per channel and resident
//! card actors, in the Prometheus text format.

use std::time::Duration;

use stampcard_e2e::wait;
use stampcard_e2e::webhook_receiver::Receiver;

use crate::Shop;

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_stamps_requests_deliveries_and_resident_cards() {
    let shop = Shop::demo();
    let token = shop.api_key("pos", "staff");
    let receiver = Receiver::start(true);
    shop.run(&[
        "webhook",
        "create",
        "--url",
        &receiver.url("/"),
        "--events",
        "stamp_added",
    ])
    .ok();
    let server = shop.serve(&[("STAMPCARD_HTTP__METRICS_LISTEN", "127.0.0.1:0")]);
    let metrics_at = server
        .startup
        .iter()
        .find_map(|l| l.split("metrics http://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .expect("serve names its metrics listener")
        .to_string();
    let metrics = || {
        let r = crate::http_request(&metrics_at, "GET", "/metrics", &[], None);
        (r.status, r.body)
    };
    let code = shop.card_code(100001);
    let auth = format!("Bearer {token}");
    let stamped = server.request(
        "POST",
        "/api/v1/stamps",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&format!(r#"{{"code": "{code}", "count": 2}}"#)),
    );
    assert_eq!(stamped.status, 200, "{}", stamped.body);
    shop.run(&["stamp", &code]).ok();
    let refused = server.request("GET", "/api/v1/templates", &[], None);
    assert_eq!(refused.status, 401);

    let text = wait::until(
        Duration::from_secs(30),
        || {
            let (status, text) = metrics();
            assert_eq!(status, 200, "{text}");
            // The delivery is counted when the receiver answers, the depth
            // once its entry's new state is committed: wait for both.
            (sample(&text, "stampcard_stamps_total") == Some(3.0)
                && sample(
                    &text,
                    r#"stampcard_outbox_outcomes{channel="webhook",outcome="delivered"}"#,
                ) == Some(2.0)
                && sample(&text, r#"stampcard_outbox_depth{channel="webhook"}"#) == Some(0.0))
            .then_some(text)
        },
        || format!("metrics: {}", metrics().1),
    );
    assert_eq!(
        sample(&text, r#"stampcard_events_total{type="stamp_added"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"stampcard_http_request_duration_seconds_count{method="POST",route="/api/v1/stamps",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"stampcard_http_request_duration_seconds_count{method="GET",route="/api/v1/templates",status="401"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "stampcard_resident_card_actors") >= Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"stampcard_outbox_depth{channel="webhook"}"#),
        Some(0.0),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    assert_eq!(receiver.received().len(), 2);
    server.stop();
}

#[test]
fn metrics_through_the_main_listener_need_an_admin_key_even_from_loopback() {
    let shop = Shop::demo();
    let staff = shop.api_key("pos", "staff");
    let admin = shop.api_key("prometheus", "admin");
    let server = shop.serve(&[]);
    // A request the reverse proxy passed on arrives from loopback too.
    for headers in [vec![], vec![("X-Forwarded-For", "203.0.113.9")]] {
        let r = server.request("GET", "/metrics", &headers, None);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(!r.body.contains("stampcard_"), "{}", r.body);
    }
    let staff_key = format!("Bearer {staff}");
    let r = server.request("GET", "/metrics", &[("Authorization", &staff_key)], None);
    assert_eq!(r.status, 403);
    let admin_key = format!("Bearer {admin}");
    let r = server.request("GET", "/metrics", &[("Authorization", &admin_key)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("stampcard_stamps_total"), "{}", r.body);
    server.stop();
    // The key-less listener is for this machine only.
    let refused = shop
        .command(&["card", "list"])
        .env("STAMPCARD_HTTP__METRICS_LISTEN", "0.0.0.0:9090")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("loopback"), "{err}");
}
