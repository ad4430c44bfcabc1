//! The template form: create a card template or edit one (an edit writes a
//! new version; issued cards move to it and keep their stamps).

use stampcard_core::model::{Branding, FraudRules, OutsideHours, Reward, Template};
use stampcard_core::shop::TemplateDraft;

use crate::app::Effect;
use crate::keys::Key;

/// Reward kinds the form offers.
const KINDS: [&str; 3] = ["simple", "voucher", "redeem code"];

/// The form's fields, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldId {
    /// Card name.
    Name,
    /// Business name.
    Business,
    /// Stamps for a reward.
    Stamps,
    /// Reward kind.
    Kind,
    /// What the reward gives.
    Reward,
    /// Days a voucher stays valid.
    ValidDays,
    /// Background colour.
    Background,
    /// Text colour.
    Foreground,
    /// Stamp symbol.
    Icon,
    /// Seconds between stamps.
    Cooldown,
    /// Stamps per day.
    DailyCap,
    /// Terms.
    Terms,
    /// Stamps only from the card's live rotating code.
    Rotating,
    /// What a stamp outside opening hours does.
    OutsideHours,
}

/// Every field, in order, with its label.
pub const FIELDS: [(FieldId, &str); 14] = [
    (FieldId::Name, "Card name"),
    (FieldId::Business, "Business name"),
    (FieldId::Stamps, "Stamps required"),
    (FieldId::Kind, "Reward kind (←/→)"),
    (FieldId::Reward, "Reward"),
    (FieldId::ValidDays, "Voucher valid days (0 = no expiry)"),
    (FieldId::Background, "Background colour"),
    (FieldId::Foreground, "Text colour"),
    (FieldId::Icon, "Stamp symbol"),
    (FieldId::Cooldown, "Seconds between stamps (0 = none)"),
    (FieldId::DailyCap, "Stamps per card per day (0 = no cap)"),
    (FieldId::Terms, "Terms"),
    (
        FieldId::Rotating,
        "Stamp only from live rotating codes (yes/no)",
    ),
    (
        FieldId::OutsideHours,
        "Stamps outside opening hours (alert/refuse)",
    ),
];

/// The open form.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateForm {
    /// The template edited (`None`: a new one).
    pub id: Option<u64>,
    /// Its current version (when editing).
    pub version: u32,
    /// Field values, in `FIELDS` order (the kind as its index).
    pub values: Vec<String>,
    /// The focused field.
    pub focus: usize,
    /// The lottery reward of an edited lottery template (kept as it is).
    pub lottery: Option<Reward>,
}

impl TemplateForm {
    /// A form for a new template.
    pub fn new() -> Self {
        let b = Branding::default();
        Self::filled(
            None,
            0,
            "",
            "",
            8,
            1,
            "",
            30,
            &b,
            &FraudRules::default(),
            "",
            None,
        )
    }

    /// A form for editing a template.
    pub fn edit(t: &Template) -> Self {
        let (kind, desc, days, lottery) = match &t.reward {
            Reward::Simple { description } => (0, description.clone(), 0, None),
            Reward::Voucher {
                description,
                valid_days,
            } => (1, description.clone(), *valid_days, None),
            Reward::RedeemCode {
                description,
                valid_days,
                ..
            } => (2, description.clone(), *valid_days, None),
            lottery @ Reward::Lottery { .. } => (0, String::new(), 0, Some(lottery.clone())),
        };
        Self::filled(
            Some(t.id),
            t.version,
            &t.name,
            &t.business_name,
            t.stamps_required,
            kind,
            &desc,
            days,
            &t.branding,
            &t.rules,
            &t.terms,
            lottery,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn filled(
        id: Option<u64>,
        version: u32,
        name: &str,
        business: &str,
        stamps: u32,
        kind: usize,
        reward: &str,
        days: u32,
        b: &Branding,
        rules: &FraudRules,
        terms: &str,
        lottery: Option<Reward>,
    ) -> Self {
        Self {
            id,
            version,
            values: vec![
                name.into(),
                business.into(),
                stamps.to_string(),
                kind.to_string(),
                reward.into(),
                days.to_string(),
                b.background.clone(),
                b.foreground.clone(),
                b.stamp_icon.clone(),
                rules.cooldown_secs.to_string(),
                rules.daily_cap.to_string(),
                terms.into(),
                if rules.rotating_codes { "yes" } else { "no" }.into(),
                match rules.outside_hours {
                    OutsideHours::Alert => "alert",
                    OutsideHours::Refuse => "refuse",
                }
                .into(),
            ],
            focus: 0,
            lottery,
        }
    }

    /// The value of a field.
    pub fn value(&self, field: FieldId) -> &str {
        let i = FIELDS.iter().position(|(f, _)| *f == field).unwrap_or(0);
        &self.values[i]
    }

    /// The reward kind's name.
    pub fn kind(&self) -> &'static str {
        if self.lottery.is_some() {
            return "lottery (prizes: edit with the CLI)";
        }
        KINDS[self.value(FieldId::Kind).parse::<usize>().unwrap_or(0) % KINDS.len()]
    }

    /// Handles a key; `Some(effect)` when the form is submitted.
    pub fn key(&mut self, key: Key) -> Result<Option<Effect>, String> {
        let field = FIELDS[self.focus].0;
        match key {
            Key::Down | Key::Tab => self.focus = (self.focus + 1) % FIELDS.len(),
            Key::Up | Key::BackTab => self.focus = (self.focus + FIELDS.len() - 1) % FIELDS.len(),
            Key::Left | Key::Right if field == FieldId::Kind && self.lottery.is_none() => {
                let k = self.value(FieldId::Kind).parse::<usize>().unwrap_or(0);
                let step = if key == Key::Right {
                    1
                } else {
                    KINDS.len() - 1
                };
                let next = (k + step) % KINDS.len();
                self.values[self.focus] = next.to_string();
            }
            Key::Backspace if field != FieldId::Kind => {
                self.values[self.focus].pop();
            }
            Key::Ctrl('u') if field != FieldId::Kind => self.values[self.focus].clear(),
            Key::Char(c)
                if field != FieldId::Kind && self.values[self.focus].chars().count() < 2000 =>
            {
                self.values[self.focus].push(c)
            }
            Key::Ctrl('s') | Key::Enter => return self.submit().map(Some),
            _ => {}
        }
        Ok(None)
    }

    fn number(&self, field: FieldId, label: &str) -> Result<u32, String> {
        let v = self.value(field).trim();
        v.parse()
            .map_err(|_| format!("{label}: '{v}' is not a whole number"))
    }

    /// The draft the form describes; the core checks the rest.
    fn submit(&self) -> Result<Effect, String> {
        let description = self.value(FieldId::Reward).trim().to_string();
        let valid_days = self.number(FieldId::ValidDays, "valid days")?;
        let reward = match (&self.lottery, self.kind()) {
            (Some(lottery), _) => lottery.clone(),
            (None, "simple") => Reward::Simple { description },
            (None, "voucher") => Reward::Voucher {
                description,
                valid_days,
            },
            _ => Reward::RedeemCode {
                description,
                valid_days,
                format: Default::default(),
                fixed_code: None,
            },
        };
        let draft = TemplateDraft {
            name: self.value(FieldId::Name).trim().to_string(),
            business_name: self.value(FieldId::Business).trim().to_string(),
            stamps_required: self.number(FieldId::Stamps, "stamps required")?,
            reward,
            branding: Branding {
                background: self.value(FieldId::Background).trim().to_string(),
                foreground: self.value(FieldId::Foreground).trim().to_string(),
                stamp_icon: self.value(FieldId::Icon).trim().to_string(),
                ..Branding::default()
            },
            terms: self.value(FieldId::Terms).trim().to_string(),
            rules: FraudRules {
                cooldown_secs: self.number(FieldId::Cooldown, "seconds between stamps")?,
                daily_cap: self.number(FieldId::DailyCap, "stamps per day")?,
                rotating_codes: match self.value(FieldId::Rotating).trim() {
                    "yes" | "y" => true,
                    "no" | "n" | "" => false,
                    v => return Err(format!("rotating codes only: '{v}' is not yes or no")),
                },
                outside_hours: match self.value(FieldId::OutsideHours).trim() {
                    "alert" | "" => OutsideHours::Alert,
                    "refuse" => OutsideHours::Refuse,
                    v => {
                        return Err(format!(
                            "outside opening hours: '{v}' is not alert or refuse"
                        ));
                    }
                },
            },
        };
        Ok(Effect::SaveTemplate {
            id: self.id,
            draft: Box::new(draft),
        })
    }
}

impl Default for TemplateForm {
    fn default() -> Self {
        Self::new()
    }
}
