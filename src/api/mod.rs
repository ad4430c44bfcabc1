//! The REST API under `/api/v1`: API-key auth, one error shape, cards and
//! stamps, the journal feed, webhooks, and the OpenAPI document generated
//! from the handlers.
//!
//! - `auth`: the bearer key → the caller.
//! - `error`: the error shape and status codes.
//! - `input`: reading bodies, queries and path ids.
//! - `cards`, `journal`, `webhooks`, `campaigns`: the endpoints.
//! - `schemas`: response bodies; `doc`: the OpenAPI document.

mod auth;
mod automations;
mod campaigns;
mod cards;
mod doc;
mod error;
mod input;
mod journal;
mod schemas;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use stampcard_core::Shop;
use stampcard_core::consumers::Route;

use error::ApiError;

pub use auth::bearer;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// The API's routes, to be merged into the HTTP router; campaigns are
/// delivered on `routes`.
pub fn router(shop: Shop, routes: Vec<std::sync::Arc<dyn Route>>) -> Router {
    let campaigns = Router::new()
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::status))
        .route("/campaigns/{id}/send", post(campaigns::send))
        .route(
            "/automations",
            get(automations::list).post(automations::create),
        )
        .route("/automations/{id}", patch(automations::switch))
        .with_state(campaigns::CampaignState {
            shop: shop.clone(),
            routes: std::sync::Arc::new(routes),
        });
    let v1 = Router::new()
        .route("/openapi.json", get(doc::openapi))
        .route("/templates", get(cards::templates))
        .route("/cards", post(cards::issue_card))
        .route("/cards/{id}", get(cards::card))
        .route("/lookup/{code}", get(cards::lookup))
        .route("/customers", get(cards::customers))
        .route(
            "/cards/{id}/vouchers",
            get(cards::vouchers).post(cards::issue_voucher),
        )
        .route("/cards/{id}/receipts", post(cards::claim_receipt))
        .route("/stamps", post(cards::stamp))
        .route("/redemptions", post(cards::redeem))
        .route("/events", get(journal::events))
        .route("/events/{id}/reversal", post(journal::reverse))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", delete(webhooks::delete))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .with_state(shop)
        .merge(campaigns)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY));
    Router::new().nest("/api/v1", v1)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
