//! The one HTTP listener: the binary mounts the routers the crates
//! contribute (the API, the wallet's web pages) beside its own `/healthz`
//! and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use stampcard_core::Shop;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::{Metrics, MetricsState};

/// Every route of the shop, with request latencies recorded in `metrics`.
pub fn router(
    shop: Shop,
    metrics: Arc<Metrics>,
    routes: Vec<Arc<dyn stampcard_core::consumers::Route>>,
    pages: stampcard_wallet::Pages,
) -> Router {
    let state = MetricsState {
        shop: shop.clone(),
        metrics: metrics.clone(),
        open: false,
    };
    Router::new()
        .route("/healthz", get(health))
        .with_state(shop.clone())
        .route("/metrics", get(crate::metrics::handler).with_state(state))
        .merge(crate::api::router(shop.clone(), routes))
        .merge(stampcard_wallet::router(shop, pages))
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
}

/// The metrics listener's routes: `/metrics` alone, answered without a key
/// (it listens on loopback only).
pub fn metrics_router(shop: Shop, metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(crate::metrics::handler).with_state(MetricsState {
            shop,
            metrics,
            open: true,
        }),
    )
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
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("HTTP server: {e}");
    }
}
