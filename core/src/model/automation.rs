//! Automations: standing campaigns of a template that the scheduler runs
//! once a day — a birthday gift, a voucher-expiry reminder, a win-back
//! after an absence, a nudge when one stamp is missing. Each reaches a card
//! once per occasion (this year's birthday, this absence, this cycle, this
//! voucher), under the same consent, frequency cap and quiet hours as any
//! campaign.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, CampaignVoucher, Segment};

/// What triggers an automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AutomationKind {
    /// The birthday is at most `days_before` days ahead (once a year).
    Birthday {
        /// Days ahead.
        days_before: u32,
    },
    /// An active voucher expires within `days_before` days (once per voucher).
    VoucherExpiring {
        /// Days ahead.
        days_before: u32,
    },
    /// No stamp for `days` (once per absence).
    WinBack {
        /// Days without a visit.
        days: u32,
    },
    /// One stamp to the reward (once per cycle).
    AlmostReady,
}

impl AutomationKind {
    /// Parses `birthday:7`, `voucher-expiring:3`, `win-back:30`, `almost-ready`.
    pub fn parse(s: &str) -> Result<AutomationKind, String> {
        let s = s.trim().to_lowercase();
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s.as_str(), None),
        };
        let days = |max: u32| -> Result<u32, String> {
            let a = arg.ok_or_else(|| format!("{name} needs a number of days, e.g. {name}:7"))?;
            match a.parse::<u32>() {
                Ok(d) if (1..=max).contains(&d) => Ok(d),
                _ => Err(format!("'{a}' is not a number of days from 1 to {max}")),
            }
        };
        match name {
            "birthday" => Ok(AutomationKind::Birthday {
                days_before: days(60)?,
            }),
            "voucher-expiring" => Ok(AutomationKind::VoucherExpiring {
                days_before: days(365)?,
            }),
            "win-back" => Ok(AutomationKind::WinBack { days: days(3650)? }),
            "almost-ready" if arg.is_none() => Ok(AutomationKind::AlmostReady),
            "almost-ready" => Err("almost-ready takes no number".into()),
            _ => Err(format!(
                "'{s}' is not an automation: birthday:DAYS, voucher-expiring:DAYS, win-back:DAYS, almost-ready"
            )),
        }
    }

    /// Whose cards it looks at each day.
    pub fn segment(self) -> Segment {
        match self {
            AutomationKind::Birthday { days_before } => {
                Segment::BirthdayWithin { days: days_before }
            }
            AutomationKind::VoucherExpiring { days_before } => {
                Segment::VoucherExpiring { days: days_before }
            }
            AutomationKind::WinBack { days } => Segment::NotSeen { days },
            AutomationKind::AlmostReady => Segment::AlmostReady,
        }
    }

    /// How it reads in lists.
    pub fn label(self) -> String {
        match self {
            AutomationKind::Birthday { days_before } => {
                format!("birthday gift, {days_before} days before")
            }
            AutomationKind::VoucherExpiring { days_before } => {
                format!("voucher expiry reminder, {days_before} days before")
            }
            AutomationKind::WinBack { days } => format!("win-back after {days} days away"),
            AutomationKind::AlmostReady => "one stamp to the reward".into(),
        }
    }
}

/// An automation as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// Automation id.
    pub id: u64,
    /// Name (the daily campaigns are named after it).
    pub name: String,
    /// Whose holders.
    pub template_id: u64,
    /// What triggers it.
    pub kind: AutomationKind,
    /// The message.
    pub text: String,
    /// The wallet PUSH text.
    pub push_text: String,
    /// Channels.
    pub channels: Vec<String>,
    /// A voucher for each recipient (the birthday gift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<CampaignVoucher>,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Actor,
}
