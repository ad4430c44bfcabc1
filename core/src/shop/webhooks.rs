//! Webhook subscriptions: an admin subscribes a URL to event types; the
//! webhook consumer queues one signed delivery per matching event through
//! the outbox. The active list is cached in memory (it is read for every
//! event) and refreshed whenever it changes.

use super::context::{Context, on_context};
use std::sync::Arc;

use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, EventKind, Webhook};
use crate::outbox::OutboxEntry;
use crate::store::{Family, Key, Mutation, Record};

/// The outbox channel webhook deliveries go through.
pub const WEBHOOK_CHANNEL: &str = "webhook";

fn admin_only(actor: &Actor) -> CoreResult<()> {
    actor.require_admin("webhooks are managed by admins")
}

/// Checks a webhook URL: http or https, a host, no spaces, at most 2,000 characters.
fn check_url(url: &str) -> CoreResult<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty)
        || url.len() > 2000
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(CoreError::Invalid(format!(
            "'{url}' is not a webhook URL: give an http:// or https:// address"
        )));
    }
    Ok(url.to_string())
}

/// Checks event type names; `*` or none means all types.
fn check_events(events: &[String]) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for e in events.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        if e == "*" || e == "all" {
            return Ok(Vec::new());
        }
        if !EventKind::NAMES.contains(&e) {
            return Err(CoreError::Invalid(format!(
                "'{e}' is not an event type; the types are: {}",
                EventKind::NAMES.join(", ")
            )));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    Ok(out)
}

/// Webhook subscriptions, with the active ones cached.
#[derive(Clone)]
pub struct Webhooks {
    ctx: Context,
    cache: Arc<std::sync::RwLock<Option<Arc<Vec<Webhook>>>>>,
}

on_context!(Webhooks);

impl Webhooks {
    pub(super) fn new(ctx: Context) -> Self {
        Self {
            ctx,
            cache: Arc::default(),
        }
    }
}

impl Webhooks {
    /// Subscribes `url` to event types (empty: all); returns the webhook
    /// with its signing secret.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        actor: &Actor,
    ) -> CoreResult<Webhook> {
        admin_only(actor)?;
        let url = check_url(url)?;
        let events = check_events(events)?;
        let hook = Webhook {
            id: self.store().next_id(Family::Webhooks)?,
            url,
            events,
            secret: hex::encode(rand::random::<[u8; 32]>()),
            created_at: self.clock().now(),
            deleted_at: None,
        };
        self.save_webhook(&hook).await?;
        Ok(hook)
    }

    /// Deletes a webhook: nothing more is queued for it (deliveries already
    /// queued still go out, in order).
    pub async fn delete_webhook(&self, id: u64, actor: &Actor) -> CoreResult<Webhook> {
        admin_only(actor)?;
        let mut hook = self.webhook(id)?;
        if hook.deleted_at.is_none() {
            hook.deleted_at = Some(self.clock().now());
            self.save_webhook(&hook).await?;
        }
        Ok(hook)
    }

    async fn save_webhook(&self, hook: &Webhook) -> CoreResult<()> {
        let mut m = Mutation::new();
        m.put(Key::Webhook(hook.id), Record::Webhook(hook.clone()));
        self.store().commit(m).await?;
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// One webhook (deleted ones too).
    pub fn webhook(&self, id: u64) -> CoreResult<Webhook> {
        match self.store().get(&Key::Webhook(id))? {
            Some(Record::Webhook(h)) => Ok(h),
            _ => Err(CoreError::not_found("webhook", id)),
        }
    }

    /// Every webhook, deleted ones included, by id.
    pub fn webhooks(&self) -> CoreResult<Vec<Webhook>> {
        Ok(self.store().scan_as(Family::Webhooks, Default::default())?)
    }

    /// Drops the cached list (another node changed a webhook).
    pub(super) fn forget_cached(&self) {
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The webhooks that receive events (cached).
    pub fn active_webhooks(&self) -> CoreResult<Arc<Vec<Webhook>>> {
        if let Some(hooks) = &*self.cache.read().unwrap_or_else(|e| e.into_inner()) {
            return Ok(hooks.clone());
        }
        let hooks: Arc<Vec<Webhook>> = Arc::new(
            self.webhooks()?
                .into_iter()
                .filter(|h| h.deleted_at.is_none())
                .collect(),
        );
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(hooks.clone());
        Ok(hooks)
    }

    /// A webhook's deliveries, newest first: its delivery log.
    pub fn webhook_deliveries(&self, id: u64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
        let recipient = id.to_string();
        self.outbox().newest_entries(limit, |e| {
            e.message.channel == WEBHOOK_CHANNEL && e.message.recipient == recipient
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(check_url("https://crm.example/hooks?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in ["ftp://x", "https://", "crm.example", "https://a b", ""] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_types_are_checked_and_star_means_all() {
        assert_eq!(
            check_events(&["stamp_added".into(), "stamp_added".into()]).unwrap(),
            vec!["stamp_added".to_string()]
        );
        assert!(check_events(&["*".into()]).unwrap().is_empty());
        let e = check_events(&["stamp_add".into()]).unwrap_err();
        assert!(e.to_string().contains("stamp_added"), "{e}");
    }
}
