//! The campaign path's calls into the core: the campaigns tab (list, open,
//! count the audience, save and send) and a card details' message and
//! coupon (one-card campaigns), with the channels the host has set up.

use std::sync::Arc;

use stampcard_core::consumers::Route;
use stampcard_core::model::{Actor, CampaignState, CampaignVoucher, Segment};
use stampcard_core::{CoreResult, Shop};

use crate::admin::campaigns::Delivery;
use crate::app::{Effect, Outcome};

/// Days a coupon from a card's details stays valid.
const COUPON_DAYS: u32 = 30;

/// The campaigns with their counts, the templates, the PUSH limit.
pub fn list(shop: &Shop) -> CoreResult<Outcome> {
    let rows = shop.campaigns().campaign_statuses()?;
    let templates = shop
        .templates()
        .templates()
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(Outcome::Campaigns(
        rows,
        templates,
        shop.settings().campaigns.push_limit,
    ))
}

/// One campaign and each of its messages.
pub fn open(shop: &Shop, id: u64) -> CoreResult<Outcome> {
    let status = shop.campaigns().campaign_status(id)?;
    let deliveries = shop
        .campaigns()
        .campaign_deliveries(id)?
        .into_iter()
        .map(|e| {
            let customer = e
                .message
                .customer_id
                .and_then(|c| shop.customers().customer(c).ok())
                .map(|c| c.name)
                .unwrap_or_default();
            Delivery {
                card: e.message.card_id.unwrap_or(0),
                customer,
                channel: e.message.channel.clone(),
                status: e.status(),
                at: e.sent_at.unwrap_or(e.next_attempt_at),
            }
        })
        .collect();
    Ok(Outcome::CampaignOpened(Box::new(status), deliveries))
}

/// Counts, saves or sends a campaign, or sends a card's holder a message
/// or a coupon, with `routes`.
pub async fn perform(
    shop: &Shop,
    routes: &[Arc<dyn Route>],
    actor: &Actor,
    effect: Effect,
) -> Outcome {
    let refused = |what: String, e: String| Outcome::Refused { what, reason: e };
    match effect {
        Effect::CampaignAudience {
            template,
            segment,
            channels,
        } => {
            let counted = Segment::parse(&segment).and_then(|seg| {
                shop.campaigns()
                    .campaign_audience(template, seg, &channels, routes)
                    .map_err(|e| e.to_string())
            });
            Outcome::Audience((template, segment, channels), counted)
        }
        Effect::SaveCampaign(draft) => {
            let c = match shop.campaigns().create_campaign(*draft, actor).await {
                Ok(c) => c,
                Err(e) => return refused("campaign".into(), e.to_string()),
            };
            if c.state == CampaignState::Scheduled {
                let at = c
                    .scheduled_for
                    .map(|t| {
                        t.with_timezone(&shop.settings().timezone)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                return Outcome::CampaignSaved(format!(
                    "Campaign {} \"{}\" is scheduled for {at}.",
                    c.id, c.name
                ));
            }
            send(shop, routes, actor, c.id).await
        }
        Effect::SendCampaign(id) => send(shop, routes, actor, id).await,
        Effect::SendMessage { card, text } => {
            match shop
                .campaigns()
                .message_card(card, &text, None, routes, actor)
                .await
            {
                Ok(sent) => match sent.campaign {
                    None => refused(
                        format!("card {card}"),
                        "no channel reaches this customer (yet): nothing was sent".into(),
                    ),
                    Some(c) => Outcome::Done(format!(
                        "Message queued for card {card} on {} (campaign {}).",
                        sent.channels.join(", "),
                        c.id
                    )),
                },
                Err(why) => refused(format!("card {card}"), why.to_string()),
            }
        }
        Effect::Coupon { card, description } => {
            let voucher = CampaignVoucher {
                description: description.clone(),
                valid_days: COUPON_DAYS,
            };
            let text = format!("A gift from {}: {description}.", shop.settings().name);
            match shop
                .campaigns()
                .message_card(card, &text, Some(voucher), routes, actor)
                .await
            {
                Ok(sent) => Outcome::CardChanged {
                    label: format!(
                        "Coupon \"{description}\" issued to card {card} (valid {COUPON_DAYS} days){}.",
                        if sent.channels.is_empty() {
                            "; no channel reaches them: it shows on their card".to_string()
                        } else {
                            format!(", told on {}", sent.channels.join(", "))
                        }
                    ),
                },
                Err(why) => refused(format!("card {card}"), why.to_string()),
            }
        }
        other => refused(
            "campaign".into(),
            format!("{other:?} is not a campaign action"),
        ),
    }
}

async fn send(shop: &Shop, routes: &[Arc<dyn Route>], actor: &Actor, id: u64) -> Outcome {
    match shop.campaigns().send_campaign(id, routes, actor).await {
        Ok(c) => Outcome::CampaignSaved(format!(
            "Campaign {} \"{}\" sent: {}.",
            c.id,
            c.name,
            c.queued_summary()
        )),
        Err(e) => Outcome::Refused {
            what: format!("campaign {id}"),
            reason: e.to_string(),
        },
    }
}
