//! The `Alerts` service: the alerts raised (by the alerts consumer,
//! `crate::consumers::AlertWatch`), newest first, with who acknowledged
//! them; acknowledging (admins); and a dry run of the rules over the
//! journal, which changes nothing (`stampcard alerts replay`).

use chrono::{DateTime, Utc};

use super::context::{Context, on_context};
use super::shop_lock::ShopLock;
use crate::alerts::Finding;
use crate::alerts::book::{self, Acks, Alert, Book};
use crate::error::{CoreError, CoreResult};
use crate::model::Actor;
use crate::store::{Mutation, Record};

/// Acknowledgements are a read-change-write of one record.
static ACKNOWLEDGING: ShopLock = ShopLock::new("alerts_acknowledged");

/// An alert as staff see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertView {
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// Who acknowledged it, and when.
    pub acknowledged: Option<(String, DateTime<Utc>)>,
}

/// The shop's fraud alerts.
#[derive(Clone)]
pub struct Alerts {
    ctx: Context,
}

on_context!(Alerts);

impl Alerts {
    pub(super) fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Alerts {
    /// The alerts kept (the newest 200), newest first.
    pub fn list(&self) -> CoreResult<Vec<AlertView>> {
        let book: Book = self.ctx.meta(&book::book_key())?;
        let acks: Acks = self.ctx.meta(&book::acks_key())?;
        let mut out = Vec::new();
        for entry in book.entries.iter().rev() {
            if let Some(Record::Meta(v)) = self.store().get(&book::alert_key(entry.id))?
                && let Ok(alert) = serde_json::from_value::<Alert>(v)
            {
                let acknowledged = acks.by.get(&alert.id).cloned();
                out.push(AlertView {
                    alert,
                    acknowledged,
                });
            }
        }
        Ok(out)
    }

    /// How many kept alerts nobody acknowledged yet.
    pub fn unacknowledged(&self) -> CoreResult<usize> {
        let book: Book = self.ctx.meta(&book::book_key())?;
        let acks: Acks = self.ctx.meta(&book::acks_key())?;
        Ok(book
            .entries
            .iter()
            .filter(|e| !acks.by.contains_key(&e.id))
            .count())
    }

    /// Acknowledges an alert (admins): it stays in the list, marked with
    /// who and when, and leaves the badge's count; journaled
    /// (`alert_acknowledged`).
    pub async fn acknowledge(&self, id: u64, actor: &Actor) -> CoreResult<()> {
        actor.require_admin("alerts are acknowledged by admins")?;
        let _lock = ACKNOWLEDGING.lock(self.store().as_ref()).await?;
        let book: Book = self.ctx.meta(&book::book_key())?;
        if !book.entries.iter().any(|e| e.id == id) {
            return Err(CoreError::not_found("alert", id));
        }
        let mut acks: Acks = self.ctx.meta(&book::acks_key())?;
        if acks.by.contains_key(&id) {
            return Ok(());
        }
        acks.by.insert(id, (actor.label(), self.clock().now()));
        // Only alerts still kept are remembered.
        acks.by
            .retain(|a, _| book.entries.iter().any(|e| e.id == *a));
        let mut m = Mutation::new();
        m.put(book::acks_key(), book::meta(&acks));
        // Journaled: who saw it, and every open console's badge follows.
        m.event(crate::model::NewEvent::of_shop(
            self.clock().now(),
            crate::model::EventKind::AlertAcknowledged { alert_id: id },
            actor.clone(),
        ));
        self.store().commit(m).await?;
        Ok(())
    }

    /// What the rules find over the journal's events since `since`, as
    /// the alerts consumer would raise them (one per rule and subject
    /// within an hour, at most 20 of a rule an hour). Changes nothing.
    pub fn replay(&self, since: DateTime<Utc>) -> CoreResult<Vec<Finding>> {
        let mut rules = crate::consumers::rules_of(&self.ctx);
        // A book in memory decides as the consumer's does (within the
        // hour, the flood cap).
        let mut book = Book::default();
        let mut raised: Vec<Finding> = Vec::new();
        crate::consumers::each_event(&self.ctx, 0, u64::MAX, |e| {
            for f in rules.feed(e) {
                if book.adds_to(&f).is_some() {
                    continue;
                }
                book.note(book.last_id + 1, f.rule.name(), &f.subject, f.at);
                if e.at >= since {
                    raised.push(f);
                }
            }
        })?;
        Ok(raised)
    }
}
