//! What the bot sends to a chat goes through here: within Telegram's limits
//! (the [`Limiter`]) and sent again after a 429's `retry_after`. The bot's
//! replies and the outbox channel share one `Replies`, so together they keep
//! the limits of each chat.

use std::ops::Deref;
use std::sync::Arc;

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::requests::Output;

use crate::limiter::{Limiter, Limits};

/// How often one message is tried when Telegram keeps answering 429.
const ATTEMPTS: u32 = 4;

/// The bot client with its send limits. Dereferences to the [`Bot`] to
/// build requests; [`Replies::send`] sends them.
#[derive(Clone)]
pub struct Replies {
    bot: Bot,
    limiter: Arc<Limiter>,
}

impl Deref for Replies {
    type Target = Bot;
    fn deref(&self) -> &Bot {
        &self.bot
    }
}

impl Replies {
    /// Sends through `bot` within `limits`.
    pub fn new(bot: Bot, limits: Limits) -> Self {
        Replies {
            bot,
            limiter: Arc::new(Limiter::new(limits)),
        }
    }

    /// Sends `request`, addressed to `chat`, when the limits allow; after a
    /// 429 every send waits the `retry_after` and this one goes again.
    pub async fn send<R>(&self, chat: ChatId, request: R) -> Result<Output<R>, RequestError>
    where
        R: Request<Err = RequestError>,
    {
        let mut attempt = 1;
        loop {
            self.limiter.admit(chat.0).await;
            match request.send_ref().await {
                Err(RequestError::RetryAfter(after)) if attempt < ATTEMPTS => {
                    tracing::info!("telegram asked to wait {after:?} (chat {chat})");
                    self.limiter.freeze(after.duration());
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Waits until one more message to `chat` keeps the limits (for
    /// senders that handle a 429 themselves, like the outbox channel).
    pub async fn admit(&self, chat: ChatId) {
        self.limiter.admit(chat.0).await;
    }

    /// Holds every send back for `wait` (Telegram answered 429).
    pub fn freeze(&self, wait: std::time::Duration) {
        self.limiter.freeze(wait);
    }

    /// Sends a plain text message to `chat`.
    pub async fn say(&self, chat: ChatId, text: String) -> ResponseResult<()> {
        self.send(chat, self.bot.send_message(chat, text)).await?;
        Ok(())
    }
}
