//! The REST API under `/api/v1` (issue 8; a first slice): API-key auth,
//! one error shape, templates, cards, and stamping by card code with an
//! `Idempotency-Key` scoped per API key.
//!
//! - `auth`: the bearer key → the caller.
//! - `error`: the error shape and status codes.

mod auth;
mod error;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::model::Actor;

use auth::Caller;
use error::ApiError;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// The API's routes, to be merged into the HTTP router.
pub fn router(shop: Shop) -> Router {
    let v1 = Router::new()
        .route("/templates", get(templates))
        .route("/cards/{id}", get(card))
        .route("/cards/{id}/vouchers", post(issue_voucher))
        .route("/stamps", post(stamp))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shop);
    Router::new().nest("/api/v1", v1)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn templates(State(shop): State<Shop>, _caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!(shop.templates()))
}

fn card_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("'{id}' is not a card id"),
        )
    })
}

async fn card(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!(shop.card_view(card_id(&id)?)?)))
}

/// `POST /cards/{id}/vouchers` (admin): a coupon by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoucherRequest {
    /// What it gives.
    description: String,
    /// Days valid (0 = no expiry).
    #[serde(default)]
    valid_days: u32,
}

async fn issue_voucher(
    State(shop): State<Shop>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<VoucherRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.admin()?;
    let id = card_id(&id)?;
    let Json(req) = body?;
    let o = shop
        .issue_coupon(id, &req.description, req.valid_days, &caller.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"vouchers": o.vouchers, "event_ids": o.event_ids})),
    ))
}

/// `POST /stamps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StampRequest {
    /// The card code (as scanned).
    code: String,
    /// Stamps to add (1 when left out).
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

async fn stamp(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: Result<Json<StampRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255);
            let k = k.ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    "Idempotency-Key must be 1 to 255 visible characters",
                )
            })?;
            // Scoped per API key: two POS may use the same key.
            let scope = match &actor {
                Actor::ApiKey { prefix, .. } => prefix.clone(),
                _ => String::new(),
            };
            Some(format!("api:{scope}:{k}"))
        }
    };
    let outcome = shop
        .stamp_code(&req.code, req.count, key.as_deref(), &actor)
        .await?;
    let body = serde_json::json!({
        "card": shop.card_view(outcome.card.id)?,
        "event_ids": outcome.event_ids,
        "effect": outcome.effect,
        "vouchers": outcome.vouchers,
    });
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}
