//! Customers and their consent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A consent to marketing on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Granted or withdrawn.
    pub granted: bool,
    /// When it was last set.
    pub at: DateTime<Utc>,
    /// Where it was set (bot, web form, console, import).
    pub source: String,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Customer id.
    pub id: u64,
    /// Name as given.
    pub name: String,
    /// Phone, normalized to digits with an optional leading `+`.
    pub phone: Option<String>,
    /// Email, lowercased.
    pub email: Option<String>,
    /// Birthday.
    pub birthday: Option<NaiveDate>,
    /// Language code (e.g. "en").
    pub language: Option<String>,
    /// Telegram user id.
    pub telegram_id: Option<i64>,
    /// Marketing consent on Telegram.
    pub consent_telegram: Option<Consent>,
    /// Marketing consent by email.
    pub consent_email: Option<Consent>,
    /// When created.
    pub created_at: Option<DateTime<Utc>>,
    /// Set when merged into another customer.
    pub merged_into: Option<u64>,
    /// Set when the customer asked to be forgotten.
    pub forgotten: bool,
}

/// The fields that describe a new or edited customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CustomerFields {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Birthday.
    #[serde(default)]
    pub birthday: Option<NaiveDate>,
    /// Language.
    #[serde(default)]
    pub language: Option<String>,
    /// Telegram user id.
    #[serde(default)]
    pub telegram_id: Option<i64>,
    /// Marketing consent on Telegram, if asked.
    #[serde(default)]
    pub consent_telegram: Option<bool>,
    /// Marketing consent by email, if asked.
    #[serde(default)]
    pub consent_email: Option<bool>,
}
