//! Staff accounts and who caused an event.

use serde::{Deserialize, Serialize};

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Scanner, kiosk, autopilot, redeem, undo recent.
    Staff,
    /// Everything.
    Admin,
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    /// Staff id.
    pub id: u64,
    /// Name, unique.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Salted hash of the PIN (hex).
    pub pin_hash: String,
    /// Salt (hex).
    pub pin_salt: String,
    /// Disabled accounts cannot sign in.
    pub enabled: bool,
    /// SSH public keys (OpenSSH format) mapped to this account.
    #[serde(default)]
    pub ssh_keys: Vec<String>,
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A signed-in staff member.
    Staff {
        /// Staff id.
        id: u64,
        /// Name at the time.
        name: String,
        /// Role at the time.
        role: Role,
    },
    /// A REST API key.
    ApiKey {
        /// Public prefix of the key.
        prefix: String,
        /// Key name.
        name: String,
        /// Role of the key.
        role: Role,
    },
    /// The local command line (the shop owner's shell).
    Cli {
        /// OS user name.
        user: String,
    },
    /// A channel acting for the customer or the shop.
    Channel {
        /// kiosk, autopilot, receipt, bot, web, scheduler, system.
        name: String,
    },
}

impl Actor {
    /// Whether this actor has admin rights.
    pub fn is_admin(&self) -> bool {
        match self {
            Actor::Staff { role, .. } | Actor::ApiKey { role, .. } => *role == Role::Admin,
            Actor::Cli { .. } => true,
            Actor::Channel { name } => name == "system",
        }
    }

    /// The one admin check: `Forbidden` with `what` (which says what needs
    /// an admin) unless this actor has admin rights.
    pub fn require_admin(&self, what: &str) -> crate::error::CoreResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(crate::error::CoreError::Forbidden(what.into()))
        }
    }

    /// A channel actor.
    pub fn channel(name: &str) -> Self {
        Actor::Channel { name: name.into() }
    }

    /// A short label for the journal's "who" column.
    pub fn label(&self) -> String {
        match self {
            Actor::Staff { name, .. } => name.clone(),
            Actor::ApiKey { name, prefix, .. } => format!("api:{name} ({prefix})"),
            Actor::Cli { user } => format!("cli:{user}"),
            Actor::Channel { name } => name.clone(),
        }
    }
}
