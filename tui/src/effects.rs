//! Running effects: the console's calls into the core.

use stampcard_core::Shop;
use stampcard_core::actors::CardOutcome;
use stampcard_core::model::Actor;
use stampcard_core::model::Role;
use stampcard_core::shop::{JournalQuery, Lookup, PinCheck};
use stampcard_core::store::Scan;
use stampcard_core::{CoreError, CoreResult};

use crate::app::{Effect, Outcome};

/// Deliveries shown per webhook in the settings tab.
const WEBHOOK_LOG: usize = 5;

/// Runs one effect, with what only the hosting program can do (backups).
pub async fn perform_hosted(
    shop: &Shop,
    host: Option<&std::sync::Arc<dyn crate::host::Host>>,
    actor: &Actor,
    effect: Effect,
) -> Outcome {
    match (&effect, host) {
        (Effect::LoadSettings, Some(h)) => {
            // Said only while it matters: the tab has little room.
            let channels = match shop.store().write_trouble() {
                None => h.channels_status(),
                Some(e) => format!(
                    "Store: CANNOT WRITE ({e}). Nothing new is saved until there is room \
                     on the disk; writing resumes by itself.\n{}",
                    h.channels_status()
                ),
            };
            // Several nodes on one database: who serves, and which duties.
            let channels = match shop.store().is_shared() {
                false => channels,
                true => {
                    let nodes = shop.access().nodes().unwrap_or_default();
                    let lines = stampcard_core::shop::node_lines(
                        &nodes,
                        shop.clock().now(),
                        shop.settings().timezone,
                    );
                    format!(
                        "{channels}\n\nNodes (stampcard nodes):\n  {}",
                        lines.join("\n  ")
                    )
                }
            };
            Outcome::Settings(h.last_backup(), channels)
        }
        (Effect::ExportTable { table, json }, Some(h)) => {
            match h.export_table(table.clone(), *json).await {
                Ok((path, rows)) => Outcome::Done(format!("Exported {rows} rows to {path}")),
                Err(why) => Outcome::Refused {
                    what: "export".into(),
                    reason: why,
                },
            }
        }
        // The campaign path, with the channels the host has set up.
        (
            Effect::SendMessage { .. }
            | Effect::Coupon { .. }
            | Effect::CampaignAudience { .. }
            | Effect::SaveCampaign(_)
            | Effect::SendCampaign(_),
            _,
        ) => {
            let routes = host.map(|h| h.routes()).unwrap_or_default();
            crate::campaign_effects::perform(shop, &routes, actor, effect).await
        }
        (Effect::Export(files), Some(h)) => {
            let mut saved = Vec::new();
            for (name, bytes) in files {
                match h.save_export(name.clone(), bytes.clone()) {
                    Ok(path) => saved.push(path),
                    Err(why) => {
                        return Outcome::Refused {
                            what: name.clone(),
                            reason: why,
                        };
                    }
                }
            }
            let dir = saved
                .first()
                .and_then(|p| std::path::Path::new(p).parent())
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let names: Vec<String> = saved
                .iter()
                .filter_map(|p| std::path::Path::new(p).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            Outcome::Done(format!("Written {} in {dir}", names.join(", ")))
        }
        (Effect::BackupNow, Some(h)) if actor.is_admin() => match h.backup_now().await {
            Ok(file) => {
                Outcome::Backup(h.last_backup(), Some(format!("Backup written to {file}.")))
            }
            Err(why) => Outcome::Refused {
                what: "backup".into(),
                reason: why,
            },
        },
        _ => {
            let what = describe(&effect);
            match run(shop, actor, effect).await {
                Ok(outcome) => outcome,
                Err(e) => Outcome::Refused {
                    what,
                    reason: e.to_string(),
                },
            }
        }
    }
}

/// Runs one effect as `actor` and returns what it brought back (with no
/// hosting program: no backups, files or channels).
pub async fn perform(shop: &Shop, actor: &Actor, effect: Effect) -> Outcome {
    Box::pin(perform_hosted(shop, None, actor, effect)).await
}

fn describe(effect: &Effect) -> String {
    match effect {
        Effect::SignIn(_) => "sign in".into(),
        Effect::StampCode { code, .. } => format!(
            "…{}",
            code.get(code.len().saturating_sub(6)..).unwrap_or(code)
        ),
        Effect::StampCard { card, .. } => format!("card {card}"),
        Effect::Redeem(_) => "voucher".into(),
        Effect::HandOver(card) | Effect::Spin(card) => format!("card {card}"),
        Effect::Undo(_) => "undo".into(),
        Effect::Search(q) => format!("search \"{q}\""),
        Effect::Show(_) => "code".into(),
        Effect::AdminSignIn(_) => "admin sign-in".into(),
        Effect::NewCard { .. } => "new card".into(),
        Effect::LoadStaff | Effect::SetStaffEnabled { .. } => "staff".into(),
        Effect::LoadAlerts | Effect::LoadAlertCount | Effect::AckAlert(_) => "alerts".into(),
        Effect::LoadCodes | Effect::GenerateCodes { .. } | Effect::CreatePosKey(_) => {
            "codes".into()
        }
        Effect::LoadTemplates => "templates".into(),
        Effect::SaveTemplate { .. } => "template".into(),
        Effect::LoadAnalytics(_) => "analytics".into(),
        Effect::CardHistory(card)
        | Effect::RefreshCard(card)
        | Effect::Coupon { card, .. }
        | Effect::Reissue(card)
        | Effect::DeleteCard(card) => format!("card {card}"),
        Effect::LoadJournal { .. } | Effect::LoadJournalNewer { .. } => "journal".into(),
        Effect::LoadCampaigns | Effect::CampaignAudience { .. } | Effect::SaveCampaign(_) => {
            "campaign".into()
        }
        Effect::OpenCampaign(id)
        | Effect::SendCampaign(id)
        | Effect::RenameCampaign { id, .. }
        | Effect::DeleteCampaign(id) => format!("campaign {id}"),
        Effect::None | Effect::Refuse(_) => String::new(),
        Effect::LoadSettings | Effect::BackupNow => "backup".into(),
        Effect::LoadWebhooks => "webhooks".into(),
        Effect::ExportTable { table, .. } => format!("export of {table}"),
        Effect::SendMessage { card, .. } => format!("card {card}"),
        Effect::Export(_) => "export".into(),
        Effect::Merge { from, .. } => format!("customer {from}"),
        Effect::AddStaff { .. } | Effect::AddSshKey { .. } => "staff".into(),
        Effect::LoadCards { .. } => "cards".into(),
        Effect::CardDetails(card) | Effect::ShowCard(card) => format!("card {card}"),
        Effect::Reverse { event, .. } => format!("reverse {event}"),
        Effect::LeaveKiosk(_) => "leave kiosk".into(),
    }
}

/// A PIN that did not open its prompt, as the console shows it.
fn pin_refused(check: PinCheck) -> Outcome {
    match check {
        PinCheck::Locked { until } => Outcome::PinRefused {
            locked_until: Some(until),
            left: 0,
        },
        PinCheck::Wrong { left } => Outcome::PinRefused {
            locked_until: None,
            left,
        },
        PinCheck::Staff(_) => Outcome::PinRefused {
            locked_until: None,
            left: 0,
        },
    }
}

/// The customer a merge goes into, from what the admin typed: a customer
/// id, a card id, or a name or phone that finds exactly one other customer.
fn merge_target(shop: &Shop, from: u64, typed: &str) -> CoreResult<u64> {
    if let Ok(n) = typed.parse::<u64>() {
        if shop
            .customers()
            .customer(n)
            .is_ok_and(|c| !c.forgotten && c.merged_into.is_none())
        {
            return Ok(n);
        }
        if let Ok(card) = shop.cards().card(n) {
            return Ok(card.customer_id);
        }
    }
    let found: Vec<_> = shop
        .customers()
        .search_customers(typed, 6)?
        .into_iter()
        .filter(|c| c.id != from)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.id),
        [] => Err(CoreError::Invalid(format!(
            "no other customer matches '{typed}'"
        ))),
        many => Err(CoreError::Invalid(format!(
            "several customers match '{typed}': {} — type one's id",
            many.iter()
                .map(|c| format!("{} (#{})", c.name, c.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn changed(
    shop: &Shop,
    o: CardOutcome,
    label: String,
    code: Option<String>,
) -> CoreResult<Outcome> {
    let view = shop.cards().card_view(o.card.id)?;
    Ok(Outcome::Card {
        view: Box::new(view),
        event: o.event_ids.first().copied(),
        label,
        goals: o.effect.map(|e| e.goals_reached).unwrap_or(0),
        code,
    })
}

async fn run(shop: &Shop, actor: &Actor, effect: Effect) -> CoreResult<Outcome> {
    match effect {
        Effect::SignIn(pin) => Ok(
            match shop.access().check_pin(&pin, "lock screen", actor).await? {
                PinCheck::Staff(s) => Outcome::SignedIn(Some(s)),
                refused => pin_refused(refused),
            },
        ),
        Effect::StampCode { code, count } => {
            match shop.cards().stamp_code(&code, count, None, actor).await {
                Ok(o) => changed(shop, o, stamped(count), Some(code)),
                // A refused stamp whose code still names a card (a printed
                // code on a live-codes-only template, a cooldown, a daily
                // cap …) shows that card, not the one shown before.
                Err(e) => match shop.cards().lookup(&code) {
                    Ok(Lookup::Card(view)) => Ok(Outcome::NotStamped {
                        view,
                        reason: e.to_string(),
                    }),
                    _ => Err(e),
                },
            }
        }
        Effect::StampCard { card, count } => {
            let o = shop.cards().stamp_card(card, count, None, actor).await?;
            changed(shop, o, stamped(count), None)
        }
        Effect::Redeem(code) => {
            let o = shop.cards().redeem_code(&code, actor).await?;
            let what = o
                .vouchers
                .first()
                .map(|v| v.description.clone())
                .unwrap_or_else(|| "voucher".into());
            changed(shop, o, format!("Redeemed: {what}."), None)
        }
        Effect::HandOver(card) => {
            let o = shop.cards().hand_over(card, actor).await?;
            changed(shop, o, "Reward handed over.".into(), None)
        }
        Effect::Spin(card) => {
            let o = shop.cards().spin(card, actor).await?;
            let prize = o.prize.clone().unwrap_or_else(|| "a prize".into());
            changed(shop, o, format!("Lottery: {prize}!"), None)
        }
        Effect::Undo(event) => {
            let o = shop
                .cards()
                .reverse(event, "undone at the counter", actor)
                .await?;
            Ok(Outcome::Undone(Box::new(
                shop.cards().card_view(o.card.id)?,
            )))
        }
        Effect::Show(code) => match shop.cards().lookup(&code)? {
            Lookup::Card(view) => Ok(Outcome::Found(view)),
            Lookup::Voucher(v, _) => {
                if v.state != stampcard_core::model::VoucherState::Active {
                    let state = format!("{:?}", v.state).to_lowercase();
                    return Err(CoreError::Invalid(format!("this voucher is {state}")));
                }
                Ok(Outcome::Voucher {
                    code,
                    description: v.description,
                })
            }
            Lookup::Receipt { .. } => Err(CoreError::Invalid(
                "receipt codes are claimed in the bot or on the web page".into(),
            )),
        },
        Effect::LeaveKiosk(pin) => {
            Ok(match shop.access().check_pin(&pin, "kiosk", actor).await? {
                PinCheck::Staff(s) => Outcome::KioskLeft(Some(s)),
                refused => pin_refused(refused),
            })
        }
        Effect::AdminSignIn(pin) => Ok(
            match shop
                .access()
                .check_pin(&pin, "admin screens", actor)
                .await?
            {
                PinCheck::Staff(s) => {
                    Outcome::AdminSignedIn(Some(s).filter(|s| s.role == Role::Admin))
                }
                refused => pin_refused(refused),
            },
        ),
        Effect::None => Err(CoreError::Invalid("nothing to do".into())),
        Effect::Refuse(why) => Err(CoreError::Invalid(why)),
        Effect::LoadSettings => Ok(Outcome::Backup(None, None)),
        Effect::LoadWebhooks => {
            let mut hooks = Vec::new();
            for h in shop
                .webhooks()
                .webhooks()?
                .into_iter()
                .filter(|h| h.deleted_at.is_none())
            {
                let log = shop.webhooks().webhook_deliveries(h.id, WEBHOOK_LOG)?;
                hooks.push((h, log));
            }
            Ok(Outcome::Webhooks(hooks))
        }
        Effect::Export(_) | Effect::ExportTable { .. } => Err(CoreError::Invalid(
            "files are written by a console the server runs".into(),
        )),
        Effect::LoadCampaigns => crate::campaign_effects::list(shop),
        Effect::OpenCampaign(id) => crate::campaign_effects::open(shop, id),
        Effect::RenameCampaign { id, name } => {
            let c = shop.campaigns().rename_campaign(id, &name, actor).await?;
            Ok(Outcome::CampaignSaved(format!(
                "Campaign {id} is now \"{}\".",
                c.name
            )))
        }
        Effect::DeleteCampaign(id) => {
            let c = shop.campaigns().delete_campaign(id, actor).await?;
            Ok(Outcome::CampaignSaved(format!(
                "Campaign {id} \"{}\" deleted; nothing of it was sent.",
                c.name
            )))
        }
        // Sent with the host's routes by perform_hosted.
        Effect::SendMessage { .. }
        | Effect::Coupon { .. }
        | Effect::CampaignAudience { .. }
        | Effect::SaveCampaign(_)
        | Effect::SendCampaign(_) => Err(CoreError::Invalid(
            "messages and coupons are sent by perform_hosted".into(),
        )),
        Effect::BackupNow => Err(CoreError::Forbidden(
            "backups are taken by an admin, in a console the server runs".into(),
        )),
        Effect::AddStaff { name, pin, admin } => {
            let role = if admin { Role::Admin } else { Role::Staff };
            let added = shop.access().add_staff(&name, role, &pin, actor).await?;
            Ok(Outcome::StaffAdded(added.name, shop.access().staff()?))
        }
        Effect::AddSshKey { staff, key } => {
            shop.access()
                .add_staff_ssh_key(&staff.to_string(), &key, actor)
                .await?;
            Ok(Outcome::Staff(shop.access().staff()?))
        }
        Effect::Merge { from, into } => {
            let into = merge_target(shop, from, &into)?;
            shop.customers().merge_customers(into, from, actor).await?;
            Ok(Outcome::CardChanged {
                label: format!("Customer {from} merged into customer {into}; their cards moved."),
            })
        }
        Effect::LoadJournal { before, filter } => Ok(Outcome::Journal(rows(
            shop,
            shop.journal()
                .journal(&journal_query(filter, before, true))?,
        ))),
        Effect::LoadJournalNewer { after, filter } => {
            let q = journal_query(filter, Some(after), false);
            Ok(Outcome::JournalNewer(rows(
                shop,
                shop.journal().journal(&q)?,
            )))
        }
        Effect::LoadCards { after, query } => {
            let page = crate::admin::cards::PAGE;
            let cards = if query.is_empty() {
                shop.cards().cards(Scan {
                    after,
                    reverse: false,
                    limit: page,
                })?
            } else {
                let mut found = Vec::new();
                if let Ok(id) = query.parse::<u64>()
                    && let Ok(card) = shop.cards().card(id)
                {
                    found.push(card);
                }
                for c in shop.customers().search_customers(&query, page)? {
                    found.extend(shop.cards().cards_of_customer(c.id)?);
                }
                found.truncate(page);
                found
            };
            let mut names = Names::default();
            let rows = cards
                .into_iter()
                .filter(|c| !c.deleted)
                .map(|c| {
                    let of = shop
                        .templates()
                        .template(c.template_id)
                        .map(|t| t.stamps_required)
                        .unwrap_or(0);
                    crate::admin::cards::Row {
                        id: c.id,
                        customer: names.of(shop, c.customer_id),
                        customer_id: c.customer_id,
                        progress: format!("{}/{of}", c.stamps),
                        platforms: c
                            .platforms
                            .iter()
                            .map(|p| p.icon())
                            .collect::<Vec<_>>()
                            .join(" "),
                    }
                })
                .collect();
            Ok(Outcome::Cards(rows))
        }
        Effect::CardDetails(card) => Ok(Outcome::Details(Box::new(shop.cards().card_view(card)?))),
        Effect::LoadStaff => Ok(Outcome::Staff(shop.access().staff()?)),
        Effect::LoadAlerts => Ok(Outcome::Alerts(shop.alerts().list()?)),
        Effect::LoadAlertCount => Ok(Outcome::AlertCount(shop.alerts().unacknowledged()?)),
        Effect::AckAlert(id) => {
            shop.alerts().acknowledge(id, actor).await?;
            Ok(Outcome::Alerts(shop.alerts().list()?))
        }
        Effect::LoadCodes => Ok(Outcome::Codes(
            shop.templates().offered_templates(),
            shop.cards().pos_keys()?,
        )),
        Effect::GenerateCodes { template, count } => Ok(Outcome::Batch(
            shop.cards()
                .generate_receipts(template, count, 1, actor)
                .await?,
        )),
        Effect::CreatePosKey(name) => Ok(Outcome::PosKeyCreated(
            shop.cards().create_pos_key(&name, actor).await?,
        )),
        Effect::SetStaffEnabled { id, enabled } => {
            shop.access()
                .set_staff_enabled(&id.to_string(), enabled, actor)
                .await?;
            Ok(Outcome::Staff(shop.access().staff()?))
        }
        Effect::LoadTemplates => Ok(Outcome::Templates(shop.templates().templates())),
        Effect::SaveTemplate { id, draft } => {
            let t = match id {
                Some(id) => shop.templates().edit_template(id, *draft, actor).await?,
                None => shop.templates().create_template(*draft, actor).await?,
            };
            Ok(Outcome::TemplateSaved(Box::new(t)))
        }
        Effect::RefreshCard(card) => {
            Ok(Outcome::Refreshed(Box::new(shop.cards().card_view(card)?)))
        }
        Effect::CardHistory(card) => {
            let mut events = shop.journal().card_history(card)?;
            events.reverse();
            Ok(Outcome::History(card, rows(shop, events)))
        }
        Effect::Reissue(card) => {
            shop.cards().reissue(card, actor).await?;
            Ok(Outcome::CardChanged {
                label: format!("Card {card} reissued: the old code no longer works."),
            })
        }
        Effect::DeleteCard(card) => {
            shop.cards().delete_card(card, actor).await?;
            Ok(Outcome::CardChanged {
                label: format!("Card {card} deleted."),
            })
        }
        Effect::LoadAnalytics(days) => Ok(Outcome::Analytics(Box::new(
            shop.journal().analytics(days)?,
        ))),
        Effect::NewCard { template, name } => {
            let fields = stampcard_core::model::CustomerFields {
                name: if name.is_empty() {
                    "Walk-in".into()
                } else {
                    name
                },
                ..Default::default()
            };
            let card = shop
                .cards()
                .issue_card(
                    template,
                    stampcard_core::shop::IssueCard::New(fields),
                    Some("counter".into()),
                    Some(stampcard_core::model::Platform::Counter),
                    actor,
                )
                .await?;
            Ok(Outcome::Issued(Box::new(shop.cards().card_view(card.id)?)))
        }
        Effect::ShowCard(card) => Ok(Outcome::Found(Box::new(shop.cards().card_view(card)?))),
        Effect::Reverse { event, reason } => {
            shop.cards().reverse(event, &reason, actor).await?;
            Ok(Outcome::Reversed(event))
        }
        Effect::Search(query) => {
            let customers = shop.customers().search_customers(&query, 1)?;
            let card = customers
                .first()
                .and_then(|c| shop.cards().cards_of_customer(c.id).ok())
                .and_then(|cards| cards.into_iter().find(|c| !c.deleted))
                .ok_or_else(|| CoreError::not_found("customer with a card", &query))?;
            Ok(Outcome::Found(Box::new(shop.cards().card_view(card.id)?)))
        }
    }
}

fn stamped(count: u32) -> String {
    if count == 1 {
        "Stamp added.".into()
    } else {
        format!("{count} stamps added.")
    }
}

/// Customer names, looked up once per load.
#[derive(Default)]
struct Names(std::collections::HashMap<u64, String>);

impl Names {
    fn of(&mut self, shop: &Shop, id: u64) -> String {
        self.0
            .entry(id)
            .or_insert_with(|| {
                shop.customers()
                    .customer(id)
                    .map(|c| c.name)
                    .unwrap_or_else(|_| format!("#{id}"))
            })
            .clone()
    }
}

/// Journal rows for events, newest first as given.
fn rows(shop: &Shop, events: Vec<stampcard_core::model::Event>) -> Vec<crate::admin::journal::Row> {
    let mut names = Names::default();
    events
        .into_iter()
        .map(|e| crate::admin::journal::Row {
            id: e.id,
            kind: e.kind.name().to_string(),
            at: e.at,
            code: e.code.clone().unwrap_or_default(),
            stamps: e.progress.map(|p| p.to_string()).unwrap_or_default(),
            reward: e.reward.clone().unwrap_or_default(),
            template: e.template_id.map(|t| t.to_string()).unwrap_or_default(),
            customer: e.customer_id.map(|c| names.of(shop, c)).unwrap_or_default(),
            who: e.actor.label(),
            card: e.card_id,
        })
        .collect()
}

/// The core query for the journal tab's filter; `after` is exclusive in
/// the direction of the scan.
fn journal_query(
    filter: crate::admin::journal::Filter,
    after: Option<u64>,
    newest_first: bool,
) -> JournalQuery {
    JournalQuery {
        card: filter.card,
        kind: filter.kind,
        template: filter.template,
        who: filter.who,
        day: filter.day,
        customer: filter.customer,
        after,
        newest_first,
        limit: crate::admin::journal::PAGE,
    }
}
