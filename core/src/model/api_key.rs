//! REST API keys: a random 256-bit secret behind a public prefix; only the
//! SHA-256 of the whole token is stored, so the token is shown once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Role;

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Key id; the public prefix is `stc_<id>`.
    pub id: u64,
    /// Name, e.g. "pos1".
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 (hex) of the whole token.
    pub token_sha256: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When revoked; a revoked key is refused at once.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// The public prefix every token of this key starts with.
    pub fn prefix(&self) -> String {
        prefix(self.id)
    }
}

/// The public prefix of key `id`.
pub fn prefix(id: u64) -> String {
    format!("stc_{id}")
}
