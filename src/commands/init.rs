//! `stampcard init [--demo]`: a new data folder, optionally with a demo shop.

use std::path::Path;

use anyhow::{Result, bail};
use stampcard_core::model::{
    Actor, Branding, CustomerFields, FraudRules, Platform, Prize, Reward, Role,
};
use stampcard_core::shop::{IssueCard, TemplateDraft};

use crate::app::App;
use crate::cli::InitArgs;
use crate::commands::backup::create_private_dir;
use crate::config::{self, Config, Secret, ShopSection};

/// The PINs of the demo staff, printed by `init --demo`.
pub const DEMO_STAFF: &[(&str, Role, &str)] = &[
    ("Owner", Role::Admin, "1234"),
    ("Jules", Role::Staff, "2468"),
];

pub async fn init(data: &Path, args: InitArgs, json: bool) -> Result<()> {
    let cfg_path = data.join(config::FILE_NAME);
    if cfg_path.exists() {
        bail!(
            "{} exists already: this data folder is initialised",
            cfg_path.display()
        );
    }
    let timezone = match args.timezone {
        Some(tz) => tz,
        None => iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into()),
    };
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        bail!("'{timezone}' is not an IANA time zone (e.g. Europe/Berlin); pass --timezone");
    }
    let name = args.name.unwrap_or_else(|| {
        if args.demo {
            "Ember & Oak Coffee".into()
        } else {
            "My Shop".into()
        }
    });
    let config = Config {
        shop: ShopSection {
            name,
            timezone,
            secret: Secret(hex::encode(rand::random::<[u8; 32]>())),
        },
        ..Default::default()
    };
    create_private_dir(data)?;
    config::write_new(&cfg_path, &config)?;
    let app = App::open(data, json).await?;
    let summary = if args.demo {
        seed_demo(&app).await
    } else {
        Ok(String::new())
    };
    let result = summary.and_then(|demo| {
        app.emit(
            &serde_json::json!({"data": data, "demo": args.demo}),
            || {
                format!(
                    "Created {} ({}, time zone {}).\n{demo}",
                    data.display(),
                    app.config.shop.name,
                    app.config.shop.timezone
                )
            },
        )
    });
    app.close().await;
    result
}

/// Fills a shop with demo templates, staff, customers and history.
pub async fn seed_demo(app: &App) -> Result<String> {
    let shop = &app.shop;
    let admin = Actor::channel("system");
    let coffee = shop
        .create_template(
            TemplateDraft {
                name: "Coffee card".into(),
                business_name: app.config.shop.name.clone(),
                stamps_required: 8,
                reward: Reward::Voucher {
                    description: "Any drink on the house".into(),
                    valid_days: 30,
                },
                branding: Branding::default(),
                terms: "One stamp per drink bought. Vouchers are valid for 30 days.".into(),
                rules: FraudRules {
                    cooldown_secs: 0,
                    daily_cap: 10,
                },
            },
            &admin,
        )
        .await?;
    let lottery = shop
        .create_template(
            TemplateDraft {
                name: "Bakery lucky draw".into(),
                business_name: app.config.shop.name.clone(),
                stamps_required: 5,
                reward: Reward::Lottery {
                    prizes: vec![
                        Prize {
                            name: "Cardamom bun".into(),
                            weight: 6,
                            valid_days: 14,
                        },
                        Prize {
                            name: "Flat white".into(),
                            weight: 3,
                            valid_days: 14,
                        },
                        Prize {
                            name: "Bag of house beans".into(),
                            weight: 1,
                            valid_days: 30,
                        },
                    ],
                },
                branding: Branding {
                    background: "#1f3b34".into(),
                    foreground: "#f4f1e8".into(),
                    label: "#c9a227".into(),
                    stamp_icon: "★".into(),
                    logo: None,
                },
                terms: "A stamp for every pastry. Five stamps give one spin.".into(),
                rules: FraudRules::default(),
            },
            &admin,
        )
        .await?;
    for (name, role, pin) in DEMO_STAFF {
        shop.add_staff(name, *role, pin, &admin).await?;
    }
    let people = [
        (
            "Mira Jansen",
            Some("+49 170 555 0101"),
            Some("mira@example.org"),
            3u32,
            coffee.id,
        ),
        (
            "Tomasz Wójcik",
            None,
            Some("tomasz@example.org"),
            7,
            coffee.id,
        ),
        ("Aiko Tanaka", Some("+49 170 555 0133"), None, 9, coffee.id),
        ("Sam Okafor", None, None, 5, lottery.id),
        (
            "Lena Fischer",
            Some("+49 170 555 0177"),
            Some("lena@example.org"),
            1,
            lottery.id,
        ),
    ];
    let staff = Actor::Staff {
        id: 2,
        name: "Jules".into(),
        role: Role::Staff,
    };
    let mut lines = vec!["Demo cards (type or scan a code in the console):".to_string()];
    for (name, phone, email, stamps, template) in people {
        let fields = CustomerFields {
            name: name.into(),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            consent_email: email.map(|_| true),
            ..Default::default()
        };
        let card = shop
            .issue_card(
                template,
                IssueCard::New(fields),
                Some("counter".into()),
                Some(Platform::Counter),
                &staff,
            )
            .await?;
        if stamps > 0 {
            shop.stamp_card(card.id, stamps, None, &staff).await?;
        }
        let view = shop.card_view(card.id)?;
        lines.push(format!(
            "  {}  {:<14} {:<18} {}",
            view.code, name, view.title, view.progress
        ));
    }
    lines.push("Demo staff PINs: Owner (admin) 1234, Jules (staff) 2468.".into());
    Ok(lines.join("\n"))
}
