//! Customers: create, edit, consent, search, merge, forget, export.

use super::shop_lock::ShopLock;
use std::sync::Arc;

use super::Cards;
use super::context::{Context, on_context};
use crate::actors::CardCommand;
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Consent, Customer, CustomerFields, Event, EventKind, NewEvent};
use crate::rules::validate_customer;
use crate::store::{Family, Key, Mutation, Record, Scan};

/// Called after a customer was forgotten, with the record as it was, so
/// whoever keeps files beside the store (exports, a message log) can erase
/// the customer's values from them.
pub type ForgetHook = Arc<dyn Fn(&Customer) + Send + Sync>;

/// Customers: profiles, joining through the bot, conversations, consent,
/// unsubscribing, merging and forgetting.
#[derive(Clone)]
pub struct Customers {
    ctx: Context,
    /// One writer of customer records at a time (phone and e-mail stay unique).
    pub(super) lock: Arc<ShopLock>,
    /// Joining issues cards.
    pub(super) cards: Cards,
    /// One join at a time (a Telegram user gets one customer).
    pub(super) join_lock: Arc<ShopLock>,
    forget_hooks: Arc<std::sync::RwLock<Vec<ForgetHook>>>,
}

on_context!(Customers);

impl Customers {
    pub(super) fn new(ctx: Context, lock: Arc<ShopLock>, cards: Cards) -> Self {
        Self {
            ctx,
            lock,
            cards,
            join_lock: Arc::new(ShopLock::new("join")),
            forget_hooks: Arc::default(),
        }
    }
}

/// Adds a new customer to a mutation, validated; the caller holds the
/// customers' write lock.
pub(super) fn new_customer_mutation(
    ctx: &Context,
    m: &mut Mutation,
    mut fields: CustomerFields,
    source: &str,
    actor: &Actor,
) -> CoreResult<Customer> {
    validate_customer(&mut fields, ctx.today())?;
    if let Some(tg) = fields.telegram_id
        && ctx.store().get(&Key::CustomerByTelegram(tg))?.is_some()
    {
        return Err(CoreError::Invalid(format!(
            "a customer with Telegram id {tg} exists already"
        )));
    }
    let now = ctx.clock().now();
    let consent = |granted: Option<bool>| {
        granted.map(|granted| Consent {
            granted,
            at: now,
            source: source.to_string(),
        })
    };
    let c = Customer {
        id: ctx.store().next_id(Family::Customers)?,
        name: fields.name,
        phone: fields.phone,
        email: fields.email,
        birthday: fields.birthday,
        language: fields.language,
        telegram_id: fields.telegram_id,
        consent_telegram: consent(fields.consent_telegram),
        consent_email: consent(fields.consent_email),
        created_at: Some(now),
        merged_into: None,
        forgotten: false,
    };
    m.put(Key::Customer(c.id), Record::Customer(c.clone()));
    if let Some(tg) = c.telegram_id {
        // Checked again at commit: another node may create them meanwhile.
        m.guard_absent(Key::CustomerByTelegram(tg));
        m.put(Key::CustomerByTelegram(tg), Record::Index(c.id));
    }
    m.event(customer_event(&c, EventKind::CustomerCreated, now, actor));
    Ok(c)
}

/// A new customer's commit refused because their Telegram id was taken
/// meanwhile (by another node): said as the check before it says it.
pub(super) fn taken(e: crate::store::StoreError) -> CoreError {
    match e {
        crate::store::StoreError::Conflict(Key::CustomerByTelegram(tg)) => {
            CoreError::Invalid(format!("a customer with Telegram id {tg} exists already"))
        }
        other => other.into(),
    }
}

impl Customers {
    /// Creates a customer.
    pub async fn create_customer(
        &self,
        fields: CustomerFields,
        source: &str,
        actor: &Actor,
    ) -> CoreResult<Customer> {
        let _guard = self.lock.lock(&**self.store()).await?;
        let mut m = Mutation::new();
        let c = new_customer_mutation(self, &mut m, fields, source, actor)?;
        self.store().commit(m).await.map_err(taken)?;
        Ok(c)
    }

    /// A customer.
    pub fn customer(&self, id: u64) -> CoreResult<Customer> {
        self.ctx.customer(id)
    }

    /// The customer with a Telegram id.
    pub fn customer_by_telegram(&self, telegram_id: i64) -> CoreResult<Option<Customer>> {
        match self.store().get(&Key::CustomerByTelegram(telegram_id))? {
            Some(Record::Index(id)) => self.customer(id).map(Some),
            _ => Ok(None),
        }
    }

    /// A page of customers in id order.
    pub fn customers(&self, scan: Scan) -> CoreResult<Vec<Customer>> {
        Ok(self.store().scan_as(Family::Customers, scan)?)
    }

    /// Customers whose id, name, email or phone matches `query` (case-insensitive).
    pub fn search_customers(&self, query: &str, limit: usize) -> CoreResult<Vec<Customer>> {
        let q = query.trim().to_lowercase();
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        let mut out = Vec::new();
        self.store().for_each(Family::Customers, &mut |_, r| {
            if let Record::Customer(c) = r
                && !c.forgotten
                && c.merged_into.is_none()
            {
                let hit = q.is_empty()
                    || c.id.to_string() == q
                    || c.name.to_lowercase().contains(&q)
                    || c.email.as_deref().is_some_and(|e| e.contains(&q))
                    || (digits.len() >= 3
                        && c.phone.as_deref().is_some_and(|p| p.contains(&digits)));
                if hit {
                    out.push(c);
                }
            }
            out.len() < limit.max(1)
        })?;
        Ok(out)
    }

    /// Changes one field of a customer's profile (checked like a new one);
    /// the journal records which field changed, not the value.
    pub async fn update_profile(
        &self,
        id: u64,
        change: ProfileChange,
        actor: &Actor,
    ) -> CoreResult<Customer> {
        self.update_profile_fields(id, vec![change], actor).await
    }

    /// Changes several fields of a customer's profile at once: all of them
    /// or, when one is refused, none. One `customer_updated` event per field.
    pub async fn update_profile_fields(
        &self,
        id: u64,
        changes: Vec<ProfileChange>,
        actor: &Actor,
    ) -> CoreResult<Customer> {
        if changes.is_empty() {
            return Err(CoreError::Invalid("nothing to change".into()));
        }
        let _guard = self.lock.lock(&**self.store()).await?;
        let mut c = self.customer(id)?;
        if c.forgotten {
            return Err(CoreError::not_found("customer", id));
        }
        let mut f = CustomerFields {
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            birthday: c.birthday,
            language: c.language.clone(),
            ..Default::default()
        };
        let mut fields = Vec::new();
        for change in changes {
            fields.push(match change {
                ProfileChange::Name(v) => {
                    if v.trim().is_empty() {
                        return Err(CoreError::BadValue {
                            key: "name_empty",
                            value: String::new(),
                        });
                    }
                    f.name = v;
                    "name"
                }
                ProfileChange::Phone(v) => {
                    f.phone = v;
                    "phone"
                }
                ProfileChange::Email(v) => {
                    f.email = v;
                    "email"
                }
                ProfileChange::Birthday(v) => {
                    f.birthday = v;
                    "birthday"
                }
                ProfileChange::Language(v) => {
                    f.language = v;
                    "language"
                }
            });
        }
        validate_customer(&mut f, self.today())?;
        c.name = f.name;
        c.phone = f.phone;
        c.email = f.email;
        c.birthday = f.birthday;
        c.language = f.language;
        let mut m = Mutation::new();
        m.put(Key::Customer(id), Record::Customer(c.clone()));
        let now = self.clock().now();
        for field in fields {
            m.event(customer_event(
                &c,
                EventKind::CustomerUpdated {
                    field: field.into(),
                },
                now,
                actor,
            ));
        }
        self.store().commit(m).await?;
        Ok(c)
    }

    /// Sets a channel's marketing consent ("telegram" or "email").
    pub async fn set_consent(
        &self,
        id: u64,
        channel: &str,
        granted: bool,
        source: &str,
        actor: &Actor,
    ) -> CoreResult<Customer> {
        let _guard = self.lock.lock(&**self.store()).await?;
        let mut c = self.customer(id)?;
        if c.forgotten {
            return Err(CoreError::Invalid(format!("customer {id} was forgotten")));
        }
        let slot = match channel {
            "telegram" => &mut c.consent_telegram,
            "email" => &mut c.consent_email,
            other => {
                return Err(CoreError::Invalid(format!(
                    "unknown consent channel '{other}' (telegram, email)"
                )));
            }
        };
        // Said again: the first time stands (its time and source).
        if slot.as_ref().is_some_and(|s| s.granted == granted) {
            return Ok(c);
        }
        *slot = Some(Consent {
            granted,
            at: self.clock().now(),
            source: source.to_string(),
        });
        let mut m = Mutation::new();
        m.put(Key::Customer(id), Record::Customer(c.clone()));
        m.event(customer_event(
            &c,
            EventKind::ConsentChanged {
                channel: channel.to_string(),
                granted,
                source: source.to_string(),
            },
            self.clock().now(),
            actor,
        ));
        self.store().commit(m).await?;
        Ok(c)
    }

    /// Merges customer `from` into `into`: cards move, empty fields are filled.
    pub async fn merge_customers(
        &self,
        into: u64,
        from: u64,
        actor: &Actor,
    ) -> CoreResult<Customer> {
        actor.require_admin("merging customers needs an admin")?;
        if into == from {
            return Err(CoreError::Invalid(
                "cannot merge a customer into itself".into(),
            ));
        }
        let _guard = self.lock.lock(&**self.store()).await?;
        let mut a = self.customer(into)?;
        let mut b = self.customer(from)?;
        for c in [&a, &b] {
            if c.forgotten || c.merged_into.is_some() {
                return Err(CoreError::Invalid(format!(
                    "customer {} is no longer active",
                    c.id
                )));
            }
        }
        for card in self.cards_of_customer(from)? {
            self.command(
                card.id,
                CardCommand::Reassign { customer_id: into },
                actor,
                None,
            )
            .await?;
        }
        if a.name.trim().is_empty() {
            a.name = b.name.clone();
        }
        a.phone = a.phone.take().or(b.phone.clone());
        a.email = a.email.take().or(b.email.clone());
        a.birthday = a.birthday.or(b.birthday);
        a.language = a.language.take().or(b.language.clone());
        let moved_tg = a.telegram_id.is_none() && b.telegram_id.is_some();
        a.telegram_id = a.telegram_id.or(b.telegram_id);
        a.consent_telegram = latest(a.consent_telegram.take(), b.consent_telegram.clone());
        a.consent_email = latest(a.consent_email.take(), b.consent_email.clone());
        b.merged_into = Some(into);
        let now = self.clock().now();
        let mut m = Mutation::new();
        if moved_tg && let Some(tg) = a.telegram_id {
            m.put(Key::CustomerByTelegram(tg), Record::Index(into));
        }
        m.put(Key::Customer(into), Record::Customer(a.clone()));
        m.put(Key::Customer(from), Record::Customer(b));
        m.event(customer_event(
            &a,
            EventKind::CustomerMerged { from },
            now,
            actor,
        ));
        self.store().commit(m).await?;
        Ok(a)
    }

    /// Forgets a customer: personal data erased, cards deleted, vouchers voided.
    /// The journal keeps its events, which point at the anonymous record.
    pub async fn forget_customer(&self, id: u64, actor: &Actor) -> CoreResult<Customer> {
        let allowed = actor.is_admin()
            || matches!(actor, Actor::Channel { name } if name == "bot" || name == "web");
        if !allowed {
            return Err(CoreError::Forbidden(
                "forgetting a customer needs an admin".into(),
            ));
        }
        let _guard = self.lock.lock(&**self.store()).await?;
        let c = self.customer(id)?;
        for card in self.cards_of_customer(id)? {
            if !card.deleted {
                self.command(card.id, CardCommand::DeleteForForget, actor, None)
                    .await?;
            }
        }
        let mut m = Mutation::new();
        if let Some(tg) = c.telegram_id {
            m.deletes.push(Key::CustomerByTelegram(tg));
            m.deletes
                .push(Key::Meta(format!("conversation/telegram/{tg}")));
        }
        // Messages to them keep no address or text; unsent ones are never sent.
        let mut messages = Vec::new();
        self.store().for_each(Family::Outbox, &mut |_, r| {
            if let Record::Outbox(e) = r
                && e.message.customer_id == Some(id)
            {
                messages.push(e);
            }
            true
        })?;
        for mut e in messages {
            e.message.recipient = "(forgotten)".into();
            e.message.subject = None;
            e.message.text = String::new();
            e.message.data = serde_json::Value::Null;
            e.receipt = None;
            if e.state.unfinished() {
                e.state = crate::outbox::DeliveryState::Failed;
                e.last_error = Some("the customer was forgotten".into());
                m.deletes.push(Key::OutboxPending(e.id));
            }
            m.put(Key::Outbox(e.id), Record::Outbox(e));
        }
        let anon = Customer {
            id,
            name: "(forgotten)".into(),
            created_at: c.created_at,
            forgotten: true,
            ..Customer::default()
        };
        m.put(Key::Customer(id), Record::Customer(anon.clone()));
        // The store's files still hold the old values until it is rewritten.
        m.put(
            Key::Meta(crate::store::REWRITE_PENDING.into()),
            Record::Meta(serde_json::Value::Bool(true)),
        );
        m.event(customer_event(
            &anon,
            EventKind::CustomerForgotten,
            self.clock().now(),
            actor,
        ));
        self.store().commit(m).await?;
        let hooks = self
            .forget_hooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for hook in hooks {
            hook(&c);
        }
        Ok(anon)
    }

    /// Adds a hook run after every forget (see [`super::ForgetHook`]).
    pub fn on_forget(&self, hook: super::ForgetHook) {
        self.forget_hooks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(hook);
    }

    /// Everything stored about a customer, for a GDPR export.
    pub fn export_customer(&self, id: u64) -> CoreResult<serde_json::Value> {
        let customer = self.customer(id)?;
        let mut cards = Vec::new();
        let mut events: Vec<Event> = Vec::new();
        for card in self.cards_of_customer(id)? {
            let vouchers = self.vouchers_of_card(card.id)?;
            events.extend(super::journal::card_history(self, card.id)?);
            cards.push(serde_json::json!({
                "card": card,
                "code": self.card_code(&card),
                "vouchers": vouchers,
            }));
        }
        events.sort_by_key(|e| e.id);
        Ok(serde_json::json!({
            "customer": customer,
            "cards": cards,
            "events": events,
            "exported_at": self.clock().now(),
        }))
    }
}

fn latest(a: Option<Consent>, b: Option<Consent>) -> Option<Consent> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.at > a.at { b } else { a }),
        (a, b) => a.or(b),
    }
}

pub(super) fn customer_event(
    c: &Customer,
    kind: EventKind,
    at: chrono::DateTime<chrono::Utc>,
    actor: &Actor,
) -> NewEvent {
    NewEvent {
        at,
        kind,
        card_id: None,
        customer_id: Some(c.id),
        template_id: None,
        code: None,
        progress: None,
        reward: None,
        actor: actor.clone(),
    }
}

/// One change to a customer's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChange {
    /// The name.
    Name(String),
    /// The phone number (`None` removes it).
    Phone(Option<String>),
    /// The email address (`None` removes it).
    Email(Option<String>),
    /// The birthday (`None` removes it).
    Birthday(Option<chrono::NaiveDate>),
    /// The language code (`None` removes it).
    Language(Option<String>),
}
