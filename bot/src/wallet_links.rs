//! "Add to Apple Wallet" and "Save to Google Wallet" under a card in the
//! chat, for the wallets the shop offers. The bot knows nothing of passes:
//! both buttons open the web card's own links (`<card>/pass.pkpass`, and
//! `<card>/google`, which forwards to Google's save page).

use stampcard_core::views::CardView;
use teloxide::types::InlineKeyboardButton;

use crate::texts;

/// Which wallets the shop offers passes in (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalletLinks {
    /// Apple Wallet passes are on (`[wallet]` loaded).
    pub apple: bool,
    /// Google Wallet links are on (`[google_wallet]` loaded).
    pub google: bool,
}

impl WalletLinks {
    /// The wallet buttons of a card, in a language (none when the shop
    /// offers no wallet or the card's link is not a URL).
    pub fn buttons(&self, lang: &str, v: &CardView) -> Vec<InlineKeyboardButton> {
        let mut row = Vec::new();
        let mut add = |on: bool, key: &str, path: &str| {
            if let (true, Ok(url)) = (on, url::Url::parse(&format!("{}/{path}", v.url))) {
                row.push(InlineKeyboardButton::url(texts::t(lang, key, &[]), url));
            }
        };
        add(self.apple, "button.apple", "pass.pkpass");
        add(self.google, "button.google", "google");
        row
    }
}
