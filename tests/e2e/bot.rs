//! The Telegram bot end to end: the real binary's bot (teloxide) against a
//! fake Bot API server on 127.0.0.1, with the real core and store.

use stampcard_e2e::fake_telegram::FakeTelegram;

use crate::Shop;

fn card_id(text: &str) -> u64 {
    text.split("Card ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no card number in {text:?}"))
}

#[test]
fn customers_join_claim_and_get_news_in_telegram() {
    let shop = Shop::demo();
    let fake = FakeTelegram::start();
    let server = shop.serve(&[
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
    ]);

    // Join by the QR code's deep link: the card comes in one reply.
    fake.message(5001, "Lena", "en", "/start j1_table");
    let reply = fake.wait_for_text(5001, "Coffee card");
    assert!(reply.contains("○○○○○○○○ 0/8"), "{reply}");
    let lena = card_id(&reply);
    let journal = shop.json(&[
        "journal",
        "--card",
        &lena.to_string(),
        "--type",
        "card_issued",
    ]);
    assert_eq!(
        journal[0]["source"], "table",
        "the source tag is journaled: {journal}"
    );
    // Joining again shows the same card.
    fake.message(5001, "Lena", "en", "/start j1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.texts_to(5001).len() < 2 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(card_id(&fake.texts_to(5001)[1]), lena);

    // The counter stamps her card: the news reaches her chat, even through
    // a 429 from Telegram (retried after retry_after, not lost).
    fake.throttle_next("sendMessage", 1);
    shop.run(&["stamp", &shop.card_code(lena)]).ok();
    let news = fake.wait_for_text(5001, "A stamp was added");
    assert!(news.contains("1/8"), "{news}");
    let outbox = shop.json(&["outbox", "list", "--state", "confirmed"]);
    assert!(
        outbox.as_array().is_some_and(|a| a
            .iter()
            .any(|e| e["channel"] == "telegram" && e["attempts"] == 2)),
        "the throttled message was retried: {outbox}"
    );

    // A receipt code: joins and stamps once; a second person gets a clear no.
    let code = shop
        .run(&["codes", "generate", "--template", "1", "--count", "1"])
        .ok()
        .stdout;
    let code = code.trim();
    fake.message(5002, "Omar", "en", &format!("/start r{code}"));
    let reply = fake.wait_for_text(5002, "Coffee card");
    assert!(reply.contains("1/8"), "{reply}");
    fake.message(5003, "Ivy", "en", &format!("/start r{code}"));
    let no = fake.wait_for_text(5003, "Sorry");
    assert!(no.contains("already"), "{no}");

    // Buttons only ever show the presser's own cards.
    fake.press(5003, "Ivy", &format!("card:{lena}"));
    fake.wait_for_text(5003, "out of date");
    assert!(!fake.texts_to(5003).iter().any(|t| t.contains("Lena")));
    // Garbage is answered, nothing breaks.
    fake.message(5003, "Ivy", "en", "/start j999999");
    fake.wait_for_text(5003, "not found");
    fake.message(5003, "Ivy", "en", "hello?");
    fake.wait_for_text(5003, "did not understand");
    server.stop();
}
