//! The Telegram bot end to end: the real binary's bot (teloxide) against a
//! fake Bot API server on 127.0.0.1, with the real core and store.

use std::time::Duration;

use stampcard_e2e::fake_telegram::FakeTelegram;
use stampcard_e2e::wait;

use crate::Shop;

fn card_id(text: &str) -> u64 {
    text.split("Card ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no card number in {text:?}"))
}

/// A demo shop served with its bot pointed at a fake Bot API server;
/// `throttle` keeps Telegram's real limits on the bot's replies.
fn shop_with_bot(throttle: bool) -> (Shop, FakeTelegram, crate::Server) {
    let shop = Shop::demo();
    let fake = FakeTelegram::start();
    let server = serve_with_bot(&shop, &fake, throttle);
    (shop, fake, server)
}

/// Serves `shop` with its bot pointed at `fake`.
fn serve_with_bot(shop: &Shop, fake: &FakeTelegram, throttle: bool) -> crate::Server {
    let throttle = if throttle { "true" } else { "false" };
    shop.serve(&[
        ("STAMPCARD_TELEGRAM__TOKEN", "123456:TEST-TOKEN"),
        ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        ("STAMPCARD_TELEGRAM__THROTTLE", throttle),
    ])
}

/// How many texts to `chat` contain `part`.
fn count(fake: &FakeTelegram, chat: i64, part: &str) -> usize {
    fake.texts_to(chat)
        .iter()
        .filter(|t| t.contains(part))
        .count()
}

/// Waits (with a timeout) until `n` texts to `chat` contain `part`.
fn wait_count(fake: &FakeTelegram, chat: i64, part: &str, n: usize) {
    wait::until(
        Duration::from_secs(30),
        || (count(fake, chat, part) >= n).then_some(()),
        || format!("{part} x{n}: {:?}", fake.texts_to(chat)),
    );
}

/// Waits for a picture to `chat` beyond the first `before` and returns it.
fn wait_for_picture(fake: &FakeTelegram, chat: i64, before: usize) -> Vec<u8> {
    wait::until(
        Duration::from_secs(30),
        || fake.pictures_to(chat).get(before).cloned(),
        || format!("no new picture to {chat}: {:?}", fake.texts_to(chat)),
    )
}

/// What a QR picture says, read by an independent decoder.
fn scan_qr(png: &[u8]) -> String {
    let img = image::load_from_memory(png).expect("PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    let (_, text) = grids
        .first()
        .expect("a QR code in the picture")
        .decode()
        .expect("a readable QR code");
    text
}

#[test]
fn customers_join_claim_and_get_news_in_telegram() {
    let (shop, fake, server) = shop_with_bot(true);

    // Join by the QR code's deep link: the card comes in one reply.
    fake.message(5001, "Lena", "en", "/start j1_table");
    let reply = fake.wait_for_text(5001, "Coffee card");
    assert!(reply.contains("○○○○○○○○ 0/8"), "{reply}");
    let lena = card_id(&reply);
    // The shop offers no wallet: the card comes without wallet buttons.
    let buttons = fake.url_buttons_to(5001);
    assert!(
        buttons.iter().any(|(_, url)| url.contains("/c/")),
        "{buttons:?}"
    );
    assert!(!format!("{buttons:?}").contains("Wallet"), "{buttons:?}");
    // The picture is the QR code of the card code, for staff to scan.
    let png = fake.pictures_to(5001).pop().expect("a card picture");
    assert_eq!(scan_qr(&png), shop.card_code(lena));
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
    let again = wait::until(
        Duration::from_secs(30),
        || fake.texts_to(5001).get(1).cloned(),
        || format!("no second card: {:?}", fake.texts_to(5001)),
    );
    assert_eq!(card_id(&again), lena);

    // The counter stamps her card: the news reaches her chat, even through
    // a 429 from Telegram (retried after retry_after, not lost).
    fake.throttle_next("sendMessage", 1);
    shop.run(&["stamp", &shop.card_code(lena)]).ok();
    let news = fake.wait_for_text(5001, "A stamp was added");
    assert!(news.contains("1/8"), "{news}");
    // Telegram has the message before its entry is marked confirmed: wait
    // for the mark.
    stampcard_e2e::wait::until(
        Duration::from_secs(20),
        || {
            let outbox = shop.json(&["outbox", "list", "--state", "confirmed"]);
            outbox
                .as_array()
                .is_some_and(|a| {
                    a.iter()
                        .any(|e| e["channel"] == "telegram" && e["attempts"] == 2)
                })
                .then_some(())
        },
        || {
            format!(
                "the throttled message was not retried and confirmed: {}",
                shop.json(&["outbox", "list"])
            )
        },
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
    let gone = fake.wait_for_text(5003, "not offered");
    assert!(
        !gone.contains("999999") && !gone.contains("template"),
        "no internals in what a customer reads: {gone}"
    );
    fake.message(5004, "Иван", "ru", "/start j999999");
    let gone = fake.wait_for_text(5004, "больше не действует");
    assert!(gone.starts_with("Не получилось"), "{gone}");
    fake.message(5003, "Ivy", "en", "hello?");
    fake.wait_for_text(5003, "did not understand");
    server.stop();
}

#[test]
fn lottery_consent_export_and_forget_in_telegram() {
    let (shop, fake, server) = shop_with_bot(false);
    // Join the lottery card (template 2) and reach its goal at the counter.
    fake.message(6001, "Aiko", "en", "/start j2");
    let card = card_id(&fake.wait_for_text(6001, "Bakery lucky draw"));
    let goal = shop.json(&["template", "show", "2"])["template"]["stamps_required"]
        .as_u64()
        .expect("stamps");
    shop.run(&["stamp", &shop.card_code(card), "--count", &goal.to_string()])
        .ok();
    fake.message(6001, "Aiko", "en", "/cards");
    fake.wait_for_text(6001, "lottery spin(s) waiting");
    // The Spin button pressed twice: one prize.
    fake.press(6001, "Aiko", &format!("spin:{card}"));
    fake.press(6001, "Aiko", &format!("spin:{card}"));
    fake.wait_for_text(6001, "You won");
    fake.wait_for_text(6001, "Sorry");
    let wins = fake
        .texts_to(6001)
        .iter()
        .filter(|t| t.contains("You won"))
        .count();
    assert_eq!(wins, 1, "{:?}", fake.texts_to(6001));
    let plays = shop.json(&[
        "journal",
        "--card",
        &card.to_string(),
        "--type",
        "lottery_played",
    ]);
    assert_eq!(plays.as_array().map(|a| a.len()), Some(1));

    // The won voucher: its code as text and as a QR picture, with its expiry.
    let before = fake.pictures_to(6001).len();
    fake.press(6001, "Aiko", &format!("vouchers:{card}"));
    let voucher = fake.wait_for_text(6001, "Show this at the counter");
    assert!(
        voucher.contains("Valid until") || voucher.contains("No expiry"),
        "{voucher}"
    );
    let code = voucher
        .split("Code: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("voucher code")
        .to_string();
    let png = wait_for_picture(&fake, 6001, before);
    assert_eq!(scan_qr(&png), code);
    shop.run(&["redeem", &code]).ok();

    // /stop withdraws marketing consent; card news still comes.
    fake.message(6001, "Aiko", "en", "/stop");
    fake.wait_for_text(6001, "no more news");
    let customer = shop.json(&["card", "show", &card.to_string()])["customer_id"]
        .as_u64()
        .expect("customer");
    let c = shop.json(&["customer", "show", &customer.to_string()]);
    assert_eq!(c["customer"]["consent_telegram"]["granted"], false, "{c}");
    // Shop news (the console's "send message", here from the CLI) no longer
    // reaches the chat; card news still does.
    let sent = shop
        .run(&[
            "card",
            "message",
            &card.to_string(),
            "--text",
            "Sale on Sunday",
        ])
        .ok();
    assert!(sent.stdout.contains("Not sent"), "{}", sent.stdout);
    shop.run(&["stamp", &shop.card_code(card)]).ok();
    fake.wait_for_text(6001, "A stamp was added");
    assert!(
        !fake
            .texts_to(6001)
            .iter()
            .any(|t| t.contains("Sale on Sunday"))
    );
    // /news gives consent again: the next news arrives.
    fake.message(6001, "Aiko", "en", "/news");
    fake.wait_for_text(6001, "news from the shop again");
    let sent = shop
        .run(&[
            "card",
            "message",
            &card.to_string(),
            "--text",
            "Sale on Monday",
        ])
        .ok();
    assert!(sent.stdout.contains("telegram"), "{}", sent.stdout);
    fake.wait_for_text(6001, "Sale on Monday");

    // /export sends the data as a file.
    fake.message(6001, "Aiko", "en", "/export");
    let doc = wait::until(
        Duration::from_secs(30),
        || {
            fake.calls()
                .into_iter()
                .find(|c| c.method == "senddocument")
        },
        || "no document sent".into(),
    );
    assert!(
        doc.raw.contains("Aiko") && doc.raw.contains("my-data.json"),
        "{}",
        doc.raw
    );

    // /forget asks first; "yes" erases and voids the card.
    fake.message(6001, "Aiko", "en", "/forget");
    fake.wait_for_text(6001, "Delete your data?");
    fake.press(6001, "Aiko", "forget:yes");
    fake.wait_for_text(6001, "Your data is deleted");
    let after = shop.json(&["customer", "show", &customer.to_string()]);
    assert_eq!(after["customer"]["forgotten"], true, "{after}");
    assert_ne!(
        shop.run(&["stamp", &shop.card_code(card)]).code,
        0,
        "the card is void"
    );
    server.stop();
}

#[test]
fn the_bot_speaks_the_customers_language() {
    let (shop, fake, server) = shop_with_bot(false);
    fake.message(7001, "Ольга", "ru", "/start j1");
    let reply = fake.wait_for_text(7001, "Награда:");
    let card = reply
        .split("Карта ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("card number");
    shop.run(&["stamp", &shop.card_code(card)]).ok();
    fake.wait_for_text(7001, "добавлен штамп: 1/8");
    // A value the shop refuses is refused in her language, whole.
    fake.message(7001, "Ольга", "ru", "/phone abc");
    let refused = fake.wait_for_text(7001, "не номер телефона");
    assert!(
        stampcard_e2e::latin::stray_words(&refused, &[]) == vec!["abc".to_string()],
        "{refused}"
    );
    fake.message(7002, "Sam", "en-GB", "/help");
    fake.wait_for_text(7002, "I keep your stamp cards");
    // The command menu exists in both languages.
    let menus: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "setmycommands")
        .collect();
    assert!(menus.iter().any(|c| c.body["language_code"] == "ru"
        && c.body["commands"][0]["description"] == "Ваши карты и купоны"));
    assert!(menus.iter().any(|c| c.body["language_code"].is_null()));
    server.stop();
}

#[test]
fn customers_keep_their_profile_in_the_bot() {
    let (shop, fake, server) = shop_with_bot(false);
    fake.message(8001, "Anna", "en", "/start j1");
    let card = card_id(&fake.wait_for_text(8001, "Coffee card"));
    fake.message(8001, "Anna", "en", "/phone +49 170 5550101");
    wait_count(&fake, 8001, "Saved.", 1);
    fake.message(8001, "Anna", "en", "/email Anna@Example.com");
    fake.wait_for_text(8001, "news by email");
    fake.press(8001, "Anna", "consent:yes");
    fake.wait_for_text(8001, "noted");
    fake.message(8001, "Anna", "en", "/birthday 31.12.1990");
    fake.wait_for_text(8001, "is not a date");
    fake.message(8001, "Anna", "en", "/email not-an-email");
    fake.wait_for_text(8001, "is not an email address");
    // A huge message (Telegram allows 4,096 characters) is refused clearly.
    fake.message(8001, "Anna", "en", &format!("/name {}", "A".repeat(4000)));
    fake.wait_for_text(8001, "at most 100");
    fake.message(8001, "Anna", "en", "/birthday 1990-05-17");
    wait_count(&fake, 8001, "Saved.", 3);
    fake.message(8001, "Anna", "en", "/language ru");
    fake.wait_for_text(8001, "Сохранено.");
    fake.message(8001, "Anna", "en", "/profile");
    let profile = fake.wait_for_text(8001, "Ваш профиль");
    assert!(
        profile.contains("+491705550101") && profile.contains("anna@example.com"),
        "{profile}"
    );
    assert!(
        profile.contains("1990-05-17") && profile.contains("Новости по email: да"),
        "{profile}"
    );
    let customer = shop.json(&["card", "show", &card.to_string()])["customer_id"]
        .as_u64()
        .expect("id");
    let c = shop.json(&["customer", "show", &customer.to_string()]);
    assert_eq!(c["customer"]["consent_email"]["granted"], true, "{c}");
    assert_eq!(c["customer"]["email"], "anna@example.com");
    assert_eq!(c["customer"]["name"], "Anna");
    server.stop();
}

#[test]
fn replies_keep_telegrams_limit_of_one_a_second_per_chat() {
    let (_shop, fake, server) = shop_with_bot(true);
    fake.message(9001, "Noor", "en", "/start j1");
    fake.wait_for_text(9001, "Coffee card");
    // Telegram answers one of them 429: it goes again after retry_after.
    fake.throttle_next("sendMessage", 1);
    for _ in 0..3 {
        fake.message(9001, "Noor", "en", "/help");
    }
    let sends_to_noor = || -> Vec<_> {
        fake.calls()
            .into_iter()
            .filter(|c| c.method.starts_with("send") && c.body["chat_id"].as_i64() == Some(9001))
            .collect()
    };
    let sends = wait::until(
        Duration::from_secs(30),
        || Some(sends_to_noor()).filter(|s| s.len() >= 4),
        || format!("{:?}", sends_to_noor()),
    );
    // The limiter spaces them by a second; arrival here may jitter a little.
    for pair in sends.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap.as_millis() >= 800, "replies {gap:?} apart");
    }
    assert_eq!(count(&fake, 9001, "I keep your stamp cards"), 3);
    server.stop();
}

#[test]
fn questions_and_voucher_reminders_survive_a_restart() {
    let (shop, fake, server) = shop_with_bot(false);
    fake.message(9101, "Anna", "en", "/start j1");
    let card = card_id(&fake.wait_for_text(9101, "Coffee card"));
    fake.message(9101, "Anna", "en", "/name");
    fake.wait_for_text(9101, "What is your name?");
    // A sticker is no answer: asked again, nothing changed.
    fake.sticker(9101, "Anna");
    fake.wait_for_text(9101, "answer with text");
    // A coupon that expires in two days (reminders go out three days ahead,
    // when the server starts and every hour).
    shop.run(&[
        "card",
        "coupon",
        &card.to_string(),
        "--description",
        "Cake",
        "--valid-days",
        "2",
    ])
    .ok();
    fake.wait_for_text(9101, "New voucher");
    server.stop();

    // After a restart the bot still knows what it asked, and the holder is
    // reminded of the expiring voucher, once.
    let server = serve_with_bot(&shop, &fake, false);
    let reminder = fake.wait_for_text(9101, "expires on");
    assert!(reminder.contains("Cake"), "{reminder}");
    fake.message(9101, "Anna", "en", "Anna Maria Berg");
    fake.wait_for_text(9101, "Saved.");
    let customer = shop.json(&["card", "show", &card.to_string()])["customer_id"]
        .as_u64()
        .expect("id");
    let c = shop.json(&["customer", "show", &customer.to_string()]);
    assert_eq!(c["customer"]["name"], "Anna Maria Berg", "{c}");

    // The question is over: the same text again is not understood.
    fake.message(9101, "Anna", "en", "Anna Maria Berg");
    fake.wait_for_text(9101, "did not understand");
    // A command ends an open question; /cancel says nothing changed.
    fake.message(9101, "Anna", "en", "/phone");
    fake.wait_for_text(9101, "Your phone number");
    fake.message(9101, "Anna", "en", "/cancel");
    fake.wait_for_text(9101, "nothing changed");
    fake.message(9101, "Anna", "en", "+49 170 5550101");
    wait_count(&fake, 9101, "did not understand", 2);
    assert_eq!(count(&fake, 9101, "Saved."), 1);
    let c = shop.json(&["customer", "show", &customer.to_string()]);
    assert!(c["customer"]["phone"].is_null(), "{c}");
    // /help is generated from the commands, unknown commands get a pointer.
    fake.message(9101, "Anna", "en", "/dance");
    wait_count(&fake, 9101, "did not understand", 3);
    fake.message(9101, "Anna", "en", "/help");
    let help = fake.wait_for_text(9101, "I keep your stamp cards");
    for c in ["/cards", "/profile", "/name", "/cancel", "/forget"] {
        assert!(help.contains(c), "{help}");
    }
    server.stop();
    assert_eq!(count(&fake, 9101, "expires on"), 1);
}

#[test]
fn a_voucher_comes_as_the_barcode_its_template_asks_for() {
    let (shop, fake, server) = shop_with_bot(false);
    let file = shop.path("code128.toml");
    std::fs::write(
        &file,
        "name = \"Tea card\"\nbusiness_name = \"Tea bar\"\nstamps_required = 1\n\
         [reward]\nkind = \"redeem_code\"\ndescription = \"A pot of tea\"\nvalid_days = 30\nformat = \"code128\"\n",
    )
    .unwrap();
    let t = shop.json(&["template", "create", "--file", file.to_str().unwrap()]);
    let template = t["id"]
        .as_u64()
        .or(t["template"]["id"].as_u64())
        .expect("id");
    fake.message(9201, "Ravi", "en", &format!("/start j{template}"));
    let card = card_id(&fake.wait_for_text(9201, "Tea card"));
    shop.run(&["stamp", &shop.card_code(card)]).ok();
    fake.wait_for_text(9201, "New voucher");
    let before = fake.pictures_to(9201).len();
    fake.press(9201, "Ravi", &format!("vouchers:{card}"));
    let voucher = fake.wait_for_text(9201, "A pot of tea\nCode:");
    // A barcode, not a QR code: wide and low (PNG header: width, height).
    let png = wait_for_picture(&fake, 9201, before);
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 2 * height, "{width}x{height}: {voucher}");
    server.stop();
}

#[test]
fn a_campaign_reaches_telegram_holders_with_consent_through_a_429() {
    let (shop, fake, server) = shop_with_bot(true);
    fake.message(6001, "Lena", "en", "/start j1");
    fake.wait_for_text(6001, "Coffee card");
    fake.message(6002, "Omar", "en", "/start j1");
    fake.wait_for_text(6002, "Coffee card");
    // Omar opts out of shop news: the campaign must not reach him.
    fake.message(6002, "Omar", "en", "/stop");
    wait::until(
        Duration::from_secs(30),
        || (fake.texts_to(6002).len() >= 2).then_some(()),
        || format!("no answer to /stop: {:?}", fake.texts_to(6002)),
    );
    let created = shop.json(&[
        "campaign",
        "create",
        "--template",
        "1",
        "--channels",
        "telegram",
        "--text",
        "**Cinnamon buns** all weekend!",
    ]);
    assert_eq!(
        created["audience"]["per_channel"]["telegram"], 1,
        "{created}"
    );
    fake.throttle_next("sendMessage", 1);
    let sent = shop.json(&["campaign", "send", "1"]);
    assert_eq!(sent["messages"], 1, "{sent}");
    fake.wait_for_text(6001, "Cinnamon buns");
    let status = wait::until(
        Duration::from_secs(30),
        || {
            let s = shop.json(&["campaign", "show", "1"]);
            (s["status"]["deliveries"]["telegram"]["confirmed"] == 1).then_some(s)
        },
        || format!("{}", shop.json(&["campaign", "show", "1"])),
    );
    let holders = status["status"]["campaign"]["recipients"].as_u64();
    assert_eq!(holders, Some(1), "{status}");
    assert_eq!(
        count(&fake, 6002, "Cinnamon"),
        0,
        "no shop news after /stop"
    );
    assert_eq!(count(&fake, 6001, "Cinnamon"), 1, "once, after the 429");
    // The shop's markup arrives as Telegram HTML.
    let call = fake
        .calls()
        .into_iter()
        .find(|c| {
            c.body["chat_id"].as_i64() == Some(6001)
                && c.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Cinnamon"))
        })
        .expect("the campaign message");
    assert_eq!(call.body["text"], "<b>Cinnamon buns</b> all weekend!");
    assert_eq!(call.body["parse_mode"], "HTML");
    server.stop();
}

#[test]
fn a_card_joined_on_the_web_opens_in_telegram_from_its_page() {
    let (shop, fake, server) = shop_with_bot(false);
    let joined = server.request(
        "POST",
        "/j/1",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("name=Nia+Web"),
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let location = joined
        .head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("location")
        .to_string();
    let (status, page) = server.get(&location);
    assert_eq!(status, 200);
    // The page links to the shop's bot (its name from getMe) with the card.
    let link = page
        .split("href=\"https://t.me/stampcard_test_bot?start=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no Open in Telegram link: {page}"))
        .to_string();
    assert!(page.contains("Open in Telegram"), "{page}");
    let token = location
        .trim_start_matches("/c/")
        .split('?')
        .next()
        .unwrap_or_default();
    assert_eq!(link, format!("c{token}"));
    let card = token.split('-').next().unwrap_or_default().to_string();

    // Following it in Telegram shows that card and links the chat to its holder.
    fake.message(7001, "Nia", "en", &format!("/start {link}"));
    let reply = fake.wait_for_text(7001, "Coffee card");
    assert_eq!(card_id(&reply).to_string(), card, "{reply}");
    let shown = shop.json(&["card", "show", &card]);
    let customer = shown["customer_id"].to_string();
    assert!(
        shown["platforms"].to_string().contains("telegram"),
        "{shown}"
    );
    let c = shop.json(&["customer", "show", &customer]);
    assert_eq!(c["customer"]["telegram_id"], 7001, "{c}");

    // Another Telegram account with the same link, or one with its own
    // cards: refused, nothing changes.
    fake.message(7002, "Eve", "en", &format!("/start {link}"));
    let no = fake.wait_for_text(7002, "Sorry");
    assert!(no.contains("another Telegram account"), "{no}");
    fake.message(7003, "Max", "en", "/start j1");
    fake.wait_for_text(7003, "Coffee card");
    fake.message(7003, "Max", "en", &format!("/start {link}"));
    let no = fake.wait_for_text(7003, "Sorry");
    assert!(no.contains("its own cards"), "{no}");
    let c = shop.json(&["customer", "show", &customer]);
    assert_eq!(c["customer"]["telegram_id"], 7001, "{c}");
    server.stop();
}

#[test]
fn a_card_in_telegram_offers_the_shops_wallets() {
    let shop = Shop::demo();
    crate::wallet::configure(&shop, stampcard_e2e::test_pki::TEAM_ID);
    let (_, _google) = crate::wallet::configure_google(&shop);
    let fake = FakeTelegram::start();
    let server = serve_with_bot(&shop, &fake, false);

    fake.message(5101, "Mira", "en", "/start j1");
    fake.wait_for_text(5101, "Coffee card");
    let buttons = fake.url_buttons_to(5101);
    let url_of = |label: &str| {
        buttons
            .iter()
            .find(|(text, _)| text == label)
            .map(|(_, url)| url[url.find("/c/").expect("a card link")..].to_string())
            .unwrap_or_else(|| panic!("no {label} button: {buttons:?}"))
    };
    // Both buttons open the web card's own links: the signed pass, and a
    // forward to Google's save page.
    let pass = server.request("GET", &url_of("Add to Apple Wallet"), &[], None);
    assert_eq!(pass.status, 200);
    assert!(
        pass.head
            .contains("content-type: application/vnd.apple.pkpass"),
        "{}",
        pass.head
    );
    let google = server.request("GET", &url_of("Save to Google Wallet"), &[], None);
    assert_eq!(google.status, 303);
    assert!(
        google
            .head
            .contains("location: https://pay.google.com/gp/v/save/"),
        "{}",
        google.head
    );

    // In the customer's language.
    fake.message(5102, "Лев", "ru", "/start j1");
    fake.wait_for_text(5102, "Coffee card");
    let buttons = format!("{:?}", fake.url_buttons_to(5102));
    assert!(buttons.contains("Добавить в Apple Wallet"), "{buttons}");
    assert!(buttons.contains("Сохранить в Google Wallet"), "{buttons}");
    server.stop();
}

#[test]
fn codes_typed_or_pasted_as_text_are_understood() {
    let (shop, fake, server) = shop_with_bot(false);
    fake.message(7001, "Rosa", "en", "/start j1");
    let card = card_id(&fake.wait_for_text(7001, "Coffee card"));
    // A receipt code typed as printed, in groups with dashes: claimed once.
    let receipt = shop
        .run(&["codes", "generate", "--template", "1", "--count", "1"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let grouped: Vec<String> = receipt
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .collect();
    fake.message(7001, "Rosa", "en", &grouped.join("-"));
    wait_count(&fake, 7001, "1/8", 1);
    assert_eq!(shop.stamps(card), 1);
    fake.message(7001, "Rosa", "en", &grouped.join(" "));
    let used = fake.wait_for_text(7001, "used already");
    assert!(!used.contains("did not understand"), "{used}");
    assert_eq!(shop.stamps(card), 1);
    // Her own card code pasted with spaces shows her card.
    let code = shop.card_code(card);
    let before = count(&fake, 7001, &format!("Card {card}"));
    fake.message(
        7001,
        "Rosa",
        "en",
        &format!("{} {}", &code[..10], &code[10..]),
    );
    wait_count(&fake, 7001, &format!("Card {card}"), before + 1);
    // Someone else's card: refused, without their name.
    fake.message(7001, "Rosa", "en", &shop.card_code(100001));
    let other = fake.wait_for_text(7001, "another customer");
    assert!(!other.contains("Mira"), "{other}");
    // In Russian: a typo and a forgery, told apart, in Russian.
    fake.message(7002, "Вера", "ru", "/start j1");
    fake.wait_for_text(7002, "Coffee card");
    let mut typo = shop.card_code(100001).into_bytes();
    typo[5] = if typo[5] == b'9' { b'0' } else { typo[5] + 1 };
    fake.message(7002, "Вера", "ru", &String::from_utf8_lossy(&typo));
    fake.wait_for_text(7002, "опечатка");
    fake.message(7002, "Вера", "ru", "1000100001000000000");
    let forged = fake.wait_for_text(7002, "не наш код");
    assert!(forged.starts_with("Не получилось"), "{forged}");
    server.stop();
}
