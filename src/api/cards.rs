//! Cards: templates, issuing, looking up, stamping by card code (with an
//! `Idempotency-Key` scoped per API key), receipt claims, vouchers,
//! redemptions and the customer search.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::model::{Actor, CustomerFields};
use stampcard_core::shop::{IssueCard, Lookup};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::doc::Errors;
use super::error::ApiError;
use super::input::{Body, Object, bad_query, check_limit, hundred, path_id};
use super::schemas::{Found, Issued, Outcome};

/// The card templates, newest version of each.
#[utoipa::path(get, path = "/api/v1/templates", operation_id = "list_templates", tag = "cards",
    responses((status = 200, description = "The templates", body = Vec<serde_json::Value>), Errors))]
pub async fn templates(State(shop): State<Shop>, _caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!(shop.templates().templates()))
}

/// A card by id, as its holder sees it.
#[utoipa::path(get, path = "/api/v1/cards/{id}", operation_id = "get_card", tag = "cards",
    params(("id" = u64, Path, description = "Card id")),
    responses((status = 200, description = "The card", body = serde_json::Value), Errors))]
pub async fn card(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!(
        shop.cards().card_view(path_id("a card id", &id)?)?
    )))
}

/// A card's vouchers, active first, newest first.
#[utoipa::path(get, path = "/api/v1/cards/{id}/vouchers", operation_id = "list_card_vouchers", tag = "cards",
    params(("id" = u64, Path, description = "Card id")),
    responses((status = 200, description = "The vouchers with their codes and states",
        body = Vec<serde_json::Value>), Errors))]
pub async fn vouchers(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = shop.cards().card_view(path_id("a card id", &id)?)?;
    Ok(Json(serde_json::json!(view.vouchers)))
}

/// A coupon by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherRequest {
    /// What it gives.
    description: String,
    /// Days valid (0 = no expiry).
    #[serde(default)]
    #[schema(maximum = 3650)]
    valid_days: u32,
}

/// Issues a voucher to a card (admin keys).
#[utoipa::path(post, path = "/api/v1/cards/{id}/vouchers", operation_id = "issue_voucher", tag = "cards",
    params(("id" = u64, Path, description = "Card id")),
    request_body = VoucherRequest,
    responses((status = 201, description = "Issued", body = Issued), Errors))]
pub async fn issue_voucher(
    State(shop): State<Shop>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body<VoucherRequest>,
) -> Result<(StatusCode, Json<Issued>), ApiError> {
    caller.admin()?;
    let id = path_id("a card id", &id)?;
    let Object(req) = body?;
    let o = shop
        .cards()
        .issue_coupon(id, &req.description, req.valid_days, &caller.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Issued {
            vouchers: o.vouchers.iter().map(|v| serde_json::json!(v)).collect(),
            event_ids: o.event_ids,
        }),
    ))
}

/// Stamps for a card code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StampRequest {
    /// The card code (as scanned).
    code: String,
    /// Stamps to add (1 when left out).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 100, default = 1)]
    count: u32,
}

fn one() -> u32 {
    1
}

/// Adds stamps by card code. With an `Idempotency-Key` (scoped per API key,
/// kept at least 24 h) a retry returns the first response and changes
/// nothing; the same key with a different body is refused (422).
#[utoipa::path(post, path = "/api/v1/stamps", operation_id = "add_stamps", tag = "cards",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible characters")),
    request_body = StampRequest,
    responses((status = 200, description = "Stamped (or the first answer, replayed)", body = Outcome,
        headers(("idempotent-replayed" = String, description = "`true` on a replayed answer"))), Errors))]
pub async fn stamp(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: Body<StampRequest>,
) -> Result<Response, ApiError> {
    let Object(req) = body?;
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
        .cards()
        .stamp_code(&req.code, req.count, key.as_deref(), &actor)
        .await?;
    let mut response = Json(Outcome::of(&shop, &outcome)?).into_response();
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A body with just a code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The code, as scanned.
    code: String,
}

/// Claims a receipt code onto a card, once.
#[utoipa::path(post, path = "/api/v1/cards/{id}/receipts", operation_id = "claim_receipt", tag = "cards",
    params(("id" = u64, Path, description = "Card id")),
    request_body = CodeRequest,
    responses((status = 200, description = "Claimed", body = Outcome), Errors))]
pub async fn claim_receipt(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Body<CodeRequest>,
) -> Result<Json<Outcome>, ApiError> {
    let id = path_id("a card id", &id)?;
    let Object(req) = body?;
    let o = shop.cards().claim_receipt(&req.code, id, &actor).await?;
    Ok(Json(Outcome::of(&shop, &o)?))
}

/// Redeems a voucher by its code, once.
#[utoipa::path(post, path = "/api/v1/redemptions", operation_id = "redeem", tag = "cards",
    request_body = CodeRequest,
    responses((status = 200, description = "Redeemed", body = Outcome), Errors))]
pub async fn redeem(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    body: Body<CodeRequest>,
) -> Result<Json<Outcome>, ApiError> {
    let Object(req) = body?;
    let o = shop.cards().redeem_code(&req.code, &actor).await?;
    Ok(Json(Outcome::of(&shop, &o)?))
}

/// A new customer's fields.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Name.
    #[serde(default)]
    name: String,
    /// Phone.
    #[serde(default)]
    phone: Option<String>,
    /// Email.
    #[serde(default)]
    email: Option<String>,
    /// Birthday (YYYY-MM-DD).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    birthday: Option<chrono::NaiveDate>,
    /// Language (e.g. `en`).
    #[serde(default)]
    language: Option<String>,
    /// Marketing consent by email, if asked.
    #[serde(default)]
    consent_email: Option<bool>,
}

impl From<NewCustomer> for CustomerFields {
    fn from(c: NewCustomer) -> Self {
        CustomerFields {
            name: c.name,
            phone: c.phone,
            email: c.email,
            birthday: c.birthday,
            language: c.language,
            consent_email: c.consent_email,
            ..Default::default()
        }
    }
}

/// A card for a new customer (`customer`) or an existing one (`customer_id`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCard {
    /// The template.
    template_id: u64,
    /// A new customer's fields.
    #[serde(default)]
    customer: Option<NewCustomer>,
    /// Or an existing customer.
    #[serde(default)]
    customer_id: Option<u64>,
    /// Where the card was issued (journaled).
    #[serde(default)]
    source: Option<String>,
}

/// Issues a card.
#[utoipa::path(post, path = "/api/v1/cards", operation_id = "issue_card", tag = "cards",
    request_body = NewCard,
    responses((status = 201, description = "The new card", body = serde_json::Value), Errors))]
pub async fn issue_card(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    body: Body<NewCard>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Object(req) = body?;
    let holder = match (req.customer, req.customer_id) {
        (Some(fields), None) => IssueCard::New(fields.into()),
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
        .cards()
        .issue_card(req.template_id, holder, req.source, None, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!(shop.cards().card_view(card.id)?)),
    ))
}

/// What a scanned code is: a card, a voucher or a receipt code.
#[utoipa::path(get, path = "/api/v1/lookup/{code}", operation_id = "lookup_code", tag = "cards",
    params(("code" = String, Path, description = "The code, as scanned")),
    responses((status = 200, description = "What the code is", body = Found), Errors))]
pub async fn lookup(
    State(shop): State<Shop>,
    _caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Found>, ApiError> {
    Ok(Json(match shop.cards().lookup(&code)? {
        Lookup::Card(card) => Found {
            kind: "card".into(),
            card: Some(serde_json::json!(card)),
            ..Default::default()
        },
        Lookup::Voucher(voucher, card_id) => Found {
            kind: "voucher".into(),
            voucher: Some(serde_json::json!(voucher)),
            card_id: Some(card_id),
            ..Default::default()
        },
        Lookup::Receipt {
            template_id,
            stamps,
            claimed,
            ..
        } => Found {
            kind: "receipt".into(),
            template_id: Some(template_id),
            stamps: Some(stamps),
            claimed: Some(claimed),
            ..Default::default()
        },
    }))
}

/// A customer search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Name, card id, email or phone.
    q: String,
    /// At most this many (1 to 1000; 100 when left out).
    #[serde(default = "hundred")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

/// Searches customers by name, card id, email or phone.
#[utoipa::path(get, path = "/api/v1/customers", operation_id = "search_customers", tag = "cards",
    params(Search),
    responses((status = 200, description = "Matching customers", body = Vec<serde_json::Value>), Errors))]
pub async fn customers(
    State(shop): State<Shop>,
    _caller: Caller,
    query: Result<Query<Search>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(search) = query.map_err(bad_query)?;
    check_limit(search.limit)?;
    Ok(Json(serde_json::json!(
        shop.customers().search_customers(&search.q, search.limit)?
    )))
}
