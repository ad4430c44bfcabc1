//! A card's wallet pass: its fixed serial and authentication token, and the
//! devices that keep it (Apple's PassKit web service registrations).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest device library identifier or push token accepted.
pub const DEVICE_ID_MAX: usize = 128;

/// A device that keeps the pass and wants pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassDevice {
    /// Apple's device library identifier.
    pub device: String,
    /// The APNs push token of that device.
    pub push_token: String,
    /// When it registered.
    pub registered_at: DateTime<Utc>,
}

/// The pass of one card. Its serial number (the card id) and token never
/// change, also not when the card is reissued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassRecord {
    /// The card.
    pub card_id: u64,
    /// The pass's `authenticationToken` (random, 32 hex digits).
    pub auth_token: String,
    /// When the pass was first built.
    pub created_at: DateTime<Utc>,
    /// Registered devices.
    #[serde(default)]
    pub devices: Vec<PassDevice>,
    /// The latest campaign news shown on the pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub news: Option<PassNews>,
}

/// A campaign's short text on the pass (its news field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassNews {
    /// The campaign that posted it.
    pub campaign_id: u64,
    /// The PUSH text.
    pub text: String,
    /// When it was posted.
    pub at: DateTime<Utc>,
    /// Flipped when a campaign posts the same text again: Wallet announces
    /// only a changed value, so the field then ends in an invisible mark.
    #[serde(default)]
    pub repeat: bool,
}

impl PassNews {
    /// The field's value as the pass shows it.
    pub fn value(&self) -> String {
        if self.repeat {
            format!("{}\u{200b}", self.text)
        } else {
            self.text.clone()
        }
    }
}

impl PassRecord {
    /// A new pass for a card with a fresh random token.
    pub fn new(card_id: u64, now: DateTime<Utc>) -> Self {
        Self {
            card_id,
            auth_token: hex::encode(rand::random::<[u8; 16]>()),
            created_at: now,
            devices: Vec::new(),
            news: None,
        }
    }

    /// The serial number of the pass of a card.
    pub fn serial_of(card_id: u64) -> String {
        card_id.to_string()
    }

    /// The card a serial number names.
    pub fn card_of(serial: &str) -> Option<u64> {
        if serial.is_empty() || serial.len() > 20 || !serial.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        serial.parse().ok()
    }

    /// Whether `token` is this pass's token (constant time).
    pub fn token_matches(&self, token: &str) -> bool {
        self.auth_token.len() == token.len()
            && self
                .auth_token
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Whether a device library identifier or push token is well formed:
/// 1 to [`DEVICE_ID_MAX`] characters of letters, digits, `.`, `-`, `_`.
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= DEVICE_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_and_device_ids_are_checked() {
        assert_eq!(PassRecord::card_of("100001"), Some(100_001));
        assert_eq!(PassRecord::card_of("10a"), None);
        assert_eq!(PassRecord::card_of(""), None);
        assert_eq!(PassRecord::card_of("+5"), None);
        assert!(valid_device_id("a1b2c3"));
        assert!(!valid_device_id("a/b"));
        assert!(!valid_device_id(""));
        assert!(!valid_device_id(&"x".repeat(DEVICE_ID_MAX + 1)));
        let p = PassRecord::new(1, Utc::now());
        assert_eq!(p.auth_token.len(), 32);
        assert!(p.token_matches(&p.auth_token.clone()));
        assert!(!p.token_matches("0123456789abcdef0123456789abcdef"));
    }
}
