//! Analytics: what an owner would rather look at than read — per shop-local
//! day over a recent window, from the journal (newest first, stopping at the
//! window's start, so the cost follows the window, not the journal's size).

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::Journal;
use crate::clock::local_day;
use crate::error::CoreResult;
use crate::model::{Actor, EventKind};
use crate::store::{Family, Key, Record, Scan};

/// One shop-local day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayStats {
    /// The day.
    pub day: NaiveDate,
    /// Stamps added (net of nothing: reversals are counted apart).
    pub stamps: u64,
    /// Cards issued.
    pub new_cards: u64,
    /// Vouchers issued (rewards).
    pub vouchers_issued: u64,
    /// Vouchers redeemed.
    pub vouchers_redeemed: u64,
}

/// The numbers of a window of days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analytics {
    /// Oldest day first, every day of the window present.
    pub days: Vec<DayStats>,
    /// Customers who got a stamp in the window.
    pub active_customers: u64,
    /// Redeemed / issued vouchers in the window (0 when none were issued).
    pub redemption_rate: f64,
    /// Stamps per template id.
    pub per_template: Vec<(u64, u64)>,
    /// Stamps per staff member, API key or channel.
    pub per_actor: Vec<(String, u64)>,
}

impl Journal {
    /// The numbers of the last `days` shop-local days (today included).
    pub fn analytics(&self, days: u32) -> CoreResult<Analytics> {
        let tz = self.settings().timezone;
        let today = local_day(self.clock().now(), tz);
        let first = today - Duration::days(i64::from(days.max(1)) - 1);
        let mut by_day: BTreeMap<NaiveDate, DayStats> = BTreeMap::new();
        let mut d = first;
        while d <= today {
            by_day.insert(
                d,
                DayStats {
                    day: d,
                    ..Default::default()
                },
            );
            d += Duration::days(1);
        }
        let mut active = HashSet::new();
        let mut per_template: BTreeMap<u64, u64> = BTreeMap::new();
        let mut per_actor: BTreeMap<String, u64> = BTreeMap::new();
        let mut cursor = None;
        'pages: loop {
            let page = self.store().scan(
                Family::Events,
                Scan {
                    after: cursor,
                    reverse: true,
                    limit: 1000,
                },
            )?;
            if page.is_empty() {
                break;
            }
            for (key, record) in page {
                if let Key::Event(id) = key {
                    cursor = Some(id);
                }
                let Record::Event(e) = record else { continue };
                let day = local_day(e.at, tz);
                if day < first {
                    break 'pages;
                }
                let Some(stats) = by_day.get_mut(&day) else {
                    continue;
                };
                match &e.kind {
                    EventKind::StampAdded { effect, .. }
                    | EventKind::ReceiptClaimed { effect, .. } => {
                        let n = u64::from(effect.count);
                        stats.stamps += n;
                        if let Some(c) = e.customer_id {
                            active.insert(c);
                        }
                        if let Some(t) = e.template_id {
                            *per_template.entry(t).or_default() += n;
                        }
                        let who = match &e.actor {
                            Actor::Staff { name, .. } => name.clone(),
                            other => other.label(),
                        };
                        *per_actor.entry(who).or_default() += n;
                    }
                    EventKind::CardIssued { .. } => stats.new_cards += 1,
                    EventKind::VoucherIssued { .. } => stats.vouchers_issued += 1,
                    EventKind::VoucherRedeemed { .. } => stats.vouchers_redeemed += 1,
                    _ => {}
                }
            }
        }
        let days: Vec<DayStats> = by_day.into_values().collect();
        let issued: u64 = days.iter().map(|d| d.vouchers_issued).sum();
        let redeemed: u64 = days.iter().map(|d| d.vouchers_redeemed).sum();
        let mut per_actor: Vec<(String, u64)> = per_actor.into_iter().collect();
        per_actor.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Analytics {
            days,
            active_customers: active.len() as u64,
            redemption_rate: if issued == 0 {
                0.0
            } else {
                redeemed as f64 / issued as f64
            },
            per_template: per_template.into_iter().collect(),
            per_actor,
        })
    }
}
