//! Staff accounts and PIN sign-in.

use sha2::{Digest, Sha256};

use super::Access;
use crate::codes::constant_time_eq;
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, EventKind, NewEvent, Role, Staff};
use crate::store::{Family, Key, Mutation, Record};

fn pin_hash(secret: &[u8], salt: &str, pin: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(salt.as_bytes());
    h.update(pin.as_bytes());
    hex::encode(h.finalize())
}

impl Access {
    /// Adds a staff account. PINs are 4 to 8 digits and unique among enabled staff,
    /// so a PIN alone signs a person in at the counter.
    pub async fn add_staff(
        &self,
        name: &str,
        role: Role,
        pin: &str,
        actor: &Actor,
    ) -> CoreResult<Staff> {
        actor.require_admin("staff accounts are managed by admins")?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || !crate::rules::displayable_name(name) {
            return Err(CoreError::Invalid(
                "a staff name has 1 to 64 printable characters".into(),
            ));
        }
        if !(4..=8).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(CoreError::Invalid("a PIN has 4 to 8 digits".into()));
        }
        let all = self.staff()?;
        if all.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
            return Err(CoreError::Invalid(format!(
                "a staff member named '{name}' exists already"
            )));
        }
        if self.sign_in(pin)?.is_some() {
            return Err(CoreError::Invalid(
                "that PIN is taken; choose another".into(),
            ));
        }
        let salt = hex::encode(rand::random::<[u8; 16]>());
        let s = Staff {
            id: self.store().next_id(Family::Staff)?,
            name: name.to_string(),
            role,
            pin_hash: pin_hash(&self.settings().secret, &salt, pin),
            pin_salt: salt,
            enabled: true,
            ssh_keys: Vec::new(),
        };
        self.save_staff(&s, "added", actor).await?;
        Ok(s)
    }

    async fn save_staff(&self, s: &Staff, change: &str, actor: &Actor) -> CoreResult<()> {
        let mut m = Mutation::new();
        m.put(Key::Staff(s.id), Record::Staff(s.clone()));
        m.event(NewEvent::of_shop(
            self.clock().now(),
            EventKind::StaffChanged {
                staff_id: s.id,
                change: change.to_string(),
            },
            actor.clone(),
        ));
        self.store().commit(m).await?;
        self.staff_changed();
        Ok(())
    }

    /// Every staff account.
    pub fn staff(&self) -> CoreResult<Vec<Staff>> {
        Ok(self.store().scan_as(Family::Staff, Default::default())?)
    }

    /// Finds a staff account by id or name.
    pub fn find_staff(&self, who: &str) -> CoreResult<Staff> {
        self.staff()?
            .into_iter()
            .find(|s| s.id.to_string() == who || s.name.eq_ignore_ascii_case(who.trim()))
            .ok_or_else(|| CoreError::not_found("staff member", who))
    }

    /// Enables or disables a staff account.
    pub async fn set_staff_enabled(
        &self,
        who: &str,
        enabled: bool,
        actor: &Actor,
    ) -> CoreResult<Staff> {
        actor.require_admin("staff accounts are managed by admins")?;
        let mut s = self.find_staff(who)?;
        s.enabled = enabled;
        self.save_staff(&s, if enabled { "enabled" } else { "disabled" }, actor)
            .await?;
        Ok(s)
    }

    /// Lets a staff member sign in over SSH with this public key (an
    /// OpenSSH `authorized_keys` line: type, base64 key, optional comment).
    pub async fn add_staff_ssh_key(
        &self,
        who: &str,
        key: &str,
        actor: &Actor,
    ) -> CoreResult<Staff> {
        actor.require_admin("staff accounts are managed by admins")?;
        let key = key.trim();
        let mut parts = key.split_whitespace();
        let (kind, blob) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let known =
            kind.starts_with("ssh-") || kind.starts_with("ecdsa-sha2-") || kind.starts_with("sk-");
        let base64 = !blob.is_empty()
            && blob
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        if !known || !base64 || key.len() > 16_384 || key.contains(['\n', '\r']) {
            return Err(CoreError::Invalid(
                "an SSH public key looks like 'ssh-ed25519 AAAA… comment' (one line of a .pub file)".into(),
            ));
        }
        let mut s = self.find_staff(who)?;
        if self
            .staff()?
            .iter()
            .any(|o| o.ssh_keys.iter().any(|k| same_key(k, key)))
        {
            return Err(CoreError::Invalid(
                "that key belongs to a staff member already".into(),
            ));
        }
        s.ssh_keys.push(key.to_string());
        self.save_staff(&s, "ssh key added", actor).await?;
        Ok(s)
    }

    /// The enabled staff member with this PIN.
    pub fn sign_in(&self, pin: &str) -> CoreResult<Option<Staff>> {
        let secret = &self.settings().secret;
        Ok(self.staff()?.into_iter().find(|s| {
            s.enabled
                && constant_time_eq(
                    pin_hash(secret, &s.pin_salt, pin).as_bytes(),
                    s.pin_hash.as_bytes(),
                )
        }))
    }

    /// The journal actor of a staff member.
    pub fn staff_actor(s: &Staff) -> Actor {
        Actor::Staff {
            id: s.id,
            name: s.name.clone(),
            role: s.role,
        }
    }
}

/// Whether two `authorized_keys` lines hold the same key (comments aside).
pub fn same_key(a: &str, b: &str) -> bool {
    fn key(s: &str) -> Vec<&str> {
        s.split_whitespace().take(2).collect()
    }
    key(a) == key(b)
}
