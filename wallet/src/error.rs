//! Errors of the wallet crate.

use thiserror::Error;

/// What can go wrong building, signing or pushing passes.
#[derive(Debug, Error)]
pub enum WalletError {
    /// A certificate or key file could not be read or parsed.
    #[error("{what}: {reason}")]
    Certificate {
        /// Which file (`[wallet] certificate` …).
        what: String,
        /// Why.
        reason: String,
    },
    /// The certificates do not fit the configuration or each other.
    #[error("the pass certificate does not fit: {0}")]
    Mismatch(String),
    /// Signing or packing a pass failed.
    #[error("cannot build the pass: {0}")]
    Build(String),
    /// The shop refused (unknown card, deleted card …).
    #[error(transparent)]
    Core(#[from] stampcard_core::CoreError),
}

impl From<openssl::error::ErrorStack> for WalletError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        WalletError::Build(e.to_string())
    }
}

impl From<zip::result::ZipError> for WalletError {
    fn from(e: zip::result::ZipError) -> Self {
        WalletError::Build(e.to_string())
    }
}

impl From<std::io::Error> for WalletError {
    fn from(e: std::io::Error) -> Self {
        WalletError::Build(e.to_string())
    }
}
