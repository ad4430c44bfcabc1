//! Card templates: create, edit (a new version each time), list.

use super::context::{Context, on_context};
use serde::{Deserialize, Serialize};

use crate::error::CoreResult;
use crate::model::{Actor, Branding, EventKind, FraudRules, NewEvent, Reward, Template};
use crate::rules::validate_template;
use crate::store::{Family, Key, Mutation, Record};

/// A template definition as written by an admin (TOML or JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    /// Card name.
    pub name: String,
    /// Business name.
    pub business_name: String,
    /// Stamps for one reward.
    pub stamps_required: u32,
    /// The reward.
    pub reward: Reward,
    /// Branding.
    #[serde(default)]
    pub branding: Branding,
    /// Terms.
    #[serde(default)]
    pub terms: String,
    /// Anti-fraud rules.
    #[serde(default)]
    pub rules: FraudRules,
}

impl TemplateDraft {
    /// A draft with the default branding, no terms and no anti-fraud rules.
    pub fn new(name: &str, business_name: &str, stamps_required: u32, reward: Reward) -> Self {
        Self {
            name: name.into(),
            business_name: business_name.into(),
            stamps_required,
            reward,
            branding: Branding::default(),
            terms: String::new(),
            rules: FraudRules::default(),
        }
    }

    /// The draft of an existing template, for editing.
    pub fn of(t: &Template) -> Self {
        Self {
            name: t.name.clone(),
            business_name: t.business_name.clone(),
            stamps_required: t.stamps_required,
            reward: t.reward.clone(),
            branding: t.branding.clone(),
            terms: t.terms.clone(),
            rules: t.rules.clone(),
        }
    }
}

/// Card templates and their versions.
#[derive(Clone)]
pub struct Templates {
    ctx: Context,
}

on_context!(Templates);

impl Templates {
    pub(super) fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Templates {
    /// Creates a template (version 1).
    pub async fn create_template(
        &self,
        draft: TemplateDraft,
        actor: &Actor,
    ) -> CoreResult<Template> {
        let id = self.store().next_id(Family::Templates)?;
        self.save_template(id, 1, draft, actor).await
    }

    /// Edits a template: writes a new version. Issued cards follow the new
    /// version from their next action and keep their stamps.
    pub async fn edit_template(
        &self,
        id: u64,
        draft: TemplateDraft,
        actor: &Actor,
    ) -> CoreResult<Template> {
        let current = self.template_arc(id)?;
        self.save_template(id, current.version + 1, draft, actor)
            .await
    }

    async fn save_template(
        &self,
        id: u64,
        version: u32,
        d: TemplateDraft,
        actor: &Actor,
    ) -> CoreResult<Template> {
        actor.require_admin("templates are edited by admins")?;
        let t = Template {
            id,
            version,
            name: d.name,
            business_name: d.business_name,
            stamps_required: d.stamps_required,
            reward: d.reward,
            branding: d.branding,
            terms: d.terms,
            rules: d.rules,
            created_at: self.clock().now(),
            archived: false,
        };
        validate_template(&t)?;
        let mut m = Mutation::new();
        m.put(Key::Template(id), Record::Template(t.clone()));
        m.put(
            Key::TemplateVersion(id, version),
            Record::Template(t.clone()),
        );
        m.event(NewEvent {
            at: t.created_at,
            kind: EventKind::TemplateSaved { version },
            card_id: None,
            customer_id: None,
            template_id: Some(id),
            code: None,
            progress: None,
            reward: Some(t.reward.summary()),
            actor: actor.clone(),
        });
        self.store().commit(m).await?;
        self.template_cache().put(t.clone());
        Ok(t)
    }

    /// The latest version of a template.
    pub fn template(&self, id: u64) -> CoreResult<Template> {
        self.ctx.template(id)
    }

    /// The templates customers can join (not archived): id and name, by id.
    pub fn offered_templates(&self) -> Vec<(u64, String)> {
        let mut t: Vec<(u64, String)> = self
            .templates()
            .into_iter()
            .filter(|t| !t.archived)
            .map(|t| (t.id, t.name))
            .collect();
        t.sort();
        t
    }

    /// Every template's latest version.
    pub fn templates(&self) -> Vec<Template> {
        self.template_cache()
            .all()
            .iter()
            .map(|t| (**t).clone())
            .collect()
    }

    /// Every version of a template, oldest first.
    pub fn template_versions(&self, id: u64) -> CoreResult<Vec<Template>> {
        Ok(self
            .store()
            .scan_as(Family::TemplateVersions(id), Default::default())?)
    }
}
