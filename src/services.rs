//! The wiring of a running shop, shared by `serve` and by `console` when no
//! server runs: which delivery channels and routes the config turns on, the
//! dispatchers and journal consumers (restarted after an error), the HTTP,
//! SSH and metrics listeners with their connection gates, the admin socket
//! and scheduled backups.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::watch;

use stampcard_core::consumers::{
    AlertWatch, Consumer, Notifier, PassUpdater, Route, WalletRoute, WebhookFeed, run_consumer,
    start_cursor,
};
use stampcard_core::outbox::{Channel, LogChannel, LogRoute, run_dispatcher};
use stampcard_core::supervise::supervise_duty;

use crate::app::App;

/// The doors into a running shop: admin socket, HTTP, messaging, backups.
/// `serve` runs them; so does `console` when no server runs.
pub struct Services {
    stop: watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
    /// The HTTP listener's address, or why there is none.
    pub http: std::result::Result<std::net::SocketAddr, String>,
    /// The SSH console's address, or why there is none.
    pub ssh: std::result::Result<std::net::SocketAddr, String>,
    /// The metrics listener's address, when `[http] metrics_listen` asks for one.
    pub metrics: Option<std::net::SocketAddr>,
}

impl Services {
    /// Starts every service. With `strict`, a busy HTTP port is an error;
    /// otherwise the shop runs without HTTP and says why.
    pub async fn start(app: &App, strict: bool) -> Result<Self> {
        let (stop_tx, stop) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        // As many open files as the system allows, shared so that no
        // listener can starve the store, the admin socket or the outgoing
        // connections of descriptors.
        let open_files = stampcard_core::listen::raise_open_files_limit();
        let (http_limits, ssh_limits) = stampcard_core::listen::shares(open_files);
        use stampcard_core::listen::{Gate, Limits};
        let http_gate = std::sync::Arc::new(Gate::new("HTTP", http_limits));
        let ssh_gate = std::sync::Arc::new(Gate::new("SSH", ssh_limits));
        // Only this machine's owner reaches the admin socket; its gate still
        // keeps a failing accept from spinning and flooding the log.
        let admin_gate = std::sync::Arc::new(Gate::new(
            "admin socket",
            Limits {
                total: 256,
                per_address: 256,
            },
        ));
        let wallet = crate::passes::for_serve(app);
        let google = crate::passes::google_for_serve(app);
        let google_api = google.clone();
        // The bot offers the wallets the web card offers.
        let wallets = stampcard_bot::WalletLinks {
            apple: wallet.is_some(),
            google: google.is_some(),
        };
        let socket = crate::admin::server::bind(&app.data)?;
        tasks.spawn(crate::admin::server::serve(
            app.clone(),
            socket,
            stop.clone(),
            admin_gate.clone(),
        ));
        // One Telegram client (one connection pool) and one send limiter for
        // the outbox channel and the bot's replies; its @name for the web
        // card's "Open in Telegram".
        let bot = telegram(app);
        let bot_name = match &bot {
            Some(b) => stampcard_bot::username(b).await,
            None => None,
        };
        // Webhook mode: every node takes Telegram's posts and queues them;
        // the bot's node handles the queue (woken at once when it was here).
        let receive = match app.config.telegram.webhook() {
            Some(url) => stampcard_bot::updates::Receive::Webhook {
                url,
                secret: crate::telegram_webhook::secret_token(&app.config),
                wake: Arc::new(tokio::sync::Notify::new()),
            },
            None => stampcard_bot::updates::Receive::Polling,
        };
        let hook = match (&receive, &bot) {
            (stampcard_bot::updates::Receive::Webhook { url, secret, wake }, Some(_)) => {
                crate::telegram_webhook::router(
                    app.shop.clone(),
                    url.path(),
                    secret.clone(),
                    wake.clone(),
                )
            }
            _ => axum::Router::new(),
        };
        let metrics = crate::metrics::Metrics::new();
        let metrics_addr = match app.config.http.metrics_listen.as_str() {
            "" => None,
            listen => {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| {
                        format!("cannot listen for metrics on {listen} (key `http.metrics_listen`)")
                    })?;
                let addr = listener.local_addr()?;
                tasks.spawn(crate::http::serve(
                    listener,
                    crate::http::metrics_router(app.shop.clone(), metrics.clone()),
                    stop.clone(),
                    std::sync::Arc::new(stampcard_core::listen::Gate::new(
                        "metrics",
                        stampcard_core::listen::Limits {
                            total: 16,
                            per_address: 16,
                        },
                    )),
                ));
                Some(addr)
            }
        };
        let http = match crate::http::bind(&app.config.http.listen).await {
            Ok(listener) => {
                let addr = listener.local_addr()?;
                tasks.spawn(crate::metrics::follow(
                    app.shop.clone(),
                    metrics.clone(),
                    stop.clone(),
                ));
                tasks.spawn(crate::http::serve(
                    listener,
                    crate::http::router(
                        app.shop.clone(),
                        metrics,
                        routes(app),
                        stampcard_wallet::Pages {
                            wallet: wallet.clone(),
                            google,
                            joins_per_hour: app.config.http.joins_per_hour,
                            telegram_bot: bot_name,
                            assets_dir: app.data.clone(),
                        },
                        vec![http_gate.clone(), ssh_gate.clone(), admin_gate],
                    )
                    .merge(hook),
                    stop.clone(),
                    http_gate,
                ));
                Ok(addr)
            }
            Err(e) if !strict => Err(format!("{e:#}")),
            Err(e) => return Err(e),
        };
        let ssh = match start_ssh(app, &mut tasks, &stop, ssh_gate).await {
            Ok(addr) => Ok(addr),
            Err(e) if !strict => Err(format!("{e:#}")),
            Err(e) => return Err(e),
        };
        // Telegram allows one poller per bot, and its limits (30 messages a
        // second) are the whole bot's: the node that sends the outbox's
        // Telegram messages also polls (or takes the webhook's queue) and
        // answers, through one limiter.
        let poller = bot.clone().map(|replies| {
            let handling = stampcard_bot::updates::Handling {
                shop: app.shop.clone(),
                replies,
                wallets,
                handler: stampcard_bot::handlers::handler(),
            };
            (handling, receive)
        });
        start_messaging(app, bot, poller, wallet, google_api, &mut tasks, &stop).await?;
        // The schedulers run once per shop: each is a duty, held by one node
        // at a time.
        spawn_scheduler(
            &mut tasks,
            app,
            &stop,
            "backup schedule",
            crate::schedule::run,
        );
        spawn_scheduler(
            &mut tasks,
            app,
            &stop,
            "voucher reminders",
            crate::reminders::run,
        );
        spawn_scheduler(
            &mut tasks,
            app,
            &stop,
            "campaign scheduler",
            crate::campaigns::run,
        );
        let mut services = Self {
            stop: stop_tx,
            tasks,
            http,
            ssh,
            metrics: metrics_addr,
        };
        // On a shared database each node says who it is and what it holds.
        if app.shop.store().is_shared() {
            let me = crate::nodes::this_node(&services.http_url(), &services.ssh_addr(), app);
            services
                .tasks
                .spawn(crate::nodes::heartbeat(app.shop.clone(), me, stop.clone()));
        }
        Ok(services)
    }

    /// The HTTP address as a URL, or why HTTP is off.
    pub fn http_url(&self) -> String {
        match &self.http {
            Ok(addr) => format!("http://{addr}"),
            Err(why) => format!("off ({why})"),
        }
    }

    /// The SSH address, or why SSH is off.
    pub fn ssh_addr(&self) -> String {
        match &self.ssh {
            Ok(addr) => addr.to_string(),
            Err(why) => format!("off ({why})"),
        }
    }

    /// Stops every service and waits for them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The Telegram bot client with its send limiter, when `[telegram] token`
/// is set.
fn telegram(app: &App) -> Option<stampcard_bot::Replies> {
    let token = &app.config.telegram.token.0;
    if token.is_empty() {
        return None;
    }
    // The URL was checked, with this same function, when the config was
    // loaded; so the bot is on exactly when a token is set (see `routes`).
    let limits = if app.config.telegram.throttle {
        stampcard_bot::Limits::default()
    } else {
        stampcard_bot::Limits::relaxed()
    };
    let bot = stampcard_bot::client(token, app.config.telegram.api_url.as_deref()).ok()?;
    Some(stampcard_bot::Replies::new(bot, limits))
}

/// The delivery channels the config turns on (Telegram over `bot`, wallet
/// pushes, email), and webhooks.
fn channels(
    app: &App,
    bot: Option<stampcard_bot::Replies>,
    wallet: Option<&stampcard_wallet::Wallet>,
) -> Result<Vec<Arc<dyn Channel>>> {
    let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(
        crate::webhooks::WebhookChannel::new(app.shop.clone(), app.config.rate_limits(50.0))
            .context("cannot start the webhook client")?,
    )];
    if let Some(wallet) = wallet {
        channels.push(Arc::new(stampcard_wallet::push::WalletChannel::new(
            app.shop.clone(),
            crate::passes::sender(app, wallet)?,
            &wallet.config().pass_type_id,
            app.config.rate_limits(100.0),
        )));
    }
    if let Some(bot) = bot {
        let limits =
            stampcard_bot::channel::TelegramChannel::default_limits(app.config.rate_limits(30.0));
        channels.push(Arc::new(stampcard_bot::channel::TelegramChannel::new(
            bot, limits,
        )));
    }
    if app.config.smtp.enabled() {
        let limits = app.config.rate_limits(
            app.config
                .smtp
                .per_second
                .unwrap_or(crate::email::PER_SECOND),
        );
        channels.push(Arc::new(
            crate::email::EmailChannel::new(app.shop.clone(), &app.config.smtp, limits)
                .context("cannot start the email channel")?,
        ));
    }
    if !app.config.outbox.log_file.is_empty() {
        let path = app.data.join(&app.config.outbox.log_file);
        let limits = app.config.rate_limits(app.config.outbox.log_per_second);
        channels.push(Arc::new(LogChannel::new(&path, limits)));
    }
    Ok(channels)
}

/// How those channels reach a customer.
pub fn routes(app: &App) -> Vec<Arc<dyn Route>> {
    let mut routes: Vec<Arc<dyn Route>> = Vec::new();
    if !app.config.telegram.token.0.is_empty() {
        routes.push(Arc::new(stampcard_bot::channel::TelegramRoute));
    }
    if app.config.wallet.enabled() {
        routes.push(Arc::new(WalletRoute));
    }
    if !app.config.google_wallet.issuer_id.trim().is_empty() {
        routes.push(Arc::new(stampcard_core::consumers::GoogleRoute));
    }
    if app.config.smtp.enabled() {
        routes.push(Arc::new(crate::email::EmailRoute {
            card_news: app.config.smtp.card_news,
        }));
    }
    if !app.config.outbox.log_file.is_empty() {
        routes.push(Arc::new(LogRoute));
    }
    routes
}

/// Where fraud alerts are sent (`[alerts] telegram_chat`, `email`); the
/// config check made sure their channels are on.
fn alert_routes(app: &App) -> Vec<stampcard_core::consumers::AlertRoute> {
    let alerts = &app.config.alerts;
    let mut routes = Vec::new();
    if let Some(chat) = alerts.telegram_chat
        && !app.config.telegram.token.0.is_empty()
    {
        routes.push(("telegram".to_string(), chat.to_string()));
    }
    if app.config.smtp.enabled() {
        for address in &alerts.email {
            routes.push(("email".to_string(), address.clone()));
        }
    }
    routes
}

/// Spawns a task of the shop that is a duty: supervised, and on a database
/// several nodes share run by one node at a time.
fn spawn_duty<F, Fut>(
    tasks: &mut tokio::task::JoinSet<()>,
    app: &App,
    stop: &watch::Receiver<bool>,
    name: String,
    task: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = stampcard_core::error::CoreResult<()>> + Send,
{
    let (store, stop) = (app.shop.store().clone(), stop.clone());
    tasks.spawn(async move { supervise_duty(&name, &*store, stop, task).await });
}

/// Spawns one of the shop's schedulers as a duty.
fn spawn_scheduler<Fut>(
    tasks: &mut tokio::task::JoinSet<()>,
    app: &App,
    stop: &watch::Receiver<bool>,
    name: &str,
    run: fn(App, watch::Receiver<bool>) -> Fut,
) where
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let owned = app.clone();
    spawn_duty(tasks, app, stop, name.into(), move |stop| {
        let run = run(owned.clone(), stop);
        async move {
            run.await;
            Ok(())
        }
    });
}

/// Starts the delivery channels with their dispatchers, the notifier that
/// turns card news into messages on them, and the webhook consumer.
async fn start_messaging(
    app: &App,
    bot: Option<stampcard_bot::Replies>,
    poller: Option<(
        stampcard_bot::updates::Handling,
        stampcard_bot::updates::Receive,
    )>,
    wallet: Option<Arc<stampcard_wallet::Wallet>>,
    google: Option<Arc<stampcard_wallet::google_api::GoogleApi>>,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> Result<()> {
    let routes = routes(app);
    let mut channels = channels(app, bot.clone(), wallet.as_deref())?;
    if let Some(api) = &google {
        channels.push(Arc::new(
            stampcard_wallet::google_channel::GoogleChannel::new(
                app.shop.clone(),
                api.clone(),
                app.shop.links().base(),
                app.config.rate_limits(20.0),
            ),
        ));
    }
    for channel in channels {
        let outbox = app.shop.outbox().clone();
        let name = format!("{} dispatcher", channel.name());
        let poller = match channel.name() {
            "telegram" => poller.clone(),
            _ => None,
        };
        spawn_duty(tasks, app, stop, name, move |stop| {
            let dispatch = run_dispatcher(outbox.clone(), channel.clone(), stop.clone());
            let poll = poller
                .clone()
                .map(|(h, receive)| stampcard_bot::run(h, receive, stop));
            async move {
                let Some(poll) = poll else {
                    return dispatch.await;
                };
                tokio::pin!(dispatch);
                tokio::select! {
                    // A dispatcher that failed is started again, poller and all.
                    done = &mut dispatch => done,
                    // Stopped: let the dispatcher finish its stop too.
                    () = poll => dispatch.await,
                }
            }
        });
    }
    let mut consumers: Vec<Arc<dyn Consumer>> =
        vec![Arc::new(WebhookFeed::new(app.shop.webhooks().clone()))];
    if !routes.is_empty() {
        consumers.push(Arc::new(Notifier::new(routes)));
    }
    if wallet.is_some() || google.is_some() {
        consumers.push(Arc::new(PassUpdater));
    }
    consumers.push(Arc::new(AlertWatch::new(alert_routes(app))));
    for consumer in consumers {
        start_cursor(app.shop.context(), consumer.name()).await?;
        let ctx = app.shop.context().clone();
        let name = format!("{} consumer", consumer.name());
        spawn_duty(tasks, app, stop, name, move |stop| {
            run_consumer(ctx.clone(), consumer.clone(), stop)
        });
    }
    Ok(())
}

/// Starts the SSH console on `[ssh] listen` with the folder's host key.
async fn start_ssh(
    app: &App,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: &watch::Receiver<bool>,
    gate: std::sync::Arc<stampcard_core::listen::Gate>,
) -> Result<std::net::SocketAddr> {
    let key = stampcard_tui::ssh::host_key(&app.data.join("ssh_host_key"))?;
    let listener = tokio::net::TcpListener::bind(&app.config.ssh.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for SSH on {} (key `ssh.listen`)",
                app.config.ssh.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let (shop, stop) = (app.shop.clone(), stop.clone());
    let host = crate::console_host::AppHost::shared(app);
    tasks.spawn(async move {
        stampcard_tui::ssh::serve(shop, listener, key, Some(host), stop, gate).await;
    });
    Ok(addr)
}
