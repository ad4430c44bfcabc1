//! Joining from a messenger: a customer identified by their Telegram user
//! gets a card of a template in one step, or sees the one they have.

use super::{Customers, IssueCard};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Card, CustomerFields, EventKind, Platform};
use crate::store::{Key, Mutation, Record};

/// A Telegram user as the bot sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramUser {
    /// Their Telegram user id.
    pub id: i64,
    /// Their display name.
    pub name: String,
    /// Their language code (e.g. "en", "ru").
    pub language: Option<String>,
}

/// What joining did.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The customer's card of the template.
    pub card: Card,
    /// Whether it was issued just now.
    pub new: bool,
}

impl Customers {
    /// The Telegram user's card of a template, issuing one (and creating the
    /// customer) if they have none; `source` records where they joined.
    pub async fn join_telegram(
        &self,
        template_id: u64,
        user: &TelegramUser,
        source: Option<String>,
    ) -> CoreResult<Joined> {
        let template = self.template(template_id)?;
        if template.archived {
            return Err(CoreError::BadValue {
                key: "not_offered",
                value: template.name,
            });
        }
        let actor = Actor::channel("bot");
        // One join at a time per shop: two quick /start taps issue one card.
        let _guard = self.join_lock.lock(&**self.store()).await?;
        if let Some(customer) = self.customer_by_telegram(user.id)? {
            if let Some(card) = self
                .cards_of_customer(customer.id)?
                .into_iter()
                .find(|c| c.template_id == template_id && !c.deleted)
            {
                let card = self.in_telegram(card, &actor).await?;
                return Ok(Joined { card, new: false });
            }
            let card = self
                .cards
                .issue_card(
                    template_id,
                    IssueCard::Customer(customer.id),
                    source,
                    Some(Platform::Telegram),
                    &actor,
                )
                .await?;
            return Ok(Joined { card, new: true });
        }
        let name: String = user.name.trim().chars().take(64).collect();
        let fields = CustomerFields {
            name: if name.is_empty() {
                format!("Telegram user {}", user.id)
            } else {
                name
            },
            language: user.language.clone().filter(|l| l.len() <= 8),
            telegram_id: Some(user.id),
            ..Default::default()
        };
        let card = self
            .cards
            .issue_card(
                template_id,
                IssueCard::New(fields),
                source,
                Some(Platform::Telegram),
                &actor,
            )
            .await?;
        Ok(Joined { card, new: true })
    }

    /// Opens a card the customer has (from its web page's "Open in
    /// Telegram" link, which carries the card's link token) in their
    /// Telegram: the customer gets this Telegram account, the card the
    /// Telegram platform. A Telegram account that already belongs to
    /// another customer is refused (staff can merge the two).
    pub async fn join_telegram_with_card(
        &self,
        token: &str,
        user: &TelegramUser,
    ) -> CoreResult<Joined> {
        let card = self.card_by_token(token)?;
        if card.deleted {
            return Err(CoreError::not_found("card link", token));
        }
        let actor = Actor::channel("bot");
        let _guard = self.join_lock.lock(&**self.store()).await?;
        match self.customer_by_telegram(user.id)? {
            Some(c) if c.id == card.customer_id => {}
            Some(_) => {
                return Err(CoreError::BadValue {
                    key: "telegram_has_cards",
                    value: String::new(),
                });
            }
            None => {
                let _customers = self.lock.lock(&**self.store()).await?;
                let mut c = self.customer(card.customer_id)?;
                if c.telegram_id.is_some_and(|id| id != user.id) {
                    return Err(CoreError::BadValue {
                        key: "card_in_other_telegram",
                        value: String::new(),
                    });
                }
                c.telegram_id = Some(user.id);
                if c.language.is_none() {
                    c.language = user.language.clone().filter(|l| l.len() <= 8);
                }
                let mut m = Mutation::new();
                m.put(Key::Customer(c.id), Record::Customer(c.clone()));
                m.put(Key::CustomerByTelegram(user.id), Record::Index(c.id));
                m.event(super::customers::customer_event(
                    &c,
                    EventKind::CustomerUpdated {
                        field: "telegram".into(),
                    },
                    self.clock().now(),
                    &actor,
                ));
                self.store().commit(m).await?;
            }
        }
        let card = self.in_telegram(card, &actor).await?;
        Ok(Joined { card, new: false })
    }

    /// The card with the Telegram platform (added when it lacks it).
    async fn in_telegram(&self, card: Card, actor: &Actor) -> CoreResult<Card> {
        if card.platforms.contains(&Platform::Telegram) {
            return Ok(card);
        }
        Ok(self
            .cards
            .add_platform(card.id, Platform::Telegram, actor)
            .await?
            .card)
    }

    /// The template a receipt code adds stamps to (checks the code, not
    /// whether it was claimed).
    pub fn receipt_template(&self, code: &str) -> CoreResult<u64> {
        Ok(self.cards.resolve_receipt(code)?.template_id)
    }
}
