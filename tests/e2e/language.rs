//! One language per customer: every text a Russian-speaking customer can
//! read — the bot's, the web pages' and passes', the shop's card news,
//! voucher lines and email frame, and why anything they tried was refused —
//! is Russian. Words in Latin letters are allowed only for names of things
//! (Telegram, Apple Wallet …), the bot's /commands, URLs and addresses; the
//! shop's own names and texts come in as placeholders and are not checked.

use stampcard_core::CoreError;
use stampcard_core::codes::CodeError;
use stampcard_core::error::Refusal;
use stampcard_core::store::StoreError;
use stampcard_e2e::latin::stray_words;

/// Names that stay as they are in Russian text.
const NAMES: &[&str] = &[
    "Telegram", "Apple", "Google", "Wallet", "QR", "email", "en", "ru", "PIN",
];

/// A text with its `{placeholders}` removed (they carry the shop's and
/// the customer's own words).
fn without_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn every_russian_catalog_text_is_russian() {
    let sets = [
        ("core", stampcard_core::texts::catalogs()),
        ("bot", stampcard_bot::texts::catalogs()),
        ("wallet", stampcard_wallet::texts::catalogs()),
    ];
    let mut english = Vec::new();
    for (set, catalogs) in sets {
        let texts = catalogs.entries("ru");
        assert!(texts.len() > 10, "the {set} catalog has Russian texts");
        assert_eq!(
            texts.len(),
            catalogs.entries("en").len(),
            "{set}: every English text has a Russian one"
        );
        for (key, text) in texts {
            // The bot's /commands are Latin by Telegram's design.
            let words: Vec<String> = without_placeholders(text)
                .split_whitespace()
                .filter(|w| !w.trim_start_matches(['(', '«', '"']).starts_with('/'))
                .map(str::to_string)
                .collect();
            let stray = stray_words(&words.join(" "), NAMES);
            if !stray.is_empty() {
                english.push(format!("{set} {key}: {stray:?} in {text:?}"));
            }
        }
    }
    assert!(
        english.is_empty(),
        "English in Russian texts:\n{}",
        english.join("\n")
    );
}

#[test]
fn every_refusal_a_customer_can_meet_is_said_in_russian() {
    let mut errors = vec![
        CoreError::Code(CodeError::Empty),
        CoreError::Code(CodeError::NotDigits('x')),
        CoreError::Code(CodeError::UnknownKind("9".into())),
        CoreError::Code(CodeError::WrongLength {
            kind: "card",
            expected: 19,
            got: 7,
        }),
        CoreError::Code(CodeError::CheckDigit),
        CoreError::Code(CodeError::Forged),
        CoreError::Code(CodeError::WrongKind {
            expected: "card",
            got: "voucher",
        }),
        CoreError::ReissuedCode { card_id: 7 },
        CoreError::not_found("template", 999),
        CoreError::CardDeleted(7),
        CoreError::Refused {
            reason: Refusal::Cooldown {
                elapsed_secs: 3,
                cooldown_secs: 60,
            },
            event_id: 1,
        },
        CoreError::Refused {
            reason: Refusal::DailyCap { today: 5, cap: 5 },
            event_id: 1,
        },
        CoreError::AlreadyRedeemed {
            id: 1,
            at: "2026-12-01 09:41".into(),
        },
        CoreError::Expired {
            id: 1,
            at: "2026-12-01 09:41".into(),
        },
        CoreError::Voided(1),
        CoreError::AlreadyClaimed,
        CoreError::ReceiptInvalid("this receipt code is too old".into()),
        CoreError::NoReward(7),
        CoreError::NoSpin(7),
        CoreError::Forbidden("staff only".into()),
        CoreError::Unauthenticated("no key".into()),
        CoreError::NotReversible("too old".into()),
        CoreError::IdempotencyMismatch("till1".into()),
        CoreError::Store(StoreError::Io("disk full".into())),
        CoreError::Unavailable(7, "stopping".into()),
    ];
    // Every refused value the shop has a text for.
    for (key, _) in stampcard_core::texts::catalogs().entries("en") {
        if let Some(bad) = key.strip_prefix("bad.") {
            let key: &'static str = Box::leak(bad.to_string().into_boxed_str());
            errors.push(CoreError::BadValue {
                key,
                value: "Ивановна".into(),
            });
        }
    }
    let mut english = Vec::new();
    for e in &errors {
        let said = stampcard_bot::texts::reason("ru", e);
        let stray = stray_words(&said, NAMES);
        if !stray.is_empty() || said.starts_with("reason.") {
            english.push(format!("{:?}: {said:?}", e.code()));
        }
    }
    assert!(
        english.is_empty(),
        "said in English:\n{}",
        english.join("\n")
    );
}
