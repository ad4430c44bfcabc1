//! `stampcard alerts`: the fraud alerts raised, acknowledging one, and a
//! dry run of the rules over the journal's history.

use anyhow::Result;

use crate::app::{App, local};
use crate::cli::AlertsCmd;

pub async fn run(app: &App, cmd: AlertsCmd) -> Result<()> {
    match cmd {
        AlertsCmd::List => {
            let alerts = app.shop.alerts().list()?;
            app.emit(&alerts, || {
                if alerts.is_empty() {
                    return "No alerts.".into();
                }
                let mut s = String::new();
                for a in &alerts {
                    let seen = match &a.acknowledged {
                        Some((who, at)) => format!("seen by {who} {}", local(app, *at)),
                        None => "NEW".into(),
                    };
                    s += &format!(
                        "#{:<4} {}  {:<13} {}  [{seen}]\n      {}\n",
                        a.alert.id,
                        local(app, a.alert.raised_at),
                        a.alert.rule,
                        a.alert.subject,
                        a.alert.text
                    );
                    if a.alert.findings > 1 {
                        let later = a.alert.findings - 1;
                        let noun = if later == 1 { "finding" } else { "findings" };
                        s += &format!("      {later} later {noun} added to it\n");
                    }
                }
                s
            })
        }
        AlertsCmd::Ack { id } => {
            app.shop.alerts().acknowledge(id, &app.actor()).await?;
            app.emit(&serde_json::json!({"acknowledged": id}), || {
                format!("Alert #{id} acknowledged.")
            })
        }
        AlertsCmd::Replay { days } => {
            let since = app.shop.clock().now() - chrono::Duration::days(i64::from(days));
            let found = app.shop.alerts().replay(since)?;
            let lang = app.shop.settings().alerts.language.clone();
            let name = app.shop.settings().name.clone();
            let lines: Vec<serde_json::Value> = found
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "rule": f.rule.name(), "subject": f.subject, "at": f.at,
                        "event_id": f.event_id, "cards": f.cards, "staff": f.staff,
                        "text": stampcard_core::consumers::finding_text(&lang, &name, f),
                    })
                })
                .collect();
            app.emit(&lines, || {
                if found.is_empty() {
                    return format!("The rules raise no alert over the last {days} days.");
                }
                let mut s = format!(
                    "{} alerts over the last {days} days (nothing sent):\n",
                    found.len()
                );
                for (f, l) in found.iter().zip(&lines) {
                    s += &format!(
                        "{}  {:<13} {}\n",
                        local(app, f.at),
                        f.rule.name(),
                        l["text"].as_str().unwrap_or_default()
                    );
                }
                s
            })
        }
    }
}
