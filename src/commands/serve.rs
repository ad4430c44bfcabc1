//! `stampcard serve`: owns the data folder and runs every door into the shop:
//! the admin socket, the HTTP listener, the outbox dispatchers and the
//! journal consumers, and scheduled backups.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::watch;

use stampcard_core::consumers::{Consumer, Notifier, Route, run_consumer, start_cursor};
use stampcard_core::outbox::{Channel, LogChannel, LogRoute, run_dispatcher};

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
    start_messaging(app, &mut tasks, &stop).await?;
    tasks.spawn(crate::schedule::run(app.clone(), stop.clone()));
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

/// Starts the delivery channels with their dispatchers, and the notifier
/// that turns card news into messages on them.
async fn start_messaging(
    app: &App,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> Result<()> {
    let mut routes: Vec<Arc<dyn Route>> = Vec::new();
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    if !app.config.outbox.log_file.is_empty() {
        let path = app.data.join(&app.config.outbox.log_file);
        let limits = app.config.rate_limits(app.config.outbox.log_per_second);
        channels.push(Arc::new(LogChannel::new(&path, limits)));
        routes.push(Arc::new(LogRoute));
    }
    for channel in channels {
        let (shop, stop) = (app.shop.clone(), stop.clone());
        tasks.spawn(async move {
            let name = channel.name().to_string();
            if let Err(e) = run_dispatcher(shop, channel, stop).await {
                tracing::error!("the {name} dispatcher stopped: {e}");
            }
        });
    }
    if !routes.is_empty() {
        let notifier: Arc<dyn Consumer> = Arc::new(Notifier::new(routes));
        start_cursor(&app.shop, notifier.name()).await?;
        let (shop, stop) = (app.shop.clone(), stop.clone());
        tasks.spawn(async move {
            if let Err(e) = run_consumer(shop, notifier, stop).await {
                tracing::error!("the notifier stopped: {e}");
            }
        });
    }
    Ok(())
}
