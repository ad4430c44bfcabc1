//! Settings the core needs from the shop's configuration.

use chrono_tz::Tz;
use std::time::Duration;

/// What the core needs to know about the shop.
#[derive(Debug, Clone)]
pub struct ShopSettings {
    /// Shop name.
    pub name: String,
    /// Shop time zone; days are shop-local.
    pub timezone: Tz,
    /// The shop secret that signs card and voucher codes. Never logged.
    pub secret: Vec<u8>,
    /// How long staff may reverse their own recent actions.
    pub staff_undo_window: Duration,
    /// How many days after its receipt date a POS receipt code can be claimed.
    pub receipt_max_age_days: u32,
    /// Fixed seed for lottery draws (tests and demos); `None` draws from the OS.
    pub lottery_seed: Option<u64>,
    /// Idle time after which a card actor is passivated.
    pub actor_idle: Duration,
    /// Most card actors resident at once.
    pub max_resident_actors: usize,
    /// Public base URL of the shop's web pages (`[http] public_url`).
    pub public_url: String,
    /// Campaign limits (`[campaigns]`).
    pub campaigns: CampaignSettings,
    /// Opening hours (`[shop] opening_hours`); always open when unset.
    pub opening_hours: crate::opening_hours::OpeningHours,
    /// Fraud alert thresholds and where alerts go (`[alerts]`).
    pub alerts: AlertSettings,
}

/// The fraud alerts' thresholds (`[alerts]`; a threshold of 0 turns its
/// rule off) and where alerts are sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// More than this many stamps on one card …
    pub card_stamps: u32,
    /// … within this many minutes.
    pub card_minutes: u32,
    /// Stamps outside opening hours raise an alert.
    pub outside_hours: bool,
    /// A staff member's stamps in an hour above this many times their
    /// median hour …
    pub staff_factor: f64,
    /// … and at least this many.
    pub staff_minimum: u32,
    /// The median is over this many days before.
    pub staff_days: u32,
    /// A reward redeemed within this many minutes of being earned, by the
    /// member of staff who stamped it.
    pub quick_redeem_minutes: u32,
    /// More than this many joins or receipt claims from one network
    /// address in an hour.
    pub address_per_hour: u32,
    /// This many failed PIN attempts in a row at one prompt.
    pub failed_pins: u32,
    /// More than this many replayed, expired or forged codes …
    pub bad_codes: u32,
    /// … within this many minutes.
    pub bad_codes_minutes: u32,
    /// The staff Telegram chat alerts are sent to (the bot ignores what is
    /// said there; the shop's bot sends them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram_chat: Option<i64>,
    /// Email addresses alerts are sent to (through `[smtp]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    /// The language alerts are written in.
    pub language: String,
}

impl AlertSettings {
    /// Whether every key has its default (the config file leaves it out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            card_stamps: 10,
            card_minutes: 10,
            outside_hours: true,
            staff_factor: 3.0,
            staff_minimum: 20,
            staff_days: 28,
            quick_redeem_minutes: 10,
            address_per_hour: 10,
            failed_pins: 5,
            bad_codes: 5,
            bad_codes_minutes: 10,
            telegram_chat: None,
            email: Vec::new(),
            language: "en".into(),
        }
    }
}

/// Limits on marketing messages.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSettings {
    /// Longest wallet PUSH text, in characters.
    pub push_limit: usize,
    /// Most marketing messages (campaigns, automations) per customer …
    pub frequency_cap: u32,
    /// … within this many days (0: no cap).
    pub frequency_days: u32,
    /// Shop-local quiet hours (start, end): marketing messages planned
    /// inside wait until the end. `None`: no quiet hours.
    pub quiet_hours: Option<(chrono::NaiveTime, chrono::NaiveTime)>,
    /// Recipients planned per durable batch (each batch is one commit and
    /// a resume point).
    pub plan_batch: usize,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            push_limit: 20,
            frequency_cap: 2,
            frequency_days: 7,
            quiet_hours: None,
            plan_batch: 10_000,
        }
    }
}

impl ShopSettings {
    /// Settings for tests: UTC, a fixed secret and seed.
    pub fn for_tests() -> Self {
        Self {
            name: "Test Shop".into(),
            timezone: Tz::UTC,
            secret: b"test-secret-not-for-production".to_vec(),
            staff_undo_window: Duration::from_secs(300),
            receipt_max_age_days: 30,
            lottery_seed: Some(7),
            actor_idle: Duration::from_secs(60),
            max_resident_actors: 10_000,
            public_url: "http://127.0.0.1:8080".into(),
            campaigns: CampaignSettings::default(),
            opening_hours: Default::default(),
            alerts: AlertSettings::default(),
        }
    }
}
