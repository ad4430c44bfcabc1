//! What the console asks of the program it runs in: things that live in the
//! binary (backups of the data folder), not in the core.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// A boxed future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The program hosting the console.
pub trait Host: Send + Sync + 'static {
    /// The newest scheduled backup: when, and the file.
    fn last_backup(&self) -> Option<(DateTime<Utc>, String)>;

    /// Takes a backup now; returns the file, or why not.
    fn backup_now(&self) -> BoxFuture<Result<String, String>>;

    /// Saves a file made in the console (a printable) where the shop can
    /// fetch it; returns its path.
    fn save_export(&self, name: String, bytes: Vec<u8>) -> Result<String, String>;

    /// Exports a table (customers, cards, vouchers, journal) as CSV or JSON
    /// lines into the shop's exports folder, streamed; returns the file and
    /// the number of rows.
    fn export_table(&self, table: String, json: bool) -> BoxFuture<Result<(String, u64), String>>;

    /// The channels' setup for people, a few lines: Apple Wallet (off, or
    /// the pass certificate's expiry and any problem with it), email (off,
    /// or its server and how its deliveries went).
    fn channels_status(&self) -> String {
        "Apple Wallet passes: off\nEmail: off".into()
    }

    /// The channels messages and campaigns reach customers on (Telegram,
    /// email, wallet …, as this program has them set up).
    fn routes(&self) -> Vec<std::sync::Arc<dyn stampcard_core::consumers::Route>>;
}
