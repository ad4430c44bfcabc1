//! The notifier: tells customers about their own cards (stamp added, reward
//! ready, new voucher, a voucher about to expire, card reissued) on every channel that reaches them.
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

/// The news an event brings its card's holder: the English text, and the
/// catalog keys with their parameters, so a channel with catalogs (the bot)
/// can say it in the customer's language.
pub fn news(shop: &Shop, e: &Event) -> Option<(String, serde_json::Value)> {
    let card = e.card_id?;
    let title = e
        .template_id
        .and_then(|t| shop.template(t).ok())
        .map(|t| t.name)
        .unwrap_or_else(|| "card".into());
    let progress = e.progress.map(|p| p.to_string()).unwrap_or_default();
    let reward = e.reward.clone().unwrap_or_default();
    let mut params = serde_json::json!({
        "title": title, "progress": progress, "reward": reward, "card": card.to_string(),
    });
    let (keys, text): (Vec<&str>, String) = match &e.kind {
        EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
            params["count"] = effect.count.to_string().into();
            let (mut keys, mut s) = if effect.count == 1 {
                (
                    vec!["stamp_one"],
                    format!("A stamp was added to your {title}: {progress}."),
                )
            } else {
                (
                    vec!["stamp_many"],
                    format!(
                        "{} stamps were added to your {title}: {progress}.",
                        effect.count
                    ),
                )
            };
            if effect.goals_reached > 0 {
                keys.push("goal");
                s += &format!(" Goal reached — your reward: {reward}!");
            }
            (keys, s)
        }
        EventKind::VoucherIssued { voucher_id } => {
            let v = shop.voucher(*voucher_id).ok()?;
            // A campaign's own message announces its vouchers.
            if matches!(v.origin, crate::model::VoucherOrigin::Campaign { .. }) {
                return None;
            }
            params["description"] = v.description.clone().into();
            (
                vec!["voucher"],
                format!("New voucher on your {title}: {}.", v.description),
            )
        }
        EventKind::VoucherExpiring { voucher_id } => {
            let v = shop.voucher(*voucher_id).ok()?;
            let date = v
                .expires_at?
                .with_timezone(&shop.settings().timezone)
                .format("%Y-%m-%d")
                .to_string();
            params["description"] = v.description.clone().into();
            params["date"] = date.clone().into();
            (
                vec!["voucher_expiring"],
                format!(
                    "Your voucher {} on your {title} expires on {date}: redeem it before then.",
                    v.description
                ),
            )
        }
        EventKind::VoucherRedeemed { .. } => (
            vec!["redeemed"],
            format!("A voucher of your {title} was redeemed."),
        ),
        EventKind::RewardGiven => (
            vec!["reward_given"],
            format!("Enjoy your reward! Your {title} starts again: {progress}."),
        ),
        EventKind::Reversal { .. } => (
            vec!["reversed"],
            format!("A change to your {title} was undone: {progress}."),
        ),
        EventKind::CardReissued { .. } => (
            vec!["reissued"],
            format!("Your {title} (no. {card}) has a new code; the old one no longer works."),
        ),
        _ => return None,
    };
    Some((text, serde_json::json!({"news": keys, "params": params})))
}

impl Consumer for Notifier {
    fn name(&self) -> &str {
        "notifier"
    }

    fn handle(&self, shop: &Shop, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let Some((text, mut data)) = news(shop, e) else {
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
        data["language"] = customer.language.clone().into();
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
                        data: data.clone(),
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
