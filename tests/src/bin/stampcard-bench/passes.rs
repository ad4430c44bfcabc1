//! `--passes N`: signed .pkpass files built per second on one thread, for
//! re-issuing an existing card (strip cached) and cold (strip drawn), with
//! `openssl speed rsa2048` signs/s on one core measured in the same run as
//! the baseline (a pass costs at least one RSA-2048 signature), and side by
//! side with passkit-generator (Node) building the same pass from the same
//! pass.json, images and certificates (installed from the npm registry into
//! a scratch folder under the bench directory, never into the checkout).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use stampcard_core::model::{Actor, CustomerFields};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::IssueCard;
use stampcard_e2e::pkpass;
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
    let template = shop
        .templates()
        .create_template(super::draft(10), &admin)
        .await?;
    let card = shop
        .cards()
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
    match passkit_generator(dir, &first.bytes, &pki, n) {
        Ok((node, bytes)) => println!(
            "passes: passkit-generator {PASSKIT_GENERATOR} (Node {}) building the same pass ({bytes} bytes): {node:.0}/s | stampcard re-issue is {:.1}x faster, cold {:.1}x",
            node_version().unwrap_or_default(),
            reissue / node,
            cold / node
        ),
        Err(e) => println!("passes: passkit-generator side by side skipped: {e:#}"),
    }
    Ok(())
}

/// The passkit-generator release compared against.
const PASSKIT_GENERATOR: &str = "3.6.1";

fn node_version() -> Option<String> {
    let out = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// passkit-generator builds our pass (its pass.json and images, our test
/// certificates) `n` times: passes per second and the size of one.
fn passkit_generator(
    dir: &Path,
    ours: &[u8],
    pki: &stampcard_e2e::test_pki::TestPki,
    n: u64,
) -> Result<(f64, usize)> {
    // Installed once per bench directory, from the npm registry.
    let install = dir.join("passkit-generator");
    if !install.join("node_modules/passkit-generator").exists() {
        std::fs::create_dir_all(&install)?;
        let status = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&install)
            .arg(format!("passkit-generator@{PASSKIT_GENERATOR}"))
            .status()
            .context("run npm (Node.js and npm are needed for the side by side)")?;
        if !status.success() {
            return Err(anyhow!("npm install passkit-generator failed: {status}"));
        }
    }
    // The same inputs: every file of our pass but the manifest and signature
    // (passkit-generator makes its own), and the same certificates.
    let inputs = dir.join("passkit-inputs");
    let pass_dir = inputs.join("pass");
    std::fs::create_dir_all(&pass_dir)?;
    for file in pkpass::files(ours)? {
        let name = &file.name;
        if name == "manifest.json" || name == "signature" || name.contains('/') {
            continue;
        }
        std::fs::write(pass_dir.join(name), file.bytes)?;
    }
    std::fs::copy(&pki.wwdr, inputs.join("wwdr.pem"))?;
    std::fs::copy(&pki.cert, inputs.join("cert.pem"))?;
    std::fs::copy(&pki.key, inputs.join("key.pem"))?;
    let script = install.join("bench.mjs");
    std::fs::write(
        &script,
        include_str!("../../../bench/passkit-generator.mjs"),
    )?;
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg(&install)
        .arg(&inputs)
        .arg(n.to_string())
        .arg(dir.join("passkit-generator.pkpass"))
        .output()
        .context("run node")?;
    if !out.status.success() {
        return Err(anyhow!(
            "passkit-generator failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let result: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("node printed {}", String::from_utf8_lossy(&out.stdout)))?;
    let rate = result["passes_per_s"]
        .as_f64()
        .ok_or_else(|| anyhow!("no passes_per_s in {result}"))?;
    check_same_pass(
        dir,
        ours,
        &std::fs::read(dir.join("passkit-generator.pkpass"))?,
        pki,
    )?;
    Ok((rate, result["bytes"].as_u64().unwrap_or(0) as usize))
}

/// The file `name` of a .pkpass archive.
fn entry(archive: &[u8], name: &str) -> Result<Vec<u8>> {
    pkpass::files(archive)?
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.bytes)
        .ok_or_else(|| anyhow!("no {name} in the pass"))
}

/// That passkit-generator built the same pass, signed so that it verifies
/// with the openssl command line against the test root: the comparison is
/// of equal work.
fn check_same_pass(
    dir: &Path,
    ours: &[u8],
    theirs: &[u8],
    pki: &stampcard_e2e::test_pki::TestPki,
) -> Result<()> {
    let json = |b: &[u8]| -> Result<serde_json::Value> {
        Ok(serde_json::from_slice(&entry(b, "pass.json")?)?)
    };
    // passkit-generator writes the field groups a pass leaves out as empty
    // lists: the same pass.
    let without_empty_groups = |mut v: serde_json::Value| {
        if let Some(card) = v["storeCard"].as_object_mut() {
            card.retain(|_, group| group.as_array().is_none_or(|g| !g.is_empty()));
        }
        v
    };
    let (a, b) = (
        without_empty_groups(json(ours)?),
        without_empty_groups(json(theirs)?),
    );
    if a != b {
        let keys: std::collections::BTreeSet<&String> = a
            .as_object()
            .into_iter()
            .chain(b.as_object())
            .flat_map(|o| o.keys())
            .filter(|k| a[k.as_str()] != b[k.as_str()])
            .collect();
        return Err(anyhow!(
            "passkit-generator's pass.json differs from ours in {keys:?}: {}",
            b
        ));
    }
    let check = dir.join("passkit-check");
    std::fs::create_dir_all(&check)?;
    std::fs::write(check.join("manifest.json"), entry(theirs, "manifest.json")?)?;
    std::fs::write(check.join("signature"), entry(theirs, "signature")?)?;
    let verified = pkpass::openssl_verify(
        &check.join("signature"),
        &check.join("manifest.json"),
        &pki.root,
    )?;
    if !verified.status.success() {
        return Err(anyhow!(
            "passkit-generator's signature does not verify: {}",
            String::from_utf8_lossy(&verified.stderr)
        ));
    }
    Ok(())
}
