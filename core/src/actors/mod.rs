//! Actors: one per active card, and the directory that activates and
//! passivates them.

mod card;
mod commands;
mod directory;
mod passes;

pub use card::{CardActor, CardMsg};
pub use commands::{ActorKnows, CardCommand, CardOutcome, CardRequest, IdemKey, Proof};
pub use directory::{Directory, DirectoryMsg, DirectoryStats};
pub use passes::device_hash;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::model::Template;
use crate::settings::ShopSettings;
use crate::store::Store;

/// The latest version of every template, shared by all card actors.
#[derive(Clone, Default)]
pub struct TemplateCache(Arc<RwLock<HashMap<u64, Arc<Template>>>>);

impl TemplateCache {
    /// The latest version of a template.
    pub fn get(&self, id: u64) -> Option<Arc<Template>> {
        self.0.read().ok()?.get(&id).cloned()
    }

    /// Stores a template version as the latest.
    pub fn put(&self, t: Template) {
        if let Ok(mut map) = self.0.write() {
            map.insert(t.id, Arc::new(t));
        }
    }

    /// Replaces every template by these (read again from the store).
    pub fn replace_all(&self, templates: Vec<Template>) {
        if let Ok(mut map) = self.0.write() {
            *map = templates.into_iter().map(|t| (t.id, Arc::new(t))).collect();
        }
    }

    /// Every template, by id.
    pub fn all(&self) -> Vec<Arc<Template>> {
        let mut v: Vec<_> = self
            .0
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|t| t.id);
        v
    }
}

/// What every card actor needs.
pub struct Deps {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Shop settings.
    pub settings: ShopSettings,
    /// Templates.
    pub templates: TemplateCache,
}
