//! The fraud rules, fed the journal in order: each event may yield
//! findings (a rule, whom it is about, the evidence). Pure and in memory:
//! what a rule needs from the past (a card's last minutes, a staff
//! member's hours over four weeks, the shop's recent bad codes) it keeps
//! from the events it was fed, so the same history gives the same findings
//! — live in the alerts consumer, or replayed over the journal.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::model::{Actor, Event, EventKind};
use crate::opening_hours::OpeningHours;
use crate::settings::AlertSettings;

/// Hours with stamps a staff member needs in the window before their
/// median hour says what is usual for them.
pub const USUAL_HOURS: usize = 3;

/// A rule of `[alerts]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Too many stamps on one card within minutes.
    CardStamps,
    /// Stamps outside opening hours.
    OutsideHours,
    /// A staff member's hour far above their usual.
    StaffHour,
    /// A reward redeemed right after being earned, by the same staff.
    QuickRedeem,
    /// Many joins or receipt claims from one network address.
    Address,
    /// Repeated failed PIN attempts.
    FailedPins,
    /// Replayed, expired or forged codes.
    BadCodes,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 7] = [
        Rule::CardStamps,
        Rule::OutsideHours,
        Rule::StaffHour,
        Rule::QuickRedeem,
        Rule::Address,
        Rule::FailedPins,
        Rule::BadCodes,
    ];

    /// Its name (in the journal, the console, `[alerts]` docs).
    pub fn name(self) -> &'static str {
        match self {
            Rule::CardStamps => "card_stamps",
            Rule::OutsideHours => "outside_hours",
            Rule::StaffHour => "staff_hour",
            Rule::QuickRedeem => "quick_redeem",
            Rule::Address => "address",
            Rule::FailedPins => "failed_pins",
            Rule::BadCodes => "bad_codes",
        }
    }

    /// The rule with this name.
    pub fn named(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// What a rule saw in one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Whom or what it is about: "card 100042", a staff member, an address.
    pub subject: String,
    /// When (the event's time).
    pub at: DateTime<Utc>,
    /// The catalog parameters of its text (`alert.<rule>`).
    pub params: Vec<(String, String)>,
    /// The cards involved.
    pub cards: Vec<u64>,
    /// The staff (or keys) involved.
    pub staff: Vec<String>,
    /// When the evidence happened.
    pub times: Vec<DateTime<Utc>>,
    /// The event that showed it.
    pub event_id: u64,
}

/// A stamp as the card rules remember it.
#[derive(Debug, Clone)]
struct Stamp {
    at: DateTime<Utc>,
    count: u32,
    by: Option<String>,
    vouchers: Vec<u64>,
    rewards: u32,
}

/// The rules with what they remember.
#[derive(Debug)]
pub struct Rules {
    settings: AlertSettings,
    hours: OpeningHours,
    tz: Tz,
    /// Each card's stamps within the longest card window.
    cards: HashMap<u64, VecDeque<Stamp>>,
    /// Stamps per staff member and hour (hours since the epoch).
    staff: HashMap<String, BTreeMap<i64, u32>>,
    /// Recent bad codes: when, and what.
    bad: VecDeque<DateTime<Utc>>,
    /// Findings per rule in the current clock hour (hour, count): past
    /// what the book can use (every alert an hour may raise, each with its
    /// full evidence), a finding is not even built.
    emitted: HashMap<Rule, (i64, usize)>,
    /// The newest event fed (an event fed twice counts once).
    last: u64,
}

/// Findings of one rule an hour that can still change what is stored:
/// `PER_RULE_HOUR` alerts, each raised and then filled with evidence.
const USEFUL_PER_HOUR: usize =
    crate::alerts::book::PER_RULE_HOUR * (crate::alerts::book::EVIDENCE + 1);

/// The person a staff-side action is counted for: staff, API keys and the
/// command line; channels (bot, web, kiosk, receipts) are customers' own.
fn who(actor: &Actor) -> Option<String> {
    match actor {
        Actor::Channel { .. } => None,
        other => Some(other.label()),
    }
}

impl Rules {
    /// Rules with these thresholds, hours and time zone.
    pub fn new(settings: AlertSettings, hours: OpeningHours, tz: Tz) -> Self {
        Self {
            settings,
            hours,
            tz,
            cards: HashMap::new(),
            staff: HashMap::new(),
            bad: VecDeque::new(),
            emitted: HashMap::new(),
            last: 0,
        }
    }

    /// Whether one more finding of `rule` at `at` can still matter (and
    /// counts it).
    fn budget(&mut self, rule: Rule, at: DateTime<Utc>) -> bool {
        let hour = at.timestamp().div_euclid(3600);
        let (h, n) = self.emitted.entry(rule).or_insert((hour, 0));
        if *h != hour {
            (*h, *n) = (hour, 0);
        }
        *n += 1;
        *n <= USEFUL_PER_HOUR
    }

    /// How far back the rules look: what a restart must feed them again.
    pub fn memory(&self) -> Duration {
        Duration::days(i64::from(self.settings.staff_days)) + Duration::hours(1)
    }

    /// The newest event fed.
    pub fn last_fed(&self) -> u64 {
        self.last
    }

    /// Feeds one event; what it shows.
    pub fn feed(&mut self, e: &Event) -> Vec<Finding> {
        if e.id <= self.last {
            return Vec::new();
        }
        self.last = e.id;
        let mut found = Vec::new();
        match &e.kind {
            EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
                let counter = matches!(e.kind, EventKind::StampAdded { .. });
                let by = who(&e.actor);
                if counter {
                    found.extend(self.outside_hours(e));
                    if let Some(by) = &by {
                        found.extend(self.staff_hour(e, by, effect.count));
                    }
                }
                if let Some(card) = e.card_id {
                    let stamp = Stamp {
                        at: e.at,
                        count: effect.count,
                        by,
                        vouchers: effect.vouchers.clone(),
                        rewards: effect.rewards,
                    };
                    found.extend(self.card_stamps(e, card, stamp));
                }
            }
            EventKind::VoucherRedeemed { voucher_id } => {
                found.extend(self.quick_redeem(e, |s| s.vouchers.contains(voucher_id)));
            }
            EventKind::RewardGiven => found.extend(self.quick_redeem(e, |s| s.rewards > 0)),
            EventKind::AddressBusy {
                what,
                address,
                count,
            } if self.settings.address_per_hour > 0 => found.push(Finding {
                rule: Rule::Address,
                subject: address.clone(),
                at: e.at,
                params: vec![
                    ("address".into(), address.clone()),
                    ("count".into(), count.to_string()),
                    ("what".into(), what.clone()),
                ],
                cards: e.card_id.into_iter().collect(),
                staff: Vec::new(),
                times: vec![e.at],
                event_id: e.id,
            }),
            EventKind::SignInFailed {
                prompt, failures, ..
            } if self.settings.failed_pins > 0 && *failures >= self.settings.failed_pins => {
                found.push(Finding {
                    rule: Rule::FailedPins,
                    subject: prompt.clone(),
                    at: e.at,
                    params: vec![
                        ("prompt".into(), prompt.clone()),
                        ("count".into(), failures.to_string()),
                    ],
                    cards: Vec::new(),
                    staff: Vec::new(),
                    times: vec![e.at],
                    event_id: e.id,
                });
            }
            EventKind::StampRefused {
                refusal: Some(code),
                ..
            } if crate::error::Refusal::refused_the_code(code) => {
                found.extend(self.bad_code(e, 1));
            }
            EventKind::ReceiptGuessing { failures, .. } => {
                found.extend(self.bad_code(e, *failures));
            }
            _ => {}
        }
        found
    }

    fn card_stamps(&mut self, e: &Event, card: u64, stamp: Stamp) -> Option<Finding> {
        let s = &self.settings;
        let keep = Duration::minutes(i64::from(s.card_minutes.max(s.quick_redeem_minutes)));
        if self.cards.len() > 50_000 {
            let since = e.at - keep;
            self.cards
                .retain(|_, q| q.back().is_some_and(|x| x.at > since));
        }
        let q = self.cards.entry(card).or_default();
        while q.front().is_some_and(|x| x.at <= e.at - keep) {
            q.pop_front();
        }
        q.push_back(stamp);
        if s.card_stamps == 0 {
            return None;
        }
        let since = e.at - Duration::minutes(i64::from(s.card_minutes));
        let total: u32 = q.iter().filter(|x| x.at > since).map(|x| x.count).sum();
        let (threshold, minutes) = (s.card_stamps, s.card_minutes);
        if total <= threshold || !self.budget(Rule::CardStamps, e.at) {
            return None;
        }
        let recent: Vec<&Stamp> = self
            .cards
            .get(&card)?
            .iter()
            .filter(|x| x.at > since)
            .collect();
        let mut staff: Vec<String> = recent.iter().filter_map(|x| x.by.clone()).collect();
        staff.sort();
        staff.dedup();
        Some(Finding {
            rule: Rule::CardStamps,
            subject: format!("card {card}"),
            at: e.at,
            params: vec![
                ("card".into(), card.to_string()),
                ("count".into(), total.to_string()),
                ("minutes".into(), minutes.to_string()),
            ],
            cards: vec![card],
            staff,
            times: recent.iter().map(|x| x.at).collect(),
            event_id: e.id,
        })
    }

    fn outside_hours(&mut self, e: &Event) -> Option<Finding> {
        if !self.settings.outside_hours
            || self.hours.is_open(e.at, self.tz)
            || !self.budget(Rule::OutsideHours, e.at)
        {
            return None;
        }
        let by = who(&e.actor).unwrap_or_else(|| e.actor.label());
        let local = e.at.with_timezone(&self.tz).format("%a %H:%M").to_string();
        Some(Finding {
            rule: Rule::OutsideHours,
            subject: by.clone(),
            at: e.at,
            params: vec![("staff".into(), by.clone()), ("time".into(), local)],
            cards: e.card_id.into_iter().collect(),
            staff: vec![by],
            times: vec![e.at],
            event_id: e.id,
        })
    }

    fn staff_hour(&mut self, e: &Event, by: &str, count: u32) -> Option<Finding> {
        let s = &self.settings;
        let hour = e.at.timestamp().div_euclid(3600);
        let first = hour - i64::from(s.staff_days) * 24;
        if !self.staff.contains_key(by) {
            self.staff.insert(by.to_string(), BTreeMap::new());
        }
        let hours = self.staff.get_mut(by)?;
        while hours.first_key_value().is_some_and(|(h, _)| *h < first) {
            hours.pop_first();
        }
        let now = hours.entry(hour).or_default();
        *now += count;
        let now = *now;
        if s.staff_factor <= 0.0 || now < s.staff_minimum {
            return None;
        }
        let mut before: Vec<u32> = hours.range(first..hour).map(|(_, c)| *c).collect();
        // Someone new has no usual hour yet (nor does a new shop's staff).
        if before.len() < USUAL_HOURS {
            return None;
        }
        before.sort_unstable();
        let median = match before.len() {
            n if n % 2 == 1 => f64::from(before[n / 2]),
            n => (f64::from(before[n / 2 - 1]) + f64::from(before[n / 2])) / 2.0,
        };
        if f64::from(now) <= s.staff_factor * median {
            return None;
        }
        let days = s.staff_days;
        if !self.budget(Rule::StaffHour, e.at) {
            return None;
        }
        let by = by.to_string();
        Some(Finding {
            rule: Rule::StaffHour,
            subject: by.clone(),
            at: e.at,
            params: vec![
                ("staff".into(), by.clone()),
                ("count".into(), now.to_string()),
                ("median".into(), format!("{median}")),
                ("days".into(), days.to_string()),
            ],
            cards: e.card_id.into_iter().collect(),
            staff: vec![by],
            times: vec![e.at],
            event_id: e.id,
        })
    }

    fn quick_redeem(&self, e: &Event, earned: impl Fn(&Stamp) -> bool) -> Option<Finding> {
        let minutes = self.settings.quick_redeem_minutes;
        let (card, by) = (e.card_id?, who(&e.actor)?);
        if minutes == 0 {
            return None;
        }
        let stamp = self.cards.get(&card)?.iter().rev().find(|s| earned(s))?;
        let within = e.at - stamp.at <= Duration::minutes(i64::from(minutes));
        if !within || stamp.by.as_deref() != Some(by.as_str()) {
            return None;
        }
        Some(Finding {
            rule: Rule::QuickRedeem,
            subject: by.clone(),
            at: e.at,
            params: vec![
                ("staff".into(), by.clone()),
                ("card".into(), card.to_string()),
                (
                    "minutes".into(),
                    ((e.at - stamp.at).num_seconds() / 60).to_string(),
                ),
            ],
            cards: vec![card],
            staff: vec![by],
            times: vec![stamp.at, e.at],
            event_id: e.id,
        })
    }

    fn bad_code(&mut self, e: &Event, weight: u32) -> Option<Finding> {
        let s = &self.settings;
        let since = e.at - Duration::minutes(i64::from(s.bad_codes_minutes));
        while self.bad.front().is_some_and(|t| *t <= since) {
            self.bad.pop_front();
        }
        for _ in 0..weight.min(1000) {
            self.bad.push_back(e.at);
        }
        if s.bad_codes == 0 || self.bad.len() as u32 <= s.bad_codes {
            return None;
        }
        let minutes = s.bad_codes_minutes;
        if !self.budget(Rule::BadCodes, e.at) {
            return None;
        }
        Some(Finding {
            rule: Rule::BadCodes,
            subject: "shop".into(),
            at: e.at,
            params: vec![
                ("count".into(), self.bad.len().to_string()),
                ("minutes".into(), minutes.to_string()),
            ],
            cards: e.card_id.into_iter().collect(),
            staff: who(&e.actor).into_iter().collect(),
            times: vec![e.at],
            event_id: e.id,
        })
    }
}
