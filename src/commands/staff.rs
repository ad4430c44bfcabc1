//! `stampcard staff …`

use anyhow::{Context, Result};
use stampcard_core::model::{Role, Staff};

use crate::app::App;
use crate::cli::StaffCmd;

fn public(s: &Staff) -> serde_json::Value {
    serde_json::json!({"id": s.id, "name": s.name, "role": s.role, "enabled": s.enabled})
}

pub async fn run(app: &App, cmd: StaffCmd) -> Result<()> {
    let actor = app.actor();
    match cmd {
        StaffCmd::Add { name, role, pin } => {
            let role: Role = role.into();
            let s = app
                .shop
                .access()
                .add_staff(&name, role, &pin, &actor)
                .await?;
            app.emit(&public(&s), || {
                format!("Added {} ({:?}) as staff member {}.", s.name, s.role, s.id)
            })
        }
        StaffCmd::List => {
            let all = app.shop.access().staff()?;
            let rows: Vec<_> = all.iter().map(public).collect();
            app.emit(&rows, || {
                let mut s = format!("{:<4} {:<20} {:<6} {}\n", "ID", "NAME", "ROLE", "STATE");
                for m in &all {
                    s += &format!(
                        "{:<4} {:<20} {:<6} {}\n",
                        m.id,
                        m.name,
                        format!("{:?}", m.role).to_lowercase(),
                        if m.enabled { "enabled" } else { "disabled" }
                    );
                }
                s
            })
        }
        StaffCmd::AddKey { who, key } => {
            let line = if std::path::Path::new(&key).is_file() {
                std::fs::read_to_string(&key).with_context(|| format!("cannot read {key}"))?
            } else {
                key
            };
            let s = app
                .shop
                .access()
                .add_staff_ssh_key(&who, &line, &actor)
                .await?;
            app.emit(&public(&s), || {
                format!("{} can now sign in over SSH with that key.", s.name)
            })
        }
        StaffCmd::Disable { who } => {
            let s = app
                .shop
                .access()
                .set_staff_enabled(&who, false, &actor)
                .await?;
            app.emit(&public(&s), || {
                format!("{} is disabled and can no longer sign in.", s.name)
            })
        }
        StaffCmd::Enable { who } => {
            let s = app
                .shop
                .access()
                .set_staff_enabled(&who, true, &actor)
                .await?;
            app.emit(&public(&s), || format!("{} is enabled.", s.name))
        }
    }
}
