//! The console over SSH (russh). Public keys map to staff accounts (added
//! with `stampcard staff add-key`); unknown keys are refused. Each session
//! runs the same console as a local terminal, bound to the key's staff
//! member, over the channel's bytes (window changes become in-band resize
//! reports).

use std::path::Path;
use std::sync::Arc;

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Config, Handler, Msg, Session};
use russh::{Channel, ChannelId, Pty};
use stampcard_core::Shop;
use stampcard_core::model::Staff;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, WriteHalf};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Errors of the SSH console.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The host key could not be read or written.
    #[error("SSH host key {path}: {reason}")]
    HostKey {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The protocol failed.
    #[error("SSH: {0}")]
    Protocol(#[from] russh::Error),
    /// I/O failed.
    #[error("SSH I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Loads the server's host key, creating it (ed25519, mode 0600) on first start.
pub fn host_key(path: &Path) -> Result<PrivateKey, SshError> {
    let err = |reason: String| SshError::HostKey {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        return PrivateKey::from_openssh(text).map_err(|e| err(e.to_string()));
    }
    let seed: [u8; 32] = rand::random();
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| err(e.to_string()))?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| err(e.to_string()))?;
        f.write_all(text.as_bytes())
            .map_err(|e| err(e.to_string()))?;
        f.sync_all().map_err(|e| err(e.to_string()))?;
    }
    Ok(key)
}

/// The staff member an offered key belongs to (enabled accounts only).
pub fn staff_for_key(shop: &Shop, key: &PublicKey) -> Option<Staff> {
    shop.access().staff().ok()?.into_iter().find(|s| {
        s.enabled
            && s.ssh_keys.iter().any(|line| {
                PublicKey::from_openssh(line).is_ok_and(|k| k.key_data() == key.key_data())
            })
    })
}

/// How long a connection may take to authenticate with its key.
pub const AUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves SSH console sessions until `stop` turns true: connections
/// admitted by a gate within `limits` (no accepting while full, backing
/// off when accept fails — the console never stops for good), each
/// disconnected when it has not authenticated within [`AUTH_TIMEOUT`].
pub async fn serve(
    shop: Shop,
    listener: TcpListener,
    host_key: PrivateKey,
    host: Option<Arc<dyn crate::host::Host>>,
    mut stop: watch::Receiver<bool>,
    gate: Arc<stampcard_core::listen::Gate>,
) {
    let config = Arc::new(Config {
        keys: vec![host_key],
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        auth_rejection_time: std::time::Duration::from_millis(300),
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        inactivity_timeout: Some(std::time::Duration::from_secs(12 * 3600)),
        nodelay: true,
        ..Default::default()
    });
    let accept = || async {
        let (stream, peer) = listener.accept().await?;
        Ok((stream, Some(peer)))
    };
    while let Some((stream, admitted)) = gate.next(&mut stop, accept).await {
        let _ = stream.set_nodelay(true);
        let (authenticated, authed) = tokio::sync::oneshot::channel();
        let handler = Connection {
            shop: shop.clone(),
            host: host.clone(),
            staff: None,
            channel: None,
            size: (80, 24),
            to_console: None,
            authenticated: Some(authenticated),
        };
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move {
            let _admitted = admitted;
            session(config, stream, handler, authed, stop).await;
        });
    }
}

/// One connection from its first byte to its end.
async fn session(
    config: Arc<Config>,
    stream: tokio::net::TcpStream,
    handler: Connection,
    mut authed: tokio::sync::oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(Ok(running)) = tokio::time::timeout(
        AUTH_TIMEOUT,
        russh::server::run_stream(config, stream, handler),
    )
    .await
    else {
        return;
    };
    let handle = running.handle();
    let deadline = tokio::time::sleep(AUTH_TIMEOUT);
    tokio::pin!(running, deadline);
    let mut signed_in = false;
    let bye = |why: &str| {
        let handle = handle.clone();
        let why = why.to_string();
        async move {
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, why, "en".into())
                .await;
        }
    };
    loop {
        tokio::select! {
            _ = &mut running => return,
            r = &mut authed, if !signed_in => {
                if r.is_err() {
                    return;
                }
                signed_in = true;
            }
            _ = &mut deadline, if !signed_in => {
                bye("authentication took too long").await;
                return;
            }
            _ = stop.changed() => {
                bye("the server is stopping").await;
                return;
            }
        }
    }
}

/// One SSH connection.
struct Connection {
    shop: Shop,
    host: Option<Arc<dyn crate::host::Host>>,
    staff: Option<Staff>,
    channel: Option<ChannelId>,
    size: (u16, u16),
    to_console: Option<WriteHalf<DuplexStream>>,
    /// Told once the key is accepted (the connection may then stay).
    authenticated: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Handler for Connection {
    type Error = SshError;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(match staff_for_key(&self.shop, offer.public_key) {
            Some(_) => Auth::Accept,
            None => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.staff = staff_for_key(&self.shop, key.public_key);
        Ok(if self.staff.is_some() {
            if let Some(told) = self.authenticated.take() {
                let _ = told.send(());
            }
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() {
            return Ok(()); // one console per connection
        }
        self.channel = Some(channel.id());
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _: u32,
        _: u32,
        _: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = (clamp(cols), clamp(rows));
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(staff) = self.staff.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let (mut from_console, to_console) = tokio::io::split(ours);
        self.to_console = Some(to_console);
        let (console_in, console_out) = tokio::io::split(theirs);
        let (cols, rows) = self.size;
        let (shop, host) = (self.shop.clone(), self.host.clone());
        tokio::spawn(async move {
            if let Err(e) =
                crate::session::run_as(shop, console_in, console_out, cols, rows, Some(staff), host)
                    .await
            {
                tracing::debug!("SSH console session: {e}");
            }
        });
        let handle = session.handle();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match from_console.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if handle.data(channel, buf[..n].to_vec()).await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(w) = &mut self.to_console {
            w.write_all(data).await?;
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _: u32,
        _: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = (clamp(cols), clamp(rows));
        if let Some(w) = &mut self.to_console {
            w.write_all(&crate::keys::resize_report(self.size.0, self.size.1))
                .await?;
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The console sees the end of its input and finishes.
        self.to_console = None;
        Ok(())
    }
}

fn clamp(n: u32) -> u16 {
    n.clamp(1, 1000) as u16
}
