//! The customers & cards tab: a table paged from the store (it never loads
//! all cards), search by name, id, email or phone, and a details panel.

use stampcard_core::views::CardView;

use super::{Prompt, TextAction};
use crate::app::Effect;
use crate::keys::Key;

/// Rows per page.
pub const PAGE: usize = 100;

/// One row of the cards table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Card id.
    pub id: u64,
    /// Customer name.
    pub customer: String,
    /// Customer id.
    pub customer_id: u64,
    /// Progress, e.g. 2/8.
    pub progress: String,
    /// Platform icons.
    pub platforms: String,
}

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct Cards {
    /// Rows of the current page.
    pub rows: Vec<Row>,
    /// The selected row.
    pub selected: usize,
    /// Cards after this id (paging forward).
    pub after: Option<u64>,
    /// The search text.
    pub query: String,
    /// Typing a search.
    pub searching: bool,
    /// The selected card's details.
    pub details: Option<Box<CardView>>,
}

impl Cards {
    /// The effect that loads the rows.
    pub fn load(&self) -> Effect {
        Effect::LoadCards {
            after: self.after,
            query: self.query.trim().to_string(),
        }
    }

    /// New rows arrived.
    pub fn loaded(&mut self, rows: Vec<Row>) -> Vec<Effect> {
        self.rows = rows;
        self.selected = 0;
        self.details_effect()
    }

    fn details_effect(&self) -> Vec<Effect> {
        self.rows
            .get(self.selected)
            .map(|r| vec![Effect::CardDetails(r.id)])
            .unwrap_or_default()
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key, prompt: &mut Option<Prompt>) -> Vec<Effect> {
        if self.searching {
            match key {
                Key::Char(c) if self.query.chars().count() < 64 => self.query.push(c),
                Key::Backspace => {
                    self.query.pop();
                }
                Key::Enter => {
                    self.searching = false;
                    self.after = None;
                    return vec![self.load()];
                }
                Key::Esc => {
                    self.searching = false;
                    self.query.clear();
                    self.after = None;
                    return vec![self.load()];
                }
                _ => {}
            }
            return Vec::new();
        }
        match key {
            Key::Char('/') => self.searching = true,
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
                return self.details_effect();
            }
            Key::Up | Key::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                return self.details_effect();
            }
            Key::PageDown | Key::Char('n') if self.query.is_empty() => {
                if let Some(last) = self.rows.last() {
                    self.after = Some(last.id);
                    return vec![self.load()];
                }
            }
            Key::Home | Key::Char('g') => {
                self.after = None;
                return vec![self.load()];
            }
            Key::Char('m') => {
                if let Some(r) = self.rows.get(self.selected) {
                    *prompt = Some(Prompt::Text {
                        title: format!("Message to {} (card {})", r.customer, r.id),
                        text: String::new(),
                        then: TextAction::Message(r.id),
                    });
                }
            }
            Key::Char('M') => {
                if let Some(r) = self.rows.get(self.selected) {
                    *prompt = Some(Prompt::Text {
                        title: format!(
                            "Merge {} (customer {}) into which customer? Their id, a card id, name or phone",
                            r.customer, r.customer_id
                        ),
                        text: String::new(),
                        then: TextAction::MergeInto(r.customer_id),
                    });
                }
            }
            Key::Enter | Key::Char('h') | Key::Char('c') | Key::Char('R') | Key::Char('X') => {
                let Some(card) = self.rows.get(self.selected).map(|r| r.id) else {
                    return Vec::new();
                };
                match key {
                    Key::Enter => return vec![Effect::ShowCard(card)],
                    Key::Char('h') => return vec![Effect::CardHistory(card)],
                    Key::Char('c') => {
                        *prompt = Some(Prompt::Text {
                            title: format!("Coupon for card {card}: what it gives"),
                            text: String::new(),
                            then: TextAction::Coupon(card),
                        })
                    }
                    Key::Char('R') => {
                        *prompt = Some(Prompt::Confirm {
                            question: format!(
                                "Reissue card {card}? Its printed code and links stop working. y/n"
                            ),
                            then: Effect::Reissue(card),
                        })
                    }
                    _ => {
                        *prompt = Some(Prompt::Confirm {
                            question: format!(
                                "Delete card {card}? Its vouchers are voided; this cannot be undone. y/n"
                            ),
                            then: Effect::DeleteCard(card),
                        })
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
