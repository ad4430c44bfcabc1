//! Fraud alerts: the rules (`rules.rs`), the alerts as stored (`book.rs`);
//! the consumer that raises them is `crate::consumers::AlertWatch`, the
//! service that lists and acknowledges them `crate::shop::Alerts`.

pub mod book;
mod rules;

pub use book::{Acks, Alert};
pub use rules::{Finding, Rule, Rules};
