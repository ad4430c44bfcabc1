//! `stampcard customer …`

use anyhow::{Context, Result, anyhow};
use stampcard_core::model::Customer;

use crate::app::App;
use crate::cli::CustomerCmd;

fn row(c: &Customer) -> String {
    format!(
        "{:<6} {:<24} {:<16} {}\n",
        c.id,
        c.name,
        c.phone.as_deref().unwrap_or("—"),
        c.email.as_deref().unwrap_or("—")
    )
}

pub async fn run(app: &App, cmd: CustomerCmd) -> Result<()> {
    let actor = app.actor();
    match cmd {
        CustomerCmd::List { search, limit } => {
            let list = app
                .shop
                .search_customers(search.as_deref().unwrap_or(""), limit.clamp(1, 10_000))?;
            app.emit(&list, || {
                let mut s = format!("{:<6} {:<24} {:<16} {}\n", "ID", "NAME", "PHONE", "EMAIL");
                for c in &list {
                    s += &row(c);
                }
                s
            })
        }
        CustomerCmd::Show { id } => {
            let c = app.shop.customer(id)?;
            let cards = app.shop.cards_of_customer(id)?;
            let value = serde_json::json!({"customer": c, "cards": cards.iter().map(|c| c.id).collect::<Vec<_>>()});
            app.emit(&value, || {
                let consent = |c: &Option<stampcard_core::model::Consent>| match c {
                    Some(c) => format!("{} ({}, {})", if c.granted { "yes" } else { "no" }, c.source, c.at.format("%Y-%m-%d")),
                    None => "not asked".into(),
                };
                format!(
                    "Customer {} — {}\nPhone:    {}\nEmail:    {}\nBirthday: {}\nTelegram: {}\nConsent:  Telegram {}, email {}\nCards:    {}{}",
                    c.id,
                    c.name,
                    c.phone.as_deref().unwrap_or("—"),
                    c.email.as_deref().unwrap_or("—"),
                    c.birthday.map(|b| b.to_string()).unwrap_or_else(|| "—".into()),
                    c.telegram_id.map(|t| t.to_string()).unwrap_or_else(|| "—".into()),
                    consent(&c.consent_telegram),
                    consent(&c.consent_email),
                    cards.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(", "),
                    c.merged_into.map(|m| format!("\nMerged into customer {m}")).unwrap_or_default(),
                )
            })
        }
        CustomerCmd::Merge { into, from } => {
            let c = app.shop.merge_customers(into, from, &actor).await?;
            app.emit(&c, || format!("Merged customer {from} into {into}."))
        }
        CustomerCmd::Consent {
            id,
            channel,
            state,
            source,
        } => {
            let granted = state == "on";
            let c = app
                .shop
                .set_consent(id, &channel, granted, &source, &actor)
                .await?;
            app.emit(&c, || {
                format!(
                    "Customer {id} ({}): {channel} marketing consent {}.",
                    c.name,
                    if granted { "given" } else { "withdrawn" }
                )
            })
        }
        CustomerCmd::Forget { id, yes } => {
            if !yes {
                return Err(anyhow!(
                    "forgetting customer {id} erases their data and deletes their cards: add --yes to confirm"
                ));
            }
            let c = app.shop.forget_customer(id, &actor).await?;
            app.emit(&c, || {
                format!("Customer {id} forgotten: personal data erased, cards deleted.")
            })
        }
        CustomerCmd::Export { id, output } => {
            let data = app.shop.export_customer(id)?;
            let text = serde_json::to_string_pretty(&data)?;
            match output {
                Some(path) => {
                    crate::export::write_private(&path, text.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    app.out.err_line(&format!(
                        "Wrote the data of customer {id} to {}",
                        path.display()
                    ));
                    Ok(())
                }
                None => {
                    app.out.line(&text);
                    Ok(())
                }
            }
        }
    }
}
