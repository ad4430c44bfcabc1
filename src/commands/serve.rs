//! `stampcard serve`: owns the data folder and runs every door into the shop:
//! the admin socket, the HTTP listener, the outbox dispatchers and the
//! journal consumers, and scheduled backups.

use std::path::Path;

use anyhow::Result;
use tokio::sync::watch;

use crate::app::App;

/// Runs the shop until SIGINT or SIGTERM.
pub async fn serve(data: &Path) -> Result<()> {
    let app = App::open(data, false).await?;
    let result = run(&app).await;
    app.close().await;
    result
}

async fn run(app: &App) -> Result<()> {
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let socket = crate::admin::server::bind(&app.data)?;
    tasks.spawn(crate::admin::server::serve(
        app.clone(),
        socket,
        stop.clone(),
    ));
    let listener = crate::http::bind(&app.config.http.listen).await?;
    let http_addr = listener.local_addr()?;
    tasks.spawn(crate::http::serve(
        listener,
        crate::http::router(app.shop.clone()),
        stop.clone(),
    ));
    eprintln!(
        "stampcard serve: ready — shop \"{}\", {} template(s), http http://{http_addr}, data {}",
        app.config.shop.name,
        app.shop.templates().len(),
        app.data.display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    eprintln!("stampcard serve: stopping");
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}
