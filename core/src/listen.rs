//! Admission of connections to the shop's listeners (the bookkeeping only:
//! the front-ends own the sockets), so hostile traffic degrades the shop
//! but never kills it: each listener holds at most a set number of
//! connections (and one client address a share of them; connections from
//! this machine — the reverse proxy — are exempt), stops accepting while
//! full instead of running out of file descriptors, backs off when accept
//! fails (logging the error once per interval), and never gives up; HTTP
//! connections that send no complete request head within
//! [`HEADER_TIMEOUT`] (idle keep-alive and slowloris alike) are closed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// How long an HTTP client may take to send a request's head, also while a
/// kept-alive connection waits for its next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// File descriptors kept for the store, the admin socket, outgoing
/// connections (SMTP, APNs, webhooks, Telegram) and log files.
pub const RESERVED_FDS: u64 = 192;
/// Longest wait after a failed accept.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How often one kind of accept error is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The connections a listener may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// In all.
    pub total: usize,
    /// From one client address (not counting this machine).
    pub per_address: usize,
}

/// Raises the soft open-files limit to the hard one; returns the soft
/// limit now in force.
pub fn raise_open_files_limit() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on this process with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
    }
    r.rlim_cur
}

/// How the open files are shared: HTTP gets three quarters of what is not
/// reserved, SSH an eighth (at least 16 each).
pub fn shares(open_files: u64) -> (Limits, Limits) {
    let usable = open_files.saturating_sub(RESERVED_FDS).max(64) as usize;
    let http = (usable * 3 / 4).max(16);
    let ssh = (usable / 8).max(16);
    (
        Limits {
            total: http,
            per_address: (http / 8).max(8),
        },
        Limits {
            total: ssh,
            per_address: (ssh / 4).max(4),
        },
    )
}

/// Connections held per client address.
type ByAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Failed accepts: the log interval under way and its count, the last
/// error and when it came.
struct Failures {
    window: Instant,
    in_window: u64,
    last: String,
    at: Instant,
}

/// The admission of connections to one listener.
pub struct Gate {
    /// The listener's name, in log lines and in `/healthz`.
    pub name: &'static str,
    slots: Arc<Semaphore>,
    per_address: usize,
    by_address: ByAddress,
    failures: Mutex<Option<Failures>>,
}

/// A connection's place at the gate, given back when dropped.
pub struct Admitted {
    _slot: OwnedSemaphorePermit,
    address: Option<(IpAddr, ByAddress)>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some((ip, map)) = self.address.take() {
            let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = m.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&ip);
                }
            }
        }
    }
}

impl Gate {
    /// A gate for the listener called `name` (in log lines).
    pub fn new(name: &'static str, limits: Limits) -> Self {
        Self {
            name,
            slots: Arc::new(Semaphore::new(limits.total)),
            per_address: limits.per_address,
            by_address: Arc::default(),
            failures: Mutex::new(None),
        }
    }

    /// Waits for a free slot (not accepting meanwhile); `None` when `stop`
    /// turned true.
    async fn slot(&self, stop: &mut watch::Receiver<bool>) -> Option<OwnedSemaphorePermit> {
        if *stop.borrow() {
            return None;
        }
        tokio::select! {
            p = self.slots.clone().acquire_owned() => p.ok(),
            _ = stop.changed() => None,
        }
    }

    /// Admits a connection from `peer` with its slot, or refuses it when
    /// its address holds its share already.
    fn admit(&self, slot: OwnedSemaphorePermit, peer: Option<SocketAddr>) -> Option<Admitted> {
        let Some(ip) = peer.map(|p| p.ip()).filter(|ip| !ip.is_loopback()) else {
            return Some(Admitted {
                _slot: slot,
                address: None,
            });
        };
        let mut m = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= self.per_address {
            return None;
        }
        *n += 1;
        Some(Admitted {
            _slot: slot,
            address: Some((ip, self.by_address.clone())),
        })
    }

    /// The next admitted connection: waits for a free slot (not accepting
    /// meanwhile), accepts with `accept` (which also tells the peer's
    /// address, `None` for a local socket), backs off after failures and
    /// closes connections over their address's share. `None` once `stop`
    /// turned true.
    pub async fn next<T, F, Fut>(
        &self,
        stop: &mut watch::Receiver<bool>,
        mut accept: F,
    ) -> Option<(T, Admitted)>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::io::Result<(T, Option<SocketAddr>)>>,
    {
        let mut failures = 0u32;
        loop {
            let slot = self.slot(stop).await?;
            let accepted = tokio::select! {
                accepted = accept() => accepted,
                _ = stop.changed() => return None,
            };
            match accepted {
                Ok((connection, peer)) => {
                    failures = 0;
                    // Over its address's share: dropped, so closed at once.
                    if let Some(admitted) = self.admit(slot, peer) {
                        return Some((connection, admitted));
                    }
                }
                Err(e) => {
                    drop(slot);
                    self.failed(&e, &mut failures).await;
                }
            }
        }
    }

    /// Why this listener cannot accept now: the last accept error, when
    /// accepts failed within the last 10 s.
    pub fn trouble(&self) -> Option<String> {
        let f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.as_ref()
            .filter(|f| f.at.elapsed() < LOG_EVERY)
            .map(|f| f.last.clone())
    }

    /// After a failed accept: logs it (once per interval, with how many
    /// there were) and waits a little longer each time in a row.
    async fn failed(&self, error: &std::io::Error, in_a_row: &mut u32) {
        {
            let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            match f.as_mut() {
                Some(f) if now.duration_since(f.window) < LOG_EVERY => {
                    f.in_window += 1;
                    f.last = error.to_string();
                    f.at = now;
                }
                _ => {
                    let before = f.as_ref().map_or(0, |f| f.in_window);
                    tracing::warn!(
                        "{} listener: accept failed: {error}{}; backing off",
                        self.name,
                        if before > 1 {
                            format!(" ({before} failures in the last {} s)", LOG_EVERY.as_secs())
                        } else {
                            String::new()
                        }
                    );
                    *f = Some(Failures {
                        window: now,
                        in_window: 1,
                        last: error.to_string(),
                        at: now,
                    });
                }
            }
        }
        *in_a_row = in_a_row.saturating_add(1);
        let wait = Duration::from_millis(10 << (*in_a_row).min(7)).min(MAX_BACKOFF);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_gets_its_share_and_loopback_is_exempt() {
        let gate = Gate::new(
            "test",
            Limits {
                total: 10,
                per_address: 2,
            },
        );
        let slot = || gate.slots.clone().try_acquire_owned().expect("a slot");
        let far: SocketAddr = "203.0.113.9:4000".parse().expect("addr");
        let a = gate.admit(slot(), Some(far));
        let b = gate.admit(slot(), Some(far));
        assert!(a.is_some() && b.is_some());
        assert!(
            gate.admit(slot(), Some(far)).is_none(),
            "a third from one address"
        );
        let local: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
        let locals: Vec<_> = (0..5).map(|_| gate.admit(slot(), Some(local))).collect();
        assert!(locals.iter().all(Option::is_some));
        drop(a);
        let c = gate.admit(slot(), Some(far));
        assert!(c.is_some(), "a place came free");
        assert_eq!(gate.trouble(), None);
        // Held: b, c and the five from this machine.
        assert_eq!(gate.slots.available_permits(), 10 - 7);
    }

    #[test]
    fn open_files_are_shared_with_room_reserved() {
        let (http, ssh) = shares(1024);
        assert!(http.total + ssh.total + RESERVED_FDS as usize <= 1024);
        assert!(http.total >= 500 && ssh.total >= 16);
    }

    #[tokio::test]
    async fn a_failing_listener_says_why_until_it_recovers() {
        let gate = Gate::new(
            "test",
            Limits {
                total: 1,
                per_address: 1,
            },
        );
        let mut n = 0;
        gate.failed(&std::io::Error::from_raw_os_error(24), &mut n)
            .await;
        let why = gate.trouble().unwrap_or_default();
        assert!(why.contains("Too many open files"), "{why}");
        assert_eq!(n, 1);
    }
}
