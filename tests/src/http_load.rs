//! A closed-loop HTTP/1.1 load generator for benchmarks: `connections`
//! keep-alive connections, each sending its next request as soon as the
//! previous answer is read; latency per request in a histogram.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// Builds request number `i`.
pub type MakeRequest = Arc<dyn Fn(u64) -> Request<Full<Bytes>> + Send + Sync>;

/// What a load run measured.
pub struct Load {
    /// Requests per second over the run.
    pub per_sec: f64,
    /// Latency in µs.
    pub hist: Histogram<u64>,
    /// Answers per status code.
    pub statuses: BTreeMap<u16, u64>,
}

impl Load {
    /// One line: rate, p50, p99, max and the statuses.
    pub fn line(&self, name: &str) -> String {
        format!(
            "{name:<34} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms   statuses {:?}",
            self.per_sec,
            self.hist.value_at_quantile(0.50) as f64 / 1000.0,
            self.hist.value_at_quantile(0.99) as f64 / 1000.0,
            self.hist.max() as f64 / 1000.0,
            self.statuses
        )
    }
}

/// One keep-alive HTTP/1.1 connection (no Nagle delay), driven in the background.
pub async fn connect(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Sends `total` requests over `connections` keep-alive connections.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    total: u64,
    make: MakeRequest,
) -> Result<Load> {
    let per = total / connections as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut statuses = BTreeMap::new();
            for i in 0..per {
                let request = make(c as u64 * per + i);
                let t = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status().as_u16();
                response.into_body().collect().await?;
                let _ = hist.record(t.elapsed().as_micros().max(1) as u64);
                *statuses.entry(status).or_insert(0u64) += 1;
            }
            anyhow::Ok((hist, statuses))
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut statuses = BTreeMap::new();
    for t in tasks {
        let (h, s) = t.await.context("load task")??;
        hist.add(h)?;
        for (k, v) in s {
            *statuses.entry(k).or_insert(0) += v;
        }
    }
    Ok(Load {
        per_sec: (per * connections as u64) as f64 / start.elapsed().as_secs_f64(),
        hist,
        statuses,
    })
}
