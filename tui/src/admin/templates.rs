//! The templates tab: every card template with its version, reward and
//! rules, and a preview of the card as customers see it.

use stampcard_core::model::Template;

use crate::app::Effect;
use crate::keys::Key;

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct TemplatesTab {
    /// Templates, by id.
    pub rows: Vec<Template>,
    /// The selected row.
    pub selected: usize,
    /// The create/edit form, when open.
    pub form: Option<super::template_form::TemplateForm>,
}

impl TemplatesTab {
    /// The effect that loads the templates.
    pub fn load(&self) -> Effect {
        Effect::LoadTemplates
    }

    /// Templates arrived.
    pub fn loaded(&mut self, mut rows: Vec<Template>) {
        rows.sort_by_key(|t| t.id);
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
            Key::Char('n') => self.form = Some(super::template_form::TemplateForm::new()),
            Key::Char('e') | Key::Enter => {
                self.form = self
                    .rows
                    .get(self.selected)
                    .map(super::template_form::TemplateForm::edit)
            }
            _ => {}
        }
        Vec::new()
    }
}
