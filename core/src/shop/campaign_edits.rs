//! Changing a campaign after it was created: its name (any time), and
//! deleting a draft or a scheduled one (nothing of it was sent yet).

use super::Campaigns;
use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Campaign, CampaignState};
use crate::store::{Key, Mutation, Record};

impl Campaigns {
    /// Renames a campaign.
    pub async fn rename_campaign(
        &self,
        id: u64,
        name: &str,
        actor: &Actor,
    ) -> CoreResult<Campaign> {
        actor.require_admin("campaigns are changed by admins")?;
        let name = name.trim();
        crate::rules::validate_text("the name", name, true, 100)?;
        if name.contains(['\n', '\t']) {
            return Err(CoreError::Invalid("the name is one line".into()));
        }
        // Not while its planning writes the record.
        let _one_writer = self.lock.lock(&**self.store()).await?;
        let mut c = self.campaign(id)?;
        c.name = name.to_string();
        let mut m = Mutation::new();
        m.put(Key::Campaign(id), Record::Campaign(c.clone()));
        self.store().commit(m).await?;
        Ok(c)
    }

    /// Deletes a draft or a scheduled campaign; one that has started
    /// sending stays (its messages are on their way or delivered).
    pub async fn delete_campaign(&self, id: u64, actor: &Actor) -> CoreResult<Campaign> {
        actor.require_admin("campaigns are changed by admins")?;
        let _one_writer = self.lock.lock(&**self.store()).await?;
        let c = self.campaign(id)?;
        if !matches!(c.state, CampaignState::Draft | CampaignState::Scheduled) {
            return Err(CoreError::Invalid(format!(
                "campaign {id} is {}: only drafts and scheduled campaigns can be deleted",
                c.state.name()
            )));
        }
        let mut m = Mutation::new();
        m.deletes.push(Key::Campaign(id));
        self.store().commit(m).await?;
        Ok(c)
    }
}
