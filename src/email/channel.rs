//! The `email` channel: sends outbox entries through one pooled lettre SMTP
//! transport. A 5xx answer (unknown mailbox, rejected sender) fails the
//! message for good; anything else (4xx, connection, timeout) is retried
//! with the outbox's backoff.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use stampcard_core::Shop;
use stampcard_core::outbox::{BoxFuture, Channel, OutboxEntry, RateLimits, SendError, SendOutcome};

use crate::config::{SmtpSection, SmtpSecurity};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends email over SMTP.
pub struct EmailChannel {
    shop: Shop,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    limits: RateLimits,
}

impl EmailChannel {
    /// The channel for an `[smtp]` section (already checked when loaded).
    pub fn new(shop: Shop, smtp: &SmtpSection, limits: RateLimits) -> anyhow::Result<Self> {
        let host = smtp.host.trim();
        let builder = match smtp.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(smtp.port()).timeout(Some(SMTP_TIMEOUT));
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.clone(),
                smtp.password.0.clone(),
            ));
        }
        Ok(Self {
            shop,
            from: smtp.from.trim().parse()?,
            transport: builder.build(),
            limits,
        })
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &str {
        super::EMAIL_CHANNEL
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            let email =
                super::compose(&self.shop, &self.from, entry).map_err(SendError::Permanent)?;
            match self.transport.send(email).await {
                Ok(response) => Ok(SendOutcome::Confirmed {
                    receipt: Some(format!(
                        "{} {}",
                        response.code(),
                        response.message().collect::<Vec<_>>().join(" ")
                    )),
                }),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(format!(
                    "the mail server refused it: {e}"
                ))),
                Err(e) => Err(SendError::Retry {
                    reason: format!("mail server: {e}"),
                    after: None,
                }),
            }
        })
    }
}
