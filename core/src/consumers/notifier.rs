//! The notifier: tells customers about their own cards (stamp added, reward
//! ready, new voucher, card reissued) on every channel that reaches them.
//! These are transactional messages: they need no marketing consent.

use std::sync::Arc;

use crate::error::CoreResult;
use crate::model::{Card, Customer, Event, EventKind};
use crate::outbox::{Message, Purpose};
use crate::shop::Shop;
use crate::store::Mutation;

use super::Consumer;

/// How one channel reaches a customer.
pub trait Route: Send + Sync + 'static {
    /// The channel's name.
    fn channel(&self) -> &str;

    /// The recipient for this customer and card, if the channel reaches
    /// them for this purpose (marketing needs the channel's consent).
    fn recipient(&self, customer: &Customer, card: &Card, purpose: Purpose) -> Option<String>;
}

/// Sends card news to customers.
pub struct Notifier {
    routes: Vec<Arc<dyn Route>>,
}

impl Notifier {
    /// A notifier over these routes.
    pub fn new(routes: Vec<Arc<dyn Route>>) -> Self {
        Self { routes }
    }
}

/// The news an event brings its card's holder, if any.
pub fn news(shop: &Shop, e: &Event) -> Option<String> {
    let card = e.card_id?;
    let title = e
        .template_id
        .and_then(|t| shop.template(t).ok())
        .map(|t| t.name)
        .unwrap_or_else(|| "card".into());
    let progress = e.progress.map(|p| p.to_string()).unwrap_or_default();
    let reward = e.reward.clone().unwrap_or_default();
    Some(match &e.kind {
        EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
            let mut s = if effect.count == 1 {
                format!("A stamp was added to your {title}: {progress}.")
            } else {
                format!(
                    "{} stamps were added to your {title}: {progress}.",
                    effect.count
                )
            };
            if effect.goals_reached > 0 {
                s += &format!(" Goal reached — your reward: {reward}!");
            }
            s
        }
        EventKind::VoucherIssued { voucher_id } => {
            let v = shop.voucher(*voucher_id).ok()?;
            format!("New voucher on your {title}: {}.", v.description)
        }
        EventKind::VoucherRedeemed { .. } => format!("A voucher of your {title} was redeemed."),
        EventKind::RewardGiven => {
            format!("Enjoy your reward! Your {title} starts again: {progress}.")
        }
        EventKind::CardReissued { .. } => {
            format!("Your {title} (no. {card}) has a new code; the old one no longer works.")
        }
        _ => return None,
    })
}

impl Consumer for Notifier {
    fn name(&self) -> &str {
        "notifier"
    }

    fn handle(&self, shop: &Shop, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let Some(text) = news(shop, e) else {
            return Ok(());
        };
        let (Some(card_id), Some(customer_id)) = (e.card_id, e.customer_id) else {
            return Ok(());
        };
        let (Ok(card), Ok(customer)) = (shop.card(card_id), shop.customer(customer_id)) else {
            return Ok(()); // deleted or forgotten since
        };
        if card.deleted || customer.forgotten {
            return Ok(());
        }
        for route in &self.routes {
            if let Some(recipient) = route.recipient(&customer, &card, Purpose::Transactional) {
                shop.enqueue(
                    m,
                    Message {
                        channel: route.channel().to_string(),
                        recipient,
                        purpose: Purpose::Transactional,
                        subject: Some(shop.settings().name.clone()),
                        text: text.clone(),
                        data: serde_json::Value::Null,
                        customer_id: Some(customer_id),
                        card_id: Some(card_id),
                        source_event: Some(e.id),
                    },
                );
            }
        }
        Ok(())
    }
}
