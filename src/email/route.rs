//! Who email reaches: customers with an address; marketing only with their
//! email consent granted (explicit opt-in), card news only when the shop
//! turned it on.

use stampcard_core::consumers::Route;
use stampcard_core::model::{Card, Customer};
use stampcard_core::outbox::Purpose;

/// Reaches a customer at their email address.
pub struct EmailRoute {
    /// Whether card news (stamps, vouchers) goes by email too.
    pub card_news: bool,
}

impl Route for EmailRoute {
    fn channel(&self) -> &str {
        super::EMAIL_CHANNEL
    }

    fn recipient(&self, customer: &Customer, _card: &Card, purpose: Purpose) -> Option<String> {
        let address = customer.email.as_deref()?.trim();
        if address.is_empty() {
            return None;
        }
        let allowed = match purpose {
            Purpose::Marketing => customer.consent_email.as_ref().is_some_and(|c| c.granted),
            Purpose::Transactional => self.card_news,
        };
        allowed.then(|| address.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampcard_core::model::Consent;

    fn customer(email: Option<&str>, consent: Option<bool>) -> Customer {
        Customer {
            id: 7,
            name: "Ada".into(),
            email: email.map(str::to_string),
            consent_email: consent.map(|granted| Consent {
                granted,
                at: chrono::Utc::now(),
                source: "test".into(),
            }),
            ..Default::default()
        }
    }

    fn card() -> Card {
        serde_json::from_value(serde_json::json!({
            "id": 100001, "template_id": 1, "template_version": 1, "customer_id": 7, "counter": 0,
            "stamps": 0, "lifetime_stamps": 0, "rewards_pending": 0, "spins_available": 0,
            "spins_played": 0, "created_at": "2026-01-01T00:00:00Z", "last_stamp_at": null,
            "today": null, "stamps_today": 0, "platforms": [], "link_token": "x", "deleted": false
        }))
        .unwrap_or_else(|e| panic!("card: {e}"))
    }

    #[test]
    fn marketing_email_needs_an_explicit_opt_in() {
        let card = card();
        let r = EmailRoute { card_news: false };
        let m = Purpose::Marketing;
        assert_eq!(
            r.recipient(&customer(Some("ada@example.org"), Some(true)), &card, m),
            Some("ada@example.org".into())
        );
        assert_eq!(
            r.recipient(&customer(Some("ada@example.org"), None), &card, m),
            None
        );
        assert_eq!(
            r.recipient(&customer(Some("ada@example.org"), Some(false)), &card, m),
            None
        );
        assert_eq!(r.recipient(&customer(None, Some(true)), &card, m), None);
    }

    #[test]
    fn card_news_by_email_only_when_the_shop_turns_it_on() {
        let card = card();
        let c = customer(Some("ada@example.org"), None);
        let t = Purpose::Transactional;
        assert_eq!(
            EmailRoute { card_news: false }.recipient(&c, &card, t),
            None
        );
        assert_eq!(
            EmailRoute { card_news: true }.recipient(&c, &card, t),
            Some("ada@example.org".into())
        );
    }
}
