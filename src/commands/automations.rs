//! `stampcard automation …`: create, list, turn on and off, run now.

use anyhow::{Result, anyhow};
use stampcard_core::model::{AutomationKind, CampaignVoucher};
use stampcard_core::shop::AutomationDraft;

use crate::app::App;
use crate::cli::AutomationCmd;

pub async fn run(app: &App, cmd: AutomationCmd) -> Result<()> {
    match cmd {
        AutomationCmd::Create {
            template,
            when,
            text,
            push,
            channels,
            name,
            voucher,
            voucher_days,
        } => {
            let kind = AutomationKind::parse(&when).map_err(|e| anyhow!(e))?;
            let a = app
                .shop
                .campaigns()
                .create_automation(
                    AutomationDraft {
                        name,
                        template_id: template,
                        kind,
                        text,
                        push_text: push,
                        channels,
                        voucher: voucher.map(|description| CampaignVoucher {
                            description,
                            valid_days: voucher_days,
                        }),
                    },
                    &app.actor(),
                )
                .await?;
            let st = app.shop.campaigns().automation_status(a)?;
            app.emit(&st, || {
                let a = &st.automation;
                format!(
                    "Automation {} \"{}\" created (on): template {}, {}; {} card(s) due now. \
                     `serve` runs it once a day.",
                    a.id,
                    a.name,
                    a.template_id,
                    a.channels.join(","),
                    st.due
                )
            })
        }
        AutomationCmd::List => {
            let list = app.shop.campaigns().automation_statuses()?;
            app.emit(&list, || {
                if list.is_empty() {
                    return "No automations.".into();
                }
                let mut s = String::new();
                for st in &list {
                    let a = &st.automation;
                    s += &format!(
                        "{:>4}  {:<3}  {:<40}  template {:<4} {:<16} due {}\n",
                        a.id,
                        if a.enabled { "on" } else { "off" },
                        a.name,
                        a.template_id,
                        a.channels.join(","),
                        st.due
                    );
                }
                s
            })
        }
        AutomationCmd::On { id } | AutomationCmd::Off { id } => {
            let on = matches!(cmd, AutomationCmd::On { .. });
            let a = app
                .shop
                .campaigns()
                .set_automation_enabled(id, on, &app.actor())
                .await?;
            app.emit(&a, || {
                format!("Automation {} is {}.", a.id, if on { "on" } else { "off" })
            })
        }
        AutomationCmd::Run => {
            let routes = crate::services::routes(app);
            let runs = app
                .shop
                .campaigns()
                .run_automations(&routes, &app.actor())
                .await?;
            app.emit(&runs, || {
                if runs.is_empty() {
                    return "No automation has cards due.".into();
                }
                runs.iter()
                    .map(|c| {
                        format!(
                            "Campaign {} \"{}\": {} recipient(s), {} message(s), {} left out by the cap\n",
                            c.id, c.name, c.recipients, c.messages, c.capped
                        )
                    })
                    .collect()
            })
        }
    }
}
