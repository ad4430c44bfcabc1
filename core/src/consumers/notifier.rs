//! The notifier: tells customers about their own cards (stamp added, reward
//! ready, new voucher, a voucher about to expire, card reissued) on every channel that reaches them.
//! These are transactional messages: they need no marketing consent.

use std::sync::Arc;

use crate::error::CoreResult;
use crate::model::{Card, Customer, Event, EventKind};
use crate::outbox::{Message, Purpose};
use crate::shop::Context;
use crate::store::Mutation;

use super::Consumer;

/// How one channel reaches a customer.
pub trait Route: Send + Sync + 'static {
    /// The channel's name.
    fn channel(&self) -> &str;

    /// The channel name a campaign picks this route by (`wallet` picks
    /// both Apple's and Google's).
    fn picked_by(&self) -> &str {
        self.channel()
    }

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

/// The news an event brings its card's holder: the catalog keys
/// (`news.<key>` in `core/locales/`) and their parameters, which every
/// channel renders in the customer's language (`crate::texts::news`).
pub fn news(ctx: &Context, e: &Event) -> Option<serde_json::Value> {
    e.card_id?;
    let title = e
        .template_id
        .and_then(|t| ctx.template(t).ok())
        .map(|t| t.name);
    let progress = e.progress.map(|p| p.to_string()).unwrap_or_default();
    let reward = e.reward.clone().unwrap_or_default();
    let mut params = serde_json::json!({
        "progress": progress, "reward": reward,
        "card": e.card_id.map(|c| c.to_string()).unwrap_or_default(),
    });
    if let Some(title) = title {
        params["title"] = title.into();
    }
    let keys: Vec<&str> = match &e.kind {
        EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
            params["count"] = effect.count.to_string().into();
            let mut keys = vec![if effect.count == 1 {
                "stamp_one"
            } else {
                "stamp_many"
            }];
            if effect.goals_reached > 0 {
                keys.push("goal");
            }
            keys
        }
        EventKind::VoucherIssued { voucher_id } => {
            let v = ctx.voucher(*voucher_id).ok()?;
            // A campaign's own message announces its vouchers.
            if matches!(v.origin, crate::model::VoucherOrigin::Campaign { .. }) {
                return None;
            }
            params["description"] = v.description.clone().into();
            vec!["voucher"]
        }
        EventKind::VoucherExpiring { voucher_id } => {
            let v = ctx.voucher(*voucher_id).ok()?;
            let date = v
                .expires_at?
                .with_timezone(&ctx.settings().timezone)
                .format("%Y-%m-%d")
                .to_string();
            params["description"] = v.description.clone().into();
            params["date"] = date.into();
            vec!["voucher_expiring"]
        }
        EventKind::VoucherRedeemed { .. } => vec!["redeemed"],
        EventKind::RewardGiven => vec!["reward_given"],
        EventKind::Reversal { .. } => vec!["reversed"],
        EventKind::CardReissued { .. } => vec!["reissued"],
        _ => return None,
    };
    Some(serde_json::json!({"news": keys, "params": params}))
}

/// The text of card news in a language: the catalog's, with the card's
/// title in that language's word for "card" when the template is gone.
pub fn news_text(lang: Option<&str>, data: &serde_json::Value) -> Option<String> {
    let keys: Vec<&str> = data["news"]
        .as_array()?
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut params = data["params"].clone();
    if params.get("title").is_none() {
        params["title"] = crate::texts::t(lang, "news.card", &[]).into();
    }
    Some(crate::texts::news(lang, &keys, &params))
}

impl Consumer for Notifier {
    fn name(&self) -> &str {
        "notifier"
    }

    fn handle(&self, ctx: &Context, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let Some(mut data) = news(ctx, e) else {
            return Ok(());
        };
        let (Some(card_id), Some(customer_id)) = (e.card_id, e.customer_id) else {
            return Ok(());
        };
        let (Ok(card), Ok(customer)) = (ctx.card(card_id), ctx.customer(customer_id)) else {
            return Ok(()); // deleted or forgotten since
        };
        if card.deleted || customer.forgotten {
            return Ok(());
        }
        data["language"] = customer.language.clone().into();
        // Written in the customer's language for every channel.
        let Some(text) = news_text(customer.language.as_deref(), &data) else {
            return Ok(());
        };
        for route in &self.routes {
            if let Some(recipient) = route.recipient(&customer, &card, Purpose::Transactional) {
                ctx.outbox().enqueue(
                    m,
                    Message {
                        channel: route.channel().to_string(),
                        recipient,
                        purpose: Purpose::Transactional,
                        subject: Some(ctx.settings().name.clone()),
                        text: text.clone(),
                        data: data.clone(),
                        customer_id: Some(customer_id),
                        card_id: Some(card_id),
                        source_event: Some(e.id),
                    },
                )?;
            }
        }
        Ok(())
    }
}
