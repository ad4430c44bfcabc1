//! Apple Wallet in the binary: loading `[wallet]`, the push sender it
//! configures, and the `pass` and `wallet` commands.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use stampcard_wallet::certs::PassCertificates;
use stampcard_wallet::google::GoogleWallet;
use stampcard_wallet::google_api::GoogleApi;
use stampcard_wallet::push::{ApnsSender, PushLog, PushSender};
use stampcard_wallet::{Wallet, WalletConfig};

use crate::app::App;

/// The certificates of `[wallet]`, or `None` when passes are not configured.
pub(crate) fn certificates(app: &App) -> Result<Option<PassCertificates>> {
    let w = &app.config.wallet;
    if !w.enabled() {
        return Ok(None);
    }
    let at = |p: &str| app.data.join(p);
    PassCertificates::load(
        &at(&w.certificate),
        &at(&w.private_key),
        &at(&w.wwdr_certificate),
    )
    .map(Some)
    .map_err(|e| anyhow!(e))
}

fn wallet_config(app: &App) -> WalletConfig {
    let w = &app.config.wallet;
    WalletConfig {
        pass_type_id: w.pass_type_id.clone(),
        team_id: w.team_id.clone(),
        organization_name: if w.organization_name.trim().is_empty() {
            app.config.shop.name.clone()
        } else {
            w.organization_name.clone()
        },
        assets_dir: app.data.clone(),
        locations: w.locations.clone(),
    }
}

/// The shop's wallet, when `[wallet]` is set; an error when it is set but
/// the certificates do not work.
pub fn load(app: &App) -> Result<Option<Arc<Wallet>>> {
    let Some(certs) = certificates(app)? else {
        return Ok(None);
    };
    let wallet = Wallet::new(wallet_config(app), certs)
        .map_err(|e| anyhow!(e))
        .context("Apple Wallet passes ([wallet] in stampcard.toml)")?;
    Ok(Some(Arc::new(wallet)))
}

/// The wallet for `serve`: off, with one clear line, when not configured or
/// broken (the counter keeps working); warnings about expiry and plain-HTTP
/// links are printed too.
pub fn for_serve(app: &App) -> Option<Arc<Wallet>> {
    match load(app) {
        Ok(None) => {
            tracing::info!("Apple Wallet passes are off: set {WALLET_KEYS} to offer them");
            None
        }
        Ok(Some(w)) => {
            for warning in &w.report().warnings {
                eprintln!("stampcard serve: warning: {warning}");
            }
            if app.config.http.public_url.starts_with("http://") {
                eprintln!(
                    "stampcard serve: warning: [http] public_url is plain http: phones only talk to a pass's web service over HTTPS (fine for local testing)"
                );
            }
            Some(w)
        }
        Err(e) => {
            eprintln!("stampcard serve: Apple Wallet passes are OFF: {e:#}");
            None
        }
    }
}

/// Google Wallet's API client, when `[google_wallet]` is set; why not,
/// when its key does not load.
pub fn google_api(app: &App) -> Result<Option<Arc<GoogleApi>>> {
    let g = &app.config.google_wallet;
    if g.issuer_id.trim().is_empty() {
        return Ok(None);
    }
    let path = app.data.join(&g.service_account_key);
    let bytes = std::fs::read(&path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    let wallet = GoogleWallet::new(g.issuer_id.trim(), &bytes).map_err(|e| anyhow!(e))?;
    let api = GoogleApi::new(
        Arc::new(wallet),
        Some(&g.api_url),
        Some(&g.token_url),
        Some(&g.callback_keys_url),
    )
    .map_err(|e| anyhow!(e))?;
    Ok(Some(Arc::new(api)))
}

/// Google Wallet (save links, and objects through Google's API), when
/// `[google_wallet]` is set; off with one clear line when its key does not
/// load.
pub fn google_for_serve(app: &App) -> Option<Arc<GoogleApi>> {
    google_api(app).unwrap_or_else(|e| {
        eprintln!("stampcard serve: Google Wallet links are OFF: {e:#}");
        None
    })
}

/// Google Wallet in one line, for the console's settings tab (no network:
/// `stampcard wallet check` asks Google); `None` when it is not set up (the
/// tab's lines are few, the webhook log below them needs the room).
pub fn google_status_line(app: &App) -> Option<String> {
    let api = match google_api(app) {
        Ok(None) => return None,
        Ok(Some(api)) => api,
        Err(e) => return Some(format!("Google Wallet: OFF — {e:#}")),
    };
    let failing: Vec<_> = app
        .shop
        .outbox()
        .entries(Some(stampcard_core::outbox::DeliveryState::Failed), 1000)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.message.channel == stampcard_core::consumers::GOOGLE_CHANNEL)
        .collect();
    let issuer = api.wallet().issuer_id().to_string();
    Some(match failing.first() {
        None => format!("Google Wallet: on — issuer {issuer}, no failing updates"),
        Some(newest) => format!(
            "Google Wallet: on — issuer {issuer}, {} failing update(s), newest: {} (run `stampcard wallet check`)",
            failing.len(),
            newest.last_error.as_deref().unwrap_or("?")
        ),
    })
}

/// How pushes leave: the push log when `[wallet] push_log` is set, else APNs.
pub fn sender(app: &App, wallet: &Wallet) -> Result<Arc<dyn PushSender>> {
    let log = &app.config.wallet.push_log;
    if !log.trim().is_empty() {
        return Ok(Arc::new(PushLog::new(&app.data.join(log))));
    }
    Ok(Arc::new(
        ApnsSender::new(wallet.certificates()).map_err(|e| anyhow!(e))?,
    ))
}

/// The keys `[wallet]` needs, as the messages name them.
const WALLET_KEYS: &str =
    "[wallet] pass_type_id, team_id, certificate, private_key and wwdr_certificate";

/// Why a wallet command cannot run: passes are not configured.
fn not_configured(app: &App) -> anyhow::Error {
    anyhow!(
        "Apple Wallet passes are not configured: set {WALLET_KEYS} in {}",
        app.data.join(crate::config::FILE_NAME).display()
    )
}

fn need(app: &App) -> Result<Arc<Wallet>> {
    load(app)?.ok_or_else(|| not_configured(app))
}

/// `stampcard pass <card> -o FILE`.
pub async fn write_pass(app: &App, card: u64, output: &Path) -> Result<()> {
    let wallet = need(app)?;
    let built = wallet
        .build(&app.shop, card)
        .await
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("cannot build the pass of card {card}"))?;
    app.write_file(output, &built.bytes)?;
    app.wrote(
        output,
        &serde_json::json!({ "card": card, "file": output, "bytes": built.bytes.len() }),
        || {
            format!(
                "Wrote the pass of card {card} to {} ({} bytes).",
                output.display(),
                built.bytes.len()
            )
        },
    )
}

/// Apple Wallet in one line, for the console's settings tab.
pub fn status_line(app: &App) -> String {
    let w = &app.config.wallet;
    let certs = match certificates(app) {
        Ok(None) => return "Apple Wallet passes: off (set [wallet] to offer them)".into(),
        Ok(Some(c)) => c,
        Err(e) => return format!("Apple Wallet passes: OFF — {e:#}"),
    };
    match certs.check(&w.pass_type_id, &w.team_id) {
        // The expiry is said once: a warning about it only adds the advice.
        Ok(r) if r.ok() => format!(
            "Apple Wallet passes: on — certificate for {} expires {} ({} days left){}",
            w.pass_type_id,
            r.not_after,
            r.days_left,
            if r.warnings.is_empty() {
                String::new()
            } else {
                " — renew it in the Apple developer account".to_string()
            }
        ),
        Ok(r) => format!("Apple Wallet passes: OFF — {}", r.problems.join("; ")),
        Err(e) => format!("Apple Wallet passes: OFF — {e}"),
    }
}

/// `stampcard wallet push-test <card>`: one push to every device that keeps
/// the card's Apple pass, and the card's Google Wallet object written now
/// (inserted when it is not there yet; never notifying), with each
/// wallet's answer.
pub async fn push_test(app: &App, card: u64) -> Result<()> {
    let wallet = load(app)?;
    let google = google_for_serve(app);
    if wallet.is_none() && google.is_none() {
        bail!(
            "no wallet is configured: set {WALLET_KEYS}, or [google_wallet] issuer_id and service_account_key, in {}",
            app.data.join(crate::config::FILE_NAME).display()
        );
    }
    let mut results = Vec::new();
    if let Some(wallet) = &wallet {
        let pass = app.shop.passes().pass(card)?;
        let devices = pass.map(|p| p.devices).unwrap_or_default();
        if devices.is_empty() && google.is_none() {
            bail!("no device keeps the pass of card {card}: add it to a phone's Wallet first");
        }
        let sender = sender(app, wallet)?;
        let topic = &wallet.config().pass_type_id;
        for d in &devices {
            let outcome = match sender.push(topic, &d.push_token).await {
                Ok(id) => format!(
                    "accepted{}",
                    id.map(|i| format!(" (apns-id {i})")).unwrap_or_default()
                ),
                Err(e) => format!("refused: {e:?}"),
            };
            results.push(serde_json::json!({ "device": d.device, "outcome": outcome }));
        }
    }
    if let Some(api) = &google {
        let view = app.shop.cards().card_view(card)?;
        let template = app.shop.templates().template(view.template_id)?;
        let class = api.wallet().class(&template, app.shop.links().base());
        let key = app.shop.cards().rotating_key(card);
        let object = api.wallet().object(&view, key.as_deref());
        let written = match api.put_class(&class).await {
            Ok(()) => api.insert_object(&object).await,
            Err(e) => Err(e),
        };
        let outcome = match written {
            Ok(()) => {
                app.shop.passes().google_class_inserted(template.id).await?;
                app.shop.passes().google_object_inserted(card).await?;
                "accepted (object written, no notification)".to_string()
            }
            Err(e) => format!("refused: {e}"),
        };
        results.push(serde_json::json!({
            "device": format!("Google Wallet object {}", api.wallet().object_id(card)),
            "outcome": outcome,
        }));
    }
    let all_ok = results.iter().all(|r| {
        r["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("accepted"))
    });
    app.emit(&results, || {
        results
            .iter()
            .map(|r| {
                format!(
                    "device {}: {}\n",
                    r["device"].as_str().unwrap_or(""),
                    r["outcome"].as_str().unwrap_or("")
                )
            })
            .collect()
    })?;
    if !all_ok {
        bail!("not every push was accepted");
    }
    Ok(())
}
