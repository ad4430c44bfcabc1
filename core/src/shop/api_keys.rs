//! REST API keys: created by an admin (the token is returned once), listed,
//! revoked (refused from the next request on), and checked per request.
//! A token is `stc_<id>_<64 hex digits>`: the prefix names the key, the
//! rest is 256 random bits; the store keeps only the token's SHA-256.

use sha2::{Digest, Sha256};

use super::Access;
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, ApiKey, Role, api_key_prefix};
use crate::store::{Family, Key, Mutation, Record, Typed};

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal without an early exit, so timing does not tell how much matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl Access {
    /// Creates an API key; returns it with its token, which is shown once.
    pub async fn create_api_key(
        &self,
        name: &str,
        role: Role,
        actor: &Actor,
    ) -> CoreResult<(ApiKey, String)> {
        actor.require_admin("API keys are managed by admins")?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(CoreError::Invalid(
                "an API key needs a name of 1 to 64 characters".into(),
            ));
        }
        let id = self.store().next_id(Family::ApiKeys)?;
        let token = format!(
            "{}_{}",
            api_key_prefix(id),
            hex::encode(rand::random::<[u8; 32]>())
        );
        let key = ApiKey {
            id,
            name: name.to_string(),
            role,
            token_sha256: sha256_hex(&token),
            created_at: self.clock().now(),
            revoked_at: None,
        };
        let mut m = Mutation::new();
        m.put(Key::ApiKey(id), Record::ApiKey(key.clone()));
        self.store().commit(m).await?;
        Ok((key, token))
    }

    /// Every API key, revoked ones included.
    pub fn api_keys(&self) -> CoreResult<Vec<ApiKey>> {
        Ok(self.store().scan_as(Family::ApiKeys, Default::default())?)
    }

    /// Revokes an API key (by id or `stc_<id>` prefix); requests with it are
    /// refused from now on.
    pub async fn revoke_api_key(&self, which: &str, actor: &Actor) -> CoreResult<ApiKey> {
        actor.require_admin("API keys are managed by admins")?;
        let id: u64 = which
            .strip_prefix("stc_")
            .unwrap_or(which)
            .parse()
            .map_err(|_| CoreError::Invalid(format!("'{which}' is not an API key id or prefix")))?;
        let mut key = match self.store().get(&Key::ApiKey(id))? {
            Some(Record::ApiKey(k)) => k,
            _ => return Err(CoreError::not_found("API key", which)),
        };
        if key.revoked_at.is_none() {
            key.revoked_at = Some(self.clock().now());
            let mut m = Mutation::new();
            m.put(Key::ApiKey(id), Record::ApiKey(key.clone()));
            self.store().commit(m).await?;
        }
        self.remember_api_key(&key);
        Ok(key)
    }

    /// Puts a key as just written (it replaces what was read before).
    fn remember_api_key(&self, key: &ApiKey) {
        self.api_keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.id, key.clone());
    }

    /// An API key, from memory once it was read.
    fn api_key(&self, id: u64) -> CoreResult<Option<ApiKey>> {
        let known = self
            .api_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        if known.is_some() {
            return Ok(known);
        }
        let Some(key) = self
            .store()
            .get(&Key::ApiKey(id))?
            .and_then(ApiKey::from_record)
        else {
            return Ok(None);
        };
        // A revoke that finished meanwhile has put the newer record: keep it.
        Ok(Some(
            self.api_keys
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(id)
                .or_insert(key)
                .clone(),
        ))
    }

    /// The actor a bearer token stands for; unknown, malformed and revoked
    /// tokens are refused alike.
    pub fn authenticate_api_key(&self, token: &str) -> CoreResult<Actor> {
        let refused = || CoreError::Unauthenticated("unknown or revoked API key".into());
        let id = token
            .strip_prefix("stc_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(id, _)| id.parse::<u64>().ok())
            .ok_or_else(refused)?;
        let key = self.api_key(id)?.ok_or_else(refused)?;
        if key.revoked_at.is_some() || !same(&sha256_hex(token), &key.token_sha256) {
            return Err(refused());
        }
        Ok(Actor::ApiKey {
            prefix: key.prefix(),
            name: key.name,
            role: key.role,
        })
    }
}
