//! Email through a real SMTP server (aiosmtpd on 127.0.0.1): a campaign
//! arrives as multipart plain + HTML with the unsubscribe link and the
//! List-Unsubscribe headers, only to customers who opted in; a refused
//! mailbox fails with the server's reason; the unsubscribe link asks first
//! (GET changes nothing) and then withdraws the consent, so the next
//! campaign does not email that customer; forged links change nothing.

use std::time::Duration;

use stampcard_e2e::smtp_server::{Email, SmtpServer};

use crate::{Server, Shop};

fn form(server: &Server, path: &str, body: &str) -> crate::HttpResponse {
    server.request(
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body),
    )
}

fn customer_named(shop: &Shop, name: &str) -> serde_json::Value {
    let list = shop.json(&["customer", "list"]);
    let id = list
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .and_then(|c| c["id"].as_u64())
        .unwrap_or_else(|| panic!("{name} in {list}"));
    shop.json(&["customer", "show", &id.to_string()])
}

fn email_consent(shop: &Shop, name: &str) -> serde_json::Value {
    let c = customer_named(shop, name);
    let c = if c["customer"].is_object() {
        c["customer"].clone()
    } else {
        c
    };
    c["consent_email"]["granted"].clone()
}

fn to(messages: &[Email], address: &str) -> Vec<Email> {
    messages
        .iter()
        .filter(|m| m.rcpt().iter().any(|r| r == address))
        .cloned()
        .collect()
}

#[test]
fn a_campaign_email_arrives_in_two_parts_and_its_unsubscribe_link_works() {
    let smtp = SmtpServer::start();
    let shop = Shop::demo();
    let port = smtp.port.to_string();
    let server = shop.serve(&[
        ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
        ("STAMPCARD_SMTP__PORT", &port),
        ("STAMPCARD_SMTP__SECURITY", "none"),
        ("STAMPCARD_SMTP__FROM", "Test Roastery <news@shop.test>"),
        ("STAMPCARD_CAMPAIGNS__FREQUENCY_CAP", "5"),
    ]);
    // Three join on the web: two tick the email box, one does not; one of
    // the addresses is refused by the mail server.
    for body in [
        "name=Ada+Lovelace&email=ada%40example.org&consent_email=yes",
        "name=Bob+Nolist&email=bob%40example.org",
        "name=Cleo+Bounce&email=bounce.cleo%40example.org&consent_email=yes",
    ] {
        assert_eq!(form(&server, "/j/1", body).status, 303, "{body}");
    }
    let said = std::iter::from_fn(|| server.next_line())
        .find(|l| l.contains("email via"))
        .expect("serve says where email goes");
    assert!(
        said.contains(&format!("127.0.0.1:{port} (none) from Test Roastery")),
        "{said}"
    );
    let admin = shop.api_key("crm", "admin");
    let post = |path: &str, body: &str| {
        server.request(
            "POST",
            path,
            &[
                ("Authorization", &format!("Bearer {admin}")),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let campaign = |text: &str, voucher: serde_json::Value| -> u64 {
        let body = serde_json::json!({
            "template_id": 1, "text": text, "push_text": "Pie is back!", "channels": ["email"],
            "voucher": voucher,
        });
        let created = post("/api/v1/campaigns", &body.to_string());
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["campaign"]["id"].as_u64().expect("id");
        let sent = post(&format!("/api/v1/campaigns/{id}/send"), "{}");
        assert_eq!(sent.status, 200, "{}", sent.body);
        id
    };
    let text = "**Pumpkin pie** is back, _this week only_. See [the menu](https://shop.test/menu).";
    let id = campaign(
        text,
        serde_json::json!({"description": "Free slice", "valid_days": 7}),
    );

    // Ada's arrives; Bob (no consent) gets none; Cleo's is refused for good.
    let ada = stampcard_e2e::wait::until(
        Duration::from_secs(30),
        || to(&smtp.messages(), "ada@example.org").pop(),
        || format!("no email for Ada: {} received", smtp.messages().len()),
    );
    let show = stampcard_e2e::wait::until(
        Duration::from_secs(30),
        || {
            let s = shop.json(&["campaign", "show", &id.to_string(), "--recipients"]);
            (s["status"]["deliveries"]["email"]["failed"] == 1
                && s["status"]["deliveries"]["email"]["queued"].is_null())
            .then_some(s)
        },
        || {
            format!(
                "{}",
                shop.json(&["campaign", "show", &id.to_string(), "--recipients"])
            )
        },
    );
    let cleo = show["recipients"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["recipient"] == "bounce.cleo@example.org")
        })
        .unwrap_or_else(|| panic!("{show}"));
    assert_eq!(cleo["state"], "failed");
    assert!(
        cleo["last_error"].as_str().unwrap_or("").contains("550"),
        "the server's reason is kept: {cleo}"
    );
    let messages = smtp.messages();
    assert!(to(&messages, "bob@example.org").is_empty());
    assert_eq!(to(&messages, "ada@example.org").len(), 1, "exactly one");

    assert_eq!(
        ada.header("From").as_deref(),
        Some("Test Roastery <news@shop.test>")
    );
    let subject = ada.header("Subject").unwrap_or_default();
    assert!(subject.ends_with(": Pie is back!"), "{subject}");
    assert_eq!(ada.parsed["content_type"], "multipart/alternative");
    let plain = ada.part("text/plain").expect("a plain part");
    let html = ada.part("text/html").expect("an HTML part");
    assert!(
        plain.contains(
            "Pumpkin pie is back, this week only. See the menu (https://shop.test/menu)."
        ),
        "{plain}"
    );
    assert!(!plain.contains("**"), "{plain}");
    // Her own voucher, with its code, in both parts.
    assert!(
        plain.contains("Your voucher: Free slice — code "),
        "{plain}"
    );
    assert!(html.contains("Your voucher: Free slice — code "), "{html}");
    assert!(
        html.contains("<b>Pumpkin pie</b>") && html.contains("<i>this week only</i>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://shop.test/menu\">the menu</a>"),
        "{html}"
    );
    assert!(plain.contains("/c/"), "the card link: {plain}");
    let header = ada.header("List-Unsubscribe").unwrap_or_default();
    let url = header
        .trim()
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe: {header}"))
        .to_string();
    assert_eq!(
        ada.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(plain.contains(&format!("Unsubscribe: {url}")), "{plain}");
    assert!(html.contains(&url), "{html}");
    let path = &url[url.find("/u/").unwrap_or_else(|| panic!("{url}"))..];

    // Following the link only asks; a forged link changes nothing.
    let (status, page) = server.get(path);
    assert_eq!(status, 200);
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert_eq!(email_consent(&shop, "Ada Lovelace"), true);
    let forged = format!("{}0", &path[..path.len() - 1]);
    let forged = if forged == path {
        format!("{}1", &path[..path.len() - 1])
    } else {
        forged
    };
    assert_eq!(
        form(&server, &forged, "List-Unsubscribe=One-Click").status,
        404
    );
    assert_eq!(form(&server, "/u/not-a-token", "").status, 404);
    assert_eq!(email_consent(&shop, "Ada Lovelace"), true);

    // One click (as a mail app sends it) withdraws the consent.
    let done = form(&server, path, "List-Unsubscribe=One-Click");
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("no more"), "{}", done.body);
    assert_eq!(email_consent(&shop, "Ada Lovelace"), false);
    assert_eq!(email_consent(&shop, "Cleo Bounce"), true, "only hers");
    let journal = shop.json(&["journal", "--type", "consent_changed"]);
    let withdrawn: Vec<&serde_json::Value> = journal
        .as_array()
        .map(|a| a.iter().filter(|e| e["granted"] == false).collect())
        .unwrap_or_default();
    assert_eq!(withdrawn.len(), 1, "her withdrawal is journaled: {journal}");
    assert_eq!(withdrawn[0]["channel"], "email");
    assert_eq!(withdrawn[0]["source"], "unsubscribe link");
    assert_eq!(
        withdrawn[0]["customer_id"],
        customer_named(&shop, "Ada Lovelace")["customer"]["id"]
    );

    // The console's settings show where email goes and how it went.
    let console = crate::console::admin_console(&shop, "");
    console.keys(&["8"]);
    let screen = console.wait_for("Email: on");
    assert!(
        screen.contains(&format!("127.0.0.1:{port} (none)")),
        "{screen}"
    );
    assert!(screen.contains("failed 1"), "{screen}");
    assert!(screen.contains("last problem: "), "{screen}");
    drop(console);

    // The next campaign plans no email for Ada (planning is done when send returns).
    let second = campaign("Soup season starts Monday.", serde_json::Value::Null);
    let show = shop.json(&["campaign", "show", &second.to_string(), "--recipients"]);
    let recipients: Vec<&str> = show["recipients"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["recipient"].as_str()).collect())
        .unwrap_or_default();
    assert!(!recipients.contains(&"ada@example.org"), "{show}");
    assert!(recipients.contains(&"bounce.cleo@example.org"), "{show}");
    server.stop();
}

#[test]
fn a_russian_customers_email_is_russian_from_subject_to_footer() {
    let smtp = SmtpServer::start();
    let shop = Shop::demo();
    let port = smtp.port.to_string();
    let server = shop.serve(&[
        ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
        ("STAMPCARD_SMTP__PORT", &port),
        ("STAMPCARD_SMTP__SECURITY", "none"),
        ("STAMPCARD_SMTP__FROM", "news@shop.test"),
    ]);
    // She joins on the web in Russian and asks for news by email.
    let joined = server.request(
        "POST",
        "/j/1",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept-Language", "ru-RU,ru;q=0.9"),
        ],
        Some("name=%D0%92%D0%B5%D1%80%D0%B0&email=vera%40example.org&consent_email=yes"),
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    // The shop writes its campaign in Russian; the frame around it, the
    // voucher line and the footer must be Russian too.
    let created = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--segment",
        "all",
        "--channels",
        "email",
        "--push",
        "Пирог вернулся!",
        "--text",
        "**Тыквенный пирог** снова с нами.",
        "--voucher",
        "Кусок пирога",
        "--voucher-days",
        "7",
    ]);
    let id = created["campaign"]["id"].to_string();
    shop.run(&["campaign", "send", &id]).ok();
    let vera = stampcard_e2e::wait::until(
        Duration::from_secs(30),
        || to(&smtp.messages(), "vera@example.org").pop(),
        || format!("no email for Vera: {} received", smtp.messages().len()),
    );
    let shop_name = ["Ember", "Oak", "Coffee"];
    let subject = vera.header("Subject").unwrap_or_default();
    let plain = vera.part("text/plain").expect("a plain part");
    let html = vera.part("text/html").expect("an HTML part");
    assert!(plain.contains("Ваш купон: Кусок пирога"), "{plain}");
    assert!(plain.contains("Отписаться"), "{plain}");
    for (what, text) in [("subject", &subject), ("plain", &plain)] {
        let stray = stampcard_e2e::latin::stray_words(text, &shop_name);
        assert!(stray.is_empty(), "English in the {what}: {stray:?}\n{text}");
    }
    // The HTML's visible text (tags and attributes aside).
    let visible: String = html
        .split('<')
        .filter_map(|chunk| chunk.split_once('>').map(|(_, text)| text))
        .collect::<Vec<_>>()
        .join(" ")
        .replace("&amp;", "&");
    assert!(html.contains("<html lang=\"ru\">"), "{html}");
    let stray = stampcard_e2e::latin::stray_words(&visible, &shop_name);
    assert!(stray.is_empty(), "English in the HTML: {stray:?}\n{html}");
    server.stop();
}
