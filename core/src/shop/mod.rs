//! [`Shop`]: the front door of a running shop. It opens and shuts the shop
//! and hands out its services — cards, customers, campaigns, access,
//! webhooks, passes, journal, templates — each of which owns its own state
//! and shares the [`Context`] (store, clock, settings, templates, card
//! directory, outbox).
//!
//! Commands on a card go to that card's actor through the directory; lists,
//! searches and the journal read the store directly and never activate actors.

mod access;
mod alerts;
mod analytics;
mod api_keys;
mod automations;
mod campaign_edits;
mod campaigns;
mod cards;
mod context;
mod conversations;
mod customers;
mod hourly_counts;
mod join;
mod journal;
pub(crate) mod news_cache;
mod nodes;
mod other_nodes;
mod passes;
mod personal;
mod pin_guard;
mod receipts;
mod reminders;
mod shop_lock;
mod staff;
mod telegram_updates;
mod templates;
mod unsubscribe;
mod webhooks;

pub use access::Access;
pub use alerts::{AlertView, Alerts};
pub use analytics::{Analytics, DayStats};
pub use automations::{AutomationDraft, AutomationStatus};
pub use campaigns::{Audience, CAMPAIGN_CHANNELS, CampaignDraft, CampaignStatus, Campaigns};
pub use cards::{Cards, IssueCard, Lookup};
pub use context::Context;
pub use customers::{Customers, ForgetHook, ProfileChange};
pub use join::{Joined, TelegramUser};
pub use journal::{Journal, JournalQuery};
pub use nodes::{HEARTBEAT_SECS, NodeInfo, node_lines};
pub use passes::{PassVersion, Passes};
pub use personal::Personal;
pub use pin_guard::{FIRST_LOCK_SECS, FREE_FAILURES, MAX_LOCK_SECS, PinCheck};
pub use templates::{TemplateDraft, Templates};
pub use webhooks::{WEBHOOK_CHANNEL, Webhooks};

use std::path::Path;
use std::sync::Arc;

use ractor::Actor;

use crate::actors::{Deps, Directory, DirectoryMsg, DirectoryStats, TemplateCache};
use crate::clock::Clock;
use crate::error::{CoreError, CoreResult};
use crate::settings::ShopSettings;
use crate::store::{Family, SledOptions, SledStore, Store};

/// A running shop. Cheap to clone.
#[derive(Clone)]
pub struct Shop(Arc<Parts>);

/// The context, the store's own handle, and one value per service.
struct Parts {
    ctx: Context,
    cards: Cards,
    customers: Customers,
    campaigns: Campaigns,
    access: Access,
    alerts: Alerts,
    webhooks: Webhooks,
    passes: Passes,
    journal: Journal,
    templates: Templates,
}

impl Shop {
    /// Opens the shop whose store lives in `store_dir`.
    pub async fn open(
        store_dir: &Path,
        settings: ShopSettings,
        clock: Arc<dyn Clock>,
        options: SledOptions,
    ) -> CoreResult<Self> {
        let store = Arc::new(SledStore::open(store_dir, options)?);
        Self::start(store, settings, clock).await
    }

    /// Starts a shop over any store.
    pub async fn with_store(
        store: Arc<dyn Store>,
        settings: ShopSettings,
        clock: Arc<dyn Clock>,
    ) -> CoreResult<Self> {
        Self::start(store, settings, clock).await
    }

    async fn start(
        store: Arc<dyn Store>,
        settings: ShopSettings,
        clock: Arc<dyn Clock>,
    ) -> CoreResult<Self> {
        let templates = TemplateCache::default();
        for t in store.scan_as(Family::Templates, Default::default())? {
            templates.put(t);
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
        let ctx = Context::new(deps, directory);
        let customers_lock = Arc::new(shop_lock::ShopLock::new("customers"));
        let cards = Cards::new(ctx.clone(), Arc::clone(&customers_lock));
        let written = ctx.store().watch_written();
        let shop = Self(Arc::new(Parts {
            customers: Customers::new(ctx.clone(), customers_lock, cards.clone()),
            cards,
            campaigns: Campaigns::new(ctx.clone()),
            access: Access::new(ctx.clone()),
            alerts: Alerts::new(ctx.clone()),
            webhooks: Webhooks::new(ctx.clone()),
            passes: Passes::new(ctx.clone()),
            journal: Journal::new(ctx.clone()),
            templates: Templates::new(ctx.clone()),
            ctx,
        }));
        if let Some(written) = written {
            tokio::spawn(other_nodes::follow(Arc::downgrade(&shop.0), written));
        }
        Ok(shop)
    }

    /// Stops the actors and closes the store; every acknowledged change is durable already.
    pub async fn shutdown(&self) {
        let grace = Some(std::time::Duration::from_secs(10));
        let directory = self.0.ctx.directory();
        directory.stop_children_and_wait(None, grace).await;
        let _ = directory.stop_and_wait(None, grace).await;
        self.0.ctx.store().close();
    }

    /// Cards: issuing, codes, stamps, vouchers, receipts and card views.
    pub fn cards(&self) -> &Cards {
        &self.0.cards
    }

    /// Customers: profiles, joining, conversations, consent and forgetting.
    pub fn customers(&self) -> &Customers {
        &self.0.customers
    }

    /// Campaigns, automations, personal messages and voucher reminders.
    pub fn campaigns(&self) -> &Campaigns {
        &self.0.campaigns
    }

    /// Staff, sign-in, PIN lock-outs and API keys.
    pub fn access(&self) -> &Access {
        &self.0.access
    }

    /// Webhook subscriptions and their deliveries.
    pub fn webhooks(&self) -> &Webhooks {
        &self.0.webhooks
    }

    /// Wallet passes, their devices and versions.
    pub fn passes(&self) -> &Passes {
        &self.0.passes
    }

    /// Fraud alerts: the list, acknowledging, a dry run of the rules.
    pub fn alerts(&self) -> &Alerts {
        &self.0.alerts
    }

    /// The journal, card histories and analytics.
    pub fn journal(&self) -> &Journal {
        &self.0.journal
    }

    /// Card templates and their versions.
    pub fn templates(&self) -> &Templates {
        &self.0.templates
    }

    /// The context the shop's consumers and background tasks run on.
    pub fn context(&self) -> &Context {
        &self.0.ctx
    }

    /// The outbox: queueing messages, waking the dispatchers, reading entries.
    pub fn outbox(&self) -> &crate::outbox::Outbox {
        self.0.ctx.outbox()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.0.ctx.store()
    }

    /// The shop settings.
    pub fn settings(&self) -> &ShopSettings {
        self.0.ctx.settings()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.0.ctx.clock()
    }

    /// Today on the shop's clock, in the shop's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.0.ctx.today()
    }

    /// Customer links (card page, pass, join and claim pages).
    pub fn links(&self) -> crate::links::Links {
        self.0.ctx.links()
    }

    /// Wakes whenever events are committed; holds the newest event id.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store().watch_events()
    }

    /// Card actors resident now and activation counters.
    pub async fn directory_stats(&self) -> CoreResult<DirectoryStats> {
        ractor::call!(self.0.ctx.directory(), DirectoryMsg::Stats)
            .map_err(|e| CoreError::Unavailable(0, e.to_string()))
    }
}
