//! Opening a data folder and printing results for people and scripts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use stampcard_core::clock::SystemClock;
use stampcard_core::model::Actor;
use stampcard_core::store::StoreError;
use stampcard_core::{CoreError, Shop};

use crate::config::{self, Config};
use crate::output::Out;

/// An open data folder.
#[derive(Clone)]
pub struct App {
    /// The data folder.
    pub data: PathBuf,
    /// Its configuration.
    pub config: Config,
    /// The running shop.
    pub shop: Shop,
    /// Print JSON instead of text.
    pub json: bool,
    /// Where output goes.
    pub out: Out,
    /// The OS user running the command (named in the journal).
    pub user: String,
}

/// Rewrites the closed store of `data` from its live records, so what was
/// forgotten is in none of its files.
fn rewrite_store(data: &Path, options: stampcard_core::store::SledOptions) -> Result<()> {
    let n = stampcard_core::store::SledStore::rewrite(&store_dir(data), options)
        .with_context(|| format!("cannot rewrite the store in {}", data.display()))?;
    tracing::info!("store rewritten ({n} records): forgotten values are in none of its files");
    Ok(())
}

/// Opens the PostgreSQL store of a `[store]` section; every error is one
/// line without the password.
pub async fn open_pg_store(store: &config::StoreSection) -> Result<stampcard_core::store::PgStore> {
    use stampcard_core::store::{PgOptions, PgStore, redact_url};
    let url = store.postgres().unwrap_or_default();
    let shown = redact_url(url);
    let owned = url.to_string();
    // Opening connects and may wait on the network: off the runtime's threads.
    let options = PgOptions {
        shared: store.shared,
        ..PgOptions::default()
    };
    tokio::task::spawn_blocking(move || PgStore::open(&owned, options))
        .await
        .map_err(|e| anyhow!("opening the store: {e}"))?
        .map_err(|e| match e {
            StoreError::Locked(why) => anyhow!("{why} (is `stampcard serve` running?)"),
            StoreError::TooNew { found, supported } => anyhow!(
                "the database {shown} was written by a newer stampcard (schema {found}; this binary knows up to {supported}): upgrade stampcard"
            ),
            StoreError::Io(why) => anyhow!("cannot open the store: {why}"),
            other => anyhow!("cannot open the store {shown}: {other}"),
        })
}

/// Opens the shop in PostgreSQL; every error is one line without the
/// password. A node of a shared database takes the shop-wide sections its
/// file leaves out from the database, and is refused when those it sets
/// differ from the database's.
async fn open_postgres(
    data: &Path,
    mut raw: config::Raw,
    store: &config::StoreSection,
    clock: Arc<dyn stampcard_core::clock::Clock>,
) -> Result<(Config, Shop)> {
    let shown = stampcard_core::store::redact_url(store.postgres().unwrap_or_default());
    let pg = open_pg_store(store).await?;
    if store.shared {
        crate::shop_settings::fill(&pg, &mut raw)?;
    }
    let config = raw.finish()?;
    let settings = config.shop_settings()?;
    let shop = Shop::with_store(Arc::new(pg), settings, clock)
        .await
        .map_err(|e| anyhow!("cannot open the store {shown}: {e}"))?;
    if store.shared
        && let Err(e) = crate::shop_settings::agree(&**shop.store(), &config, data).await
    {
        shop.shutdown().await;
        return Err(e);
    }
    Ok((config, shop))
}

/// How long opening a store waits for a process that is stopping to let
/// go of it.
const STOPPING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// The store folder inside a data folder.
pub fn store_dir(data: &Path) -> PathBuf {
    data.join("store")
}

impl App {
    /// Opens the shop in a data folder.
    pub async fn open(data: &Path, json: bool) -> Result<Self> {
        Self::open_with_clock(data, json, Arc::new(SystemClock)).await
    }

    /// Opens the shop on another clock (the demo's history is made on a
    /// manual one).
    pub async fn open_with_clock(
        data: &Path,
        json: bool,
        clock: Arc<dyn stampcard_core::clock::Clock>,
    ) -> Result<Self> {
        let raw = config::read(data)?;
        let store = raw.store()?;
        if store.postgres().is_some() {
            let (config, shop) = open_postgres(data, raw, &store, clock).await?;
            return Ok(Self::opened(data, config, shop, json));
        }
        let config = raw.finish()?;
        let settings = config.shop_settings()?;
        let dir = store_dir(data);
        // A forget since the last rewrite: the store's files still hold the
        // old values; rewrite them before anything opens the store.
        if stampcard_core::store::SledStore::rewrite_requested(&dir) {
            rewrite_store(data, config.sled_options())?;
        }
        let open = || async {
            // A process that just stopped serving this folder (a console
            // quitting) holds the store until it has written its last
            // pages: wait for it a moment; one that still answers on the
            // admin socket is running, not stopping.
            let deadline = std::time::Instant::now() + STOPPING_PATIENCE;
            loop {
                let opened =
                    Shop::open(&dir, settings.clone(), clock.clone(), config.sled_options()).await;
                match opened {
                    Err(CoreError::Store(StoreError::Locked(_)))
                        if std::time::Instant::now() < deadline
                            && !matches!(
                                crate::admin::client::connect(data).await,
                                Ok(Some(_))
                            ) =>
                    {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    other => return other,
                }
            }
        };
        let shop = match open().await {
            Err(CoreError::Store(StoreError::Outdated { found, current })) => {
                crate::upgrade::upgrade(data, found, current)?;
                open().await
            }
            other => other,
        }
        .map_err(|e| match e {
            CoreError::Store(StoreError::Locked(_)) => {
                anyhow!(
                    "the data folder {} is in use by another stampcard process (is `stampcard serve` running?)",
                    data.display()
                )
            }
            other => anyhow!(other).context(format!("cannot open the store in {}", data.display())),
        })?;
        Ok(Self::opened(data, config, shop, json))
    }

    fn opened(data: &Path, config: Config, shop: Shop, json: bool) -> Self {
        let app = Self {
            data: data.to_path_buf(),
            config,
            shop,
            json,
            out: Out::Terminal,
            user: os_user(),
        };
        crate::scrub::install(&app);
        app
    }

    /// Closes the shop cleanly.
    pub async fn close(self) {
        self.shop.shutdown().await;
    }

    /// Prints a value: JSON for scripts, or the human text.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            self.out
                .line(&serde_json::to_string_pretty(value).context("serializing output")?);
        } else {
            let text = human();
            if !text.is_empty() {
                self.out.line(text.trim_end());
            }
        }
        Ok(())
    }

    /// Writes a command's file: to standard output for `-`, else whole or
    /// not at all (a temporary file beside it, renamed into place).
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if crate::output::is_stdout(path) {
            self.out.bytes(bytes);
            return Ok(());
        }
        let name = path
            .file_name()
            .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
        let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                anyhow!("cannot write {}: {e}", path.display())
            })
    }

    /// Reports a written file: like [`App::emit`], or on standard error
    /// when the file itself went to standard output.
    pub fn wrote<T: Serialize>(
        &self,
        path: &Path,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> Result<()> {
        if crate::output::is_stdout(path) {
            if !self.json {
                self.out.err_line(human().trim_end());
            }
            return Ok(());
        }
        self.emit(value, human)
    }

    /// A shop-local `YYYY-MM-DD HH:MM` as an instant.
    pub fn parse_local_time(&self, text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
        stampcard_core::clock::parse_local(&self.shop.settings().timezone, text)
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Who the command acts as: the OS user at the shop's machine (admin).
    pub fn actor(&self) -> Actor {
        Actor::Cli {
            user: self.user.clone(),
        }
    }
}

/// The OS user running this process.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "owner".into())
}

/// Formats an instant in the shop's time zone.
pub fn local(app: &App, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&app.shop.settings().timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
