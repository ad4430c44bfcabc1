//! Email: the `email` delivery channel (lettre over SMTP, from `[smtp]`),
//! the route that decides who it reaches, and the composition of one email
//! (plain and HTML parts, the unsubscribe link and header).

mod channel;
mod compose;
mod route;

pub use channel::EmailChannel;
pub use compose::compose;
pub use route::EmailRoute;

/// The channel's name in outbox entries and campaign channel lists.
pub const EMAIL_CHANNEL: &str = "email";
