//! Webhooks over the API (admin keys): subscribe, list, delete, and each
//! one's delivery log.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stampcard_core::Shop;
use stampcard_core::model::Webhook;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::doc::Errors;
use super::error::ApiError;
use super::input::{Body, Object, bad_query, check_limit, path_id};

/// A subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST (http:// or https://).
    url: String,
    /// Event types (e.g. `stamp_added`); all when empty or left out.
    #[serde(default)]
    events: Vec<String>,
}

/// A webhook; `secret` only in the answer that created it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    /// Webhook id.
    id: u64,
    /// Where deliveries go.
    url: String,
    /// Event types; empty = all.
    events: Vec<String>,
    /// The signing secret (only when created).
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// When created (RFC 3339).
    created_at: String,
    /// When deleted (RFC 3339), else null.
    deleted_at: Option<String>,
}

impl WebhookBody {
    fn of(h: Webhook, with_secret: bool) -> Self {
        WebhookBody {
            id: h.id,
            url: h.url,
            events: h.events,
            secret: with_secret.then_some(h.secret),
            created_at: h.created_at.to_rfc3339(),
            deleted_at: h.deleted_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Subscribes a URL to event types; the answer holds the signing secret.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "webhooks",
    request_body = NewWebhook,
    responses((status = 201, description = "Subscribed", body = WebhookBody), Errors))]
pub async fn create(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    body: Body<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookBody>), ApiError> {
    let Object(req) = body?;
    let h = shop
        .webhooks()
        .create_webhook(&req.url, &req.events, &actor)
        .await?;
    Ok((StatusCode::CREATED, Json(WebhookBody::of(h, true))))
}

/// Every webhook (admin keys), deleted ones included.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "webhooks",
    responses((status = 200, description = "The webhooks", body = Vec<WebhookBody>), Errors))]
pub async fn list(
    State(shop): State<Shop>,
    caller: Caller,
) -> Result<Json<Vec<WebhookBody>>, ApiError> {
    caller.admin()?;
    Ok(Json(
        shop.webhooks()
            .webhooks()?
            .into_iter()
            .map(|h| WebhookBody::of(h, false))
            .collect(),
    ))
}

/// Deletes a webhook: nothing more is queued for it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "webhooks",
    params(("id" = u64, Path, description = "Webhook id")),
    responses((status = 200, description = "Deleted", body = WebhookBody), Errors))]
pub async fn delete(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookBody>, ApiError> {
    let id = path_id("a webhook id", &id)?;
    let h = shop.webhooks().delete_webhook(id, &actor).await?;
    Ok(Json(WebhookBody::of(h, false)))
}

/// How many deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// At most this many, newest first (1 to 1000; 20 when left out).
    #[serde(default = "twenty")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

fn twenty() -> usize {
    20
}

/// A webhook's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(("id" = u64, Path, description = "Webhook id"), LogQuery),
    responses((status = 200, description = "Deliveries with their state, attempts and last error",
        body = Vec<serde_json::Value>), Errors))]
pub async fn deliveries(
    State(shop): State<Shop>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.admin()?;
    let id = path_id("a webhook id", &id)?;
    let Query(q) = query.map_err(bad_query)?;
    check_limit(q.limit)?;
    let hook = shop.webhooks().webhook(id)?;
    Ok(Json(serde_json::json!(
        shop.webhooks().webhook_deliveries(hook.id, q.limit)?
    )))
}
