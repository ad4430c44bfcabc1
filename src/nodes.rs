//! The nodes of a shared database, seen from here: this node's heartbeat
//! while it serves, and `stampcard nodes`, which lists them all (as does
//! the console's Settings tab).

use anyhow::Result;
use stampcard_core::Shop;
use stampcard_core::shop::{HEARTBEAT_SECS, NodeInfo, node_lines};
use tokio::sync::watch;

use crate::app::App;

/// What this node says about itself when it starts.
pub fn this_node(http: &str, ssh: &str, app: &App) -> NodeInfo {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let now = app.shop.clock().now();
    NodeInfo {
        id: format!("{host}:{}", std::process::id()),
        http: http.to_string(),
        ssh: ssh.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started: now,
        heartbeat: now,
        duties: Vec::new(),
    }
}

/// Writes `me`'s heartbeat every few seconds with the duties it holds (and
/// within a second of taking or losing one); at `stop` takes it off the list.
pub async fn heartbeat(shop: Shop, mut me: NodeInfo, mut stop: watch::Receiver<bool>) {
    let every = std::time::Duration::from_secs(HEARTBEAT_SECS);
    let mut written: Option<(std::time::Instant, Vec<String>)> = None;
    loop {
        let duties = stampcard_core::supervise::held_duties();
        let due = match &written {
            None => true,
            Some((at, last)) => at.elapsed() >= every || *last != duties,
        };
        if due {
            me.heartbeat = shop.clock().now();
            me.duties = duties.clone();
            if let Err(e) = shop.access().heartbeat(&me.id, Some(me.clone())).await {
                tracing::warn!("writing this node's heartbeat: {e}");
            }
            written = Some((std::time::Instant::now(), duties));
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if let Err(e) = shop.access().heartbeat(&me.id, None).await {
        tracing::warn!("taking this node off the list: {e}");
    }
}

/// `stampcard nodes`.
pub fn list(app: &App) -> Result<()> {
    let nodes = app.shop.access().nodes()?;
    let now = app.shop.clock().now();
    let tz = app.shop.settings().timezone;
    app.emit(&nodes, || {
        if !app.shop.store().is_shared() {
            return "This shop runs as one process: nodes are listed when several `serve` processes share a PostgreSQL database ([store] shared = true).".to_string();
        }
        match nodes.is_empty() {
            true => "No node is serving the shop.".to_string(),
            false => node_lines(&nodes, now, tz).join("\n"),
        }
    })
}
