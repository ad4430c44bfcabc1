//! A console session over SSH for the benchmark: connects with a key,
//! requests a pty and a shell, sends keys and drains the screen updates.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Result, bail};
use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};

struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A live console session; `bytes` counts what the server drew.
pub struct Console {
    _handle: Handle<Trusting>,
    /// Bytes of screen output received so far.
    pub bytes: Arc<AtomicU64>,
    /// Screen output received so far, up to a limit (for checks).
    pub seen: Arc<std::sync::Mutex<String>>,
    input: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
}

impl Console {
    /// Connects as `key`'s staff member with a `cols`×`rows` terminal.
    pub async fn open(
        addr: std::net::SocketAddr,
        key: Arc<PrivateKey>,
        cols: u32,
        rows: u32,
    ) -> Result<Console> {
        let config = Arc::new(client::Config::default());
        let mut handle = client::connect(config, addr, Trusting).await?;
        let auth = handle
            .authenticate_publickey("bench", PrivateKeyWithHashAlg::new(key, None))
            .await?;
        if !auth.success() {
            bail!("the SSH server refused the key");
        }
        let mut channel = handle.channel_open_session().await?;
        channel
            .request_pty(false, "xterm", cols, rows, 0, 0, &[])
            .await?;
        channel.request_shell(false).await?;
        let bytes = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(std::sync::Mutex::new(String::new()));
        let (input, mut keys) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let (b, s) = (bytes.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(k) = keys.recv() => { if channel.data(&k[..]).await.is_err() { break } }
                    msg = channel.wait() => match msg {
                        Some(ChannelMsg::Data { data }) => {
                            b.fetch_add(data.len() as u64, Ordering::Relaxed);
                            let mut seen = s.lock().unwrap_or_else(|e| e.into_inner());
                            if seen.len() < 1 << 20 {
                                seen.push_str(&String::from_utf8_lossy(&data));
                            }
                        }
                        Some(_) => {}
                        None => break,
                    },
                }
            }
        });
        Ok(Console {
            _handle: handle,
            bytes,
            seen,
            input,
        })
    }

    /// Sends key bytes.
    pub fn keys(&self, bytes: &[u8]) {
        let _ = self.input.send(bytes.to_vec());
    }

    /// Whether the screen output so far contains `text`.
    pub fn saw(&self, text: &str) -> bool {
        self.seen.lock().map(|s| s.contains(text)).unwrap_or(false)
    }
}
