//! Telegram as an outbox channel: card news and messages go to the
//! customer's private chat, within Telegram's limits.

use std::time::Duration;

use stampcard_core::consumers::Route;
use stampcard_core::model::{Card, Customer};
use stampcard_core::outbox::{
    BoxFuture, Channel, OutboxEntry, Purpose, RateLimits, SendError, SendOutcome,
};
use teloxide::RequestError;
use teloxide::prelude::*;

/// Sends outbox entries as Telegram messages.
pub struct TelegramChannel {
    bot: Bot,
    limits: RateLimits,
}

impl TelegramChannel {
    /// A channel over a bot client. Telegram allows about 30 messages a
    /// second overall and one a second per chat.
    pub fn new(bot: Bot, limits: RateLimits) -> Self {
        Self { bot, limits }
    }

    /// Telegram's documented limits, with this retry policy.
    pub fn default_limits(base: RateLimits) -> RateLimits {
        RateLimits {
            per_second: 30.0,
            per_recipient: Duration::from_secs(1),
            ..base
        }
    }
}

impl Channel for TelegramChannel {
    fn name(&self) -> &str {
        "telegram"
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            let chat: i64 = entry.message.recipient.parse().map_err(|_| {
                SendError::Permanent(format!("'{}' is not a chat id", entry.message.recipient))
            })?;
            match self
                .bot
                .send_message(ChatId(chat), entry.message.text.clone())
                .await
            {
                Ok(m) => Ok(SendOutcome::Confirmed {
                    receipt: Some(format!("message {}", m.id.0)),
                }),
                Err(RequestError::RetryAfter(secs)) => Err(SendError::Retry {
                    reason: "Telegram asked to slow down (429)".into(),
                    after: Some(secs.duration()),
                }),
                Err(RequestError::Api(e)) => Err(SendError::Permanent(e.to_string())),
                Err(RequestError::MigrateToChatId(to)) => {
                    Err(SendError::Permanent(format!("the chat moved to {to}")))
                }
                Err(e) => Err(SendError::Retry {
                    reason: e.to_string(),
                    after: None,
                }),
            }
        })
    }
}

/// Reaches a customer in their private chat with the bot; marketing only
/// while their Telegram consent is not withdrawn.
pub struct TelegramRoute;

impl Route for TelegramRoute {
    fn channel(&self) -> &str {
        "telegram"
    }

    fn recipient(&self, customer: &Customer, _card: &Card, purpose: Purpose) -> Option<String> {
        let id = customer.telegram_id?;
        let withdrawn = customer
            .consent_telegram
            .as_ref()
            .is_some_and(|c| !c.granted);
        if purpose == Purpose::Marketing && withdrawn {
            return None;
        }
        Some(id.to_string())
    }
}
