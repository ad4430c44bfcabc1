//! The subcommands.

mod backup;
mod cards;
mod codes;
mod customers;
mod init;
mod journal;
mod serve;
mod staff;
mod templates;

use anyhow::Result;

use crate::app::App;
use crate::cli::{Cli, Command};

/// Runs one command line.
pub async fn run(cli: Cli) -> Result<()> {
    let Cli {
        data,
        json,
        command,
    } = cli;
    match command {
        Command::Init(args) => return init::init(&data, args, json).await,
        Command::Console { demo } => return serve::console(&data, demo).await,
        Command::Restore { file, force } => {
            return backup::restore(&data, &file, force, json).await;
        }
        _ => {}
    }
    let app = App::open(&data, json).await?;
    let result = dispatch(&app, command).await;
    app.close().await;
    result
}

async fn dispatch(app: &App, command: Command) -> Result<()> {
    match command {
        Command::Serve => serve::serve(app).await,
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
        Command::Staff(c) => staff::run(app, c).await,
        Command::Journal(a) => journal::journal(app, a),
        Command::Export(a) => journal::export(app, a),
        Command::Backup { file } => backup::backup(app, &file).await,
        Command::Init(_) | Command::Console { .. } | Command::Restore { .. } => Ok(()),
    }
}
