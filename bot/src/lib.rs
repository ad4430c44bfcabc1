//! Stampcard's Telegram bot: customers join by a QR code's deep link, see
//! their cards, claim receipt codes; and the Telegram delivery channel the
//! outbox sends card news through. Texts are in `texts.rs`.
//!
//! - `handlers`: the updates (commands, deep links, buttons).
//! - `commands`: the commands, `/help` and the menu.
//! - `limiter` and `replies`: every reply within Telegram's limits.
//! - `channel`: the outbox channel and the route to a customer's chat.
//! - `texts`: what the bot says.
//! - `typed_codes`: codes typed or pasted into the chat as text.
//! - `updates`: updates polled from Telegram, each handled once per shop.
//! - `wallet_links`: the wallet buttons under a card.

pub mod channel;
pub mod commands;
pub mod handlers;
pub mod limiter;
pub mod qr;
pub mod replies;
pub mod texts;
pub mod typed_codes;
pub mod updates;
pub mod wallet_links;

pub use teloxide::Bot;

/// Errors of the bot's setup.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// `[telegram] api_url` is not an http(s) URL.
    #[error("'{0}' is not an http:// or https:// URL: {1}")]
    ApiUrl(String, String),
}

/// A bot client for a token, pointed at `api_url` when given (tests run a
/// fake Bot API server there).
pub fn client(token: &str, api_url: Option<&str>) -> Result<Bot, BotError> {
    let bot = Bot::new(token);
    match api_url {
        Some(u) => {
            let url = url::Url::parse(u).map_err(|e| BotError::ApiUrl(u.into(), e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                let why = format!("the scheme is '{}'", url.scheme());
                return Err(BotError::ApiUrl(u.into(), why));
            }
            Ok(bot.set_api_url(url))
        }
        None => Ok(bot),
    }
}

pub use handlers::run;
pub use limiter::Limits;
pub use replies::Replies;
pub use wallet_links::WalletLinks;

/// The bot's @username (without the @), asked of Telegram (`getMe`), for
/// the "Open in Telegram" links; `None` when Telegram does not answer
/// within a few seconds (the links are then left out).
pub async fn username(bot: &Bot) -> Option<String> {
    use teloxide::prelude::Requester;
    let asked = tokio::time::timeout(std::time::Duration::from_secs(5), bot.get_me()).await;
    match asked {
        Ok(Ok(me)) => me.user.username.clone(),
        Ok(Err(e)) => {
            tracing::warn!("telegram getMe: {e}; the web card offers no Telegram link");
            None
        }
        Err(_) => {
            tracing::warn!("telegram getMe timed out; the web card offers no Telegram link");
            None
        }
    }
}
