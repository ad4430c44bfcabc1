//! Updates from Telegram, each handled once by the shop: long polling from
//! the offset the store keeps (so a node taking the bot over from one that
//! died starts where it stopped), every update marked handled in the store
//! before it is handled (so none is answered twice), and updates of one chat
//! handled in order while different chats are handled at once.
//!
//! Telegram allows one poller per bot token and answers a second with 409
//! ("terminated by other getUpdates request"): this poller then waits and
//! asks again, saying once what is wrong.
//!
//! Webhook mode (`serve_webhook`): Telegram posts each update to the shop's
//! URL, any node behind the load balancer checks its secret token and
//! queues it in the store (marked handled in the same write); the node that
//! runs the bot handles the queue.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use stampcard_core::Shop;
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::dispatching::DpHandlerDescription;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use tokio::sync::watch;

use crate::replies::Replies;
use crate::wallet_links::WalletLinks;

/// Seconds Telegram holds a `getUpdates` open while nothing comes.
const LONG_POLL_SECS: u32 = 10;

/// The bot's update handler.
pub type UpdateHandler = Arc<Handler<'static, ResponseResult<()>, DpHandlerDescription>>;

/// How updates reach the bot.
#[derive(Clone)]
pub enum Receive {
    /// Long polling (`getUpdates`).
    Polling,
    /// Telegram posts them to `url` with `secret` in its header.
    Webhook {
        /// The public URL Telegram posts to.
        url: url::Url,
        /// The secret token Telegram sends along.
        secret: String,
        /// Woken when this node queued an update.
        wake: Arc<tokio::sync::Notify>,
    },
}

/// What handling an update needs.
#[derive(Clone)]
pub struct Handling {
    /// The shop.
    pub shop: Shop,
    /// The bot, within Telegram's limits.
    pub replies: Replies,
    /// Which wallet buttons cards get.
    pub wallets: WalletLinks,
    /// The handler tree.
    pub handler: UpdateHandler,
}

impl Handling {
    /// Handles updates Telegram sent (polled, or posted to the webhook):
    /// those the shop handled before are skipped; the rest are marked
    /// handled, then handled, each chat's in order. Returns how many were new.
    pub async fn handle(&self, updates: Vec<Update>) -> Result<usize, stampcard_core::CoreError> {
        let ids: Vec<i64> = updates.iter().map(|u| i64::from(u.id.0)).collect();
        let fresh = self.shop.customers().claim_telegram_updates(&ids).await?;
        let updates: Vec<Update> = updates
            .into_iter()
            .filter(|u| fresh.contains(&i64::from(u.id.0)))
            .collect();
        self.handle_claimed(updates).await;
        Ok(fresh.len())
    }

    /// Handles updates already marked handled, each chat's in order.
    async fn handle_claimed(&self, updates: Vec<Update>) {
        let mut by_chat: BTreeMap<i64, Vec<Update>> = BTreeMap::new();
        for u in updates {
            let chat = u.chat().map_or(0, |c| c.id.0);
            by_chat.entry(chat).or_default().push(u);
        }
        let mut chats = tokio::task::JoinSet::new();
        for (_, updates) in by_chat {
            let this = self.clone();
            chats.spawn(async move {
                for update in updates {
                    let deps = dptree::deps![
                        update,
                        this.shop.clone(),
                        this.replies.clone(),
                        this.wallets
                    ];
                    if let std::ops::ControlFlow::Break(Err(e)) = this.handler.dispatch(deps).await
                    {
                        tracing::warn!("telegram update: {e}");
                    }
                }
            });
        }
        while chats.join_next().await.is_some() {}
    }
}

/// The id of an update Telegram posted to the webhook, or why it is not one.
pub fn update_id(body: &[u8]) -> Result<i64, String> {
    serde_json::from_slice::<Update>(body)
        .map(|u| i64::from(u.id.0))
        .map_err(|e| e.to_string())
}

/// Webhook mode: asks Telegram to post updates to `url` with `secret` (any
/// node takes them and queues them in the store), then handles what the
/// nodes queued, woken by `wake` or every 250 ms, until `stop`.
pub async fn serve_webhook(
    handling: Handling,
    url: url::Url,
    secret: String,
    wake: Arc<tokio::sync::Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let bot: Bot = (*handling.replies).clone();
    let mut pause = Duration::from_secs(1);
    loop {
        let set = bot
            .set_webhook(url.clone())
            .secret_token(secret.clone())
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        match set.send().await {
            Ok(_) => break,
            Err(e) => tracing::warn!("telegram setWebhook: {e}; trying again"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
    loop {
        match handling.shop.customers().take_telegram_updates().await {
            Ok(queued) => {
                // Kept as the text Telegram posted: teloxide reads an update
                // from text, not from a JSON value.
                let updates = queued
                    .iter()
                    .filter_map(|v| serde_json::from_str::<Update>(v.as_str()?).ok())
                    .collect();
                handling.handle_claimed(updates).await;
            }
            Err(e) => tracing::warn!("taking the bot's queued updates: {e}"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// Polls Telegram for updates until `stop`.
pub async fn poll(handling: Handling, mut stop: watch::Receiver<bool>) {
    let bot: Bot = (*handling.replies).clone();
    // A webhook left set would make Telegram refuse getUpdates.
    if let Err(e) = bot.delete_webhook().await {
        tracing::warn!("telegram deleteWebhook: {e}");
    }
    let mut offset = match handling.shop.customers().telegram_offset() {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!("reading the bot's update offset: {e}");
            0
        }
    };
    let mut pause = Duration::ZERO;
    let mut said_conflict = false;
    loop {
        if !pause.is_zero() {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        let ask = bot
            .get_updates()
            .offset(i32::try_from(offset).unwrap_or(0))
            .timeout(LONG_POLL_SECS)
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        let got = tokio::select! {
            _ = stop.changed() => return,
            got = ask.send() => got,
        };
        match got {
            Ok(updates) => {
                pause = Duration::ZERO;
                said_conflict = false;
                let next = updates.iter().map(|u| i64::from(u.id.0) + 1).max();
                match handling.handle(updates).await {
                    Ok(_) => offset = next.unwrap_or(offset).max(offset),
                    Err(e) => {
                        // Not marked: asked for again.
                        tracing::warn!("marking telegram updates handled: {e}");
                        pause = Duration::from_secs(1);
                    }
                }
            }
            Err(RequestError::Api(ApiError::TerminatedByOtherGetUpdates)) => {
                if !said_conflict {
                    tracing::warn!(
                        "telegram: another process is polling this bot's updates (409); is the token used by another bot or stampcard outside this shop's nodes?"
                    );
                    said_conflict = true;
                }
                pause = Duration::from_secs(2);
            }
            Err(e) => {
                tracing::warn!("telegram getUpdates: {e}");
                pause = (pause * 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_update_reads_back() {
        let body = serde_json::json!({
            "update_id": 900,
            "message": {
                "message_id": 900,
                "date": 1_767_000_000,
                "chat": {"id": 8001, "type": "private", "first_name": "Wren"},
                "from": {"id": 8001, "is_bot": false, "first_name": "Wren", "language_code": "en"},
                "text": "/start j1",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}]
            }
        });
        assert_eq!(update_id(body.to_string().as_bytes()), Ok(900));
        // As queued: the text (a JSON value does not read back as an update).
        let u: Update = serde_json::from_str(&body.to_string()).expect("update");
        assert!(u.chat().is_some(), "{u:?}");
    }
}
