//! The campaigns tab's calls into the core: list, open, count the audience,
//! save and send (with the channels the hosting program has set up).

use std::sync::Arc;

use stampcard_core::consumers::Route;
use stampcard_core::model::{Actor, CampaignState, Segment};
use stampcard_core::{CoreResult, Shop};

use crate::admin::campaigns::Delivery;
use crate::app::{Effect, Outcome};

/// The campaigns with their counts, the templates, the PUSH limit.
pub fn list(shop: &Shop) -> CoreResult<Outcome> {
    let rows = shop
        .campaigns()?
        .iter()
        .map(|c| shop.campaign_status(c.id))
        .collect::<CoreResult<Vec<_>>>()?;
    let templates = shop
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
    let status = shop.campaign_status(id)?;
    let deliveries = shop
        .campaign_deliveries(id)?
        .into_iter()
        .map(|e| {
            let customer = e
                .message
                .customer_id
                .and_then(|c| shop.customer(c).ok())
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

/// Counts, saves or sends, with `routes`.
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
                shop.campaign_audience(template, seg, &channels, routes)
                    .map_err(|e| e.to_string())
            });
            Outcome::Audience((template, segment, channels), counted)
        }
        Effect::SaveCampaign(draft) => {
            let c = match shop.create_campaign(*draft, actor).await {
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
        other => refused(
            "campaign".into(),
            format!("{other:?} is not a campaign action"),
        ),
    }
}

async fn send(shop: &Shop, routes: &[Arc<dyn Route>], actor: &Actor, id: u64) -> Outcome {
    match shop.send_campaign(id, routes, actor).await {
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
