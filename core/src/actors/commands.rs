//! The commands a card actor runs, each turning the card's state into one
//! durable mutation; the state changes only once the mutation is durable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::card::CardState;
use crate::codes::{CodeKind, verify_signed};
use crate::error::{CoreError, CoreResult, Refusal};
use crate::model::{
    Actor, Card, Event, EventKind, NewEvent, OutsideHours, Platform, Progress, ReceiptClaim,
    Reward, StampEffect, Template, Voucher, VoucherOrigin, VoucherState,
};
use crate::rotating;
use crate::rules::{self, add_stamps, check_fraud, plan_reversal};
use crate::store::{IdempotencyRecord, Key, Mutation, Record, StoreError};

/// An idempotency key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdemKey {
    /// The key, already scoped to its caller.
    pub key: String,
    /// Hash of the request.
    pub request_hash: String,
    /// The key as the caller gave it (named in errors; the scope is ours).
    pub given: String,
}

/// A command on one card.
#[derive(Debug, Clone)]
pub enum CardCommand {
    /// Read the card.
    Get,
    /// Add stamps at the counter.
    Stamp {
        /// How many.
        count: u32,
        /// Idempotency of the request.
        idempotency: Option<Box<IdemKey>>,
    },
    /// Claim a receipt code onto the card.
    Claim {
        /// Unique identity of the receipt.
        claim_key: String,
        /// Stamps it adds.
        count: u32,
        /// Template the receipt is for.
        template_id: u64,
    },
    /// Adjust stamps by hand.
    Adjust {
        /// Change.
        delta: i64,
        /// Why.
        reason: String,
    },
    /// Redeem a voucher of this card.
    Redeem {
        /// Voucher id.
        voucher_id: u64,
        /// The MAC of the scanned voucher code, if redeemed by code.
        mac: Option<String>,
    },
    /// Hand over a simple reward.
    HandOver,
    /// Play a lottery spin.
    Spin,
    /// Reverse an earlier event.
    Reverse {
        /// The event.
        event: Box<Event>,
        /// Why.
        reason: String,
    },
    /// Give the card a new code.
    Reissue,
    /// Delete the card.
    Delete,
    /// Delete the card because its holder is being forgotten (the caller
    /// checked that the forget is allowed: an admin or the customer).
    DeleteForForget,
    /// Issue a voucher by hand (a coupon).
    IssueVoucher {
        /// What it gives.
        description: String,
        /// Days valid (0 = no expiry).
        valid_days: u32,
    },
    /// Give the card a campaign's voucher: once per campaign (a second
    /// command answers with the voucher it has).
    CampaignVoucher {
        /// The campaign.
        campaign_id: u64,
        /// What it gives.
        description: String,
        /// Days valid (0 = no expiry).
        valid_days: u32,
    },
    /// Remind the holder that a voucher expires soon (once per voucher).
    RemindExpiring {
        /// Voucher id.
        voucher_id: u64,
    },
    /// Move the card to another customer (merge).
    Reassign {
        /// New holder.
        customer_id: u64,
    },
    /// Record a platform the card is held on.
    AddPlatform(Platform),
    /// A wallet said the card was saved in it (`true`) or removed from it:
    /// the platform is set or cleared, journaled as pass saved or removed
    /// (nothing when it already is so).
    WalletHeld {
        /// Which wallet.
        platform: Platform,
        /// Saved or removed.
        saved: bool,
    },
    /// Register (with its push token) or unregister (`None`) a device that
    /// keeps the card's wallet pass.
    PassDevice {
        /// Apple's device library identifier.
        device: String,
        /// Its push token; `None` unregisters.
        push_token: Option<String>,
    },
    /// Post a campaign's PUSH text to the card's wallet pass (once per
    /// campaign: posting it again changes nothing).
    PassNews {
        /// The campaign.
        campaign_id: u64,
        /// The PUSH text.
        text: String,
    },
}

/// What a scanned card code proves, for the card's actor to check.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A printed (static) code's MAC digits, checked against the card's
    /// reissue counter.
    Mac(String),
    /// A rotating code's TOTP digits, checked against the clock and the
    /// windows already used (`crate::rotating`).
    Totp(String),
}

/// A command with who sent it and the code that authorized it.
#[derive(Debug, Clone)]
pub struct CardRequest {
    /// The command.
    pub command: CardCommand,
    /// Who.
    pub actor: Actor,
    /// The scanned code (journaled), with what it proves.
    pub code: Option<(String, Proof)>,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardOutcome {
    /// The card afterwards.
    pub card: Card,
    /// Journal events written.
    pub event_ids: Vec<u64>,
    /// Vouchers issued or changed.
    pub vouchers: Vec<Voucher>,
    /// The stamp effect, for stamps and claims.
    pub effect: Option<StampEffect>,
    /// The prize won, for a spin.
    pub prize: Option<String>,
    /// True when this is the stored answer to a repeated idempotent request.
    #[serde(default)]
    pub replayed: bool,
    /// What the actor knows beside the answer, so that a view of the card
    /// need not read it again (not part of a stored answer: a replay knows
    /// nothing, and a view reads what it needs).
    #[serde(skip)]
    pub known: ActorKnows,
}

/// What a card's actor knew when it answered. Not part of what an outcome
/// is: two outcomes are equal whatever they carry here.
#[derive(Debug, Clone, Default)]
pub struct ActorKnows {
    /// Every voucher of the card afterwards.
    pub vouchers: Option<Vec<Voucher>>,
    /// The outcome's events carry no campaign news (a view of the card need
    /// not read them to find its news).
    pub events_without_news: bool,
}

impl PartialEq for ActorKnows {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl CardOutcome {
    pub(super) fn of(card: Card) -> Self {
        Self {
            card,
            event_ids: Vec::new(),
            vouchers: Vec::new(),
            effect: None,
            prize: None,
            replayed: false,
            known: ActorKnows::default(),
        }
    }
}

pub(super) struct Ctx<'a> {
    pub(super) state: &'a CardState,
    pub(super) now: DateTime<Utc>,
    pub(super) actor: &'a Actor,
    pub(super) code: Option<String>,
}

impl Ctx<'_> {
    pub(super) fn event(&self, card: &Card, template: &Template, kind: EventKind) -> NewEvent {
        NewEvent {
            at: self.now,
            kind,
            card_id: Some(card.id),
            customer_id: Some(card.customer_id),
            template_id: Some(card.template_id),
            code: self.code.clone(),
            progress: Some(Progress {
                stamps: card.stamps,
                of: template.stamps_required,
            }),
            reward: Some(template.reward.summary()),
            actor: self.actor.clone(),
        }
    }

    pub(super) fn template(&self) -> CoreResult<std::sync::Arc<Template>> {
        let id = self.state.card.template_id;
        self.state
            .deps
            .templates
            .get(id)
            .ok_or_else(|| CoreError::not_found("template", id))
    }
}

/// Runs one request against the card's state.
pub(crate) async fn execute(
    state: &mut CardState,
    request: CardRequest,
) -> CoreResult<CardOutcome> {
    let CardRequest {
        command,
        actor,
        code,
    } = request;
    let secret = &state.deps.settings.secret;
    let stamping = matches!(command, CardCommand::Stamp { .. });
    let mut scanned = None;
    let mut totp = None;
    match code {
        Some((printed, Proof::Mac(mac))) => {
            if !matches!(command, CardCommand::Redeem { .. }) {
                let card = &state.card;
                match verify_signed(secret, CodeKind::Card, card.id, &mac, card.counter) {
                    Ok(()) => {}
                    Err(Some(_)) => return Err(CoreError::ReissuedCode { card_id: card.id }),
                    Err(None) => {
                        if let CardCommand::Stamp { count, .. } = command
                            && !card.deleted
                        {
                            refuse_forged(state, count, &actor, printed).await?;
                        }
                        return Err(crate::codes::CodeError::Forged.into());
                    }
                }
            }
            scanned = Some(printed);
        }
        // A rotating code stamps only (its window is checked, and used up,
        // by the stamp itself, after a retried request's stored answer).
        Some((printed, Proof::Totp(digits))) => {
            if !stamping {
                return Err(crate::codes::CodeError::WrongKind {
                    expected: "printed card",
                    got: "rotating card",
                }
                .into());
            }
            scanned = Some(printed);
            totp = Some(digits);
        }
        None => {}
    }
    if state.card.deleted && !matches!(command, CardCommand::Get) {
        return Err(CoreError::CardDeleted(state.card.id));
    }
    let ctx = Ctx {
        state,
        now: state.deps.clock.now(),
        actor: &actor,
        code: scanned,
    };
    let (mutation, outcome) = match command {
        CardCommand::Get => return Ok(CardOutcome::of(state.card.clone())),
        CardCommand::Stamp { count, idempotency } => {
            let code = ctx.code.clone();
            return stamp(state, count, idempotency, &actor, code, totp).await;
        }
        CardCommand::Claim {
            claim_key,
            count,
            template_id,
        } => claim(&ctx, claim_key, count, template_id)?,
        CardCommand::Adjust { delta, reason } => adjust(&ctx, delta, reason)?,
        CardCommand::Redeem { voucher_id, mac } => redeem(&ctx, voucher_id, mac)?,
        CardCommand::HandOver => hand_over(&ctx)?,
        CardCommand::Spin => spin(&ctx)?,
        CardCommand::Reverse { event, reason } => reverse(&ctx, *event, reason)?,
        CardCommand::Reissue => simple_change(&ctx, |c| {
            c.counter += 1;
            c.link_token = crate::model::Card::new_link_token();
            EventKind::CardReissued { counter: c.counter }
        })?,
        CardCommand::Delete => {
            ctx.actor.require_admin("deleting a card needs an admin")?;
            delete(&ctx)?
        }
        CardCommand::DeleteForForget => delete(&ctx)?,
        CardCommand::IssueVoucher {
            description,
            valid_days,
        } => issue_voucher(&ctx, description, valid_days, VoucherOrigin::Manual)?,
        CardCommand::CampaignVoucher {
            campaign_id,
            description,
            valid_days,
        } => {
            let origin = VoucherOrigin::Campaign { campaign_id };
            match existing_voucher(&ctx, &origin)? {
                Some(v) => {
                    let mut outcome = CardOutcome::of(state.card.clone());
                    outcome.vouchers = vec![v];
                    return Ok(outcome);
                }
                None => issue_voucher(&ctx, description, valid_days, origin)?,
            }
        }
        CardCommand::Reassign { customer_id } => reassign(&ctx, customer_id)?,
        CardCommand::RemindExpiring { voucher_id } => remind_expiring(&ctx, voucher_id)?,
        CardCommand::AddPlatform(p) => {
            let mut c = state.card.clone();
            if !c.platforms.insert(p) {
                return Ok(CardOutcome::of(c));
            }
            let mut m = Mutation::new();
            m.put(Key::Card(c.id), Record::Card(c.clone()));
            (m, CardOutcome::of(c))
        }
        CardCommand::WalletHeld { platform, saved } => {
            let mut c = state.card.clone();
            let changed = match saved {
                true => c.platforms.insert(platform),
                false => c.platforms.remove(&platform),
            };
            if !changed {
                return Ok(CardOutcome::of(c));
            }
            let t = ctx.template()?;
            let kind = match saved {
                true => EventKind::PassSaved { platform },
                false => EventKind::PassRemoved { platform },
            };
            let mut m = Mutation::new();
            m.put(Key::Card(c.id), Record::Card(c.clone()));
            m.event(ctx.event(&c, &t, kind));
            (m, CardOutcome::of(c))
        }
        CardCommand::PassDevice { device, push_token } => {
            match super::passes::pass_device(&ctx, device, push_token)? {
                Some(change) => change,
                None => return Ok(CardOutcome::of(state.card.clone())),
            }
        }
        CardCommand::PassNews { campaign_id, text } => {
            match super::passes::pass_news(&ctx, campaign_id, text)? {
                Some(change) => change,
                None => return Ok(CardOutcome::of(state.card.clone())),
            }
        }
    };
    commit(state, mutation, outcome).await
}

async fn commit(
    state: &mut CardState,
    mutation: Mutation,
    mut outcome: CardOutcome,
) -> CoreResult<CardOutcome> {
    let written: Vec<Voucher> = mutation
        .puts
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Voucher(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    // A record made at commit time (a redeemed voucher names its event)
    // is not at hand here: the list is read again after such a write.
    if !mutation.derived.is_empty() {
        state.vouchers = None;
    }
    let events_without_news = !mutation.events.iter().any(|e| e.kind.is_news());
    // On a store other nodes write too, the write holds only if the card
    // is still at the version this actor read (one process's actor is the
    // card's only writer: there it needs no guard).
    let mut mutation = mutation;
    let shared = state.deps.store.is_shared();
    // Which events are this card's: the newest becomes its version.
    let mut of_card = Vec::new();
    if shared {
        mutation.guard_card_at(state.card.id, state.version);
        // A platform added without an event moves no version: name them too.
        mutation.guard_card_held_on(state.card.id, state.card.platforms.clone());
        // And with the template version the command saw (another node may
        // have saved the template since).
        mutation.guard_template_at(state.card.template_id, state.template_seen);
        of_card = mutation
            .events
            .iter()
            .map(|e| e.card_id == Some(state.card.id))
            .collect();
    }
    let committed = state.deps.store.commit(mutation).await?;
    if let Some(newest) = committed
        .event_ids
        .iter()
        .zip(&of_card)
        .filter_map(|(id, mine)| mine.then_some(*id))
        .max()
    {
        state.version = newest;
    }
    outcome.event_ids = committed.event_ids;
    state.card = outcome.card.clone();
    match &mut state.vouchers {
        Some(known) => {
            for v in written {
                match known.iter_mut().find(|k| k.id == v.id) {
                    Some(k) => *k = v,
                    None => known.push(v),
                }
            }
        }
        // Read once, after the first write, so the list includes it; the
        // write is done whatever this read does (a view reads them itself).
        None => state.vouchers = state.deps.store.vouchers_of_card(state.card.id).ok(),
    }
    outcome.known = ActorKnows {
        vouchers: state.vouchers.clone(),
        events_without_news,
    };
    Ok(outcome)
}

fn put_vouchers(m: &mut Mutation, vouchers: &[Voucher]) {
    for v in vouchers {
        m.put(Key::Voucher(v.id), Record::Voucher(v.clone()));
        m.put(Key::VoucherOfCard(v.card_id, v.id), Record::Index(v.id));
    }
}

/// Writes the events of an addition of stamps: the main event, a goal event
/// and one event per voucher.
fn stamp_events(
    ctx: &Ctx<'_>,
    m: &mut Mutation,
    card: &Card,
    t: &Template,
    main: EventKind,
    effect: &StampEffect,
) {
    m.event(ctx.event(card, t, main));
    if effect.goals_reached > 0 {
        m.event(ctx.event(
            card,
            t,
            EventKind::GoalReached {
                times: effect.goals_reached,
            },
        ));
    }
    for v in &effect.vouchers {
        m.event(ctx.event(card, t, EventKind::VoucherIssued { voucher_id: *v }));
    }
}

/// Adds stamps counted toward today's cap and builds the mutation: the card,
/// new vouchers, the main event (made from the effect), goal and voucher events.
/// `window`: the rotating code's window the stamp uses up (written with the card).
fn stamps_mutation(
    ctx: &Ctx<'_>,
    t: &Template,
    count: u32,
    window: Option<u64>,
    main: impl FnOnce(StampEffect) -> EventKind,
) -> CoreResult<(Mutation, CardOutcome)> {
    let state = ctx.state;
    let tz = state.deps.settings.timezone;
    let mut failed = None;
    let mut added = add_stamps(
        &state.card,
        t,
        count,
        ctx.now,
        tz,
        true,
        &mut alloc_vouchers(state, &mut failed),
    );
    if let Some(e) = failed {
        return Err(e.into());
    }
    if let Some(window) = window {
        added.card.last_code_window = window;
    }
    let mut m = Mutation::new();
    m.put(Key::Card(added.card.id), Record::Card(added.card.clone()));
    put_vouchers(&mut m, &added.vouchers);
    stamp_events(
        ctx,
        &mut m,
        &added.card,
        t,
        main(added.effect.clone()),
        &added.effect,
    );
    let mut outcome = CardOutcome::of(added.card);
    outcome.vouchers = added.vouchers;
    outcome.effect = Some(added.effect);
    Ok((m, outcome))
}

/// Voucher ids for the rules, which take an allocator that cannot fail:
/// the first failure is kept in `failed` (check it after the rules ran; the
/// ids handed out meanwhile are 0 and never written).
fn alloc_vouchers<'a>(
    state: &'a CardState,
    failed: &'a mut Option<crate::store::StoreError>,
) -> impl FnMut() -> u64 + 'a {
    move || match state.deps.store.next_id(crate::store::Family::Vouchers) {
        Ok(id) => id,
        Err(e) => {
            failed.get_or_insert(e);
            0
        }
    }
}

fn idempotent_replay(state: &CardState, idem: &IdemKey) -> CoreResult<Option<CardOutcome>> {
    match state.deps.store.get(&Key::Idempotency(idem.key.clone()))? {
        Some(Record::Idempotency(rec)) => {
            if rec.request_hash != idem.request_hash {
                return Err(CoreError::IdempotencyMismatch(idem.given.clone()));
            }
            let mut outcome: CardOutcome = serde_json::from_value(rec.response).map_err(|e| {
                CoreError::Store(StoreError::Corrupt {
                    key: idem.key.clone(),
                    reason: e.to_string(),
                })
            })?;
            outcome.replayed = true;
            Ok(Some(outcome))
        }
        _ => Ok(None),
    }
}

async fn stamp(
    state: &mut CardState,
    count: u32,
    idempotency: Option<Box<IdemKey>>,
    actor: &Actor,
    code: Option<String>,
    totp: Option<String>,
) -> CoreResult<CardOutcome> {
    if count == 0 || count > rules::MAX_STAMPS_PER_REQUEST {
        return Err(CoreError::Invalid(format!(
            "stamp count must be between 1 and {}, not {count}",
            rules::MAX_STAMPS_PER_REQUEST
        )));
    }
    if let Some(idem) = &idempotency
        && let Some(replay) = idempotent_replay(state, idem)?
    {
        return Ok(replay);
    }
    let prepared = prepare_stamp(state, count, idempotency.as_deref(), actor, code, totp)?;
    let (m, outcome) = match prepared {
        Ok(ready) => ready,
        Err((m, outcome, refusal)) => {
            let committed = commit(state, m, outcome).await?;
            return Err(CoreError::Refused {
                reason: refusal,
                event_id: committed.event_ids.first().copied().unwrap_or(0),
            });
        }
    };
    match commit(state, m, outcome).await {
        // The same key raced in on another card: answer like a retry.
        Err(CoreError::Store(StoreError::Conflict(Key::Idempotency(_)))) => {
            match idempotency.as_ref().map(|i| idempotent_replay(state, i)) {
                Some(Ok(Some(replay))) => Ok(replay),
                Some(Err(e)) => Err(e),
                _ => Err(CoreError::Store(StoreError::Io(
                    "idempotency record vanished".into(),
                ))),
            }
        }
        other => other,
    }
}

type Prepared = Result<(Mutation, CardOutcome), (Mutation, CardOutcome, Refusal)>;

fn prepare_stamp(
    state: &CardState,
    count: u32,
    idempotency: Option<&IdemKey>,
    actor: &Actor,
    code: Option<String>,
    totp: Option<String>,
) -> CoreResult<Prepared> {
    let ctx = Ctx {
        state,
        now: state.deps.clock.now(),
        actor,
        code,
    };
    let t = ctx.template()?;
    // A template that takes only rotating codes stamps from nothing else
    // (an admin may still stamp a card by id, e.g. for a flat phone).
    if t.rules.rotating_codes && totp.is_none() && (ctx.code.is_some() || !actor.is_admin()) {
        return Err(CoreError::RotatingCodeNeeded {
            card_id: state.card.id,
        });
    }
    let settings = &state.deps.settings;
    let tz = settings.timezone;
    let window = match totp {
        Some(digits) => match rotating_window(state, &digits, ctx.now) {
            Ok(w) => Some(w),
            Err(refusal) => {
                let (m, outcome) = refusal_mutation(&ctx, &t, count, &refusal);
                return Ok(Err((m, outcome, refusal)));
            }
        },
        None => None,
    };
    let closed = t.rules.outside_hours == OutsideHours::Refuse
        && !settings.opening_hours.is_open(ctx.now, tz);
    let checked = match closed {
        true => Err(Refusal::OutsideHours {
            local: ctx.now.with_timezone(&tz).format("%a %H:%M").to_string(),
        }),
        false => check_fraud(&state.card, &t.rules, count, ctx.now, tz, true),
    };
    if let Err(refusal) = checked {
        let (m, outcome) = refusal_mutation(&ctx, &t, count, &refusal);
        return Ok(Err((m, outcome, refusal)));
    }
    let key = idempotency.map(|i| i.key.clone());
    // The code's window is used up in the stamp's own write.
    let (mut m, outcome) =
        stamps_mutation(&ctx, &t, count, window, |effect| EventKind::StampAdded {
            effect,
            idempotency_key: key,
        })?;
    if let Some(idem) = idempotency {
        m.guard_absent(Key::Idempotency(idem.key.clone()));
        let template = outcome.clone();
        let (key, hash, at) = (idem.key.clone(), idem.request_hash.clone(), ctx.now);
        m.derive(move |ids| {
            let mut response = template;
            response.event_ids = ids.to_vec();
            (
                Key::Idempotency(key),
                Record::Idempotency(IdempotencyRecord {
                    request_hash: hash,
                    response: serde_json::to_value(&response).unwrap_or_default(),
                    at,
                }),
            )
        });
    }
    Ok(Ok((m, outcome)))
}

/// Journals a stamp with a printed code that does not verify for this
/// card (`stamp_refused`, `code_forged`: evidence for the `bad_codes`
/// alert); the card is unchanged and the caller is told the code is forged.
async fn refuse_forged(
    state: &mut CardState,
    count: u32,
    actor: &Actor,
    printed: String,
) -> CoreResult<()> {
    let ctx = Ctx {
        state,
        now: state.deps.clock.now(),
        actor,
        code: Some(printed),
    };
    let t = ctx.template()?;
    let (m, outcome) = refusal_mutation(&ctx, &t, count, &Refusal::ForgedCode);
    commit(state, m, outcome).await.map(drop)
}

/// The window of a rotating code that may stamp this card now, or why not:
/// a window this card already used is a replay.
fn rotating_window(state: &CardState, digits: &str, now: DateTime<Utc>) -> Result<u64, Refusal> {
    let card = &state.card;
    let secret = &state.deps.settings.secret;
    match rotating::check(secret, card.id, card.counter, digits, now) {
        rotating::Check::Good { window } if window <= card.last_code_window => {
            Err(Refusal::ReplayedCode)
        }
        rotating::Check::Good { window } => Ok(window),
        rotating::Check::Expired => Err(Refusal::ExpiredCode),
        rotating::Check::Wrong => Err(Refusal::WrongCode),
    }
}

fn refusal_mutation(
    ctx: &Ctx<'_>,
    t: &Template,
    count: u32,
    refusal: &Refusal,
) -> (Mutation, CardOutcome) {
    let flagged = matches!(refusal, Refusal::DailyCap { .. });
    let mut card = ctx.state.card.clone();
    card.flagged |= flagged;
    let mut m = Mutation::new();
    m.put(Key::Card(card.id), Record::Card(card.clone()));
    m.event(ctx.event(
        &card,
        t,
        EventKind::StampRefused {
            count,
            reason: refusal.to_string(),
            flagged,
            refusal: Some(refusal.code().to_string()),
        },
    ));
    (m, CardOutcome::of(card))
}

fn claim(
    ctx: &Ctx<'_>,
    claim_key: String,
    count: u32,
    template_id: u64,
) -> CoreResult<(Mutation, CardOutcome)> {
    let state = ctx.state;
    if template_id != state.card.template_id {
        return Err(CoreError::ReceiptInvalid(format!(
            "this receipt code is for card template {template_id}, card {} follows template {}",
            state.card.id, state.card.template_id
        )));
    }
    if count == 0 || count > rules::MAX_STAMPS_PER_REQUEST {
        return Err(CoreError::ReceiptInvalid(format!(
            "a receipt code with {count} stamps is not valid"
        )));
    }
    let t = ctx.template()?;
    let tz = state.deps.settings.timezone;
    if let Err(refusal) = check_fraud(&state.card, &t.rules, count, ctx.now, tz, false) {
        return Err(CoreError::ReceiptInvalid(format!(
            "receipt not claimed: {refusal}"
        )));
    }
    let claimed = claim_key.clone();
    let (mut m, outcome) =
        stamps_mutation(ctx, &t, count, None, |effect| EventKind::ReceiptClaimed {
            claim_key: claimed,
            effect,
        })?;
    m.guard_absent(Key::ReceiptClaim(claim_key.clone()));
    let (card_id, at) = (outcome.card.id, ctx.now);
    m.derive(move |ids| {
        (
            Key::ReceiptClaim(claim_key.clone()),
            Record::Claim(ReceiptClaim {
                key: claim_key,
                card_id,
                event_id: ids.first().copied().unwrap_or(0),
                at,
            }),
        )
    });
    Ok((m, outcome))
}

fn adjust(ctx: &Ctx<'_>, delta: i64, reason: String) -> CoreResult<(Mutation, CardOutcome)> {
    ctx.actor.require_admin("adjusting stamps needs an admin")?;
    if reason.trim().is_empty() {
        return Err(CoreError::Invalid("an adjustment needs a reason".into()));
    }
    let limit = i64::from(rules::MAX_STAMPS_PER_REQUEST);
    // `unsigned_abs`: i64::MIN has no positive counterpart to overflow into.
    if delta == 0 || delta.unsigned_abs() > limit.unsigned_abs() {
        return Err(CoreError::Invalid(format!(
            "an adjustment must change between 1 and {limit} stamps, not {delta}"
        )));
    }
    let t = ctx.template()?;
    let state = ctx.state;
    let mut m = Mutation::new();
    let mut outcome;
    let effect = if delta > 0 {
        let mut failed = None;
        let added = add_stamps(
            &state.card,
            &t,
            delta as u32,
            ctx.now,
            state.deps.settings.timezone,
            false,
            &mut alloc_vouchers(state, &mut failed),
        );
        if let Some(e) = failed {
            return Err(e.into());
        }
        put_vouchers(&mut m, &added.vouchers);
        outcome = CardOutcome::of(added.card);
        outcome.vouchers = added.vouchers;
        Some(added.effect)
    } else {
        let remove = delta.unsigned_abs() as u32;
        if remove > state.card.stamps {
            return Err(CoreError::Invalid(format!(
                "card {} has {} stamps in its current cycle; cannot remove {remove}",
                state.card.id, state.card.stamps
            )));
        }
        let mut c = state.card.clone();
        c.stamps -= remove;
        c.lifetime_stamps = c.lifetime_stamps.saturating_sub(u64::from(remove));
        c.template_version = t.version;
        outcome = CardOutcome::of(c);
        None
    };
    let card = outcome.card.clone();
    m.put(Key::Card(card.id), Record::Card(card.clone()));
    let kind = EventKind::StampsAdjusted {
        delta,
        reason,
        effect: effect.clone(),
    };
    match &effect {
        Some(e) => stamp_events(ctx, &mut m, &card, &t, kind, e),
        None => {
            m.event(ctx.event(&card, &t, kind));
        }
    }
    outcome.effect = effect;
    Ok((m, outcome))
}

/// An instant as staff read it in a message: shop-local, to the minute.
fn shop_time(ctx: &Ctx<'_>, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&ctx.state.deps.settings.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn load_voucher(ctx: &Ctx<'_>, id: u64) -> CoreResult<Voucher> {
    match ctx.state.deps.store.get(&Key::Voucher(id))? {
        Some(Record::Voucher(v)) if v.card_id == ctx.state.card.id => Ok(v),
        _ => Err(CoreError::not_found("voucher", id)),
    }
}

fn redeem(
    ctx: &Ctx<'_>,
    voucher_id: u64,
    mac: Option<String>,
) -> CoreResult<(Mutation, CardOutcome)> {
    let mut v = load_voucher(ctx, voucher_id)?;
    if let Some(mac) = mac
        && verify_signed(
            &ctx.state.deps.settings.secret,
            CodeKind::Voucher,
            v.id,
            &mac,
            v.counter,
        )
        .is_err()
    {
        return Err(crate::codes::CodeError::Forged.into());
    }
    match v.state(ctx.now) {
        VoucherState::Active => {}
        VoucherState::Redeemed => {
            return Err(CoreError::AlreadyRedeemed {
                id: v.id,
                at: shop_time(ctx, v.redeemed_at.unwrap_or(ctx.now)),
            });
        }
        VoucherState::Expired => {
            return Err(CoreError::Expired {
                id: v.id,
                at: shop_time(ctx, v.expires_at.unwrap_or(ctx.now)),
            });
        }
        VoucherState::Voided => return Err(CoreError::Voided(v.id)),
    }
    let t = ctx.template()?;
    v.redeemed_at = Some(ctx.now);
    let card = ctx.state.card.clone();
    let mut m = Mutation::new();
    m.event(ctx.event(&card, &t, EventKind::VoucherRedeemed { voucher_id: v.id }));
    let stored = v.clone();
    m.derive(move |ids| {
        let mut v = stored;
        v.redeemed_event = ids.first().copied();
        (Key::Voucher(v.id), Record::Voucher(v))
    });
    let mut outcome = CardOutcome::of(card);
    outcome.vouchers = vec![v];
    Ok((m, outcome))
}

fn hand_over(ctx: &Ctx<'_>) -> CoreResult<(Mutation, CardOutcome)> {
    let card = &ctx.state.card;
    if card.rewards_pending == 0 {
        return Err(CoreError::NoReward(card.id));
    }
    simple_change(ctx, |c| {
        c.rewards_pending -= 1;
        EventKind::RewardGiven
    })
}

fn simple_change(
    ctx: &Ctx<'_>,
    change: impl FnOnce(&mut Card) -> EventKind,
) -> CoreResult<(Mutation, CardOutcome)> {
    let t = ctx.template()?;
    let mut c = ctx.state.card.clone();
    let kind = change(&mut c);
    let mut m = Mutation::new();
    m.put(Key::Card(c.id), Record::Card(c.clone()));
    m.event(ctx.event(&c, &t, kind));
    Ok((m, CardOutcome::of(c)))
}

fn spin(ctx: &Ctx<'_>) -> CoreResult<(Mutation, CardOutcome)> {
    let card = &ctx.state.card;
    if card.spins_available == 0 {
        return Err(CoreError::NoSpin(card.id));
    }
    let t = ctx.template()?;
    let Reward::Lottery { prizes } = &t.reward else {
        return Err(CoreError::Invalid(format!(
            "card {} follows a template without a lottery",
            card.id
        )));
    };
    let settings = &ctx.state.deps.settings;
    let idx = rules::draw(prizes, settings.lottery_seed, card.id, card.spins_played)
        .ok_or_else(|| CoreError::Invalid("the lottery has no prizes".into()))?;
    let prize = &prizes[idx];
    let mut c = card.clone();
    c.spins_available -= 1;
    c.spins_played += 1;
    let v = crate::rules::new_voucher_pub(
        ctx.state
            .deps
            .store
            .next_id(crate::store::Family::Vouchers)?,
        c.id,
        &prize.name,
        VoucherOrigin::Lottery,
        prize.valid_days,
        ctx.now,
    );
    let mut m = Mutation::new();
    m.put(Key::Card(c.id), Record::Card(c.clone()));
    put_vouchers(&mut m, std::slice::from_ref(&v));
    m.event(ctx.event(
        &c,
        &t,
        EventKind::LotteryPlayed {
            prize: prize.name.clone(),
            voucher_id: v.id,
        },
    ));
    m.event(ctx.event(&c, &t, EventKind::VoucherIssued { voucher_id: v.id }));
    let mut outcome = CardOutcome::of(c);
    outcome.prize = Some(prize.name.clone());
    outcome.vouchers = vec![v];
    Ok((m, outcome))
}

fn reverse(ctx: &Ctx<'_>, event: Event, reason: String) -> CoreResult<(Mutation, CardOutcome)> {
    let settings = &ctx.state.deps.settings;
    if reason.trim().is_empty() {
        return Err(CoreError::Invalid("a reversal needs a reason".into()));
    }
    if !event.kind.reversible() {
        return Err(CoreError::NotReversible(format!(
            "a {} event cannot be reversed",
            event.kind.name()
        )));
    }
    if !ctx.actor.is_admin() {
        let window = chrono::Duration::from_std(settings.staff_undo_window).unwrap_or_default();
        if ctx.now - event.at > window {
            return Err(CoreError::Forbidden(format!(
                "staff may reverse events of the last {} minutes; ask an admin",
                settings.staff_undo_window.as_secs() / 60
            )));
        }
    }
    if ctx
        .state
        .deps
        .store
        .get(&Key::ReversalOf(event.id))?
        .is_some()
    {
        return Err(CoreError::NotReversible(format!(
            "event {} was already reversed",
            event.id
        )));
    }
    let voucher_ids: Vec<u64> = match &event.kind {
        EventKind::StampAdded { effect, .. } | EventKind::ReceiptClaimed { effect, .. } => {
            effect.vouchers.clone()
        }
        EventKind::VoucherRedeemed { voucher_id } => vec![*voucher_id],
        _ => Vec::new(),
    };
    let vouchers = voucher_ids
        .iter()
        .map(|id| load_voucher(ctx, *id))
        .collect::<CoreResult<Vec<_>>>()?;
    if let EventKind::VoucherRedeemed { .. } = &event.kind
        && vouchers.iter().any(|v| v.redeemed_event != Some(event.id))
    {
        return Err(CoreError::NotReversible(
            "the voucher's redemption changed since".into(),
        ));
    }
    let plan =
        plan_reversal(&ctx.state.card, &event.kind, vouchers).map_err(CoreError::NotReversible)?;
    let t = ctx.template()?;
    let mut m = Mutation::new();
    m.guard_absent(Key::ReversalOf(event.id));
    m.put(Key::Card(plan.card.id), Record::Card(plan.card.clone()));
    for v in &plan.vouchers {
        m.put(Key::Voucher(v.id), Record::Voucher(v.clone()));
    }
    if let Some(claim) = &plan.free_claim {
        m.deletes.push(Key::ReceiptClaim(claim.clone()));
    }
    m.event(ctx.event(
        &plan.card,
        &t,
        EventKind::Reversal {
            of: event.id,
            reason,
        },
    ));
    let of = event.id;
    m.derive(move |ids| {
        (
            Key::ReversalOf(of),
            Record::Index(ids.first().copied().unwrap_or(0)),
        )
    });
    let mut outcome = CardOutcome::of(plan.card);
    outcome.vouchers = plan.vouchers;
    Ok((m, outcome))
}

fn delete(ctx: &Ctx<'_>) -> CoreResult<(Mutation, CardOutcome)> {
    let store = &ctx.state.deps.store;
    let mut m = Mutation::new();
    let mut voided = Vec::new();
    for (_, r) in store.scan(
        crate::store::Family::VouchersOfCard(ctx.state.card.id),
        Default::default(),
    )? {
        if let Record::Index(id) = r
            && let Some(Record::Voucher(mut v)) = store.get(&Key::Voucher(id))?
            && v.state(ctx.now) == VoucherState::Active
        {
            v.voided = true;
            m.put(Key::Voucher(v.id), Record::Voucher(v.clone()));
            voided.push(v);
        }
    }
    let (m2, mut outcome) = simple_change(ctx, |c| {
        c.deleted = true;
        EventKind::CardDeleted
    })?;
    m.puts.extend(m2.puts);
    m.events.extend(m2.events);
    outcome.vouchers = voided;
    Ok((m, outcome))
}

/// The card's voucher of this origin, if it has one.
fn existing_voucher(ctx: &Ctx<'_>, origin: &VoucherOrigin) -> CoreResult<Option<Voucher>> {
    let card = ctx.state.card.id;
    let store = &ctx.state.deps.store;
    for (_, r) in store.scan(
        crate::store::Family::VouchersOfCard(card),
        crate::store::Scan::default(),
    )? {
        if let Record::Index(id) = r
            && let Some(Record::Voucher(v)) = store.get(&Key::Voucher(id))?
            && v.origin == *origin
        {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

fn issue_voucher(
    ctx: &Ctx<'_>,
    description: String,
    valid_days: u32,
    origin: VoucherOrigin,
) -> CoreResult<(Mutation, CardOutcome)> {
    crate::rules::validate_voucher(&description, valid_days)?;
    let t = ctx.template()?;
    let c = ctx.state.card.clone();
    let v = crate::rules::new_voucher_pub(
        ctx.state
            .deps
            .store
            .next_id(crate::store::Family::Vouchers)?,
        c.id,
        &description,
        origin,
        valid_days,
        ctx.now,
    );
    let mut m = Mutation::new();
    put_vouchers(&mut m, std::slice::from_ref(&v));
    m.event(ctx.event(&c, &t, EventKind::VoucherIssued { voucher_id: v.id }));
    let mut outcome = CardOutcome::of(c);
    outcome.vouchers = vec![v];
    Ok((m, outcome))
}

/// Marks an active, expiring voucher as reminded and journals the reminder
/// (the notifier turns it into a message); a second reminder is refused.
fn remind_expiring(ctx: &Ctx<'_>, voucher_id: u64) -> CoreResult<(Mutation, CardOutcome)> {
    let mut v = load_voucher(ctx, voucher_id)?;
    if !v.remindable(ctx.now) {
        return Err(CoreError::Invalid(format!(
            "voucher {voucher_id} is not active with an expiry, or was already reminded"
        )));
    }
    v.reminded_at = Some(ctx.now);
    let t = ctx.template()?;
    let c = ctx.state.card.clone();
    let mut m = Mutation::new();
    put_vouchers(&mut m, std::slice::from_ref(&v));
    m.event(ctx.event(&c, &t, EventKind::VoucherExpiring { voucher_id }));
    let mut outcome = CardOutcome::of(c);
    outcome.vouchers = vec![v];
    Ok((m, outcome))
}

fn reassign(ctx: &Ctx<'_>, customer_id: u64) -> CoreResult<(Mutation, CardOutcome)> {
    let mut c = ctx.state.card.clone();
    let mut m = Mutation::new();
    m.deletes.push(Key::CardOfCustomer(c.customer_id, c.id));
    c.customer_id = customer_id;
    m.put(Key::Card(c.id), Record::Card(c.clone()));
    m.put(Key::CardOfCustomer(customer_id, c.id), Record::Index(c.id));
    Ok((m, CardOutcome::of(c)))
}
