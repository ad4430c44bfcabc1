//! What the console may ask of this program: backups of the data folder.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use stampcard_core::outbox::Purpose;
use stampcard_tui::host::{BoxFuture, Host};

use crate::app::App;

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

    fn send_message(&self, card: u64, text: String) -> BoxFuture<Result<Vec<String>, String>> {
        let app = self.app.clone();
        Box::pin(async move {
            let routes = crate::commands::serve::routes(&app);
            let queued = app
                .shop
                .message_card_holder(card, &text, &routes, Purpose::Marketing)
                .await
                .map_err(|e| e.to_string())?;
            Ok(queued.into_iter().map(|(_, channel)| channel).collect())
        })
    }

    fn save_export(&self, name: String, bytes: Vec<u8>) -> Result<String, String> {
        let dir = self.app.data.join("exports");
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
        let path = dir.join(safe);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path.display().to_string())
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
