//! Rotating card codes: a code a screenshot cannot reuse.
//!
//! Each card has a TOTP secret (RFC 6238: HMAC-SHA-1, 30-second windows,
//! 8 digits — the form Google Wallet's rotating barcode computes on the
//! phone). The secret is derived from the shop's secret, the card id and
//! the card's reissue counter, so it needs no record of its own and a
//! reissued card's old secret stops working. A rotating code is digits
//! only: the kind digit `5`, the card id (9 digits), then the 8 TOTP digits
//! — no check digit, because the phone computes the code.
//!
//! A code is good in the window it was made for and in the windows either
//! side (phone clocks drift); its window is then used up on the card (see
//! `Card::last_code_window`), so a second scan of the same screenshot is a
//! replay.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::codes::{ID_DIGITS, constant_time_eq};

/// The kind digit of a rotating code.
pub const KIND_DIGIT: char = '5';
/// TOTP digits at the end of a rotating code.
pub const TOTP_DIGITS: usize = 8;
/// Length of a rotating code.
pub const CODE_LEN: usize = 1 + ID_DIGITS + TOTP_DIGITS;
/// Seconds in one window.
pub const PERIOD_SECS: i64 = 30;
/// Bytes of a card's TOTP secret (the size of a SHA-1 block output, as
/// RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// How far back or ahead a code that fails is still told apart as
/// expired (or early) rather than not issued here: ten minutes.
const EXPIRED_WINDOWS: u64 = 20;

/// A card's TOTP secret.
pub fn card_secret(shop_secret: &[u8], card_id: u64, counter: u32) -> [u8; SECRET_BYTES] {
    let message = format!("stampcard-totp-v1|{card_id}|{counter}");
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(shop_secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut secret = [0u8; SECRET_BYTES];
    secret.copy_from_slice(&bytes[..SECRET_BYTES]);
    secret
}

/// The window a moment falls in (seconds since the Unix epoch / 30).
pub fn window_of(at: DateTime<Utc>) -> u64 {
    at.timestamp().max(0) as u64 / PERIOD_SECS as u64
}

/// Seconds until the window of `at` ends (1 to 30).
pub fn seconds_left(at: DateTime<Utc>) -> u32 {
    (PERIOD_SECS - at.timestamp().rem_euclid(PERIOD_SECS)) as u32
}

/// The TOTP value of a window (RFC 4226's dynamic truncation of
/// HMAC-SHA-1 over the big-endian window number), as 8 digits.
pub fn totp(secret: &[u8], window: u64) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(&window.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let value = bin % 10u32.pow(TOTP_DIGITS as u32);
    format!("{value:0TOTP_DIGITS$}")
}

/// The rotating code of a card at a moment.
pub fn code(shop_secret: &[u8], card_id: u64, counter: u32, at: DateTime<Utc>) -> String {
    let secret = card_secret(shop_secret, card_id, counter);
    format!(
        "{KIND_DIGIT}{card_id:0ID_DIGITS$}{}",
        totp(&secret, window_of(at))
    )
}

/// What a rotating code's digits say at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Made for this window (the previous, current or next one).
    Good {
        /// The window it was made for.
        window: u64,
    },
    /// Made for a window up to ten minutes away: an old screenshot, or a
    /// phone whose clock is far off.
    Expired,
    /// Made for no window near now: not this card's code.
    Wrong,
}

/// Checks a rotating code's TOTP digits for a card at `now`.
pub fn check(
    shop_secret: &[u8],
    card_id: u64,
    counter: u32,
    digits: &str,
    now: DateTime<Utc>,
) -> Check {
    let secret = card_secret(shop_secret, card_id, counter);
    let current = window_of(now);
    let matches = |w: u64| constant_time_eq(totp(&secret, w).as_bytes(), digits.as_bytes());
    if let Some(window) = [current, current.saturating_sub(1), current + 1]
        .into_iter()
        .find(|w| matches(*w))
    {
        return Check::Good { window };
    }
    let near = current.saturating_sub(EXPIRED_WINDOWS)..=current + EXPIRED_WINDOWS;
    if near.into_iter().any(matches) {
        return Check::Expired;
    }
    Check::Wrong
}

/// The hex (Base16) form of a card's secret, as Google Wallet's rotating
/// barcode takes it.
pub fn secret_hex(shop_secret: &[u8], card_id: u64, counter: u32) -> String {
    hex::encode(card_secret(shop_secret, card_id, counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 secret "12345678901234567890",
    /// 8 digits, at the listed times.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59i64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(totp(secret, (t / 30) as u64), want, "t={t}");
        }
    }

    #[test]
    fn previous_current_and_next_windows_are_good_others_not() {
        let s = b"shop";
        let now = DateTime::from_timestamp(1_800_000_015, 0).unwrap();
        let w = window_of(now);
        let key = card_secret(s, 100_001, 0);
        for d in [-1i64, 0, 1] {
            let window = (w as i64 + d) as u64;
            assert_eq!(
                check(s, 100_001, 0, &totp(&key, window), now),
                Check::Good { window }
            );
        }
        assert_eq!(
            check(s, 100_001, 0, &totp(&key, w - 2), now),
            Check::Expired
        );
        assert_eq!(
            check(s, 100_001, 0, &totp(&key, w + 2), now),
            Check::Expired
        );
        assert_eq!(check(s, 100_001, 1, &totp(&key, w), now), Check::Wrong);
        assert_eq!(check(s, 100_002, 0, &totp(&key, w), now), Check::Wrong);
        let c = code(s, 100_001, 0, now);
        assert_eq!(c.len(), CODE_LEN);
        assert!(c.starts_with("5000100001"));
        assert_eq!(seconds_left(now), 15);
    }
}
