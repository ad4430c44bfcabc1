//! [`Context`]: what every service, consumer and background task of a shop
//! shares — the store, the clock, the settings, the template cache, the
//! card directory and the outbox — with the plain record reads they all
//! need. Its contents are crate-private; outside the core it is only handed
//! on (to [`crate::consumers::run_consumer`]).

use std::fmt::Display;
use std::sync::Arc;

use ractor::ActorRef;

use crate::actors::{
    CardCommand, CardMsg, CardOutcome, CardRequest, Deps, DirectoryMsg, TemplateCache,
};
use crate::clock::Clock;
use crate::codes::{self, CodeKind};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Campaign, Card, Customer, Event, PassRecord, Template, Voucher};
use crate::outbox::Outbox;
use crate::settings::ShopSettings;
use crate::store::{Family, Key, Mutation, Record, Store, StoreError, Typed};

/// The shared handles of one running shop. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    deps: Arc<Deps>,
    directory: ActorRef<DirectoryMsg>,
    outbox: Outbox,
}

impl Context {
    pub(crate) fn new(deps: Arc<Deps>, directory: ActorRef<DirectoryMsg>) -> Self {
        let outbox = Outbox::new(deps.store.clone(), deps.clock.clone());
        Self {
            deps,
            directory,
            outbox,
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.deps.store
    }

    /// A meta record read as `T`: its default when there is none (or it
    /// does not read as one).
    pub(crate) fn meta<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &crate::store::Key,
    ) -> crate::error::CoreResult<T> {
        Ok(match self.store().get(key)? {
            Some(crate::store::Record::Meta(v)) => serde_json::from_value(v).unwrap_or_default(),
            _ => T::default(),
        })
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.deps.clock
    }

    pub(crate) fn settings(&self) -> &ShopSettings {
        &self.deps.settings
    }

    pub(crate) fn template_cache(&self) -> &TemplateCache {
        &self.deps.templates
    }

    pub(crate) fn directory(&self) -> &ActorRef<DirectoryMsg> {
        &self.directory
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Today on the shop's clock, in the shop's time zone.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        crate::clock::local_day(self.clock().now(), self.settings().timezone)
    }

    /// Customer links (card page, pass, join and claim pages).
    pub(crate) fn links(&self) -> crate::links::Links {
        crate::links::Links::new(&self.settings().public_url)
    }

    /// Sends a command to a card's actor and waits for its answer.
    pub(crate) async fn command(
        &self,
        card_id: u64,
        command: CardCommand,
        actor: &Actor,
        code: Option<(String, crate::actors::Proof)>,
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

    /// A record of one kind under a key, or "not found".
    fn read<T: Typed>(&self, key: Key, what: &'static str, id: impl Display) -> CoreResult<T> {
        self.store()
            .get(&key)?
            .and_then(T::from_record)
            .ok_or_else(|| CoreError::not_found(what, id))
    }

    /// The latest version of a template.
    pub(crate) fn template_arc(&self, id: u64) -> CoreResult<Arc<Template>> {
        self.deps
            .templates
            .get(id)
            .ok_or_else(|| CoreError::not_found("template", id))
    }

    /// A template's latest version, as a value.
    pub(crate) fn template(&self, id: u64) -> CoreResult<Template> {
        Ok((*self.template_arc(id)?).clone())
    }

    /// A card as stored.
    pub(crate) fn card(&self, id: u64) -> CoreResult<Card> {
        self.read(Key::Card(id), "card", id)
    }

    /// A customer.
    pub(crate) fn customer(&self, id: u64) -> CoreResult<Customer> {
        self.read(Key::Customer(id), "customer", id)
    }

    /// A voucher.
    pub(crate) fn voucher(&self, id: u64) -> CoreResult<Voucher> {
        self.read(Key::Voucher(id), "voucher", id)
    }

    /// A campaign.
    pub(crate) fn campaign(&self, id: u64) -> CoreResult<Campaign> {
        self.read(Key::Campaign(id), "campaign", id)
    }

    /// One event.
    pub(crate) fn event(&self, id: u64) -> CoreResult<Event> {
        self.read(Key::Event(id), "event", id)
    }

    /// Whether a metadata marker (e.g. `google_object:<card>`) was written.
    pub(crate) fn marked(&self, key: String) -> CoreResult<bool> {
        Ok(self.store().get(&Key::Meta(key))?.is_some())
    }

    /// Writes a metadata marker once, with the time: `true` when this call
    /// wrote it, `false` when it was there already.
    pub(crate) async fn mark_once(&self, key: String) -> CoreResult<bool> {
        let mut m = Mutation::new();
        m.guard_absent(Key::Meta(key.clone()));
        m.put(
            Key::Meta(key),
            Record::Meta(serde_json::json!({ "at": self.clock().now() })),
        );
        match self.store().commit(m).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A card's pass record, once a pass was built.
    pub(crate) fn pass(&self, card_id: u64) -> CoreResult<Option<PassRecord>> {
        Ok(self
            .store()
            .get(&Key::Pass(card_id))?
            .and_then(PassRecord::from_record))
    }

    /// The cards of a customer.
    pub(crate) fn cards_of_customer(&self, customer_id: u64) -> CoreResult<Vec<Card>> {
        self.indexed(Family::CardsOfCustomer(customer_id), |id| self.card(id))
    }

    /// The vouchers of a card, oldest first.
    pub(crate) fn vouchers_of_card(&self, card_id: u64) -> CoreResult<Vec<Voucher>> {
        Ok(self.store().vouchers_of_card(card_id)?)
    }

    /// The records an index family points at, in its order.
    fn indexed<T>(&self, family: Family, get: impl Fn(u64) -> CoreResult<T>) -> CoreResult<Vec<T>> {
        self.store()
            .scan(family, Default::default())?
            .into_iter()
            .filter_map(|(_, r)| match r {
                Record::Index(id) => Some(get(id)),
                _ => None,
            })
            .collect()
    }

    /// Visits a card's newest events, newest first (at most `limit`), each
    /// read from the store when the visit reaches it; `visit` returns
    /// `false` to stop.
    pub(crate) fn visit_newest_card_events(
        &self,
        card_id: u64,
        limit: usize,
        mut visit: impl FnMut(Event) -> bool,
    ) -> CoreResult<()> {
        let mut seen = 0;
        self.store().card_events(card_id, &mut |e| {
            seen += 1;
            visit(e) && seen < limit
        })?;
        Ok(())
    }

    /// The printed code of a card.
    pub(crate) fn card_code(&self, card: &Card) -> String {
        codes::signed_code(
            &self.settings().secret,
            CodeKind::Card,
            card.id,
            card.counter,
        )
    }

    /// The printed code of a voucher.
    pub(crate) fn voucher_code(&self, v: &Voucher) -> String {
        codes::signed_code(&self.settings().secret, CodeKind::Voucher, v.id, v.counter)
    }

    /// The card a link token names, when the token is its current one.
    pub(crate) fn card_by_token(&self, token: &str) -> CoreResult<Card> {
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
}

/// Lets a service call the context's reads as its own (`self.card(id)`).
macro_rules! on_context {
    ($($service:ty),* $(,)?) => {
        $(impl std::ops::Deref for $service {
            type Target = Context;
            fn deref(&self) -> &Context {
                &self.ctx
            }
        })*
    };
}
pub(super) use on_context;
