//! Receipt and delivery codes: generated batches, POS keys, claims.

use chrono::NaiveDate;

use super::Cards;
use crate::actors::{CardCommand, CardOutcome};
use crate::codes::{self, ParsedCode};
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, PosKey, ReceiptCode};
use crate::store::{Family, Key, Mutation, Record, StoreError};

/// A receipt code resolved to what it grants.
pub(super) struct ResolvedReceipt {
    pub claim_key: String,
    pub template_id: u64,
    pub stamps: u32,
}

/// Most codes generated in one batch.
pub const MAX_BATCH: u32 = 100_000;

impl Cards {
    /// Generates a batch of one-time receipt codes.
    pub async fn generate_receipts(
        &self,
        template_id: u64,
        count: u32,
        stamps: u32,
        actor: &Actor,
    ) -> CoreResult<Vec<String>> {
        actor.require_admin("generating codes needs an admin")?;
        self.template_arc(template_id)?;
        if count == 0 || count > MAX_BATCH {
            return Err(CoreError::Invalid(format!(
                "a batch has 1 to {MAX_BATCH} codes, not {count}"
            )));
        }
        if stamps == 0 || stamps > crate::rules::MAX_STAMPS_PER_REQUEST {
            return Err(CoreError::Invalid(format!(
                "a receipt code adds 1 to {} stamps",
                crate::rules::MAX_STAMPS_PER_REQUEST
            )));
        }
        let batch = self.store().next_id(Family::Batches)?;
        let now = self.clock().now();
        let mut m = Mutation::new();
        let mut out = Vec::with_capacity(count as usize);
        {
            // The thread-local generator must not live across the commit's await.
            let mut rng = rand::rng();
            let mut seen = std::collections::HashSet::with_capacity(count as usize);
            while out.len() < count as usize {
                let code = codes::random_receipt_code(&mut rng);
                if seen.contains(&code) || self.store().get(&Key::Receipt(code.clone()))?.is_some()
                {
                    continue;
                }
                seen.insert(code.clone());
                m.put(
                    Key::Receipt(code.clone()),
                    Record::Receipt(ReceiptCode {
                        code: code.clone(),
                        template_id,
                        stamps,
                        batch,
                        created_at: now,
                    }),
                );
                out.push(code);
            }
        }
        m.put(
            Key::Meta("last_batch".into()),
            Record::Meta(serde_json::json!(batch)),
        );
        self.store().commit(m).await?;
        Ok(out)
    }

    pub(super) fn resolve_receipt(&self, code: &str) -> CoreResult<ResolvedReceipt> {
        match codes::parse(code)? {
            ParsedCode::Receipt(code) => match self.store().get(&Key::Receipt(code.clone()))? {
                Some(Record::Receipt(r)) => Ok(ResolvedReceipt {
                    claim_key: code,
                    template_id: r.template_id,
                    stamps: r.stamps,
                }),
                _ => Err(CoreError::ReceiptInvalid(
                    "unknown receipt code: it was not issued by this shop".into(),
                )),
            },
            ParsedCode::Pos(p) => {
                let key = match self.store().get(&Key::PosKey(u64::from(p.key_id)))? {
                    Some(Record::PosKey(k)) => k,
                    _ => return Err(codes::CodeError::Forged.into()),
                };
                let secret = hex::decode(&key.secret_hex).map_err(|_| {
                    CoreError::Store(StoreError::Corrupt {
                        key: format!("pos key {}", key.id),
                        reason: "not hex".into(),
                    })
                })?;
                if !p.verify(&secret) {
                    return Err(codes::CodeError::Forged.into());
                }
                if key.revoked {
                    return Err(CoreError::ReceiptInvalid(format!(
                        "the POS key '{}' of this code was revoked",
                        key.name
                    )));
                }
                let date = NaiveDate::from_ymd_opt(
                    2000 + (p.date / 10000) as i32,
                    (p.date / 100) % 100,
                    p.date % 100,
                )
                .ok_or_else(|| {
                    CoreError::ReceiptInvalid("the receipt date in this code is not a date".into())
                })?;
                if !p.is_long()
                    && let Some(until) = key.short_until
                    && date > until
                {
                    return Err(CoreError::ReceiptInvalid(format!(
                        "the POS key '{}' prints long codes since {until}: this short one is refused",
                        key.name
                    )));
                }
                let today = crate::clock::local_day(self.clock().now(), self.settings().timezone);
                let age = (today - date).num_days();
                if age < -1 {
                    return Err(CoreError::ReceiptInvalid(
                        "this receipt is dated in the future".into(),
                    ));
                }
                if age > i64::from(self.settings().receipt_max_age_days) {
                    return Err(CoreError::ReceiptInvalid(format!(
                        "this receipt is from {date}; codes can be claimed for {} days",
                        self.settings().receipt_max_age_days
                    )));
                }
                Ok(ResolvedReceipt {
                    claim_key: p.claim_key(),
                    template_id: u64::from(p.template),
                    stamps: u32::from(p.stamps),
                })
            }
            ParsedCode::Signed { kind, .. } => Err(codes::CodeError::WrongKind {
                expected: "receipt",
                got: kind.name(),
            }
            .into()),
            ParsedCode::Rotating { .. } => Err(codes::CodeError::WrongKind {
                expected: "receipt",
                got: "rotating card",
            }
            .into()),
        }
    }

    /// Claims a receipt code onto a card, exactly once.
    pub async fn claim_receipt(
        &self,
        code: &str,
        card_id: u64,
        actor: &Actor,
    ) -> CoreResult<CardOutcome> {
        let r = self.resolve_receipt(code)?;
        if self
            .store()
            .get(&Key::ReceiptClaim(r.claim_key.clone()))?
            .is_some()
        {
            return Err(CoreError::AlreadyClaimed);
        }
        let result = self
            .command(
                card_id,
                CardCommand::Claim {
                    claim_key: r.claim_key,
                    count: r.stamps,
                    template_id: r.template_id,
                },
                actor,
                None,
            )
            .await;
        match result {
            Err(CoreError::Store(StoreError::Conflict(Key::ReceiptClaim(_)))) => {
                Err(CoreError::AlreadyClaimed)
            }
            other => other,
        }
    }

    /// Creates a POS key; returns the key record, whose secret is shown once.
    pub async fn create_pos_key(&self, name: &str, actor: &Actor) -> CoreResult<PosKey> {
        actor.require_admin("POS keys are managed by admins")?;
        if name.trim().is_empty() || name.chars().count() > 64 {
            return Err(CoreError::Invalid(
                "a POS key needs a name of 1 to 64 characters".into(),
            ));
        }
        let id = self.store().next_id(Family::PosKeys)?;
        if id > 999 {
            return Err(CoreError::Invalid("at most 999 POS keys can exist".into()));
        }
        let key = PosKey {
            id: id as u16,
            name: name.trim().to_string(),
            secret_hex: hex::encode(rand::random::<[u8; 32]>()),
            created_at: self.clock().now(),
            revoked: false,
            short_until: None,
        };
        let mut m = Mutation::new();
        m.put(Key::PosKey(id), Record::PosKey(key.clone()));
        self.store().commit(m).await?;
        Ok(key)
    }

    /// Every POS key.
    pub fn pos_keys(&self) -> CoreResult<Vec<PosKey>> {
        Ok(self.store().scan_as(Family::PosKeys, Default::default())?)
    }

    /// Revokes a POS key: its codes are refused from now on.
    pub async fn revoke_pos_key(&self, id: u16, actor: &Actor) -> CoreResult<PosKey> {
        actor.require_admin("POS keys are managed by admins")?;
        let mut key = match self.store().get(&Key::PosKey(u64::from(id)))? {
            Some(Record::PosKey(k)) => k,
            _ => return Err(CoreError::not_found("POS key", id)),
        };
        key.revoked = true;
        let mut m = Mutation::new();
        m.put(Key::PosKey(u64::from(id)), Record::PosKey(key.clone()));
        self.store().commit(m).await?;
        Ok(key)
    }

    /// From `from` on, a POS key's codes must be the long form: short
    /// codes dated after the day before are refused, those printed before
    /// stay valid.
    pub async fn require_long_pos_codes(
        &self,
        id: u16,
        from: NaiveDate,
        actor: &Actor,
    ) -> CoreResult<PosKey> {
        actor.require_admin("POS keys are managed by admins")?;
        let mut key = match self.store().get(&Key::PosKey(u64::from(id)))? {
            Some(Record::PosKey(k)) => k,
            _ => return Err(CoreError::not_found("POS key", id)),
        };
        key.short_until = from.pred_opt();
        let mut m = Mutation::new();
        m.put(Key::PosKey(u64::from(id)), Record::PosKey(key.clone()));
        self.store().commit(m).await?;
        Ok(key)
    }
}

impl Cards {
    /// Journals that forged receipt codes of POS key `pos_key` keep
    /// arriving (`receipt_guessing`).
    pub async fn note_receipt_guessing(&self, pos_key: u16, failures: u32) -> CoreResult<()> {
        let mut m = Mutation::new();
        m.event(crate::model::NewEvent::of_shop(
            self.clock().now(),
            crate::model::EventKind::ReceiptGuessing { pos_key, failures },
            Actor::channel("web"),
        ));
        self.store().commit(m).await?;
        Ok(())
    }
}
