//! What the shop tells a customer on any channel — card news, campaign
//! voucher lines, the frame of an email, why a value they gave was refused —
//! from the catalogs in `core/locales/` (English and Russian; an unknown
//! language or a missing key falls back to English). Front-ends keep their
//! own catalogs for their own screens.

use crate::i18n::{BuiltinCatalogs, Catalogs};

static CATALOGS: BuiltinCatalogs = BuiltinCatalogs::new(&[
    ("en", include_str!("../locales/en.toml")),
    ("ru", include_str!("../locales/ru.toml")),
]);

/// The catalogs.
pub fn catalogs() -> &'static Catalogs {
    CATALOGS.get()
}

/// A text by key in a customer's language (a code such as `ru` or `ru-RU`;
/// none: English), with `{name}` placeholders filled.
pub fn t(lang: Option<&str>, key: &str, args: &[(&str, &str)]) -> String {
    let c = catalogs();
    c.t(c.language(lang), key, args)
}

/// Card news from the notifier's keys and parameters (`news.<key>` each,
/// joined with a space).
pub fn news(lang: Option<&str>, keys: &[&str], params: &serde_json::Value) -> String {
    let owned: Vec<(String, String)> = params
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let args: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    keys.iter()
        .map(|k| t(lang, &format!("news.{k}"), &args))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a value was refused (`bad.<key>`), in a customer's language.
pub fn bad_value(lang: Option<&str>, key: &str, value: &str) -> String {
    t(
        lang,
        &format!("bad.{key}"),
        &[("value", value), ("max", value)],
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_language_has_every_key() {
        assert!(
            super::catalogs().mismatches().is_empty(),
            "{:?}",
            super::catalogs().mismatches()
        );
    }
}
