//! The outbox channel of Google Wallet: it patches a card's loyalty object
//! (or a template's class) through Google's API with what the card is at
//! the moment of sending, so patches queued while one waits coalesce into
//! it. A patch never notifies. Campaign news becomes a message on the
//! object, with a notification while Google's budget (3 a day per object)
//! allows, else as text only. Google gives no sign that a phone fetched the
//! object, so these deliveries stop at sent (✅).

use std::sync::Arc;

use stampcard_core::consumers::GOOGLE_CHANNEL;
use stampcard_core::outbox::{
    BoxFuture, Channel, OutboxEntry, RateLimits, Recovery, SendError, SendOutcome,
};
use stampcard_core::{CoreError, Shop};

use crate::google_api::{GoogleApi, GoogleApiError};

/// Patches Google Wallet objects and classes.
pub struct GoogleChannel {
    shop: Shop,
    api: Arc<GoogleApi>,
    origin: String,
    limits: RateLimits,
}

/// An API failure as the outbox takes it: 429, 5xx and no connection are
/// tried again, any other refusal is final with Google's reason.
pub fn send_error(e: GoogleApiError) -> SendError {
    match e {
        GoogleApiError::Retry(reason) => SendError::Retry {
            reason,
            after: None,
        },
        other => SendError::Permanent(other.to_string()),
    }
}

impl GoogleChannel {
    /// A channel writing through `api`; `origin` is the shop's public URL
    /// (class logos live there).
    pub fn new(shop: Shop, api: Arc<GoogleApi>, origin: &str, limits: RateLimits) -> Self {
        Self {
            shop,
            api,
            origin: origin.to_string(),
            limits,
        }
    }

    async fn patch_class(&self, template: u64) -> Result<SendOutcome, SendError> {
        let t = self
            .shop
            .templates()
            .template(template)
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let class = self.api.wallet().class(&t, &self.origin);
        self.api.put_class(&class).await.map_err(send_error)?;
        Ok(SendOutcome::Sent {
            receipt: Some(self.api.wallet().class_id(template)),
        })
    }

    async fn patch_object(&self, card: u64) -> Result<SendOutcome, SendError> {
        let view = match self.shop.cards().card_view(card) {
            Ok(v) => v,
            Err(e @ CoreError::NotFound { .. }) => return Err(SendError::Permanent(e.to_string())),
            Err(e) => {
                return Err(SendError::Retry {
                    reason: e.to_string(),
                    after: None,
                });
            }
        };
        let key = self.shop.cards().rotating_key(card);
        let object = self.api.wallet().object(&view, key.as_deref());
        self.api.patch_object(&object).await.map_err(send_error)?;
        Ok(SendOutcome::Sent {
            receipt: Some(self.api.wallet().object_id(card)),
        })
    }
}

/// The receipt of campaign news sent without its notification.
pub const QUIETLY: &str = "sent, no notification: Google's limit";

/// The fixed id of a campaign's message on a card's object: a resend after
/// a crash finds it there.
pub fn message_id(campaign: u64, card: u64) -> String {
    format!("campaign-{campaign}-card-{card}")
}

impl GoogleChannel {
    /// Campaign news: a message on the card's object, notifying; past
    /// Google's notification budget, the same message as text only.
    async fn post_news(&self, entry: &OutboxEntry) -> Result<SendOutcome, SendError> {
        let m = &entry.message;
        let (Some(card), Some(campaign)) = (m.card_id, m.data["campaign"].as_u64()) else {
            return Err(SendError::Permanent("news without card or campaign".into()));
        };
        let object = self.api.wallet().object_id(card);
        let id = message_id(campaign, card);
        let header = m.subject.clone().unwrap_or_default();
        let body = match m.data["push_text"].as_str() {
            Some(push) if !push.trim().is_empty() => push.to_string(),
            _ => m.text.clone(),
        };
        let sent = |receipt: String| {
            Ok(SendOutcome::Sent {
                receipt: Some(receipt),
            })
        };
        match self
            .api
            .add_message(&object, &id, &header, &body, true)
            .await
        {
            Ok(()) | Err(GoogleApiError::Exists(_)) => sent(id),
            Err(GoogleApiError::NotifyQuota(_)) => {
                match self
                    .api
                    .add_message(&object, &id, &header, &body, false)
                    .await
                {
                    Ok(()) | Err(GoogleApiError::Exists(_)) => sent(format!("{id}: {QUIETLY}")),
                    Err(e) => Err(send_error(e)),
                }
            }
            Err(e) => Err(send_error(e)),
        }
    }
}

impl Channel for GoogleChannel {
    fn name(&self) -> &str {
        GOOGLE_CHANNEL
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            if stampcard_core::consumers::is_news(entry) {
                return self.post_news(entry).await;
            }
            let data = &entry.message.data;
            match (data["card"].as_u64(), data["template"].as_u64()) {
                (Some(card), _) => self.patch_object(card).await,
                (None, Some(template)) => self.patch_class(template).await,
                _ => Err(SendError::Permanent(
                    "a Google Wallet update names no card or template".into(),
                )),
            }
        })
    }

    /// A patch sends the whole current object: sending it again is
    /// harmless, so one caught mid-send is sent again. A message is looked
    /// for on the object by its id, so it is not added twice.
    fn was_delivered<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Recovery> {
        Box::pin(async move {
            let m = &entry.message;
            let (Some(card), Some(campaign)) = (m.card_id, m.data["campaign"].as_u64()) else {
                return Recovery::NotSent;
            };
            let id = message_id(campaign, card);
            match self
                .api
                .get_object(&self.api.wallet().object_id(card))
                .await
            {
                Ok(object) => {
                    let there = object["messages"]
                        .as_array()
                        .is_some_and(|list| list.iter().any(|x| x["id"] == id.as_str()));
                    match there {
                        true => Recovery::Delivered(SendOutcome::Sent { receipt: Some(id) }),
                        false => Recovery::NotSent,
                    }
                }
                Err(_) => Recovery::Unknown,
            }
        })
    }
}
