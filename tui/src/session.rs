//! One console session over a byte stream: a local terminal in raw mode,
//! an SSH channel, or the admin socket. Input bytes are decoded into keys;
//! frames are drawn by ratatui's crossterm backend into a buffer and written
//! to the output. The session never touches the process's stdin or stdout.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use stampcard_core::Shop;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::app::{App, Effect, Msg};
use crate::keys::{Decoder, Input};

/// Bytes the backend writes, collected for the session's output.
#[derive(Clone, Default)]
struct FrameBuf(Arc<Mutex<Vec<u8>>>);

impl FrameBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Write for FrameBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Journal changes within this window are shown together.
const JOURNAL_COALESCE: Duration = Duration::from_millis(250);

/// Whether a staff account exists and is enabled.
pub fn still_enabled(shop: &Shop, staff_id: u64) -> bool {
    shop.access()
        .staff()
        .map(|all| all.iter().any(|s| s.id == staff_id && s.enabled))
        .unwrap_or(false)
}

/// Runs a console session until the user quits or the input ends; it
/// opens locked.
pub async fn run(
    shop: Shop,
    input: impl AsyncRead + Unpin,
    output: impl AsyncWrite + Unpin,
    cols: u16,
    rows: u16,
    host: Option<Arc<dyn crate::host::Host>>,
) -> std::io::Result<()> {
    run_as(shop, input, output, cols, rows, None, host).await
}

/// Runs a console session; with `staff`, signed in for good as them (an SSH
/// login by key).
pub async fn run_as(
    shop: Shop,
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    cols: u16,
    rows: u16,
    staff: Option<stampcard_core::model::Staff>,
    host: Option<Arc<dyn crate::host::Host>>,
) -> std::io::Result<()> {
    let buf = FrameBuf::default();
    let mut setup = buf.clone();
    execute!(
        setup,
        terminal::EnterAlternateScreen,
        cursor::Hide,
        terminal::Clear(terminal::ClearType::All)
    )?;
    setup.write_all(crate::keys::MOUSE_ON)?;
    let backend = CrosstermBackend::new(buf.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, cols.max(20), rows.max(8))),
        },
    )?;
    let mut app = App::for_shop(&shop);
    if let Some(staff) = staff {
        app.signed_in_as(staff);
    }
    let (tx, mut results) = mpsc::unbounded_channel::<Msg>();
    let mut decoder = Decoder::default();
    let mut staff_changes = shop.access().staff_changes();
    let mut journal = shop.subscribe();
    let mut journal_due: Option<tokio::time::Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut bytes = vec![0u8; 4096];
    let result = loop {
        term.draw(|f| crate::view::draw(&app, f))?;
        let frame = buf.take();
        if let Err(e) = async {
            output.write_all(&frame).await?;
            output.flush().await
        }
        .await
        {
            break Err(e);
        }
        if app.quit {
            break Ok(());
        }
        let mut effects: Vec<Effect> = Vec::new();
        tokio::select! {
            read = input.read(&mut bytes) => {
                let n = match read {
                    Ok(0) => break Ok(()),
                    Ok(n) => n,
                    Err(e) => break Err(e),
                };
                let mut inputs = decoder.feed(&bytes[..n]);
                inputs.extend(decoder.flush());
                for i in inputs {
                    match i {
                        Input::Key(k) => effects.extend(app.update(Msg::Key(k))),
                        Input::Resize(c, r) => {
                            term.resize(Rect::new(0, 0, c.max(20), r.max(8)))?;
                            term.clear()?;
                        }
                        Input::Mouse(m) => {
                            let area = term.get_frame().area();
                            effects.extend(app.update(Msg::Mouse(m, area)));
                        }
                    }
                }
            }
            Some(msg) = results.recv() => effects.extend(app.update(msg)),
            _ = tick.tick() => { app.update(Msg::Tick(shop.clock().now())); }
            // New events: at most a few updates a second, however busy the counter.
            Ok(()) = journal.changed(), if journal_due.is_none() => {
                journal_due = Some(tokio::time::Instant::now() + JOURNAL_COALESCE);
            }
            _ = async { if let Some(t) = journal_due { tokio::time::sleep_until(t).await } }, if journal_due.is_some() => {
                journal_due = None;
                effects.extend(app.update(Msg::JournalChanged));
            }
            Ok(()) = staff_changes.changed() => {
                if let Some(me) = &app.signed_in
                    && !still_enabled(&shop, me.staff.id)
                {
                    app.update(Msg::Revoked);
                }
            }
        }
        for effect in effects {
            let (shop, tx, host) = (shop.clone(), tx.clone(), host.clone());
            let actor = app
                .signed_in
                .as_ref()
                .map(|s| s.actor.clone())
                .unwrap_or_else(|| stampcard_core::model::Actor::channel("console"));
            tokio::spawn(async move {
                let outcome =
                    crate::effects::perform_hosted(&shop, host.as_ref(), &actor, effect).await;
                let _ = tx.send(Msg::Done(outcome));
            });
        }
    };
    let mut restore = buf.clone();
    restore.write_all(crate::keys::MOUSE_OFF)?;
    execute!(restore, cursor::Show, terminal::LeaveAlternateScreen)?;
    let _ = output.write_all(&buf.take()).await;
    let _ = output.flush().await;
    result
}
