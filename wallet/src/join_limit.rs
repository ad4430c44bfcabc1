//! A limit on new cards from the web join and claim pages: at most
//! `per_hour` cards from one client address within an hour (on the shop's
//! clock), so a script cannot fill the shop with cards. A browser that
//! joined before (its cookie) is shown its card and does not count.
//! Nodes that share a database count together, in the database.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};

/// Addresses remembered before the old ones are swept.
const SWEEP_AT: usize = 10_000;

/// New cards per client address.
#[derive(Debug)]
pub struct JoinLimit {
    /// What is counted (the same on every node).
    kind: &'static str,
    per_hour: u32,
    seen: Mutex<HashMap<IpAddr, VecDeque<DateTime<Utc>>>>,
}

impl JoinLimit {
    /// At most `per_hour` of `kind` per address and hour (0: no limit).
    pub fn new(kind: &'static str, per_hour: u32) -> Self {
        Self {
            kind,
            per_hour,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` may do it once more; counts it if so — in this
    /// process, or where nodes share the shop's database, in it.
    pub async fn allow_in(&self, shop: &stampcard_core::Shop, client: IpAddr) -> bool {
        if self.per_hour == 0 || !shop.store().is_shared() {
            return self.allow(client, shop.clock().now());
        }
        match shop
            .access()
            .hourly_allow(self.kind, &client.to_string(), self.per_hour)
            .await
        {
            Ok(allowed) => allowed,
            Err(e) => {
                // What follows needs the database too and says what failed.
                tracing::warn!("counting {} of {client}: {e}", self.kind);
                true
            }
        }
    }

    /// Whether `client` may get a new card at `now`; counts it if so.
    pub fn allow(&self, client: IpAddr, now: DateTime<Utc>) -> bool {
        if self.per_hour == 0 {
            return true;
        }
        let since = now - Duration::hours(1);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= SWEEP_AT {
            seen.retain(|_, times| times.back().is_some_and(|t| *t > since));
        }
        let times = seen.entry(client).or_default();
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if times.len() >= self.per_hour as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// The client's address: the peer, or — when the peer is this machine (a
/// reverse proxy in front, as for HTTPS) — the address the proxy appended
/// to `X-Forwarded-For`.
pub fn client(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if peer.ip().is_loopback()
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return forwarded;
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_per_hour_cards_then_waits_for_the_window() {
        let limit = JoinLimit::new("join", 2);
        let a: IpAddr = "203.0.113.7".parse().expect("ip");
        let b: IpAddr = "198.51.100.1".parse().expect("ip");
        let t0: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("time");
        assert!(limit.allow(a, t0));
        assert!(limit.allow(a, t0 + Duration::minutes(1)));
        assert!(
            !limit.allow(a, t0 + Duration::minutes(2)),
            "third within the hour"
        );
        assert!(
            limit.allow(b, t0 + Duration::minutes(2)),
            "others are not held up"
        );
        assert!(!limit.allow(a, t0 + Duration::minutes(59)));
        assert!(
            limit.allow(a, t0 + Duration::minutes(61)),
            "the first left the window"
        );
        assert!(JoinLimit::new("join", 0).allow(a, t0), "0: no limit");
    }

    #[test]
    fn behind_a_local_proxy_the_forwarded_address_counts() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "10.9.9.9, 203.0.113.7".parse().expect("header"),
        );
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let remote: SocketAddr = "198.51.100.1:5000".parse().expect("addr");
        assert_eq!(
            client(local, &h),
            "203.0.113.7".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            client(remote, &h),
            remote.ip(),
            "only a local proxy is trusted"
        );
        assert_eq!(client(local, &HeaderMap::new()), local.ip());
    }
}
