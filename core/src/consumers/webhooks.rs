//! The webhook consumer: one outbox entry per event and subscribed webhook,
//! queued in the same write that advances its cursor, so every event
//! reaches every webhook exactly once and in commit order per card (the
//! webhook channel delivers in order per card).

use crate::error::CoreResult;
use crate::model::Event;
use crate::outbox::{Message, Purpose};
use crate::shop::{Shop, WEBHOOK_CHANNEL};
use crate::store::Mutation;

use super::Consumer;

/// Queues webhook deliveries.
pub struct Webhooks;

impl Consumer for Webhooks {
    fn name(&self) -> &str {
        "webhooks"
    }

    fn handle(&self, shop: &Shop, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let kind = e.kind.name();
        for hook in shop.active_webhooks()?.iter().filter(|h| h.wants(kind)) {
            shop.outbox().enqueue(
                m,
                Message {
                    channel: WEBHOOK_CHANNEL.to_string(),
                    recipient: hook.id.to_string(),
                    purpose: Purpose::Transactional,
                    subject: Some(kind.to_string()),
                    text: String::new(),
                    data: serde_json::to_value(e).unwrap_or_default(),
                    customer_id: e.customer_id,
                    card_id: e.card_id,
                    source_event: Some(e.id),
                },
            )?;
        }
        Ok(())
    }
}
