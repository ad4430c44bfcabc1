//! `/metrics` in the Prometheus text format: journal events by type (and
//! stamps, joins, redemptions), outbox depth and delivery outcomes per
//! channel (push errors among them), resident card actors, and HTTP request
//! latencies per route. Counters count since the server started.
//!
//! Answered for loopback peers (a Prometheus on the same machine) and for
//! requests with an admin API key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use stampcard_core::Shop;
use stampcard_core::model::EventKind;
use stampcard_core::shop::JournalQuery;
use tokio::sync::watch;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    events: Family<TypeLabel, Counter>,
    stamps: Counter,
    outbox_depth: Family<ChannelLabel, Gauge>,
    outbox_outcomes: Family<OutcomeLabels, Gauge>,
    resident: Gauge,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Metrics {
    /// An empty set of metrics, registered.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("stampcard");
        let events = Family::<TypeLabel, Counter>::default();
        let stamps = Counter::default();
        let outbox_depth = Family::<ChannelLabel, Gauge>::default();
        let outbox_outcomes = Family::<OutcomeLabels, Gauge>::default();
        let resident = Gauge::default();
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "events",
            "Journal events by type (card_issued = joins, voucher_redeemed = redemptions)",
            events.clone(),
        );
        registry.register(
            "stamps",
            "Stamps added (scans and receipt claims)",
            stamps.clone(),
        );
        registry.register(
            "outbox_depth",
            "Messages waiting to be delivered, per channel",
            outbox_depth.clone(),
        );
        registry.register(
            "outbox_outcomes",
            "Delivery outcomes per channel since start (delivered, retried, failed; \
             wallet retried+failed are push errors)",
            outbox_outcomes.clone(),
        );
        registry.register(
            "resident_card_actors",
            "Card actors in memory",
            resident.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency per route",
            requests.clone(),
        );
        Arc::new(Self {
            registry,
            events,
            stamps,
            outbox_depth,
            outbox_outcomes,
            resident,
            requests,
        })
    }

    fn count(&self, kind: &EventKind) {
        self.events
            .get_or_create(&TypeLabel {
                r#type: kind.name().to_string(),
            })
            .inc();
        match kind {
            EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
                self.stamps.inc_by(u64::from(effect.count));
            }
            _ => {}
        }
    }

    /// The text exposition, with the gauges read now.
    async fn render(&self, shop: &Shop) -> String {
        let stats = shop.outbox().stats().snapshot();
        if let Ok(mut depth) = shop.outbox().depth() {
            // Channels that delivered and have nothing waiting show 0.
            for channel in stats.keys() {
                depth.entry(channel.clone()).or_insert(0);
            }
            self.outbox_depth.clear();
            for (channel, n) in depth {
                self.outbox_depth
                    .get_or_create(&ChannelLabel { channel })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        for (channel, c) in stats {
            for (outcome, n) in [
                ("delivered", c.delivered),
                ("retried", c.retried),
                ("failed", c.failed),
            ] {
                self.outbox_outcomes
                    .get_or_create(&OutcomeLabels {
                        channel: channel.clone(),
                        outcome: outcome.into(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        if let Ok(stats) = shop.directory_stats().await {
            self.resident
                .set(i64::try_from(stats.resident).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts journal events committed from now on, until `stop`.
pub async fn follow(shop: Shop, metrics: Arc<Metrics>, mut stop: watch::Receiver<bool>) {
    let mut events = shop.subscribe();
    let mut after = shop.store().last_event_id();
    loop {
        let batch = shop
            .journal()
            .journal(&JournalQuery {
                after: Some(after),
                limit: 1000,
                ..Default::default()
            })
            .unwrap_or_default();
        for e in &batch {
            metrics.count(&e.kind);
            after = e.id;
        }
        if batch.len() == 1000 {
            continue;
        }
        tokio::select! {
            r = events.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
    }
}

/// The state `/metrics` needs.
#[derive(Clone)]
pub struct MetricsState {
    /// The shop.
    pub shop: Shop,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Answered without a key: the loopback-only metrics listener.
    pub open: bool,
}

/// `GET /metrics`.
pub async fn handler(
    State(s): State<MetricsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // A request from loopback may still come from anywhere through the
    // shop's reverse proxy: only the metrics listener answers without a key.
    let admin_key = crate::api::bearer(&s.shop, &headers).is_ok_and(|actor| actor.is_admin());
    let local_listener = s.open && peer.ip().is_loopback();
    if !(admin_key || local_listener) {
        return (
            StatusCode::FORBIDDEN,
            "metrics need an admin API key here; a Prometheus on this machine can use the \
             loopback listener of [http] metrics_listen\n",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(&s.shop).await,
    )
        .into_response()
}

/// Middleware: records each routed request's latency.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}
