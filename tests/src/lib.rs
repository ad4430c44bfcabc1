//! Shared helpers for end-to-end tests and benchmarks.

pub mod fake_google;
pub mod fake_telegram;
pub mod group_commit;
pub mod http_load;
pub mod latin;
pub mod pkpass;
pub mod postgres;
pub mod printed;
pub mod smtp_server;
pub mod ssh_client;
pub mod test_pki;
pub mod tools;
pub mod wait;
pub mod webhook_receiver;
