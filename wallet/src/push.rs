//! Wallet pushes: an empty APNs notification to a device's push token, with
//! the pass type identifier as topic, tells the device to fetch the pass.
//! a2 only talks to Apple's hosts, so the channel sends through the small
//! [`PushSender`] trait: [`ApnsSender`] in production, [`PushLog`] to try a
//! shop without Apple (and in tests).

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use stampcard_core::consumers::WALLET_CHANNEL;
use stampcard_core::outbox::{
    AppendFile, BoxFuture, Channel, OutboxEntry, RateLimits, Recovery, SendError, SendOutcome,
};
use stampcard_core::{CoreError, Shop};

use crate::WalletError;
use crate::certs::PassCertificates;

/// Why a push did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The token is gone (410 Unregistered): forget it.
    Unregistered(String),
    /// APNs refused the token or the certificate in a way that can mean the
    /// whole setup is wrong (BadDeviceToken, DeviceTokenNotForTopic, a
    /// certificate error): shown to the owner, nothing pruned.
    Setup(String),
    /// Try again later.
    Retry(String),
}

/// Sends one pass-update push.
pub trait PushSender: Send + Sync + 'static {
    /// Pushes to a device; the APNs id when accepted.
    fn push<'a>(
        &'a self,
        topic: &'a str,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, PushError>>;
}

/// The APNs request of a pass update: an empty JSON object as payload.
#[derive(Debug, Serialize)]
pub struct PassUpdatePayload<'a> {
    #[serde(skip)]
    token: &'a str,
    #[serde(skip)]
    options: a2::NotificationOptions<'a>,
}

impl<'a> PassUpdatePayload<'a> {
    /// The push to `token` under `topic` (the pass type identifier).
    pub fn new(topic: &'a str, token: &'a str) -> Self {
        Self {
            token,
            options: a2::NotificationOptions {
                apns_topic: Some(topic),
                ..Default::default()
            },
        }
    }
}

impl a2::request::payload::PayloadLike for PassUpdatePayload<'_> {
    fn get_device_token(&self) -> &str {
        self.token
    }

    fn get_options(&self) -> &a2::NotificationOptions<'_> {
        &self.options
    }
}

/// Pushes through Apple's APNs with the pass certificate.
pub struct ApnsSender {
    client: a2::Client,
}

impl ApnsSender {
    /// A client authenticating with the pass certificate and key.
    pub fn new(certs: &PassCertificates) -> Result<Self, WalletError> {
        let config = a2::ClientConfig::new(a2::Endpoint::Production);
        let client = a2::Client::certificate_parts(&certs.cert_pem, &certs.key_pem, config)
            .map_err(|e| WalletError::Certificate {
                what: "APNs client".into(),
                reason: e.to_string(),
            })?;
        Ok(Self { client })
    }
}

/// Whether APNs says a token is gone for good: 410 Unregistered only.
fn token_gone(code: u16, reason: Option<&a2::ErrorReason>) -> bool {
    code == 410 || matches!(reason, Some(a2::ErrorReason::Unregistered))
}

/// Whether APNs refused in a way that can mean the setup is wrong rather
/// than the device: a token that is not one (a production certificate
/// against sandbox tokens), another topic, a certificate problem.
fn setup_problem(code: u16, reason: Option<&a2::ErrorReason>) -> bool {
    code == 403
        || matches!(
            reason,
            Some(
                a2::ErrorReason::BadDeviceToken
                    | a2::ErrorReason::DeviceTokenNotForTopic
                    | a2::ErrorReason::BadCertificate
                    | a2::ErrorReason::BadCertificateEnvironment
                    | a2::ErrorReason::TopicDisallowed
                    | a2::ErrorReason::BadTopic
            )
        )
}

impl PushSender for ApnsSender {
    fn push<'a>(
        &'a self,
        topic: &'a str,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, PushError>> {
        Box::pin(async move {
            match self.client.send(PassUpdatePayload::new(topic, token)).await {
                Ok(r) => Ok(r.apns_id),
                Err(a2::Error::ResponseError(r)) => {
                    let reason = r.error.as_ref().map(|e| &e.reason);
                    let text = format!(
                        "APNs {}: {}",
                        r.code,
                        reason.map(|x| x.to_string()).unwrap_or_default()
                    );
                    if token_gone(r.code, reason) {
                        Err(PushError::Unregistered(text))
                    } else if setup_problem(r.code, reason) {
                        Err(PushError::Setup(text))
                    } else {
                        Err(PushError::Retry(text))
                    }
                }
                Err(e) => Err(PushError::Retry(e.to_string())),
            }
        })
    }
}

/// Writes each push as a JSON line (`{"topic":…,"token":…,"payload":{}}`)
/// instead of sending it: `[wallet] push_log`, for trying a shop without
/// Apple, and for tests. Tokens starting with `gone` answer Unregistered,
/// as APNs does for a removed app; tokens starting with `bad` answer
/// BadDeviceToken, as APNs does for a sandbox token under a production
/// certificate.
pub struct PushLog {
    file: AppendFile,
}

impl PushLog {
    /// A log at `path`.
    pub fn new(path: &Path) -> Self {
        Self {
            file: AppendFile::new(path),
        }
    }
}

impl PushSender for PushLog {
    fn push<'a>(
        &'a self,
        topic: &'a str,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, PushError>> {
        Box::pin(async move {
            if token.starts_with("gone") {
                return Err(PushError::Unregistered("APNs 410: Unregistered".into()));
            }
            if token.starts_with("bad") {
                return Err(PushError::Setup("APNs 400: BadDeviceToken".into()));
            }
            let payload = PassUpdatePayload::new(topic, token);
            let body =
                serde_json::to_value(&payload).map_err(|e| PushError::Retry(e.to_string()))?;
            let mut line = serde_json::to_vec(&serde_json::json!({
                "topic": topic, "token": token, "payload": body,
            }))
            .map_err(|e| PushError::Retry(e.to_string()))?;
            line.push(b'\n');
            self.file
                .append(&line)
                .map_err(|e| PushError::Retry(format!("push log: {e}")))?;
            Ok(None)
        })
    }
}

/// The outbox channel of wallet pushes. A push is sent (✅) when APNs took
/// it and confirmed (✅✅) once the device fetched the updated pass.
pub struct WalletChannel {
    shop: Shop,
    sender: Arc<dyn PushSender>,
    topic: String,
    limits: RateLimits,
}

impl WalletChannel {
    /// A channel pushing under `topic` (the pass type identifier).
    pub fn new(shop: Shop, sender: Arc<dyn PushSender>, topic: &str, limits: RateLimits) -> Self {
        Self {
            shop,
            sender,
            topic: topic.to_string(),
            limits,
        }
    }
}

impl WalletChannel {
    /// Campaign news: posts the PUSH text to the card's pass; the pass
    /// updater then pushes the change to every device that keeps it.
    async fn post_news(&self, entry: &OutboxEntry) -> Result<SendOutcome, SendError> {
        let m = &entry.message;
        let (Some(card), Some(campaign)) = (m.card_id, m.data["campaign"].as_u64()) else {
            return Err(SendError::Permanent("news without card or campaign".into()));
        };
        let text = m.data["push_text"].as_str().unwrap_or_default();
        match self
            .shop
            .passes()
            .post_pass_news(card, campaign, text)
            .await
        {
            Ok(()) => Ok(SendOutcome::Sent {
                receipt: Some(format!("news on pass {card}")),
            }),
            Err(e @ (CoreError::NotFound { .. } | CoreError::CardDeleted(_))) => {
                Err(SendError::Permanent(e.to_string()))
            }
            Err(e) => Err(SendError::Retry {
                reason: e.to_string(),
                after: None,
            }),
        }
    }
}

impl Channel for WalletChannel {
    fn name(&self) -> &str {
        WALLET_CHANNEL
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            if stampcard_core::consumers::is_news(entry) {
                return self.post_news(entry).await;
            }
            let token = &entry.message.recipient;
            match self.sender.push(&self.topic, token).await {
                Ok(receipt) => Ok(SendOutcome::Sent { receipt }),
                Err(PushError::Retry(reason)) => Err(SendError::Retry {
                    reason,
                    after: None,
                }),
                Err(PushError::Setup(reason)) => Err(SendError::Permanent(format!(
                    "{reason}: the pass certificate may not fit this pass type or APNs \
                     environment; the registration is kept"
                ))),
                Err(PushError::Unregistered(reason)) => {
                    let device = entry.message.data["device"].as_str().unwrap_or_default();
                    if let Some(card) = entry.message.card_id
                        && let Err(e) = self.shop.passes().drop_pass_device(card, device).await
                    {
                        tracing::warn!("cannot forget device of pass {card}: {e}");
                    }
                    Err(SendError::Permanent(format!(
                        "{reason}: the device no longer keeps the pass"
                    )))
                }
            }
        })
    }

    /// A second push only makes the device fetch the pass again: harmless,
    /// so a push caught mid-send is sent again.
    fn was_delivered<'a>(&'a self, _entry: &'a OutboxEntry) -> BoxFuture<'a, Recovery> {
        Box::pin(async { Recovery::NotSent })
    }
}
