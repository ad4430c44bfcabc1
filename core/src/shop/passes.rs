//! Wallet passes: each card's pass record (serial and token), the devices
//! that keep it, the version a device last fetched, and confirming pushes
//! once a device fetched the updated pass.

use super::context::{Context, on_context};
use chrono::{DateTime, Utc};

use crate::actors::{CardCommand, device_hash};
use crate::consumers::{google_class_key, google_object_key};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Card, EventKind, PassRecord, Platform, valid_device_id};
use crate::outbox::DeliveryState;
use crate::store::{Family, Key, Mutation, Record, Scan, StoreError};

/// The version of a pass: it changes with every journal event of its card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassVersion {
    /// The newest event of the card (PassKit's `lastUpdated` tag).
    pub tag: u64,
    /// When that happened.
    pub modified: DateTime<Utc>,
    /// Whether that event posted campaign news: this version of the pass
    /// brings the news field's change.
    pub brings_news: bool,
}

fn wallet_actor() -> Actor {
    Actor::Channel {
        name: "wallet".into(),
    }
}

fn check_device(device: &str) -> CoreResult<()> {
    if valid_device_id(device) {
        Ok(())
    } else {
        Err(CoreError::Invalid(
            "a device library identifier is 1 to 128 letters, digits, '.', '-' or '_'".into(),
        ))
    }
}

/// Events looked back over for a card's newest pass-changing one (when none
/// of them changes the pass, the newest stands).
const PASS_VERSION_LOOKBACK: usize = 32;
/// Wallet passes: records, devices, versions.
#[derive(Clone)]
pub struct Passes {
    ctx: Context,
}

on_context!(Passes);

impl Passes {
    pub(super) fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Passes {
    /// The pass record of a card, if a pass was ever built for it.
    pub fn pass(&self, card_id: u64) -> CoreResult<Option<PassRecord>> {
        self.ctx.pass(card_id)
    }

    /// The pass record of a card, created (with its fixed random token) the
    /// first time a pass is built.
    pub async fn ensure_pass(&self, card_id: u64) -> CoreResult<PassRecord> {
        if let Some(p) = self.pass(card_id)? {
            return Ok(p);
        }
        let card = self.card(card_id)?;
        if card.deleted {
            return Err(CoreError::CardDeleted(card_id));
        }
        let pass = PassRecord::new(card_id, self.clock().now());
        let mut m = Mutation::new();
        m.guard_absent(Key::Pass(card_id));
        m.put(Key::Pass(card_id), Record::Pass(pass.clone()));
        match self.store().commit(m).await {
            Ok(_) => Ok(pass),
            // Built at the same moment by another request: theirs stands.
            Err(StoreError::Conflict(_)) => self
                .pass(card_id)?
                .ok_or_else(|| CoreError::not_found("pass of card", card_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Cards (not deleted) held in Apple Wallet and in Google Wallet.
    pub fn cards_per_wallet(&self) -> CoreResult<(u64, u64)> {
        let (mut apple, mut google) = (0, 0);
        self.store().for_each(Family::Cards, &mut |_, r| {
            if let Record::Card(c) = r
                && !c.deleted
            {
                apple += u64::from(c.platforms.contains(&Platform::AppleWallet));
                google += u64::from(c.platforms.contains(&Platform::GoogleWallet));
            }
            true
        })?;
        Ok((apple, google))
    }

    /// Whether the card's Google Wallet object was inserted through
    /// Google's API (it is then patched on every change of the card).
    pub fn has_google_object(&self, card_id: u64) -> CoreResult<bool> {
        self.marked(google_object_key(card_id))
    }

    /// Whether the template's Google Wallet class was inserted.
    pub fn has_google_class(&self, template_id: u64) -> CoreResult<bool> {
        self.marked(google_class_key(template_id))
    }

    /// Records that the card's Google Wallet object now exists at Google
    /// (from then on the pass updater patches it); once is enough.
    pub async fn google_object_inserted(&self, card_id: u64) -> CoreResult<()> {
        self.mark_once(google_object_key(card_id)).await.map(drop)
    }

    /// Records that the template's Google Wallet class now exists at
    /// Google (from then on template edits patch it); once is enough.
    pub async fn google_class_inserted(&self, template_id: u64) -> CoreResult<()> {
        self.mark_once(google_class_key(template_id))
            .await
            .map(drop)
    }

    /// Google's save or delete callback for a card, verified by the caller:
    /// the card's Google platform is set or cleared and journaled. A nonce
    /// seen before changes nothing (`false`); Google may send one twice.
    pub async fn google_callback(
        &self,
        card_id: u64,
        saved: bool,
        nonce: &str,
    ) -> CoreResult<bool> {
        if nonce.is_empty() || nonce.len() > 200 {
            return Err(CoreError::Invalid(
                "a callback nonce is 1 to 200 characters".into(),
            ));
        }
        let key = format!("google_nonce:{nonce}");
        if self.marked(key.clone())? {
            return Ok(false);
        }
        let command = CardCommand::WalletHeld {
            platform: Platform::GoogleWallet,
            saved,
        };
        self.command(card_id, command, &wallet_actor(), None)
            .await?;
        // Kept after the change: a crash between the two lets a resent
        // callback set the same state again, which changes nothing.
        self.mark_once(key).await
    }

    /// Marks the card as held in Google Wallet, as far as the shop can tell
    /// (its save link was opened; Google's save and delete callbacks refine
    /// it): campaigns reach it there.
    pub async fn google_saved(&self, card_id: u64) -> CoreResult<()> {
        self.command(
            card_id,
            CardCommand::AddPlatform(Platform::GoogleWallet),
            &wallet_actor(),
            None,
        )
        .await
        .map(|_| ())
    }

    /// The card and pass a PassKit request names, when its token is the
    /// pass's: unknown serials are not found, wrong tokens unauthenticated.
    pub fn authorized_pass(&self, serial: &str, token: &str) -> CoreResult<(Card, PassRecord)> {
        let card_id =
            PassRecord::card_of(serial).ok_or_else(|| CoreError::not_found("pass", serial))?;
        let pass = self
            .pass(card_id)?
            .ok_or_else(|| CoreError::not_found("pass", serial))?;
        if !pass.token_matches(token) {
            return Err(CoreError::Unauthenticated(
                "wrong pass authentication token".into(),
            ));
        }
        Ok((self.card(card_id)?, pass))
    }

    /// Registers a device for a pass's pushes; `true` when it is new
    /// (journaled as pass saved).
    pub async fn register_pass_device(
        &self,
        serial: &str,
        token: &str,
        device: &str,
        push_token: &str,
    ) -> CoreResult<bool> {
        check_device(device)?;
        if !valid_device_id(push_token) {
            return Err(CoreError::Invalid(
                "the push token is 1 to 128 letters or digits".into(),
            ));
        }
        let (card, _) = self.authorized_pass(serial, token)?;
        let command = CardCommand::PassDevice {
            device: device.to_string(),
            push_token: Some(push_token.to_string()),
        };
        let outcome = self
            .command(card.id, command, &wallet_actor(), None)
            .await?;
        Ok(!outcome.event_ids.is_empty())
    }

    /// Unregisters a device from a pass (journaled as pass removed).
    pub async fn unregister_pass_device(
        &self,
        serial: &str,
        token: &str,
        device: &str,
    ) -> CoreResult<()> {
        check_device(device)?;
        let (card, _) = self.authorized_pass(serial, token)?;
        self.drop_pass_device(card.id, device).await
    }

    /// Posts a campaign's PUSH text to a card's pass (journaled as wallet
    /// news; the pass updater then pushes it to the devices). Once per
    /// campaign: posting it again, or to a card without a pass, changes nothing.
    pub async fn post_pass_news(
        &self,
        card_id: u64,
        campaign_id: u64,
        text: &str,
    ) -> CoreResult<()> {
        let command = CardCommand::PassNews {
            campaign_id,
            text: text.to_string(),
        };
        self.command(card_id, command, &wallet_actor(), None)
            .await
            .map(|_| ())
    }

    /// Forgets a device of a card's pass (APNs said its token is gone).
    pub async fn drop_pass_device(&self, card_id: u64, device: &str) -> CoreResult<()> {
        let command = CardCommand::PassDevice {
            device: device.to_string(),
            push_token: None,
        };
        self.command(card_id, command, &wallet_actor(), None)
            .await
            .map(|_| ())
    }

    /// The current version of a card's pass: its newest event that can
    /// change what the pass shows (a delivered Telegram message or a device
    /// saving the pass does not make a new version).
    pub fn pass_version(&self, card_id: u64) -> CoreResult<PassVersion> {
        // The newest pass-changing event; else the newest event at all.
        let mut newest = None;
        self.visit_newest_card_events(card_id, PASS_VERSION_LOOKBACK, |e| {
            if crate::consumers::changes_pass(&e.kind) {
                newest = Some(e);
                return false;
            }
            newest.get_or_insert(e);
            true
        })?;
        let card = self.card(card_id)?;
        let own = match newest {
            Some(e) => PassVersion {
                tag: e.id,
                modified: e.at,
                brings_news: matches!(e.kind, EventKind::WalletNews { .. }),
            },
            None => PassVersion {
                tag: 0,
                modified: card.created_at,
                brings_news: false,
            },
        };
        // A later edit of the card's template, or of its holder's name or
        // language, is a new version too.
        match crate::consumers::pass_restyle(self, &card)? {
            Some((tag, modified)) if tag > own.tag => Ok(PassVersion {
                tag,
                modified,
                brings_news: false,
            }),
            _ => Ok(own),
        }
    }

    /// The serial numbers of a device's passes that changed after `since`
    /// (all of them without it), and the tag to ask with next time.
    pub fn passes_updated(
        &self,
        device: &str,
        since: Option<u64>,
    ) -> CoreResult<(Vec<String>, u64)> {
        check_device(device)?;
        // Read first: anything committed later is reported next time, and
        // so is a restyle the pass updater has not recorded yet.
        let last = crate::consumers::settled_tag(self, self.store().last_event_id())?;
        let mut serials = Vec::new();
        for (key, _) in self
            .store()
            .scan(Family::PassesOfDevice(device_hash(device)), Scan::default())?
        {
            let Key::PassOfDevice(_, card_id) = key else {
                continue;
            };
            // The hash names the device; the record confirms it.
            let keeps = self
                .pass(card_id)?
                .is_some_and(|p| p.devices.iter().any(|d| d.device == device));
            if keeps && since.is_none_or(|s| self.pass_version(card_id).is_ok_and(|v| v.tag > s)) {
                serials.push(PassRecord::serial_of(card_id));
            }
        }
        Ok((serials, last))
    }

    /// A device fetched the current pass: its pushes sent so far are
    /// confirmed (✅✅). Returns how many.
    pub async fn pass_fetched(&self, card_id: u64) -> CoreResult<usize> {
        let mut m = Mutation::new();
        let now = self.clock().now();
        let mut confirmed = 0;
        for (key, _) in self
            .store()
            .scan(Family::PushesOfCard(card_id), Scan::default())?
        {
            let Key::PushOfCard(_, id) = key else {
                continue;
            };
            let Ok(mut entry) = self.outbox().entry(id) else {
                m.deletes.push(key);
                continue;
            };
            match entry.state {
                DeliveryState::Queued | DeliveryState::Sending => continue,
                DeliveryState::Sent => {
                    entry.state = DeliveryState::Confirmed;
                    entry.confirmed_at = Some(now);
                    m.put(Key::Outbox(id), Record::Outbox(entry));
                    confirmed += 1;
                }
                DeliveryState::Confirmed | DeliveryState::Failed => {}
            }
            m.deletes.push(key);
        }
        if !m.deletes.is_empty() {
            self.store().commit(m).await?;
        }
        Ok(confirmed)
    }
}
