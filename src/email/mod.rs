//! Email: the `email` delivery channel (lettre over SMTP, from `[smtp]`),
//! the route that decides who it reaches, and the composition of one email
//! (plain and HTML parts, the unsubscribe link and header).

mod channel;
mod compose;
mod route;
mod status;

pub use channel::EmailChannel;
pub use compose::compose;
pub use route::EmailRoute;
pub use status::status_line;

/// The channel's name in outbox entries and campaign channel lists.
pub const EMAIL_CHANNEL: &str = "email";

/// Most emails per second unless `[smtp] per_second` says otherwise.
pub const PER_SECOND: f64 = 5.0;
