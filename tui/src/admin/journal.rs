//! The journal tab: every event, newest first, updating live; filter by
//! type; open the customer view of a row; reverse an event with a reason.

use chrono::{DateTime, Utc};
use stampcard_core::model::EventKind;

use super::Prompt;
use crate::app::Effect;
use crate::keys::Key;

/// Rows per page.
pub const PAGE: usize = 200;

/// One journal row, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Event id.
    pub id: u64,
    /// Event type.
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The code involved.
    pub code: String,
    /// Stamps at that moment, e.g. 2/8.
    pub stamps: String,
    /// The reward.
    pub reward: String,
    /// Template id.
    pub template: String,
    /// Customer name.
    pub customer: String,
    /// Who did it.
    pub who: String,
    /// The card.
    pub card: Option<u64>,
}

/// Which journal events to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Event type.
    pub kind: Option<String>,
    /// Template id.
    pub template: Option<u64>,
    /// Who caused it (part of the name).
    pub who: Option<String>,
    /// Shop-local day.
    pub day: Option<chrono::NaiveDate>,
    /// A customer's name (a part of it).
    pub customer: Option<String>,
    /// One card (by id or its scanned code).
    pub card: Option<u64>,
}

impl Filter {
    /// Parses `who:NAME tpl:ID day:YYYY-MM-DD type:TYPE` (any order, any
    /// subset); the other words find a customer: a card id, a scanned card
    /// code, or (a part of) their name. Empty text clears the filter.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        let mut name: Vec<&str> = Vec::new();
        for word in text.split_whitespace() {
            if word.chars().all(|c| c.is_ascii_digit()) {
                // A card code is `1` · the card id (9 digits) · …
                let id = if word.len() == 19 && word.starts_with('1') {
                    word[1..10].parse().ok()
                } else {
                    word.parse().ok()
                };
                f.card = Some(id.ok_or_else(|| format!("{word} is not a card id or code"))?);
                continue;
            }
            match word.split_once(':') {
                Some(("who", v)) => f.who = Some(v.to_string()),
                Some(("tpl" | "template", v)) => {
                    f.template = Some(
                        v.parse()
                            .map_err(|_| format!("tpl:{v} is not a template id"))?,
                    )
                }
                Some(("day", v)) => {
                    f.day = Some(
                        v.parse()
                            .map_err(|_| format!("day:{v} is not a date like 2026-05-04"))?,
                    )
                }
                Some(("type", v)) => {
                    if !EventKind::NAMES.contains(&v) {
                        return Err(format!("type:{v} is not an event type"));
                    }
                    f.kind = Some(v.to_string())
                }
                Some((k, _)) => {
                    return Err(format!("unknown filter {k}: (who:, tpl:, day:, type:)"));
                }
                None => name.push(word),
            }
        }
        if !name.is_empty() {
            f.customer = Some(name.join(" "));
        }
        Ok(f)
    }

    /// A short description for the title.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = &self.kind {
            parts.push(format!("type:{k}"));
        }
        if let Some(w) = &self.who {
            parts.push(format!("who:{w}"));
        }
        if let Some(t) = self.template {
            parts.push(format!("tpl:{t}"));
        }
        if let Some(c) = self.card {
            parts.push(c.to_string());
        }
        if let Some(c) = &self.customer {
            parts.push(c.clone());
        }
        if let Some(d) = self.day {
            parts.push(format!("day:{d}"));
        }
        parts.join(" ")
    }
}

/// The journal tab's state.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    /// Rows shown, newest first.
    pub rows: Vec<Row>,
    /// The selected row.
    pub selected: usize,
    /// Only events of this type (`t` cycles through them).
    pub kind: Option<&'static str>,
    /// Further filters typed after `/` (who, template, day).
    pub typed: Filter,
    /// Showing older events than this id (`None`: the newest, live).
    pub before: Option<u64>,
    /// A load is under way.
    pub loading: bool,
    /// Events arrived during the load: load again after it.
    pub dirty: bool,
}

impl Journal {
    /// The effect that loads the rows.
    pub fn load(&self) -> Effect {
        Effect::LoadJournal {
            before: self.before,
            filter: self.filter(),
        }
    }

    /// The filter in force (the cycled type wins over a typed one).
    pub fn filter(&self) -> Filter {
        let mut f = self.typed.clone();
        if let Some(k) = self.kind {
            f.kind = Some(k.to_string());
        }
        f
    }

    /// Applies a typed filter and reloads.
    pub fn set_filter(&mut self, text: &str) -> Result<Vec<Effect>, String> {
        self.typed = Filter::parse(text)?;
        self.kind = None;
        self.before = None;
        self.selected = 0;
        Ok(vec![self.load()])
    }

    /// Whether new events should reload it (it shows the newest).
    pub fn live(&self) -> bool {
        self.before.is_none()
    }

    /// New events were committed: reload when live, at most one load at a
    /// time (a busy counter commits hundreds of times a second).
    pub fn changed(&mut self) -> Vec<Effect> {
        if !self.live() {
            return Vec::new();
        }
        if self.loading {
            self.dirty = true;
            return Vec::new();
        }
        self.loading = true;
        // Only what is newer than the top row: a few events, not a page.
        match self.rows.first() {
            Some(top) => vec![Effect::LoadJournalNewer {
                after: top.id,
                filter: self.filter(),
            }],
            None => vec![self.load()],
        }
    }

    /// Newer rows arrived (oldest first): put them on top.
    pub fn prepend(&mut self, newer: Vec<Row>) -> Vec<Effect> {
        let added = newer.len();
        let mut rows: Vec<Row> = newer.into_iter().rev().collect();
        rows.append(&mut self.rows);
        rows.truncate(PAGE);
        let selected = if self.selected == 0 {
            0
        } else {
            self.selected + added
        };
        self.rows = rows;
        self.selected = selected.min(self.rows.len().saturating_sub(1));
        self.loading = false;
        if std::mem::take(&mut self.dirty) {
            self.changed()
        } else {
            Vec::new()
        }
    }

    /// New rows arrived; returns a reload if events came in meanwhile.
    pub fn loaded(&mut self, rows: Vec<Row>) -> Vec<Effect> {
        self.loading = false;
        let again = std::mem::take(&mut self.dirty);
        let keep = self.rows.get(self.selected).map(|r| r.id);
        self.rows = rows;
        self.selected = keep
            .and_then(|id| self.rows.iter().position(|r| r.id == id))
            .unwrap_or(0);
        if again { self.changed() } else { Vec::new() }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key, prompt: &mut Option<Prompt>) -> Vec<Effect> {
        match key {
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1))
            }
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Home | Key::Char('g') => {
                self.before = None;
                self.selected = 0;
                return vec![self.load()];
            }
            Key::PageDown | Key::Char('n') => {
                if let Some(last) = self.rows.last() {
                    self.before = Some(last.id);
                    self.selected = 0;
                    return vec![self.load()];
                }
            }
            Key::Char('t') => {
                let names = EventKind::NAMES;
                self.kind = match self.kind {
                    None => names.first().copied(),
                    Some(k) => names
                        .iter()
                        .position(|n| *n == k)
                        .and_then(|i| names.get(i + 1))
                        .copied(),
                };
                self.before = None;
                self.selected = 0;
                return vec![self.load()];
            }
            Key::Enter => {
                if let Some(card) = self.rows.get(self.selected).and_then(|r| r.card) {
                    return vec![Effect::ShowCard(card)];
                }
            }
            Key::Char('/') => {
                *prompt = Some(Prompt::Text {
                    title: "Filter: a customer (name, card id or code) who:STAFF tpl:ID day:YYYY-MM-DD type:TYPE (empty clears)".into(),
                    text: Some(self.filter().describe())
                        .filter(|d| !d.is_empty())
                        .map(|d| d + " ")
                        .unwrap_or_default(),
                    then: super::TextAction::JournalFilter,
                });
            }
            Key::Char('r') => {
                if let Some(row) = self.rows.get(self.selected) {
                    *prompt = Some(Prompt::Text {
                        title: format!("Reverse event {}: the reason", row.id),
                        text: String::new(),
                        then: super::TextAction::Reverse(row.id),
                    });
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
