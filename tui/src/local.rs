//! The local terminal: raw mode while the console runs, and its size.

use ratatui::crossterm::terminal;

/// Keeps the terminal in raw mode until dropped.
pub struct RawMode;

impl RawMode {
    /// Puts the terminal into raw mode.
    pub fn enable() -> std::io::Result<Self> {
        terminal::enable_raw_mode()?;
        Ok(Self)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// The terminal's columns and rows (80×24 when unknown).
pub fn size() -> (u16, u16) {
    terminal::size().unwrap_or((80, 24))
}
