//! `stampcard outbox`: outgoing messages and their delivery states.

use anyhow::Result;
use stampcard_core::outbox::DeliveryState;

use crate::app::{App, local};
use crate::cli::{DeliveryStateArg, OutboxCmd};

pub fn run(app: &App, cmd: OutboxCmd) -> Result<()> {
    match cmd {
        OutboxCmd::List { state, limit } => {
            let state = state.map(|s| match s {
                DeliveryStateArg::Queued => DeliveryState::Queued,
                DeliveryStateArg::Sending => DeliveryState::Sending,
                DeliveryStateArg::Sent => DeliveryState::Sent,
                DeliveryStateArg::Confirmed => DeliveryState::Confirmed,
                DeliveryStateArg::Failed => DeliveryState::Failed,
            });
            let entries = app.shop.outbox().entries(state, limit)?;
            app.emit(&entries, || {
                if entries.is_empty() {
                    return "No messages.".into();
                }
                let mut s = format!(
                    "{:>7}  {:<16}  {:<9}  {:<18}  {:<10}  {}\n",
                    "ID", "QUEUED", "CHANNEL", "TO", "STATE", "TEXT"
                );
                for e in &entries {
                    let state = e.status();
                    let text: String = e.message.text.chars().take(48).collect();
                    s += &format!(
                        "{:>7}  {:<16}  {:<9}  {:<18}  {:<10}  {}\n",
                        e.id,
                        local(app, e.created_at),
                        e.message.channel,
                        e.message.recipient,
                        state,
                        text
                    );
                }
                s
            })
        }
    }
}
