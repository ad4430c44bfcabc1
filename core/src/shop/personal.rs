//! Personal messages and coupons from a card's details: a campaign to one
//! card's holder (segment `card:ID`), so they travel the campaign path —
//! consent per channel, quiet hours, wallet news, one journaled "campaign
//! sent", delivery states in the campaign list — without the frequency cap
//! (staff chose this customer) and with the coupon issued even when no
//! channel reaches them.

use std::sync::Arc;

use super::Campaigns;
use super::campaigns::CampaignDraft;
use crate::consumers::{Route, WALLET_CHANNEL};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Campaign, CampaignVoucher, Segment};
use crate::outbox::Purpose;

/// What a personal message became.
#[derive(Debug, Clone, PartialEq)]
pub struct Personal {
    /// The one-card campaign (`None`: nothing to send, nobody reached).
    pub campaign: Option<Campaign>,
    /// The channels that reach the holder.
    pub channels: Vec<String>,
}

impl Campaigns {
    /// Sends `text` to a card's holder on every channel that reaches them
    /// (a text within the PUSH limit also becomes the pass's news), with a
    /// coupon when `voucher` is set.
    pub async fn message_card(
        &self,
        card_id: u64,
        text: &str,
        voucher: Option<CampaignVoucher>,
        routes: &[Arc<dyn Route>],
        actor: &Actor,
    ) -> CoreResult<Personal> {
        crate::rules::validate_text("the message", text, true, 4096)?;
        let text = text.trim();
        let card = self.card(card_id)?;
        let customer = self.customer(card.customer_id)?;
        if card.deleted || customer.forgotten {
            return Err(CoreError::CardDeleted(card_id));
        }
        let fits = text.chars().count() <= self.settings().campaigns.push_limit;
        let push = if fits && voucher.is_none() {
            text.to_string()
        } else {
            String::new()
        };
        let usable = |channel: &str| {
            crate::shop::CAMPAIGN_CHANNELS.contains(&channel)
                && (channel != WALLET_CHANNEL || !push.is_empty())
        };
        let reached: Vec<String> = routes
            .iter()
            .filter(|r| usable(r.channel()))
            .filter(|r| r.recipient(&customer, &card, Purpose::Marketing).is_some())
            .map(|r| r.channel().to_string())
            .collect();
        if reached.is_empty() && voucher.is_none() {
            return Ok(Personal {
                campaign: None,
                channels: reached,
            });
        }
        let mut channels: Vec<String> = routes
            .iter()
            .map(|r| r.channel().to_string())
            .filter(|c| usable(c))
            .collect();
        if channels.is_empty() {
            // A coupon nobody can be told about: the card shows it.
            channels = vec!["telegram".into(), "email".into()];
        }
        let what = if voucher.is_some() {
            "coupon"
        } else {
            "message"
        };
        let draft = CampaignDraft {
            name: Some(format!("Card {card_id} {what}")),
            template_id: card.template_id,
            segment: Segment::Card { id: card_id },
            push_text: push,
            text: text.to_string(),
            channels,
            scheduled_for: None,
            voucher,
        };
        let c = self.create_campaign(draft, actor).await?;
        let sent = self.send_campaign(c.id, routes, actor).await?;
        Ok(Personal {
            campaign: Some(sent),
            channels: reached,
        })
    }
}
