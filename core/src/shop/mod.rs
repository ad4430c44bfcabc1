//! [`Shop`]: one handle to a running shop, with its commands and queries.
//!
//! Commands on a card go to that card's actor through the directory; lists,
//! searches and the journal read the store directly and never activate actors.

mod analytics;
mod api_keys;
mod automations;
mod campaign_edits;
mod campaigns;
mod cards;
mod conversations;
mod customers;
mod join;
mod journal;
mod passes;
mod personal;
mod pin_guard;
mod receipts;
mod reminders;
mod staff;
mod templates;
mod unsubscribe;
mod webhooks;

pub use analytics::{Analytics, DayStats};
pub use automations::{AutomationDraft, AutomationStatus};
pub use campaigns::{Audience, CAMPAIGN_CHANNELS, CampaignDraft, CampaignStatus};
pub use cards::{IssueCard, Lookup};
pub use customers::ProfileChange;
pub use join::{Joined, TelegramUser};
pub use journal::JournalQuery;
pub use passes::PassVersion;
pub use personal::Personal;
pub use pin_guard::{FIRST_LOCK_SECS, FREE_FAILURES, MAX_LOCK_SECS, PinCheck};
pub use templates::TemplateDraft;
pub use webhooks::WEBHOOK_CHANNEL;

use std::path::Path;
use std::sync::Arc;

use ractor::{Actor, ActorRef};

use crate::actors::{
    CardCommand, CardMsg, CardOutcome, CardRequest, Deps, Directory, DirectoryMsg, DirectoryStats,
    TemplateCache,
};
use crate::clock::Clock;
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor as Who, Template};
use crate::settings::ShopSettings;
use crate::store::{Family, Record, SledOptions, SledStore, Store};

/// A running shop.
#[derive(Clone)]
pub struct Shop {
    deps: Arc<Deps>,
    directory: ActorRef<DirectoryMsg>,
    sled: Option<Arc<SledStore>>,
    customers_lock: Arc<tokio::sync::Mutex<()>>,
    outbox: crate::outbox::Outbox,
    staff_changes: Arc<tokio::sync::watch::Sender<u64>>,
    join_lock: Arc<tokio::sync::Mutex<()>>,
    webhook_cache: Arc<std::sync::RwLock<Option<Arc<Vec<crate::model::Webhook>>>>>,
    campaign_lock: Arc<tokio::sync::Mutex<()>>,
    forget_hooks: Arc<std::sync::RwLock<Vec<ForgetHook>>>,
}

/// Called after a customer was forgotten, with the record as it was, so
/// whoever keeps files beside the store (exports, a message log) can erase
/// the customer's values from them.
pub type ForgetHook = Arc<dyn Fn(&crate::model::Customer) + Send + Sync>;

impl Shop {
    /// Opens the shop whose store lives in `store_dir`.
    pub async fn open(
        store_dir: &Path,
        settings: ShopSettings,
        clock: Arc<dyn Clock>,
        options: SledOptions,
    ) -> CoreResult<Self> {
        let store = Arc::new(SledStore::open(store_dir, options)?);
        let mut shop = Self::with_store(store.clone(), settings, clock).await?;
        shop.sled = Some(store);
        Ok(shop)
    }

    /// Starts a shop over any store.
    pub async fn with_store(
        store: Arc<dyn Store>,
        settings: ShopSettings,
        clock: Arc<dyn Clock>,
    ) -> CoreResult<Self> {
        let templates = TemplateCache::default();
        for (_, r) in store.scan(Family::Templates, Default::default())? {
            if let Record::Template(t) = r {
                templates.put(t);
            }
        }
        let deps = Arc::new(Deps {
            store,
            clock,
            settings,
            templates,
        });
        let (directory, _) = Actor::spawn(None, Directory, deps.clone())
            .await
            .map_err(|e| CoreError::Unavailable(0, e.to_string()))?;
        let outbox = crate::outbox::Outbox::new(deps.store.clone(), deps.clock.clone());
        Ok(Self {
            deps,
            directory,
            sled: None,
            customers_lock: Arc::new(tokio::sync::Mutex::new(())),
            outbox,
            staff_changes: Arc::new(tokio::sync::watch::Sender::new(0)),
            join_lock: Arc::new(tokio::sync::Mutex::new(())),
            webhook_cache: Arc::default(),
            campaign_lock: Arc::default(),
            forget_hooks: Arc::default(),
        })
    }

    /// Stops the actors and closes the store; every acknowledged change is durable already.
    pub async fn shutdown(&self) {
        let grace = Some(std::time::Duration::from_secs(10));
        self.directory.stop_children_and_wait(None, grace).await;
        let _ = self.directory.stop_and_wait(None, grace).await;
        if let Some(s) = &self.sled {
            s.close();
        }
    }

    /// The outbox: queueing messages, waking the dispatchers, reading entries.
    pub fn outbox(&self) -> &crate::outbox::Outbox {
        &self.outbox
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.deps.store
    }

    /// The sled store, when the shop runs on sled.
    pub fn sled(&self) -> Option<&Arc<SledStore>> {
        self.sled.as_ref()
    }

    /// The shop settings.
    pub fn settings(&self) -> &ShopSettings {
        &self.deps.settings
    }

    /// Today on the shop's clock, in the shop's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::local_day(self.clock().now(), self.deps.settings.timezone)
    }

    /// Customer links (card page, pass, join and claim pages).
    pub fn links(&self) -> crate::links::Links {
        crate::links::Links::new(&self.deps.settings.public_url)
    }

    /// The card a link token names, when the token is its current one.
    pub fn card_by_token(&self, token: &str) -> CoreResult<crate::model::Card> {
        let id = crate::links::Links::token_card_id(token)
            .ok_or_else(|| CoreError::not_found("card link", token))?;
        let card = self
            .card(id)
            .map_err(|_| CoreError::not_found("card link", token))?;
        if card.deleted || !self.links().verify_card_token(&card, token) {
            return Err(CoreError::not_found("card link", token));
        }
        Ok(card)
    }

    /// Changes whenever a staff account changes (live sessions re-check
    /// that their staff member is still enabled).
    pub fn staff_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.staff_changes.subscribe()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.deps.clock
    }

    /// Wakes whenever events are committed; holds the newest event id.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.deps.store.watch_events()
    }

    /// Card actors resident now and activation counters.
    pub async fn directory_stats(&self) -> CoreResult<DirectoryStats> {
        ractor::call!(self.directory, DirectoryMsg::Stats)
            .map_err(|e| CoreError::Unavailable(0, e.to_string()))
    }

    /// Sends a command to a card's actor and waits for its answer.
    pub async fn command(
        &self,
        card_id: u64,
        command: CardCommand,
        actor: &Who,
        code: Option<(String, String)>,
    ) -> CoreResult<CardOutcome> {
        let request = CardRequest {
            command,
            actor: actor.clone(),
            code,
        };
        let reply = ractor::call!(self.directory, |port| DirectoryMsg::Route(
            card_id,
            CardMsg::Request(request, port)
        ));
        match reply {
            Ok(result) => result,
            Err(e) => Err(CoreError::Unavailable(card_id, e.to_string())),
        }
    }

    pub(crate) fn template_arc(&self, id: u64) -> CoreResult<Arc<Template>> {
        self.deps
            .templates
            .get(id)
            .ok_or_else(|| CoreError::not_found("template", id))
    }
}
