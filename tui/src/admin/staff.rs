//! The staff tab: accounts with role, state and SSH keys; enable or disable
//! the selected one (disabling ends their live sessions at once).

use stampcard_core::model::Staff;

use crate::app::Effect;
use crate::keys::Key;

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct StaffTab {
    /// Accounts.
    pub rows: Vec<Staff>,
    /// The selected row.
    pub selected: usize,
    /// Waiting for a y/n on enabling (true) or disabling (false) this account.
    pub confirm: Option<(u64, bool)>,
}

impl StaffTab {
    /// The effect that loads the accounts.
    pub fn load(&self) -> Effect {
        Effect::LoadStaff
    }

    /// Accounts arrived.
    pub fn loaded(&mut self, rows: Vec<Staff>) {
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key, prompt: &mut Option<super::Prompt>) -> Vec<Effect> {
        use super::{Prompt, TextAction};
        match key {
            Key::Char('a') | Key::Char('A') => {
                let admin = key == Key::Char('A');
                *prompt = Some(Prompt::Text {
                    title: format!(
                        "New {}: name and PIN (4–8 digits), e.g. \"Mia 4821\"",
                        if admin { "admin" } else { "staff member" }
                    ),
                    text: String::new(),
                    then: TextAction::AddStaff { admin },
                });
                return Vec::new();
            }
            Key::Char('K') => {
                if let Some(s) = self.rows.get(self.selected) {
                    *prompt = Some(Prompt::Text {
                        title: format!("SSH public key for {} (one line of a .pub file)", s.name),
                        text: String::new(),
                        then: TextAction::SshKey(s.id),
                    });
                }
                return Vec::new();
            }
            _ => {}
        }
        if let Some((id, enabled)) = self.confirm {
            self.confirm = None;
            if key == Key::Char('y') {
                return vec![Effect::SetStaffEnabled { id, enabled }];
            }
            return Vec::new();
        }
        match key {
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1))
            }
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Char('d') | Key::Char('e') => {
                if let Some(s) = self.rows.get(self.selected) {
                    let enable = key == Key::Char('e');
                    if s.enabled != enable {
                        self.confirm = Some((s.id, enable));
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
