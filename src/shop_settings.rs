//! The shop-wide settings of a shop whose nodes share one database: the
//! config sections every node must agree on (the shop and its secret, which
//! signs every code; rules, messaging, wallets, campaigns) and the SSH host
//! key, kept in the database so that they are the shop's, not one node's.
//!
//! `store copy --to postgres://…` (or else the first node) puts them there; every node that opens
//! the database compares its own config with them and refuses to start,
//! naming the first difference, when they disagree. A node without an SSH
//! host key of its own takes the shop's.

use std::path::Path;

use anyhow::{Context, Result, bail};
use stampcard_core::store::{Key, Mutation, Record, Store, StoreError};

use crate::config::Config;

/// The config sections that are the shop's, not a node's.
const SHOP_WIDE: [&str; 10] = [
    "shop",
    "rules",
    "telegram",
    "reminders",
    "campaigns",
    "outbox",
    "wallet",
    "google_wallet",
    "smtp",
    "alerts",
];

/// Where the database keeps them.
const SETTINGS: &str = "shop_settings";
/// Where the database keeps the SSH host key (OpenSSH text).
const HOST_KEY: &str = "ssh_host_key";

/// The shop-wide sections of a config, as JSON.
fn shop_wide(config: &Config) -> Result<serde_json::Value> {
    let all = serde_json::to_value(config).context("the config as JSON")?;
    let mut out = serde_json::Map::new();
    for section in SHOP_WIDE {
        out.insert(
            section.to_string(),
            all.get(section).cloned().unwrap_or_default(),
        );
    }
    Ok(serde_json::Value::Object(out))
}

/// The first key whose value differs (dotted path), with both values.
fn first_difference(
    path: &str,
    here: &serde_json::Value,
    there: &serde_json::Value,
) -> Option<(String, serde_json::Value, serde_json::Value)> {
    match (here, there) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            let null = serde_json::Value::Null;
            keys.into_iter().find_map(|k| {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                first_difference(&at, a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null))
            })
        }
        _ if here == there => None,
        _ => Some((path.to_string(), here.clone(), there.clone())),
    }
}

/// A value as a message may show it: secrets never.
fn shown(key: &str, value: &serde_json::Value) -> String {
    let secret = ["secret", "password", "token", "key"]
        .iter()
        .any(|word| key.rsplit('.').next().unwrap_or(key).contains(word));
    match value {
        _ if secret => "(hidden)".into(),
        serde_json::Value::Null => "not set".into(),
        other => other.to_string(),
    }
}

/// The shop-wide settings kept in the database, if any.
pub fn stored(store: &dyn Store) -> Result<Option<serde_json::Value>> {
    Ok(match store.get(&Key::Meta(SETTINGS.into()))? {
        Some(Record::Meta(value)) => Some(value),
        _ => None,
    })
}

/// The names of the shop-wide sections.
pub fn sections() -> &'static [&'static str] {
    &SHOP_WIDE
}

/// Settings as they may be shown: every secret replaced.
pub fn hidden(value: &serde_json::Value) -> serde_json::Value {
    hide("", value)
}

fn hide(key: &str, value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), hide(&format!("{key}.{k}"), v)))
                .collect(),
        ),
        serde_json::Value::String(s) if !s.is_empty() && shown(key, value) == "(hidden)" => {
            serde_json::Value::String("(hidden)".into())
        }
        other => other.clone(),
    }
}

/// Replaces the shop's settings in the database with this config's
/// shop-wide sections; returns each changed key with its old and new value
/// as they may be shown.
pub async fn replace(store: &dyn Store, config: &Config) -> Result<Vec<(String, String, String)>> {
    let here = shop_wide(config)?;
    let before = stored(store)?.unwrap_or_default();
    let mut changed = Vec::new();
    let mut rest = before.clone();
    while let Some((key, old, new)) = first_difference("", &rest, &here) {
        changed.push((key.clone(), shown(&key, &old), shown(&key, &new)));
        set_at(&mut rest, &key, new);
    }
    if !changed.is_empty() {
        let mut m = Mutation::new();
        m.put(Key::Meta(SETTINGS.into()), Record::Meta(here));
        store.commit(m).await?;
    }
    Ok(changed)
}

/// Sets the value at a dotted path, making objects on the way.
fn set_at(value: &mut serde_json::Value, path: &str, new: serde_json::Value) {
    let mut at = value;
    for part in path.split('.') {
        if !at.is_object() {
            *at = serde_json::Value::Object(Default::default());
        }
        let serde_json::Value::Object(map) = at else {
            return;
        };
        at = map
            .entry(part.to_string())
            .or_insert(serde_json::Value::Null);
    }
    *at = new;
}

/// Fills the shop-wide sections a node's config file leaves out from the
/// shop's settings in its database (none yet: the file must set them all).
pub fn fill(store: &dyn Store, raw: &mut crate::config::Raw) -> Result<()> {
    let Some(stored) = stored(store)? else {
        if !raw.has("shop") {
            bail!(
                "the shop's database holds no shop-wide settings yet, and this node's stampcard.toml has no [shop]: put the shop in with `stampcard store copy --to …`, or start the first node with a whole stampcard.toml"
            );
        }
        return Ok(());
    };
    for section in SHOP_WIDE {
        if !raw.has(section)
            && let Some(value) = stored.get(section)
        {
            raw.fill(section, value);
        }
    }
    Ok(())
}

/// Writes a meta record unless one exists; returns what the store holds.
async fn put_once(
    store: &dyn Store,
    name: &str,
    value: serde_json::Value,
) -> Result<serde_json::Value> {
    let key = Key::Meta(name.into());
    if let Some(Record::Meta(stored)) = store.get(&key)? {
        return Ok(stored);
    }
    let mut m = Mutation::new();
    m.guard_absent(key.clone());
    m.put(key.clone(), Record::Meta(value.clone()));
    match store.commit(m).await {
        Ok(_) => Ok(value),
        // Another node put them first: theirs are the shop's.
        Err(StoreError::Conflict(_)) => match store.get(&key)? {
            Some(Record::Meta(stored)) => Ok(stored),
            _ => bail!("the shop's {name} vanished from the database"),
        },
        Err(e) => Err(e.into()),
    }
}

/// Puts this node's shop-wide settings and host key into the database if
/// it has none yet; refuses settings or a host key that differ from the
/// database's; writes the shop's host key into a folder that has none.
pub async fn agree(store: &dyn Store, config: &Config, data: &Path) -> Result<()> {
    let here = shop_wide(config)?;
    let there = put_once(store, SETTINGS, here.clone()).await?;
    if let Some((key, a, b)) = first_difference("", &here, &there) {
        bail!(
            "this node's settings differ from the shop's in its database: `{key}` is {} here and {} there; a shared database's nodes keep the shop-wide sections ({}) the same — copy stampcard.toml from a node that runs",
            shown(&key, &a),
            shown(&key, &b),
            SHOP_WIDE.join(", ")
        );
    }
    let path = data.join("ssh_host_key");
    let local = std::fs::read_to_string(&path).ok();
    let stored = match store.get(&Key::Meta(HOST_KEY.into()))? {
        Some(Record::Meta(serde_json::Value::String(text))) => Some(text),
        _ => None,
    };
    match (local, stored) {
        (Some(local), Some(stored)) if local.trim() != stored.trim() => bail!(
            "this node's SSH host key ({}) is not the shop's in its database: SSH clients behind one address would see the key change; remove the file to take the shop's",
            path.display()
        ),
        (Some(_), Some(_)) => {}
        (None, Some(stored)) => crate::export::write_private(&path, stored.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        (local, None) => {
            let text = match local {
                Some(text) => text,
                None => {
                    stampcard_tui::ssh::host_key(&path)?;
                    std::fs::read_to_string(&path)?
                }
            };
            let put = put_once(store, HOST_KEY, serde_json::Value::String(text.clone())).await?;
            if put.as_str().map(str::trim) != Some(text.trim()) {
                bail!(
                    "another node put its SSH host key into the shop's database at the same moment; start this node again to take it"
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_and_secrets_are_hidden() {
        let a = serde_json::json!({"rules": {"staff_undo_minutes": 5}, "shop": {"secret": "aa", "name": "X"}});
        let b = serde_json::json!({"rules": {"staff_undo_minutes": 10}, "shop": {"secret": "bb", "name": "X"}});
        let (key, here, there) = first_difference("", &a, &b).expect("differs");
        assert_eq!(key, "rules.staff_undo_minutes");
        assert_eq!(
            (shown(&key, &here), shown(&key, &there)),
            ("5".into(), "10".into())
        );
        let a = serde_json::json!({"shop": {"secret": "aa"}});
        let b = serde_json::json!({"shop": {"secret": "bb"}});
        let (key, here, _) = first_difference("", &a, &b).expect("differs");
        assert_eq!(
            (key.as_str(), shown(&key, &here).as_str()),
            ("shop.secret", "(hidden)")
        );
        assert!(first_difference("", &a, &a).is_none());
    }
}
