//! Errors of the core, each with a stable machine code.

use thiserror::Error;

use crate::codes::CodeError;
use crate::store::StoreError;

/// Why a stamp was refused by the anti-fraud rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// Too soon after the previous stamp.
    #[error(
        "cooldown: the previous stamp was {elapsed_secs}s ago, this card accepts one every {cooldown_secs}s"
    )]
    Cooldown {
        /// Seconds since the previous stamp.
        elapsed_secs: i64,
        /// The template's cooldown.
        cooldown_secs: u32,
    },
    /// The daily cap would be exceeded.
    #[error("daily cap: {today} stamps today, at most {cap} per day on this card")]
    DailyCap {
        /// Stamps already today.
        today: u32,
        /// The cap.
        cap: u32,
    },
    /// A rotating code whose window already stamped this card: a second
    /// scan of the same screen (a screenshot passed on).
    #[error("this rotating code was already used: ask for the card's live code")]
    ReplayedCode,
    /// A rotating code of a window minutes away: an old screenshot, or a
    /// phone whose clock is far off.
    #[error("this rotating code has expired: ask for the card's live code")]
    ExpiredCode,
    /// A rotating code this card never showed.
    #[error("this rotating code is not the card's: ask for the card's live code")]
    WrongCode,
    /// A printed code that does not verify for its card: altered or made
    /// up (journaled; the caller is told `code_forged`).
    #[error("this code was not issued for this card: it is altered or made up")]
    ForgedCode,
    /// Outside the shop's opening hours, on a template that refuses then.
    #[error("the shop is closed now ({local}); this card takes stamps in opening hours only")]
    OutsideHours {
        /// The shop-local time of the attempt ("Sun 03:12").
        local: String,
    },
}

impl Refusal {
    /// Machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Cooldown { .. } => "cooldown",
            Refusal::DailyCap { .. } => "daily_cap",
            Refusal::ReplayedCode => "code_replayed",
            Refusal::ExpiredCode => "code_expired",
            Refusal::WrongCode => "code_wrong",
            Refusal::ForgedCode => "code_forged",
            Refusal::OutsideHours { .. } => "outside_hours",
        }
    }

    /// Whether a refusal's machine code (as journaled) refused the code
    /// shown rather than the stamp: a replayed, expired or wrong rotating
    /// code, or a forged printed one (what the alerts count as guessing).
    pub fn refused_the_code(code: &str) -> bool {
        [
            Refusal::ReplayedCode,
            Refusal::ExpiredCode,
            Refusal::WrongCode,
            Refusal::ForgedCode,
        ]
        .iter()
        .any(|r| r.code() == code)
    }
}

/// An error of a core command or query. Nothing was changed when one is returned,
/// except that a refused stamp is journaled.
#[derive(Debug, Error)]
pub enum CoreError {
    /// The code did not parse or verify.
    #[error(transparent)]
    Code(#[from] CodeError),
    /// The code was valid once, but the card was reissued.
    #[error("this card code was replaced when card {card_id} was reissued; use the new code")]
    ReissuedCode {
        /// The card.
        card_id: u64,
    },
    /// No such record.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The card was deleted.
    #[error("card {0} was deleted")]
    CardDeleted(u64),
    /// A stamp was refused by the anti-fraud rules (and journaled).
    #[error("stamp refused: {reason}")]
    Refused {
        /// Why.
        reason: Refusal,
        /// The journaled refusal.
        event_id: u64,
    },
    /// A card whose template takes only rotating codes was shown its
    /// printed static code (or named by id by a member of staff).
    #[error(
        "card {card_id} stamps only with its live rotating code: ask the customer to open the card on their phone (web card or Google Wallet) and scan that"
    )]
    RotatingCodeNeeded {
        /// The card.
        card_id: u64,
    },
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A value a customer (or staff for them) gave that the shop cannot
    /// take; front-ends say it in the customer's language by its key
    /// (`bad.<key>` in `core/locales/`).
    #[error("{}", crate::texts::bad_value(None, key, value))]
    BadValue {
        /// The catalog key after `bad.` (`phone`, `email`, `birthday` …).
        key: &'static str,
        /// The value refused (or the limit it broke).
        value: String,
    },
    /// The voucher was already redeemed.
    #[error("voucher {id} was already redeemed on {at}")]
    AlreadyRedeemed {
        /// Voucher id.
        id: u64,
        /// When, shop-local to the minute ("2026-12-02 09:41").
        at: String,
    },
    /// The voucher expired.
    #[error("voucher {id} expired on {at}")]
    Expired {
        /// Voucher id.
        id: u64,
        /// When, shop-local to the minute.
        at: String,
    },
    /// The voucher was voided.
    #[error("voucher {0} was voided")]
    Voided(u64),
    /// The receipt code was already claimed.
    #[error("this receipt code was already used")]
    AlreadyClaimed,
    /// The receipt code is not valid now.
    #[error("{0}")]
    ReceiptInvalid(String),
    /// Nothing to hand over.
    #[error("card {0} has no reward waiting to be handed over")]
    NoReward(u64),
    /// No lottery spin available.
    #[error("card {0} has no lottery spin available")]
    NoSpin(u64),
    /// The actor lacks the rights.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// No valid credentials (a missing, unknown or revoked API key).
    #[error("not signed in: {0}")]
    Unauthenticated(String),
    /// The event cannot be reversed.
    #[error("cannot reverse: {0}")]
    NotReversible(String),
    /// The idempotency key was used with a different request.
    #[error("idempotency key '{0}' was already used with a different request")]
    IdempotencyMismatch(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A card actor could not be reached.
    #[error("card {0} is unavailable: {1}")]
    Unavailable(u64, String),
}

impl CoreError {
    /// A stable machine-readable code for scripts and the API.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Code(CodeError::CheckDigit) => "code_mistyped",
            CoreError::Code(CodeError::Forged) => "code_forged",
            CoreError::Code(_) => "code_invalid",
            CoreError::ReissuedCode { .. } => "code_reissued",
            CoreError::NotFound { .. } => "not_found",
            CoreError::CardDeleted(_) => "card_deleted",
            CoreError::Refused { reason, .. } => reason.code(),
            CoreError::RotatingCodeNeeded { .. } => "rotating_code_needed",
            CoreError::Invalid(_) | CoreError::BadValue { .. } => "invalid_input",
            CoreError::AlreadyRedeemed { .. } => "already_redeemed",
            CoreError::Expired { .. } => "expired",
            CoreError::Voided(_) => "voided",
            CoreError::AlreadyClaimed => "already_claimed",
            CoreError::ReceiptInvalid(_) => "receipt_invalid",
            CoreError::NoReward(_) => "no_reward",
            CoreError::NoSpin(_) => "no_spin",
            CoreError::Forbidden(_) => "forbidden",
            CoreError::Unauthenticated(_) => "unauthenticated",
            CoreError::NotReversible(_) => "not_reversible",
            CoreError::IdempotencyMismatch(_) => "idempotency_mismatch",
            CoreError::Store(_) => "store_error",
            CoreError::Unavailable(..) => "unavailable",
        }
    }

    /// Shorthand for [`CoreError::NotFound`].
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        CoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// Result of core operations.
pub type CoreResult<T> = Result<T, CoreError>;
