//! Campaigns on the real store with the clock seam: segments resolved on
//! crafted cards, the audience after consent, the frequency cap, quiet
//! hours, n/a for channels that do not reach, and bad input refused.
mod backend;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use stampcard_core::Shop;
use stampcard_core::actors::CardCommand;
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::consumers::Route;
use stampcard_core::model::{
    Actor, CampaignState, CampaignVoucher, Card, Customer, CustomerFields, EventKind, NewEvent,
    Reward, Segment, VoucherOrigin,
};
use stampcard_core::outbox::Purpose;
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{CampaignDraft, IssueCard, JournalQuery, TemplateDraft};
use stampcard_core::store::{Mutation, SledOptions};

/// Email with consent for marketing, like the email channel.
struct Mail;

impl Route for Mail {
    fn channel(&self) -> &str {
        "email"
    }
    fn recipient(&self, c: &Customer, _card: &Card, purpose: Purpose) -> Option<String> {
        let consent = c.consent_email.as_ref().is_some_and(|x| x.granted);
        (purpose == Purpose::Transactional || consent)
            .then(|| c.email.clone())
            .flatten()
    }
}

fn admin() -> Actor {
    Actor::Cli {
        user: "owner".into(),
    }
}

struct Rig {
    shop: Shop,
    clock: Arc<ManualClock>,
    template: u64,
    routes: Vec<Arc<dyn Route>>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0: DateTime<Utc> = "2026-06-10T10:00:00Z".parse().expect("time");
    let clock = Arc::new(ManualClock::new(t0 - Duration::days(40)));
    let mut settings = ShopSettings::for_tests();
    settings.campaigns.quiet_hours = Some((
        NaiveTime::from_hms_opt(21, 0, 0).expect("time"),
        NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
    ));
    let shop = crate::backend::open(dir.path(), settings, clock.clone(), SledOptions::default())
        .await
        .expect("open");
    let reward = Reward::Simple {
        description: "Coffee".into(),
    };
    let template = shop
        .templates()
        .create_template(TemplateDraft::new("Coffee", "Shop", 5, reward), &admin())
        .await
        .expect("template")
        .id;
    let person = |name: &str, email: Option<&str>, consent: Option<bool>, birthday: &str| {
        IssueCard::New(CustomerFields {
            name: name.into(),
            email: email.map(str::to_string),
            consent_email: consent,
            birthday: birthday.parse().ok(),
            ..Default::default()
        })
    };
    // Dora joined 40 days ago and never came back.
    let owner = admin();
    let issue = |holder| {
        shop.cards()
            .issue_card(template, holder, None, None, &owner)
    };
    issue(person(
        "Dora",
        Some("dora@example.org"),
        Some(true),
        "1990-01-02",
    ))
    .await
    .expect("card");
    clock.set(t0);
    let ana = issue(person(
        "Ana",
        Some("ana@example.org"),
        Some(true),
        "1991-06-20",
    ))
    .await
    .expect("card");
    issue(person("Ben", Some("ben@example.org"), Some(false), ""))
        .await
        .expect("card");
    issue(person("Cem", None, None, "")).await.expect("card");
    shop.cards()
        .stamp_card(ana.id, 4, None, &admin())
        .await
        .expect("stamps");
    Rig {
        shop,
        clock,
        template,
        routes: vec![Arc::new(Mail)],
        _dir: dir,
    }
}

/// The card of the customer with this name.
fn card_of(r: &Rig, name: &str) -> Card {
    r.shop
        .cards()
        .cards(Default::default())
        .expect("cards")
        .into_iter()
        .find(|card| {
            r.shop
                .customers()
                .customer(card.customer_id)
                .is_ok_and(|cu| cu.name == name)
        })
        .unwrap_or_else(|| panic!("{name}'s card"))
}

/// Creates a campaign and sends it (plans every message).
async fn create_and_send(r: &Rig, d: CampaignDraft) -> stampcard_core::model::Campaign {
    let c = r
        .shop
        .campaigns()
        .create_campaign(d, &admin())
        .await
        .expect("create");
    r.shop
        .campaigns()
        .send_campaign(c.id, &r.routes, &admin())
        .await
        .expect("send")
}

fn draft(r: &Rig, segment: Segment) -> CampaignDraft {
    CampaignDraft {
        name: None,
        template_id: r.template,
        segment,
        push_text: "Cake at 3!".into(),
        text: "Fresh cake from 3 pm.".into(),
        channels: vec!["email".into(), "wallet".into()],
        scheduled_for: None,
        voucher: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_resolve_on_the_cards_and_the_audience_counts_consent() {
    let r = rig().await;
    let email = vec!["email".to_string()];
    let audience = |seg| {
        r.shop
            .campaigns()
            .campaign_audience(r.template, seg, &email, &r.routes)
    };
    let all = audience(Segment::All).expect("audience");
    assert_eq!(all.cards, 4);
    assert_eq!(
        all.per_channel["email"], 2,
        "Ana and Dora consented; Ben did not, Cem has no email"
    );
    assert_eq!(
        audience(Segment::AlmostReady).expect("a").cards,
        1,
        "Ana 4/5"
    );
    assert_eq!(
        audience(Segment::BirthdayThisMonth).expect("a").cards,
        1,
        "Ana, June"
    );
    assert_eq!(
        audience(Segment::JoinedWithin { days: 30 })
            .expect("a")
            .cards,
        3
    );
    assert_eq!(
        audience(Segment::NotSeen { days: 30 }).expect("a").cards,
        1,
        "Dora"
    );
    assert_eq!(
        audience(Segment::VoucherExpiring { days: 7 })
            .expect("a")
            .cards,
        0
    );
    assert_eq!(
        Segment::parse("not-seen:30"),
        Ok(Segment::NotSeen { days: 30 })
    );
    assert!(Segment::parse("not-seen").is_err());
    assert!(Segment::parse("everyone").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_queues_one_message_per_reachable_recipient_under_the_frequency_cap() {
    let r = rig().await;
    let c = r
        .shop
        .campaigns()
        .create_campaign(draft(&r, Segment::All), &admin())
        .await
        .expect("create");
    assert_eq!(
        c.name,
        format!("{}_10.06.202610:00", r.template),
        "default name, shop-local"
    );
    assert_eq!(c.state, CampaignState::Draft);
    let sent = r
        .shop
        .campaigns()
        .send_campaign(c.id, &r.routes, &admin())
        .await
        .expect("send");
    assert_eq!((sent.recipients, sent.messages, sent.capped), (2, 2, 0));
    let status = r.shop.campaigns().campaign_status(c.id).expect("status");
    assert_eq!(status.deliveries["email"]["queued"], 2);
    assert_eq!(
        status.deliveries["wallet"]["n/a"], 2,
        "no wallet channel yet"
    );
    for e in r
        .shop
        .campaigns()
        .campaign_deliveries(c.id)
        .expect("deliveries")
    {
        assert_eq!(e.next_attempt_at, r.clock.now(), "outside quiet hours: now");
        assert_eq!(e.message.purpose, Purpose::Marketing);
    }
    assert!(
        r.shop
            .campaigns()
            .send_campaign(c.id, &r.routes, &admin())
            .await
            .is_err(),
        "sent once"
    );

    // The cap: two marketing messages per customer per 7 days.
    let second = create_and_send(&r, draft(&r, Segment::All)).await;
    assert_eq!(second.messages, 2);
    let third = create_and_send(&r, draft(&r, Segment::All)).await;
    assert_eq!(
        (third.messages, third.capped),
        (0, 2),
        "both customers are at the cap"
    );
    r.clock.advance(Duration::days(8));
    let fourth = create_and_send(&r, draft(&r, Segment::All)).await;
    assert_eq!(
        (fourth.messages, fourth.capped),
        (2, 0),
        "a week later they may hear again"
    );

    let journal = r
        .shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("campaign_sent".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(journal.len(), 4, "every campaign journaled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_messages_until_they_end() {
    let r = rig().await;
    r.clock.set("2026-06-10T22:30:00Z".parse().expect("time"));
    let c = create_and_send(&r, draft(&r, Segment::All)).await;
    let morning: DateTime<Utc> = "2026-06-11T09:00:00Z".parse().expect("time");
    for e in r
        .shop
        .campaigns()
        .campaign_deliveries(c.id)
        .expect("deliveries")
    {
        assert_eq!(e.next_attempt_at, morning, "quiet 21:00–09:00 shop time");
    }
    r.clock.set("2026-06-11T08:59:00Z".parse().expect("time"));
    assert_eq!(r.shop.campaigns().after_quiet_hours(r.clock.now()), morning);
    r.clock.set("2026-06-11T09:00:00Z".parse().expect("time"));
    assert_eq!(
        r.shop.campaigns().after_quiet_hours(r.clock.now()),
        morning,
        "09:00 is outside"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_campaigns_are_refused_and_nothing_is_stored() {
    let r = rig().await;
    let too_long = CampaignDraft {
        push_text: "This is far too long for a lock screen".into(),
        ..draft(&r, Segment::All)
    };
    let e = r
        .shop
        .campaigns()
        .create_campaign(too_long, &admin())
        .await
        .expect_err("too long");
    assert!(e.to_string().contains("at most 20"), "{e}");
    let fax = CampaignDraft {
        channels: vec!["fax".into()],
        ..draft(&r, Segment::All)
    };
    assert!(
        r.shop
            .campaigns()
            .create_campaign(fax, &admin())
            .await
            .is_err()
    );
    let nobody = CampaignDraft {
        template_id: 99,
        ..draft(&r, Segment::All)
    };
    assert!(
        r.shop
            .campaigns()
            .create_campaign(nobody, &admin())
            .await
            .is_err()
    );
    let staff = Actor::Staff {
        id: 2,
        name: "Jules".into(),
        role: stampcard_core::model::Role::Staff,
    };
    assert!(
        r.shop
            .campaigns()
            .create_campaign(draft(&r, Segment::All), &staff)
            .await
            .is_err()
    );
    assert!(
        r.shop.campaigns().campaigns().expect("list").is_empty(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_gets_their_own_voucher_once_even_when_planning_resumes() {
    let r = rig().await;
    let mut d = draft(&r, Segment::All);
    d.voucher = Some(CampaignVoucher {
        description: "Free cookie".into(),
        valid_days: 14,
    });
    let c = r
        .shop
        .campaigns()
        .create_campaign(d, &admin())
        .await
        .expect("create");
    // A crash after a batch's vouchers and before its messages: Ana's
    // voucher exists already when planning runs (again).
    let ana = card_of(&r, "Ana");
    let early = r
        .shop
        .cards()
        .command(
            ana.id,
            CardCommand::CampaignVoucher {
                campaign_id: c.id,
                description: "Free cookie".into(),
                valid_days: 14,
            },
            &admin(),
            None,
        )
        .await
        .expect("voucher")
        .vouchers;
    assert_eq!(early.len(), 1);
    let sent = r
        .shop
        .campaigns()
        .send_campaign(c.id, &r.routes, &admin())
        .await
        .expect("send");
    assert_eq!(sent.recipients, 2);

    let mut codes = Vec::new();
    for e in r
        .shop
        .campaigns()
        .campaign_deliveries(c.id)
        .expect("deliveries")
    {
        let card = e.message.card_id.expect("card");
        let vouchers: Vec<_> = r
            .shop
            .cards()
            .vouchers_of_card(card)
            .expect("vouchers")
            .into_iter()
            .filter(|v| v.origin == VoucherOrigin::Campaign { campaign_id: c.id })
            .collect();
        assert_eq!(vouchers.len(), 1, "one voucher per recipient");
        let v = &vouchers[0];
        assert_eq!(v.description, "Free cookie");
        assert_eq!(v.expires_at, Some(r.clock.now() + Duration::days(14)));
        if card == ana.id {
            assert_eq!(v.id, early[0].id, "the voucher issued before the crash");
        }
        let code = r.shop.cards().voucher_code(v);
        assert!(e.message.text.contains(&code), "{}", e.message.text);
        assert!(e.message.text.starts_with("Fresh cake from 3 pm."));
        assert_eq!(e.message.data["voucher"], v.id);
        codes.push(code);
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 2, "each their own code");
    let issued = r
        .shop
        .journal()
        .journal(&JournalQuery {
            kind: Some("voucher_issued".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(issued.len(), 2, "journaled once each");
    // A campaign voucher is a voucher like any other: redeemed once.
    r.shop
        .cards()
        .redeem_code(&codes[0], &admin())
        .await
        .expect("redeem");
    assert!(
        r.shop
            .cards()
            .redeem_code(&codes[0], &admin())
            .await
            .is_err()
    );

    // Bad vouchers are refused and nothing is stored.
    let before = r.shop.campaigns().campaigns().expect("list").len();
    for (description, days) in [("", 14), ("Free cookie", 5000)] {
        let mut d = draft(&r, Segment::All);
        d.voucher = Some(CampaignVoucher {
            description: description.into(),
            valid_days: days,
        });
        assert!(
            r.shop
                .campaigns()
                .create_campaign(d, &admin())
                .await
                .is_err()
        );
    }
    assert_eq!(r.shop.campaigns().campaigns().expect("list").len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automations_reach_each_card_once_per_occasion_under_the_cap() {
    use stampcard_core::model::AutomationKind;
    use stampcard_core::shop::AutomationDraft;
    let r = rig().await;
    let system = admin();
    // Two campaigns first: Ana and Dora are at the cap (2 per 7 days).
    for _ in 0..2 {
        create_and_send(&r, draft(&r, Segment::All)).await;
    }
    let auto = |kind: &str, text: &str, voucher: Option<&str>| AutomationDraft {
        name: None,
        template_id: r.template,
        kind: AutomationKind::parse(kind).expect("kind"),
        text: text.into(),
        push_text: String::new(),
        channels: vec!["email".into()],
        voucher: voucher.map(|d| CampaignVoucher {
            description: d.into(),
            valid_days: 30,
        }),
    };
    for d in [
        auto("birthday:14", "Happy birthday!", Some("Birthday cake")),
        auto("win-back:30", "We miss you.", None),
        auto("almost-ready", "One more stamp!", None),
    ] {
        r.shop
            .campaigns()
            .create_automation(d, &admin())
            .await
            .expect("automation");
    }
    assert!(AutomationKind::parse("birthday").is_err());
    assert!(AutomationKind::parse("win-back:0").is_err());
    let mut bad = auto("almost-ready", "x", None);
    bad.channels = vec!["fax".into()];
    assert!(
        r.shop
            .campaigns()
            .create_automation(bad, &admin())
            .await
            .is_err()
    );
    assert_eq!(
        r.shop.campaigns().automations().expect("list").len(),
        3,
        "the bad one is not stored"
    );

    let reached = |runs: &[stampcard_core::model::Campaign]| -> Vec<(String, u64, u64)> {
        runs.iter()
            .map(|c| (c.text.clone(), c.recipients, c.capped))
            .collect()
    };
    // Day 1: all three are due, but everyone is at the cap: nobody is
    // reached and nobody is marked done.
    let runs = r
        .shop
        .campaigns()
        .run_automations_daily(&r.routes, &system)
        .await
        .expect("run");
    assert_eq!(
        reached(&runs),
        vec![
            ("Happy birthday!".into(), 0, 1),
            ("We miss you.".into(), 0, 1),
            ("One more stamp!".into(), 0, 1)
        ]
    );
    assert!(
        runs[0]
            .name
            .starts_with("birthday gift, 14 days before 10.06.2026"),
        "{}",
        runs[0].name
    );
    assert!(
        r.shop
            .campaigns()
            .run_automations_daily(&r.routes, &system)
            .await
            .expect("run")
            .is_empty(),
        "once a day"
    );

    // A week later the cap allows: Ana gets her birthday gift (with her own
    // voucher) and the nudge, Dora the win-back.
    r.clock.advance(Duration::days(8));
    let runs = r
        .shop
        .campaigns()
        .run_automations_daily(&r.routes, &system)
        .await
        .expect("run");
    assert_eq!(
        reached(&runs),
        vec![
            ("Happy birthday!".into(), 1, 0),
            ("We miss you.".into(), 1, 0),
            ("One more stamp!".into(), 1, 0)
        ]
    );
    let gift = r
        .shop
        .campaigns()
        .campaign_deliveries(runs[0].id)
        .expect("deliveries");
    assert_eq!(gift.len(), 1);
    assert_eq!(gift[0].message.recipient, "ana@example.org");
    assert!(
        gift[0]
            .message
            .text
            .contains("Your voucher: Birthday cake — code "),
        "{}",
        gift[0].message.text
    );
    let win_back = r
        .shop
        .campaigns()
        .campaign_deliveries(runs[1].id)
        .expect("deliveries");
    assert_eq!(win_back[0].message.recipient, "dora@example.org");

    // The next days: the same occasions are not repeated.
    r.clock.advance(Duration::days(8));
    assert!(
        r.shop
            .campaigns()
            .run_automations_daily(&r.routes, &system)
            .await
            .expect("run")
            .is_empty()
    );

    // Ana completes her card and gets four stamps again: a new cycle, a new
    // nudge. Her birthday has passed, Dora is still away: nothing else.
    let ana = card_of(&r, "Ana");
    r.shop
        .cards()
        .stamp_card(ana.id, 1, None, &admin())
        .await
        .expect("goal");
    r.clock.advance(Duration::days(1));
    r.shop
        .cards()
        .stamp_card(ana.id, 4, None, &admin())
        .await
        .expect("stamps");
    r.clock.advance(Duration::days(1));
    let runs = r
        .shop
        .campaigns()
        .run_automations_daily(&r.routes, &system)
        .await
        .expect("run");
    assert_eq!(reached(&runs), vec![("One more stamp!".into(), 1, 0)]);

    // Off means off.
    let nudge = r.shop.campaigns().automations().expect("list")[2].id;
    r.shop
        .campaigns()
        .set_automation_enabled(nudge, false, &admin())
        .await
        .expect("off");
    r.shop
        .cards()
        .stamp_card(ana.id, 1, None, &admin())
        .await
        .expect("goal");
    r.clock.advance(Duration::days(1));
    r.shop
        .cards()
        .stamp_card(ana.id, 4, None, &admin())
        .await
        .expect("stamps");
    r.clock.advance(Duration::days(8));
    assert!(
        r.shop
            .campaigns()
            .run_automations_daily(&r.routes, &system)
            .await
            .expect("run")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_messages_and_coupons_take_the_campaign_path_without_the_cap() {
    let r = rig().await;
    let ana = card_of(&r, "Ana");
    // Three messages in a row to one customer: the cap (2 per 7 days)
    // holds campaigns back, not what staff send to this one customer.
    for n in 1..=3 {
        let sent = r
            .shop
            .campaigns()
            .message_card(ana.id, &format!("Note {n}"), None, &r.routes, &admin())
            .await
            .expect("message");
        assert_eq!(sent.channels, vec!["email".to_string()]);
        let c = sent.campaign.expect("a one-card campaign");
        assert_eq!(c.segment, Segment::Card { id: ana.id });
        assert_eq!((c.recipients, c.messages, c.capped), (1, 1, 0));
        assert_eq!(c.state, CampaignState::Sent);
    }
    // A one-card campaign reaches that card only.
    let d = r
        .shop
        .campaigns()
        .campaign_deliveries(r.shop.campaigns().campaigns().expect("list")[0].id);
    let d = d.expect("deliveries");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message.card_id, Some(ana.id));
    // The touches count for later campaigns: Ana is capped now.
    let later = create_and_send(&r, draft(&r, Segment::Card { id: ana.id })).await;
    assert_eq!(later.messages, 1, "personal: not capped");
    let everyone = create_and_send(&r, draft(&r, Segment::All)).await;
    assert_eq!(everyone.capped, 1, "Ana had her share this week");

    // Nobody reaches Cem: a message is not sent (nothing stored), a coupon
    // is issued all the same and shows on his card.
    let cem = card_of(&r, "Cem");
    let before = r.shop.campaigns().campaigns().expect("list").len();
    let sent = r
        .shop
        .campaigns()
        .message_card(cem.id, "Hello", None, &r.routes, &admin())
        .await
        .expect("message");
    assert!(sent.campaign.is_none() && sent.channels.is_empty());
    assert_eq!(r.shop.campaigns().campaigns().expect("list").len(), before);
    let voucher = CampaignVoucher {
        description: "Free cookie".into(),
        valid_days: 30,
    };
    let gift = r
        .shop
        .campaigns()
        .message_card(cem.id, "A gift", Some(voucher), &r.routes, &admin())
        .await
        .expect("coupon");
    let c = gift.campaign.expect("campaign");
    assert_eq!((c.recipients, c.messages), (1, 0));
    let view = r.shop.cards().card_view(cem.id).expect("view");
    assert!(
        view.vouchers.iter().any(|v| v.description == "Free cookie"),
        "{view:?}"
    );
    // Bad input changes nothing.
    let staff = Actor::Staff {
        id: 9,
        name: "jules".into(),
        role: stampcard_core::model::Role::Staff,
    };
    let n = r.shop.campaigns().campaigns().expect("list").len();
    assert!(
        r.shop
            .campaigns()
            .message_card(ana.id, "  ", None, &r.routes, &admin())
            .await
            .is_err()
    );
    assert!(
        r.shop
            .campaigns()
            .message_card(999_999, "Hi", None, &r.routes, &admin())
            .await
            .is_err()
    );
    assert!(
        r.shop
            .campaigns()
            .message_card(ana.id, "Hi", None, &r.routes, &staff)
            .await
            .is_err()
    );
    assert_eq!(r.shop.campaigns().campaigns().expect("list").len(), n);
    assert_eq!(
        Segment::parse("card:100001"),
        Ok(Segment::Card { id: 100_001 })
    );
    assert!(Segment::parse("card:x").is_err());
}

/// The news a card's view should show, by the definition: the newest
/// campaign message among the card's last 30 events whose campaign exists.
fn expected_news(r: &Rig, card: u64) -> Option<u64> {
    let history = r.shop.journal().card_history(card).expect("history");
    history.iter().rev().take(30).find_map(|e| match e.kind {
        EventKind::CampaignDelivered { campaign_id, .. }
        | EventKind::WalletNews { campaign_id } => {
            r.shop.campaigns().campaign(campaign_id).ok().map(|c| c.id)
        }
        _ => None,
    })
}

/// Journals a campaign's wallet news on a card, as the wallet channel does.
async fn wallet_news(r: &Rig, card: &Card, campaign_id: u64) {
    let mut m = Mutation::new();
    m.event(NewEvent {
        at: r.clock.now(),
        kind: EventKind::WalletNews { campaign_id },
        card_id: Some(card.id),
        customer_id: Some(card.customer_id),
        template_id: Some(card.template_id),
        code: None,
        progress: None,
        reward: None,
        actor: admin(),
    });
    r.shop.store().commit(m).await.expect("news journaled");
}

/// A new campaign whose wallet news reached the card.
async fn news_campaign(r: &Rig, card: &Card) -> stampcard_core::model::Campaign {
    let c = r
        .shop
        .campaigns()
        .create_campaign(draft(r, Segment::All), &admin())
        .await
        .expect("create");
    wallet_news(r, card, c.id).await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_shows_its_newest_news_while_it_is_among_its_last_thirty_events() {
    let r = rig().await;
    let ana = card_of(&r, "Ana");
    let cards = r.shop.cards();
    let shown = |_: &Rig| {
        cards
            .card_view(ana.id)
            .expect("view")
            .news
            .map(|n| n.campaign_id)
    };
    assert_eq!(shown(&r), None);
    let a = news_campaign(&r, &ana).await;
    let view = cards.card_view(ana.id).expect("view");
    assert_eq!(
        view.news.as_ref().map(|n| n.text.as_str()),
        Some(a.text.as_str())
    );
    // Viewed after every stamp, every third, or not for a while, by itself
    // or as a stamp's answer: always as the definition says, until the news
    // falls out of the last 30 events. The stamp after the second news is
    // viewed first as its answer, which must read that news.
    let mut b = None;
    for i in 1..=45 {
        let stamped = cards
            .stamp_card(ana.id, 1, None, &admin())
            .await
            .expect("stamp");
        if i % 3 == 1 {
            let answered = cards.view_of_outcome(&stamped).expect("view");
            assert_eq!(
                answered.news.map(|n| n.campaign_id),
                expected_news(&r, ana.id),
                "the answer to stamp {i}"
            );
        }
        if i == 12 {
            b = Some(news_campaign(&r, &ana).await.id);
        }
        if (i < 20 || i % 3 == 0 || i > 40) && i != 12 {
            assert_eq!(shown(&r), expected_news(&r, ana.id), "after stamp {i}");
        }
    }
    assert_eq!(
        shown(&r),
        None,
        "both news are older than the last 30 events"
    );
    // A newer message whose campaign is deleted is passed over for the one before.
    let b = b.expect("second campaign");
    for id in [a.id, b] {
        wallet_news(&r, &ana, id).await;
    }
    assert_eq!(shown(&r), Some(b));
    r.shop
        .campaigns()
        .delete_campaign(b, &admin())
        .await
        .expect("delete");
    assert_eq!(shown(&r), Some(a.id));
    assert_eq!(shown(&r), expected_news(&r, ana.id));
}
