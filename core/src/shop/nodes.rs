//! The nodes of a shop whose `serve` processes share one database: each
//! writes a heartbeat every few seconds (its addresses, version, start, the
//! duties it holds) into one record, so `stampcard nodes` and the console's
//! Settings tab on any node list them all. A node that stops cleanly takes
//! itself off; one that died stays, marked silent, for a day.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Access;
use super::shop_lock::ShopLock;
use crate::error::CoreResult;
use crate::store::{Key, Mutation, Record};

/// Seconds between a node's heartbeats.
pub const HEARTBEAT_SECS: u64 = 5;
/// A node silent this long is shown as silent (three heartbeats missed).
const SILENT_SECS: i64 = 15;
/// A node silent this long is dropped from the list.
const FORGOTTEN_HOURS: i64 = 24;

/// One heartbeat write at a time across nodes.
static BEATING: ShopLock = ShopLock::new("nodes");

/// What a node says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The machine and process (`host:pid`).
    pub id: String,
    /// Its HTTP address (or why it has none).
    pub http: String,
    /// Its SSH address (or why it has none).
    pub ssh: String,
    /// The stampcard version it runs.
    pub version: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// Its latest heartbeat.
    pub heartbeat: DateTime<Utc>,
    /// The duties it held then.
    pub duties: Vec<String>,
}

impl NodeInfo {
    /// Whether its heartbeat is recent at `now`.
    pub fn alive(&self, now: DateTime<Utc>) -> bool {
        now - self.heartbeat < Duration::seconds(SILENT_SECS)
    }
}

fn key() -> Key {
    Key::Meta("nodes".into())
}

impl Access {
    /// The nodes that wrote a heartbeat within the last day, by start.
    pub fn nodes(&self) -> CoreResult<Vec<NodeInfo>> {
        let mut nodes: Vec<NodeInfo> = self.meta(&key())?;
        nodes.sort_by_key(|n| n.started);
        Ok(nodes)
    }

    /// Writes this node's heartbeat (`None`: takes it off the list).
    pub async fn heartbeat(&self, id: &str, me: Option<NodeInfo>) -> CoreResult<()> {
        let _one = BEATING.lock(&**self.store()).await?;
        let now = self.clock().now();
        let mut nodes = self.nodes()?;
        nodes.retain(|n| n.id != id && now - n.heartbeat < Duration::hours(FORGOTTEN_HOURS));
        nodes.extend(me);
        let mut m = Mutation::new();
        m.put(
            key(),
            Record::Meta(serde_json::to_value(&nodes).unwrap_or_default()),
        );
        self.store().commit(m).await?;
        Ok(())
    }
}

/// The nodes as lines for people: address, version, up since, heartbeat,
/// duties; times in `tz`.
pub fn node_lines(nodes: &[NodeInfo], now: DateTime<Utc>, tz: chrono_tz::Tz) -> Vec<String> {
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
    nodes
        .iter()
        .map(|n| {
            let beat = match n.alive(now) {
                true => format!(
                    "up, heartbeat {}s ago",
                    (now - n.heartbeat).num_seconds().max(0)
                ),
                false => format!("SILENT since {}", local(n.heartbeat)),
            };
            let duties = match n.duties.is_empty() {
                true => "no duties".to_string(),
                false => format!("duties: {}", n.duties.join(", ")),
            };
            format!(
                "{}  http {}  ssh {}  v{}  started {}  {beat}  {duties}",
                n.id,
                n.http,
                n.ssh,
                n.version,
                local(n.started)
            )
        })
        .collect()
}
