//! `--google N`: Google Wallet. Object patches per second through the real
//! API client (token cache, JSON, error mapping) into the fake Google on
//! 127.0.0.1, against a bare reqwest loop sending the same PATCH with a
//! fixed token to the same fake, in the same run; and a wallet campaign to
//! N holders of Google cards, planned and timed like `--campaign`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use stampcard_core::consumers::GoogleRoute;
use stampcard_core::model::Platform;
use stampcard_e2e::fake_google::FakeGoogle;
use stampcard_wallet::google::GoogleWallet;
use stampcard_wallet::google_api::GoogleApi;

const ISSUER: &str = "3388000000022222222";
const ACCOUNT: &str = "bench@test-only.iam.gserviceaccount.com";
/// Objects the patches spread over.
const OBJECTS: u64 = 200;
/// Patches in flight at once.
const IN_FLIGHT: usize = 16;

fn object(i: u64, stamps: u64) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{ISSUER}.stampcard-card-{i}"),
        "classId": format!("{ISSUER}.stampcard-template-1"),
        "state": "ACTIVE",
        "accountName": format!("Guest {i}"),
        "loyaltyPoints": { "label": "Stamps", "balance": { "string": format!("{stamps}/10") } },
    })
}

/// Runs `n` calls of `call`, `IN_FLIGHT` at a time; calls per second.
async fn rate<F, Fut>(n: u64, call: F) -> Result<f64>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (call, next) = (call.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                call(i).await?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Runs the Google Wallet benchmark.
pub async fn google_bench(dir: &Path, n: u64) -> Result<()> {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048)?)?;
    let public = openssl::pkey::PKey::public_key_from_pem(&key.public_key_to_pem()?)?;
    let fake = FakeGoogle::start(ACCOUNT, ISSUER, public);
    let key_file = serde_json::json!({
        "client_email": ACCOUNT,
        "private_key": String::from_utf8(key.private_key_to_pem_pkcs8()?)?,
    });
    let wallet = GoogleWallet::new(ISSUER, key_file.to_string().as_bytes())?;
    let api = Arc::new(GoogleApi::new(
        Arc::new(wallet),
        Some(&fake.api_url()),
        Some(&fake.token_url()),
        Some(&fake.keys_url()),
    )?);
    let class = serde_json::json!({
        "id": format!("{ISSUER}.stampcard-template-1"),
        "issuerName": "Bench", "programName": "Coffee", "reviewStatus": "UNDER_REVIEW",
    });
    api.put_class(&class).await?;
    for i in 0..OBJECTS {
        api.insert_object(&object(i, 0)).await?;
    }
    let patches = n.max(1_000);
    let ours = {
        let api = api.clone();
        rate(patches, move |i| {
            let api = api.clone();
            async move {
                api.patch_object(&object(i % OBJECTS, i)).await?;
                Ok(())
            }
        })
        .await?
    };
    // Baseline: the same PATCH with a fixed token, nothing else.
    let token = api.token().await?;
    let http = reqwest::Client::new();
    let base = fake.api_url();
    let bare = rate(patches, move |i| {
        let (http, token, base) = (http.clone(), token.clone(), base.clone());
        async move {
            let body = object(i % OBJECTS, i);
            let url = format!("{base}/loyaltyObject/{}", body["id"].as_str().unwrap_or(""));
            let r = http
                .patch(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "fake answered {}", r.status());
            Ok(())
        }
    })
    .await?;
    println!(
        "google wallet: {patches} object patches, {IN_FLIGHT} in flight: api client {ours:.0}/s, bare reqwest {bare:.0}/s; ratio client/bare {:.2}; token requests {}",
        ours / bare,
        fake.token_requests()
    );
    super::campaign::plan_bench(
        &dir.join("google-campaign"),
        n,
        "wallet",
        Arc::new(GoogleRoute),
        |card| {
            card.platforms.insert(Platform::GoogleWallet);
        },
    )
    .await
    .context("the Google Wallet campaign")
}
