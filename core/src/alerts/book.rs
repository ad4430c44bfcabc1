//! The alerts raised, as stored: one meta record per alert
//! (`alert:<id>`), and the book (`alerts`): the newest alerts' ids with
//! their rule, subject and time, which decides whether a finding raises a
//! new alert or adds evidence to one raised within the hour. Which alerts
//! staff acknowledged is a record of its own (`alerts_acknowledged`),
//! written only by whoever acknowledges, never by the consumer.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::rules::Finding;
use crate::store::{Key, Mutation, Record};

/// Alerts the book remembers (older ones stay in the journal).
pub const KEPT: usize = 200;
/// Evidence (times) an alert keeps; later findings only count.
pub const EVIDENCE: usize = 20;
/// New alerts one rule raises within an hour; beyond that (a flood: a
/// script, a benchmark) findings are evidence of its newest alert, so the
/// owner's phone gets 20 messages, not thousands.
pub const PER_RULE_HOUR: usize = 20;

/// The book's key.
pub fn book_key() -> Key {
    Key::Meta("alerts".into())
}

/// One alert's key.
pub fn alert_key(id: u64) -> Key {
    Key::Meta(format!("alert:{id}"))
}

/// The acknowledgements' key.
pub fn acks_key() -> Key {
    Key::Meta("alerts_acknowledged".into())
}

/// A raised alert with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Its number.
    pub id: u64,
    /// The rule's name.
    pub rule: String,
    /// Whom or what it is about.
    pub subject: String,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// Its text, in `[alerts] language`.
    pub text: String,
    /// The cards involved.
    pub cards: Vec<u64>,
    /// The staff involved.
    pub staff: Vec<String>,
    /// When the evidence happened (the first [`EVIDENCE`]).
    pub times: Vec<DateTime<Utc>>,
    /// Findings that added evidence (the first raised it; counting stops
    /// once the evidence is full).
    pub findings: u32,
}

impl Alert {
    /// A new alert from its first finding.
    pub fn raise(id: u64, f: &Finding, text: String) -> Self {
        let mut a = Self {
            id,
            rule: f.rule.name().into(),
            subject: f.subject.clone(),
            raised_at: f.at,
            text,
            cards: Vec::new(),
            staff: Vec::new(),
            times: Vec::new(),
            findings: 0,
        };
        a.add(f);
        a
    }

    /// Whether it keeps no more evidence (later findings change nothing).
    pub fn is_full(&self) -> bool {
        self.times.len() >= EVIDENCE
    }

    /// Adds a later finding's evidence; whether anything new was kept.
    pub fn add(&mut self, f: &Finding) -> bool {
        let before = (self.cards.len(), self.staff.len(), self.times.len());
        for c in &f.cards {
            if !self.cards.contains(c) && self.cards.len() < EVIDENCE {
                self.cards.push(*c);
            }
        }
        for s in &f.staff {
            if !self.staff.contains(s) && self.staff.len() < EVIDENCE {
                self.staff.push(s.clone());
            }
        }
        for t in &f.times {
            if !self.times.contains(t) && self.times.len() < EVIDENCE {
                self.times.push(*t);
            }
        }
        let grew = before != (self.cards.len(), self.staff.len(), self.times.len());
        if grew || self.findings == 0 {
            self.findings += 1;
        }
        grew
    }
}

/// An alert in the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its number.
    pub id: u64,
    /// The rule's name.
    pub rule: String,
    /// Whom or what it is about.
    pub subject: String,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
}

/// The newest alerts, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Book {
    /// The last number given.
    pub last_id: u64,
    /// The newest alerts, oldest first (at most [`KEPT`]).
    pub entries: Vec<Entry>,
}

impl Book {
    /// The alert a finding adds to: same rule and subject, raised within
    /// the hour before it.
    pub fn open_for(&self, f: &Finding) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|e| {
                e.rule == f.rule.name()
                    && e.subject == f.subject
                    && f.at - e.raised_at < Duration::hours(1)
                    && f.at >= e.raised_at
            })
            .map(|e| e.id)
    }

    /// In a flood of one rule (as many alerts within the hour as it may
    /// raise), its newest alert, which takes the finding as evidence.
    pub fn flooded(&self, f: &Finding) -> Option<u64> {
        let rule = f.rule.name();
        let recent = self
            .entries
            .iter()
            .filter(|e| e.rule == rule && f.at - e.raised_at < Duration::hours(1))
            .count();
        (recent >= PER_RULE_HOUR)
            .then(|| self.entries.iter().rev().find(|e| e.rule == rule))
            .flatten()
            .map(|e| e.id)
    }

    /// The alert a finding adds evidence to, if any: one of its rule and
    /// subject raised within the hour, or in a flood its rule's newest.
    pub fn adds_to(&self, f: &Finding) -> Option<u64> {
        self.open_for(f).or_else(|| self.flooded(f))
    }

    /// Enters a new alert; the ids it pushed out of the book.
    pub fn note(&mut self, id: u64, rule: &str, subject: &str, at: DateTime<Utc>) -> Vec<u64> {
        self.last_id = self.last_id.max(id);
        self.entries.push(Entry {
            id,
            rule: rule.into(),
            subject: subject.into(),
            raised_at: at,
        });
        let over = self.entries.len().saturating_sub(KEPT);
        self.entries.drain(..over).map(|e| e.id).collect()
    }

    /// Writes a new alert and the book with it; the alerts it pushed out
    /// of the book are deleted.
    pub fn record(&mut self, alert: &Alert, m: &mut Mutation) {
        for old in self.note(alert.id, &alert.rule, &alert.subject, alert.raised_at) {
            m.deletes.push(alert_key(old));
        }
        m.put(alert_key(alert.id), meta(alert));
        m.put(book_key(), meta(self));
    }
}

/// Acknowledged alerts: by whom and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Acks {
    /// Alert number → (who, when).
    pub by: BTreeMap<u64, (String, DateTime<Utc>)>,
}

/// A value as a meta record.
pub fn meta<T: Serialize>(value: &T) -> Record {
    Record::Meta(serde_json::to_value(value).unwrap_or_default())
}
