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
                .customers()
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
            let c = app.shop.customers().customer(id)?;
            let cards = app.shop.cards().cards_of_customer(id)?;
            let value = serde_json::json!({"customer": c, "cards": cards.iter().map(|c| c.id).collect::<Vec<_>>()});
            app.emit(&value, || {
                let consent = |c: &Option<stampcard_core::model::Consent>| match c {
                    Some(c) => format!("{} ({}, {})", if c.granted { "yes" } else { "no" }, c.source, c.at.format("%Y-%m-%d")),
                    None => "not asked".into(),
                };
                format!(
                    "Customer {} — {}\nPhone:    {}\nEmail:    {}\nBirthday: {}\nLanguage: {}\nTelegram: {}\nConsent:  Telegram {}, email {}\nCards:    {}{}",
                    c.id,
                    c.name,
                    c.phone.as_deref().unwrap_or("—"),
                    c.email.as_deref().unwrap_or("—"),
                    c.birthday.map(|b| b.to_string()).unwrap_or_else(|| "—".into()),
                    c.language.as_deref().unwrap_or("—"),
                    c.telegram_id.map(|t| t.to_string()).unwrap_or_else(|| "—".into()),
                    consent(&c.consent_telegram),
                    consent(&c.consent_email),
                    cards.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(", "),
                    c.merged_into.map(|m| format!("\nMerged into customer {m}")).unwrap_or_default(),
                )
            })
        }
        CustomerCmd::Merge { into, from } => {
            let c = app
                .shop
                .customers()
                .merge_customers(into, from, &actor)
                .await?;
            app.emit(&c, || format!("Merged customer {from} into {into}."))
        }
        CustomerCmd::Edit {
            id,
            name,
            phone,
            email,
            birthday,
            language,
        } => {
            use stampcard_core::shop::ProfileChange;
            let clear = |v: String| (v.trim() != "-").then_some(v);
            let mut changes = Vec::new();
            changes.extend(name.map(ProfileChange::Name));
            changes.extend(phone.map(|v| ProfileChange::Phone(clear(v))));
            changes.extend(email.map(|v| ProfileChange::Email(clear(v))));
            if let Some(b) = birthday {
                let date = match clear(b) {
                    None => None,
                    Some(b) => Some(
                        chrono::NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d")
                            .map_err(|_| anyhow!("'{b}' is not a date like 1990-04-23"))?,
                    ),
                };
                changes.push(ProfileChange::Birthday(date));
            }
            changes.extend(language.map(|v| ProfileChange::Language(clear(v))));
            if changes.is_empty() {
                return Err(anyhow!(
                    "nothing to change: give --name, --phone, --email, --birthday or --language"
                ));
            }
            let c = app
                .shop
                .customers()
                .update_profile_fields(id, changes, &actor)
                .await?;
            app.emit(&c, || format!("Customer {id} ({}) updated.", c.name))
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
                .customers()
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
            let c = app.shop.customers().forget_customer(id, &actor).await?;
            app.emit(&c, || {
                format!("Customer {id} forgotten: personal data erased, cards deleted.")
            })
        }
        CustomerCmd::Export { id, output } => {
            let data = app.shop.customers().export_customer(id)?;
            let text = serde_json::to_string_pretty(&data)?;
            match output.filter(|p| !crate::output::is_stdout(p)) {
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
