//! [`Access`]: who may do what — staff accounts and their sign-in (in
//! `staff.rs`), PIN lock-outs (`pin_guard.rs`) and REST API keys
//! (`api_keys.rs`, with the keys checked so far kept in memory) — and the
//! signal live sessions watch to re-check their staff member.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::context::{Context, on_context};

/// Staff, sign-in, PIN lock-outs and API keys.
#[derive(Clone)]
pub struct Access {
    ctx: Context,
    /// Bumped whenever a staff account changes.
    staff_changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// API keys as last read or written, by id: a request's key check reads
    /// no store; a revoke here updates it before it answers.
    pub(super) api_keys: Arc<RwLock<HashMap<u64, crate::model::ApiKey>>>,
}

on_context!(Access);

impl Access {
    pub(super) fn new(ctx: Context) -> Self {
        Self {
            ctx,
            staff_changes: Arc::new(tokio::sync::watch::Sender::new(0)),
            api_keys: Arc::default(),
        }
    }

    /// Changes whenever a staff account changes (live sessions re-check
    /// that their staff member is still enabled).
    pub fn staff_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.staff_changes.subscribe()
    }

    /// Drops the API keys kept in memory (another node created or revoked
    /// one): each is read again at its next use.
    pub(super) fn forget_api_keys(&self) {
        self.api_keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Tells live sessions that a staff account changed.
    pub(super) fn staff_changed(&self) {
        self.staff_changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}
