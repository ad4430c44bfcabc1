//! The demo shop of `init --demo` and `console --demo`: two templates, three
//! staff, and weeks of believable history made by driving the real shop on
//! a manual clock, back-dated from today — a weekly rhythm of visits, new
//! customers at the counter and on the web, redemptions, lottery spins, a
//! double scan reversed, receipt codes claimed, a campaign sent (its emails
//! simulated into `demo-mail.log`, nothing leaves the machine) and one
//! scheduled for the coming days. Seeded, so every demo tells the same story.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stampcard_core::Shop;
use stampcard_core::clock::{Clock, ManualClock, local_day, local_to_utc};
use stampcard_core::model::{
    Actor, Branding, CampaignVoucher, CustomerFields, FraudRules, Platform, Prize, Reward, Role,
    Segment, VoucherState,
};
use stampcard_core::outbox::{
    AppendFile, BoxFuture, Channel, OutboxEntry, RateLimits, SendError, SendOutcome,
};
use stampcard_core::shop::{CampaignDraft, IssueCard, TemplateDraft};

use crate::app::App;

/// The PINs of the demo staff, printed by `init --demo`.
pub const DEMO_STAFF: &[(&str, Role, &str)] = &[
    ("Owner", Role::Admin, "1234"),
    ("Jules", Role::Staff, "2468"),
    ("Maya", Role::Staff, "1357"),
];

/// Days of history a demo gets unless `--history-days` says otherwise.
pub const HISTORY_DAYS: u32 = 42;

/// Name, phone, email, stamps (without history), template (0 coffee, 1 lottery).
type Regular = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    u32,
    usize,
);

/// The demo's first customers (their language unrecorded: pages follow the
/// browser): name, phone, email, and (without history) their stamps and
/// template (0 coffee, 1 lottery).
const REGULARS: &[Regular] = &[
    (
        "Mira Jansen",
        Some("+49 170 555 0101"),
        Some("mira@example.org"),
        3,
        0,
    ),
    ("Tomasz Wójcik", None, Some("tomasz@example.org"), 7, 0),
    ("Aiko Tanaka", Some("+49 170 555 0133"), None, 9, 0),
    ("Sam Okafor", None, None, 5, 1),
    (
        "Lena Fischer",
        Some("+49 170 555 0177"),
        Some("lena@example.org"),
        1,
        1,
    ),
];

/// Customers who join during the history.
const NEWCOMERS: &[(&str, &str)] = &[
    ("Jonas Becker", "en"),
    ("Olga Smirnova", "ru"),
    ("Priya Nair", "en"),
    ("Lukas Wagner", "en"),
    ("Sofia Rossi", "en"),
    ("Dmitri Volkov", "ru"),
    ("Emma Schulz", "en"),
    ("Noah Müller", "en"),
    ("Hana Kowalska", "en"),
    ("Ali Demir", "en"),
    ("Clara Hoffmann", "en"),
    ("Mateo García", "en"),
    ("Anna Petrova", "ru"),
    ("Felix Braun", "en"),
    ("Yuki Sato", "en"),
    ("Ines Costa", "en"),
    ("Ben Richter", "en"),
    ("Marta Nowak", "en"),
    ("Oskar Lindqvist", "en"),
    ("Leila Haddad", "en"),
    ("Paul Schneider", "en"),
    ("Irina Kuznetsova", "ru"),
    ("Theo Klein", "en"),
    ("Nora Weber", "en"),
    ("Amir Rahimi", "en"),
    ("Julia Krüger", "en"),
    ("Elif Yılmaz", "en"),
    ("Max Schmitt", "en"),
    ("Sara Lind", "en"),
    ("Viktor Orlov", "ru"),
    ("Greta Vogel", "en"),
    ("Kofi Mensah", "en"),
    ("Lea Zimmermann", "en"),
    ("Tariq Aziz", "en"),
    ("Maria Santos", "en"),
    ("Erik Hansen", "en"),
];

/// The demo's templates: (coffee, lottery) ids.
async fn templates(shop: &Shop, business: &str, system: &Actor) -> Result<(u64, u64)> {
    let coffee = shop
        .templates()
        .create_template(
            TemplateDraft {
                name: "Coffee card".into(),
                business_name: business.into(),
                stamps_required: 8,
                reward: Reward::Voucher {
                    description: "Any drink on the house".into(),
                    valid_days: 30,
                },
                branding: Branding::default(),
                terms: "One stamp per drink bought. Vouchers are valid for 30 days.".into(),
                rules: FraudRules {
                    cooldown_secs: 0,
                    daily_cap: 10,
                    ..FraudRules::default()
                },
            },
            system,
        )
        .await?;
    let lottery = shop
        .templates()
        .create_template(
            TemplateDraft {
                name: "Bakery lucky draw".into(),
                business_name: business.into(),
                stamps_required: 5,
                reward: Reward::Lottery {
                    prizes: vec![
                        Prize {
                            name: "Cardamom bun".into(),
                            weight: 6,
                            valid_days: 14,
                        },
                        Prize {
                            name: "Flat white".into(),
                            weight: 3,
                            valid_days: 14,
                        },
                        Prize {
                            name: "Bag of house beans".into(),
                            weight: 1,
                            valid_days: 30,
                        },
                    ],
                },
                branding: Branding {
                    background: "#1f3b34".into(),
                    foreground: "#f4f1e8".into(),
                    label: "#c9a227".into(),
                    stamp_icon: "★".into(),
                    logo: None,
                },
                terms: "A stamp for every pastry. Five stamps give one spin.".into(),
                rules: FraudRules::default(),
            },
            system,
        )
        .await?;
    Ok((coffee.id, lottery.id))
}

/// Fills a new shop (opened on `clock`) with the demo: with `history_days`
/// of history back-dated from now, or none (the five demo cards alone).
/// The clock ends at the real time. Returns the text printed for people.
pub async fn seed_demo(app: &App, clock: &ManualClock, history_days: u32) -> Result<String> {
    let shop = &app.shop;
    let tz = shop.settings().timezone;
    let now = Utc::now();
    let first_day = local_day(now, tz) - Duration::days(i64::from(history_days));
    if history_days > 0 {
        clock.set(at(tz, first_day, 7, 30));
    } else {
        clock.set(now);
    }
    let system = Actor::channel("system");
    let (coffee, lottery) = templates(shop, &app.config.shop.name, &system).await?;
    let mut staff = Vec::new();
    for (name, role, pin) in DEMO_STAFF {
        let s = shop.access().add_staff(name, *role, pin, &system).await?;
        staff.push(stampcard_core::shop::Access::staff_actor(&s));
    }
    let mut regulars = Vec::new();
    for (i, (name, phone, email, stamps, template)) in REGULARS.iter().enumerate() {
        if history_days > 0 {
            clock.set(at(tz, first_day, 8, 5 + 20 * i as u32));
        }
        let fields = CustomerFields {
            name: (*name).into(),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            consent_email: email.map(|_| true),
            ..Default::default()
        };
        let template = [coffee, lottery][*template];
        let card = shop
            .cards()
            .issue_card(
                template,
                IssueCard::New(fields),
                Some("counter".into()),
                Some(Platform::Counter),
                &staff[1],
            )
            .await?;
        if history_days == 0 && *stamps > 0 {
            shop.cards()
                .stamp_card(card.id, *stamps, None, &staff[1])
                .await?;
        }
        regulars.push(card.id);
    }
    let mut lines = Vec::new();
    if history_days > 0 {
        let mut sim = History {
            shop,
            clock,
            tz,
            rng: StdRng::seed_from_u64(0x5747_4d50),
            staff,
            templates: (coffee, lottery),
            cards: regulars.iter().map(|&id| (id, 6)).collect(),
            newcomers: NEWCOMERS.iter(),
            receipts: Vec::new(),
            counts: Counts::default(),
            mail: app.data.join("demo-mail.log"),
        };
        sim.run(first_day, history_days, now).await?;
        lines.push(sim.counts.summary(history_days));
    }
    clock.set(now);
    lines.push("Demo cards (type or scan a code in the console):".to_string());
    for id in regulars {
        let view = shop.cards().card_view(id)?;
        lines.push(format!(
            "  {}  {:<14} {:<18} {}",
            view.code, view.customer_name, view.title, view.progress
        ));
    }
    lines
        .push("Demo staff PINs: Owner (admin) 1234, Jules (staff) 2468, Maya (staff) 1357.".into());
    Ok(lines.join("\n"))
}

/// A shop-local wall-clock time on a day.
fn at(tz: Tz, day: NaiveDate, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour + minute / 60, minute % 60, 0).unwrap_or_default();
    local_to_utc(&tz, day.and_time(time)).unwrap_or_else(Utc::now)
}

/// What the history made, for the summary line.
#[derive(Default)]
struct Counts {
    stamps: u64,
    customers: u64,
    redeemed: u64,
    spins: u64,
    claims: u64,
}

impl Counts {
    fn summary(&self, days: u32) -> String {
        format!(
            "Demo history over {days} days: {} stamps, {} new customers, {} vouchers redeemed, \
             {} lottery spins, {} receipt codes claimed, a campaign sent (its emails are \
             simulated in demo-mail.log) and one scheduled.",
            self.stamps, self.customers, self.redeemed, self.spins, self.claims
        )
    }
}

/// One thing that happens in the shop on a day.
enum Happening {
    Visit,
    Join,
}

/// The history being made.
struct History<'a> {
    shop: &'a Shop,
    clock: &'a ManualClock,
    tz: Tz,
    rng: StdRng,
    /// Owner, Jules, Maya.
    staff: Vec<Actor>,
    templates: (u64, u64),
    /// Cards with how often their holder comes (a weight).
    cards: Vec<(u64, u32)>,
    newcomers: std::slice::Iter<'static, (&'static str, &'static str)>,
    /// Receipt codes printed and not yet claimed.
    receipts: Vec<String>,
    counts: Counts,
    mail: std::path::PathBuf,
}

impl History<'_> {
    async fn run(
        &mut self,
        first_day: NaiveDate,
        days: u32,
        now: chrono::DateTime<Utc>,
    ) -> Result<()> {
        'days: for d in 0..=days {
            let day = first_day + Duration::days(i64::from(d));
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            let base = [6, 7, 8, 9, 12, 16, 10][day.weekday().num_days_from_monday() as usize];
            let mut plan: Vec<(u32, Happening)> = (0..base + self.rng.random_range(0..4))
                .map(|_| (self.rng.random_range(0..600), Happening::Visit))
                .collect();
            if d > 0 {
                let joins = self.rng.random_range(0..=if weekend { 2 } else { 1 });
                plan.extend((0..joins).map(|_| (self.rng.random_range(0..600), Happening::Join)));
            }
            plan.sort_by_key(|(minute, _)| *minute);
            if d + 14 == days {
                self.clock.set(at(self.tz, day, 7, 45));
                self.receipts = self
                    .shop
                    .cards()
                    .generate_receipts(self.templates.0, 20, 1, &self.staff[0])
                    .await?;
            }
            let mut visited = Vec::new();
            for (minute, happening) in plan {
                let t = at(self.tz, day, 8, minute);
                if t >= now {
                    break 'days;
                }
                self.clock.set(t);
                match happening {
                    Happening::Visit => self.visit(minute, weekend, &mut visited).await?,
                    Happening::Join => self.join().await?,
                }
            }
            if d + 10 == days {
                self.clock.set(at(self.tz, day, 18, 30));
                self.campaign().await?;
            }
        }
        self.clock.set(now);
        self.scheduled_campaign(now).await
    }

    /// Who stands at the counter at this minute after 08:00.
    fn on_shift(&mut self, minute: u32, weekend: bool) -> Actor {
        if self.rng.random_range(0..8) == 0 {
            return self.staff[0].clone();
        }
        let morning = minute < 300;
        if morning != weekend {
            self.staff[1].clone()
        } else {
            self.staff[2].clone()
        }
    }

    /// A holder comes in: a voucher redeemed, a spin played, a stamp (or two).
    async fn visit(&mut self, minute: u32, weekend: bool, visited: &mut Vec<u64>) -> Result<()> {
        let total: u32 = self
            .cards
            .iter()
            .filter(|(id, _)| !visited.contains(id))
            .map(|(_, w)| w)
            .sum();
        if total == 0 {
            return Ok(());
        }
        let mut pick = self.rng.random_range(0..total);
        let Some(card) = self
            .cards
            .iter()
            .filter(|(id, _)| !visited.contains(id))
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map(|(id, _)| *id)
        else {
            return Ok(());
        };
        visited.push(card);
        let staff = self.on_shift(minute, weekend);
        let now = self.clock.now();
        let active = self
            .shop
            .cards()
            .vouchers_of_card(card)?
            .into_iter()
            .find(|v| v.state(now) == VoucherState::Active);
        // Most vouchers are used, some on a later visit, some never.
        if let Some(v) = active
            && self.rng.random_range(0..10) < 3
        {
            self.shop.cards().redeem_voucher(v.id, &staff).await?;
            self.counts.redeemed += 1;
        }
        if self.shop.cards().card(card)?.spins_available > 0 {
            self.shop.cards().spin(card, &staff).await?;
            self.counts.spins += 1;
        }
        if !self.receipts.is_empty() && self.rng.random_range(0..10) == 0 {
            if let Some(code) = self.receipts.pop() {
                let web = Actor::channel("web");
                if self
                    .shop
                    .cards()
                    .claim_receipt(&code, card, &web)
                    .await
                    .is_ok()
                {
                    self.counts.claims += 1;
                }
            }
            return Ok(());
        }
        let count = if self.rng.random_range(0..10) == 0 {
            2
        } else {
            1
        };
        self.shop
            .cards()
            .stamp_card(card, count, None, &staff)
            .await?;
        self.counts.stamps += u64::from(count);
        // Now and then the scanner reads a card twice; the owner reverses it.
        if self.rng.random_range(0..90) == 0 {
            let double = self.shop.cards().stamp_card(card, 1, None, &staff).await?;
            self.clock.set(now + Duration::minutes(3));
            if let Some(&event) = double.event_ids.first() {
                self.shop
                    .cards()
                    .reverse(event, "double scan", &self.staff[0])
                    .await?;
            }
            self.clock.set(now);
        }
        Ok(())
    }

    /// A new customer: at the counter, or on the web from a table poster.
    async fn join(&mut self) -> Result<()> {
        let Some((name, language)) = self.newcomers.next() else {
            return Ok(());
        };
        let n = self.counts.customers + 10;
        let email = (self.rng.random_range(0..10) < 6).then(|| {
            let handle: String = name
                .split_whitespace()
                .next()
                .unwrap_or("guest")
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect();
            format!("{}{n}@example.org", handle.to_lowercase())
        });
        let fields = CustomerFields {
            name: (*name).into(),
            phone: (self.rng.random_range(0..10) < 5)
                .then(|| format!("+49 170 555 {:04}", 200 + n)),
            consent_email: email.as_ref().map(|_| self.rng.random_range(0..10) < 8),
            email,
            language: Some((*language).into()),
            ..Default::default()
        };
        let template = if self.rng.random_range(0..4) == 0 {
            self.templates.1
        } else {
            self.templates.0
        };
        let (source, platform, actor) = if self.rng.random_range(0..3) == 0 {
            ("table", Platform::Web, Actor::channel("web"))
        } else {
            ("counter", Platform::Counter, self.staff[1].clone())
        };
        let card = self
            .shop
            .cards()
            .issue_card(
                template,
                IssueCard::New(fields),
                Some(source.into()),
                Some(platform),
                &actor,
            )
            .await?;
        self.counts.customers += 1;
        let weight = self.rng.random_range(1..5);
        self.cards.push((card.id, weight));
        Ok(())
    }

    /// The campaign sent ten days ago, its emails simulated as delivered.
    async fn campaign(&mut self) -> Result<()> {
        let owner = self.staff[0].clone();
        let c = self
            .shop
            .campaigns()
            .create_campaign(
                CampaignDraft {
                    name: Some("Pumpkin spice week".into()),
                    template_id: self.templates.0,
                    segment: Segment::All,
                    push_text: "Pumpkin spice week!".into(),
                    text: "**Pumpkin spice week** is here: show this voucher for a pumpkin spice \
                           latte at half price."
                        .into(),
                    channels: vec!["email".into()],
                    scheduled_for: None,
                    voucher: Some(CampaignVoucher {
                        description: "Pumpkin spice latte at half price".into(),
                        valid_days: 14,
                    }),
                },
                &owner,
            )
            .await?;
        let route: Arc<dyn stampcard_core::consumers::Route> =
            Arc::new(crate::email::EmailRoute { card_news: false });
        self.shop
            .campaigns()
            .send_campaign(c.id, &[route], &owner)
            .await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mail = Arc::new(DemoMail(AppendFile::new(&self.mail)));
        let dispatcher = tokio::spawn(stampcard_core::outbox::run_dispatcher(
            self.shop.outbox().clone(),
            mail,
            stopped,
        ));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self
            .shop
            .campaigns()
            .campaign_deliveries(c.id)?
            .iter()
            .any(|e| e.state.unfinished())
        {
            if std::time::Instant::now() > deadline {
                anyhow::bail!("the demo campaign's simulated emails were not delivered in time");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = stop.send(true);
        dispatcher
            .await
            .context("the demo mail dispatcher")?
            .context("the demo mail dispatcher")?;
        Ok(())
    }

    /// A campaign waiting for the coming Friday morning.
    async fn scheduled_campaign(&mut self, now: chrono::DateTime<Utc>) -> Result<()> {
        let today = local_day(now, self.tz);
        let ahead =
            (7 + Weekday::Fri.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        let friday = today + Duration::days(i64::from(ahead.max(1)));
        self.shop
            .campaigns()
            .create_campaign(
                CampaignDraft {
                    name: Some("Friday doubles".into()),
                    template_id: self.templates.0,
                    segment: Segment::All,
                    push_text: "Friday double stamps".into(),
                    text: "Every drink earns **two stamps** all day on Friday.".into(),
                    channels: vec!["email".into()],
                    scheduled_for: Some(at(self.tz, friday, 9, 0)),
                    voucher: None,
                },
                &self.staff[0],
            )
            .await?;
        Ok(())
    }
}

/// The demo's stand-in for an email server: each message one JSON line in
/// `demo-mail.log` in the data folder, delivered at once.
struct DemoMail(AppendFile);

impl Channel for DemoMail {
    fn name(&self) -> &str {
        "email"
    }

    fn limits(&self) -> RateLimits {
        RateLimits {
            per_second: 10_000.0,
            ..Default::default()
        }
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            let line = serde_json::json!({
                "to": entry.message.recipient,
                "subject": entry.message.subject,
                "text": entry.message.text,
            });
            self.0
                .append(format!("{line}\n").as_bytes())
                .map_err(|e| SendError::Permanent(format!("demo-mail.log: {e}")))?;
            Ok(SendOutcome::Confirmed { receipt: None })
        })
    }
}
