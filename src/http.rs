//! The one HTTP listener: the binary mounts the routers the crates
//! contribute (the API, the wallet's web pages) beside its own `/healthz`
//! and `/metrics`.

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use stampcard_core::Shop;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::{Metrics, MetricsState};
use stampcard_core::listen::{Gate, HEADER_TIMEOUT};

/// Every route of the shop, with request latencies recorded in `metrics`;
/// `/healthz` also reports the listeners behind `gates`.
pub fn router(
    shop: Shop,
    metrics: Arc<Metrics>,
    routes: Vec<Arc<dyn stampcard_core::consumers::Route>>,
    pages: stampcard_wallet::Pages,
    gates: Vec<Arc<Gate>>,
) -> Router {
    let state = MetricsState {
        shop: shop.clone(),
        metrics: metrics.clone(),
        open: false,
    };
    Router::new()
        .route("/healthz", get(health))
        .with_state((shop.clone(), Arc::new(gates)))
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

/// `GET /healthz`: 200 and `ok`, or 503 and `degraded` while a listener
/// cannot accept or the store cannot write (the last error named), so a
/// monitor notices.
async fn health(
    State((shop, gates)): State<(Shop, Arc<Vec<Arc<Gate>>>)>,
) -> (axum::http::StatusCode, Json<serde_json::Value>) {
    let resident = shop.directory_stats().await.map(|s| s.resident).ok();
    let listeners: serde_json::Map<String, serde_json::Value> = gates
        .iter()
        .map(|g| {
            let state = g
                .trouble()
                .map_or_else(|| "ok".to_string(), |e| format!("failing: {e}"));
            (g.name.to_string(), state.into())
        })
        .collect();
    let store = shop.store().write_trouble();
    let degraded = store.is_some() || listeners.values().any(|v| v != "ok");
    let status = if degraded {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    } else {
        axum::http::StatusCode::OK
    };
    (
        status,
        Json(serde_json::json!({
            "status": if degraded { "degraded" } else { "ok" },
            "shop": shop.settings().name,
            "last_event": shop.store().last_event_id(),
            "resident_cards": resident,
            "listeners": listeners,
            "store": store.map_or_else(|| "ok".to_string(), |e| format!("cannot write: {e}")),
        })),
    )
}

/// Binds the listener (`[http] listen`).
pub async fn bind(listen: &str) -> Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {listen} (key `http.listen`)"))
}

/// Serves HTTP/1.1 until `stop` turns true: connections admitted by
/// `gate` (it stops accepting while full and backs off when accept fails),
/// each closed when its next request head does not arrive within
/// [`HEADER_TIMEOUT`] (idle keep-alive and slowloris alike); on stop,
/// requests in flight finish (10 s at most).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
    gate: Arc<Gate>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let accept = || async {
        let (stream, peer) = listener.accept().await?;
        Ok(((stream, peer), Some(peer)))
    };
    while let Some(((stream, peer), admitted)) = gate.next(&mut stop, accept).await {
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut router = router.clone();
                async move { tower::Service::call(&mut router, request).await }
            },
        );
        let connection =
            graceful.watch(builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(admitted);
        });
    }
    if tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP: requests still running after 10 s at stop were cut off");
    }
}
