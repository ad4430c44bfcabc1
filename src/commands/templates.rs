//! `stampcard template …`

use anyhow::{Context, Result, anyhow};
use stampcard_core::model::{Reward, Template};
use stampcard_core::shop::TemplateDraft;

use crate::app::App;
use crate::cli::{RewardKind, TemplateArgs, TemplateCmd};

pub async fn run(app: &App, cmd: TemplateCmd) -> Result<()> {
    match cmd {
        TemplateCmd::Create(args) => {
            let draft = draft_from(None, args)?;
            let t = app
                .shop
                .templates()
                .create_template(draft, &app.actor())
                .await?;
            app.emit(&t, || {
                format!(
                    "Created template {} \"{}\" (version {})",
                    t.id, t.name, t.version
                )
            })
        }
        TemplateCmd::Edit { id, args } => {
            let current = app.shop.templates().template(id)?;
            let draft = draft_from(Some(TemplateDraft::of(&current)), args)?;
            let t = app
                .shop
                .templates()
                .edit_template(id, draft, &app.actor())
                .await?;
            app.emit(&t, || {
                format!(
                    "Template {} is now version {}. Issued cards follow it from their next stamp and keep their stamps.",
                    t.id, t.version
                )
            })
        }
        TemplateCmd::List => {
            let all = app.shop.templates().templates();
            app.emit(&all, || {
                let mut s = format!(
                    "{:<5} {:<4} {:<24} {:>6}  {}\n",
                    "ID", "VER", "NAME", "STAMPS", "REWARD"
                );
                for t in &all {
                    s += &format!(
                        "{:<5} v{:<3} {:<24} {:>6}  {}\n",
                        t.id,
                        t.version,
                        t.name,
                        t.stamps_required,
                        t.reward.summary()
                    );
                }
                s
            })
        }
        TemplateCmd::Show { id } => {
            let t = app.shop.templates().template(id)?;
            let versions = app.shop.templates().template_versions(id)?;
            let value = serde_json::json!({"template": t, "versions": versions.iter().map(|v| v.version).collect::<Vec<_>>()});
            app.emit(&value, || describe(&t, versions.len()))
        }
    }
}

fn describe(t: &Template, versions: usize) -> String {
    format!(
        "Template {} \"{}\" — version {} ({} versions)\nBusiness:  {}\nStamps:    {}\nReward:    {} ({})\nCooldown:  {}s between stamps\nDaily cap: {}\nCodes:     {}\nClosed:    {} outside opening hours\nColors:    {} on {}\nTerms:     {}",
        t.id,
        t.name,
        t.version,
        versions,
        t.business_name,
        t.stamps_required,
        t.reward.summary(),
        t.reward.kind_name(),
        t.rules.cooldown_secs,
        if t.rules.daily_cap == 0 {
            "none".to_string()
        } else {
            t.rules.daily_cap.to_string()
        },
        if t.rules.rotating_codes {
            "live rotating code only (the printed code finds the card, does not stamp)"
        } else {
            "printed or rotating"
        },
        match t.rules.outside_hours {
            stampcard_core::model::OutsideHours::Alert => "stamps, with an alert,",
            stampcard_core::model::OutsideHours::Refuse => "stamps refused",
        },
        t.branding.foreground,
        t.branding.background,
        if t.terms.is_empty() { "—" } else { &t.terms },
    )
}

/// Reads a template definition file (TOML or JSON).
fn read_draft(path: &std::path::Path) -> Result<TemplateDraft> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text =
        String::from_utf8(text).map_err(|_| anyhow!("{}: not UTF-8 text", path.display()))?;
    if text.len() > 64 * 1024 {
        return Err(anyhow!(
            "{}: a template definition is at most 64 KiB",
            path.display()
        ));
    }
    let is_json =
        path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
    if is_json {
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow!("{}: at `{}`: {}", path.display(), e.path(), e.inner()))
    } else {
        let de = toml::Deserializer::parse(&text)
            .map_err(|e| anyhow!("{}: {}", path.display(), e.to_string().trim()))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            anyhow!(
                "{}: at `{}`: {}",
                path.display(),
                e.path(),
                e.inner().to_string().trim()
            )
        })
    }
}

fn draft_from(base: Option<TemplateDraft>, a: TemplateArgs) -> Result<TemplateDraft> {
    let mut d = match (&a.file, base) {
        (Some(f), _) => read_draft(f)?,
        (None, Some(b)) => b,
        (None, None) => {
            let missing: Vec<&str> = [
                ("--name", a.name.is_none()),
                ("--business", a.business.is_none()),
                ("--stamps", a.stamps.is_none()),
                ("--reward", a.reward.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| *n)
            .collect();
            if !missing.is_empty() {
                return Err(anyhow!(
                    "give --file, or all of --name --business --stamps --reward (missing {})",
                    missing.join(" ")
                ));
            }
            TemplateDraft {
                name: String::new(),
                business_name: String::new(),
                stamps_required: 0,
                reward: Reward::Simple {
                    description: String::new(),
                },
                branding: Default::default(),
                terms: String::new(),
                rules: Default::default(),
            }
        }
    };
    if let Some(v) = a.name {
        d.name = v;
    }
    if let Some(v) = a.business {
        d.business_name = v;
    }
    if let Some(v) = a.stamps {
        d.stamps_required = v;
    }
    if let Some(v) = a.cooldown {
        d.rules.cooldown_secs = v;
    }
    if let Some(v) = a.daily_cap {
        d.rules.daily_cap = v;
    }
    if let Some(v) = a.rotating_codes {
        d.rules.rotating_codes = v;
    }
    if let Some(v) = a.outside_hours {
        d.rules.outside_hours = match v {
            crate::cli::OutsideHoursArg::Alert => stampcard_core::model::OutsideHours::Alert,
            crate::cli::OutsideHoursArg::Refuse => stampcard_core::model::OutsideHours::Refuse,
        };
    }
    if a.reward.is_some() || a.reward_kind.is_some() || a.valid_days.is_some() {
        let description = a.reward.unwrap_or_else(|| d.reward.summary());
        let days = a.valid_days.unwrap_or(30);
        let kind = a.reward_kind.unwrap_or(match d.reward {
            Reward::Voucher { .. } => RewardKind::Voucher,
            Reward::RedeemCode { .. } => RewardKind::RedeemCode,
            _ => RewardKind::Simple,
        });
        d.reward = match kind {
            RewardKind::Simple => Reward::Simple { description },
            RewardKind::Voucher => Reward::Voucher {
                description,
                valid_days: days,
            },
            RewardKind::RedeemCode => Reward::RedeemCode {
                description,
                valid_days: days,
                format: Default::default(),
                fixed_code: None,
            },
        };
    }
    Ok(d)
}
