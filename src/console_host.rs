//! What the console may ask of this program: backups of the data folder,
//! files in `<data>/exports` (printables, table exports), messages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use stampcard_tui::host::{BoxFuture, Host};

use crate::app::App;

/// Where a file the console makes goes: `<data>/exports/<name>` (the
/// folder created private), the name reduced to safe characters.
fn export_path(app: &App, name: &str) -> Result<std::path::PathBuf, String> {
    let dir = app.data.join("exports");
    crate::commands::backup::create_private_dir(&dir).map_err(|e| format!("{e:#}"))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(dir.join(safe))
}

/// The binary as the console's host.
pub struct AppHost {
    app: App,
}

impl AppHost {
    /// A host over an open data folder.
    pub fn shared(app: &App) -> Arc<dyn Host> {
        Arc::new(Self { app: app.clone() })
    }
}

impl Host for AppHost {
    fn last_backup(&self) -> Option<(DateTime<Utc>, String)> {
        crate::schedule::list(&crate::schedule::backup_dir(&self.app))
            .pop()
            .map(|(at, path)| (at, path.display().to_string()))
    }

    fn channels_status(&self) -> String {
        let mut lines = vec![crate::passes::status_line(&self.app)];
        lines.extend(crate::passes::google_status_line(&self.app));
        lines.push(crate::email::status_line(&self.app));
        lines.join("\n")
    }

    fn routes(&self) -> Vec<Arc<dyn stampcard_core::consumers::Route>> {
        crate::services::routes(&self.app)
    }

    fn save_export(&self, name: String, bytes: Vec<u8>) -> Result<String, String> {
        let path = export_path(&self.app, &name)?;
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }

    fn export_table(&self, table: String, json: bool) -> BoxFuture<Result<(String, u64), String>> {
        let app = self.app.clone();
        Box::pin(async move {
            use clap::ValueEnum;
            let t = crate::cli::Table::from_str(&table, true).map_err(|_| {
                format!("'{table}' is not a table: customers, cards, vouchers or journal")
            })?;
            let (format, ext) = if json {
                (crate::cli::Format::Json, "jsonl")
            } else {
                (crate::cli::Format::Csv, "csv")
            };
            let stamp = app
                .shop
                .clock()
                .now()
                .with_timezone(&app.shop.settings().timezone)
                .format("%Y%m%d-%H%M%S");
            let path = export_path(&app, &format!("{}-{stamp}.{ext}", table.to_lowercase()))?;
            // A million rows take seconds: off the async workers.
            tokio::task::spawn_blocking(move || {
                let file = crate::export::private_file(&path)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                let rows = crate::export::write_table(&app.shop, t, format, &mut out, &mut |_| {})?;
                anyhow::Ok((path.display().to_string(), rows))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:#}"))
        })
    }

    fn backup_now(&self) -> BoxFuture<Result<String, String>> {
        let app = self.app.clone();
        Box::pin(async move {
            crate::schedule::take(&app)
                .await
                .map(|p| p.display().to_string())
                .map_err(|e| format!("{e:#}"))
        })
    }
}
