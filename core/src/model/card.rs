//! Issued cards.

use chrono::{DateTime, NaiveDate, Utc};

use super::Template;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where a customer holds a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// The Telegram bot.
    Telegram,
    /// Apple Wallet.
    AppleWallet,
    /// Google Wallet.
    GoogleWallet,
    /// The web card page.
    Web,
    /// A printed card or a code shown at the counter.
    Counter,
}

impl Platform {
    /// A short icon for lists.
    pub fn icon(self) -> &'static str {
        match self {
            Platform::Telegram => "✈",
            Platform::AppleWallet => "",
            Platform::GoogleWallet => "G",
            Platform::Web => "🌐",
            Platform::Counter => "▦",
        }
    }
}

/// An issued stamp card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Card number, sequential.
    pub id: u64,
    /// Template it follows.
    pub template_id: u64,
    /// Template version it last moved to.
    pub template_version: u32,
    /// Holder.
    pub customer_id: u64,
    /// Reissue counter; part of the code's MAC.
    pub counter: u32,
    /// Stamps in the current cycle.
    pub stamps: u32,
    /// Stamps ever added (net of reversals).
    pub lifetime_stamps: u64,
    /// Simple rewards reached but not yet handed over.
    pub rewards_pending: u32,
    /// Lottery spins available.
    pub spins_available: u32,
    /// Spins played so far; numbers each draw.
    pub spins_played: u32,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// Last stamp.
    pub last_stamp_at: Option<DateTime<Utc>>,
    /// Shop-local day of `stamps_today`.
    pub today: Option<NaiveDate>,
    /// Stamps added on `today`.
    pub stamps_today: u32,
    /// Marked when the daily cap was hit.
    #[serde(default)]
    pub flagged: bool,
    /// Platforms the card is held on.
    pub platforms: BTreeSet<Platform>,
    /// Secret token in the card's web and pass links.
    pub link_token: String,
    /// Where the customer joined (e.g. "table").
    #[serde(default)]
    pub source: Option<String>,
    /// Deleted cards refuse every code and action.
    pub deleted: bool,
    /// The newest window whose rotating code stamped this card
    /// (`crate::rotating`): a code of this window or an earlier one is a
    /// replay. Written in the stamp's own atomic commit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub last_code_window: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Card {
    /// A fresh random link token (128 bits); reissuing a card replaces it.
    pub fn new_link_token() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    /// A newly issued card: no stamps yet, following the template's current
    /// version, with a fresh random link token.
    pub fn new(
        id: u64,
        template: &Template,
        customer_id: u64,
        now: DateTime<Utc>,
        platform: Option<Platform>,
        source: Option<String>,
    ) -> Card {
        Card {
            id,
            template_id: template.id,
            template_version: template.version,
            customer_id,
            counter: 0,
            stamps: 0,
            lifetime_stamps: 0,
            rewards_pending: 0,
            spins_available: 0,
            spins_played: 0,
            created_at: now,
            last_stamp_at: None,
            today: None,
            stamps_today: 0,
            flagged: false,
            platforms: platform.into_iter().collect(),
            link_token: Self::new_link_token(),
            source,
            deleted: false,
            last_code_window: 0,
        }
    }
}
