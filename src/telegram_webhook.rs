//! Telegram's webhook mode (`[telegram] webhook_url`): every node answers
//! the URL's path, so a load balancer may send Telegram's posts to any of
//! them. A post must carry the secret token the bot's node gave Telegram
//! (`X-Telegram-Bot-Api-Secret-Token`, derived from the shop secret, so
//! every node knows it); its update is marked handled and queued in the
//! store in one write, and only then answered 200, so Telegram retries what
//! a node could not keep. A retried or twice-delivered update is queued
//! once. The node that runs the bot handles the queue.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use stampcard_core::Shop;
use tokio::sync::Notify;

use crate::config::Config;

/// The header Telegram sends the secret token in.
const HEADER: &str = "x-telegram-bot-api-secret-token";

/// The secret token of the shop's webhook: 64 hex digits derived from the
/// shop secret (Telegram allows `A-Za-z0-9_-`, up to 256).
pub fn secret_token(config: &Config) -> String {
    let key = hex::decode(&config.shop.secret.0).unwrap_or_default();
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(b"stampcard telegram webhook");
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
struct Hook {
    shop: Shop,
    secret: Arc<String>,
    wake: Arc<Notify>,
}

/// The webhook's route at `path`; `wake` is told when an update is queued.
pub fn router(shop: Shop, path: &str, secret: String, wake: Arc<Notify>) -> Router {
    let hook = Hook {
        shop,
        secret: Arc::new(secret),
        wake,
    };
    Router::new().route(path, post(take).with_state(hook))
}

async fn take(
    State(hook): State<Hook>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let given = headers
        .get(HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if hook.secret.is_empty()
        || !stampcard_core::codes::constant_time_eq(given, hook.secret.as_bytes())
    {
        return (StatusCode::UNAUTHORIZED, "wrong or missing secret token\n");
    }
    let id = match stampcard_bot::updates::update_id(&body) {
        Ok(id) => id,
        Err(_) => return (StatusCode::BAD_REQUEST, "not a Telegram update\n"),
    };
    // Kept as the text Telegram posted (teloxide reads an update from text).
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return (StatusCode::BAD_REQUEST, "not a Telegram update\n");
    };
    let update = serde_json::Value::String(text);
    match hook
        .shop
        .customers()
        .queue_telegram_update(id, update)
        .await
    {
        Ok(queued) => {
            if queued {
                hook.wake.notify_one();
            }
            (StatusCode::OK, "ok\n")
        }
        Err(e) => {
            tracing::warn!("queueing telegram update {id}: {e}");
            // Telegram posts it again later.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot keep the update now\n",
            )
        }
    }
}
