//! The subcommands.

mod alerts;
mod api_keys;
mod automations;
pub mod backup;
mod backup_files;
mod campaigns;
mod cards;
mod codes;
pub mod console;
mod customers;
mod demo;
mod init;
mod journal;
mod outbox;
pub mod serve;
mod staff;
mod store_copy;
mod store_settings;
mod templates;
mod webhooks;

use anyhow::{Result, bail};

use crate::app::App;
use crate::cli::{Cli, Command, WalletCmd};
use crate::output::Out;

/// Runs one command line and returns the process's exit code. While a server
/// runs on the data folder, the command runs inside it (admin socket).
pub async fn main(cli: Cli) -> u8 {
    let json = cli.json;
    if cli.command.forwardable() {
        match crate::admin::client::forward(&cli.data_dir()).await {
            Ok(Some(exit)) => return exit,
            Ok(None) => {}
            Err(e) => return Out::Terminal.finish(Err(e), json),
        }
    }
    Out::Terminal.finish(run(cli).await, json)
}

/// Runs one command line in this process.
async fn run(cli: Cli) -> Result<()> {
    let data = cli.data_dir();
    let Cli { json, command, .. } = cli;
    match command {
        Command::Init(args) => return init::init(&data, args, json).await,
        Command::Console { demo } => return console::console(&data, demo).await,
        Command::Restore { file, force } => {
            if crate::admin::client::connect(&data).await?.is_some() {
                bail!(
                    "a server is running on {}: stop it before restoring into this folder",
                    data.display()
                );
            }
            return backup::restore(&data, &file, force, json).await;
        }
        Command::Serve => return serve::serve(&data).await,
        Command::Store(crate::cli::StoreCmd::Copy { to }) => {
            if crate::admin::client::connect(&data).await?.is_some() {
                bail!(
                    "a server is running on {}: stop it first (a copy taken while the shop writes would miss what comes after)",
                    data.display()
                );
            }
            return store_copy::copy(&data, &to, json).await;
        }
        Command::Store(crate::cli::StoreCmd::Settings { update }) => {
            return store_settings::settings(&data, update, json).await;
        }
        _ => {}
    }
    let app = App::open(&data, json).await?;
    let result = dispatch(&app, command).await;
    app.close().await;
    result
}

/// Runs a command on an open shop (in this process, or inside the server).
pub async fn dispatch(app: &App, command: Command) -> Result<()> {
    match command {
        Command::Nodes => crate::nodes::list(app),
        Command::Alerts(c) => alerts::run(app, c).await,
        Command::Template(c) => templates::run(app, c).await,
        Command::Card(c) => cards::card(app, c).await,
        Command::Customer(c) => customers::run(app, c).await,
        Command::Stamp {
            code,
            count,
            idempotency_key,
        } => cards::stamp(app, &code, count, idempotency_key.as_deref()).await,
        Command::Redeem { code } => cards::redeem(app, &code).await,
        Command::HandOver { card } => cards::hand_over(app, card).await,
        Command::Spin { card } => cards::spin(app, card).await,
        Command::Adjust {
            card,
            delta,
            reason,
        } => cards::adjust(app, card, delta, &reason).await,
        Command::Reverse { event, reason } => cards::reverse(app, event, &reason).await,
        Command::Codes(c) => codes::codes(app, c).await,
        Command::PosKey(c) => codes::pos_key(app, c).await,
        Command::ApiKey(c) => api_keys::run(app, c).await,
        Command::Webhook(c) => webhooks::run(app, c).await,
        Command::Campaign(c) => campaigns::run(app, c).await,
        Command::Automation(c) => automations::run(app, c).await,
        Command::Staff(c) => staff::run(app, c).await,
        Command::Journal(a) => journal::journal(app, a),
        Command::Export(a) => journal::export(app, a),
        Command::Outbox(c) => outbox::run(app, c),
        Command::Poster {
            template,
            source,
            output,
        } => codes::poster(app, template, source, &output),
        Command::Analytics { days } => journal::analytics(app, days),
        Command::Pass { card, output } => crate::passes::write_pass(app, card, &output).await,
        Command::Wallet(WalletCmd::Check) => crate::wallet_doctor::check(app).await,
        Command::Wallet(WalletCmd::PushTest { card }) => crate::passes::push_test(app, card).await,
        Command::Backup { file } => backup::backup(app, &file).await,
        Command::Init(_)
        | Command::Console { .. }
        | Command::Restore { .. }
        | Command::Serve
        | Command::Store(_) => {
            bail!("a server is already running on {}", app.data.display())
        }
    }
}
