//! What the web pages and passes say, from the catalogs in
//! `wallet/locales/` (English and Russian). A page speaks the customer's
//! profile language when it knows the customer, else the browser's
//! preference (`Accept-Language`), else English.

use axum::http::{HeaderMap, header};
use stampcard_core::i18n::{BuiltinCatalogs, Catalogs, accept_language};

static CATALOGS: BuiltinCatalogs = BuiltinCatalogs::new(&[
    ("en", include_str!("../locales/en.toml")),
    ("ru", include_str!("../locales/ru.toml")),
]);

/// The web pages' and passes' catalogs.
pub fn catalogs() -> &'static Catalogs {
    CATALOGS.get()
}

/// The texts of one language.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    lang: &'static str,
}

fn browser(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(accept_language)
        .unwrap_or_default()
}

impl Texts {
    /// A customer's texts: their profile language, else their browser's.
    pub fn for_customer(profile: Option<&str>, headers: &HeaderMap) -> Texts {
        let lang = catalogs().first_language(profile.into_iter().chain(browser(headers)));
        Texts { lang }
    }

    /// The texts a browser asks for (no customer known yet).
    pub fn for_browser(headers: &HeaderMap) -> Texts {
        Texts::for_customer(None, headers)
    }

    /// The texts of a profile language (a pass: no browser involved).
    pub fn of(language: Option<&str>) -> Texts {
        Texts {
            lang: catalogs().language(language),
        }
    }

    /// The language code, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// A text.
    pub fn t(&self, key: &str) -> String {
        catalogs().t(self.lang, key, &[])
    }

    /// A text with `{name}` placeholders filled.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        catalogs().t(self.lang, key, args)
    }
}

/// The language a browser prefers most, to keep with a customer who joins
/// from it (a short language code, or none).
pub fn browser_language(headers: &HeaderMap) -> Option<String> {
    let first = browser(headers).into_iter().next()?;
    let base = first.split(['-', '_']).next()?.to_ascii_lowercase();
    (!base.is_empty() && base.len() <= 8 && base.bytes().all(|b| b.is_ascii_alphabetic()))
        .then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, accept.parse().expect("header"));
        h
    }

    #[test]
    fn catalogs_parse_and_have_the_same_keys() {
        let all = Catalogs::parse(CATALOGS.sources()).expect("the catalogs parse");
        assert!(all.len("en") > 60);
        assert_eq!(all.mismatches(), vec![], "every text in every language");
    }

    #[test]
    fn the_profile_wins_over_the_browser() {
        let ru = headers("ru-RU,ru;q=0.9,en;q=0.5");
        assert_eq!(Texts::for_browser(&ru).lang(), "ru");
        assert_eq!(Texts::for_customer(Some("en"), &ru).lang(), "en");
        // A profile language without a catalog gives way to the browser.
        assert_eq!(Texts::for_customer(Some("de"), &ru).lang(), "ru");
        assert_eq!(Texts::for_browser(&HeaderMap::new()).lang(), "en");
        assert_eq!(Texts::of(Some("ru")).t("pass.stamps"), "Штампы");
        assert_eq!(
            Texts::of(Some("ru")).f("card.number", &[("card", "100001")]),
            "Карта 100001"
        );
        assert_eq!(browser_language(&ru).as_deref(), Some("ru"));
        assert_eq!(browser_language(&headers("*")), None);
        assert_eq!(browser_language(&HeaderMap::new()), None);
    }
}
