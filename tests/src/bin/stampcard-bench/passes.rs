//! `--passes N`: signed .pkpass files built per second on one thread, for
//! re-issuing an existing card (strip cached) and cold (strip drawn), with
//! `openssl speed rsa2048` signs/s on one core measured in the same run as
//! the baseline (a pass costs at least one RSA-2048 signature).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use stampcard_core::model::{Actor, CustomerFields};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::IssueCard;
use stampcard_wallet::certs::PassCertificates;
use stampcard_wallet::{Wallet, WalletConfig};

/// RSA-2048 signs per second on one core, from `openssl speed`.
fn openssl_rsa2048_signs() -> Result<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .output()
        .context("run openssl speed")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| {
            l.trim_start().starts_with("rsa 2048 bits")
                || l.trim_start().starts_with("rsa  2048 bits")
        })
        .and_then(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            t.get(t.len().checked_sub(2)?)?.parse().ok()
        })
        .ok_or_else(|| anyhow!("cannot read openssl speed's output:\n{text}"))
}

/// Runs the pass benchmark.
pub async fn passes_bench(dir: &Path, n: u64) -> Result<()> {
    let shop = super::open_shop(&dir.join("shop"), ShopSettings::for_tests()).await?;
    let admin = Actor::Cli {
        user: "bench".into(),
    };
    let template = shop.create_template(super::draft(10), &admin).await?;
    let card = shop
        .issue_card(
            template.id,
            IssueCard::New(CustomerFields {
                name: "Bench Guest".into(),
                ..Default::default()
            }),
            None,
            None,
            &admin,
        )
        .await?;
    let pki = stampcard_e2e::test_pki::generate(&dir.join("pki"));
    let certs = PassCertificates::load(&pki.cert, &pki.key, &pki.wwdr)?;
    let config = WalletConfig {
        pass_type_id: stampcard_e2e::test_pki::PASS_TYPE_ID.into(),
        team_id: stampcard_e2e::test_pki::TEAM_ID.into(),
        organization_name: "Bench".into(),
        assets_dir: dir.to_path_buf(),
        locations: Vec::new(),
    };
    let wallet = Wallet::new(config.clone(), certs.clone())?;
    let first = wallet.build(&shop, card.id).await?;
    let started = Instant::now();
    for _ in 0..n {
        wallet.build(&shop, card.id).await?;
    }
    let reissue = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..n {
        // A new wallet has an empty strip cache: every strip is drawn.
        let cold = Wallet::new(config.clone(), certs.clone())?;
        cold.build(&shop, card.id).await?;
    }
    let cold = n as f64 / started.elapsed().as_secs_f64();
    let rsa = openssl_rsa2048_signs()?;
    println!(
        "passes: {n} signed .pkpass ({} bytes) per run, one thread | re-issue (strip cached): {reissue:.0}/s | cold (strip drawn): {cold:.0}/s | openssl speed rsa2048 (1 core): {rsa:.0} signs/s | ratio re-issue / RSA signs = {:.2}, cold / RSA signs = {:.2}",
        first.bytes.len(),
        reissue / rsa,
        cold / rsa
    );
    std::fs::write(dir.join("bench.pkpass"), &first.bytes)?;
    Ok(())
}
