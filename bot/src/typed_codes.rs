//! Codes a customer types or pastes into the chat as plain text, as they
//! are printed (spaces and dashes ignored): a receipt code is claimed onto
//! their card as its deep link would; their own card or voucher code shows
//! it; anyone else's is refused without saying whose it is.

use stampcard_core::Shop;
use stampcard_core::model::{Customer, VoucherState};
use stampcard_core::shop::Lookup;
use teloxide::prelude::*;

use crate::handlers::{TgBot, send_card, start};
use crate::texts;
use crate::wallet_links::WalletLinks;

/// The digits of a message that is a code and nothing else: digits with
/// spaces or dashes between them, at least 12 digits (no phone number or
/// date passes for a code).
pub fn as_code(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 12).then_some(digits)
}

/// Answers a typed code.
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    bot: &TgBot,
    chat: ChatId,
    shop: &Shop,
    user: &stampcard_core::shop::TelegramUser,
    mine: Option<&Customer>,
    lang: &str,
    code: &str,
    wallets: WalletLinks,
) -> ResponseResult<()> {
    let owned = |card_id: u64| {
        mine.is_some_and(|c| {
            shop.cards()
                .card(card_id)
                .is_ok_and(|card| card.customer_id == c.id && !card.deleted)
        })
    };
    let refused = |why: String| texts::t(lang, "refused", &[("reason", &why)]);
    match shop.cards().lookup(code) {
        Ok(Lookup::Receipt { .. }) => {
            start(bot, chat, shop, user, lang, &format!("r{code}"), wallets).await
        }
        Ok(Lookup::Card(view)) if owned(view.card_id) => {
            send_card(bot, chat, shop, lang, &view, wallets).await
        }
        Ok(Lookup::Voucher(v, card)) if owned(card) => {
            let text = match v.state {
                VoucherState::Active => {
                    texts::t(lang, "voucher.active", &[("description", &v.description)])
                }
                VoucherState::Redeemed => refused(texts::t(lang, "reason.already_redeemed", &[])),
                VoucherState::Expired => refused(texts::t(lang, "reason.expired", &[])),
                VoucherState::Voided => refused(texts::t(lang, "reason.voided", &[])),
            };
            bot.say(chat, text).await
        }
        Ok(Lookup::Card(_) | Lookup::Voucher(..)) => {
            bot.say(chat, refused(texts::t(lang, "reason.not_yours", &[])))
                .await
        }
        Err(e) => bot.say(chat, refused(texts::reason(lang, &e))).await,
    }
}

#[cfg(test)]
mod tests {
    use super::as_code;

    #[test]
    fn printed_codes_are_recognised_and_other_text_is_not() {
        assert_eq!(
            as_code(" 3123-4567 8901 2345 ").as_deref(),
            Some("3123456789012345")
        );
        assert_eq!(
            as_code("1000100001-082848063").as_deref(),
            Some("1000100001082848063")
        );
        for text in [
            "hello",
            "+49 170 5550101",
            "1990-04-23",
            "12345",
            "code 1234567890123",
        ] {
            assert_eq!(as_code(text), None, "{text}");
        }
    }
}
