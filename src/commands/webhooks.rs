//! `stampcard webhook`: create (secret shown), list, delete, deliveries.

use anyhow::Result;
use stampcard_core::model::Webhook;

use crate::app::{App, local};
use crate::cli::WebhookCmd;

fn json(h: &Webhook) -> serde_json::Value {
    serde_json::json!(h)
}

pub async fn run(app: &App, cmd: WebhookCmd) -> Result<()> {
    match cmd {
        WebhookCmd::Create { url, events: kinds } => {
            let h = app
                .shop
                .webhooks()
                .create_webhook(&url, &kinds, &app.actor())
                .await?;
            app.emit(&json(&h), || {
                format!(
                    "Webhook {} created: {} receives {}.\nSigning secret (verify Stampcard-Signature with it): {}",
                    h.id,
                    h.url,
                    h.events_label(),
                    h.secret
                )
            })
        }
        WebhookCmd::List => {
            let hooks = app.shop.webhooks().webhooks()?;
            app.emit(&hooks, || {
                if hooks.is_empty() {
                    return "No webhooks.".into();
                }
                let mut s = format!(
                    "{:>4}  {:<40}  {:<17}  {}\n",
                    "ID", "URL", "CREATED", "EVENTS"
                );
                for h in &hooks {
                    let state = match h.deleted_at {
                        Some(at) => format!("deleted {}", local(app, at)),
                        None => h.events_label(),
                    };
                    s += &format!(
                        "{:>4}  {:<40}  {:<17}  {state}\n",
                        h.id,
                        h.url,
                        local(app, h.created_at)
                    );
                }
                s
            })
        }
        WebhookCmd::Delete { id } => {
            let h = app.shop.webhooks().delete_webhook(id, &app.actor()).await?;
            app.emit(&json(&h), || {
                format!("Webhook {} ({}) deleted.", h.id, h.url)
            })
        }
        WebhookCmd::Deliveries { id, limit } => {
            let h = app.shop.webhooks().webhook(id)?;
            let entries = app.shop.webhooks().webhook_deliveries(h.id, limit)?;
            app.emit(&entries, || {
                if entries.is_empty() {
                    return format!("No deliveries to webhook {} yet.", h.id);
                }
                let mut s = format!(
                    "{:>7}  {:<16}  {:<18}  {:>7}  {}\n",
                    "ID", "QUEUED", "EVENT", "JOURNAL", "STATE"
                );
                for e in &entries {
                    s += &format!(
                        "{:>7}  {:<16}  {:<18}  {:>7}  {}\n",
                        e.id,
                        local(app, e.created_at),
                        e.message.subject.as_deref().unwrap_or(""),
                        e.message.source_event.unwrap_or(0),
                        e.status()
                    );
                }
                s
            })
        }
    }
}
