//! Reminders that a voucher expires soon: each active voucher with an
//! expiry is reminded once, through its card's actor, as a journal event
//! the notifier turns into a message.

use super::Campaigns;
use crate::actors::CardCommand;
use crate::error::CoreResult;
use crate::model::Actor;
use crate::store::{Family, Record};

impl Campaigns {
    /// Reminds the holders of active vouchers that expire within `within`
    /// and were not reminded yet; returns the vouchers reminded.
    pub async fn remind_expiring_vouchers(&self, within: chrono::Duration) -> CoreResult<Vec<u64>> {
        let now = self.clock().now();
        let mut due = Vec::new();
        self.store().for_each(Family::Vouchers, &mut |_, record| {
            if let Record::Voucher(v) = record
                && v.remindable(now)
                && v.expires_at.is_some_and(|at| at <= now + within)
            {
                due.push((v.card_id, v.id));
            }
            true
        })?;
        let actor = Actor::channel("scheduler");
        let mut reminded = Vec::new();
        for (card, voucher_id) in due {
            let command = CardCommand::RemindExpiring { voucher_id };
            match self.command(card, command, &actor, None).await {
                Ok(_) => reminded.push(voucher_id),
                // Redeemed or its card deleted since the scan: nothing to say.
                Err(e) => tracing::debug!("voucher {voucher_id} not reminded: {e}"),
            }
        }
        Ok(reminded)
    }
}
