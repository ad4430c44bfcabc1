//! The one HTTP listener: the binary mounts the routers the crates
//! contribute (the wallet's web pages so far) beside its own `/healthz`.

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use stampcard_core::Shop;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Every route of the shop.
pub fn router(shop: Shop) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .with_state(shop.clone())
        .merge(crate::api::router(shop.clone()))
        .merge(stampcard_wallet::router(shop))
}

async fn health(State(shop): State<Shop>) -> Json<serde_json::Value> {
    let resident = shop.directory_stats().await.map(|s| s.resident).ok();
    Json(serde_json::json!({
        "status": "ok",
        "shop": shop.settings().name,
        "last_event": shop.store().last_event_id(),
        "resident_cards": resident,
    }))
}

/// Binds the listener (`[http] listen`).
pub async fn bind(listen: &str) -> Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {listen} (key `http.listen`)"))
}

/// Serves HTTP until `stop` turns true.
pub async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("HTTP server: {e}");
    }
}
