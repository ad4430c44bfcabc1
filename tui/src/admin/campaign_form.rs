//! The new-campaign form: template, segment, channels, the PUSH text with a
//! live counter against the shop's limit, the message, an optional voucher
//! and when to send. The audience per channel is counted again whenever
//! template, segment or channels change; the preview is drawn from the form.

use stampcard_core::model::{CampaignVoucher, Segment};
use stampcard_core::shop::{Audience, CampaignDraft};

use crate::app::Effect;
use crate::keys::Key;

/// The form's fields, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Card template (←/→).
    Template,
    /// Which holders.
    Segment,
    /// Channels, comma separated.
    Channels,
    /// The wallet PUSH text.
    Push,
    /// The long message.
    Text,
    /// Voucher description (empty: none).
    Voucher,
    /// Voucher validity.
    VoucherDays,
    /// Name (empty: automatic).
    Name,
    /// When (empty: now).
    SendAt,
}

/// Every field, in order, with its label.
pub const FIELDS: [(Field, &str); 9] = [
    (Field::Template, "Card template (←/→)"),
    (Field::Segment, "Segment"),
    (Field::Channels, "Channels"),
    (Field::Push, "Wallet PUSH text"),
    (Field::Text, "Message (**bold** _italic_ [link](https://…))"),
    (Field::Voucher, "Voucher for each (empty: none)"),
    (Field::VoucherDays, "Voucher valid days (0 = no expiry)"),
    (Field::Name, "Name (empty: automatic)"),
    (Field::SendAt, "Send at (empty: now; YYYY-MM-DD HH:MM)"),
];

/// The segments offered, as typed.
pub const SEGMENT_HELP: &str = "all · almost-ready · voucher-expiring:7 · not-seen:30 · birthday-month · birthday:7 · joined:14";

/// What the audience count was asked for.
pub type AudienceKey = (u64, String, Vec<String>);

/// The open form.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignForm {
    /// Templates (id, name) to choose from.
    pub templates: Vec<(u64, String)>,
    /// The chosen template (index).
    pub template: usize,
    /// Field values in `FIELDS` order (the template's is unused).
    pub values: Vec<String>,
    /// The focused field.
    pub focus: usize,
    /// The PUSH text limit.
    pub push_limit: usize,
    /// The audience last counted, for which inputs (an error: why not).
    pub audience: Option<(AudienceKey, Result<Audience, String>)>,
    /// The shop's time zone (for "send at").
    pub tz: chrono_tz::Tz,
}

impl CampaignForm {
    /// A new form (all holders, every channel).
    pub fn new(templates: Vec<(u64, String)>, push_limit: usize, tz: chrono_tz::Tz) -> Self {
        Self {
            templates,
            template: 0,
            values: vec![
                String::new(),
                "all".into(),
                "wallet, telegram, email".into(),
                String::new(),
                String::new(),
                String::new(),
                "30".into(),
                String::new(),
                String::new(),
            ],
            focus: 1,
            push_limit,
            audience: None,
            tz,
        }
    }

    /// A field's value.
    pub fn value(&self, field: Field) -> &str {
        let i = FIELDS.iter().position(|(f, _)| *f == field).unwrap_or(0);
        &self.values[i]
    }

    /// The chosen template.
    pub fn template(&self) -> Option<&(u64, String)> {
        self.templates.get(self.template)
    }

    /// The channels typed, lower-cased, without blanks.
    pub fn channels(&self) -> Vec<String> {
        self.value(Field::Channels)
            .split([',', ' '])
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .collect()
    }

    /// The segment typed.
    pub fn segment(&self) -> Result<Segment, String> {
        Segment::parse(self.value(Field::Segment))
    }

    /// Characters of the PUSH text, and whether they fit.
    pub fn push_count(&self) -> (usize, bool) {
        let n = self.value(Field::Push).trim().chars().count();
        (n, n <= self.push_limit)
    }

    /// The inputs of the audience count, when they make sense.
    pub fn audience_key(&self) -> Option<AudienceKey> {
        let (id, _) = self.template()?;
        self.segment().ok()?;
        Some((
            *id,
            self.value(Field::Segment).trim().to_lowercase(),
            self.channels(),
        ))
    }

    /// The effect that counts the audience for the form as it is (none
    /// when it was counted for these inputs already).
    pub fn count(&self) -> Option<Effect> {
        let key = self.audience_key()?;
        if self.audience.as_ref().is_some_and(|(k, _)| *k == key) {
            return None;
        }
        Some(Effect::CampaignAudience {
            template: key.0,
            segment: key.1,
            channels: key.2,
        })
    }

    /// The counted audience, if it is for the form as it is now.
    pub fn current_audience(&self) -> Option<&Result<Audience, String>> {
        let key = self.audience_key()?;
        self.audience
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, a)| a)
    }

    /// Handles a key; returns the audience recount it calls for.
    pub fn key(&mut self, key: Key) -> Vec<Effect> {
        let field = FIELDS[self.focus].0;
        match key {
            Key::Down | Key::Tab | Key::Enter => self.focus = (self.focus + 1) % FIELDS.len(),
            Key::Up | Key::BackTab => self.focus = (self.focus + FIELDS.len() - 1) % FIELDS.len(),
            Key::Left | Key::Right if field == Field::Template && !self.templates.is_empty() => {
                let n = self.templates.len();
                self.template = if key == Key::Right {
                    (self.template + 1) % n
                } else {
                    (self.template + n - 1) % n
                };
            }
            Key::Backspace if field != Field::Template => {
                self.values[self.focus].pop();
            }
            Key::Ctrl('u') if field != Field::Template => self.values[self.focus].clear(),
            Key::Char(c)
                if field != Field::Template && self.values[self.focus].chars().count() < 4096 =>
            {
                self.values[self.focus].push(c)
            }
            _ => {}
        }
        self.count().into_iter().collect()
    }

    /// The campaign the form describes, checked as far as the console can
    /// (the core checks the rest when it is saved).
    pub fn draft(&self) -> Result<CampaignDraft, String> {
        let (template_id, _) = self
            .template()
            .ok_or("there is no card template yet: make one in Templates")?;
        let segment = self.segment()?;
        let (n, fits) = self.push_count();
        if !fits {
            return Err(format!(
                "the PUSH text is {n} characters long; at most {} fit on the lock screen",
                self.push_limit
            ));
        }
        if self.channels().iter().any(|c| c == "wallet")
            && self.value(Field::Push).trim().is_empty()
        {
            return Err(
                "the wallet channel needs a PUSH text (the lock-screen line): write one, or drop wallet from the channels"
                    .into(),
            );
        }
        let text = self.value(Field::Text).trim().to_string();
        if text.is_empty() {
            return Err("write the message (Telegram, email and the web card show it)".into());
        }
        let voucher = match self.value(Field::Voucher).trim() {
            "" => None,
            description => {
                let days = self.value(Field::VoucherDays).trim();
                let valid_days = days
                    .parse()
                    .map_err(|_| format!("voucher valid days: '{days}' is not a whole number"))?;
                Some(CampaignVoucher {
                    description: description.to_string(),
                    valid_days,
                })
            }
        };
        let scheduled_for = match self.value(Field::SendAt).trim() {
            "" => None,
            at => Some(stampcard_core::clock::parse_local(&self.tz, at)?),
        };
        let name = Some(self.value(Field::Name).trim().to_string()).filter(|n| !n.is_empty());
        Ok(CampaignDraft {
            name,
            template_id: *template_id,
            segment,
            push_text: self.value(Field::Push).trim().to_string(),
            text,
            channels: self.channels(),
            scheduled_for,
            voucher,
        })
    }
}
