//! `stampcard card …`, `stamp`, `redeem`, `hand-over`, `spin`, `adjust`, `reverse`.

use anyhow::{Result, anyhow};
use stampcard_core::actors::CardOutcome;
use stampcard_core::model::{CustomerFields, Platform};
use stampcard_core::shop::{IssueCard, Lookup};
use stampcard_core::store::Scan;
use stampcard_core::views::CardView;

use crate::app::{App, local};
use crate::cli::CardCmd;

/// Renders a card view for people.
pub fn describe(app: &App, v: &CardView) -> String {
    let mut s = format!(
        "Card {} — {} ({})\nCode:      {}\nWeb card:  {}\nCustomer:  {} (#{})\nTemplate:  {} v{}\nProgress:  {} {}\nReward:    {}\n",
        v.card_id,
        v.title,
        v.business_name,
        v.code,
        v.url,
        v.customer_name,
        v.customer_id,
        v.template_id,
        v.template_version,
        v.stamps_line,
        v.progress,
        v.reward
    );
    if v.rewards_pending > 0 {
        s += &format!("Waiting:   {} reward(s) to hand over\n", v.rewards_pending);
    }
    if v.spins_available > 0 {
        s += &format!("Lottery:   {} spin(s) to play\n", v.spins_available);
    }
    let platforms: Vec<&str> = v.platforms.iter().map(|p| platform_name(*p)).collect();
    s += &format!(
        "Platforms: {}\nCreated:   {}\nLast stamp: {}\n",
        if platforms.is_empty() {
            "—".into()
        } else {
            platforms.join(", ")
        },
        local(app, v.created_at),
        v.last_stamp_at
            .map(|t| local(app, t))
            .unwrap_or_else(|| "—".into())
    );
    if v.deleted {
        s += "DELETED\n";
    }
    if v.flagged {
        s += "FLAGGED: hit its daily cap (check for misuse)\n";
    }
    for voucher in &v.vouchers {
        s += &format!(
            "Voucher {}: {} [{:?}] code {}{}\n",
            voucher.id,
            voucher.description,
            voucher.state,
            voucher.code,
            voucher
                .expires_at
                .map(|e| format!(", expires {}", local(app, e)))
                .unwrap_or_default()
        );
    }
    s
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Telegram => "Telegram",
        Platform::AppleWallet => "Apple Wallet",
        Platform::GoogleWallet => "Google Wallet",
        Platform::Web => "web",
        Platform::Counter => "counter",
    }
}

/// Prints the result of a card command: the card, what was reached, vouchers issued.
fn outcome(app: &App, o: &CardOutcome, headline: &str) -> Result<()> {
    let view = app.shop.cards().card_view(o.card.id)?;
    let value = serde_json::json!({
        "card": view,
        "event_ids": o.event_ids,
        "effect": o.effect,
        "vouchers": o.vouchers.iter().map(|v| app.shop.cards().voucher_view(v)).collect::<Vec<_>>(),
        "prize": o.prize,
        "replayed": o.replayed,
    });
    app.emit(&value, || {
        let mut s = format!(
            "{headline}: card {} {} {}",
            view.card_id, view.stamps_line, view.progress
        );
        if o.replayed {
            s += "  (a retry: nothing changed)";
        }
        s += "\n";
        if let Some(e) = &o.effect
            && e.goals_reached > 0
        {
            s += &format!("*** GOAL REACHED ***  {}\n", view.reward);
        }
        if view.rewards_pending > 0 {
            s += &format!("Hand over: {} reward(s) waiting\n", view.rewards_pending);
        }
        if let Some(p) = &o.prize {
            s += &format!("Lottery prize: {p}\n");
        }
        for v in &o.vouchers {
            s += &format!(
                "Voucher {} \"{}\" code {}\n",
                v.id,
                v.description,
                app.shop.cards().voucher_code(v)
            );
        }
        s
    })
}

pub async fn card(app: &App, cmd: CardCmd) -> Result<()> {
    let actor = app.actor();
    match cmd {
        CardCmd::Issue {
            template,
            customer,
            name,
            phone,
            email,
            birthday,
            source,
        } => {
            let holder = match customer {
                Some(id) => IssueCard::Customer(id),
                None => IssueCard::New(CustomerFields {
                    name: name.unwrap_or_default(),
                    phone,
                    email,
                    birthday,
                    ..Default::default()
                }),
            };
            let card = app
                .shop
                .cards()
                .issue_card(template, holder, source, Some(Platform::Counter), &actor)
                .await?;
            let view = app.shop.cards().card_view(card.id)?;
            app.emit(&view, || {
                format!("Issued card {} with code {}", view.card_id, view.code)
            })
        }
        CardCmd::List { after, limit } => {
            let cards = app.shop.cards().cards(Scan {
                after,
                reverse: false,
                limit: limit.clamp(1, 10_000),
            })?;
            let rows: Vec<serde_json::Value> = cards
                .iter()
                .map(|c| {
                    let name = app
                        .shop
                        .customers()
                        .customer(c.customer_id)
                        .map(|u| u.name)
                        .unwrap_or_default();
                    let of = app
                        .shop
                        .templates()
                        .template(c.template_id)
                        .map(|t| t.stamps_required)
                        .unwrap_or(0);
                    serde_json::json!({
                        "id": c.id, "customer": name, "customer_id": c.customer_id,
                        "template_id": c.template_id, "progress": format!("{}/{}", c.stamps, of),
                        "platforms": c.platforms, "deleted": c.deleted,
                    })
                })
                .collect();
            app.emit(&rows, || {
                let mut s = format!(
                    "{:<8} {:<24} {:>8}  {:<6} {}\n",
                    "ID", "CUSTOMER", "PROGRESS", "TPL", "PLATFORMS"
                );
                for (c, r) in cards.iter().zip(&rows) {
                    let icons: String = c
                        .platforms
                        .iter()
                        .map(|p| p.icon())
                        .collect::<Vec<_>>()
                        .join(" ");
                    s += &format!(
                        "{:<8} {:<24} {:>8}  {:<6} {}{}\n",
                        c.id,
                        r["customer"].as_str().unwrap_or(""),
                        r["progress"].as_str().unwrap_or(""),
                        c.template_id,
                        icons,
                        if c.deleted { " (deleted)" } else { "" }
                    );
                }
                s
            })
        }
        CardCmd::Show { card } => {
            let view = if card.len() < 12 && card.chars().all(|c| c.is_ascii_digit()) {
                let id: u64 = card
                    .parse()
                    .map_err(|_| anyhow!("'{card}' is not a card id"))?;
                app.shop.cards().card_view(id)?
            } else {
                match app.shop.cards().lookup(&card)? {
                    Lookup::Card(v) => *v,
                    Lookup::Voucher(v, card_id) => {
                        return Err(anyhow!(
                            "that is the code of voucher {} on card {card_id}",
                            v.id
                        ));
                    }
                    Lookup::Receipt { .. } => {
                        return Err(anyhow!("that is a receipt code, not a card code"));
                    }
                }
            };
            app.emit(&view, || describe(app, &view))
        }
        CardCmd::Qr { id, output } => {
            let format = crate::commands::codes::printable_format(&output)?;
            let view = app.shop.cards().card_view(id)?;
            let bytes = match format {
                crate::commands::codes::Printable::Svg => stampcard_tui::print::poster_svg(
                    &view.business_name,
                    &format!("{} — card {}", view.title, view.card_id),
                    &format!("{} · {}", view.customer_name, view.code),
                    &view.url,
                )?
                .into_bytes(),
                crate::commands::codes::Printable::Png => {
                    stampcard_tui::print::qr_png(&view.url, 800)?
                }
            };
            app.write_file(&output, &bytes)?;
            app.wrote(
                &output,
                &serde_json::json!({"card_id": id, "file": output, "url": view.url}),
                || format!("Wrote the QR code of card {id} to {}", output.display()),
            )
        }
        CardCmd::Reissue { id } => {
            let o = app.shop.cards().reissue(id, &actor).await?;
            let code = app.shop.cards().card_code(&o.card);
            app.emit(
                &serde_json::json!({"card_id": id, "code": code, "counter": o.card.counter}),
                || format!("Card {id} has a new code: {code}\nThe old code no longer works."),
            )
        }
        CardCmd::Delete { id, yes } => {
            if !yes {
                return Err(anyhow!(
                    "deleting card {id} cannot be undone: add --yes to confirm"
                ));
            }
            let o = app.shop.cards().delete_card(id, &actor).await?;
            app.emit(&serde_json::json!({"card_id": id, "deleted": true, "vouchers_voided": o.vouchers.len()}), || {
                format!("Deleted card {id}; {} active voucher(s) voided.", o.vouchers.len())
            })
        }
        CardCmd::Message { id, text } => {
            let routes = crate::services::routes(app);
            let sent = app
                .shop
                .campaigns()
                .message_card(id, &text, None, &routes, &actor)
                .await?;
            let json = serde_json::json!({
                "card_id": id,
                "campaign_id": sent.campaign.as_ref().map(|c| c.id),
                "channels": sent.channels,
            });
            app.emit(&json, || match &sent.campaign {
                None => format!("Not sent: no channel reaches the holder of card {id} for shop news (no consent, or no channel set up)."),
                Some(c) => format!(
                    "Queued for the holder of card {id} on: {} (campaign {}).",
                    sent.channels.join(", "),
                    c.id
                ),
            })
        }
        CardCmd::Coupon {
            id,
            description,
            valid_days,
        } => {
            let o = app
                .shop
                .cards()
                .issue_coupon(id, &description, valid_days, &actor)
                .await?;
            outcome(app, &o, "Coupon issued")
        }
    }
}

pub async fn stamp(app: &App, code: &str, count: u32, key: Option<&str>) -> Result<()> {
    let o = app
        .shop
        .cards()
        .stamp_code(code, count, key, &app.actor())
        .await?;
    outcome(app, &o, &format!("+{count}"))
}

pub async fn redeem(app: &App, code: &str) -> Result<()> {
    let o = app.shop.cards().redeem_code(code, &app.actor()).await?;
    outcome(app, &o, "Redeemed")
}

pub async fn hand_over(app: &App, card: u64) -> Result<()> {
    let o = app.shop.cards().hand_over(card, &app.actor()).await?;
    outcome(app, &o, "Reward handed over")
}

pub async fn spin(app: &App, card: u64) -> Result<()> {
    let o = app.shop.cards().spin(card, &app.actor()).await?;
    outcome(app, &o, "Spun")
}

pub async fn adjust(app: &App, card: u64, delta: i64, reason: &str) -> Result<()> {
    let o = app
        .shop
        .cards()
        .adjust(card, delta, reason, &app.actor())
        .await?;
    outcome(app, &o, &format!("Adjusted {delta:+}"))
}

pub async fn reverse(app: &App, event: u64, reason: &str) -> Result<()> {
    let o = app
        .shop
        .cards()
        .reverse(event, reason, &app.actor())
        .await?;
    outcome(app, &o, &format!("Reversed event {event}"))
}
