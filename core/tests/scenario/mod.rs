//! A small scenario language for testing the core at its boundary.
//!
//! Each line is `command => expected`; the helper runs every command against a
//! real shop (sled store, card actors, manual clock) and compares what
//! happened with what was expected, reporting every mismatch at once.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::model::{Actor, CustomerFields, Prize, Reward, Role};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, TemplateDraft};
use stampcard_core::store::SledOptions;
use stampcard_core::{CoreError, Shop};

pub struct World {
    pub shop: Shop,
    pub clock: ManualClock,
    pub _dir: tempfile::TempDir,
    template: u64,
    card: u64,
    codes: Vec<String>,
    last_event: Option<u64>,
    last_voucher: Option<u64>,
    old_code: Option<String>,
}

pub fn admin() -> Actor {
    Actor::Cli {
        user: "test".into(),
    }
}

pub fn staff() -> Actor {
    Actor::Staff {
        id: 1,
        name: "Robin".into(),
        role: Role::Staff,
    }
}

impl World {
    pub async fn new(tz: &str, start: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = ShopSettings::for_tests();
        settings.timezone = tz.parse().expect("timezone");
        let start: DateTime<Utc> = start.parse().expect("start time");
        let clock = ManualClock::new(start);
        let shop = crate::backend::open(
            dir.path(),
            settings,
            Arc::new(clock.clone()),
            SledOptions::default(),
        )
        .await
        .expect("open shop");
        World {
            shop,
            clock,
            _dir: dir,
            template: 0,
            card: 0,
            codes: Vec::new(),
            last_event: None,
            last_voucher: None,
            old_code: None,
        }
    }

    async fn run(&mut self, line: &str) -> String {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        let opt = |name: &str| -> Option<&str> {
            args.iter()
                .find_map(|a| a.strip_prefix(&format!("{name}=")))
        };
        let who = if opt("as") == Some("staff") {
            staff()
        } else {
            admin()
        };
        let n = |i: usize| args.get(i).and_then(|a| a.parse::<i64>().ok()).unwrap_or(1);
        let result: Result<String, CoreError> = match cmd {
            "template" => {
                let kind = args.first().copied().unwrap_or("simple");
                let valid = opt("valid").and_then(|v| v.parse().ok()).unwrap_or(0);
                let reward = match kind {
                    "simple" => Reward::Simple {
                        description: "A pastry".into(),
                    },
                    "voucher" => Reward::Voucher {
                        description: "A coffee".into(),
                        valid_days: valid,
                    },
                    "code" => Reward::RedeemCode {
                        description: "A coffee".into(),
                        valid_days: valid,
                        format: Default::default(),
                        fixed_code: Some("BREW-1".into()),
                    },
                    _ => Reward::Lottery {
                        prizes: vec![
                            Prize {
                                name: "Muffin".into(),
                                weight: 3,
                                valid_days: 0,
                            },
                            Prize {
                                name: "Tote bag".into(),
                                weight: 1,
                                valid_days: 0,
                            },
                        ],
                    },
                };
                let mut draft = TemplateDraft::new(
                    "Test card",
                    "Test Shop",
                    opt("stamps").and_then(|v| v.parse().ok()).unwrap_or(8),
                    reward,
                );
                draft.rules.cooldown_secs =
                    opt("cooldown").and_then(|v| v.parse().ok()).unwrap_or(0);
                draft.rules.daily_cap = opt("cap").and_then(|v| v.parse().ok()).unwrap_or(0);
                self.shop
                    .templates()
                    .create_template(draft, &admin())
                    .await
                    .map(|t| {
                        self.template = t.id;
                        format!("v{}", t.version)
                    })
            }
            "edit" => {
                let mut draft = TemplateDraft::of(
                    &self
                        .shop
                        .templates()
                        .template(self.template)
                        .expect("template"),
                );
                if let Some(s) = opt("stamps") {
                    draft.stamps_required = s.parse().unwrap_or(0);
                }
                self.shop
                    .templates()
                    .edit_template(self.template, draft, &admin())
                    .await
                    .map(|t| format!("v{}", t.version))
            }
            "card" => {
                let fields = CustomerFields {
                    name: "Alex".into(),
                    ..Default::default()
                };
                self.shop
                    .cards()
                    .issue_card(self.template, IssueCard::New(fields), None, None, &admin())
                    .await
                    .map(|c| {
                        self.card = c.id;
                        "0/".to_string()
                            + &self
                                .shop
                                .templates()
                                .template(self.template)
                                .map(|t| t.stamps_required)
                                .unwrap_or(0)
                                .to_string()
                    })
            }
            "stamp" => {
                let code = self
                    .shop
                    .cards()
                    .card_code(&self.shop.cards().card(self.card).expect("card"));
                self.outcome(
                    self.shop
                        .cards()
                        .stamp_code(&code, n(0) as u32, opt("key"), &who)
                        .await,
                )
            }
            "stamp-old-code" => {
                let code = self.old_code.clone().unwrap_or_default();
                self.outcome(self.shop.cards().stamp_code(&code, 1, None, &who).await)
            }
            "stamp-forged" | "stamp-typo" => {
                let code = self
                    .shop
                    .cards()
                    .card_code(&self.shop.cards().card(self.card).expect("card"));
                let mut b = code.into_bytes();
                // Change a MAC digit; a forgery recomputes the check digit, a typo does not.
                let i = b.len() - 3;
                b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
                let mut code = String::from_utf8(b).expect("digits");
                if cmd == "stamp-forged" {
                    code.pop();
                    let check = stampcard_core::codes::damm(&code);
                    code.push(char::from(b'0' + check));
                }
                self.outcome(self.shop.cards().stamp_code(&code, 1, None, &who).await)
            }
            "stamp-code" => {
                let code = args.first().copied().unwrap_or("");
                self.outcome(self.shop.cards().stamp_code(code, 1, None, &who).await)
            }
            "reissue" => {
                self.old_code = Some(
                    self.shop
                        .cards()
                        .card_code(&self.shop.cards().card(self.card).expect("card")),
                );
                self.shop
                    .cards()
                    .reissue(self.card, &who)
                    .await
                    .map(|o| format!("counter={}", o.card.counter))
            }
            "redeem" => {
                let id = self.last_voucher.unwrap_or(0);
                let code = self
                    .shop
                    .cards()
                    .voucher_code(&self.shop.cards().voucher(id).expect("voucher"));
                self.outcome(self.shop.cards().redeem_code(&code, &who).await)
            }
            "coupon" => self.outcome(
                self.shop
                    .cards()
                    .issue_coupon(self.card, "Cake", n(0) as u32, &who)
                    .await,
            ),
            "remind" => self
                .shop
                .campaigns()
                .remind_expiring_vouchers(Duration::days(n(0)))
                .await
                .map(|ids| {
                    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
                    format!("reminded [{}]", ids.join(","))
                }),
            "handover" => self.outcome(self.shop.cards().hand_over(self.card, &who).await),
            "spin" => self.outcome(self.shop.cards().spin(self.card, &who).await),
            "adjust" => self.outcome(
                self.shop
                    .cards()
                    .adjust(self.card, n(0), "test", &who)
                    .await,
            ),
            "reverse" => {
                let id = self.last_event.unwrap_or(0);
                self.outcome(self.shop.cards().reverse(id, "mistake", &who).await)
            }
            "codes" => self
                .shop
                .cards()
                .generate_receipts(
                    self.template,
                    n(0) as u32,
                    opt("stamps").and_then(|s| s.parse().ok()).unwrap_or(1),
                    &admin(),
                )
                .await
                .map(|c| {
                    let len = c.len();
                    self.codes = c;
                    format!("{len} codes")
                }),
            "claim" => {
                let code = self.codes.first().cloned().unwrap_or_default();
                self.outcome(
                    self.shop
                        .cards()
                        .claim_receipt(&code, self.card, &who)
                        .await,
                )
            }
            "advance" => {
                let spec = args.first().copied().unwrap_or("0s");
                let (num, unit) = spec.split_at(spec.len() - 1);
                let num: i64 = num.parse().unwrap_or(0);
                let d = match unit {
                    "s" => Duration::seconds(num),
                    "m" => Duration::minutes(num),
                    "h" => Duration::hours(num),
                    _ => Duration::days(num),
                };
                self.clock.advance(d);
                Ok(format!(
                    "{}",
                    self.clock
                        .now()
                        .with_timezone(&self.shop.settings().timezone)
                        .format("%m-%d %H:%M")
                ))
            }
            other => panic!("unknown scenario command '{other}'"),
        };
        match result {
            Ok(s) => s,
            Err(e) => format!("error {}", e.code()),
        }
    }

    fn outcome(
        &mut self,
        r: Result<stampcard_core::actors::CardOutcome, CoreError>,
    ) -> Result<String, CoreError> {
        let o = r?;
        self.last_event = o.event_ids.first().copied().or(self.last_event);
        if let Some(v) = o.vouchers.last() {
            self.last_voucher = Some(v.id);
        }
        let t = self.shop.templates().template(o.card.template_id)?;
        let mut s = format!("{}/{}", o.card.stamps, t.stamps_required);
        if let Some(e) = &o.effect
            && e.goals_reached > 0
        {
            s += &format!(" goal={}", e.goals_reached);
        }
        let active = self
            .shop
            .cards()
            .vouchers_of_card(o.card.id)?
            .iter()
            .filter(|v| v.state(self.clock_now()) == stampcard_core::model::VoucherState::Active)
            .count();
        if active > 0 {
            s += &format!(" vouchers={active}");
        }
        if o.card.rewards_pending > 0 {
            s += &format!(" pending={}", o.card.rewards_pending);
        }
        if o.card.spins_available > 0 {
            s += &format!(" spins={}", o.card.spins_available);
        }
        if let Some(p) = &o.prize {
            s += &format!(" prize={p}");
        }
        if o.replayed {
            s += " (replayed)";
        }
        Ok(s)
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use stampcard_core::clock::Clock;
        self.clock.now()
    }
}

/// Runs a scenario and compares every line's result with its expectation.
pub async fn check(tz: &str, start: &str, script: &str) -> World {
    let mut world = World::new(tz, start).await;
    let mut failures = Vec::new();
    for (i, line) in script.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, expected) = line
            .split_once("=>")
            .map(|(c, e)| (c.trim(), e.trim()))
            .unwrap_or((line, ""));
        let got = world.run(cmd).await;
        if !expected.is_empty() && got != expected {
            failures.push(format!(
                "line {}: `{cmd}`\n   expected: {expected}\n   got:      {got}",
                i + 1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "scenario mismatches:\n{}",
        failures.join("\n")
    );
    world
}
