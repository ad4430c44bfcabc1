//! The pass updater: when a card with a saved wallet pass changes, it queues
//! one push per registered device (the device then fetches the new pass).
//! Changes coalesce: while a device's push has not gone out yet, further
//! changes need no second one. A template edit, and a holder's new name or
//! language, touch every pass of their cards: the updater records them as
//! those passes' new version (`pass_restyle`) and pushes each.
//!
//! Campaign news reaches passes through the same channel: planning queues
//! one `wallet` entry per card holding a pass (the [`WalletRoute`]); when
//! it is due (after quiet hours) the wallet channel posts the text to the
//! pass, which is a card event like any other, so this updater pushes it.

use chrono::{DateTime, Utc};

use crate::error::CoreResult;
use crate::model::{Card, Customer, Event, EventKind, Platform};
use crate::outbox::{DeliveryState, Message, Purpose};
use crate::shop::Context;
use crate::store::{Family, Key, Mutation, Record, Scan};

use super::{Consumer, Route};

/// The outbox channel of wallet pushes.
pub const WALLET_CHANNEL: &str = "wallet";

/// The outbox channel of Google Wallet updates (object patches, class
/// patches).
pub const GOOGLE_CHANNEL: &str = "google-wallet";

/// The metadata key marking that a card's Google Wallet object was
/// inserted through Google's API (from then on it is patched).
pub fn google_object_key(card: u64) -> String {
    format!("google_object:{card}")
}

/// The metadata key marking that a template's Google Wallet class was
/// inserted (from then on every template edit patches it).
pub fn google_class_key(template: u64) -> String {
    format!("google_class:{template}")
}

/// Queues wallet pushes for changed cards.
pub struct PassUpdater;

/// Whether an event can change what a card's pass shows.
pub(crate) fn changes_pass(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::StampRefused { .. }
            | EventKind::PassSaved { .. }
            | EventKind::PassRemoved { .. }
            | EventKind::CustomerCreated
            | EventKind::CampaignSent { .. }
            | EventKind::CampaignDelivered { .. }
            | EventKind::StaffChanged { .. }
            | EventKind::SignInFailed { .. }
            | EventKind::ReceiptGuessing { .. }
            | EventKind::TemplateSaved { .. }
    )
}

/// Reaches the cards saved in Apple Wallet with campaign news (recipient:
/// the card id); card news needs no route there (the updater pushes it).
pub struct WalletRoute;

impl Route for WalletRoute {
    fn channel(&self) -> &str {
        WALLET_CHANNEL
    }

    fn recipient(&self, _customer: &Customer, card: &Card, purpose: Purpose) -> Option<String> {
        (purpose == Purpose::Marketing && card.platforms.contains(&Platform::AppleWallet))
            .then(|| card.id.to_string())
    }
}

/// Reaches the cards held in Google Wallet with campaign news (recipient:
/// the card id): a message on the card's object. A campaign picks it with
/// the `wallet` channel, as it picks Apple's.
pub struct GoogleRoute;

impl Route for GoogleRoute {
    fn channel(&self) -> &str {
        GOOGLE_CHANNEL
    }

    fn picked_by(&self) -> &str {
        WALLET_CHANNEL
    }

    fn recipient(&self, _customer: &Customer, card: &Card, purpose: Purpose) -> Option<String> {
        (purpose == Purpose::Marketing && card.platforms.contains(&Platform::GoogleWallet))
            .then(|| card.id.to_string())
    }
}

/// Whether an outbox entry posts campaign news (rather than pushing).
pub fn is_news(entry: &crate::outbox::OutboxEntry) -> bool {
    entry.message.data.get("campaign").is_some()
}

/// Whether an update of the card on `channel` is queued already (in this
/// batch or earlier) and not yet sent: it will carry this change too (a
/// device fetches the newest pass, a patch sends the newest object).
/// Campaign news waiting for its time is no update.
fn update_waiting(ctx: &Context, channel: &str, card_id: u64, m: &Mutation) -> CoreResult<bool> {
    let waiting = |e: &crate::outbox::OutboxEntry| {
        e.message.channel == channel
            && e.state == DeliveryState::Queued
            && e.attempts == 0
            && !is_news(e)
    };
    for (k, r) in &m.puts {
        if let (Key::Outbox(_), Record::Outbox(e)) = (k, r)
            && e.message.card_id == Some(card_id)
            && waiting(e)
        {
            return Ok(true);
        }
    }
    for (key, _) in ctx
        .store()
        .scan(Family::PushesOfCard(card_id), Scan::default())?
    {
        if let Key::PushOfCard(_, id) = key
            && ctx.outbox().entry(id).is_ok_and(|e| waiting(&e))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The pass updater's consumer name (its cursor's key).
pub const PASS_UPDATER: &str = "wallet-passes";

impl Consumer for PassUpdater {
    fn name(&self) -> &str {
        PASS_UPDATER
    }

    fn handle(&self, ctx: &Context, event: &Event, m: &mut Mutation) -> CoreResult<()> {
        // An edited template restyles every pass of its cards: the edit is
        // their new version, and each saved pass gets its push.
        if let (EventKind::TemplateSaved { .. }, Some(template)) = (&event.kind, event.template_id)
        {
            restyle_mark(m, style_key(template), event);
            let mut cards = Vec::new();
            ctx.store().for_each(Family::Cards, &mut |_, r| {
                if let Record::Card(c) = r
                    && c.template_id == template
                    && !c.deleted
                {
                    cards.push(c.id);
                }
                true
            })?;
            if ctx.marked(google_class_key(template))? {
                let message = google_message(serde_json::json!({ "template": template }), event);
                ctx.outbox().enqueue(m, message)?;
            }
            for card_id in cards {
                push_to_devices(ctx, card_id, event, m)?;
                patch_google_object(ctx, card_id, event, m)?;
            }
            return Ok(());
        }
        // A holder's new name or language is on every pass of theirs.
        if let (EventKind::CustomerUpdated { field }, Some(customer)) =
            (&event.kind, event.customer_id)
        {
            if !shown_of_holder(field) {
                return Ok(());
            }
            restyle_mark(m, holder_key(customer), event);
            for card in ctx.cards_of_customer(customer)? {
                if !card.deleted {
                    push_to_devices(ctx, card.id, event, m)?;
                    patch_google_object(ctx, card.id, event, m)?;
                }
            }
            return Ok(());
        }
        let Some(card_id) = event.card_id else {
            return Ok(());
        };
        if !changes_pass(&event.kind) {
            return Ok(());
        }
        push_to_devices(ctx, card_id, event, m)?;
        patch_google_object(ctx, card_id, event, m)
    }
}

/// The customer fields a pass shows (its holder's name, and its words in
/// the holder's language).
const HOLDER_FIELDS: [&str; 2] = ["name", "language"];

fn shown_of_holder(field: &str) -> bool {
    HOLDER_FIELDS.contains(&field)
}

/// Whether the updater records `event` as a restyle of passes (a template
/// edit, a holder's new name or language).
fn restyles(event: &Event) -> bool {
    match &event.kind {
        EventKind::TemplateSaved { .. } => event.template_id.is_some(),
        EventKind::CustomerUpdated { field } => {
            event.customer_id.is_some() && shown_of_holder(field)
        }
        _ => false,
    }
}

/// How many unhandled events [`settled_tag`] looks through before it
/// settles for the updater's cursor.
const UNHANDLED_LOOKAHEAD: usize = 256;

/// The tag a device may be given while the journal ends at `last`: a
/// restyle is a pass's version only once the updater recorded it, so the
/// tag stays just before the first one it has not handled yet (the device
/// hears of it next time). Events of other kinds are versions by
/// themselves and do not hold the tag back.
pub(crate) fn settled_tag(ctx: &Context, last: u64) -> CoreResult<u64> {
    let Some(Record::Cursor(handled)) = ctx.store().get(&Key::Cursor(PASS_UPDATER.into()))? else {
        return Ok(last);
    };
    if handled >= last {
        return Ok(last);
    }
    let scan = Scan {
        after: Some(handled),
        reverse: false,
        limit: UNHANDLED_LOOKAHEAD,
    };
    let unhandled = ctx.store().scan(Family::Events, scan)?;
    let far_behind = unhandled.len() >= UNHANDLED_LOOKAHEAD;
    for (_, record) in unhandled {
        if let Record::Event(e) = record {
            if e.id > last {
                return Ok(last);
            }
            if restyles(&e) {
                return Ok(e.id - 1);
            }
        }
    }
    Ok(if far_behind { handled } else { last })
}

/// The metadata key of a template's newest edit as passes see it.
fn style_key(template: u64) -> String {
    format!("pass_style:{template}")
}

/// The metadata key of the newest change of a holder that passes show.
fn holder_key(customer: u64) -> String {
    format!("pass_holder:{customer}")
}

/// Records `event` as the newest restyle under `key`: from it on, the
/// passes it touches have a new version.
fn restyle_mark(m: &mut Mutation, key: String, event: &Event) {
    m.put(
        Key::Meta(key),
        Record::Meta(serde_json::json!({ "event": event.id, "at": event.at })),
    );
}

fn restyled(ctx: &Context, key: String) -> CoreResult<Option<(u64, DateTime<Utc>)>> {
    let Some(Record::Meta(style)) = ctx.store().get(&Key::Meta(key))? else {
        return Ok(None);
    };
    let at = style["at"].as_str().and_then(|at| at.parse().ok());
    Ok(style["event"].as_u64().zip(at))
}

/// What restyled a card's pass after its own events, as the updater
/// recorded it when it pushed the passes: the newest of its template's
/// edits and its holder's name or language changes (event id and when).
pub(crate) fn pass_restyle(ctx: &Context, card: &Card) -> CoreResult<Option<(u64, DateTime<Utc>)>> {
    let template = restyled(ctx, style_key(card.template_id))?;
    let holder = restyled(ctx, holder_key(card.customer_id))?;
    Ok(template.into_iter().chain(holder).max_by_key(|(id, _)| *id))
}

/// Queues one push per device that saved the card's pass, unless a push is
/// waiting already (it will make the device fetch this change too).
fn push_to_devices(ctx: &Context, card_id: u64, event: &Event, m: &mut Mutation) -> CoreResult<()> {
    let Some(pass) = ctx.pass(card_id)? else {
        return Ok(());
    };
    if pass.devices.is_empty() || update_waiting(ctx, WALLET_CHANNEL, card_id, m)? {
        return Ok(());
    }
    let customer_id = match event.customer_id {
        Some(c) => Some(c),
        None => ctx.card(card_id).ok().map(|c| c.customer_id),
    };
    for device in &pass.devices {
        let message = Message {
            channel: WALLET_CHANNEL.into(),
            recipient: device.push_token.clone(),
            purpose: Purpose::Transactional,
            subject: None,
            text: format!("pass {card_id} changed"),
            data: serde_json::json!({ "device": device.device, "card": card_id }),
            customer_id,
            card_id: Some(card_id),
            source_event: Some(event.id),
        };
        let id = ctx.outbox().enqueue(m, message)?;
        m.put(Key::PushOfCard(card_id, id), Record::Index(id));
    }
    Ok(())
}

/// A Google Wallet update: a class (`{"template": id}`) or a card's object
/// (`{"card": id}`); the channel sends what it names as it is when sent.
fn google_message(data: serde_json::Value, event: &Event) -> Message {
    let card_id = data["card"].as_u64();
    Message {
        channel: GOOGLE_CHANNEL.into(),
        recipient: match card_id {
            Some(card) => card.to_string(),
            None => format!("template {}", data["template"]),
        },
        purpose: Purpose::Transactional,
        subject: None,
        text: match card_id {
            Some(card) => format!("object of card {card} changed"),
            None => format!("class of template {} changed", data["template"]),
        },
        data,
        customer_id: event.customer_id,
        card_id,
        source_event: Some(event.id),
    }
}

/// Queues a patch of the card's Google Wallet object, when it has one and
/// no patch is waiting already (that one will send the newest object).
fn patch_google_object(
    ctx: &Context,
    card_id: u64,
    event: &Event,
    m: &mut Mutation,
) -> CoreResult<()> {
    if !ctx.marked(google_object_key(card_id))? || update_waiting(ctx, GOOGLE_CHANNEL, card_id, m)?
    {
        return Ok(());
    }
    let message = google_message(serde_json::json!({ "card": card_id }), event);
    let id = ctx.outbox().enqueue(m, message)?;
    m.put(Key::PushOfCard(card_id, id), Record::Index(id));
    Ok(())
}
