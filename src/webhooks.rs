//! The webhook channel: POSTs each queued delivery to its webhook's URL,
//! signed with the webhook's secret, in order per card, retried with
//! backoff when the receiver is down or answers other than 2xx.
//!
//! Signature: `Stampcard-Signature: v1=<hex HMAC-SHA256>` over
//! `<Stampcard-Timestamp>.<body>`, keyed with the secret as shown at
//! creation (its ASCII bytes). Receivers should reject timestamps older
//! than a few minutes and dedupe on `Stampcard-Delivery` (after a crash
//! mid-send a delivery is sent again: at least once).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use stampcard_core::Shop;
use stampcard_core::outbox::{
    BoxFuture, Channel, OutboxEntry, RateLimits, Recovery, SendError, SendOutcome,
};
use stampcard_core::shop::WEBHOOK_CHANNEL;

/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers webhook entries over HTTP.
pub struct WebhookChannel {
    shop: Shop,
    client: reqwest::Client,
    limits: RateLimits,
}

impl WebhookChannel {
    /// A channel with these retry settings.
    pub fn new(shop: Shop, limits: RateLimits) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("stampcard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            shop,
            client,
            limits,
        })
    }

    async fn post(&self, e: &OutboxEntry) -> Result<SendOutcome, SendError> {
        let hook = e
            .message
            .recipient
            .parse()
            .ok()
            .and_then(|id| self.shop.webhooks().webhook(id).ok())
            .ok_or_else(|| SendError::Permanent("the webhook no longer exists".into()))?;
        let body = serde_json::to_vec(&serde_json::json!({
            "delivery_id": e.id,
            "webhook_id": hook.id,
            "event": e.message.data,
        }))
        .unwrap_or_default();
        let timestamp = self.shop.clock().now().timestamp();
        let response = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header(
                "stampcard-event",
                e.message.subject.as_deref().unwrap_or(""),
            )
            .header("stampcard-delivery", e.id.to_string())
            .header("stampcard-timestamp", timestamp.to_string())
            .header(
                "stampcard-signature",
                signature(&hook.secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|err| SendError::Retry {
                reason: format!("{}: {}", hook.url, without_url(&err)),
                after: None,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(SendOutcome::Confirmed {
                receipt: Some(status.as_u16().to_string()),
            });
        }
        if status == reqwest::StatusCode::GONE {
            return Err(SendError::Permanent(
                "the receiver answered 410 Gone".into(),
            ));
        }
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        Err(SendError::Retry {
            reason: format!("the receiver answered {status}"),
            after,
        })
    }
}

/// What went wrong, without reqwest's repetition of the URL.
fn without_url(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The innermost cause says most (e.g. "Connection refused").
    let mut cause = None;
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        cause = Some(e.to_string());
        source = e.source();
    }
    match cause {
        Some(c) => format!("{what}: {c}"),
        None => what.to_string(),
    }
}

impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        WEBHOOK_CHANNEL
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, e: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(self.post(e))
    }

    fn in_order_per_card(&self) -> bool {
        true
    }

    /// A delivery cut off by a crash is sent again (receivers dedupe on
    /// `Stampcard-Delivery`): an event must not go missing.
    fn was_delivered<'a>(&'a self, _e: &'a OutboxEntry) -> BoxFuture<'a, Recovery> {
        Box::pin(async { Recovery::NotSent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, br#"{"a":1}"#),
            "v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
