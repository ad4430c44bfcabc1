//! Where a front-end's conversation with one person stands (the bot waits
//! for a name after `/name` …). Kept in the store and committed before the
//! question is sent, so a restart loses nothing.

use super::Customers;
use crate::error::CoreResult;
use crate::store::{Key, Mutation, Record};

fn key(channel: &str, user: &str) -> Key {
    Key::Meta(format!("conversation/{channel}/{user}"))
}

impl Customers {
    /// The state `channel` saved for `user`, if any.
    pub fn conversation(&self, channel: &str, user: &str) -> CoreResult<Option<serde_json::Value>> {
        Ok(match self.store().get(&key(channel, user))? {
            Some(Record::Meta(v)) if !v.is_null() => Some(v),
            _ => None,
        })
    }

    /// Saves (`Some`) or ends (`None`) `channel`'s conversation with `user`.
    pub async fn set_conversation(
        &self,
        channel: &str,
        user: &str,
        state: Option<serde_json::Value>,
    ) -> CoreResult<()> {
        let mut m = Mutation::new();
        m.put(
            key(channel, user),
            Record::Meta(state.unwrap_or(serde_json::Value::Null)),
        );
        self.store().commit(m).await?;
        Ok(())
    }
}
