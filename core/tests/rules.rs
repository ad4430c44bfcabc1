//! Rules, codes, time and idempotency at the core's boundary, through one
//! data-driven helper (see `scenario/mod.rs`).
mod backend;

mod scenario;
use scenario::check;

#[tokio::test]
async fn voucher_reward_rolls_over_and_redeems_once() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=3 valid=30 => v1
        card                   => 0/3
        stamp 2                => 2/3
        stamp 2                => 1/3 goal=1 vouchers=1
        redeem                 => 1/3
        redeem                 => error already_redeemed
        stamp 5                => 0/3 goal=2 vouchers=2
    ",
    )
    .await;
}

#[tokio::test]
async fn simple_reward_is_handed_over_exactly_once() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template simple stamps=2 => v1
        card                     => 0/2
        handover                 => error no_reward
        stamp 2                  => 0/2 goal=1 pending=1
        handover                 => 0/2
        handover                 => error no_reward
    ",
    )
    .await;
}

#[tokio::test]
async fn redeem_code_voucher_expires() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template code stamps=1 valid=2 => v1
        card       => 0/1
        stamp 1    => 0/1 goal=1 vouchers=1
        advance 3d => 05-07 10:00
        redeem     => error expired
    ",
    )
    .await;
}

#[tokio::test]
async fn lottery_spin_is_played_once_and_deterministic_with_a_seed() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template lottery stamps=2 => v1
        card     => 0/2
        spin     => error no_spin
        stamp 2  => 0/2 goal=1 spins=1
        spin     => 0/2 vouchers=1 prize=Tote bag
        spin     => error no_spin
    ",
    )
    .await;
}

#[tokio::test]
async fn cooldown_refuses_until_it_has_passed() {
    let w = check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=8 cooldown=600 => v1
        card        => 0/8
        stamp 1     => 1/8
        advance 5m  => 05-04 10:05
        stamp 1     => error cooldown
        advance 5m  => 05-04 10:10
        stamp 1     => 2/8
    ",
    )
    .await;
    // The refusal is journaled with its reason.
    let refused = w
        .shop
        .journal()
        .journal(&stampcard_core::shop::JournalQuery {
            kind: Some("stamp_refused".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert!(
        matches!(&refused[0].kind, stampcard_core::model::EventKind::StampRefused { reason, .. } if reason.contains("cooldown"))
    );
}

#[tokio::test]
async fn daily_cap_resets_at_shop_local_midnight() {
    // Berlin is UTC+2 in May: local midnight is 22:00 UTC.
    check(
        "Europe/Berlin",
        "2026-05-04T19:00:00Z",
        "
        template voucher stamps=8 cap=2 => v1
        card        => 0/8
        stamp 2     => 2/8
        stamp 1     => error daily_cap
        advance 2h  => 05-04 23:00
        stamp 1     => error daily_cap
        advance 1h  => 05-05 00:00
        stamp 1     => 3/8
    ",
    )
    .await;
}

#[tokio::test]
async fn daily_cap_across_a_dst_change() {
    // 2026-03-29 Berlin springs forward at 02:00: that local day lasts 23h.
    // 22:30 UTC on the 28th is 23:30 CET; 22:30 UTC on the 29th is already 00:30 CEST on the 30th.
    check(
        "Europe/Berlin",
        "2026-03-28T22:30:00Z",
        "
        template voucher stamps=8 cap=1 => v1
        card         => 0/8
        stamp 1      => 1/8
        advance 1h   => 03-29 00:30
        stamp 1      => 2/8
        advance 22h  => 03-29 23:30
        stamp 1      => error daily_cap
        advance 1h   => 03-30 00:30
        stamp 1      => 3/8
    ",
    )
    .await;
}

#[tokio::test]
async fn reversal_rules_for_staff_and_admin() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=3 => v1
        card                   => 0/3
        stamp 1                => 1/3
        reverse as=staff       => 0/3
        reverse as=staff       => error not_reversible
        stamp 1                => 1/3
        advance 10m            => 05-04 10:10
        reverse as=staff       => error forbidden
        reverse                => 0/3
        stamp 3                => 0/3 goal=1 vouchers=1
        redeem                 => 0/3
        stamp 1                => 1/3
        # Undo the redemption, then the stamp that reached the goal voids its voucher.
    ",
    )
    .await;
}

#[tokio::test]
async fn reversing_a_goal_stamp_voids_its_voucher_unless_redeemed() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=2 => v1
        card       => 0/2
        stamp 3    => 1/2 goal=1 vouchers=1
        reverse    => 0/2
        stamp 2    => 0/2 goal=1 vouchers=1
        redeem     => 0/2
        reverse    => 0/2 vouchers=1
    ",
    )
    .await;
}

#[tokio::test]
async fn reissued_code_is_refused_and_new_code_works() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template simple stamps=8 => v1
        card            => 0/8
        stamp 1         => 1/8
        reissue         => counter=1
        stamp-old-code  => error code_reissued
        stamp 1         => 2/8
    ",
    )
    .await;
}

#[tokio::test]
async fn forged_mistyped_and_wrong_kind_codes_are_refused() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template simple stamps=8 => v1
        card                               => 0/8
        stamp-forged                       => error code_forged
        stamp-typo                         => error code_mistyped
        stamp-code 12345                   => error code_invalid
        stamp-code ABC                     => error code_invalid
        stamp-code 9000100001123456785     => error code_invalid
        stamp-code                         => error code_invalid
        stamp 0                            => error invalid_input
        stamp 101                          => error invalid_input
        stamp 1                            => 1/8
    ",
    )
    .await;
}

#[tokio::test]
async fn idempotent_retries_return_the_first_result() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template simple stamps=8 => v1
        card           => 0/8
        stamp 2 key=a  => 2/8
        stamp 2 key=a  => 2/8 (replayed)
        stamp 3 key=a  => error idempotency_mismatch
        stamp 2 key=b  => 4/8
    ",
    )
    .await;
}

#[tokio::test]
async fn receipt_codes_are_claimed_once_and_reversal_frees_them() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=8 => v1
        card             => 0/8
        codes 3 stamps=2 => 3 codes
        claim            => 2/8
        claim            => error already_claimed
        reverse          => 0/8
        claim            => 2/8
    ",
    )
    .await;
}

#[tokio::test]
async fn template_edit_keeps_progress_and_moves_cards() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template voucher stamps=8 => v1
        card             => 0/8
        stamp 6          => 6/8
        edit stamps=5    => v2
        stamp 1          => 2/5 goal=1 vouchers=1
    ",
    )
    .await;
}

#[tokio::test]
async fn adjustments_need_an_admin_and_a_valid_delta() {
    check(
        "UTC",
        "2026-05-04T10:00:00Z",
        "
        template simple stamps=8 => v1
        card               => 0/8
        adjust 3 as=staff  => error forbidden
        adjust 3           => 3/8
        adjust -5          => error invalid_input
        adjust -2          => 1/8
        adjust 0           => error invalid_input
    ",
    )
    .await;
}

#[tokio::test]
async fn expiring_vouchers_are_reminded_once() {
    let world = check(
        "UTC",
        "2026-05-03T10:00:00Z",
        "
        template voucher stamps=5 => v1
        card        => 0/5
        coupon 2    => 0/5 vouchers=1
        coupon 5    => 0/5 vouchers=2
        coupon 0    => 0/5 vouchers=3
        coupon 1    => 0/5 vouchers=4
        redeem      => 0/5 vouchers=3
        coupon 1    => 0/5 vouchers=4
        # Due within three days: the two-day and the second one-day coupon
        # (not the redeemed one, the five-day one or the open-ended one).
        remind 3    => reminded [1,5]
        # Once each.
        remind 3    => reminded []
        # Two days later the five-day coupon comes within the window; the
        # one-day coupon has expired without a second word.
        advance 2d
        advance 1m
        remind 3    => reminded [2]
        advance 30d
        remind 3    => reminded []
    ",
    )
    .await;
    // Each reminder is journaled against the card, by the scheduler.
    let reminders: Vec<_> = world
        .shop
        .journal()
        .journal(&Default::default())
        .expect("journal")
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                stampcard_core::model::EventKind::VoucherExpiring { .. }
            )
        })
        .collect();
    assert_eq!(reminders.len(), 3);
    assert!(reminders.iter().all(|e| e.card_id == Some(100_001)
        && e.actor
            == stampcard_core::model::Actor::Channel {
                name: "scheduler".into()
            }));
}
