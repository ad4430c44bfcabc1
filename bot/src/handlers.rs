//! Updates: `/start` with a join or receipt deep link, `/cards`, `/help`,
//! and the buttons under a card. Customers only ever see their own cards.

use stampcard_core::Shop;
use stampcard_core::model::{Actor, CodeFormat, Customer};
use stampcard_core::shop::TelegramUser;
use stampcard_core::views::CardView;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, User};
use tokio::sync::watch;

use crate::commands::Command;
use crate::replies::Replies;
use crate::texts;
use crate::wallet_links::WalletLinks;

/// The bot client the handlers reply with: Telegram's limits applied.
pub(crate) type TgBot = Replies;

/// What a `/start` payload asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPayload {
    /// `j<template>[_<source>]`: join a card.
    Join {
        /// Template id.
        template: u64,
        /// Where the customer joined (table, window …).
        source: Option<String>,
    },
    /// `r<code>`: claim a receipt code.
    Receipt(String),
    /// `c<link token>`: open a card joined on the web ("Open in Telegram").
    Card(String),
}

impl StartPayload {
    /// Parses a deep-link payload (≤ 64 characters of `[A-Za-z0-9_-]`).
    pub fn parse(payload: &str) -> Option<StartPayload> {
        if payload.is_empty()
            || payload.len() > 64
            || !payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        if let Some(rest) = payload.strip_prefix('j') {
            let (id, source) = match rest.split_once('_') {
                Some((id, src)) if !src.is_empty() => (id, Some(src.to_string())),
                Some(_) => return None,
                None => (rest, None),
            };
            return Some(StartPayload::Join {
                template: id.parse().ok()?,
                source,
            });
        }
        if let Some(token) = payload.strip_prefix('c') {
            return (!token.is_empty()).then(|| StartPayload::Card(token.to_string()));
        }
        let code = payload.strip_prefix('r')?;
        (!code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| StartPayload::Receipt(code.to_string()))
    }
}

fn user_of(u: &User) -> TelegramUser {
    TelegramUser {
        id: u.id.0 as i64,
        name: u.full_name(),
        language: u.language_code.clone(),
    }
}

/// The customer behind a Telegram user, read once per update.
fn holder(shop: &Shop, user: &TelegramUser) -> Option<Customer> {
    shop.customers()
        .customer_by_telegram(user.id)
        .ok()
        .flatten()
}

/// The card a button names, if it is the holder's own and not deleted.
fn own_card(shop: &Shop, mine: Option<&Customer>, id: &str) -> Option<stampcard_core::model::Card> {
    let mine = mine?;
    id.parse::<u64>()
        .ok()
        .and_then(|id| shop.cards().card(id).ok())
        .filter(|c| c.customer_id == mine.id && !c.deleted)
}

/// "That button is out of date" in a language.
fn stale(lang: &str) -> String {
    texts::t(
        lang,
        "refused",
        &[("reason", &texts::t(lang, "refused.stale", &[]))],
    )
}

/// The catalog language for a user: their profile's, else their app's.
fn lang_of(customer: Option<&Customer>, user: &TelegramUser) -> &'static str {
    let stored = customer.and_then(|c| c.language.as_deref());
    texts::language(stored.or(user.language.as_deref()))
}

fn keyboard(lang: &str, v: &CardView, wallets: WalletLinks) -> InlineKeyboardMarkup {
    let mut row = Vec::new();
    if let Ok(url) = url::Url::parse(&v.url) {
        row.push(InlineKeyboardButton::url(
            texts::t(lang, "button.web", &[]),
            url,
        ));
    }
    row.push(InlineKeyboardButton::callback(
        texts::t(lang, "button.refresh", &[]),
        format!("card:{}", v.card_id),
    ));
    let mut rows = vec![row];
    let wallet_row = wallets.buttons(lang, v);
    if !wallet_row.is_empty() {
        rows.push(wallet_row);
    }
    if v.vouchers
        .iter()
        .any(|x| x.state == stampcard_core::model::VoucherState::Active)
    {
        rows.push(vec![InlineKeyboardButton::callback(
            texts::t(lang, "button.vouchers", &[]),
            format!("vouchers:{}", v.card_id),
        )]);
    }
    if v.spins_available > 0 {
        rows.push(vec![InlineKeyboardButton::callback(
            texts::t(lang, "button.spin", &[]),
            format!("spin:{}", v.card_id),
        )]);
    }
    InlineKeyboardMarkup::new(rows)
}

/// A card: the QR code of its code (for staff to scan) with the card as
/// the caption and its buttons; plain text if the picture cannot be made.
///
/// A card of a template that stamps only from its live rotating code gets
/// no picture (a message cannot change every 30 seconds within Telegram's
/// limits): its text links to the web card, which shows the live code.
pub(crate) async fn send_card(
    bot: &TgBot,
    chat: ChatId,
    shop: &Shop,
    lang: &str,
    v: &CardView,
    wallets: WalletLinks,
) -> ResponseResult<()> {
    let mut text = texts::card(lang, v);
    let rotating = shop
        .templates()
        .template(v.template_id)
        .is_ok_and(|t| t.rules.rotating_codes);
    if rotating {
        text += "\n\n";
        text += &texts::t(lang, "card.live_code", &[("url", &v.url)]);
    }
    let picture = if rotating {
        None
    } else {
        crate::qr::png(&v.code)
    };
    match picture {
        Some(png) if text.chars().count() <= 1024 => {
            let photo = teloxide::types::InputFile::memory(png).file_name("card.png");
            bot.send(
                chat,
                bot.send_photo(chat, photo)
                    .caption(text)
                    .reply_markup(keyboard(lang, v, wallets)),
            )
            .await?;
        }
        _ => {
            bot.send(
                chat,
                bot.send_message(chat, text)
                    .reply_markup(keyboard(lang, v, wallets)),
            )
            .await?;
        }
    }
    Ok(())
}

/// The bot's answer to a `/start` payload.
pub(crate) async fn start(
    bot: &TgBot,
    chat: ChatId,
    shop: &Shop,
    user: &TelegramUser,
    lang: &str,
    payload: &str,
    wallets: WalletLinks,
) -> ResponseResult<()> {
    let actor = Actor::channel("bot");
    let result = match StartPayload::parse(payload) {
        None => Err(texts::t(lang, "refused.link", &[])),
        Some(StartPayload::Join { template, source }) => shop
            .customers()
            .join_telegram(template, user, source)
            .await
            .and_then(|j| shop.cards().card_view(j.card.id))
            .map_err(|e| texts::reason(lang, &e)),
        Some(StartPayload::Card(token)) => shop
            .customers()
            .join_telegram_with_card(&token, user)
            .await
            .and_then(|j| shop.cards().card_view(j.card.id))
            .map_err(|e| texts::reason(lang, &e)),
        Some(StartPayload::Receipt(code)) => async {
            let template = shop.customers().receipt_template(&code)?;
            let joined = shop
                .customers()
                .join_telegram(template, user, Some("receipt".into()))
                .await?;
            shop.cards()
                .claim_receipt(&code, joined.card.id, &actor)
                .await?;
            shop.cards().card_view(joined.card.id)
        }
        .await
        .map_err(|e| texts::reason(lang, &e)),
    };
    match result {
        Ok(view) => send_card(bot, chat, shop, lang, &view, wallets).await,
        Err(why) => {
            bot.say(chat, texts::t(lang, "refused", &[("reason", &why)]))
                .await?;
            Ok(())
        }
    }
}

/// Where the bot keeps its conversations with Telegram users.
const CONVERSATIONS: &str = "telegram";

/// The profile field a `/name`-like command asks for and then waits on.
fn asks_for(c: Command) -> bool {
    matches!(
        c,
        Command::Name | Command::Phone | Command::Email | Command::Birthday | Command::Language
    )
}

async fn on_message(
    bot: TgBot,
    msg: Message,
    shop: Shop,
    wallets: WalletLinks,
) -> ResponseResult<()> {
    // The staff chat the alerts go to (`[alerts] telegram_chat`): what
    // staff say there is not for the bot.
    if shop.settings().alerts.telegram_chat == Some(msg.chat.id.0) {
        return Ok(());
    }
    let Some(from) = msg.from.as_ref() else {
        return Ok(());
    };
    let user = user_of(from);
    let customer = holder(&shop, &user);
    let lang = lang_of(customer.as_ref(), &user);
    let chat = msg.chat.id;
    let uid = user.id.to_string();
    // The field the bot asked this user for, if it is waiting on one.
    let waiting = shop
        .customers()
        .conversation(CONVERSATIONS, &uid)
        .ok()
        .flatten()
        .and_then(|v| v.as_str().and_then(Command::from_name))
        .filter(|c| asks_for(*c));
    let text = msg.text().unwrap_or_default();
    let (command, rest) = match Command::parse(text) {
        Some(Ok(parsed)) => parsed,
        Some(Err(_)) => return bot.say(chat, texts::t(lang, "not_understood", &[])).await,
        None => {
            return match (waiting, msg.text()) {
                (Some(field), Some(answer)) => {
                    let _ = shop
                        .customers()
                        .set_conversation(CONVERSATIONS, &uid, None)
                        .await;
                    profile(&bot, chat, &shop, customer, &user, field, answer.trim()).await
                }
                // A sticker, a photo … while a question is open.
                (Some(_), None) => bot.say(chat, texts::t(lang, "ask.text", &[])).await,
                // A code typed or pasted as it is printed.
                (None, Some(text)) if crate::typed_codes::as_code(text).is_some() => {
                    let code = crate::typed_codes::as_code(text).unwrap_or_default();
                    crate::typed_codes::answer(
                        &bot,
                        chat,
                        &shop,
                        &user,
                        customer.as_ref(),
                        lang,
                        &code,
                        wallets,
                    )
                    .await
                }
                (None, _) => bot.say(chat, texts::t(lang, "not_understood", &[])).await,
            };
        }
    };
    // A command ends any open question.
    if waiting.is_some() {
        let _ = shop
            .customers()
            .set_conversation(CONVERSATIONS, &uid, None)
            .await;
    }
    match command {
        Command::Start if !rest.is_empty() => {
            let payload = rest.split_whitespace().next().unwrap_or_default();
            start(&bot, chat, &shop, &user, lang, payload, wallets).await?;
        }
        Command::Start => {
            let templates = shop.templates().offered_templates();
            let buttons: Vec<Vec<InlineKeyboardButton>> = templates
                .iter()
                .map(|(id, name)| {
                    vec![InlineKeyboardButton::callback(
                        name.clone(),
                        format!("join:{id}"),
                    )]
                })
                .collect();
            let welcome = texts::t(
                lang,
                if templates.is_empty() {
                    "welcome.none"
                } else {
                    "welcome"
                },
                &[("shop", &shop.settings().name)],
            );
            let request = bot
                .send_message(chat, welcome)
                .reply_markup(InlineKeyboardMarkup::new(buttons));
            bot.send(chat, request).await?;
        }
        Command::Cards => {
            let cards = customer
                .and_then(|c| shop.cards().cards_of_customer(c.id).ok())
                .unwrap_or_default();
            let views: Vec<CardView> = cards
                .iter()
                .filter(|c| !c.deleted)
                .filter_map(|c| shop.cards().card_view(c.id).ok())
                .collect();
            if views.is_empty() {
                bot.say(chat, texts::t(lang, "no_cards", &[])).await?;
            }
            for v in &views {
                send_card(&bot, chat, &shop, lang, v, wallets).await?;
            }
        }
        Command::Help => bot.say(chat, Command::help(lang)).await?,
        Command::Cancel => bot.say(chat, texts::t(lang, "cancelled", &[])).await?,
        Command::Stop | Command::News => {
            let granted = command == Command::News;
            let answer = match customer {
                Some(c) => match shop
                    .customers()
                    .set_consent(c.id, "telegram", granted, "bot", &Actor::channel("bot"))
                    .await
                {
                    Ok(_) if granted => texts::t(lang, "news_on", &[]),
                    Ok(_) => texts::t(lang, "news_off", &[]),
                    Err(_) => texts::t(lang, "try_again", &[]),
                },
                None => texts::t(lang, "no_cards", &[]),
            };
            bot.say(chat, answer).await?;
        }
        Command::Export => {
            let data = customer.map(|c| shop.customers().export_customer(c.id));
            match data {
                Some(Ok(data)) => {
                    let bytes = serde_json::to_vec_pretty(&data).unwrap_or_default();
                    let file = teloxide::types::InputFile::memory(bytes).file_name("my-data.json");
                    let request =
                        bot.send_document(chat, file)
                            .caption(texts::t(lang, "export", &[]));
                    bot.send(chat, request).await?;
                }
                Some(Err(e)) => {
                    tracing::warn!("export for Telegram user {}: {e}", user.id);
                    bot.say(chat, texts::t(lang, "try_again", &[])).await?;
                }
                None => bot.say(chat, texts::t(lang, "no_cards", &[])).await?,
            }
        }
        c if asks_for(c) && rest.is_empty() => {
            // Ask, and remember the question before asking it.
            if customer.is_none() {
                return bot.say(chat, texts::t(lang, "no_cards", &[])).await;
            }
            let saved = shop
                .customers()
                .set_conversation(CONVERSATIONS, &uid, Some(c.name().into()))
                .await;
            let key = format!("ask.{}", c.name());
            let text = match saved {
                Ok(()) => texts::t(lang, &key, &[]),
                Err(_) => texts::t(lang, "try_again", &[]),
            };
            bot.say(chat, text).await?;
        }
        c @ (Command::Profile
        | Command::Name
        | Command::Phone
        | Command::Email
        | Command::Birthday
        | Command::Language) => {
            profile(&bot, chat, &shop, customer, &user, c, rest).await?;
        }
        Command::Forget => {
            let confirm = InlineKeyboardMarkup::new(vec![vec![
                InlineKeyboardButton::callback(texts::t(lang, "forget.yes", &[]), "forget:yes"),
                InlineKeyboardButton::callback(texts::t(lang, "forget.no", &[]), "forget:no"),
            ]]);
            let request = bot
                .send_message(chat, texts::t(lang, "forget.ask", &[]))
                .reply_markup(confirm);
            bot.send(chat, request).await?;
        }
    }
    Ok(())
}

async fn on_callback(
    bot: TgBot,
    q: CallbackQuery,
    shop: Shop,
    wallets: WalletLinks,
) -> ResponseResult<()> {
    bot.answer_callback_query(q.id.clone()).await?;
    let user = user_of(&q.from);
    let customer = holder(&shop, &user);
    let lang = lang_of(customer.as_ref(), &user);
    let chat = ChatId(user.id);
    let data = q.data.as_deref().unwrap_or_default();
    let view = match data.split_once(':') {
        Some(("card", id)) => {
            // Only the holder's own cards, whatever the button says.
            own_card(&shop, customer.as_ref(), id).and_then(|c| shop.cards().card_view(c.id).ok())
        }
        Some(("forget", answer)) => {
            let text = match (answer, &customer) {
                ("yes", Some(c)) => {
                    match shop
                        .customers()
                        .forget_customer(c.id, &Actor::channel("bot"))
                        .await
                    {
                        Ok(_) => texts::t(lang, "forgotten", &[]),
                        Err(_) => texts::t(lang, "try_again", &[]),
                    }
                }
                ("yes", None) => texts::t(lang, "no_cards", &[]),
                _ => texts::t(lang, "kept", &[]),
            };
            bot.say(chat, text).await?;
            return Ok(());
        }
        Some(("vouchers", id)) => {
            let view = own_card(&shop, customer.as_ref(), id)
                .and_then(|c| shop.cards().card_view(c.id).ok());
            let Some(view) = view else {
                bot.say(chat, stale(lang)).await?;
                return Ok(());
            };
            let active: Vec<_> = view
                .vouchers
                .iter()
                .filter(|x| x.state == stampcard_core::model::VoucherState::Active)
                .collect();
            if active.is_empty() {
                bot.say(chat, texts::t(lang, "no_vouchers", &[])).await?;
            }
            for v in active {
                let fixed = v
                    .fixed_code
                    .as_deref()
                    .map(|f| texts::t(lang, "voucher.fixed", &[("fixed", f)]))
                    .unwrap_or_default();
                let valid = match v.expires_at {
                    Some(at) => texts::t(
                        lang,
                        "voucher.until",
                        &[(
                            "date",
                            &at.with_timezone(&shop.settings().timezone)
                                .format("%Y-%m-%d")
                                .to_string(),
                        )],
                    ),
                    None => texts::t(lang, "voucher.forever", &[]),
                };
                let caption = texts::t(
                    lang,
                    "voucher",
                    &[
                        ("description", &v.description),
                        ("code", &v.code),
                        ("fixed", &fixed),
                        ("valid", &valid),
                    ],
                );
                // The picture the template's reward asks for; text alone
                // for a text code (and if a picture cannot be made).
                let picture = match v.format {
                    CodeFormat::Qr => crate::qr::png(&v.code),
                    CodeFormat::Code128 => crate::qr::code128_png(&v.code),
                    CodeFormat::Text => None,
                };
                match picture {
                    Some(png) => {
                        let photo =
                            teloxide::types::InputFile::memory(png).file_name("voucher.png");
                        bot.send(chat, bot.send_photo(chat, photo).caption(caption))
                            .await?;
                    }
                    None => {
                        bot.say(chat, caption).await?;
                    }
                }
            }
            return Ok(());
        }
        Some(("consent", answer)) => {
            if let Some(c) = &customer {
                let _ = shop
                    .customers()
                    .set_consent(
                        c.id,
                        "email",
                        answer == "yes",
                        "bot",
                        &Actor::channel("bot"),
                    )
                    .await;
            }
            bot.say(chat, texts::t(lang, "consent.saved", &[])).await?;
            return Ok(());
        }
        Some(("spin", id)) => {
            let card = own_card(&shop, customer.as_ref(), id);
            let Some(card) = card else {
                bot.say(chat, stale(lang)).await?;
                return Ok(());
            };
            // The card's actor draws once per available spin: a double press
            // finds no spin left and says so.
            match shop.cards().spin(card.id, &Actor::channel("bot")).await {
                Ok(o) => {
                    let prize = o.prize.unwrap_or_default();
                    bot.say(chat, texts::t(lang, "won", &[("prize", &prize)]))
                        .await?;
                    shop.cards().card_view(card.id).ok()
                }
                Err(e) => {
                    let why = texts::reason(lang, &e);
                    bot.say(chat, texts::t(lang, "refused", &[("reason", &why)]))
                        .await?;
                    return Ok(());
                }
            }
        }
        Some(("join", id)) => match id.parse::<u64>() {
            Ok(t) => shop
                .customers()
                .join_telegram(t, &user, Some("bot".into()))
                .await
                .ok()
                .and_then(|j| shop.cards().card_view(j.card.id).ok()),
            Err(_) => None,
        },
        _ => None,
    };
    match view {
        Some(v) => send_card(&bot, chat, &shop, lang, &v, wallets).await,
        None => {
            bot.say(chat, stale(lang)).await?;
            Ok(())
        }
    }
}

/// `/profile` shows the profile; `/name`, `/phone`, `/email`, `/birthday`
/// and `/language` change one field to `value` ("-" clears it, except the
/// name).
async fn profile(
    bot: &TgBot,
    chat: ChatId,
    shop: &Shop,
    customer: Option<Customer>,
    user: &TelegramUser,
    command: Command,
    value: &str,
) -> ResponseResult<()> {
    let value = if value == "-" { "" } else { value };
    use stampcard_core::shop::ProfileChange;
    let lang = lang_of(customer.as_ref(), user);
    let Some(customer) = customer else {
        bot.say(chat, texts::t(lang, "no_cards", &[])).await?;
        return Ok(());
    };
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let change = match command {
        Command::Name if !value.is_empty() => Some(Ok(ProfileChange::Name(value.to_string()))),
        Command::Phone => Some(Ok(ProfileChange::Phone(opt(value)))),
        Command::Email => Some(Ok(ProfileChange::Email(opt(value)))),
        Command::Language => Some(Ok(ProfileChange::Language(opt(value)))),
        Command::Birthday if value.is_empty() => Some(Ok(ProfileChange::Birthday(None))),
        Command::Birthday => Some(
            value
                .parse::<chrono::NaiveDate>()
                .map(|d| ProfileChange::Birthday(Some(d)))
                .map_err(|_| texts::t(lang, "profile.bad_date", &[("value", value)])),
        ),
        _ => None,
    };
    let Some(change) = change else {
        let none = texts::t(lang, "profile.none", &[]);
        let or_none = |v: Option<String>| v.unwrap_or_else(|| none.clone());
        let email_news = match &customer.consent_email {
            Some(c) if c.granted => texts::t(lang, "profile.yes", &[]),
            _ => texts::t(lang, "profile.no", &[]),
        };
        let text = texts::t(
            lang,
            "profile",
            &[
                ("name", &customer.name),
                ("phone", &or_none(customer.phone.clone())),
                ("email", &or_none(customer.email.clone())),
                (
                    "birthday",
                    &or_none(customer.birthday.map(|b| b.to_string())),
                ),
                ("language", &or_none(customer.language.clone())),
                ("email_news", &email_news),
            ],
        );
        bot.say(chat, text).await?;
        return Ok(());
    };
    let asks_consent = command == Command::Email && !value.is_empty();
    let result = match change {
        Ok(change) => shop
            .customers()
            .update_profile(customer.id, change, &Actor::channel("bot"))
            .await
            .map_err(|e| texts::reason(lang, &e)),
        Err(why) => Err(why),
    };
    match result {
        Ok(updated) => {
            // The language may just have changed: answer in the new one.
            let lang = lang_of(Some(&updated), user);
            bot.say(chat, texts::t(lang, "profile.saved", &[])).await?;
            if asks_consent {
                let buttons = InlineKeyboardMarkup::new(vec![vec![
                    InlineKeyboardButton::callback(
                        texts::t(lang, "consent.yes", &[]),
                        "consent:yes",
                    ),
                    InlineKeyboardButton::callback(texts::t(lang, "consent.no", &[]), "consent:no"),
                ]]);
                bot.send(
                    chat,
                    bot.send_message(chat, texts::t(lang, "profile.email_ask", &[]))
                        .reply_markup(buttons),
                )
                .await?;
            }
        }
        Err(why) => {
            bot.say(chat, texts::t(lang, "refused", &[("reason", &why)]))
                .await?;
        }
    }
    Ok(())
}

/// Runs the bot (long polling, or the updates posted to its webhook) until
/// `stop` turns true. Replies go out
/// through `replies` (Telegram's limits: 1 a second and 20 a minute per
/// chat, 30 a second overall; a 429's retry_after is honoured).
pub async fn run(
    handling: crate::updates::Handling,
    receive: crate::updates::Receive,
    stop: watch::Receiver<bool>,
) {
    let bot: Bot = (*handling.replies).clone();
    // The command menu in every catalog language (English as the default).
    for lang in ["en", "ru"] {
        let commands: Vec<BotCommand> = Command::ALL
            .into_iter()
            .filter(|c| c.in_menu())
            .map(|c| BotCommand::new(c.name(), c.description(lang)))
            .collect();
        let mut request = bot.set_my_commands(commands);
        if lang != "en" {
            request = request.language_code(lang);
        }
        if let Err(e) = request.await {
            tracing::warn!("telegram setMyCommands ({lang}): {e}");
        }
    }
    match receive {
        crate::updates::Receive::Polling => crate::updates::poll(handling, stop).await,
        crate::updates::Receive::Webhook { url, secret, wake } => {
            crate::updates::serve_webhook(handling, url, secret, wake, stop).await
        }
    }
}

/// The bot's update handler: messages and button presses.
pub fn handler() -> crate::updates::UpdateHandler {
    std::sync::Arc::new(
        dptree::entry()
            .branch(Update::filter_message().endpoint(on_message))
            .branch(Update::filter_callback_query().endpoint(on_callback)),
    )
}

#[cfg(test)]
mod tests {
    use super::StartPayload;

    #[test]
    fn deep_link_payloads() {
        assert_eq!(
            StartPayload::parse("j12_table"),
            Some(StartPayload::Join {
                template: 12,
                source: Some("table".into())
            })
        );
        assert_eq!(
            StartPayload::parse("j3"),
            Some(StartPayload::Join {
                template: 3,
                source: None
            })
        );
        assert_eq!(
            StartPayload::parse("r3054262024420959"),
            Some(StartPayload::Receipt("3054262024420959".into()))
        );
        assert_eq!(
            StartPayload::parse("c100006-0b00012fca858650ef670428fa2daa05"),
            Some(StartPayload::Card(
                "100006-0b00012fca858650ef670428fa2daa05".into()
            ))
        );
        for bad in [
            "",
            "c",
            "x1",
            "j",
            "jx",
            "j1_",
            "r",
            "rabc",
            "j1 table",
            &"j1_".repeat(30),
        ] {
            assert_eq!(StartPayload::parse(bad), None, "{bad}");
        }
    }
}
