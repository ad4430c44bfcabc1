//! The alerts consumer: feeds the journal to the fraud rules
//! (`crate::alerts::Rules`) and turns what they find into alerts — one per
//! rule and subject per hour, journaled once (`alert_raised`) and sent
//! through the outbox to the owner's routes (a staff Telegram chat, email);
//! later findings add their evidence to the alert's record, never a second
//! message. What the rules remember is rebuilt from the journal when the
//! consumer starts (the last `staff_days` days), so a restart or a duty
//! moving to another node finds the same alerts.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::alerts::book::{self, Alert, Book};
use crate::alerts::{Finding, Rules};
use crate::error::CoreResult;
use crate::model::{Actor, Event, EventKind, NewEvent};
use crate::outbox::{Message, Purpose};
use crate::shop::Context;
use crate::store::{Family, Key, Mutation, Record, Scan};

use super::Consumer;

/// Where alerts go: (channel, recipient), e.g. ("telegram", "-1001234").
pub type AlertRoute = (String, String);

/// The alerts consumer.
pub struct AlertWatch {
    routes: Vec<AlertRoute>,
    memory: Mutex<Option<Memory>>,
}

/// What a run of the consumer keeps: the rules' memory, the book as it
/// last wrote it (it is the book's only writer), and the alerts whose
/// evidence is full (a finding for them writes nothing).
struct Memory {
    rules: Rules,
    book: Book,
    full: HashSet<u64>,
}

impl AlertWatch {
    /// Alerts sent to these routes (none: journaled and shown only).
    pub fn new(routes: Vec<AlertRoute>) -> Self {
        Self {
            routes,
            memory: Mutex::new(None),
        }
    }
}

/// Fresh rules of the shop's settings.
pub fn rules_of(ctx: &Context) -> Rules {
    let s = ctx.settings();
    Rules::new(s.alerts.clone(), s.opening_hours.clone(), s.timezone)
}

/// The first event id at or after `since` among ids below `before` (a
/// binary search over the ids: events are in commit order, times rise
/// with them; an id with no event — retention removed it — counts as old).
fn first_since(
    ctx: &Context,
    since: chrono::DateTime<chrono::Utc>,
    before: u64,
) -> CoreResult<u64> {
    let (mut lo, mut hi) = (1u64, before);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let old = match ctx.store().get(&Key::Event(mid))? {
            Some(Record::Event(e)) => e.at < since,
            _ => true,
        };
        if old {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Hands `each` the journal's events after `after` and before `before`, in
/// order, a batch at a time.
pub fn each_event(
    ctx: &Context,
    mut after: u64,
    before: u64,
    mut each: impl FnMut(&Event),
) -> CoreResult<()> {
    loop {
        let scan = Scan {
            after: Some(after),
            reverse: false,
            limit: 1024,
        };
        let batch = ctx.store().scan(Family::Events, scan)?;
        if batch.is_empty() {
            return Ok(());
        }
        for (_, record) in batch {
            if let Record::Event(e) = record {
                if e.id >= before {
                    return Ok(());
                }
                after = e.id;
                each(&e);
            }
        }
    }
}

/// Rules that remember the journal's last days before event `before`.
pub fn rebuild(ctx: &Context, before: u64) -> CoreResult<Rules> {
    let mut rules = rules_of(ctx);
    let now = ctx.clock().now();
    let first = first_since(ctx, now - rules.memory(), before)?;
    each_event(ctx, first.saturating_sub(1), before, |e| {
        rules.feed(e);
    })?;
    Ok(rules)
}

/// The text of a finding in a language (`alert.<rule>` in `core/locales`).
pub fn finding_text(lang: &str, shop: &str, f: &Finding) -> String {
    let key = match (f.rule, f.params.iter().find(|(k, _)| k == "what")) {
        (crate::alerts::Rule::Address, Some((_, what))) if what == "claim" => {
            "alert.address_claim".to_string()
        }
        (crate::alerts::Rule::Address, _) => "alert.address_join".to_string(),
        (rule, _) => format!("alert.{}", rule.name()),
    };
    let args: Vec<(&str, &str)> = f
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    crate::texts::t(Some(lang), &key, &args).replace("{shop}", shop)
}

fn alert_now(ctx: &Context, m: &Mutation, id: u64) -> CoreResult<Option<Alert>> {
    let key = book::alert_key(id);
    let value = match m.puts.iter().rev().find(|(k, _)| *k == key) {
        Some((_, Record::Meta(v))) => Some(v.clone()),
        _ => match ctx.store().get(&key)? {
            Some(Record::Meta(v)) => Some(v),
            _ => None,
        },
    };
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

impl AlertWatch {
    fn found(
        &self,
        ctx: &Context,
        e: &Event,
        f: &Finding,
        memory: &mut Memory,
        m: &mut Mutation,
    ) -> CoreResult<()> {
        // Evidence for an alert raised within the hour (or, in a flood of
        // one rule, for its newest alert).
        if let Some(id) = memory.book.adds_to(f) {
            if memory.full.contains(&id) {
                return Ok(());
            }
            if let Some(mut alert) = alert_now(ctx, m, id)? {
                if alert.add(f) {
                    m.put(book::alert_key(id), book::meta(&alert));
                }
                if alert.is_full() {
                    memory.full.insert(id);
                }
            }
            return Ok(());
        }
        let settings = ctx.settings();
        let lang = settings.alerts.language.as_str();
        let text = finding_text(lang, &settings.name, f);
        let alert = Alert::raise(memory.book.last_id + 1, f, text.clone());
        memory.book.record(&alert, m);
        let mut event = NewEvent::of_shop(
            e.at,
            EventKind::AlertRaised {
                alert_id: alert.id,
                rule: alert.rule.clone(),
                subject: alert.subject.clone(),
                detail: text.clone(),
                cards: alert.cards.clone(),
                staff: alert.staff.clone(),
                times: alert.times.clone(),
            },
            Actor::channel("alerts"),
        );
        event.card_id = f.cards.first().copied();
        m.event(event);
        let title = crate::texts::t(Some(lang), "alert.title", &[("shop", &settings.name)]);
        let footer = crate::texts::t(Some(lang), "alert.footer", &[]);
        for (channel, recipient) in &self.routes {
            ctx.outbox().enqueue(
                m,
                Message {
                    channel: channel.clone(),
                    recipient: recipient.clone(),
                    purpose: Purpose::Transactional,
                    subject: Some(title.clone()),
                    text: format!("{title}\n\n{text}\n\n{footer}"),
                    data: serde_json::json!({"alert": alert.id, "rule": alert.rule}),
                    customer_id: None,
                    card_id: None,
                    source_event: Some(e.id),
                },
            )?;
        }
        Ok(())
    }
}

impl Consumer for AlertWatch {
    fn name(&self) -> &str {
        "alerts"
    }

    fn handle(&self, ctx: &Context, e: &Event, m: &mut Mutation) -> CoreResult<()> {
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        // First event of a run, or a run that restarted behind what was
        // fed (its write did not land): remember the days before it anew,
        // and the book as stored.
        if memory.as_ref().is_none_or(|r| r.rules.last_fed() >= e.id) {
            *memory = Some(Memory {
                rules: rebuild(ctx, e.id)?,
                book: ctx.meta(&book::book_key())?,
                full: HashSet::new(),
            });
        }
        let Some(memory) = memory.as_mut() else {
            return Ok(());
        };
        for f in memory.rules.feed(e) {
            self.found(ctx, e, &f, memory, m)?;
        }
        Ok(())
    }
}
