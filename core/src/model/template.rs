//! Card templates and their rewards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A version of a card template. Editing a template writes a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Template id.
    pub id: u64,
    /// Version, starting at 1.
    pub version: u32,
    /// Card name, e.g. "Coffee card".
    pub name: String,
    /// Business name shown on the card.
    pub business_name: String,
    /// Stamps to collect for one reward.
    pub stamps_required: u32,
    /// What the customer gets.
    pub reward: Reward,
    /// Branding.
    #[serde(default)]
    pub branding: Branding,
    /// Terms shown on the card's back.
    #[serde(default)]
    pub terms: String,
    /// Anti-fraud rules.
    #[serde(default)]
    pub rules: FraudRules,
    /// When this version was written.
    pub created_at: DateTime<Utc>,
    /// Archived templates issue no new cards.
    #[serde(default)]
    pub archived: bool,
}

/// Colors and images of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// Background color `#rrggbb`.
    pub background: String,
    /// Foreground (text) color `#rrggbb`.
    pub foreground: String,
    /// Label color `#rrggbb`.
    pub label: String,
    /// Stamp icon: a short symbol.
    pub stamp_icon: String,
    /// Logo file name in the data folder, if any.
    #[serde(default)]
    pub logo: Option<String>,
}

impl Branding {
    /// The logo's file name when it is safe to read from the data folder:
    /// a plain file name, not a path and not hidden. Saving a template
    /// refuses anything else (`rules::validate`); readers use this too, so
    /// a record never makes them read outside the folder.
    pub fn logo_file(&self) -> Option<&str> {
        self.logo.as_deref().filter(|name| {
            !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.')
        })
    }
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            background: "#3b2a20".into(),
            foreground: "#fff8ef".into(),
            label: "#e0b98a".into(),
            stamp_icon: "●".into(),
            logo: None,
        }
    }
}

/// Anti-fraud rules of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FraudRules {
    /// Minimum seconds between two stamps on one card (0 = none).
    pub cooldown_secs: u32,
    /// Maximum stamps per card per shop-local day (0 = no cap).
    pub daily_cap: u32,
    /// Stamps only from a card's rotating code (`crate::rotating`): its
    /// printed static code still finds the card, but does not stamp.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotating_codes: bool,
    /// What a stamp outside the shop's opening hours does.
    #[serde(default, skip_serializing_if = "OutsideHours::is_default")]
    pub outside_hours: OutsideHours,
}

/// What a stamp outside the shop's opening hours (`[shop] opening_hours`) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutsideHours {
    /// It is added, and the owner is alerted.
    #[default]
    Alert,
    /// It is refused (and journaled as refused).
    Refuse,
}

impl OutsideHours {
    fn is_default(&self) -> bool {
        *self == OutsideHours::Alert
    }
}

/// How a voucher's code is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CodeFormat {
    /// Plain text.
    Text,
    /// A QR code.
    #[default]
    Qr,
    /// A Code 128 barcode.
    Code128,
}

/// A lottery prize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prize {
    /// What is won.
    pub name: String,
    /// Relative weight (> 0).
    pub weight: u32,
    /// Days the prize voucher stays valid (0 = no expiry).
    #[serde(default)]
    pub valid_days: u32,
}

/// What reaching the goal gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reward {
    /// The card shows the gift; staff hand it over and mark it given.
    Simple {
        /// The gift.
        description: String,
    },
    /// A voucher with its own code and expiry.
    Voucher {
        /// The gift.
        description: String,
        /// Days the voucher stays valid (0 = no expiry).
        valid_days: u32,
    },
    /// A voucher showing its unique code for a POS to scan.
    RedeemCode {
        /// The gift.
        description: String,
        /// Days the voucher stays valid (0 = no expiry).
        valid_days: u32,
        /// How the code is shown.
        #[serde(default)]
        format: CodeFormat,
        /// A fixed code the POS already knows, shown beside it.
        #[serde(default)]
        fixed_code: Option<String>,
    },
    /// A spin with weighted prizes; the prize becomes a voucher.
    Lottery {
        /// The prizes.
        prizes: Vec<Prize>,
    },
}

impl Reward {
    /// A one-line description of the reward.
    pub fn summary(&self) -> String {
        match self {
            Reward::Simple { description }
            | Reward::Voucher { description, .. }
            | Reward::RedeemCode { description, .. } => description.clone(),
            Reward::Lottery { prizes } => {
                let names: Vec<&str> = prizes.iter().map(|p| p.name.as_str()).collect();
                format!("A lottery spin: {}", names.join(", "))
            }
        }
    }

    /// The reward kind's name.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Reward::Simple { .. } => "simple",
            Reward::Voucher { .. } => "voucher",
            Reward::RedeemCode { .. } => "redeem_code",
            Reward::Lottery { .. } => "lottery",
        }
    }
}
