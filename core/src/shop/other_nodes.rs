//! Keeping what this process holds in memory current while other
//! processes (nodes) write the same shared store: the store tells of every
//! commit that wrote templates, webhooks, API keys, staff or outbox entries
//! ([`Written`]), and this follower drops or reloads the copy this process
//! keeps, tells live sessions to re-check their staff member, and wakes the
//! dispatchers. A store with one writer tells nothing: its process already
//! updates all of this where it writes.

use std::sync::Weak;

use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::Parts;
use crate::store::{Family, Written};

/// Follows `written` until the shop is gone.
pub(super) async fn follow(parts: Weak<Parts>, mut written: Receiver<Written>) {
    loop {
        let kinds = match written.recv().await {
            Ok(kind) => vec![kind],
            // Missed some: everything may have changed.
            Err(RecvError::Lagged(_)) => Written::ALL.to_vec(),
            Err(RecvError::Closed) => return,
        };
        let Some(parts) = parts.upgrade() else { return };
        for kind in kinds {
            apply(&parts, kind);
        }
    }
}

fn apply(parts: &Parts, kind: Written) {
    match kind {
        Written::Outbox => parts.ctx.outbox().wake(),
        Written::Templates => {
            match parts
                .ctx
                .store()
                .scan_as(Family::Templates, Default::default())
            {
                Ok(all) => parts.ctx.template_cache().replace_all(all),
                Err(e) => tracing::warn!("cannot reload the templates another node saved: {e}"),
            }
        }
        Written::Webhooks => parts.webhooks.forget_cached(),
        Written::ApiKeys => parts.access.forget_api_keys(),
        Written::Staff => parts.access.staff_changed(),
    }
}
