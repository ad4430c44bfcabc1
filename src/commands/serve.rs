//! `stampcard serve`: owns the data folder and runs every door into the shop
//! (the admin socket, the HTTP listener, the outbox dispatchers and the
//! journal consumers, scheduled backups: see `services.rs`) until SIGINT or
//! SIGTERM.

use std::path::Path;

use anyhow::Result;

use crate::app::App;
use crate::services::Services;

/// Runs the shop until SIGINT or SIGTERM.
pub async fn serve(data: &Path) -> Result<()> {
    let app = App::open(data, false).await?;
    let result = run(&app).await;
    app.close().await;
    result
}

async fn run(app: &App) -> Result<()> {
    // Handlers first: a SIGTERM right after "ready" must stop the shop
    // cleanly, not kill it by the default action.
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let services = Services::start(app, true).await?;
    if let Some(mode) = crate::commands::backup::readable_by_others(&app.data) {
        tracing::warn!(
            "{} is readable by other users of this machine (mode {mode:o}): \
             it holds customers' data and secrets; run chmod 700 on it",
            app.data.display()
        );
    }
    eprintln!(
        "stampcard serve: ready — shop \"{}\", {} template(s), http {}, ssh {}, {}data {}",
        app.config.shop.name,
        app.shop.templates().templates().len(),
        services.http_url(),
        services.ssh_addr(),
        services
            .metrics
            .map(|a| format!("metrics http://{a}/metrics, "))
            .unwrap_or_default(),
        app.data.display()
    );
    if app.config.smtp.enabled() {
        let smtp = &app.config.smtp;
        eprintln!(
            "stampcard serve: email via {}:{} ({}) from {}",
            smtp.host.trim(),
            smtp.port(),
            smtp.security.name(),
            smtp.from.trim()
        );
    }
    tokio::select! {
        _ = int.recv() => {},
        _ = term.recv() => {},
    }
    eprintln!("stampcard serve: stopping");
    services.stop().await;
    Ok(())
}
