//! Email unsubscribe links: `<public_url>/u/<customer id>-<mac>`, signed
//! with the shop secret so a link names exactly one customer and cannot be
//! guessed for another. Following one withdraws that customer's email
//! consent (marketing email stops; nothing else changes).

use super::Customers;
use crate::codes::{constant_time_eq, mac_digits};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Customer};

/// Decimal digits of an unsubscribe link's MAC.
const UNSUBSCRIBE_MAC_DIGITS: usize = 16;

impl Customers {
    fn unsubscribe_mac(&self, customer_id: u64) -> String {
        let message = format!("stampcard-unsubscribe-v1|{customer_id}");
        mac_digits(
            &self.settings().secret,
            message.as_bytes(),
            UNSUBSCRIBE_MAC_DIGITS,
        )
    }

    /// A customer's unsubscribe token.
    pub fn unsubscribe_token(&self, customer_id: u64) -> String {
        format!("{customer_id}-{}", self.unsubscribe_mac(customer_id))
    }

    /// A customer's unsubscribe link (for emails and their List-Unsubscribe header).
    pub fn unsubscribe_url(&self, customer_id: u64) -> String {
        format!(
            "{}/u/{}",
            self.links().base(),
            self.unsubscribe_token(customer_id)
        )
    }

    /// The customer an unsubscribe token names, when it is genuine.
    pub fn unsubscribe_customer(&self, token: &str) -> CoreResult<Customer> {
        let invalid = || CoreError::Invalid("this unsubscribe link is not valid".into());
        let (id, mac) = token.split_once('-').ok_or_else(invalid)?;
        let id: u64 = id.parse().map_err(|_| invalid())?;
        if !constant_time_eq(mac.as_bytes(), self.unsubscribe_mac(id).as_bytes()) {
            return Err(invalid());
        }
        let customer = self.customer(id).map_err(|_| invalid())?;
        if customer.forgotten {
            return Err(invalid());
        }
        Ok(customer)
    }

    /// Withdraws the email consent of the customer a token names.
    pub async fn unsubscribe_email(&self, token: &str) -> CoreResult<Customer> {
        let customer = self.unsubscribe_customer(token)?;
        self.set_consent(
            customer.id,
            "email",
            false,
            "unsubscribe link",
            &Actor::channel("email"),
        )
        .await
    }
}
