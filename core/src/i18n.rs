//! Text catalogs for what customers read, one TOML table of `key = "text"`
//! per language, shipped in each front-end's binary (the bot's messages,
//! the web pages and passes). A customer's language comes from their
//! profile, else from their app or browser; unknown languages and missing
//! keys fall back to English, and an unknown key shows as itself.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The fallback language, which every catalog set has.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Catalogs by language, from TOML sources.
pub struct Catalogs {
    tables: Vec<(&'static str, HashMap<String, String>)>,
}

/// A catalog that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("the {language} text catalog: {reason}")]
pub struct CatalogError {
    /// The catalog's language.
    pub language: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl Catalogs {
    /// Parses `(language, TOML)` sources; English must be among them.
    pub fn parse(sources: &[(&'static str, &str)]) -> Result<Catalogs, CatalogError> {
        let mut tables = Vec::new();
        for (language, text) in sources {
            let table: HashMap<String, String> =
                toml::from_str(text).map_err(|e| CatalogError {
                    language,
                    reason: e.to_string(),
                })?;
            tables.push((*language, table));
        }
        if !tables.iter().any(|(l, _)| *l == DEFAULT_LANGUAGE) {
            return Err(CatalogError {
                language: DEFAULT_LANGUAGE,
                reason: "missing".into(),
            });
        }
        Ok(Catalogs { tables })
    }

    /// Parses catalogs that ship in the binary (a test proves they parse);
    /// a broken one leaves every text showing its key.
    pub fn builtin(sources: &[(&'static str, &str)]) -> Catalogs {
        Catalogs::parse(sources).unwrap_or_else(|e| {
            tracing::error!("{e}");
            Catalogs {
                tables: vec![(DEFAULT_LANGUAGE, HashMap::new())],
            }
        })
    }

    /// The catalog language for a language code ("ru-RU" → "ru"), English
    /// when there is none.
    pub fn language(&self, code: Option<&str>) -> &'static str {
        self.first_supported(code).unwrap_or(DEFAULT_LANGUAGE)
    }

    /// The first of several language codes that has a catalog: a stored
    /// profile language, then a browser's preferences.
    pub fn first_language<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> &'static str {
        codes
            .into_iter()
            .find_map(|c| self.first_supported(Some(c)))
            .unwrap_or(DEFAULT_LANGUAGE)
    }

    fn first_supported(&self, code: Option<&str>) -> Option<&'static str> {
        let base = code?.trim().split(['-', '_']).next()?.to_lowercase();
        self.tables.iter().map(|(l, _)| *l).find(|l| *l == base)
    }

    /// A text by key, with `{name}` placeholders filled.
    pub fn t(&self, lang: &str, key: &str, args: &[(&str, &str)]) -> String {
        let table = |l: &str| self.tables.iter().find(|(x, _)| *x == l).map(|(_, t)| t);
        let template = table(lang)
            .and_then(|t| t.get(key))
            .or_else(|| table(DEFAULT_LANGUAGE).and_then(|t| t.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        let mut s = template.to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Languages whose keys differ from English's: each with the keys it
    /// lacks and the keys it has that English does not (a test of every
    /// front-end's catalogs).
    pub fn mismatches(&self) -> Vec<(&'static str, Vec<String>)> {
        let keys = |t: &HashMap<String, String>| {
            let mut k: Vec<String> = t.keys().cloned().collect();
            k.sort();
            k
        };
        let Some((_, en)) = self.tables.iter().find(|(l, _)| *l == DEFAULT_LANGUAGE) else {
            return Vec::new();
        };
        let en = keys(en);
        self.tables
            .iter()
            .filter_map(|(l, t)| {
                let mine = keys(t);
                let diff: Vec<String> = en
                    .iter()
                    .filter(|k| !mine.contains(k))
                    .chain(mine.iter().filter(|k| !en.contains(k)))
                    .cloned()
                    .collect();
                (!diff.is_empty()).then_some((*l, diff))
            })
            .collect()
    }

    /// Every key of a language with its text, sorted by key (to check
    /// the texts themselves).
    pub fn entries(&self, lang: &str) -> Vec<(&str, &str)> {
        let mut all: Vec<(&str, &str)> = self
            .tables
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, t)| t.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
            .unwrap_or_default();
        all.sort();
        all
    }

    /// How many texts a language has.
    pub fn len(&self, lang: &str) -> usize {
        self.tables
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or(0, |(_, t)| t.len())
    }
}

/// Catalogs shipped in a binary, parsed on first use: a front-end keeps one
/// in a `static`.
pub struct BuiltinCatalogs {
    sources: &'static [(&'static str, &'static str)],
    parsed: OnceLock<Catalogs>,
}

impl BuiltinCatalogs {
    /// Over `(language, TOML)` sources, usually `include_str!`ed.
    pub const fn new(sources: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            sources,
            parsed: OnceLock::new(),
        }
    }

    /// The parsed catalogs.
    pub fn get(&self) -> &Catalogs {
        self.parsed.get_or_init(|| Catalogs::builtin(self.sources))
    }

    /// The sources, for a test that they parse and agree.
    pub fn sources(&self) -> &'static [(&'static str, &'static str)] {
        self.sources
    }
}

/// The languages of an HTTP `Accept-Language` header, most wanted first
/// (`q=0` ones left out).
pub fn accept_language(header: &str) -> Vec<&str> {
    let mut ranked: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: &str = "hello = \"Hello, {name}!\"\nbye = \"Bye\"";
    const RU: &str = "hello = \"Привет, {name}!\"";

    #[test]
    fn languages_fallbacks_and_placeholders() {
        let c = Catalogs::parse(&[("en", EN), ("ru", RU)]).expect("parse");
        assert_eq!(c.language(Some("ru-RU")), "ru");
        assert_eq!(c.language(Some("de")), "en");
        assert_eq!(c.language(None), "en");
        assert_eq!(c.first_language(["de", "ru", "en"]), "ru");
        assert_eq!(c.t("ru", "hello", &[("name", "Мира")]), "Привет, Мира!");
        assert_eq!(c.t("ru", "bye", &[]), "Bye");
        assert_eq!(c.t("de", "nothing", &[]), "nothing");
        assert_eq!(c.mismatches(), vec![("ru", vec!["bye".to_string()])]);
    }

    #[test]
    fn broken_or_incomplete_catalogs_are_refused() {
        let e = Catalogs::parse(&[("en", "hello = ")])
            .err()
            .expect("bad TOML");
        assert_eq!(e.language, "en");
        assert!(
            Catalogs::parse(&[("ru", RU)]).is_err(),
            "English is required"
        );
    }

    #[test]
    fn accept_language_orders_by_quality() {
        assert_eq!(
            accept_language("de;q=0.5, ru-RU, en;q=0.8, fr;q=0, *;q=0.1"),
            vec!["ru-RU", "en", "de"]
        );
        assert_eq!(accept_language(""), Vec::<&str>::new());
        assert_eq!(accept_language("xx;q=abc, ru"), vec!["ru"]);
    }
}
