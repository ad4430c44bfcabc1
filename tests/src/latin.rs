//! Finds English left in a text meant for a Russian reader: every word of
//! two or more Latin letters that is not in an allowlist (brand and product
//! names, codes) and not inside a URL or an email address.

/// The Latin words of `text` outside `allowed` (compared case-blind).
pub fn stray_words(text: &str, allowed: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        if token.contains("://") || token.contains('@') || token.starts_with("www.") {
            continue;
        }
        for word in token.split(|c: char| !c.is_ascii_alphabetic()) {
            if word.len() >= 2 && !allowed.iter().any(|a| a.eq_ignore_ascii_case(word)) {
                out.push(word.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn english_is_found_and_names_urls_and_codes_are_not() {
        let text = "Ваш купон: Latte — код 2000, https://shop.test/c/1 ada@example.org valid until";
        assert_eq!(super::stray_words(text, &["Latte"]), vec!["valid", "until"]);
        assert!(super::stray_words("Откройте в Telegram", &["Telegram"]).is_empty());
    }
}
