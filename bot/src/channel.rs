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
use teloxide::types::ParseMode;

use crate::replies::Replies;

/// Sends outbox entries as Telegram messages.
pub struct TelegramChannel {
    bot: Replies,
    limits: RateLimits,
}

impl TelegramChannel {
    /// A channel over the bot's client and limiter (shared with the bot's
    /// replies). Telegram allows about 30 messages a second overall and one
    /// a second per chat.
    pub fn new(bot: Replies, limits: RateLimits) -> Self {
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
            // Card news in the customer's language when the notifier left
            // its catalog keys; other messages as written.
            let data = &entry.message.data;
            let lang = crate::texts::language(data["language"].as_str());
            // Campaign texts carry the shop's markup (bold, italic, links).
            let request = match crate::texts::news(lang, data) {
                Some(text) => self.bot.send_message(ChatId(chat), text),
                None if data.get("campaign").is_some() => self
                    .bot
                    .send_message(
                        ChatId(chat),
                        stampcard_core::markup::to_telegram_html(&entry.message.text),
                    )
                    .parse_mode(ParseMode::Html),
                None => self
                    .bot
                    .send_message(ChatId(chat), entry.message.text.clone()),
            };
            self.bot.admit(ChatId(chat)).await;
            match request.await {
                Ok(m) => Ok(SendOutcome::Confirmed {
                    receipt: Some(format!("message {}", m.id.0)),
                }),
                Err(RequestError::RetryAfter(secs)) => {
                    // The bot's replies wait too; the dispatcher retries this one.
                    self.bot.freeze(secs.duration());
                    Err(SendError::Retry {
                        reason: "Telegram asked to slow down (429)".into(),
                        after: Some(secs.duration()),
                    })
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use stampcard_core::model::Consent;

    #[test]
    fn marketing_needs_telegram_consent_card_news_does_not() {
        let mut customer: Customer = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "Lena", "telegram_id": 5001, "forgotten": false
        }))
        .unwrap_or_else(|e| panic!("customer: {e}"));
        let card: Card = serde_json::from_value(serde_json::json!({
            "id": 100001, "template_id": 1, "template_version": 1, "customer_id": 1, "counter": 0,
            "stamps": 0, "lifetime_stamps": 0, "rewards_pending": 0, "spins_available": 0,
            "spins_played": 0, "created_at": "2026-01-01T00:00:00Z", "last_stamp_at": null,
            "today": null, "stamps_today": 0, "platforms": [], "link_token": "x", "deleted": false
        }))
        .unwrap_or_else(|e| panic!("card: {e}"));
        let r = TelegramRoute;
        assert_eq!(
            r.recipient(&customer, &card, Purpose::Marketing).as_deref(),
            Some("5001")
        );
        customer.consent_telegram = Some(Consent {
            granted: false,
            at: chrono::Utc::now(),
            source: "bot".into(),
        });
        assert_eq!(r.recipient(&customer, &card, Purpose::Marketing), None);
        assert_eq!(
            r.recipient(&customer, &card, Purpose::Transactional)
                .as_deref(),
            Some("5001")
        );
        customer.telegram_id = None;
        assert_eq!(r.recipient(&customer, &card, Purpose::Transactional), None);
    }
}
