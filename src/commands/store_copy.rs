//! `stampcard store copy --to <URL|FOLDER>`: the whole shop from where it
//! lives now into an empty PostgreSQL database, or into a new data folder
//! (back from PostgreSQL). The records travel as a snapshot, streamed: the
//! source's consistent view is read while the target loads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use stampcard_core::store::{PgOptions, PgStore, SledOptions, SledStore, redact_url};

use crate::app::{App, store_dir};
use crate::config;

/// Where the copy goes.
enum Target {
    Postgres(String),
    Folder(PathBuf),
}

impl Target {
    fn parse(to: &str) -> Self {
        if to.contains("://") {
            Target::Postgres(to.to_string())
        } else {
            Target::Folder(PathBuf::from(to))
        }
    }

    fn shown(&self) -> String {
        match self {
            Target::Postgres(url) => redact_url(url),
            Target::Folder(p) => p.display().to_string(),
        }
    }
}

/// A store being loaded.
enum Loading {
    Postgres(Box<PgStore>),
    Sled(SledStore),
}

impl Loading {
    fn load(
        &self,
        records: impl Iterator<Item = std::io::Result<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<u64> {
        Ok(match self {
            Loading::Postgres(s) => s.load_snapshot(records)?,
            Loading::Sled(s) => s.load_snapshot(records)?,
        })
    }

    fn close(&self) {
        match self {
            Loading::Postgres(s) => s.close(),
            Loading::Sled(s) => s.close(),
        }
    }
}

/// Opens the target, refusing one that holds anything.
fn open_target(target: &Target, data: &Path) -> Result<Loading> {
    match target {
        Target::Postgres(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!("{} is not a postgres:// URL", redact_url(url));
            }
            let store = PgStore::open(url, PgOptions::default())
                .map_err(|e| anyhow!("cannot open {}: {e}", redact_url(url)))?;
            if !store.is_empty()? {
                store.close();
                bail!(
                    "the database {} is not empty: copy into a new, empty database",
                    redact_url(url)
                );
            }
            Ok(Loading::Postgres(Box::new(store)))
        }
        Target::Folder(folder) => {
            if folder == data {
                bail!("{} is the shop's own data folder", folder.display());
            }
            let store = store_dir(folder);
            if store.exists() {
                bail!(
                    "{} holds a store already: copy into a new folder",
                    folder.display()
                );
            }
            super::backup::create_private_dir(folder)?;
            Ok(Loading::Sled(SledStore::open(
                &store,
                SledOptions::default(),
            )?))
        }
    }
}

pub async fn copy(data: &Path, to: &str, json: bool) -> Result<()> {
    let target = Target::parse(to);
    let app = App::open(data, json).await?;
    let source = match app.config.store.postgres() {
        Some(url) => redact_url(url),
        None => store_dir(data).display().to_string(),
    };
    if let (Target::Postgres(url), Some(now)) = (&target, app.config.store.postgres())
        && url == now
    {
        app.close().await;
        bail!("the shop lives in {} already", redact_url(url));
    }
    let shown = target.shown();
    let progress = !json && app.out.shows_progress();
    let data_owned = data.to_path_buf();
    let loading = match tokio::task::spawn_blocking(move || {
        open_target(&target, &data_owned).map(|l| (l, target))
    })
    .await
    .map_err(|e| anyhow!("opening the target: {e}"))?
    {
        Ok(l) => l,
        Err(e) => {
            app.close().await;
            return Err(e);
        }
    };
    let (loading, target) = loading;
    let loading = Arc::new(loading);
    // The snapshot feeds a channel; the target loads from it on its own thread.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, Vec<u8>)>(4096);
    let loader = {
        let loading = loading.clone();
        tokio::task::spawn_blocking(move || {
            let mut n = 0u64;
            let records = rx.into_iter().map(|r| {
                n += 1;
                if progress && n.is_multiple_of(50_000) {
                    eprintln!("Copied {n} records…");
                }
                Ok(r)
            });
            loading.load(records)
        })
    };
    let snapshot = app
        .shop
        .store()
        .snapshot(Box::new(move |k, v| {
            tx.send((k.to_vec(), v.to_vec()))
                .map_err(|_| std::io::Error::other("the target stopped loading"))
        }))
        .await;
    let loaded = loader
        .await
        .map_err(|e| anyhow!("loading the target: {e}"))?;
    // The shop-wide settings and SSH host key go in too: nodes that share
    // the database later check theirs against them.
    let settings = match (&*loading, &loaded) {
        (Loading::Postgres(store), Ok(_)) => {
            crate::shop_settings::agree(&**store, &app.config, data).await
        }
        _ => Ok(()),
    };
    loading.close();
    app.close().await;
    let written = snapshot.context("reading the shop")?;
    let loaded = loaded.with_context(|| format!("writing into {shown}"))?;
    settings.with_context(|| format!("putting the shop-wide settings into {shown}"))?;
    if loaded != written {
        bail!("read {written} records but wrote {loaded}: the copy in {shown} is incomplete");
    }
    let next = match &target {
        Target::Postgres(_) => format!(
            "To run the shop from there, set `url` under [store] in {} (or STAMPCARD_STORE__URL); the folder's store stays as it was.",
            data.join(config::FILE_NAME).display()
        ),
        Target::Folder(folder) => {
            write_folder_config(data, folder)?;
            format!(
                "{} is a data folder of its own now: `stampcard --data {} serve`.",
                folder.display(),
                folder.display()
            )
        }
    };
    let value = serde_json::json!({ "from": source, "to": shown, "records": loaded });
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("Copied {loaded} records from {source} to {shown}.\n{next}");
    }
    Ok(())
}

/// The new folder's config: this shop's, without the PostgreSQL URL (its
/// wallet files and keys stay where the config names them).
fn write_folder_config(data: &Path, folder: &Path) -> Result<()> {
    let dest = folder.join(config::FILE_NAME);
    if dest.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(data.join(config::FILE_NAME))?;
    let mut section = String::new();
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let t = line.trim();
            if t.starts_with('[') {
                section = t.to_string();
            }
            !(section == "[store]" && t.starts_with("url") && t.contains('='))
        })
        .collect();
    crate::export::write_private(&dest, format!("{}\n", kept.join("\n")).as_bytes())?;
    Ok(())
}
