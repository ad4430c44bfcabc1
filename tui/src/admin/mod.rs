//! The admin screens: a side menu of tabs. Each tab keeps its own state
//! and reacts to its keys; loading data is an effect like any other.

pub mod alerts;
pub mod campaign_form;
pub mod campaigns;
pub mod cards;
pub mod codes;
pub mod journal;
pub mod staff;
pub mod template_form;
pub mod templates;

use stampcard_core::views::CardView;

use crate::app::Effect;
use crate::keys::Key;

/// The admin tabs, in menu order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Card templates.
    Templates,
    /// Customers and their cards.
    Cards,
    /// The journal.
    Journal,
    /// Campaigns: list, delivery, new.
    Campaigns,
    /// Receipt codes and POS keys.
    Codes,
    /// Charts.
    Analytics,
    /// Staff accounts.
    Staff,
    /// Shop settings.
    Settings,
    /// Fraud alerts.
    Alerts,
}

/// Days the analytics tab covers.
pub const ANALYTICS_DAYS: u32 = 14;

/// Menu order.
pub const TABS: [Tab; 9] = [
    Tab::Templates,
    Tab::Cards,
    Tab::Journal,
    Tab::Campaigns,
    Tab::Codes,
    Tab::Analytics,
    Tab::Staff,
    Tab::Settings,
    Tab::Alerts,
];

impl Tab {
    /// The label in a narrow menu.
    pub fn short(self) -> &'static str {
        match self {
            Tab::Cards => "Customers",
            Tab::Analytics => "Charts",
            other => other.label(),
        }
    }

    /// The menu label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Templates => "Templates",
            Tab::Cards => "Customers & cards",
            Tab::Journal => "Journal",
            Tab::Campaigns => "Campaigns",
            Tab::Codes => "Codes",
            Tab::Analytics => "Analytics",
            Tab::Staff => "Staff",
            Tab::Settings => "Settings",
            Tab::Alerts => "Alerts",
        }
    }
}

/// A question the admin answers in a line of text.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// A line of text, then the effect built from it.
    Text {
        /// What is asked.
        title: String,
        /// The text so far.
        text: String,
        /// What the text is for.
        then: TextAction,
    },
    /// A yes/no before a change that cannot be undone.
    Confirm {
        /// The question.
        question: String,
        /// What `y` does.
        then: Effect,
    },
}

/// What a text prompt's answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextAction {
    /// The reason to reverse this event.
    Reverse(u64),
    /// The description of a coupon for this card.
    Coupon(u64),
    /// How many receipt codes to make for this template.
    Generate(u64),
    /// The name of a new POS key.
    PosKey,
    /// A journal filter (may be empty: clears it).
    JournalFilter,
    /// The customer this customer (id) is merged into.
    MergeInto(u64),
    /// "Name PIN" of a new staff account.
    AddStaff {
        /// With the admin role.
        admin: bool,
    },
    /// An SSH public key for this staff account.
    SshKey(u64),
    /// A message to this card's holder.
    Message(u64),
    /// Which table to export ("customers", "journal json" …).
    Export,
    /// The new name of this campaign.
    RenameCampaign(u64),
}

impl TextAction {
    fn effect(self, text: String) -> Effect {
        match self {
            TextAction::Reverse(event) => Effect::Reverse {
                event,
                reason: text,
            },
            TextAction::Coupon(card) => Effect::Coupon {
                card,
                description: text,
            },
            TextAction::Generate(template) => Effect::GenerateCodes {
                template,
                count: text.parse().unwrap_or(0),
            },
            TextAction::PosKey => Effect::CreatePosKey(text),
            TextAction::JournalFilter => Effect::None,
            TextAction::AddStaff { admin } => match text.trim().rsplit_once(' ') {
                Some((name, pin)) => Effect::AddStaff {
                    name: name.trim().to_string(),
                    pin: pin.to_string(),
                    admin,
                },
                None => Effect::Refuse("type a name, a space and the PIN".into()),
            },
            TextAction::SshKey(staff) => Effect::AddSshKey { staff, key: text },
            TextAction::Message(card) => Effect::SendMessage { card, text },
            TextAction::RenameCampaign(id) => Effect::RenameCampaign { id, name: text },
            TextAction::Export => {
                let mut words = text.split_whitespace();
                let table = words.next().unwrap_or("").to_lowercase();
                match words.next().map(str::to_lowercase).as_deref() {
                    None | Some("csv") => Effect::ExportTable { table, json: false },
                    Some("json") => Effect::ExportTable { table, json: true },
                    Some(other) => {
                        Effect::Refuse(format!("'{other}' is not a format: csv or json"))
                    }
                }
            }
            TextAction::MergeInto(from) => match text.trim().trim_start_matches('#') {
                "" => Effect::Refuse("type a customer id, a card id, a name or a phone".into()),
                into => Effect::Merge {
                    from,
                    into: into.to_string(),
                },
            },
        }
    }
}

/// The admin screens' state.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The open tab.
    pub tab: Tab,
    /// The journal tab.
    pub journal: journal::Journal,
    /// The customers & cards tab.
    pub cards: cards::Cards,
    /// The staff tab.
    pub staff: staff::StaffTab,
    /// The templates tab.
    pub templates: templates::TemplatesTab,
    /// The codes tab.
    pub codes: codes::CodesTab,
    /// The campaigns tab.
    pub campaigns: campaigns::CampaignsTab,
    /// The alerts tab.
    pub alerts: alerts::AlertsTab,
    /// The analytics tab's numbers (last 14 days).
    pub analytics: Option<Box<stampcard_core::shop::Analytics>>,
    /// An open prompt.
    pub prompt: Option<Prompt>,
    /// The customer view popup (a card as its customer sees it).
    pub popup: Option<Box<CardView>>,
    /// A card's history popup.
    pub history: Option<(u64, Vec<journal::Row>)>,
    /// A problem with what was typed, for the app to show.
    pub error: Option<String>,
    /// The settings tab's last backup (`Some(None)`: none yet).
    pub last_backup: Option<Option<(chrono::DateTime<chrono::Utc>, String)>>,
    /// Apple Wallet's status line, once loaded.
    pub channels_status: Option<String>,
    /// The settings tab's webhooks and their delivery logs.
    pub webhooks: Option<
        Vec<(
            stampcard_core::model::Webhook,
            Vec<stampcard_core::outbox::OutboxEntry>,
        )>,
    >,
}

impl Default for Admin {
    fn default() -> Self {
        Self {
            tab: Tab::Journal,
            journal: journal::Journal::default(),
            cards: cards::Cards::default(),
            staff: staff::StaffTab::default(),
            templates: templates::TemplatesTab::default(),
            codes: codes::CodesTab::default(),
            campaigns: campaigns::CampaignsTab::default(),
            alerts: alerts::AlertsTab::default(),
            analytics: None,
            prompt: None,
            popup: None,
            history: None,
            error: None,
            last_backup: None,
            channels_status: None,
            webhooks: None,
        }
    }
}

impl Admin {
    /// The effect that loads the open tab's data.
    pub fn load(&self) -> Vec<Effect> {
        match self.tab {
            Tab::Journal => vec![self.journal.load()],
            Tab::Cards => vec![self.cards.load()],
            Tab::Staff => vec![self.staff.load()],
            Tab::Templates => vec![self.templates.load()],
            Tab::Analytics => vec![Effect::LoadAnalytics(ANALYTICS_DAYS)],
            Tab::Codes => vec![self.codes.load()],
            Tab::Campaigns => vec![self.campaigns.load()],
            Tab::Settings => vec![Effect::LoadSettings, Effect::LoadWebhooks],
            Tab::Alerts => vec![self.alerts.load()],
        }
    }

    /// Whether keys are text being typed (a search box or a form).
    pub fn typing(&self) -> bool {
        (self.tab == Tab::Cards && self.cards.searching)
            || (self.tab == Tab::Templates && self.templates.form.is_some())
            || (self.tab == Tab::Campaigns && self.campaigns.form.is_some())
    }

    /// The selected row of the open tab's table.
    pub fn selected(&self) -> usize {
        match self.tab {
            Tab::Journal => self.journal.selected,
            Tab::Cards => self.cards.selected,
            Tab::Staff => self.staff.selected,
            Tab::Templates => self.templates.selected,
            Tab::Codes => self.codes.selected,
            Tab::Campaigns => self.campaigns.selection(),
            Tab::Alerts => self.alerts.selected,
            _ => 0,
        }
    }

    /// Rows in the open tab's table.
    pub fn rows(&self) -> usize {
        match self.tab {
            Tab::Journal => self.journal.rows.len(),
            Tab::Cards => self.cards.rows.len(),
            Tab::Staff => self.staff.rows.len(),
            Tab::Templates => self.templates.rows.len(),
            Tab::Codes => self.codes.batch.len(),
            Tab::Campaigns => self.campaigns.len(),
            Tab::Alerts => self.alerts.rows.len(),
            _ => 0,
        }
    }

    /// Handles a key; returns the effects to run.
    pub fn key(&mut self, key: Key) -> Vec<Effect> {
        if let Some(prompt) = &mut self.prompt {
            match (prompt, key) {
                (Prompt::Text { text, .. }, Key::Char(c)) if text.chars().count() < 200 => {
                    text.push(c)
                }
                (Prompt::Text { text, .. }, Key::Backspace) => {
                    text.pop();
                }
                (Prompt::Text { text, .. }, Key::Ctrl('u')) => text.clear(),
                (
                    Prompt::Text {
                        text,
                        then: TextAction::JournalFilter,
                        ..
                    },
                    Key::Enter,
                ) => {
                    let text = text.clone();
                    self.prompt = None;
                    return match self.journal.set_filter(&text) {
                        Ok(effects) => effects,
                        Err(why) => {
                            self.error = Some(why);
                            Vec::new()
                        }
                    };
                }
                (Prompt::Text { text, then, .. }, Key::Enter) if !text.trim().is_empty() => {
                    let effect = then.effect(text.trim().to_string());
                    self.prompt = None;
                    return vec![effect];
                }
                (Prompt::Confirm { then, .. }, Key::Char('y')) => {
                    let effect = then.clone();
                    self.prompt = None;
                    return vec![effect];
                }
                (Prompt::Confirm { .. }, _) | (_, Key::Esc) => self.prompt = None,
                _ => {}
            }
            return Vec::new();
        }
        if self.history.is_some() {
            if matches!(key, Key::Esc | Key::Enter | Key::Char('q')) {
                self.history = None;
            }
            return Vec::new();
        }
        if self.popup.is_some() {
            if matches!(key, Key::Esc | Key::Enter | Key::Char('q')) {
                self.popup = None;
            }
            return Vec::new();
        }
        let typing = self.typing();
        if !typing && let Key::Char(c @ '1'..='9') = key {
            self.tab = TABS[(c as u8 - b'1') as usize];
            return self.load();
        }
        match self.tab {
            Tab::Journal => self.journal.key(key, &mut self.prompt),
            Tab::Cards => self.cards.key(key, &mut self.prompt),
            Tab::Staff => self.staff.key(key, &mut self.prompt),
            Tab::Templates => {
                if let Some(form) = &mut self.templates.form {
                    if key == Key::Esc {
                        self.templates.form = None;
                        return Vec::new();
                    }
                    return match form.key(key) {
                        Ok(Some(effect)) => vec![effect],
                        Ok(None) => Vec::new(),
                        Err(why) => {
                            self.error = Some(why);
                            Vec::new()
                        }
                    };
                }
                self.templates.key(key)
            }
            Tab::Codes => self.codes.key(key, &mut self.prompt),
            Tab::Alerts => self.alerts.key(key),
            Tab::Campaigns => self.campaigns.key(key, &mut self.prompt, &mut self.error),
            Tab::Settings if key == Key::Char('e') => {
                self.prompt = Some(Prompt::Text {
                    title:
                        "Export: customers, cards, vouchers or journal (add ' json' for JSON lines)"
                            .into(),
                    text: String::new(),
                    then: TextAction::Export,
                });
                Vec::new()
            }
            Tab::Settings if key == Key::Char('b') => {
                self.prompt = Some(Prompt::Confirm {
                    question: "Take a backup now? y/n".into(),
                    then: Effect::BackupNow,
                });
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
