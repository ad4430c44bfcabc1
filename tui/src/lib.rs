//! Stampcard's console: the counter scanner, autopilot and (as their issues
//! land) the kiosk and admin screens. One ratatui app, the same on a local
//! terminal, inside an SSH channel and behind the admin socket.
//!
//! - `keys`: raw bytes → keys (VT100/xterm, scanner bursts, resize reports).
//! - `app`: state, messages, `update` → effects (no drawing, no awaiting).
//! - `effects`: effects run against the core's `Shop`.
//! - `view/`: drawing, a pure function of the state (lock, scanner,
//!   autopilot, the card panel, help).
//! - `session`: the loop over a byte stream.
//! - `local`: the local terminal (raw mode).
//! - `ssh`: the console over SSH (russh), keys mapped to staff.

pub mod admin;
pub mod app;
pub mod campaign_effects;
pub mod effects;
pub mod host;
pub mod keys;
pub mod local;
pub mod print;
pub mod qr;
pub mod session;
pub mod ssh;
pub mod view;

pub use session::run;
