//! `stampcard store settings [--update]`: the shop-wide settings that the
//! nodes of a shared PostgreSQL database take from it — shown (secrets
//! hidden, and which sections this node's file sets itself), or replaced by
//! this folder's.

use std::path::Path;

use anyhow::{Result, bail};

use crate::app::open_pg_store;
use crate::config;
use crate::shop_settings;

/// Shows the database's shop-wide settings, or with `update` puts this
/// folder's there.
pub async fn settings(data: &Path, update: bool, json: bool) -> Result<()> {
    let mut raw = config::read(data)?;
    let section = raw.store()?;
    if !(section.shared && section.postgres().is_some()) {
        bail!(
            "`store settings` is for a shop whose nodes share a PostgreSQL database ([store] url and shared = true); this folder's shop keeps its settings in {}",
            data.join(config::FILE_NAME).display()
        );
    }
    let pg = open_pg_store(&section).await?;
    let set_here: Vec<&str> = shop_settings::sections()
        .iter()
        .copied()
        .filter(|s| raw.has(s))
        .collect();
    let result = if update {
        shop_settings::fill(&pg, &mut raw).and_then(|()| raw.finish())
    } else {
        Ok(config::Config::default())
    };
    let outcome = match result {
        Ok(config) if update => shop_settings::replace(&pg, &config).await.map(Some),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    let stored = shop_settings::stored(&pg);
    pg.close();
    let (outcome, stored) = (outcome?, stored?);
    match outcome {
        Some(changed) => print_changes(&changed, json),
        None => print_settings(stored.as_ref(), &set_here, json),
    }
}

fn print_changes(changed: &[(String, String, String)], json: bool) -> Result<()> {
    if json {
        let list: Vec<_> = changed
            .iter()
            .map(|(k, a, b)| serde_json::json!({"key": k, "was": a, "now": b}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "changed": list }))?
        );
        return Ok(());
    }
    if changed.is_empty() {
        println!("The shop's settings in the database already are this folder's: nothing changed.");
        return Ok(());
    }
    for (key, was, now) in changed {
        println!("{key}: {was} → {now}");
    }
    println!(
        "Saved. Restart every node to use them; a node whose stampcard.toml sets one of these sections differently is refused at start (leave the shop-wide sections out of a node's file)."
    );
    Ok(())
}

fn print_settings(stored: Option<&serde_json::Value>, set_here: &[&str], json: bool) -> Result<()> {
    let Some(stored) = stored else {
        bail!(
            "the shop's database holds no shop-wide settings yet: `stampcard store copy --to …` or the first node puts them there"
        );
    };
    let shown = shop_settings::hidden(stored);
    if json {
        let value = serde_json::json!({ "settings": shown, "set_in_this_file": set_here });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let table = config::toml_of(&shown).unwrap_or_else(|| toml::Value::Table(Default::default()));
    println!("# The shop-wide settings in the database (secrets hidden).");
    if set_here.is_empty() {
        println!("# This node's stampcard.toml sets none of them: it takes them all from here.");
    } else {
        println!(
            "# This node's stampcard.toml sets [{}] itself: they must equal these.",
            set_here.join("], [")
        );
    }
    print!("{}", toml::to_string_pretty(&table)?);
    Ok(())
}
