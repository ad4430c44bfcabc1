//! The REST API under `/api/v1` (issue 8; a first slice): API-key auth,
//! one error shape, templates, cards, stamping by card code with an
//! `Idempotency-Key` scoped per API key, receipt claims, redemptions,
//! reversals and the journal feed.
//!
//! - `auth`: the bearer key → the caller.
//! - `error`: the error shape and status codes.

mod auth;
mod error;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::actors::CardOutcome;
use stampcard_core::model::{Actor, CustomerFields};
use stampcard_core::shop::{IssueCard, JournalQuery, Lookup};

use auth::Caller;
use error::ApiError;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// The API's routes, to be merged into the HTTP router.
pub fn router(shop: Shop) -> Router {
    let v1 = Router::new()
        .route("/templates", get(templates))
        .route("/cards", post(issue_card))
        .route("/cards/{id}", get(card))
        .route("/lookup/{code}", get(lookup))
        .route("/customers", get(customers))
        .route("/cards/{id}/vouchers", post(issue_voucher))
        .route("/cards/{id}/receipts", post(claim_receipt))
        .route("/stamps", post(stamp))
        .route("/redemptions", post(redeem))
        .route("/events", get(events))
        .route("/events/{id}/reversal", post(reverse))
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

/// A numeric id from the path, `what` naming it in the error.
fn path_id(what: &str, id: &str) -> Result<u64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("'{id}' is not {what}")))
}

async fn card(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!(
        shop.card_view(path_id("a card id", &id)?)?
    )))
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
    body: Body<VoucherRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.admin()?;
    let id = path_id("a card id", &id)?;
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
    body: Body<StampRequest>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255);
            let k = k.ok_or_else(|| {
                ApiError::bad_request("Idempotency-Key must be 1 to 255 visible characters")
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
    let mut response = (StatusCode::OK, outcome_json(&shop, &outcome)?).into_response();
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// What a change to a card did: the card afterwards, the events written,
/// the stamp effect and the vouchers issued or changed.
fn outcome_json(shop: &Shop, o: &CardOutcome) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({
        "card": shop.card_view(o.card.id)?,
        "event_ids": o.event_ids,
        "effect": o.effect,
        "vouchers": o.vouchers,
    })))
}

/// A body with just a code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    /// The code, as scanned.
    code: String,
}

type Body<T> = Result<Json<T>, JsonRejection>;

/// `POST /cards/{id}/receipts`: claims a receipt code onto the card, once.
async fn claim_receipt(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Body<CodeRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id("a card id", &id)?;
    let Json(req) = body?;
    let o = shop.claim_receipt(&req.code, id, &actor).await?;
    outcome_json(&shop, &o)
}

/// `POST /redemptions`: redeems a voucher by its code, once.
async fn redeem(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    body: Body<CodeRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(req) = body?;
    let o = shop.redeem_code(&req.code, &actor).await?;
    outcome_json(&shop, &o)
}

/// `POST /events/{id}/reversal`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReversalRequest {
    /// Why.
    reason: String,
}

async fn reverse(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Body<ReversalRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id("an event id", &id)?;
    let Json(req) = body?;
    let o = shop.reverse(id, &req.reason, &actor).await?;
    outcome_json(&shop, &o)
}

/// `GET /events?after=<id>&limit=<n>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Feed {
    /// Events after this id (0: from the start).
    #[serde(default)]
    after: u64,
    /// At most this many (1 to 1000; 100 when left out).
    #[serde(default = "hundred")]
    limit: usize,
}

fn hundred() -> usize {
    100
}

/// The journal in commit order: poll with `after` = the last id you saw.
async fn events(
    State(shop): State<Shop>,
    _caller: Caller,
    query: Result<Query<Feed>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(feed) = query.map_err(bad_query)?;
    check_limit(feed.limit)?;
    let events = shop.journal(&JournalQuery {
        after: Some(feed.after),
        limit: feed.limit,
        ..Default::default()
    })?;
    let next = events.last().map(|e| e.id).unwrap_or(feed.after);
    Ok(Json(
        serde_json::json!({"events": events, "next_after": next}),
    ))
}

/// `POST /cards`: a card for a new customer (`customer`) or an existing one
/// (`customer_id`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCard {
    /// The template.
    template_id: u64,
    /// A new customer's fields.
    #[serde(default)]
    customer: Option<CustomerFields>,
    /// Or an existing customer.
    #[serde(default)]
    customer_id: Option<u64>,
    /// Where the card was issued (journaled).
    #[serde(default)]
    source: Option<String>,
}

async fn issue_card(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    body: Body<NewCard>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(req) = body?;
    let holder = match (req.customer, req.customer_id) {
        (Some(fields), None) => IssueCard::New(fields),
        (None, Some(id)) => IssueCard::Customer(id),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "give either customer (a new customer's fields) or customer_id",
            ));
        }
    };
    let card = shop
        .issue_card(req.template_id, holder, req.source, None, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!(shop.card_view(card.id)?)),
    ))
}

/// `GET /lookup/{code}`: what a scanned code is (card, voucher or receipt).
async fn lookup(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(match shop.lookup(&code)? {
        Lookup::Card(card) => serde_json::json!({"kind": "card", "card": card}),
        Lookup::Voucher(voucher, card_id) => {
            serde_json::json!({"kind": "voucher", "voucher": voucher, "card_id": card_id})
        }
        Lookup::Receipt {
            template_id,
            stamps,
            claimed,
            ..
        } => serde_json::json!({
            "kind": "receipt", "template_id": template_id, "stamps": stamps, "claimed": claimed,
        }),
    }))
}

/// `GET /customers?q=<text>&limit=<n>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    /// Name, card id, email or phone.
    q: String,
    /// At most this many (1 to 1000; 100 when left out).
    #[serde(default = "hundred")]
    limit: usize,
}

async fn customers(
    State(shop): State<Shop>,
    _caller: Caller,
    query: Result<Query<Search>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(search) = query.map_err(bad_query)?;
    check_limit(search.limit)?;
    Ok(Json(serde_json::json!(
        shop.search_customers(&search.q, search.limit)?
    )))
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

fn check_limit(limit: usize) -> Result<(), ApiError> {
    if (1..=1000).contains(&limit) {
        Ok(())
    } else {
        Err(ApiError::bad_request("limit must be 1 to 1000"))
    }
}
