//! `stampcard console`: attaches to a running server through the admin
//! socket, or runs the shop in this process when none runs.
//!
//! On a terminal it is the full-screen console (`stampcard-tui`); with input
//! from a pipe it is a line-mode scanner for scripts: each card code adds one
//! stamp, a voucher code redeems it.

use std::path::Path;

use anyhow::Result;
use stampcard_core::model::Actor;
use stampcard_core::shop::Lookup;
use std::io::IsTerminal;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::admin::{self, Request};
use crate::app::App;
use crate::cli::InitArgs;

/// Runs the console on a data folder (created with demo data on `--demo`).
pub async fn console(data: &Path, demo: bool) -> Result<()> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if let Some(mut stream) = admin::client::connect(data).await? {
        // Raw before the server draws its first screen: keys typed the
        // moment the lock screen shows are not held back by the terminal's
        // line mode (nor is Enter turned into a newline).
        let _raw = if tty {
            Some(stampcard_tui::local::RawMode::enable()?)
        } else {
            None
        };
        admin::client::send(
            &mut stream,
            &Request::Console {
                user: crate::app::os_user(),
                size: tty.then(stampcard_tui::local::size),
            },
        )
        .await?;
        let (mut from_server, mut to_server) = stream.into_split();
        let upload = async {
            let mut keyboard = keyboard(tty);
            tokio::io::copy(&mut keyboard, &mut to_server).await?;
            to_server.shutdown().await
        };
        let mut stdout = tokio::io::stdout();
        let download = tokio::io::copy(&mut from_server, &mut stdout);
        // The session ends when the server closes it (after `q` or end of input).
        tokio::select! {
            r = download => { r?; }
            r = async { upload.await?; std::future::pending::<std::io::Result<()>>().await } => { r?; }
        }
        return Ok(());
    }
    if demo && !data.join(crate::config::FILE_NAME).exists() {
        crate::commands::init::init(
            data,
            InitArgs {
                demo: true,
                ..Default::default()
            },
            false,
        )
        .await?;
    }
    let app = App::open(data, false).await?;
    // No server runs: this console is the server (socket, HTTP, messages).
    let services = crate::services::Services::start(&app, false).await?;
    let result = if tty {
        let _raw = stampcard_tui::local::RawMode::enable()?;
        let (cols, rows) = stampcard_tui::local::size();
        stampcard_tui::run(
            app.shop.clone(),
            keyboard(true),
            tokio::io::stdout(),
            cols,
            rows,
            Some(crate::console_host::AppHost::shared(&app)),
        )
        .await
        .map_err(anyhow::Error::from)
    } else {
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        session(&app, input, tokio::io::stdout()).await
    };
    services.stop().await;
    app.close().await;
    result
}

/// Standard input as the console's byte stream; on a terminal, window
/// size changes are added as in-band resize reports.
fn keyboard(tty: bool) -> tokio::io::DuplexStream {
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let mut winch = if tty {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok()
        } else {
            None
        };
        let mut buf = vec![0u8; 4096];
        loop {
            let resized = async {
                match winch.as_mut() {
                    Some(w) => w.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                n = stdin.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => if writer.write_all(&buf[..n]).await.is_err() { break },
                },
                Some(()) = resized => {
                    let (cols, rows) = stampcard_tui::local::size();
                    let report = stampcard_tui::keys::resize_report(cols, rows);
                    if writer.write_all(&report).await.is_err() { break }
                }
            }
        }
    });
    reader
}

/// One console session over a pair of streams (a terminal or a socket).
pub async fn session(
    app: &App,
    input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> Result<()> {
    let actor = Actor::channel("console");
    let greeting = format!(
        "Stampcard — {} (line-mode scanner; q to quit)\n\
         Scan or type a card code to add a stamp, or a voucher code to redeem it.\n",
        app.config.shop.name
    );
    output.write_all(greeting.as_bytes()).await?;
    output.flush().await?;
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        if input == "q" || input == "quit" {
            break;
        }
        let answer = match scan(app, input, &actor).await {
            Ok(s) => s,
            Err(e) => format!("✗ {e}"),
        };
        output.write_all(format!("{answer}\n").as_bytes()).await?;
        output.flush().await?;
    }
    output.shutdown().await?;
    Ok(())
}

/// Handles one scanned code.
async fn scan(app: &App, input: &str, actor: &Actor) -> stampcard_core::CoreResult<String> {
    match app.shop.cards().lookup(input)? {
        Lookup::Card(_) => {
            let o = app.shop.cards().stamp_code(input, 1, None, actor).await?;
            let mut s = app
                .shop
                .cards()
                .card_view(o.card.id)
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
            Ok(s)
        }
        Lookup::Voucher(v, _) => {
            app.shop.cards().redeem_code(input, actor).await?;
            Ok(format!("Redeemed voucher {}: {}", v.id, v.description))
        }
        Lookup::Receipt { .. } => {
            Ok("That is a receipt code: claim it with `stampcard codes claim`.".into())
        }
    }
}
