//! `stampcard api-key`: create (token shown once), list, revoke.

use anyhow::Result;
use stampcard_core::model::ApiKey;

use crate::app::{App, local};
use crate::cli::ApiKeyCmd;

fn json(k: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "id": k.id, "prefix": k.prefix(), "name": k.name, "role": k.role,
        "created_at": k.created_at, "revoked_at": k.revoked_at,
    })
}

pub async fn run(app: &App, cmd: ApiKeyCmd) -> Result<()> {
    match cmd {
        ApiKeyCmd::Create { name, role } => {
            let (k, token) = app
                .shop
                .access()
                .create_api_key(&name, role.into(), &app.actor())
                .await?;
            let mut out = json(&k);
            out["token"] = token.clone().into();
            app.emit(&out, || {
                format!(
                    "API key {} \"{}\" ({:?}) created. Send it as\n  Authorization: Bearer {token}\nThe token is shown once here; keep it secret.",
                    k.prefix(),
                    k.name,
                    k.role
                )
            })
        }
        ApiKeyCmd::List => {
            let keys = app.shop.access().api_keys()?;
            let rows: Vec<_> = keys.iter().map(json).collect();
            app.emit(&rows, || {
                let mut s = format!(
                    "{:<10} {:<24} {:<6} {:<17} {}\n",
                    "PREFIX", "NAME", "ROLE", "CREATED", "STATE"
                );
                for k in &keys {
                    let state = match k.revoked_at {
                        Some(at) => format!("revoked {}", local(app, at)),
                        None => "active".into(),
                    };
                    s += &format!(
                        "{:<10} {:<24} {:<6} {:<17} {state}\n",
                        k.prefix(),
                        k.name,
                        format!("{:?}", k.role).to_lowercase(),
                        local(app, k.created_at),
                    );
                }
                s
            })
        }
        ApiKeyCmd::Revoke { key } => {
            let k = app.shop.access().revoke_api_key(&key, &app.actor()).await?;
            app.emit(&json(&k), || {
                format!("API key {} \"{}\" revoked.", k.prefix(), k.name)
            })
        }
    }
}
