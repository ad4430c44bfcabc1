//! What the console may ask of this program: backups of the data folder.

use std::sync::Arc;

use chrono::{DateTime, Utc};
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
