//! Reversing a stamp, a receipt claim, a voucher redemption or a handed-over reward.

use crate::model::{Card, EventKind, StampEffect, Voucher};

/// What a reversal changes.
#[derive(Debug, Clone)]
pub struct ReversalPlan {
    /// The card afterwards.
    pub card: Card,
    /// Vouchers afterwards (voided or un-redeemed).
    pub vouchers: Vec<Voucher>,
    /// A receipt claim to free, so the code can be claimed again.
    pub free_claim: Option<String>,
}

fn undo_effect(
    card: &mut Card,
    effect: &StampEffect,
    vouchers: &mut [Voucher],
) -> Result<(), String> {
    // Progress before = now - count + goals * goal, in the cycle arithmetic.
    let back = i64::from(card.stamps) - i64::from(effect.count)
        + i64::from(effect.goals_reached) * i64::from(effect.goal);
    if back < 0 {
        return Err(format!(
            "the card has only {} stamps in its current cycle; later stamps already used these",
            card.stamps
        ));
    }
    if card.rewards_pending < effect.rewards {
        return Err("the reward it reached was already handed over: reverse that first".into());
    }
    if card.spins_available < effect.spins {
        return Err("the lottery spin it granted was already played".into());
    }
    for v in vouchers.iter_mut() {
        if v.redeemed_at.is_some() {
            return Err(format!(
                "voucher {} it issued was already redeemed: reverse the redemption first",
                v.id
            ));
        }
        v.voided = true;
    }
    card.stamps = back as u32;
    card.rewards_pending -= effect.rewards;
    card.spins_available -= effect.spins;
    card.lifetime_stamps = card.lifetime_stamps.saturating_sub(u64::from(effect.count));
    card.stamps_today = card.stamps_today.saturating_sub(effect.count);
    Ok(())
}

/// Plans the reversal of `event` on `card`. `vouchers` are the vouchers the
/// event touched (issued or redeemed), as stored now.
pub fn plan_reversal(
    card: &Card,
    event: &EventKind,
    mut vouchers: Vec<Voucher>,
) -> Result<ReversalPlan, String> {
    let mut c = card.clone();
    let mut free_claim = None;
    match event {
        EventKind::StampAdded { effect, .. } => undo_effect(&mut c, effect, &mut vouchers)?,
        EventKind::ReceiptClaimed { claim_key, effect } => {
            undo_effect(&mut c, effect, &mut vouchers)?;
            free_claim = Some(claim_key.clone());
        }
        EventKind::VoucherRedeemed { .. } => {
            for v in vouchers.iter_mut() {
                v.redeemed_at = None;
                v.redeemed_event = None;
            }
        }
        EventKind::RewardGiven => c.rewards_pending += 1,
        other => return Err(format!("a {} event cannot be reversed", other.name())),
    }
    Ok(ReversalPlan {
        card: c,
        vouchers,
        free_claim,
    })
}
