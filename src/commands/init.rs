//! `stampcard init [--demo]`: a new data folder, optionally with a demo shop.

use std::path::Path;

use anyhow::{Result, bail};
use std::sync::Arc;

use stampcard_core::clock::ManualClock;
use stampcard_core::model::Role;

use crate::app::App;
use crate::cli::InitArgs;
use crate::commands::backup::create_private_dir;
use crate::commands::demo;
use crate::config::{self, Config, Secret, ShopSection};

pub async fn init(data: &Path, args: InitArgs, json: bool) -> Result<()> {
    let cfg_path = data.join(config::FILE_NAME);
    if cfg_path.exists() {
        bail!(
            "{} exists already: this data folder is initialised",
            cfg_path.display()
        );
    }
    if args.node {
        return node(data, args.store.as_deref().unwrap_or_default(), json).await;
    }
    let first_admin = first_admin(data, &args)?;
    let timezone = match args.timezone {
        Some(tz) => tz,
        None => iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into()),
    };
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        bail!("'{timezone}' is not an IANA time zone (e.g. Europe/Berlin); pass --timezone");
    }
    let name = args.name.unwrap_or_else(|| {
        if args.demo {
            "Ember & Oak Coffee".into()
        } else {
            "My Shop".into()
        }
    });
    let mut config = Config {
        shop: ShopSection {
            name,
            timezone,
            secret: Secret(hex::encode(rand::random::<[u8; 32]>())),
            opening_hours: Default::default(),
        },
        ..Default::default()
    };
    if let Some(url) = args.store {
        config.store.url = url;
    }
    let fresh = !data.exists();
    create_private_dir(data)?;
    config::write_new(&cfg_path, &config)?;
    // Nothing is left behind by an init that did not make a shop.
    let undo = || {
        if fresh {
            let _ = std::fs::remove_dir_all(data);
        } else {
            let _ = std::fs::remove_file(&cfg_path);
            let _ = std::fs::remove_dir_all(crate::app::store_dir(data));
        }
    };
    // The demo's history is made on a manual clock, back-dated from now.
    let clock = ManualClock::new(chrono::Utc::now());
    let app = match App::open_with_clock(data, json, Arc::new(clock.clone())).await {
        Ok(app) => app,
        Err(e) => {
            undo();
            return Err(e);
        }
    };
    if app.config.store.postgres().is_some() && holds_a_shop(&app) {
        app.close().await;
        let _ = std::fs::remove_file(&cfg_path);
        if fresh {
            let _ = std::fs::remove_dir_all(data);
        }
        bail!(
            "the database already holds a shop: point --store at an empty database, or keep this one with `[store] url` in a data folder's stampcard.toml"
        );
    }
    let summary = match (&first_admin, args.demo) {
        (_, true) => {
            let days = args.history_days.unwrap_or(demo::HISTORY_DAYS);
            if days > 0 && !json && app.out.shows_progress() {
                eprintln!("Making {days} days of demo history…");
            }
            demo::seed_demo(&app, &clock, days).await
        }
        (Some((name, pin)), false) => app
            .shop
            .access()
            .add_staff(name, Role::Admin, pin, &app.actor())
            .await
            .map(|s| format!("{} can sign in with their PIN as admin.", s.name))
            .map_err(Into::into),
        (None, false) => Ok(format!(
            "No staff yet: nobody can sign in to the console. Create the first admin:\n  {}",
            add_admin_command(data)
        )),
    };
    let summary = match summary {
        Ok(text) => text,
        Err(e) => {
            // A shop half made is no shop: leave the folder as it was.
            app.close().await;
            undo();
            return Err(e);
        }
    };
    let result = Ok(summary).and_then(|demo: String| {
        app.emit(
            &serde_json::json!({
                "data": data,
                "demo": args.demo,
                "admin": first_admin.as_ref().map(|(name, _)| name),
            }),
            || {
                format!(
                    "Created {} ({}, time zone {}).\n{demo}",
                    data.display(),
                    app.config.shop.name,
                    app.config.shop.timezone
                )
            },
        )
    });
    app.close().await;
    result
}

/// A data folder for another node of a shop in a shared PostgreSQL
/// database: its file names the database; the rest comes from there.
async fn node(data: &Path, url: &str, json: bool) -> Result<()> {
    let cfg_path = data.join(config::FILE_NAME);
    let text = format!(
        "# A node of the shop in this PostgreSQL database: the shop-wide settings\n\
         # ([shop], [rules], [campaigns], [telegram], [wallet], [smtp], …) come from\n\
         # there (`stampcard store settings`). Set here only what is this machine's:\n\
         # [http] listen, [ssh] listen, [backup] dir, logs.\n\
         [store]\nurl = {}\nshared = true\n",
        toml::Value::String(url.to_string())
    );
    let fresh = !data.exists();
    let had_key = data.join("ssh_host_key").exists();
    create_private_dir(data)?;
    crate::export::write_private(&cfg_path, text.as_bytes())?;
    let app = match App::open(data, json).await {
        Ok(app) => app,
        Err(e) => {
            if fresh {
                let _ = std::fs::remove_dir_all(data);
            } else {
                let _ = std::fs::remove_file(&cfg_path);
                if !had_key {
                    let _ = std::fs::remove_file(data.join("ssh_host_key"));
                }
            }
            return Err(e);
        }
    };
    let result = app.emit(
        &serde_json::json!({ "data": data, "node": true, "shop": app.config.shop.name }),
        || {
            format!(
                "Created {}, a node of {} (time zone {}). Start it with `stampcard --data {} serve`.",
                data.display(),
                app.config.shop.name,
                app.config.shop.timezone,
                data.display()
            )
        },
    );
    app.close().await;
    result
}

/// Whether the shop's store already holds templates, staff or cards.
fn holds_a_shop(app: &App) -> bool {
    use stampcard_core::store::Family;
    let store = app.shop.store();
    [
        Family::Templates,
        Family::Staff,
        Family::Cards,
        Family::Customers,
    ]
    .into_iter()
    .any(|f| store.count(f).map_or(true, |n| n > 0))
}

/// The command that creates a shop's first admin.
pub fn add_admin_command(data: &Path) -> String {
    let folder = if data == Path::new(crate::cli::DEFAULT_DATA) {
        String::new()
    } else {
        format!("--data {} ", data.display())
    };
    format!("stampcard {folder}staff add --name Owner --role admin --pin <4 to 8 digits>")
}

/// The first admin: from `--admin` and `--pin`, else asked on a terminal;
/// none for a demo or when nobody can be asked. Checked before anything
/// is written, so a bad PIN leaves no half-made folder.
fn first_admin(data: &Path, args: &InitArgs) -> Result<Option<(String, String)>> {
    let check = |name: String, pin: String| -> Result<(String, String)> {
        if name.trim().is_empty() || name.trim().chars().count() > 64 {
            bail!("the admin's name must have 1 to 64 characters");
        }
        if !(4..=8).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            bail!("a PIN has 4 to 8 digits");
        }
        Ok((name.trim().to_string(), pin))
    };
    match (&args.admin, &args.pin) {
        (Some(name), Some(pin)) => return check(name.clone(), pin.clone()).map(Some),
        _ if args.demo || !crate::prompt::interactive() => return Ok(None),
        _ => {}
    }
    eprintln!(
        "Creating {}: the first admin signs in to the console with a PIN.",
        data.display()
    );
    let name = crate::prompt::ask("Admin's name", "Owner")?;
    let pin = crate::prompt::ask_secret("PIN (4 to 8 digits)")?;
    if crate::prompt::ask_secret("The same PIN again")? != pin {
        bail!("the two PINs differ: nothing was created");
    }
    check(name, pin).map(Some)
}
