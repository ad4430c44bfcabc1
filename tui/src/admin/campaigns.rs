//! The campaigns tab: the list (channels, state, deliveries counted per
//! state), one campaign's per-recipient delivery with failure reasons, and
//! the new-campaign form, confirmed before anything is sent.

use stampcard_core::model::CampaignState;
use stampcard_core::shop::CampaignStatus;

use super::campaign_form::CampaignForm;
use super::{Prompt, TextAction};
use crate::app::Effect;
use crate::keys::Key;

/// One message of an open campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The card.
    pub card: u64,
    /// Its holder's name.
    pub customer: String,
    /// The channel.
    pub channel: String,
    /// ✅ sent, ✅✅ confirmed, failed: reason, queued …
    pub status: String,
    /// When it was sent (or queued).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct CampaignsTab {
    /// Campaigns with their counts, newest first.
    pub rows: Vec<CampaignStatus>,
    /// The selected row.
    pub selected: usize,
    /// The open campaign's messages.
    pub open: Option<(CampaignStatus, Vec<Delivery>)>,
    /// The selected message of the open campaign.
    pub open_selected: usize,
    /// The new-campaign form.
    pub form: Option<CampaignForm>,
    /// Templates (id, name), for the form.
    pub templates: Vec<(u64, String)>,
    /// The PUSH text limit.
    pub push_limit: usize,
    /// The shop's time zone.
    pub tz: chrono_tz::Tz,
}

/// A channel's tag in lists.
pub fn tag(channel: &str) -> String {
    match channel {
        "wallet" => "Wallet".into(),
        "telegram" => "Telegram".into(),
        "email" => "Email".into(),
        "log" => "Log file".into(),
        other => other.to_string(),
    }
}

/// Deliveries of every channel counted per state, in a fixed order:
/// `✅✅ 3  ✅ 2  queued 1  failed 1  n/a 4`.
pub fn counts(s: &CampaignStatus) -> String {
    let mut total: std::collections::BTreeMap<&str, u64> = Default::default();
    for states in s.deliveries.values() {
        for (state, n) in states {
            *total.entry(state.as_str()).or_default() += n;
        }
    }
    let order = [
        ("confirmed", "✅✅"),
        ("sent", "✅"),
        ("queued", "queued"),
        ("failed", "failed"),
        ("n/a", "n/a"),
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|(state, label)| total.get(state).map(|n| format!("{label} {n}")))
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("  ")
    }
}

impl CampaignsTab {
    /// The effect that loads the list.
    pub fn load(&self) -> Effect {
        match &self.open {
            Some((s, _)) => Effect::OpenCampaign(s.campaign.id),
            None => Effect::LoadCampaigns,
        }
    }

    /// Rows of the table on screen.
    pub fn len(&self) -> usize {
        match &self.open {
            Some((_, d)) => d.len(),
            None => self.rows.len(),
        }
    }

    /// Whether the table on screen is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The selected row of the table on screen.
    pub fn selection(&self) -> usize {
        if self.open.is_some() {
            self.open_selected
        } else {
            self.selected
        }
    }

    /// Handles a key (the form's keys included); a problem goes to `error`.
    pub fn key(
        &mut self,
        key: Key,
        prompt: &mut Option<Prompt>,
        error: &mut Option<String>,
    ) -> Vec<Effect> {
        if let Some(form) = &mut self.form {
            return match key {
                Key::Esc => {
                    self.form = None;
                    Vec::new()
                }
                Key::Ctrl('s') => {
                    match form.draft() {
                        Ok(draft) => *prompt = Some(confirm(form, draft)),
                        Err(why) => *error = Some(why),
                    }
                    Vec::new()
                }
                key => form.key(key),
            };
        }
        if self.open.is_some() {
            match key {
                Key::Esc | Key::Char('q') => {
                    self.open = None;
                    return vec![Effect::LoadCampaigns];
                }
                Key::Down | Key::Char('j') => {
                    self.open_selected = (self.open_selected + 1).min(self.len().saturating_sub(1))
                }
                Key::Up | Key::Char('k') => {
                    self.open_selected = self.open_selected.saturating_sub(1)
                }
                Key::Char('r') => return vec![self.load()],
                _ => {}
            }
            return Vec::new();
        }
        match key {
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1))
            }
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Char('r') => return vec![Effect::LoadCampaigns],
            Key::Char('n') => {
                let form = CampaignForm::new(self.templates.clone(), self.push_limit, self.tz);
                let effects = form.count().into_iter().collect();
                self.form = Some(form);
                return effects;
            }
            Key::Enter => {
                if let Some(s) = self.rows.get(self.selected) {
                    self.open_selected = 0;
                    return vec![Effect::OpenCampaign(s.campaign.id)];
                }
            }
            Key::Char('e') => {
                if let Some(s) = self.rows.get(self.selected) {
                    *prompt = Some(Prompt::Text {
                        title: format!("New name of campaign {}", s.campaign.id),
                        text: s.campaign.name.clone(),
                        then: TextAction::RenameCampaign(s.campaign.id),
                    });
                }
            }
            Key::Char('x') => match self.rows.get(self.selected) {
                Some(s)
                    if matches!(
                        s.campaign.state,
                        CampaignState::Draft | CampaignState::Scheduled
                    ) =>
                {
                    *prompt = Some(Prompt::Confirm {
                        question: format!(
                            "Delete {} campaign {} \"{}\"? y/n",
                            s.campaign.state.name(),
                            s.campaign.id,
                            s.campaign.name
                        ),
                        then: Effect::DeleteCampaign(s.campaign.id),
                    })
                }
                Some(s) => {
                    *error = Some(format!(
                        "campaign {} is {}: only drafts and scheduled campaigns are deleted",
                        s.campaign.id,
                        s.campaign.state.name()
                    ))
                }
                None => {}
            },
            Key::Char('s') => match self.rows.get(self.selected) {
                Some(s) if s.campaign.state == CampaignState::Draft => {
                    *prompt = Some(Prompt::Confirm {
                        question: format!(
                            "Send campaign {} \"{}\" now? y/n",
                            s.campaign.id, s.campaign.name
                        ),
                        then: Effect::SendCampaign(s.campaign.id),
                    })
                }
                Some(s) => {
                    *error = Some(format!(
                        "campaign {} is {}: only drafts are sent from here",
                        s.campaign.id,
                        s.campaign.state.name()
                    ))
                }
                None => {}
            },
            _ => {}
        }
        Vec::new()
    }
}

/// The question before a campaign is saved: whom it reaches, and when.
fn confirm(form: &CampaignForm, draft: stampcard_core::shop::CampaignDraft) -> Prompt {
    let reach = match form.current_audience() {
        Some(Ok(a)) => {
            let per: Vec<String> = a
                .per_channel
                .iter()
                .map(|(c, n)| format!("{} {n}", tag(c)))
                .collect();
            format!("{} card(s): {}", a.cards, per.join(", "))
        }
        _ => "the segment".into(),
    };
    let when = match draft.scheduled_for {
        Some(at) => format!(
            "Schedule it for {}",
            at.with_timezone(&form.tz).format("%Y-%m-%d %H:%M")
        ),
        None => "Send it now".into(),
    };
    Prompt::Confirm {
        question: format!("{when} to {reach}? y/n"),
        then: Effect::SaveCampaign(Box::new(draft)),
    }
}
