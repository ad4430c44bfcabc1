//! A webhook receiver on 127.0.0.1 for tests: records every request it
//! answers (headers and body). While "down" it accepts a connection and
//! closes it without an answer, as a crashed or restarting service does.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver answered with 200.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The raw body.
    pub body: String,
}

impl Delivery {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value ("" when missing).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Default)]
struct State {
    up: AtomicBool,
    dropped: AtomicUsize,
    received: Mutex<Vec<Delivery>>,
}

/// The running receiver (it runs until the test process ends).
pub struct Receiver {
    /// Its address.
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Receiver {
    /// Starts a receiver, up or down.
    pub fn start(up: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(State::default());
        state.up.store(up, Ordering::SeqCst);
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Receiver { addr, state }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Brings it up or down.
    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    /// Connections cut while it was down.
    pub fn dropped(&self) -> usize {
        self.state.dropped.load(Ordering::SeqCst)
    }

    /// The requests it answered, in arrival order.
    pub fn received(&self) -> Vec<Delivery> {
        self.state
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

fn serve(stream: TcpStream, state: &State) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if !state.up.load(Ordering::SeqCst) {
            state.dropped.fetch_add(1, Ordering::SeqCst);
            return; // closes the connection without an answer
        }
        if let Ok(mut r) = state.received.lock() {
            r.push(Delivery {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        if out
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}
