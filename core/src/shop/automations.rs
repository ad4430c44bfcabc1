//! Automations: create, list, turn on and off, and the daily run. A run is
//! a campaign of the automation's template and segment (named after it and
//! the day) that reaches each card once per occasion: the campaign planner
//! skips cards whose stored occasion is the current one and stores it with
//! the batch that queues their messages, so consent, the frequency cap,
//! quiet hours, vouchers, crash resume and the journal are the campaign's.
//! A card left out by the cap is tried again the next day.

use std::sync::Arc;

use chrono::{Datelike, Duration};

use super::Campaigns;
use super::campaigns::{CampaignDraft, next_birthday};
use crate::consumers::Route;
use crate::error::{CoreError, CoreResult};
use crate::model::{
    Actor, Automation, AutomationKind, Campaign, CampaignVoucher, Card, Customer, VoucherState,
};
use crate::store::{Family, Key, Mutation, Record, Scan};

/// What a new automation does.
#[derive(Debug, Clone, PartialEq)]
pub struct AutomationDraft {
    /// Name; by default the kind's label.
    pub name: Option<String>,
    /// Whose holders.
    pub template_id: u64,
    /// What triggers it.
    pub kind: AutomationKind,
    /// The message.
    pub text: String,
    /// The wallet PUSH text.
    pub push_text: String,
    /// Channels.
    pub channels: Vec<String>,
    /// A voucher for each recipient.
    pub voucher: Option<CampaignVoucher>,
}

/// An automation and how many cards it would reach now (before consent
/// and the frequency cap).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AutomationStatus {
    /// The automation.
    pub automation: Automation,
    /// Cards due now.
    pub due: u64,
}

/// The shop-metadata key of the last day automations ran.
const LAST_RUN: &str = "automations_last_day";

impl Campaigns {
    /// Creates an automation (on).
    pub async fn create_automation(
        &self,
        d: AutomationDraft,
        actor: &Actor,
    ) -> CoreResult<Automation> {
        let name = match d.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => d.kind.label(),
        };
        // The same checks as a campaign's (text, PUSH text, channels, voucher).
        let checked = self.new_campaign(
            CampaignDraft {
                name: Some(name),
                template_id: d.template_id,
                segment: d.kind.segment(),
                push_text: d.push_text,
                text: d.text,
                channels: d.channels,
                scheduled_for: None,
                voucher: d.voucher,
            },
            actor,
            None,
        )?;
        let a = Automation {
            id: self.store().next_id(Family::Automations)?,
            name: checked.name,
            template_id: checked.template_id,
            kind: d.kind,
            text: checked.text,
            push_text: checked.push_text,
            channels: checked.channels,
            voucher: checked.voucher,
            enabled: true,
            created_at: checked.created_at,
            created_by: actor.clone(),
        };
        let mut m = Mutation::new();
        m.put(Key::Automation(a.id), Record::Automation(a.clone()));
        self.store().commit(m).await?;
        Ok(a)
    }

    /// One automation.
    pub fn automation(&self, id: u64) -> CoreResult<Automation> {
        match self.store().get(&Key::Automation(id))? {
            Some(Record::Automation(a)) => Ok(a),
            _ => Err(CoreError::not_found("automation", id)),
        }
    }

    /// Every automation, oldest first.
    pub fn automations(&self) -> CoreResult<Vec<Automation>> {
        Ok(self.store().scan_as(Family::Automations, Scan::default())?)
    }

    /// Turns an automation on or off.
    pub async fn set_automation_enabled(
        &self,
        id: u64,
        enabled: bool,
        actor: &Actor,
    ) -> CoreResult<Automation> {
        actor.require_admin("automations are set by admins")?;
        let mut a = self.automation(id)?;
        a.enabled = enabled;
        let mut m = Mutation::new();
        m.put(Key::Automation(id), Record::Automation(a.clone()));
        self.store().commit(m).await?;
        Ok(a)
    }

    /// The occasion a card is in for an automation now, unless the
    /// automation reached it for that occasion already (`None`).
    pub(crate) fn new_occasion(
        &self,
        automation: u64,
        kind: AutomationKind,
        card: &Card,
        customer: &Customer,
    ) -> CoreResult<Option<u64>> {
        let now = self.clock().now();
        let occasion = match kind {
            // This year's birthday (its year).
            AutomationKind::Birthday { .. } => {
                let today = now.with_timezone(&self.settings().timezone).date_naive();
                customer
                    .birthday
                    .and_then(|b| next_birthday(b, today))
                    .map(|d| d.year() as u64)
            }
            // This absence (when the last visit was).
            AutomationKind::WinBack { .. } => Some(
                card.last_stamp_at
                    .unwrap_or(card.created_at)
                    .timestamp()
                    .unsigned_abs(),
            ),
            // This cycle (stamps ever, which grow with every cycle).
            AutomationKind::AlmostReady => Some(card.lifetime_stamps + 1),
            // The first voucher expiring soon.
            AutomationKind::VoucherExpiring { days_before } => {
                let until = now + Duration::days(days_before.into());
                self.vouchers_of_card(card.id)?
                    .into_iter()
                    .filter(|v| {
                        v.state(now) == VoucherState::Active
                            && v.expires_at.is_some_and(|e| e <= until)
                    })
                    .map(|v| v.id)
                    .min()
            }
        };
        let Some(occasion) = occasion else {
            return Ok(None);
        };
        let done = self
            .store()
            .get(&Key::AutomationDone(automation, card.id))?;
        Ok(match done {
            Some(Record::Index(o)) if o == occasion => None,
            _ => Some(occasion),
        })
    }

    /// An automation with the cards it would reach now.
    pub fn automation_status(&self, automation: Automation) -> CoreResult<AutomationStatus> {
        let due = self.automation_due(&automation)?;
        Ok(AutomationStatus { automation, due })
    }

    /// Every automation with the cards it would reach now, oldest first.
    pub fn automation_statuses(&self) -> CoreResult<Vec<AutomationStatus>> {
        self.automations()?
            .into_iter()
            .map(|a| self.automation_status(a))
            .collect()
    }

    /// How many cards an automation would reach now (before consent and cap).
    pub fn automation_due(&self, a: &Automation) -> CoreResult<u64> {
        let t = self.template(a.template_id)?;
        let mut due = 0;
        let mut result = Ok(());
        self.walk_segment(&t, a.kind.segment(), &mut |card, cu| match self
            .new_occasion(a.id, a.kind, card, cu)
        {
            Ok(Some(_)) => due += 1,
            Ok(None) => {}
            Err(e) => result = Err(e),
        })?;
        result.map(|()| due)
    }

    /// Runs every automation that is on and has cards due: one campaign
    /// each, sent now (its messages wait for quiet hours to end).
    pub async fn run_automations(
        &self,
        routes: &[Arc<dyn Route>],
        actor: &Actor,
    ) -> CoreResult<Vec<Campaign>> {
        let mut sent = Vec::new();
        for a in self.automations()? {
            if !a.enabled || self.automation_due(&a)? == 0 {
                continue;
            }
            let day = self
                .clock()
                .now()
                .with_timezone(&self.settings().timezone)
                .format("%d.%m.%Y");
            let c = self.new_campaign(
                CampaignDraft {
                    name: Some(format!("{} {day}", a.name)),
                    template_id: a.template_id,
                    segment: a.kind.segment(),
                    push_text: a.push_text.clone(),
                    text: a.text.clone(),
                    channels: a.channels.clone(),
                    scheduled_for: None,
                    voucher: a.voucher.clone(),
                },
                actor,
                Some(a.id),
            )?;
            let mut m = Mutation::new();
            m.put(Key::Campaign(c.id), Record::Campaign(c.clone()));
            self.store().commit(m).await?;
            sent.push(self.send_campaign(c.id, routes, actor).await?);
        }
        Ok(sent)
    }

    /// Runs the automations once per shop-local day (the scheduler calls
    /// this often; the day is stored, so a restart does not run them twice).
    pub async fn run_automations_daily(
        &self,
        routes: &[Arc<dyn Route>],
        actor: &Actor,
    ) -> CoreResult<Vec<Campaign>> {
        let today = self
            .clock()
            .now()
            .with_timezone(&self.settings().timezone)
            .date_naive()
            .to_string();
        let key = Key::Meta(LAST_RUN.into());
        if let Some(Record::Meta(last)) = self.store().get(&key)?
            && last == serde_json::Value::String(today.clone())
        {
            return Ok(Vec::new());
        }
        let sent = self.run_automations(routes, actor).await?;
        let mut m = Mutation::new();
        m.put(key, Record::Meta(serde_json::Value::String(today)));
        self.store().commit(m).await?;
        Ok(sent)
    }
}
