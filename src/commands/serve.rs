//! `stampcard serve` and the interim `stampcard console`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::Result;
use stampcard_core::model::Actor;
use stampcard_core::shop::Lookup;

use crate::app::App;
use crate::cli::InitArgs;

/// Runs the shop until SIGINT or SIGTERM.
pub async fn serve(app: &App) -> Result<()> {
    let templates = app.shop.templates().len();
    eprintln!(
        "stampcard serve: ready — shop \"{}\", {} template(s), data {}",
        app.config.shop.name,
        templates,
        app.data.display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    eprintln!("stampcard serve: stopping");
    Ok(())
}

/// The counter console. Until the full-screen console lands, this is a
/// line-mode scanner: each scanned or typed card code adds one stamp, a
/// voucher code redeems the voucher.
pub async fn console(data: &Path, demo: bool) -> Result<()> {
    let data: PathBuf = if demo && data == Path::new("./stampcard-data") {
        PathBuf::from("./stampcard-demo")
    } else {
        data.to_path_buf()
    };
    if demo && !data.join(crate::config::FILE_NAME).exists() {
        crate::commands::init::init(
            &data,
            InitArgs {
                demo: true,
                name: None,
                timezone: None,
            },
            false,
        )
        .await?;
    }
    let app = App::open(&data, false).await?;
    let actor = Actor::channel("console");
    println!(
        "Stampcard — {} (line-mode scanner; q to quit)",
        app.config.shop.name
    );
    println!("Scan or type a card code to add a stamp, or a voucher code to redeem it.");
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line?;
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        if input == "q" || input == "quit" {
            break;
        }
        let result = match app.shop.lookup(input) {
            Ok(Lookup::Card(_)) => app.shop.stamp_code(input, 1, None, &actor).await.map(|o| {
                let v = app.shop.card_view(o.card.id);
                let mut s = v
                    .map(|v| {
                        format!(
                            "{} — {} {} {}",
                            v.customer_name, v.title, v.stamps_line, v.progress
                        )
                    })
                    .unwrap_or_default();
                if o.effect.is_some_and(|e| e.goals_reached > 0) {
                    s += "   *** GOAL REACHED ***";
                }
                s
            }),
            Ok(Lookup::Voucher(v, _)) => app
                .shop
                .redeem_code(input, &actor)
                .await
                .map(|_| format!("Redeemed voucher {}: {}", v.id, v.description)),
            Ok(Lookup::Receipt { .. }) => {
                Ok("That is a receipt code: claim it with `stampcard codes claim`.".into())
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(s) => println!("{s}"),
            Err(e) => println!("✗ {e}"),
        }
    }
    app.close().await;
    Ok(())
}
