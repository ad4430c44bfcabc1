//! What kinds of records a commit wrote, as far as other processes of a
//! shared store must know: each process keeps some of them in memory
//! (templates, webhooks, API keys, staff for live sessions) or acts on them
//! (outbox entries for the node holding a channel's dispatcher). A shared
//! store tells every process about each commit that wrote one of them.

use super::Key;

/// A kind of record other processes keep in memory or act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Written {
    /// Outbox entries were queued.
    Outbox,
    /// A template was saved.
    Templates,
    /// A webhook subscription changed.
    Webhooks,
    /// An API key was created or revoked.
    ApiKeys,
    /// A staff account changed.
    Staff,
}

impl Written {
    /// Every kind.
    pub const ALL: [Written; 5] = [
        Written::Outbox,
        Written::Templates,
        Written::Webhooks,
        Written::ApiKeys,
        Written::Staff,
    ];

    /// The kind a write under `key` is, if others must know of it.
    pub fn of(key: &Key) -> Option<Written> {
        match key {
            Key::OutboxPending(_) => Some(Written::Outbox),
            Key::Template(_) | Key::TemplateVersion(..) => Some(Written::Templates),
            Key::Webhook(_) => Some(Written::Webhooks),
            Key::ApiKey(_) => Some(Written::ApiKeys),
            Key::Staff(_) => Some(Written::Staff),
            _ => None,
        }
    }

    /// Its word in a commit notification.
    pub fn word(self) -> &'static str {
        match self {
            Written::Outbox => "outbox",
            Written::Templates => "templates",
            Written::Webhooks => "webhooks",
            Written::ApiKeys => "api_keys",
            Written::Staff => "staff",
        }
    }

    /// The kind a notification's word names.
    pub fn from_word(word: &str) -> Option<Written> {
        Self::ALL.into_iter().find(|w| w.word() == word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_name_their_kind_and_only_shared_state_is_told() {
        for w in Written::ALL {
            assert_eq!(Written::from_word(w.word()), Some(w));
        }
        assert_eq!(Written::from_word("cards"), None);
        assert_eq!(
            Written::of(&Key::TemplateVersion(1, 2)),
            Some(Written::Templates)
        );
        assert_eq!(Written::of(&Key::Card(100_001)), None);
    }
}
