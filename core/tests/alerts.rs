//! Fraud alerts on the clock seam: each rule of `[alerts]` fires once for
//! its evidence — journaled as `alert_raised`, one outbox entry to the
//! owner's route — and later evidence of the same rule and subject within
//! the hour is added to that alert, not sent again; an ordinary day raises
//! none; the dry run over the journal finds what the consumer raised.
mod backend;

mod coffee;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use stampcard_core::Shop;
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::consumers::{AlertWatch, run_consumer};
use stampcard_core::model::{Actor, Card, EventKind, Reward, Role};
use stampcard_core::opening_hours::OpeningHours;
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{JournalQuery, TemplateDraft};
use stampcard_core::store::SledOptions;

/// Monday 2026-11-30, 10:00 UTC (the test shop's time zone is UTC).
const MONDAY: &str = "2026-11-30T10:00:00Z";
const CHAT: &str = "-1002000000001";

struct Fixture {
    shop: Shop,
    clock: Arc<ManualClock>,
    stop: tokio::sync::watch::Sender<bool>,
    consumer: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn open() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(MONDAY.parse().expect("time")));
    let mut settings = ShopSettings::for_tests();
    let hours: std::collections::BTreeMap<String, String> =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| (d.to_string(), "07:00-19:00".to_string()))
            .collect();
    settings.opening_hours = OpeningHours::parse(&hours).expect("hours");
    let shop = backend::open(dir.path(), settings, clock.clone(), SledOptions::default())
        .await
        .expect("open");
    // The consumer starts at the present, as `serve` starts it.
    stampcard_core::consumers::start_cursor(shop.context(), "alerts")
        .await
        .expect("cursor");
    let (stop, rx) = tokio::sync::watch::channel(false);
    let watch = Arc::new(AlertWatch::new(vec![("telegram".into(), CHAT.into())]));
    let ctx = shop.context().clone();
    let consumer = tokio::spawn(async move {
        run_consumer(ctx, watch, rx).await.expect("alerts consumer");
    });
    Fixture {
        shop,
        clock,
        stop,
        consumer,
        _dir: dir,
    }
}

impl Fixture {
    /// Waits until the consumer handled every event so far.
    async fn settled(&self) {
        let last = self.shop.store().last_event_id();
        for _ in 0..500 {
            if self
                .shop
                .journal()
                .consumer_cursor("alerts")
                .expect("cursor")
                >= last
            {
                // Its write (alerts, events) landed with the cursor.
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        panic!("the alerts consumer did not catch up to event {last}");
    }

    fn raised(&self) -> Vec<(String, String, Vec<u64>)> {
        self.shop
            .journal()
            .journal(&JournalQuery {
                kind: Some("alert_raised".into()),
                limit: 1000,
                ..Default::default()
            })
            .expect("journal")
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::AlertRaised {
                    rule,
                    subject,
                    cards,
                    ..
                } => Some((rule, subject, cards)),
                _ => None,
            })
            .collect()
    }

    fn messages(&self) -> Vec<String> {
        self.shop
            .outbox()
            .entries(None, 1000)
            .expect("outbox")
            .into_iter()
            .filter(|e| e.message.recipient == CHAT)
            .map(|e| e.message.text)
            .collect()
    }

    fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    fn set(&self, at: &str) {
        self.clock.set(at.parse::<DateTime<Utc>>().expect("time"));
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.consumer.await;
        self.shop.shutdown().await;
    }
}

fn admin() -> Actor {
    Actor::Cli {
        user: "owner".into(),
    }
}

fn staff(id: u64, name: &str) -> Actor {
    Actor::Staff {
        id,
        name: name.into(),
        role: Role::Staff,
    }
}

async fn template(shop: &Shop, stamps: u32, voucher: bool, rotating: bool) -> u64 {
    let reward = match voucher {
        true => Reward::Voucher {
            description: "A free coffee".into(),
            valid_days: 30,
        },
        false => Reward::Simple {
            description: "A free coffee".into(),
        },
    };
    let mut draft = TemplateDraft::new("Coffee", "Shop", stamps, reward);
    draft.rules.rotating_codes = rotating;
    shop.templates()
        .create_template(draft, &admin())
        .await
        .expect("template")
        .id
}

async fn card(shop: &Shop, template: u64, name: &str) -> Card {
    coffee::card_for(shop, template, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_fires_once_for_its_evidence() {
    let f = open().await;
    let shop = &f.shop;
    let cards = shop.cards();
    let plain = template(shop, 100, false, false).await;

    // An ordinary morning: a few stamps on a few cards by two people.
    let regulars: Vec<Card> = futures_cards(shop, plain, 6).await;
    for (i, c) in regulars.iter().enumerate() {
        f.advance(240);
        let who = staff(1 + i as u64 % 2, if i % 2 == 0 { "Jules" } else { "Maya" });
        cards.stamp_card(c.id, 1, None, &who).await.expect("stamp");
    }
    f.settled().await;
    assert!(
        f.raised().is_empty(),
        "an ordinary morning: {:?}",
        f.raised()
    );

    // 1. More than 10 stamps on one card within 10 minutes (Jules).
    let hot = card(shop, plain, "Friend of Jules").await;
    for _ in 0..11 {
        f.advance(30);
        cards
            .stamp_card(hot.id, 1, None, &staff(1, "Jules"))
            .await
            .expect("stamp");
    }
    f.settled().await;
    assert_eq!(
        f.raised(),
        vec![(
            "card_stamps".to_string(),
            format!("card {}", hot.id),
            vec![hot.id]
        )]
    );
    // A 12th: evidence for the same alert, no new one, no new message.
    f.advance(30);
    cards
        .stamp_card(hot.id, 1, None, &staff(1, "Jules"))
        .await
        .expect("stamp");
    f.settled().await;
    assert_eq!(f.raised().len(), 1);
    assert_eq!(f.messages().len(), 1, "{:?}", f.messages());
    assert!(f.messages()[0].contains("11 stamps"), "{:?}", f.messages());
    let listed = shop.alerts().list().expect("alerts");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].alert.findings, 2, "{listed:?}");
    assert_eq!(listed[0].alert.times.len(), 12, "{listed:?}");

    // 2. A stamp outside opening hours (03:10 on Tuesday).
    f.set("2026-12-01T03:10:00Z");
    cards
        .stamp_card(regulars[0].id, 1, None, &staff(2, "Maya"))
        .await
        .expect("stamp (the template alerts, it does not refuse)");
    f.settled().await;
    assert_eq!(f.raised().len(), 2);
    assert_eq!(f.raised()[1].0, "outside_hours");
    assert_eq!(f.raised()[1].1, "Maya");

    // 3. Maya's usual hours (4 stamps each on 5 mornings), then an hour of
    // 21 stamps on 21 cards: above 3 × 4 and at least 20.
    for day in 2..=6 {
        f.set(&format!("2026-12-0{day}T09:00:00Z"));
        for c in regulars.iter().take(4) {
            f.advance(600);
            cards
                .stamp_card(c.id, 1, None, &staff(2, "Maya"))
                .await
                .expect("stamp");
        }
    }
    f.settled().await;
    assert_eq!(f.raised().len(), 2, "usual hours: {:?}", f.raised());
    f.set("2026-12-07T14:00:00Z");
    let many = futures_cards(shop, plain, 21).await;
    for c in &many {
        f.advance(120);
        cards
            .stamp_card(c.id, 1, None, &staff(2, "Maya"))
            .await
            .expect("stamp");
    }
    f.settled().await;
    assert_eq!(f.raised().len(), 3, "{:?}", f.raised());
    assert_eq!(f.raised()[2].0, "staff_hour");
    assert_eq!(f.raised()[2].1, "Maya");

    // 4. A reward redeemed 3 minutes after the same person stamped it full.
    let vouchers = template(shop, 2, true, false).await;
    let friend = card(shop, vouchers, "Another friend").await;
    f.set("2026-12-08T11:00:00Z");
    cards
        .stamp_card(friend.id, 2, None, &staff(3, "Sam"))
        .await
        .expect("stamp");
    f.advance(180);
    let voucher = cards.card_view(friend.id).expect("view").vouchers[0].id;
    cards
        .redeem_voucher(voucher, &staff(3, "Sam"))
        .await
        .expect("redeem");
    // Someone else redeeming right away is no alert.
    let other = card(shop, vouchers, "A regular").await;
    cards
        .stamp_card(other.id, 2, None, &staff(3, "Sam"))
        .await
        .expect("stamp");
    let voucher = cards.card_view(other.id).expect("view").vouchers[0].id;
    cards
        .redeem_voucher(voucher, &staff(1, "Jules"))
        .await
        .expect("redeem");
    f.settled().await;
    assert_eq!(f.raised().len(), 4, "{:?}", f.raised());
    assert_eq!(
        f.raised()[3],
        (
            "quick_redeem".to_string(),
            "Sam".to_string(),
            vec![friend.id]
        )
    );

    // 5. More than 10 new cards from one network address in an hour.
    for _ in 0..12 {
        f.advance(60);
        shop.access()
            .count_address("join", "203.0.113.9")
            .await
            .expect("count");
    }
    f.settled().await;
    assert_eq!(f.raised().len(), 5, "{:?}", f.raised());
    assert_eq!(f.raised()[4].0, "address");
    assert_eq!(f.raised()[4].1, "203.0.113.9");

    // 6. Five wrong PINs in a row at the kiosk.
    for _ in 0..5 {
        f.advance(5);
        shop.access()
            .check_pin("0000", "kiosk", &Actor::channel("kiosk"))
            .await
            .expect("check");
    }
    f.settled().await;
    assert_eq!(f.raised().len(), 6, "{:?}", f.raised());
    assert_eq!(f.raised()[5].0, "failed_pins");

    // 7. Six replays of a screenshot of a rotating code within 10 minutes.
    let rotating = template(shop, 10, false, true).await;
    let shown = card(shop, rotating, "Screenshot owner").await;
    f.set("2026-12-09T12:00:00Z");
    let code = stampcard_core::rotating::code(
        &shop.settings().secret,
        shown.id,
        shown.counter,
        f.clock.now(),
    );
    cards
        .stamp_code(&code, 1, None, &staff(1, "Jules"))
        .await
        .expect("the first scan stamps");
    for _ in 0..6 {
        f.advance(5);
        assert!(
            cards
                .stamp_code(&code, 1, None, &staff(1, "Jules"))
                .await
                .is_err()
        );
    }
    f.settled().await;
    assert_eq!(f.raised().len(), 7, "{:?}", f.raised());
    assert_eq!(f.raised()[6].0, "bad_codes");

    // One message per alert, to the staff chat; the badge counts them
    // until they are acknowledged (by an admin).
    assert_eq!(f.messages().len(), 7, "{:?}", f.messages());
    assert_eq!(shop.alerts().unacknowledged().expect("count"), 7);
    let first = shop.alerts().list().expect("alerts")[6].alert.id;
    assert!(
        shop.alerts()
            .acknowledge(first, &staff(1, "Jules"))
            .await
            .is_err(),
        "staff cannot acknowledge"
    );
    shop.alerts()
        .acknowledge(first, &admin())
        .await
        .expect("acknowledge");
    assert_eq!(shop.alerts().unacknowledged().expect("count"), 6);
    let acked = shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("alert_acknowledged".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(acked.len(), 1);
    assert_eq!(
        acked[0].kind,
        EventKind::AlertAcknowledged { alert_id: first }
    );
    // Acknowledging it again changes nothing.
    shop.alerts()
        .acknowledge(first, &admin())
        .await
        .expect("again");
    assert_eq!(shop.alerts().unacknowledged().expect("count"), 6);
    assert!(shop.alerts().acknowledge(9999, &admin()).await.is_err());

    // The dry run over the whole journal finds the same seven.
    let found: Vec<String> = shop
        .alerts()
        .replay(MONDAY.parse().expect("time"))
        .expect("replay")
        .iter()
        .map(|x| x.rule.name().to_string())
        .collect();
    let live: Vec<String> = f.raised().into_iter().map(|r| r.0).collect();
    assert_eq!(found, live);
    f.stop().await;
}

/// `n` cards of a template for new customers.
async fn futures_cards(shop: &Shop, template: u64, n: usize) -> Vec<Card> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(card(shop, template, &format!("Guest {i}")).await);
    }
    out
}

/// A flood of one rule (a script stamping 25 cards eleven times each) is
/// 20 alerts and 20 messages, not 25: the rest is evidence of the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_one_rule_is_capped_at_twenty_alerts_an_hour() {
    let f = open().await;
    let shop = &f.shop;
    let plain = template(shop, 100, false, false).await;
    let cards = futures_cards(shop, plain, 25).await;
    for c in &cards {
        for _ in 0..11 {
            shop.cards()
                .stamp_card(c.id, 1, None, &Actor::channel("autopilot"))
                .await
                .expect("stamp");
        }
        f.advance(60);
    }
    f.settled().await;
    let raised = f.raised();
    assert_eq!(raised.len(), stampcard_core::alerts::book::PER_RULE_HOUR);
    assert!(raised.iter().all(|r| r.0 == "card_stamps"), "{raised:?}");
    assert_eq!(f.messages().len(), 20);
    let newest = &shop.alerts().list().expect("alerts")[0].alert;
    assert!(newest.cards.len() > 1, "the flood's cards: {newest:?}");
    f.stop().await;
}

/// A printed code with its MAC altered (and its check digit made right, so
/// it is no typo): refused as forged, journaled as such with the card
/// unchanged, and six of them within 10 minutes raise `bad_codes`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_printed_codes_are_journaled_and_count_as_bad_codes() {
    use stampcard_core::codes::{CodeKind, damm, signed_code};
    let f = open().await;
    let shop = &f.shop;
    let plain = template(shop, 10, false, false).await;
    let target = card(shop, plain, "Someone else's card").await;
    let real = signed_code(
        &shop.settings().secret,
        CodeKind::Card,
        target.id,
        target.counter,
    );
    // The code without its check digit, its last MAC digit changed.
    let body = &real[..real.len() - 1];
    let last = body.as_bytes()[body.len() - 1];
    let changed = if last == b'9' {
        '0'
    } else {
        (last + 1) as char
    };
    let altered = format!("{}{changed}", &body[..body.len() - 1]);
    let forged = format!("{altered}{}", damm(&altered));
    let jules = staff(1, "Jules");
    for _ in 0..6 {
        f.advance(20);
        let e = shop
            .cards()
            .stamp_code(&forged, 1, None, &jules)
            .await
            .expect_err("forged");
        assert_eq!(e.code(), "code_forged", "{e}");
    }
    assert_eq!(
        shop.cards().card(target.id).expect("card").lifetime_stamps,
        target.lifetime_stamps,
        "a forged code stamped"
    );
    let refused = shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("stamp_refused".into()),
            limit: 100,
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(refused.len(), 6);
    assert!(refused.iter().all(|e| e.card_id == Some(target.id)
        && matches!(&e.kind, EventKind::StampRefused { refusal: Some(r), .. } if r == "code_forged")));
    f.settled().await;
    let raised = f.raised();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].0, "bad_codes");
    assert_eq!(raised[0].2, vec![target.id]);
    // The real printed code still stamps.
    shop.cards()
        .stamp_code(&real, 1, None, &jules)
        .await
        .expect("the real code");
    f.stop().await;
}
