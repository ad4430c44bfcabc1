//! Apple's PassKit web service, exactly as Apple specifies it, under
//! `<public_url>/passkit`, and the pass download behind the card's link.
//!
//! - `POST /passkit/v1/devices/{device}/registrations/{passType}/{serial}`:
//!   201 registered, 200 already registered, 401 bad token.
//! - `DELETE` the same: 200, 401.
//! - `GET /passkit/v1/devices/{device}/registrations/{passType}?passesUpdatedSince=<tag>`:
//!   200 `{serialNumbers, lastUpdated}`, 204 when none changed.
//! - `GET`/`HEAD /passkit/v1/passes/{passType}/{serial}`: the pass with
//!   `Last-Modified`; 304 for `If-Modified-Since` when unchanged.
//! - `POST /passkit/v1/log`: device error logs, written to our log.
//!
//! Requests carry `Authorization: ApplePass <authenticationToken>`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;
use stampcard_core::{CoreError, Shop};

use crate::WalletError;
use crate::pass::{PKPASS_MIME, Wallet};

#[derive(Clone)]
struct Ctx {
    shop: Shop,
    wallet: Arc<Wallet>,
}

/// The PassKit routes and the pass download.
pub fn router(shop: Shop, wallet: Arc<Wallet>) -> Router {
    Router::new()
        .route(
            "/passkit/v1/devices/{device}/registrations/{pass_type}/{serial}",
            post(register).delete(unregister),
        )
        .route(
            "/passkit/v1/devices/{device}/registrations/{pass_type}",
            get(updated),
        )
        .route(
            "/passkit/v1/passes/{pass_type}/{serial}",
            get(latest_pass).head(latest_pass),
        )
        .route("/passkit/v1/log", post(log))
        .route("/c/{token}/pass.pkpass", get(download))
        .with_state(Ctx { shop, wallet })
}

fn status(code: StatusCode) -> Response {
    code.into_response()
}

/// The pass token of a request for our pass type: 404 for another pass
/// type, 401 without an `ApplePass` token.
fn caller_token<'h>(
    ctx: &Ctx,
    pass_type: &str,
    headers: &'h HeaderMap,
) -> Result<&'h str, StatusCode> {
    if pass_type != ctx.wallet.config().pass_type_id {
        return Err(StatusCode::NOT_FOUND);
    }
    apple_pass_token(headers).ok_or(StatusCode::UNAUTHORIZED)
}

/// The token of an `Authorization: ApplePass <token>` header.
fn apple_pass_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("ApplePass ")
        .map(str::trim)
}

fn core_status(e: &CoreError) -> StatusCode {
    match e {
        CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        CoreError::NotFound { .. } | CoreError::CardDeleted(_) => StatusCode::UNAUTHORIZED,
        CoreError::Invalid(_) | CoreError::BadValue { .. } => StatusCode::BAD_REQUEST,
        _ => {
            tracing::warn!("passkit: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    push_token: String,
}

async fn register(
    State(ctx): State<Ctx>,
    Path((device, pass_type, serial)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match caller_token(&ctx, &pass_type, &headers) {
        Ok(t) => t,
        Err(code) => return status(code),
    };
    let Ok(reg) = serde_json::from_slice::<Registration>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected {\"pushToken\": \"…\"}").into_response();
    };
    match ctx
        .shop
        .passes()
        .register_pass_device(&serial, token, &device, &reg.push_token)
        .await
    {
        Ok(true) => status(StatusCode::CREATED),
        Ok(false) => status(StatusCode::OK),
        Err(e) => status(core_status(&e)),
    }
}

async fn unregister(
    State(ctx): State<Ctx>,
    Path((device, pass_type, serial)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let token = match caller_token(&ctx, &pass_type, &headers) {
        Ok(t) => t,
        Err(code) => return status(code),
    };
    match ctx
        .shop
        .passes()
        .unregister_pass_device(&serial, token, &device)
        .await
    {
        Ok(()) => status(StatusCode::OK),
        Err(e) => status(core_status(&e)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Since {
    passes_updated_since: Option<String>,
}

async fn updated(
    State(ctx): State<Ctx>,
    Path((device, pass_type)): Path<(String, String)>,
    Query(q): Query<Since>,
) -> Response {
    if pass_type != ctx.wallet.config().pass_type_id {
        return status(StatusCode::NOT_FOUND);
    }
    let since = match q.passes_updated_since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => match tag.parse::<u64>() {
            Ok(t) => Some(t),
            Err(_) => return (StatusCode::BAD_REQUEST, "bad passesUpdatedSince").into_response(),
        },
    };
    match ctx.shop.passes().passes_updated(&device, since) {
        Ok((serials, _)) if serials.is_empty() => status(StatusCode::NO_CONTENT),
        Ok((serials, last)) => Json(serde_json::json!({
            "serialNumbers": serials,
            "lastUpdated": last.to_string(),
        }))
        .into_response(),
        Err(e) => status(core_status(&e)),
    }
}

/// The `Last-Modified` of a pass changed at `modified`, served at `now`.
/// HTTP dates have whole seconds; while the second of the change may still
/// see more changes, the pass says it is from the second before, so a
/// device asking `If-Modified-Since` later still gets those changes.
pub fn last_modified(modified: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let second = Utc
        .timestamp_opt(modified.timestamp(), 0)
        .single()
        .unwrap_or(modified);
    if now < second + Duration::seconds(2) {
        second - Duration::seconds(1)
    } else {
        second
    }
}

/// Whether a pass changed at `modified` is unchanged for a device that has
/// the version of `if_modified_since`.
pub fn not_modified(modified: DateTime<Utc>, if_modified_since: DateTime<Utc>) -> bool {
    modified.timestamp() <= if_modified_since.timestamp()
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn pkpass_response(bytes: Vec<u8>, last_modified: DateTime<Utc>, head: bool) -> Response {
    let headers = [
        (header::CONTENT_TYPE, PKPASS_MIME.to_string()),
        (header::LAST_MODIFIED, http_date(last_modified)),
        (header::CACHE_CONTROL, "no-cache".to_string()),
    ];
    if head {
        (headers, [(header::CONTENT_LENGTH, bytes.len().to_string())]).into_response()
    } else {
        (headers, bytes).into_response()
    }
}

fn build_error(e: WalletError) -> Response {
    match e {
        WalletError::Core(c) => status(core_status(&c)),
        other => {
            tracing::error!("cannot build a pass: {other}");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn latest_pass(
    State(ctx): State<Ctx>,
    method: Method,
    Path((pass_type, serial)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let token = match caller_token(&ctx, &pass_type, &headers) {
        Ok(t) => t,
        Err(code) => return status(code),
    };
    let (card, pass) = match ctx.shop.passes().authorized_pass(&serial, token) {
        Ok(found) => found,
        Err(e) => return status(core_status(&e)),
    };
    let version = match ctx.shop.passes().pass_version(card.id) {
        Ok(v) => v,
        Err(e) => return status(core_status(&e)),
    };
    if let Some(ims) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        && not_modified(version.modified, ims)
    {
        return status(StatusCode::NOT_MODIFIED);
    }
    let built = match ctx.wallet.sign(&ctx.shop, &card, &pass, version) {
        Ok(b) => b,
        Err(e) => return build_error(e),
    };
    let head = method == Method::HEAD;
    if !head && let Err(e) = ctx.shop.passes().pass_fetched(card.id).await {
        tracing::warn!("cannot confirm the pushes of pass {}: {e}", card.id);
    }
    let lm = last_modified(built.version.modified, ctx.shop.clock().now());
    pkpass_response(built.bytes, lm, head)
}

async fn download(State(ctx): State<Ctx>, Path(token): Path<String>) -> Response {
    let Ok(card) = ctx.shop.cards().card_by_token(&token) else {
        return (StatusCode::NOT_FOUND, "no such card").into_response();
    };
    match ctx.wallet.build(&ctx.shop, card.id).await {
        Ok(b) => {
            let lm = last_modified(b.version.modified, ctx.shop.clock().now());
            let mut r = pkpass_response(b.bytes, lm, false);
            if let Ok(v) = format!("attachment; filename=\"card-{}.pkpass\"", card.id).parse() {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => build_error(e),
    }
}

#[derive(Deserialize)]
struct Logs {
    #[serde(default)]
    logs: Vec<String>,
}

/// Device log lines written per minute at most, over all devices (the
/// endpoint needs no authentication: anyone can post to it).
const DEVICE_LOG_LINES_PER_MINUTE: u32 = 60;

/// Whether one more device log line may be written now; says once a minute
/// how many were dropped.
fn device_log_admits() -> bool {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static WINDOW: Mutex<Option<(Instant, u32, u32)>> = Mutex::new(None);
    let mut w = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let (start, written, dropped) = w.get_or_insert((now, 0, 0));
    if now.duration_since(*start) >= Duration::from_secs(60) {
        if *dropped > 0 {
            tracing::warn!("wallet device log: {dropped} line(s) dropped in the last minute");
        }
        (*start, *written, *dropped) = (now, 0, 0);
    }
    if *written < DEVICE_LOG_LINES_PER_MINUTE {
        *written += 1;
        true
    } else {
        *dropped += 1;
        false
    }
}

async fn log(body: Bytes) -> Response {
    match serde_json::from_slice::<Logs>(&body) {
        Ok(l) => {
            for line in l.logs.iter().take(100) {
                if !device_log_admits() {
                    break;
                }
                // Quoted and escaped: a posted newline cannot forge a line
                // of our log.
                let line: String = line.chars().take(1000).collect();
                tracing::warn!("wallet device log: {line:?}");
            }
            status(StatusCode::OK)
        }
        Err(_) => (StatusCode::BAD_REQUEST, "expected {\"logs\": [\"…\"]}").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&Utc)
    }

    #[test]
    fn a_change_within_the_served_second_is_not_lost() {
        let change = at("2026-11-23T10:00:05.300Z");
        // Served in the same second: dated a second earlier …
        let lm = last_modified(change, at("2026-11-23T10:00:05.900Z"));
        assert_eq!(lm, at("2026-11-23T10:00:04Z"));
        // … so a second change in that second is still news to the device.
        assert!(!not_modified(at("2026-11-23T10:00:05.800Z"), lm));
        // Served later: the change's own second, and unchanged after.
        let lm = last_modified(change, at("2026-11-23T10:00:09Z"));
        assert_eq!(lm, at("2026-11-23T10:00:05Z"));
        assert!(not_modified(change, lm));
        assert!(!not_modified(at("2026-11-23T10:00:06.1Z"), lm));
    }

    #[test]
    fn http_dates_round_trip() {
        let t = at("2026-11-23T10:00:05Z");
        assert_eq!(http_date(t), "Mon, 23 Nov 2026 10:00:05 GMT");
        assert_eq!(parse_http_date(&http_date(t)), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
