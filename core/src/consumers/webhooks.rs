//! The webhook consumer: one outbox entry per event and subscribed webhook,
//! queued in the same write that advances its cursor, so every event
//! reaches every webhook exactly once and in commit order per card (the
//! webhook channel delivers in order per card).

use crate::error::CoreResult;
use crate::model::Event;
use crate::outbox::{Message, Purpose};
use crate::shop::{Context, WEBHOOK_CHANNEL, Webhooks};
use crate::store::Mutation;

use super::Consumer;

/// Queues webhook deliveries to the active subscriptions.
pub struct WebhookFeed(Webhooks);

impl WebhookFeed {
    /// The feed of a shop's webhook subscriptions.
    pub fn new(webhooks: Webhooks) -> Self {
        Self(webhooks)
    }
}

impl Consumer for WebhookFeed {
    fn name(&self) -> &str {
        "webhooks"
    }

    fn handle(&self, ctx: &Context, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let kind = e.kind.name();
        for hook in self.0.active_webhooks()?.iter().filter(|h| h.wants(kind)) {
            ctx.outbox().enqueue(
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
