//! Links handed to customers: a per-card link token and a URL builder over
//! the shop's public URL, so the bot, the console and the wallet hand out the
//! same links without depending on each other.
//!
//! A card's token is `<card id>-<its random 128-bit link token>`; reissuing
//! a card replaces the random part, so its old links stop working too.

use crate::model::Card;

const TOKEN_HEX: usize = 32;

/// Builds and checks customer links.
#[derive(Debug, Clone)]
pub struct Links {
    public_url: String,
}

impl Links {
    /// Links over a public base URL (e.g. `https://cards.example.com`).
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The public base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.public_url
    }

    /// The link token of a card.
    pub fn card_token(&self, card: &Card) -> String {
        format!("{}-{}", card.id, card.link_token)
    }

    /// The card id a token names, before it is checked against the card.
    pub fn token_card_id(token: &str) -> Option<u64> {
        let (id, mac) = token.split_once('-')?;
        if mac.len() != TOKEN_HEX || !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        id.parse().ok()
    }

    /// Whether a token is the current one of this card (constant time).
    pub fn verify_card_token(&self, card: &Card, token: &str) -> bool {
        let expected = self.card_token(card);
        expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The card's web page.
    pub fn card_url(&self, card: &Card) -> String {
        format!("{}/c/{}", self.public_url, self.card_token(card))
    }

    /// The card's Apple Wallet pass.
    pub fn pass_url(&self, card: &Card) -> String {
        format!(
            "{}/c/{}/pass.pkpass",
            self.public_url,
            self.card_token(card)
        )
    }

    /// The web join page of a template.
    pub fn join_url(&self, template_id: u64) -> String {
        format!("{}/j/{template_id}", self.public_url)
    }

    /// The web claim page of a receipt code.
    pub fn claim_url(&self, code: &str) -> String {
        format!("{}/r/{code}", self.public_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Card;

    fn card() -> Card {
        let template: crate::model::Template = serde_json::from_value(serde_json::json!({
            "id": 1, "version": 1, "name": "Coffee", "business_name": "Shop",
            "stamps_required": 8, "reward": {"kind": "simple", "description": "A coffee"},
            "created_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap_or_else(|e| panic!("template fixture: {e}"));
        Card::new(100_001, &template, 1, chrono::Utc::now(), None, None)
    }

    #[test]
    fn tokens_name_the_card_and_change_on_reissue() {
        let links = Links::new("https://cards.example/");
        let mut card = card();
        let token = links.card_token(&card);
        assert_eq!(Links::token_card_id(&token), Some(100_001));
        assert!(links.verify_card_token(&card, &token));
        assert!(
            links
                .card_url(&card)
                .starts_with("https://cards.example/c/100001-")
        );
        assert_eq!(links.join_url(3), "https://cards.example/j/3");
        card.link_token = Card::new_link_token();
        assert!(!links.verify_card_token(&card, &token));
        assert_eq!(Links::token_card_id("100001-xyz"), None);
        assert_eq!(Links::token_card_id("nonsense"), None);
    }
}
