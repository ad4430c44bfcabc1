//! A fake Telegram Bot API server on 127.0.0.1 for tests: it speaks the
//! real wire format (`POST /bot<token>/<Method>`, method names in any case,
//! JSON bodies, `{"ok":…}` envelopes, `retry_after`), hands out the updates
//! a test queues, refuses a second concurrent `getUpdates` with 409 (as
//! Telegram does), and records what the bot sent.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json};
use axum::routing::post;
use serde_json::{Value, json};

/// A call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method, lower case (e.g. "sendmessage").
    pub method: String,
    /// Its JSON body (`Null` for multipart).
    pub body: Value,
    /// The raw body (multipart uploads land here).
    pub raw: String,
    /// The raw body's bytes.
    pub bytes: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    updates: Vec<Value>,
    next_update: i64,
    next_message: i64,
    calls: Vec<Call>,
    /// Methods to refuse once with a 429 and this retry_after.
    throttle: Vec<(String, u64)>,
    /// When each chat's not yet answered updates were handed out.
    handed: std::collections::HashMap<i64, std::collections::VecDeque<Instant>>,
    /// Time from handing an update out to the bot's first reply to it.
    latencies: Vec<Duration>,
    /// Keep no call log (benchmarks).
    quiet: bool,
    /// The newest update already handed out.
    updates_handed_upto: i64,
    /// `getUpdates` requests being answered now.
    polling: usize,
    /// `getUpdates` requests refused with 409 because another was open.
    conflicts: usize,
}

/// Counts an open `getUpdates` until it is answered (or its client went).
struct Polling(Arc<Mutex<Inner>>);

impl Drop for Polling {
    fn drop(&mut self) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.polling = g.polling.saturating_sub(1);
    }
}

/// The running fake server (stops with the test process).
pub struct FakeTelegram {
    /// Base URL to give the bot as `api_url`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

const BOT_ID: i64 = 777_000;

fn ok(result: Value) -> axum::response::Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

async fn api(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((bot, method)): Path<(String, String)>,
    body: Bytes,
) -> axum::response::Response {
    if !bot.starts_with("bot") {
        return Json(json!({"ok": false, "error_code": 404, "description": "Not Found"}))
            .into_response();
    }
    let method = method.to_lowercase();
    let bytes = body.to_vec();
    let raw = String::from_utf8_lossy(&body).into_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| multipart_fields(&raw));
    if method == "getupdates" {
        // Telegram allows one poller per bot: a second one at the same time
        // is refused, as the real API does.
        let _polling = {
            let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
            if g.polling > 0 {
                g.conflicts += 1;
                return Json(json!({
                    "ok": false,
                    "error_code": 409,
                    "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                }))
                .into_response();
            }
            g.polling += 1;
            Polling(inner.clone())
        };
        let offset = body["offset"].as_i64().unwrap_or(0);
        // Answer at once when updates are waiting, else after a short poll.
        let deadline = Instant::now() + Duration::from_millis(300);
        loop {
            let ready: Vec<Value> = {
                let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
                g.updates
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                // At most 100 at a time, as the real API.
                let batch: Vec<Value> = g.updates.iter().take(100).cloned().collect();
                let now = Instant::now();
                let last = g.updates_handed_upto;
                for u in &batch {
                    let id = u["update_id"].as_i64().unwrap_or(0);
                    if id > last
                        && let Some(chat) = u["message"]["chat"]["id"].as_i64()
                    {
                        g.handed.entry(chat).or_default().push_back(now);
                    }
                }
                if let Some(id) = batch.last().and_then(|u| u["update_id"].as_i64()) {
                    g.updates_handed_upto = g.updates_handed_upto.max(id);
                }
                batch
            };
            if !ready.is_empty() || Instant::now() > deadline {
                return ok(Value::Array(ready));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = g.throttle.iter().position(|(m, _)| *m == method) {
        let (_, after) = g.throttle.remove(i);
        return Json(json!({
            "ok": false,
            "error_code": 429,
            "description": format!("Too Many Requests: retry after {after}"),
            "parameters": {"retry_after": after}
        }))
        .into_response();
    }
    if matches!(
        method.as_str(),
        "sendmessage" | "sendphoto" | "senddocument"
    ) && let Some(chat) = body["chat_id"].as_i64()
        && let Some(at) = g.handed.get_mut(&chat).and_then(|q| q.pop_front())
    {
        g.latencies.push(at.elapsed());
    }
    if !g.quiet {
        g.calls.push(Call {
            method: method.clone(),
            body: body.clone(),
            raw,
            bytes,
            at: Instant::now(),
        });
    }
    match method.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Stampcard", "username": "stampcard_test_bot",
            "can_join_groups": false, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getwebhookinfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "sendmessage" | "senddocument" | "sendphoto" => {
            // The sent message as Telegram echoes it: the common fields and
            // the content of its kind.
            g.next_message += 1;
            let mut m = json!({
                "message_id": g.next_message,
                "date": 1_780_000_000,
                "chat": {"id": body["chat_id"].as_i64().unwrap_or(0), "type": "private", "first_name": "Customer"},
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Stampcard"},
            });
            match method.as_str() {
                "sendmessage" => m["text"] = body["text"].clone(),
                "senddocument" => m["document"] = json!({"file_id": "f1", "file_unique_id": "u1"}),
                _ => {
                    m["photo"] = json!([{"file_id": "p1", "file_unique_id": "pu1", "width": 512, "height": 512}]);
                    m["caption"] = body["caption"].clone();
                }
            }
            ok(m)
        }
        _ => ok(json!(true)),
    }
}

/// The text fields of a multipart body as a JSON object (files are left
/// out; their bytes stay in `raw`). Numbers stay strings, except chat_id.
fn multipart_fields(raw: &str) -> Value {
    let mut fields = serde_json::Map::new();
    let Some(boundary) = raw.lines().next().map(str::trim) else {
        return Value::Null;
    };
    for part in raw.split(boundary) {
        let Some((headers, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if headers.contains("filename=") {
            continue;
        }
        let Some(name) = headers
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let value = value
            .trim_end_matches("\r\n")
            .trim_end_matches("--")
            .trim_end_matches("\r\n");
        let v = if name == "chat_id" {
            value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::from(value))
        } else {
            Value::from(value)
        };
        fields.insert(name.to_string(), v);
    }
    Value::Object(fields)
}

impl FakeTelegram {
    /// Starts the server on a free port, on its own runtime thread.
    pub fn start() -> FakeTelegram {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let state = inner.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let _ = tx.send(listener.local_addr().expect("addr"));
                let app = Router::new()
                    .route("/{bot}/{method}", post(api))
                    .with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        let addr = rx.recv().expect("fake Telegram started");
        FakeTelegram {
            url: format!("http://{addr}"),
            inner,
        }
    }

    fn push(&self, update: impl FnOnce(i64, i64) -> Value) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.next_update += 1;
        g.next_message += 1;
        let u = update(g.next_update, g.next_message);
        g.updates.push(u);
    }

    /// A user sends the bot a private message with `content` (the fields
    /// that say what it carries: text, sticker …).
    fn private_message(&self, user: i64, name: &str, language: &str, content: Value) {
        self.push(|update_id, message_id| {
            let mut message = json!({
                "message_id": message_id,
                "date": 1_780_000_000,
                "chat": {"id": user, "type": "private", "first_name": name},
                "from": {"id": user, "is_bot": false, "first_name": name, "language_code": language},
            });
            if let (Some(m), Value::Object(fields)) = (message.as_object_mut(), content) {
                m.extend(fields);
            }
            json!({"update_id": update_id, "message": message})
        });
    }

    /// A user sends the bot a text message.
    pub fn message(&self, user: i64, name: &str, language: &str, text: &str) {
        let entities = if text.starts_with('/') {
            let len = text.split_whitespace().next().map(|w| w.len()).unwrap_or(0);
            json!([{"type": "bot_command", "offset": 0, "length": len}])
        } else {
            json!([])
        };
        self.private_message(
            user,
            name,
            language,
            json!({"text": text, "entities": entities}),
        );
    }

    /// A user says `text` in a group chat the bot is a member of.
    pub fn group_message(&self, chat: i64, user: i64, name: &str, text: &str) {
        self.push(|update_id, message_id| {
            json!({"update_id": update_id, "message": {
                "message_id": message_id,
                "date": 1_780_000_000,
                "chat": {"id": chat, "type": "supergroup", "title": "Staff"},
                "from": {"id": user, "is_bot": false, "first_name": name, "language_code": "en"},
                "text": text,
                "entities": if text.starts_with('/') {
                    json!([{"type": "bot_command", "offset": 0,
                            "length": text.split_whitespace().next().map(|w| w.len()).unwrap_or(0)}])
                } else {
                    json!([])
                },
            }})
        });
    }

    /// A user sends the bot a sticker (a message without text).
    pub fn sticker(&self, user: i64, name: &str) {
        let sticker = json!({
            "file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADsticker",
            "type": "regular", "width": 512, "height": 512,
            "is_animated": false, "is_video": false,
        });
        self.private_message(user, name, "en", json!({"sticker": sticker}));
    }

    /// A user presses an inline button carrying `data`.
    pub fn press(&self, user: i64, name: &str, data: &str) {
        self.push(|update_id, message_id| {
            json!({
                "update_id": update_id,
                "callback_query": {
                    "id": format!("cb{update_id}"),
                    "from": {"id": user, "is_bot": false, "first_name": name},
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": 1_780_000_000,
                        "chat": {"id": user, "type": "private", "first_name": name},
                        "text": "card",
                    }
                }
            })
        });
    }

    /// The next call of `method` gets a 429 with this `retry_after`.
    pub fn throttle_next(&self, method: &str, retry_after: u64) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .throttle
            .push((method.to_lowercase(), retry_after));
    }

    /// Keeps no log of calls (for benchmarks: only latencies).
    pub fn quiet(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).quiet = true;
    }

    /// Reply latencies so far (update handed out → first reply to that chat).
    pub fn latencies(&self) -> Vec<Duration> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .latencies
            .clone()
    }

    /// Updates queued but not yet handed out.
    pub fn backlog(&self) -> usize {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.updates
            .iter()
            .filter(|u| u["update_id"].as_i64().unwrap_or(0) > g.updates_handed_upto)
            .count()
    }

    /// Every call so far.
    /// `getUpdates` requests refused with 409 because another poller's
    /// request was open.
    pub fn conflicts(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .conflicts
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .calls
            .clone()
    }

    /// The PNG pictures sent to a chat, in order.
    pub fn pictures_to(&self, chat: i64) -> Vec<Vec<u8>> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "sendphoto" && c.body["chat_id"].as_i64() == Some(chat))
            .filter_map(|c| {
                let start = c.bytes.windows(8).position(|w| w == b"\x89PNG\r\n\x1a\n")?;
                let end = c.bytes.windows(8).position(|w| w == b"IEND\xaeB`\x82")? + 8;
                Some(c.bytes[start..end].to_vec())
            })
            .collect()
    }

    /// The URL buttons under the messages sent to a chat, in order: each
    /// button's text and URL.
    pub fn url_buttons_to(&self, chat: i64) -> Vec<(String, String)> {
        self.calls()
            .into_iter()
            .filter(|c| c.body["chat_id"].as_i64() == Some(chat))
            .filter_map(|c| {
                // A JSON body holds the keyboard as an object, a multipart
                // one as a JSON text.
                let markup = &c.body["reply_markup"];
                match markup.as_str() {
                    Some(text) => serde_json::from_str(text).ok(),
                    None => Some(markup.clone()),
                }
            })
            .flat_map(|m: Value| {
                m["inline_keyboard"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                    .filter_map(|b| Some((b["text"].as_str()?.into(), b["url"].as_str()?.into())))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Texts sent to a chat, in order (messages, and captions of pictures).
    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.body["chat_id"].as_i64() == Some(chat))
            .filter_map(|c| match c.method.as_str() {
                "sendmessage" => c.body["text"].as_str().map(str::to_string),
                "sendphoto" => c.body["caption"].as_str().map(str::to_string),
                _ => None,
            })
            .collect()
    }

    /// Waits (polling, with a timeout) until a text to `chat` contains `part`.
    pub fn wait_for_text(&self, chat: i64, part: &str) -> String {
        crate::wait::until(
            Duration::from_secs(30),
            || self.texts_to(chat).into_iter().find(|t| t.contains(part)),
            || {
                format!(
                    "no message to {chat} containing {part:?}; sent: {:?}",
                    self.texts_to(chat)
                )
            },
        )
    }
}
