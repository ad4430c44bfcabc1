//! A forgotten customer is gone from what the shop keeps and hands out: no
//! message to them is sent after the forget, the outbox keeps neither their
//! address nor the text, and a backup or an export taken afterwards holds
//! none of their name, phone or email.

use crate::Shop;

#[test]
fn a_forgotten_customer_is_in_no_backup_export_or_message() {
    let shop = Shop::demo();
    // Email that cannot go out yet: the message waits, retrying.
    let server = shop.serve(&[
        ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
        ("STAMPCARD_SMTP__PORT", "9"),
        ("STAMPCARD_SMTP__SECURITY", "none"),
        ("STAMPCARD_SMTP__FROM", "news@shop.test"),
    ]);
    let joined = server.request(
        "POST",
        "/j/1",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("name=Zelda+Quartermain&email=zelda.q%40example.org&phone=%2B49+170+5559876&consent_email=yes"),
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let created = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--segment",
        "all",
        "--channels",
        "email",
        "--text",
        "Soup is back.",
    ]);
    let campaign = created["campaign"]["id"].to_string();
    shop.run(&["campaign", "send", &campaign]).ok();
    let customers = shop.json(&["customer", "list"]);
    let zelda = customers
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Zelda Quartermain"))
        .and_then(|c| c["id"].as_u64())
        .expect("Zelda is a customer")
        .to_string();
    shop.run(&["customer", "forget", &zelda, "--yes"]).ok();

    // Her message is never sent, and keeps nothing of her.
    let show = shop.json(&["campaign", "show", &campaign, "--recipients"]);
    let text = show.to_string();
    assert!(!text.contains("zelda"), "{show}");
    assert!(text.contains("the customer was forgotten"), "{show}");
    // A backup and an export taken now hold none of her.
    let backup = shop.path("after.backup");
    shop.run(&["backup", backup.to_str().expect("path")]).ok();
    let export = shop
        .run(&["export", "--format", "json", "--table", "customers"])
        .ok()
        .stdout;
    let bytes = std::fs::read(&backup).expect("backup");
    let backup_text = String::from_utf8_lossy(&bytes);
    for trace in ["Zelda", "Quartermain", "zelda.q@example.org", "5559876"] {
        assert!(!backup_text.contains(trace), "{trace} in the backup");
        assert!(!export.contains(trace), "{trace} in the export");
    }
    server.stop();
}
