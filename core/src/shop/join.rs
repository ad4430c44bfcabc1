//! Joining from a messenger: a customer identified by their Telegram user
//! gets a card of a template in one step, or sees the one they have.

use super::{IssueCard, Shop};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Card, CustomerFields, Platform};

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

impl Shop {
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
            return Err(CoreError::Invalid(format!(
                "the card \"{}\" is no longer offered",
                template.name
            )));
        }
        let actor = Actor::channel("bot");
        // One join at a time per shop: two quick /start taps issue one card.
        let _guard = self.join_lock.lock().await;
        if let Some(customer) = self.customer_by_telegram(user.id)? {
            if let Some(card) = self
                .cards_of_customer(customer.id)?
                .into_iter()
                .find(|c| c.template_id == template_id && !c.deleted)
            {
                let card = if card.platforms.contains(&Platform::Telegram) {
                    card
                } else {
                    self.add_platform(card.id, Platform::Telegram, &actor)
                        .await?
                        .card
                };
                return Ok(Joined { card, new: false });
            }
            let card = self
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

    /// The template a receipt code adds stamps to (checks the code, not
    /// whether it was claimed).
    pub fn receipt_template(&self, code: &str) -> CoreResult<u64> {
        Ok(self.resolve_receipt(code)?.template_id)
    }
}
