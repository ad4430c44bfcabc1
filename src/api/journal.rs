//! The journal feed and reversals.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::shop::JournalQuery;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::doc::Errors;
use super::error::ApiError;
use super::input::{Body, Object, bad_query, check_limit, hundred, path_id};
use super::schemas::{EventPage, Outcome};

/// A page of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Feed {
    /// Events after this id (0: from the start).
    #[serde(default)]
    after: u64,
    /// At most this many (1 to 1000; 100 when left out).
    #[serde(default = "hundred")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

/// The journal in commit order: poll with `after` = the last `next_after`.
#[utoipa::path(get, path = "/api/v1/events", operation_id = "list_events", tag = "journal",
    params(Feed),
    responses((status = 200, description = "Events after `after`", body = EventPage), Errors))]
pub async fn events(
    State(shop): State<Shop>,
    _caller: Caller,
    query: Result<Query<Feed>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Query(feed) = query.map_err(bad_query)?;
    check_limit(feed.limit)?;
    // Ids are documented as int64.
    if i64::try_from(feed.after).is_err() {
        return Err(ApiError::bad_request("after is larger than any event id"));
    }
    let events = shop.journal().journal(&JournalQuery {
        after: Some(feed.after),
        limit: feed.limit,
        ..Default::default()
    })?;
    let next_after = events.last().map(|e| e.id).unwrap_or(feed.after);
    Ok(Json(EventPage {
        events: events.iter().map(|e| serde_json::json!(e)).collect(),
        next_after,
    }))
}

/// Why an event is reversed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    /// Why (journaled).
    reason: String,
}

/// Reverses a stamp, redemption or receipt claim: a new event pointing at
/// the original (staff keys within the shop's window, admin keys any time).
#[utoipa::path(post, path = "/api/v1/events/{id}/reversal", operation_id = "reverse_event", tag = "journal",
    params(("id" = u64, Path, description = "The event to reverse")),
    request_body = ReversalRequest,
    responses((status = 200, description = "Reversed", body = Outcome), Errors))]
pub async fn reverse(
    State(shop): State<Shop>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Body<ReversalRequest>,
) -> Result<Json<Outcome>, ApiError> {
    let id = path_id("an event id", &id)?;
    let Object(req) = body?;
    let o = shop.cards().reverse(id, &req.reason, &actor).await?;
    Ok(Json(Outcome::of(&shop, &o)?))
}
