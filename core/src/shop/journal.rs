//! Reading the journal.

use super::context::{Context, on_context};
use crate::error::{CoreError, CoreResult};
use crate::model::Event;
use crate::store::{Family, Key, Record, Scan};

/// A journal query.
#[derive(Debug, Clone, Default)]
pub struct JournalQuery {
    /// Only events of this card.
    pub card: Option<u64>,
    /// Only events of this type.
    pub kind: Option<String>,
    /// Events after this id (oldest first) …
    pub after: Option<u64>,
    /// … or newest first.
    pub newest_first: bool,
    /// At most this many (0 = 100).
    pub limit: usize,
    /// Only events of cards of this template.
    pub template: Option<u64>,
    /// Only events caused by someone whose label contains this (any case).
    pub who: Option<String>,
    /// Only events of this shop-local day.
    pub day: Option<chrono::NaiveDate>,
    /// Only events of customers whose name contains this (any case).
    pub customer: Option<String>,
}

/// The journal, card histories, consumer cursors and analytics.
#[derive(Clone)]
pub struct Journal {
    ctx: Context,
}

on_context!(Journal);

impl Journal {
    pub(super) fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Journal {
    /// The last event a journal consumer finished (0 when it never ran).
    pub fn consumer_cursor(&self, name: &str) -> CoreResult<u64> {
        Ok(match self.store().get(&Key::Cursor(name.to_string()))? {
            Some(Record::Cursor(id)) => id,
            _ => 0,
        })
    }

    /// One event.
    pub fn event(&self, id: u64) -> CoreResult<Event> {
        self.ctx.event(id)
    }

    /// Every event of a card, oldest first.
    pub fn card_history(&self, card_id: u64) -> CoreResult<Vec<Event>> {
        card_history(self, card_id)
    }

    /// Visits a card's newest events, newest first (at most `limit`), each
    /// read from the store when the visit reaches it; `visit` returns
    /// `false` to stop.
    pub fn visit_newest_card_events(
        &self,
        card_id: u64,
        limit: usize,
        visit: impl FnMut(Event) -> bool,
    ) -> CoreResult<()> {
        self.ctx.visit_newest_card_events(card_id, limit, visit)
    }

    /// Events matching a query.
    pub fn journal(&self, q: &JournalQuery) -> CoreResult<Vec<Event>> {
        if let Some(kind) = &q.kind
            && !crate::model::EventKind::NAMES.contains(&kind.as_str())
        {
            return Err(CoreError::Invalid(format!(
                "unknown event type '{kind}'; one of: {}",
                crate::model::EventKind::NAMES.join(", ")
            )));
        }
        let limit = if q.limit == 0 { 100 } else { q.limit };
        let tz = self.settings().timezone;
        let who = q.who.as_deref().map(str::to_lowercase);
        let customer = q.customer.as_deref().map(str::to_lowercase);
        // Whether a customer's name matches, read once per customer.
        let named = std::cell::RefCell::new(std::collections::HashMap::<u64, bool>::new());
        let of_customer = |e: &Event| match (&customer, e.customer_id) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(name), Some(id)) => *named.borrow_mut().entry(id).or_insert_with(|| {
                self.customer(id)
                    .is_ok_and(|c| c.name.to_lowercase().contains(name.as_str()))
            }),
        };
        let matches = |e: &Event| {
            of_customer(e)
                && q.kind.as_deref().is_none_or(|k| e.kind.name() == k)
                && q.template.is_none_or(|t| e.template_id == Some(t))
                && who
                    .as_deref()
                    .is_none_or(|w| e.actor.label().to_lowercase().contains(w))
                && q.day.is_none_or(|d| crate::clock::local_day(e.at, tz) == d)
        };

        let mut out = Vec::new();
        if let Some(card) = q.card {
            self.store().card_events(card, &mut |e| {
                let in_range = match (q.after, q.newest_first) {
                    (Some(a), false) => e.id > a,
                    (Some(a), true) => e.id < a,
                    (None, _) => true,
                };
                if in_range && matches(&e) {
                    out.push(e);
                }
                true
            })?;
            if !q.newest_first {
                out.reverse();
            }
            out.truncate(limit);
            return Ok(out);
        }
        let mut cursor = q.after;
        loop {
            let page = self.store().scan(
                Family::Events,
                Scan {
                    after: cursor,
                    reverse: q.newest_first,
                    limit: 1000,
                },
            )?;
            if page.is_empty() {
                break;
            }
            for (k, r) in page {
                if let Key::Event(id) = k {
                    cursor = Some(id);
                }
                if let Record::Event(e) = r
                    && matches(&e)
                {
                    out.push(e);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Every event of a card, oldest first.
pub(super) fn card_history(ctx: &Context, card_id: u64) -> CoreResult<Vec<Event>> {
    let mut events = Vec::new();
    ctx.store().card_events(card_id, &mut |e| {
        events.push(e);
        true
    })?;
    events.reverse();
    Ok(events)
}
