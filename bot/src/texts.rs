//! What the bot says, from the catalogs in `bot/locales/` (English and
//! Russian). A customer's language comes from their profile or their
//! Telegram app; unknown languages and missing keys fall back to English.

use stampcard_core::i18n::BuiltinCatalogs;
use stampcard_core::model::VoucherState;
use stampcard_core::views::CardView;

static CATALOGS: BuiltinCatalogs = BuiltinCatalogs::new(&[
    ("en", include_str!("../locales/en.toml")),
    ("ru", include_str!("../locales/ru.toml")),
]);

/// The bot's catalogs.
pub fn catalogs() -> &'static stampcard_core::i18n::Catalogs {
    CATALOGS.get()
}

/// The catalog language for a Telegram language code ("ru-RU" → "ru").
pub fn language(code: Option<&str>) -> &'static str {
    catalogs().language(code)
}

/// A text by key, with `{name}` placeholders filled.
pub fn t(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    catalogs().t(lang, key, args)
}

/// Why something did not work, as a customer may read it: the catalog's
/// `reason.<code>` for the error's stable code, never an internal name or
/// id; a checked value's own message for bad input; else a plain "ask at
/// the counter".
pub fn reason(lang: &str, e: &stampcard_core::CoreError) -> String {
    let key = format!("reason.{}", e.code());
    let text = t(lang, &key, &[]);
    if text != key {
        return text;
    }
    match e {
        stampcard_core::CoreError::BadValue { key, value } => {
            stampcard_core::texts::bad_value(Some(lang), key, value)
        }
        stampcard_core::CoreError::Invalid(why) => why.clone(),
        _ => t(lang, "reason.other", &[]),
    }
}

/// A card as a message: title, progress, reward, vouchers, the code to show.
pub fn card(lang: &str, v: &CardView) -> String {
    let mut s = format!(
        "{} — {}\n{} {}\n{}",
        v.title,
        v.business_name,
        v.stamps_line,
        v.progress,
        t(lang, "card.reward", &[("reward", &v.reward)])
    );
    if v.rewards_pending > 0 {
        s += "\n";
        s += &t(
            lang,
            "card.rewards_ready",
            &[("count", &v.rewards_pending.to_string())],
        );
    }
    if v.spins_available > 0 {
        s += "\n";
        s += &t(
            lang,
            "card.spins",
            &[("count", &v.spins_available.to_string())],
        );
    }
    let active: Vec<_> = v
        .vouchers
        .iter()
        .filter(|x| x.state == VoucherState::Active)
        .collect();
    if !active.is_empty() {
        s += "\n";
        s += &t(
            lang,
            "card.vouchers",
            &[("count", &active.len().to_string())],
        );
        for x in active {
            s += "\n";
            s += &t(
                lang,
                "card.voucher",
                &[("description", &x.description), ("code", &x.code)],
            );
        }
    }
    s += "\n\n";
    s += &t(lang, "card.code", &[("card", &v.card_id.to_string())]);
    s += "\n";
    s += &v.code;
    s
}

/// Card news in a language, from the key and parameters the notifier
/// stored with the message (`None` when it stored none).
pub fn news(lang: &str, data: &serde_json::Value) -> Option<String> {
    stampcard_core::consumers::news_text(Some(lang), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_parse_and_have_the_same_keys() {
        let all =
            stampcard_core::i18n::Catalogs::parse(CATALOGS.sources()).expect("the catalogs parse");
        assert!(all.len("en") > 30);
        assert_eq!(all.mismatches(), vec![], "every text in every language");
    }

    #[test]
    fn languages_placeholders_and_fallbacks() {
        assert_eq!(language(Some("ru-RU")), "ru");
        assert_eq!(language(Some("de")), "en");
        assert_eq!(language(None), "en");
        assert_eq!(
            t("ru", "won", &[("prize", "булочка")]),
            "🎉 Ваш выигрыш: булочка! Он уже в ваших купонах."
        );
        assert_eq!(t("de", "kept", &[]), "Nothing was deleted.");
        let data = serde_json::json!({"news": ["stamp_one", "goal"], "params": {"title": "Кофе", "progress": "0/8", "reward": "Латте"}});
        assert_eq!(
            news("ru", &data).as_deref(),
            Some(
                "На вашу карту «Кофе» добавлен штамп: 0/8. Цель достигнута — ваша награда: Латте!"
            )
        );
    }
}
