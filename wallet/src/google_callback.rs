//! Google Wallet's save and delete callbacks (`POST /google/callback`, the
//! URL every class names in `callbackOptions`), verified as Google signs
//! them: protocol `ECv2SigningOnly`, sender `GooglePayPasses`, recipient the
//! issuer id. Google's root keys (fetched from `callback_keys_url`, kept an
//! hour) sign an intermediate key with its expiry; the intermediate key
//! signs the message; the message names the object, the event (`save` or
//! `del`), its own expiry and a nonce. Every signed text is prefixed by the
//! lengths of its parts (4 bytes, little-endian, before each part).
//!
//! Callbacks are best effort (Google may drop or repeat one), so they only
//! set the card's Google platform; nothing waits for them.

use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use serde::Deserialize;
use serde_json::Value;

/// Google's published keys for callbacks.
pub const KEYS_URL: &str = "https://pay.google.com/gp/m/issuer/keys";
/// The sender of pass callbacks.
pub const SENDER_ID: &str = "GooglePayPasses";
/// The only protocol accepted.
pub const PROTOCOL: &str = "ECv2SigningOnly";
/// How long fetched keys are kept.
const KEYS_LIFETIME: Duration = Duration::from_secs(3600);

/// A verified callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The object saved or deleted.
    pub object_id: String,
    /// `true` for a save, `false` for a delete.
    pub saved: bool,
    /// Google's nonce (a repeat carries the same).
    pub nonce: String,
}

#[derive(Deserialize)]
struct Envelope {
    signature: String,
    #[serde(rename = "intermediateSigningKey")]
    intermediate: Intermediate,
    #[serde(rename = "protocolVersion")]
    protocol: String,
    #[serde(rename = "signedMessage")]
    signed_message: String,
}

#[derive(Deserialize)]
struct Intermediate {
    #[serde(rename = "signedKey")]
    signed_key: String,
    signatures: Vec<String>,
}

/// The parts, each after its length (4 bytes, little-endian).
pub fn length_value(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn public_key(base64_der: &str) -> Result<PKey<Public>, String> {
    let der = openssl::base64::decode_block(base64_der.trim())
        .map_err(|_| "a key is not base64".to_string())?;
    PKey::public_key_from_der(&der).map_err(|_| "a key is not an EC public key".to_string())
}

fn verifies(key: &PKey<Public>, signature_b64: &str, data: &[u8]) -> bool {
    let Ok(signature) = openssl::base64::decode_block(signature_b64.trim()) else {
        return false;
    };
    let Ok(mut v) = openssl::sign::Verifier::new(MessageDigest::sha256(), key) else {
        return false;
    };
    v.update(data).is_ok() && v.verify(&signature).unwrap_or(false)
}

/// Google's root keys for `ECv2SigningOnly` from the keys document.
pub fn root_keys(document: &Value) -> Vec<PKey<Public>> {
    document["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["protocolVersion"] == PROTOCOL)
        .filter_map(|k| k["keyValue"].as_str().and_then(|v| public_key(v).ok()))
        .collect()
}

/// Verifies a callback body for `issuer_id` against the root keys at
/// `now_ms` (milliseconds since the epoch); why not, when it does not.
pub fn verify(
    body: &[u8],
    issuer_id: &str,
    roots: &[PKey<Public>],
    now_ms: i64,
) -> Result<Callback, String> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|_| "not a Google callback".to_string())?;
    if envelope.protocol != PROTOCOL {
        return Err(format!("protocol {} is not {PROTOCOL}", envelope.protocol));
    }
    let key_text = envelope.intermediate.signed_key.as_bytes();
    let signed_key = length_value(&[SENDER_ID.as_bytes(), PROTOCOL.as_bytes(), key_text]);
    let trusted = envelope
        .intermediate
        .signatures
        .iter()
        .any(|s| roots.iter().any(|root| verifies(root, s, &signed_key)));
    if !trusted {
        return Err("the intermediate key is not signed by Google".into());
    }
    let key: Value = serde_json::from_str(&envelope.intermediate.signed_key)
        .map_err(|_| "the intermediate key is not JSON".to_string())?;
    let expires = key["keyExpiration"]
        .as_str()
        .and_then(|e| e.parse::<i64>().ok())
        .ok_or("the intermediate key has no expiry")?;
    if expires <= now_ms {
        return Err("the intermediate key has expired".into());
    }
    let intermediate = public_key(key["keyValue"].as_str().unwrap_or_default())?;
    let signed_message = length_value(&[
        SENDER_ID.as_bytes(),
        issuer_id.as_bytes(),
        PROTOCOL.as_bytes(),
        envelope.signed_message.as_bytes(),
    ]);
    if !verifies(&intermediate, &envelope.signature, &signed_message) {
        return Err("the message signature does not verify for this issuer".into());
    }
    let message: Value = serde_json::from_str(&envelope.signed_message)
        .map_err(|_| "the signed message is not JSON".to_string())?;
    let exp = message["expTimeMillis"]
        .as_i64()
        .or_else(|| {
            message["expTimeMillis"]
                .as_str()
                .and_then(|e| e.parse().ok())
        })
        .ok_or("the message has no expiry")?;
    if exp <= now_ms {
        return Err("the message has expired".into());
    }
    let saved = match message["eventType"].as_str() {
        Some("save") => true,
        Some("del") => false,
        other => return Err(format!("unknown event type {other:?}")),
    };
    Ok(Callback {
        object_id: message["objectId"].as_str().unwrap_or_default().to_string(),
        saved,
        nonce: message["nonce"].as_str().unwrap_or_default().to_string(),
    })
}

/// Google's root keys, fetched when first needed and kept an hour.
pub struct RootKeys {
    url: String,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<(Vec<PKey<Public>>, Instant)>>,
}

impl RootKeys {
    /// Keys from `url` (`None`: Google's).
    pub fn new(url: Option<&str>) -> Self {
        let url = url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(KEYS_URL)
            .to_string();
        Self {
            url,
            http: reqwest::Client::new(),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The keys, fetched again once an hour old.
    pub async fn get(&self) -> Result<Vec<PKey<Public>>, String> {
        let mut cached = self.cached.lock().await;
        if let Some((keys, at)) = cached.as_ref()
            && at.elapsed() < KEYS_LIFETIME
        {
            return Ok(keys.clone());
        }
        let answer = self
            .http
            .get(&self.url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("Google's callback keys cannot be fetched: {e}"))?;
        let text = answer.text().await.unwrap_or_default();
        let document: Value = serde_json::from_str(&text)
            .map_err(|_| "Google's callback keys are not JSON".to_string())?;
        let keys = root_keys(&document);
        if keys.is_empty() {
            return Err("Google's callback keys list no ECv2SigningOnly key".into());
        }
        *cached = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }
}
