//! Adding stamps: goals, rewards and rollover.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::clock::local_day;
use crate::model::{Card, Reward, StampEffect, Template, Voucher, VoucherOrigin};

/// The result of adding stamps.
#[derive(Debug, Clone)]
pub struct Added {
    /// The card afterwards.
    pub card: Card,
    /// What happened, for the journal and reversal.
    pub effect: StampEffect,
    /// Vouchers to issue.
    pub vouchers: Vec<Voucher>,
}

/// Adds `count` stamps to a card following its template. Extra stamps beyond
/// the goal roll over into the next cycle. `next_voucher_id` allocates ids.
pub fn add_stamps(
    card: &Card,
    template: &Template,
    count: u32,
    now: DateTime<Utc>,
    tz: Tz,
    counts_today: bool,
    next_voucher_id: &mut dyn FnMut() -> u64,
) -> Added {
    let mut c = card.clone();
    let goal = template.stamps_required.max(1);
    let total = c.stamps + count;
    let goals_reached = total / goal;
    c.stamps = total % goal;
    c.lifetime_stamps += u64::from(count);
    c.template_version = template.version;
    c.last_stamp_at = Some(now);
    if counts_today {
        let today = local_day(now, tz);
        if c.today != Some(today) {
            c.today = Some(today);
            c.stamps_today = 0;
        }
        c.stamps_today += count;
    }
    let mut effect = StampEffect {
        count,
        goal,
        goals_reached,
        vouchers: Vec::new(),
        spins: 0,
        rewards: 0,
    };
    let mut vouchers = Vec::new();
    for _ in 0..goals_reached {
        match &template.reward {
            Reward::Simple { .. } => {
                c.rewards_pending += 1;
                effect.rewards += 1;
            }
            Reward::Lottery { .. } => {
                c.spins_available += 1;
                effect.spins += 1;
            }
            Reward::Voucher {
                description,
                valid_days,
            } => {
                let v = new_voucher(
                    next_voucher_id(),
                    c.id,
                    description,
                    VoucherOrigin::Goal,
                    *valid_days,
                    now,
                );
                effect.vouchers.push(v.id);
                vouchers.push(v);
            }
            Reward::RedeemCode {
                description,
                valid_days,
                format,
                fixed_code,
            } => {
                let mut v = new_voucher(
                    next_voucher_id(),
                    c.id,
                    description,
                    VoucherOrigin::Goal,
                    *valid_days,
                    now,
                );
                v.format = *format;
                v.fixed_code = fixed_code.clone();
                effect.vouchers.push(v.id);
                vouchers.push(v);
            }
        }
    }
    Added {
        card: c,
        effect,
        vouchers,
    }
}

/// A new active voucher.
pub fn new_voucher(
    id: u64,
    card_id: u64,
    description: &str,
    origin: VoucherOrigin,
    valid_days: u32,
    now: DateTime<Utc>,
) -> Voucher {
    Voucher {
        id,
        card_id,
        description: description.to_string(),
        origin,
        counter: 0,
        format: Default::default(),
        fixed_code: None,
        issued_at: now,
        expires_at: (valid_days > 0).then(|| now + Duration::days(i64::from(valid_days))),
        redeemed_at: None,
        redeemed_event: None,
        voided: false,
        reminded_at: None,
    }
}
