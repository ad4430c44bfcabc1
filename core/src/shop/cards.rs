//! Issuing cards, reading codes, and the commands a counter runs on cards.

use super::shop_lock::ShopLock;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::actors::{CardCommand, CardOutcome, IdemKey, Proof};
use crate::codes::{self, CodeKind, ParsedCode};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Card, CustomerFields, EventKind, NewEvent, Platform, Progress, Voucher};
use crate::store::{Family, Key, Mutation, Record, Scan};
use crate::views::{CardView, VoucherView};

use super::context::{Context, on_context};
use super::news_cache::NewsCache;

/// Who a new card is for.
#[derive(Debug, Clone)]
pub enum IssueCard {
    /// An existing customer.
    Customer(u64),
    /// A new customer with these fields.
    New(CustomerFields),
}

/// What a scanned code refers to.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A card.
    Card(Box<CardView>),
    /// A voucher and its card.
    Voucher(Box<VoucherView>, u64),
    /// A receipt code and whether it was claimed.
    Receipt {
        /// Claim identity.
        claim_key: String,
        /// Template.
        template_id: u64,
        /// Stamps it adds.
        stamps: u32,
        /// Already claimed.
        claimed: bool,
    },
}

/// Cards: issuing them, reading their codes, the commands a counter runs
/// on them, receipts and POS keys, and the views front-ends show.
#[derive(Clone)]
pub struct Cards {
    ctx: Context,
    /// The customers' write lock, taken to issue a card to a new customer.
    customers_lock: Arc<ShopLock>,
    /// What viewed cards' newest events said about campaign news.
    pub(crate) news: Arc<NewsCache>,
}

on_context!(Cards);

impl Cards {
    pub(super) fn new(ctx: Context, customers_lock: Arc<ShopLock>) -> Self {
        Self {
            ctx,
            customers_lock,
            news: Arc::default(),
        }
    }
}

impl Cards {
    /// The printed code of a card.
    pub fn card_code(&self, card: &Card) -> String {
        self.ctx.card_code(card)
    }

    /// The printed code of a voucher.
    pub fn voucher_code(&self, v: &Voucher) -> String {
        self.ctx.voucher_code(v)
    }

    /// Issues a card of a template.
    pub async fn issue_card(
        &self,
        template_id: u64,
        holder: IssueCard,
        source: Option<String>,
        platform: Option<Platform>,
        actor: &Actor,
    ) -> CoreResult<Card> {
        let t = self.template_arc(template_id)?;
        if t.archived {
            return Err(CoreError::BadValue {
                key: "not_offered",
                value: t.name.clone(),
            });
        }
        if let Some(s) = &source
            && (s.is_empty()
                || s.len() > 32
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(CoreError::Invalid(format!(
                "source tag '{s}' must be 1 to 32 letters, digits, '_' or '-'"
            )));
        }
        let now = self.clock().now();
        let mut m = Mutation::new();
        let customer_id = match holder {
            IssueCard::Customer(id) => {
                let c = self.customer(id)?;
                if c.forgotten || c.merged_into.is_some() {
                    return Err(CoreError::Invalid(format!(
                        "customer {id} is no longer active"
                    )));
                }
                id
            }
            IssueCard::New(fields) => {
                let _guard = self.customers_lock.lock(&**self.store()).await?;
                // Consent is recorded where the customer gave it.
                let given_at = match platform {
                    Some(Platform::Web) => "web",
                    Some(Platform::Telegram) => "telegram",
                    _ => "counter",
                };
                let c =
                    super::customers::new_customer_mutation(self, &mut m, fields, given_at, actor)?;
                let id = c.id;
                let card = self.card_mutation(&mut m, &t, id, source, platform, now, actor)?;
                self.store()
                    .commit(m)
                    .await
                    .map_err(super::customers::taken)?;
                return Ok(card);
            }
        };
        let card = self.card_mutation(&mut m, &t, customer_id, source, platform, now, actor)?;
        self.store().commit(m).await?;
        Ok(card)
    }

    #[allow(clippy::too_many_arguments)]
    fn card_mutation(
        &self,
        m: &mut Mutation,
        t: &crate::model::Template,
        customer_id: u64,
        source: Option<String>,
        platform: Option<Platform>,
        now: chrono::DateTime<chrono::Utc>,
        actor: &Actor,
    ) -> CoreResult<Card> {
        let id = self.store().next_id(Family::Cards)?;
        let card = Card::new(id, t, customer_id, now, platform, source.clone());
        m.put(Key::Card(id), Record::Card(card.clone()));
        m.put(Key::CardOfCustomer(customer_id, id), Record::Index(id));
        m.event(NewEvent {
            at: now,
            kind: EventKind::CardIssued { source },
            card_id: Some(id),
            customer_id: Some(customer_id),
            template_id: Some(t.id),
            code: None,
            progress: Some(Progress {
                stamps: 0,
                of: t.stamps_required,
            }),
            reward: Some(t.reward.summary()),
            actor: actor.clone(),
        });
        Ok(card)
    }

    /// A card as stored.
    pub fn card(&self, id: u64) -> CoreResult<Card> {
        self.ctx.card(id)
    }

    /// A page of cards in id order, after `after`.
    pub fn cards(&self, scan: Scan) -> CoreResult<Vec<Card>> {
        Ok(self.store().scan_as(Family::Cards, scan)?)
    }

    /// The cards of a customer.
    pub fn cards_of_customer(&self, customer_id: u64) -> CoreResult<Vec<Card>> {
        self.ctx.cards_of_customer(customer_id)
    }

    /// The vouchers of a card, oldest first.
    pub fn vouchers_of_card(&self, card_id: u64) -> CoreResult<Vec<Voucher>> {
        self.ctx.vouchers_of_card(card_id)
    }

    /// A voucher.
    pub fn voucher(&self, id: u64) -> CoreResult<Voucher> {
        self.ctx.voucher(id)
    }

    /// The card a link token names, when the token is its current one.
    pub fn card_by_token(&self, token: &str) -> CoreResult<Card> {
        self.ctx.card_by_token(token)
    }

    /// Sends a command to a card's actor and waits for its answer.
    pub async fn command(
        &self,
        card_id: u64,
        command: CardCommand,
        actor: &Actor,
        code: Option<(String, Proof)>,
    ) -> CoreResult<CardOutcome> {
        self.ctx.command(card_id, command, actor, code).await
    }

    /// Parses a card code without touching the store: the card id, and the
    /// code with what it proves (a printed code's MAC, a rotating code's
    /// TOTP digits), which the card's actor checks against its own
    /// (authoritative) state.
    fn parse_card_code(code: &str) -> CoreResult<(u64, (String, Proof))> {
        let printed = || code.trim().replace(' ', "");
        match codes::parse(code)? {
            ParsedCode::Signed {
                kind: CodeKind::Card,
                id,
                mac,
            } => Ok((id, (printed(), Proof::Mac(mac)))),
            ParsedCode::Rotating { id, totp } => Ok((id, (printed(), Proof::Totp(totp)))),
            ParsedCode::Signed { kind, .. } => Err(codes::CodeError::WrongKind {
                expected: "card",
                got: kind.name(),
            }
            .into()),
            ParsedCode::Receipt(_) | ParsedCode::Pos(_) => Err(codes::CodeError::WrongKind {
                expected: "card",
                got: "receipt",
            }
            .into()),
        }
    }

    /// Verifies a card code against the stored card, for reads that reach
    /// no actor. A rotating code is looked at, not used: one of a window
    /// within ten minutes finds its card, used or not (it stamps only once).
    fn verify_card_code(&self, code: &str) -> CoreResult<u64> {
        let (id, (_, proof)) = Self::parse_card_code(code)?;
        let card = self.card(id).map_err(|_| codes::CodeError::Forged)?;
        let secret = &self.settings().secret;
        let checked = match proof {
            Proof::Mac(mac) => codes::verify_signed(secret, CodeKind::Card, id, &mac, card.counter),
            Proof::Totp(digits) => {
                let now = self.clock().now();
                match crate::rotating::check(secret, id, card.counter, &digits, now) {
                    crate::rotating::Check::Good { .. } | crate::rotating::Check::Expired => Ok(()),
                    crate::rotating::Check::Wrong => Err(None),
                }
            }
        };
        match checked {
            Ok(()) if card.deleted => Err(CoreError::CardDeleted(id)),
            Ok(()) => Ok(id),
            Err(Some(_)) => Err(CoreError::ReissuedCode { card_id: id }),
            Err(None) => Err(codes::CodeError::Forged.into()),
        }
    }

    /// A card's rotating code now, with the seconds it has left (what the
    /// web card shows; `crate::rotating`).
    pub fn rotating_code(&self, card: &Card) -> (String, u32) {
        let now = self.clock().now();
        let code = crate::rotating::code(&self.settings().secret, card.id, card.counter, now);
        (code, crate::rotating::seconds_left(now))
    }

    /// The TOTP secret in hex of a card whose template stamps only from
    /// rotating codes (what Google Wallet's rotating barcode is given);
    /// `None` for any other card.
    pub fn rotating_key(&self, card_id: u64) -> Option<String> {
        let card = self.card(card_id).ok()?;
        let template = self.ctx.template(card.template_id).ok()?;
        template
            .rules
            .rotating_codes
            .then(|| crate::rotating::secret_hex(&self.settings().secret, card.id, card.counter))
    }

    /// What a scanned code refers to (card, voucher or receipt), verified.
    pub fn lookup(&self, code: &str) -> CoreResult<Lookup> {
        match codes::parse(code)? {
            ParsedCode::Signed {
                kind: CodeKind::Card,
                ..
            }
            | ParsedCode::Rotating { .. } => {
                let id = self.verify_card_code(code)?;
                Ok(Lookup::Card(Box::new(self.card_view(id)?)))
            }
            ParsedCode::Signed { id, mac, .. } => {
                let v = self.voucher(id).map_err(|_| codes::CodeError::Forged)?;
                codes::verify_signed(
                    &self.settings().secret,
                    CodeKind::Voucher,
                    id,
                    &mac,
                    v.counter,
                )
                .map_err(|_| codes::CodeError::Forged)?;
                let card_id = v.card_id;
                Ok(Lookup::Voucher(Box::new(self.voucher_view(&v)), card_id))
            }
            ParsedCode::Receipt(_) | ParsedCode::Pos(_) => {
                let r = self.resolve_receipt(code)?;
                let claimed = self
                    .store()
                    .get(&Key::ReceiptClaim(r.claim_key.clone()))?
                    .is_some();
                Ok(Lookup::Receipt {
                    claim_key: r.claim_key,
                    template_id: r.template_id,
                    stamps: r.stamps,
                    claimed,
                })
            }
        }
    }

    /// Adds stamps to the card with this code.
    pub async fn stamp_code(
        &self,
        code: &str,
        count: u32,
        idempotency_key: Option<&str>,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        let (id, auth) = Self::parse_card_code(code)?;
        match self
            .stamp_inner(id, count, idempotency_key, actor, Some(auth))
            .await
        {
            // A well-formed code for a card that does not exist was not issued here.
            Err(CoreError::NotFound { what: "card", .. }) => Err(codes::CodeError::Forged.into()),
            other => other,
        }
    }

    /// Adds stamps to a card by id (staff who looked it up by name).
    pub async fn stamp_card(
        &self,
        card_id: u64,
        count: u32,
        idempotency_key: Option<&str>,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        self.stamp_inner(card_id, count, idempotency_key, actor, None)
            .await
    }

    async fn stamp_inner(
        &self,
        card_id: u64,
        count: u32,
        idempotency_key: Option<&str>,
        actor: &Actor,
        auth: Option<(String, Proof)>,
    ) -> CoreResult<CardOutcome> {
        let idempotency = match idempotency_key {
            Some(k) => {
                if k.is_empty() || k.len() > 128 || k.chars().any(|c| c.is_control()) {
                    return Err(CoreError::Invalid(
                        "an idempotency key has 1 to 128 printable characters".into(),
                    ));
                }
                let scope = actor.label();
                let hash = hex::encode(Sha256::digest(format!("stamp|{card_id}|{count}")));
                Some(Box::new(IdemKey {
                    key: format!("{scope}|{k}"),
                    request_hash: hash,
                    given: k.to_string(),
                }))
            }
            None => None,
        };
        self.command(
            card_id,
            CardCommand::Stamp { count, idempotency },
            actor,
            auth,
        )
        .await
    }

    /// Redeems the voucher with this code.
    pub async fn redeem_code(&self, code: &str, actor: &Actor) -> CoreResult<CardOutcome> {
        match codes::parse(code)? {
            ParsedCode::Signed {
                kind: CodeKind::Voucher,
                id,
                mac,
            } => {
                let v = self.voucher(id).map_err(|_| codes::CodeError::Forged)?;
                codes::verify_signed(
                    &self.settings().secret,
                    CodeKind::Voucher,
                    id,
                    &mac,
                    v.counter,
                )
                .map_err(|_| codes::CodeError::Forged)?;
                let printed = code.trim().replace(' ', "");
                self.command(
                    v.card_id,
                    CardCommand::Redeem {
                        voucher_id: id,
                        mac: Some(mac.clone()),
                    },
                    actor,
                    Some((printed, Proof::Mac(mac))),
                )
                .await
            }
            ParsedCode::Signed { kind, .. } => Err(codes::CodeError::WrongKind {
                expected: "voucher",
                got: kind.name(),
            }
            .into()),
            _ => Err(codes::CodeError::WrongKind {
                expected: "voucher",
                got: "receipt",
            }
            .into()),
        }
    }

    /// Redeems a voucher by id.
    pub async fn redeem_voucher(&self, voucher_id: u64, actor: &Actor) -> CoreResult<CardOutcome> {
        let v = self.voucher(voucher_id)?;
        self.command(
            v.card_id,
            CardCommand::Redeem {
                voucher_id,
                mac: None,
            },
            actor,
            None,
        )
        .await
    }

    /// Marks a simple reward as handed over.
    pub async fn hand_over(&self, card_id: u64, actor: &Actor) -> CoreResult<CardOutcome> {
        self.command(card_id, CardCommand::HandOver, actor, None)
            .await
    }

    /// Plays a lottery spin.
    pub async fn spin(&self, card_id: u64, actor: &Actor) -> CoreResult<CardOutcome> {
        self.command(card_id, CardCommand::Spin, actor, None).await
    }

    /// Adjusts stamps by hand (admin), with a reason.
    pub async fn adjust(
        &self,
        card_id: u64,
        delta: i64,
        reason: &str,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        self.command(
            card_id,
            CardCommand::Adjust {
                delta,
                reason: reason.to_string(),
            },
            actor,
            None,
        )
        .await
    }

    /// Reverses a stamp, claim, redemption or handed-over reward.
    pub async fn reverse(
        &self,
        event_id: u64,
        reason: &str,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        let event = self.event(event_id)?;
        if let EventKind::Reversal { .. } = event.kind {
            return Err(CoreError::NotReversible(
                "a reversal cannot be reversed".into(),
            ));
        }
        let Some(card_id) = event.card_id else {
            return Err(CoreError::NotReversible(format!(
                "event {event_id} ({}) concerns no card",
                event.kind.name()
            )));
        };
        self.command(
            card_id,
            CardCommand::Reverse {
                event: Box::new(event),
                reason: reason.to_string(),
            },
            actor,
            None,
        )
        .await
    }

    /// Gives a card a new code; the old code stops working.
    pub async fn reissue(&self, card_id: u64, actor: &Actor) -> CoreResult<CardOutcome> {
        self.command(card_id, CardCommand::Reissue, actor, None)
            .await
    }

    /// Deletes a card (admin); its active vouchers are voided.
    /// The card's actor checks the admin right (once, for every path).
    pub async fn delete_card(&self, card_id: u64, actor: &Actor) -> CoreResult<CardOutcome> {
        self.command(card_id, CardCommand::Delete, actor, None)
            .await
    }

    /// Issues a voucher (coupon) to a card by hand.
    pub async fn issue_coupon(
        &self,
        card_id: u64,
        description: &str,
        valid_days: u32,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        self.command(
            card_id,
            CardCommand::IssueVoucher {
                description: description.to_string(),
                valid_days,
            },
            actor,
            None,
        )
        .await
    }

    /// Records a platform a card is held on.
    pub async fn add_platform(
        &self,
        card_id: u64,
        platform: Platform,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        self.command(card_id, CardCommand::AddPlatform(platform), actor, None)
            .await
    }
}
