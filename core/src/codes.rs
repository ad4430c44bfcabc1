//! Printed codes: card and voucher codes (HMAC-signed, digits only),
//! random receipt codes and receipt codes a POS derives offline.
//!
//! Every code is digits only, so keyboard-wedge scanners type it the same on
//! any keyboard layout. The first digit tells the kind; the last digit is a
//! Damm check digit, so a mistyped code is told apart from a forged one.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// Digits of the zero-padded id in card and voucher codes.
pub const ID_DIGITS: usize = 9;
/// Digits of HMAC in card and voucher codes.
pub const MAC_DIGITS: usize = 8;
/// Length of a card or voucher code.
pub const SIGNED_CODE_LEN: usize = 1 + ID_DIGITS + MAC_DIGITS + 1;
/// Digits of randomness in a stored receipt code.
pub const RECEIPT_RANDOM_DIGITS: usize = 14;
/// Length of a stored (random) receipt code.
pub const RECEIPT_CODE_LEN: usize = 1 + RECEIPT_RANDOM_DIGITS + 1;
/// Length of a POS-derived receipt code.
pub const POS_CODE_LEN: usize = 1 + 3 + 6 + 3 + 6 + 4 + 2 + MAC_DIGITS + 1;
/// MAC digits of the long form of a POS code.
pub const POS_LONG_MAC_DIGITS: usize = 16;
/// Digits of a POS code's long form (a 16-digit MAC).
pub const POS_LONG_CODE_LEN: usize = POS_CODE_LEN - MAC_DIGITS + POS_LONG_MAC_DIGITS;

/// What a code stands for; its first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// An issued stamp card (`1…`).
    Card,
    /// A voucher (`2…`).
    Voucher,
    /// A stored one-time receipt code (`3…`).
    Receipt,
    /// A receipt code derived offline by a POS (`4…`).
    PosReceipt,
}

impl CodeKind {
    /// The kind digit.
    pub fn digit(self) -> u8 {
        match self {
            CodeKind::Card => 1,
            CodeKind::Voucher => 2,
            CodeKind::Receipt => 3,
            CodeKind::PosReceipt => 4,
        }
    }

    fn from_digit(d: u8) -> Option<Self> {
        match d {
            1 => Some(CodeKind::Card),
            2 => Some(CodeKind::Voucher),
            3 => Some(CodeKind::Receipt),
            4 => Some(CodeKind::PosReceipt),
            _ => None,
        }
    }

    /// A human name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            CodeKind::Card => "card",
            CodeKind::Voucher => "voucher",
            CodeKind::Receipt | CodeKind::PosReceipt => "receipt",
        }
    }
}

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeError {
    /// Empty input.
    #[error("no code given")]
    Empty,
    /// Letters or symbols where only digits belong.
    #[error("a code has digits only; '{0}' is not a digit")]
    NotDigits(char),
    /// The first digit names no kind of code.
    #[error("'{0}' is not a code of this shop (unknown kind digit)")]
    UnknownKind(String),
    /// Wrong number of digits for its kind.
    #[error("a {kind} code has {expected} digits, this one has {got}")]
    WrongLength {
        /// The kind the first digit names.
        kind: &'static str,
        /// The length that kind has.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The check digit does not match: most likely a typo.
    #[error("the code's check digit does not match: probably mistyped, scan or type it again")]
    CheckDigit,
    /// The signature does not match: not issued by this shop.
    #[error("this code was not issued by this shop (signature mismatch)")]
    Forged,
    /// A code of another kind where a specific kind was expected.
    #[error("this is a {got} code, expected a {expected} code")]
    WrongKind {
        /// The kind expected.
        expected: &'static str,
        /// The kind given.
        got: &'static str,
    },
}

const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm check digit of a string of digits.
pub fn damm(digits: &str) -> u8 {
    digits.bytes().fold(0u8, |interim, b| {
        DAMM[interim as usize][(b - b'0') as usize]
    })
}

fn with_check(body: String) -> String {
    let c = damm(&body);
    format!("{body}{c}")
}

/// HMAC-SHA256 of `message` under `key`, reduced to `digits` decimal digits.
pub fn mac_digits(key: &[u8], message: &[u8], digits: usize) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message);
    let bytes = mac.finalize().into_bytes();
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[..8]);
    let value = u64::from_be_bytes(n) % 10u64.pow(digits as u32);
    format!("{value:0digits$}")
}

fn signed_mac(secret: &[u8], kind: CodeKind, id: u64, counter: u32) -> String {
    let message = format!("stampcard-code-v1|{}|{id}|{counter}", kind.digit());
    mac_digits(secret, message.as_bytes(), MAC_DIGITS)
}

/// The printed code of a card or voucher.
pub fn signed_code(secret: &[u8], kind: CodeKind, id: u64, counter: u32) -> String {
    let mac = signed_mac(secret, kind, id, counter);
    with_check(format!("{}{id:0ID_DIGITS$}{mac}", kind.digit()))
}

/// A code after its digits, kind and check digit were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedCode {
    /// A card or voucher code: its id and MAC, still to be verified against the record.
    Signed {
        /// Card or voucher.
        kind: CodeKind,
        /// The record id.
        id: u64,
        /// The MAC digits as printed.
        mac: String,
    },
    /// A stored receipt code (verified by lookup).
    Receipt(String),
    /// A POS-derived receipt code.
    Pos(PosReceipt),
    /// A card's rotating code (`crate::rotating`): its card id and TOTP
    /// digits, still to be checked against the card and the clock.
    Rotating {
        /// The card id.
        id: u64,
        /// The 8 TOTP digits.
        totp: String,
    },
}

/// The fields of a POS-derived receipt code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosReceipt {
    /// The POS key id.
    pub key_id: u16,
    /// Receipt date as YYMMDD.
    pub date: u32,
    /// Till number.
    pub till: u16,
    /// Receipt number.
    pub receipt: u32,
    /// Card template id.
    pub template: u32,
    /// Stamps to add.
    pub stamps: u8,
    /// The MAC digits as printed.
    pub mac: String,
}

impl PosReceipt {
    /// Whether this is the long form (a 16-digit MAC).
    pub fn is_long(&self) -> bool {
        self.mac.len() == POS_LONG_MAC_DIGITS
    }

    /// The message the POS MACs (`stampcard-pos-v1` for the short form,
    /// `stampcard-pos-v2` for the long one); see README for test vectors.
    pub fn mac_message(&self, long: bool) -> String {
        format!(
            "stampcard-pos-v{}|{}|{:06}|{}|{}|{}|{}",
            if long { 2 } else { 1 },
            self.key_id,
            self.date,
            self.till,
            self.receipt,
            self.template,
            self.stamps
        )
    }

    /// The code's body without MAC and check digit; unique per receipt.
    pub fn claim_key(&self) -> String {
        format!(
            "pos:{}:{:06}:{}:{}",
            self.key_id, self.date, self.till, self.receipt
        )
    }

    /// Whether the MAC matches under the POS key.
    pub fn verify(&self, key: &[u8]) -> bool {
        let long = self.is_long();
        let digits = if long {
            POS_LONG_MAC_DIGITS
        } else {
            MAC_DIGITS
        };
        let expected = mac_digits(key, self.mac_message(long).as_bytes(), digits);
        constant_time_eq(expected.as_bytes(), self.mac.as_bytes())
    }
}

/// Derives a POS receipt code, what a POS does offline with its key: the
/// long form (a 16-digit MAC) with `long`, else the short one (8 digits).
#[allow(clippy::too_many_arguments)]
pub fn pos_code(
    key: &[u8],
    key_id: u16,
    date_yymmdd: u32,
    till: u16,
    receipt: u32,
    template: u32,
    stamps: u8,
    long: bool,
) -> String {
    let mut r = PosReceipt {
        key_id,
        date: date_yymmdd,
        till,
        receipt,
        template,
        stamps,
        mac: String::new(),
    };
    let digits = if long {
        POS_LONG_MAC_DIGITS
    } else {
        MAC_DIGITS
    };
    r.mac = mac_digits(key, r.mac_message(long).as_bytes(), digits);
    with_check(format!(
        "4{key_id:03}{date_yymmdd:06}{till:03}{receipt:06}{template:04}{stamps:02}{}",
        r.mac
    ))
}

/// A fresh random receipt code.
pub fn random_receipt_code(rng: &mut impl rand::Rng) -> String {
    let body: String = (0..RECEIPT_RANDOM_DIGITS)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    with_check(format!("3{body}"))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a scanned or typed code: trims, checks digits, kind, length and check digit.
pub fn parse(input: &str) -> Result<ParsedCode, CodeError> {
    let code: String = input.trim().chars().filter(|c| *c != ' ').collect();
    let Some(first) = code.chars().next() else {
        return Err(CodeError::Empty);
    };
    if let Some(bad) = code.chars().find(|c| !c.is_ascii_digit()) {
        return Err(CodeError::NotDigits(bad));
    }
    if first == crate::rotating::KIND_DIGIT {
        return parse_rotating(code);
    }
    let kind = CodeKind::from_digit(first as u8 - b'0')
        .ok_or_else(|| CodeError::UnknownKind(code.clone()))?;
    let expected = match kind {
        CodeKind::Card | CodeKind::Voucher => SIGNED_CODE_LEN,
        CodeKind::Receipt => RECEIPT_CODE_LEN,
        CodeKind::PosReceipt if code.len() == POS_LONG_CODE_LEN => POS_LONG_CODE_LEN,
        CodeKind::PosReceipt => POS_CODE_LEN,
    };
    if code.len() != expected {
        return Err(CodeError::WrongLength {
            kind: kind.name(),
            expected,
            got: code.len(),
        });
    }
    if damm(&code) != 0 {
        return Err(CodeError::CheckDigit);
    }
    let body = &code[..code.len() - 1];
    let num = |from: usize, len: usize| -> u64 { body[from..from + len].parse().unwrap_or(0) };
    Ok(match kind {
        CodeKind::Card | CodeKind::Voucher => ParsedCode::Signed {
            kind,
            id: num(1, ID_DIGITS),
            mac: body[1 + ID_DIGITS..].to_string(),
        },
        CodeKind::Receipt => ParsedCode::Receipt(code),
        CodeKind::PosReceipt => ParsedCode::Pos(PosReceipt {
            key_id: num(1, 3) as u16,
            date: num(4, 6) as u32,
            till: num(10, 3) as u16,
            receipt: num(13, 6) as u32,
            template: num(19, 4) as u32,
            stamps: num(23, 2) as u8,
            mac: body[25..].to_string(),
        }),
    })
}

/// A rotating code: kind digit, card id, TOTP digits (no check digit).
fn parse_rotating(code: String) -> Result<ParsedCode, CodeError> {
    use crate::rotating::CODE_LEN;
    if code.len() != CODE_LEN {
        return Err(CodeError::WrongLength {
            kind: "rotating card",
            expected: CODE_LEN,
            got: code.len(),
        });
    }
    Ok(ParsedCode::Rotating {
        id: code[1..1 + ID_DIGITS].parse().unwrap_or(0),
        totp: code[1 + ID_DIGITS..].to_string(),
    })
}

/// Checks a parsed signed code against its record's reissue counter.
///
/// Returns `Ok(())` when it matches the current counter,
/// `Err(Some(n))` when it matches an earlier counter `n` (reissued away),
/// and `Err(None)` when it matches none (forged).
pub fn verify_signed(
    secret: &[u8],
    kind: CodeKind,
    id: u64,
    mac: &str,
    counter: u32,
) -> Result<(), Option<u32>> {
    if constant_time_eq(
        signed_mac(secret, kind, id, counter).as_bytes(),
        mac.as_bytes(),
    ) {
        return Ok(());
    }
    for old in (0..counter).rev() {
        if constant_time_eq(signed_mac(secret, kind, id, old).as_bytes(), mac.as_bytes()) {
            return Err(Some(old));
        }
    }
    Err(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn signed_codes_round_trip_and_reject_tampering() {
        let code = signed_code(SECRET, CodeKind::Card, 100_001, 0);
        assert_eq!(code.len(), SIGNED_CODE_LEN);
        let ParsedCode::Signed { kind, id, mac } = parse(&code).unwrap() else {
            panic!("not signed")
        };
        assert_eq!((kind, id), (CodeKind::Card, 100_001));
        assert_eq!(verify_signed(SECRET, kind, id, &mac, 0), Ok(()));
        assert_eq!(verify_signed(SECRET, kind, id, &mac, 2), Err(Some(0)));
        assert_eq!(verify_signed(b"other", kind, id, &mac, 0), Err(None));
        // Every single-digit change is caught by the check digit.
        for i in 0..code.len() {
            let mut b = code.clone().into_bytes();
            b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
            assert!(parse(std::str::from_utf8(&b).unwrap()).is_err(), "pos {i}");
        }
    }

    #[test]
    fn pos_codes_round_trip() {
        let key = b"pos-key-0001";
        let code = pos_code(key, 7, 261122, 2, 4711, 1, 2, false);
        assert_eq!(code.len(), POS_CODE_LEN);
        let ParsedCode::Pos(r) = parse(&code).unwrap() else {
            panic!("not pos")
        };
        assert_eq!(
            (r.key_id, r.date, r.till, r.receipt, r.template, r.stamps),
            (7, 261122, 2, 4711, 1, 2)
        );
        assert!(r.verify(key));
        assert!(!r.verify(b"other key"));
        // The long form: 16 MAC digits under its own message.
        let long = pos_code(key, 7, 261122, 2, 4711, 1, 2, true);
        assert_eq!(long.len(), POS_LONG_CODE_LEN);
        let ParsedCode::Pos(l) = parse(&long).unwrap() else {
            panic!("not pos")
        };
        assert!(l.is_long() && l.verify(key) && !l.verify(b"other key"));
        assert_eq!(l.claim_key(), r.claim_key(), "one receipt, claimable once");
        // Its MAC is no extension of the short one.
        assert!(!l.mac.ends_with(&r.mac) && !l.mac.starts_with(&r.mac));
    }

    /// The test vectors documented in the README (checked there against a
    /// Python implementation of the same derivation).
    #[test]
    fn pos_code_test_vectors() {
        let key1 = hex::decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
            .unwrap();
        assert_eq!(
            pos_code(&key1, 7, 261122, 2, 4711, 1, 2, false),
            "4007261122002004711000102292852820"
        );
        let key2 = hex::decode("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
            .unwrap();
        assert_eq!(
            pos_code(&key2, 1, 260504, 0, 1, 183, 1, false),
            "4001260504000000001018301398550241"
        );
    }
}
