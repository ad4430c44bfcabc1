//! The alerts tab: the fraud alerts raised, newest first, with their
//! evidence; `a` (or Enter) acknowledges the selected one, which leaves
//! the badge's count (admins only, like every admin tab).

use stampcard_core::shop::AlertView;

use crate::app::Effect;
use crate::keys::Key;

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct AlertsTab {
    /// The alerts, newest first.
    pub rows: Vec<AlertView>,
    /// The selected row.
    pub selected: usize,
}

impl AlertsTab {
    /// The effect that loads the alerts.
    pub fn load(&self) -> Effect {
        Effect::LoadAlerts
    }

    /// Alerts arrived.
    pub fn loaded(&mut self, rows: Vec<AlertView>) {
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1))
            }
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Char('a') | Key::Enter => {
                if let Some(a) = self
                    .rows
                    .get(self.selected)
                    .filter(|a| a.acknowledged.is_none())
                {
                    return vec![Effect::AckAlert(a.alert.id)];
                }
            }
            Key::Char('r') => return vec![self.load()],
            _ => {}
        }
        Vec::new()
    }
}
