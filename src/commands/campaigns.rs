//! `stampcard campaign`: create (with its audience), audience, send, list, show.

use anyhow::{Result, anyhow};
use stampcard_core::model::{Campaign, CampaignVoucher, Segment};
use stampcard_core::shop::{CampaignDraft, CampaignStatus};

use crate::app::{App, local};
use crate::cli::{CampaignCmd, CampaignTarget};

fn segment(target: &CampaignTarget) -> Result<Segment> {
    Segment::parse(&target.segment).map_err(|e| anyhow!(e))
}

/// Delivery counts as one line: `telegram: 3 confirmed ✅✅, 1 failed; email: …`.
fn counts(s: &CampaignStatus) -> String {
    s.deliveries
        .iter()
        .map(|(channel, states)| {
            let parts: Vec<String> = states
                .iter()
                .map(|(state, n)| match state.as_str() {
                    "sent" => format!("{n} sent ✅"),
                    "confirmed" => format!("{n} confirmed ✅✅"),
                    other => format!("{n} {other}"),
                })
                .collect();
            if parts.is_empty() {
                format!("{channel}: —")
            } else {
                format!("{channel}: {}", parts.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn summary(app: &App, c: &Campaign) -> String {
    format!(
        "Campaign {} \"{}\" — template {}, {}, channels {}, {:?}{}",
        c.id,
        c.name,
        c.template_id,
        c.segment.label(),
        c.channels.join(","),
        c.state,
        c.scheduled_for
            .map(|t| format!(" for {}", local(app, t)))
            .unwrap_or_default()
    )
}

pub async fn run(app: &App, cmd: CampaignCmd) -> Result<()> {
    let routes = crate::services::routes(app);
    match cmd {
        CampaignCmd::Create {
            target,
            text,
            push,
            name,
            at,
            voucher,
            voucher_days,
        } => {
            let scheduled_for = match at {
                Some(at) => Some(app.parse_local_time(&at)?),
                None => None,
            };
            let c = app
                .shop
                .campaigns()
                .create_campaign(
                    CampaignDraft {
                        name,
                        template_id: target.template,
                        segment: segment(&target)?,
                        push_text: push,
                        text,
                        channels: target.channels.clone(),
                        scheduled_for,
                        voucher: voucher.map(|description| CampaignVoucher {
                            description,
                            valid_days: voucher_days,
                        }),
                    },
                    &app.actor(),
                )
                .await?;
            let audience = app.shop.campaigns().campaign_audience(
                c.template_id,
                c.segment,
                &c.channels,
                &routes,
            )?;
            let out = serde_json::json!({"campaign": c, "audience": audience});
            app.emit(&out, || {
                format!(
                    "{}\nAudience: {} card(s); reachable {}.\n{}",
                    summary(app, &c),
                    audience.cards,
                    audience
                        .per_channel
                        .iter()
                        .map(|(ch, n)| format!("{ch} {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if c.scheduled_for.is_some() {
                        "It is sent at that time by the running server.".to_string()
                    } else {
                        format!("Send it with: stampcard campaign send {}", c.id)
                    }
                )
            })
        }
        CampaignCmd::Audience { target } => {
            let a = app.shop.campaigns().campaign_audience(
                target.template,
                segment(&target)?,
                &target.channels,
                &routes,
            )?;
            app.emit(&a, || {
                let mut s = format!("{} card(s) in the segment\n", a.cards);
                for (ch, n) in &a.per_channel {
                    s += &format!("  {ch}: {n} reachable (with consent)\n");
                }
                s
            })
        }
        CampaignCmd::Send { id } => {
            let c = app
                .shop
                .campaigns()
                .send_campaign(id, &routes, &app.actor())
                .await?;
            app.emit(&c, || {
                format!("Campaign {} sent: {}.", c.id, c.queued_summary())
            })
        }
        CampaignCmd::List => {
            let list = app.shop.campaigns().campaign_statuses()?;
            app.emit(&list, || {
                if list.is_empty() {
                    return "No campaigns.".into();
                }
                let mut s = String::new();
                for st in &list {
                    s += &format!(
                        "{:>4}  {:<24}  {:<9}  {:<22}  {}\n",
                        st.campaign.id,
                        st.campaign.name,
                        st.campaign.state.name(),
                        st.campaign.channels.join(","),
                        counts(st)
                    );
                }
                s
            })
        }
        CampaignCmd::Rename { id, name } => {
            let c = app
                .shop
                .campaigns()
                .rename_campaign(id, &name, &app.actor())
                .await?;
            app.emit(&c, || format!("Campaign {id} is now \"{}\".", c.name))
        }
        CampaignCmd::Delete { id } => {
            let c = app
                .shop
                .campaigns()
                .delete_campaign(id, &app.actor())
                .await?;
            app.emit(&c, || {
                format!(
                    "Campaign {id} \"{}\" ({}) deleted; nothing of it was sent.",
                    c.name,
                    c.state.name()
                )
            })
        }
        CampaignCmd::Show { id, recipients } => {
            let st = app.shop.campaigns().campaign_status(id)?;
            let entries = if recipients {
                app.shop.campaigns().campaign_deliveries(id)?
            } else {
                Vec::new()
            };
            let out = serde_json::json!({"status": st, "recipients": entries});
            app.emit(&out, || {
                let c = &st.campaign;
                let mut s = format!(
                    "{}\nPUSH: {}\nText: {}\nRecipients {}, messages {}, left out by the cap {}\nDelivery: {}\n",
                    summary(app, c),
                    if c.push_text.is_empty() { "—" } else { &c.push_text },
                    c.text,
                    c.recipients,
                    c.messages,
                    c.capped,
                    counts(&st)
                );
                for e in &entries {
                    s += &format!(
                        "  card {:>7}  {:<9} {:<18} {}\n",
                        e.message.card_id.unwrap_or(0),
                        e.message.channel,
                        e.message.recipient,
                        e.status()
                    );
                }
                s
            })
        }
    }
}
