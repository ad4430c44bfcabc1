//! Stampcard core: the domain model, rules, codes, per-card actors, the
//! durable store seam and the journal. No network, UI or messenger code.

pub mod actors;
pub mod alerts;
pub mod clock;
pub mod codes;
pub mod consumers;
pub mod crash_point;
pub mod error;
pub mod i18n;
pub mod links;
pub mod listen;
pub mod markup;
pub mod model;
pub mod opening_hours;
pub mod outbox;
pub mod rotating;
pub mod rules;
pub mod settings;
pub mod shop;
pub mod store;
pub mod supervise;
pub mod texts;
pub mod views;

pub use error::{CoreError, CoreResult};
pub use shop::Shop;
