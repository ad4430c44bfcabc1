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
        }
    }
}
