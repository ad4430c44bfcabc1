//! A fake of Google Wallet's REST API and OAuth token endpoint on
//! 127.0.0.1, for tests (test-only: nothing here talks to Google).
//!
//! - `POST /token` takes the JWT-bearer grant and checks its assertion as
//!   Google does: RS256 signature against the service account's public
//!   key, issuer the account's email, the `wallet_object.issuer` scope,
//!   audience this endpoint, not expired. It hands out a bearer token.
//! - `/walletobjects/v1/loyaltyClass` and `/loyaltyObject` (insert, get,
//!   patch; `addMessage` on objects) keep classes and objects in memory and
//!   refuse calls without a token it handed out (401).
//! - Messages are recorded with their notify flag; past 3 notifying
//!   messages per object (Google's daily budget) a notifying message is
//!   refused with a quota error.
//! - `fail_next` makes the next API calls answer 429, 500, 400 … with a
//!   body in Google's error format.
//! - `GET /keys` publishes a test root key (EC P-256) as Google publishes
//!   its callback keys; `callback` signs save and delete callbacks with it
//!   (`ECv2SigningOnly`, through an intermediate key), `forged_callback`
//!   with a key nobody published.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use openssl::pkey::{PKey, Private, Public};
use serde_json::{Value, json};

/// The scope the token endpoint expects.
pub const SCOPE: &str = "https://www.googleapis.com/auth/wallet_object.issuer";
/// Notifying messages Google allows per object and day.
pub const NOTIFY_BUDGET: usize = 3;

/// A message added to an object.
#[derive(Debug, Clone)]
pub struct AddedMessage {
    /// The object.
    pub object: String,
    /// The message as posted (`id`, `header`, `body`, `messageType`).
    pub message: Value,
}

#[derive(Default)]
struct Inner {
    classes: HashMap<String, Value>,
    objects: HashMap<String, Value>,
    messages: Vec<AddedMessage>,
    tokens: Vec<String>,
    token_requests: usize,
    refused_assertions: Vec<String>,
    object_patches: HashMap<String, usize>,
    class_writes: HashMap<String, usize>,
    fail_next: VecDeque<u16>,
    calls: usize,
}

struct Fake {
    root: PKey<Private>,
    email: String,
    issuer: String,
    key: PKey<Public>,
    token_url: String,
    inner: Mutex<Inner>,
}

/// The running fake (it runs until the test process ends).
pub struct FakeGoogle {
    /// Its address.
    pub addr: SocketAddr,
    fake: Arc<Fake>,
}

fn error(status: StatusCode, text: &str) -> Response {
    let code = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    };
    let body = json!({ "error": { "code": status.as_u16(), "message": text, "status": code } });
    (status, body.to_string()).into_response()
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut s = text.replace('-', "+").replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    openssl::base64::decode_block(&s).ok()
}

/// Why an assertion is refused, if it is.
fn check_assertion(fake: &Fake, jwt: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not a JWT".into());
    };
    let header: Value = unbase64url(header)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("bad header")?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {} is not RS256", header["alg"]));
    }
    let signature = unbase64url(signature).ok_or("bad signature encoding")?;
    let mut verifier =
        openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &fake.key)
            .map_err(|e| e.to_string())?;
    verifier
        .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .map_err(|e| e.to_string())?;
    if !verifier.verify(&signature).unwrap_or(false) {
        return Err("the signature does not verify".into());
    }
    let claims: Value = unbase64url(claims)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("bad claims")?;
    if claims["iss"] != fake.email.as_str() {
        return Err(format!("issuer {} is not the account", claims["iss"]));
    }
    if claims["scope"] != SCOPE {
        return Err(format!("scope {} is not the issuer scope", claims["scope"]));
    }
    if claims["aud"] != fake.token_url.as_str() {
        return Err(format!("audience {} is not the token URL", claims["aud"]));
    }
    let now = chrono::Utc::now().timestamp();
    if claims["exp"].as_i64().is_none_or(|exp| exp < now) {
        return Err("expired".into());
    }
    Ok(())
}

/// A new EC P-256 key (test-only).
fn ec_key() -> PKey<Private> {
    let group =
        openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).expect("P-256");
    PKey::from_ec_key(openssl::ec::EcKey::generate(&group).expect("EC key")).expect("key")
}

fn spki_base64(key: &PKey<Private>) -> String {
    openssl::base64::encode_block(&key.public_key_to_der().expect("SPKI"))
}

fn ecdsa(key: &PKey<Private>, data: &[u8]) -> String {
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key).expect("signer");
    signer.update(data).expect("update");
    openssl::base64::encode_block(&signer.sign_to_vec().expect("sign"))
}

/// The parts, each after its length (4 bytes, little-endian), as Google
/// signs them.
fn length_value(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// A callback body signed through an intermediate key by `root`.
fn signed_callback(root: &PKey<Private>, recipient: &str, message: &Value) -> String {
    let intermediate = ec_key();
    let expires = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let signed_key =
        json!({ "keyValue": spki_base64(&intermediate), "keyExpiration": expires.to_string() })
            .to_string();
    let key_signature = ecdsa(
        root,
        &length_value(&[
            b"GooglePayPasses",
            b"ECv2SigningOnly",
            signed_key.as_bytes(),
        ]),
    );
    let signed_message = message.to_string();
    let signature = ecdsa(
        &intermediate,
        &length_value(&[
            b"GooglePayPasses",
            recipient.as_bytes(),
            b"ECv2SigningOnly",
            signed_message.as_bytes(),
        ]),
    );
    json!({
        "signature": signature,
        "intermediateSigningKey": { "signedKey": signed_key, "signatures": [key_signature] },
        "protocolVersion": "ECv2SigningOnly",
        "signedMessage": signed_message,
    })
    .to_string()
}

async fn keys(State(fake): State<Arc<Fake>>) -> Response {
    let body = json!({ "keys": [{
        "keyValue": spki_base64(&fake.root),
        "protocolVersion": "ECv2SigningOnly",
        "keyExpiration": (chrono::Utc::now().timestamp_millis() + 86_400_000).to_string(),
    }]});
    (StatusCode::OK, body.to_string()).into_response()
}

async fn token(State(fake): State<Arc<Fake>>, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body).to_string();
    let mut grant = None;
    let mut assertion = None;
    for pair in body.split('&') {
        match pair.split_once('=') {
            Some(("grant_type", v)) => grant = Some(v.replace("%3A", ":")),
            Some(("assertion", v)) => assertion = Some(v.to_string()),
            _ => {}
        }
    }
    let mut inner = fake.inner.lock().expect("lock");
    inner.token_requests += 1;
    if grant.as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#,
        )
            .into_response();
    }
    if let Err(why) = check_assertion(&fake, assertion.as_deref().unwrap_or_default()) {
        inner.refused_assertions.push(why.clone());
        let body = json!({ "error": "invalid_grant", "error_description": why });
        return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    }
    let token = format!("ya29.test-only-{}", inner.tokens.len() + 1);
    inner.tokens.push(token.clone());
    let body = json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" });
    (StatusCode::OK, body.to_string()).into_response()
}

/// The common start of an API call: the bearer token, then a planned
/// failure, if any.
fn admit(fake: &Fake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let mut inner = fake.inner.lock().expect("lock");
    inner.calls += 1;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| inner.tokens.iter().any(|k| k == t)) {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials.",
        )));
    }
    if let Some(status) = inner.fail_next.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Err(Box::new(error(status, "planned failure of the fake")));
    }
    Ok(())
}

fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body).map_err(|_| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "Invalid JSON payload received.",
        ))
    })
}

/// Top-level fields of `patch` replace those of `target`; a field sent as
/// null is cleared (Google's patch semantics).
fn merge(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            match v {
                Value::Null => t.remove(k),
                v => t.insert(k.clone(), v.clone()),
            };
        }
    }
}

async fn insert_class(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admit(&fake, &headers) {
        return *r;
    }
    let class = match json_body(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Some(id) = class["id"].as_str().map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "Missing resource id.");
    };
    let mut inner = fake.inner.lock().expect("lock");
    if inner.classes.contains_key(&id) {
        return error(
            StatusCode::CONFLICT,
            &format!("Resource already exists: {id}"),
        );
    }
    *inner.class_writes.entry(id.clone()).or_default() += 1;
    inner.classes.insert(id, class.clone());
    (StatusCode::OK, class.to_string()).into_response()
}

async fn list_classes(
    State(fake): State<Arc<Fake>>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&fake, &headers) {
        return *r;
    }
    let Some(issuer) = query.get("issuerId") else {
        return error(StatusCode::BAD_REQUEST, "issuerId is required.");
    };
    if issuer != &fake.issuer {
        return error(
            StatusCode::FORBIDDEN,
            &format!("The caller does not have permission for issuer {issuer}"),
        );
    }
    let inner = fake.inner.lock().expect("lock");
    let resources: Vec<Value> = inner.classes.values().cloned().collect();
    (
        StatusCode::OK,
        json!({ "resources": resources }).to_string(),
    )
        .into_response()
}

/// Which kept resources a patch applies to.
#[derive(Clone, Copy)]
enum Kept {
    Classes,
    Objects,
}

/// A PATCH of a kept class or object: its top-level fields replaced, the
/// write counted.
fn patch_kept(fake: &Fake, kept: Kept, id: String, headers: &HeaderMap, body: &Bytes) -> Response {
    if let Err(r) = admit(fake, headers) {
        return *r;
    }
    let patch = match json_body(body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let mut inner = fake.inner.lock().expect("lock");
    let inner = &mut *inner;
    let (resources, writes) = match kept {
        Kept::Classes => (&mut inner.classes, &mut inner.class_writes),
        Kept::Objects => (&mut inner.objects, &mut inner.object_patches),
    };
    let Some(resource) = resources.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, &format!("Resource not found: {id}"));
    };
    merge(resource, &patch);
    let out = resource.to_string();
    *writes.entry(id).or_default() += 1;
    (StatusCode::OK, out).into_response()
}

async fn patch_class(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    patch_kept(&fake, Kept::Classes, id, &headers, &body)
}

async fn insert_object(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admit(&fake, &headers) {
        return *r;
    }
    let object = match json_body(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (Some(id), Some(class)) = (object["id"].as_str(), object["classId"].as_str()) else {
        return error(StatusCode::BAD_REQUEST, "Missing resource id or class id.");
    };
    let mut inner = fake.inner.lock().expect("lock");
    if !inner.classes.contains_key(class) {
        return error(StatusCode::NOT_FOUND, &format!("Class not found: {class}"));
    }
    if inner.objects.contains_key(id) {
        return error(
            StatusCode::CONFLICT,
            &format!("Resource already exists: {id}"),
        );
    }
    inner.objects.insert(id.to_string(), object.clone());
    (StatusCode::OK, object.to_string()).into_response()
}

async fn object(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&fake, &headers) {
        return *r;
    }
    let inner = fake.inner.lock().expect("lock");
    match inner.objects.get(&id) {
        Some(o) => (StatusCode::OK, o.to_string()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("Resource not found: {id}")),
    }
}

async fn patch_object(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    patch_kept(&fake, Kept::Objects, id, &headers, &body)
}

async fn add_message(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = admit(&fake, &headers) {
        return *r;
    }
    let body = match json_body(&body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let message = body["message"].clone();
    let mut inner = fake.inner.lock().expect("lock");
    if !inner.objects.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, &format!("Resource not found: {id}"));
    }
    // A second message with the same id is kept too: only the sender's
    // own check (was_delivered) keeps it from being added twice.
    let notifying =
        |m: &AddedMessage| m.object == id && m.message["messageType"] == "TEXT_AND_NOTIFY";
    if message["messageType"] == "TEXT_AND_NOTIFY"
        && inner.messages.iter().filter(|m| notifying(m)).count() >= NOTIFY_BUDGET
    {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "Notification quota exceeded for this object: at most 3 notifications in 24 hours.",
        );
    }
    inner.messages.push(AddedMessage {
        object: id.clone(),
        message: message.clone(),
    });
    let object = inner.objects.get_mut(&id).expect("checked");
    if let Some(list) = object
        .as_object_mut()
        .map(|o| o.entry("messages").or_insert_with(|| json!([])))
        .and_then(Value::as_array_mut)
    {
        list.push(message);
    }
    (StatusCode::OK, json!({ "resource": object }).to_string()).into_response()
}

impl FakeGoogle {
    /// Starts a fake that trusts `key` (the service account's public key)
    /// for the account `email`, a user of the issuer `issuer`.
    pub fn start(email: &str, issuer: &str, key: PKey<Public>) -> FakeGoogle {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake Google");
        let addr = listener.local_addr().expect("address");
        listener.set_nonblocking(true).expect("nonblocking");
        let fake = Arc::new(Fake {
            root: ec_key(),
            email: email.to_string(),
            issuer: issuer.to_string(),
            key,
            token_url: format!("http://{addr}/token"),
            inner: Mutex::default(),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/keys", get(keys))
            .route(
                "/walletobjects/v1/loyaltyClass",
                post(insert_class).get(list_classes),
            )
            .route(
                "/walletobjects/v1/loyaltyClass/{id}",
                axum::routing::patch(patch_class),
            )
            .route("/walletobjects/v1/loyaltyObject", post(insert_object))
            .route(
                "/walletobjects/v1/loyaltyObject/{id}",
                get(object).patch(patch_object),
            )
            .route(
                "/walletobjects/v1/loyaltyObject/{id}/addMessage",
                post(add_message),
            )
            .with_state(fake.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app).await;
            });
        });
        FakeGoogle { addr, fake }
    }

    /// `[google_wallet] api_url` for it.
    pub fn api_url(&self) -> String {
        format!("http://{}/walletobjects/v1", self.addr)
    }

    /// `[google_wallet] callback_keys_url` for it.
    pub fn keys_url(&self) -> String {
        format!("http://{}/keys", self.addr)
    }

    /// A save (`"save"`) or delete (`"del"`) callback for `object`, signed
    /// by the published root key for `recipient` (the issuer id), expiring
    /// at `exp_ms`.
    pub fn callback(
        &self,
        recipient: &str,
        object: &str,
        event: &str,
        nonce: &str,
        exp_ms: i64,
    ) -> String {
        let message = json!({
            "classId": object.rsplit_once('.').map(|(i, _)| format!("{i}.class")).unwrap_or_default(),
            "objectId": object,
            "expTimeMillis": exp_ms,
            "eventType": event,
            "nonce": nonce,
        });
        signed_callback(&self.fake.root, recipient, &message)
    }

    /// The same callback, signed by a root key nobody published.
    pub fn forged_callback(
        &self,
        recipient: &str,
        object: &str,
        event: &str,
        nonce: &str,
    ) -> String {
        let message = json!({
            "objectId": object,
            "expTimeMillis": chrono::Utc::now().timestamp_millis() + 60_000,
            "eventType": event,
            "nonce": nonce,
        });
        signed_callback(&ec_key(), recipient, &message)
    }

    /// `[google_wallet] token_url` for it.
    pub fn token_url(&self) -> String {
        self.fake.token_url.clone()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.fake.inner.lock().expect("lock")
    }

    /// An object as kept.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.inner().objects.get(id).cloned()
    }

    /// A class as kept.
    pub fn class(&self, id: &str) -> Option<Value> {
        self.inner().classes.get(id).cloned()
    }

    /// How often an object was patched.
    pub fn object_patches(&self, id: &str) -> usize {
        self.inner().object_patches.get(id).copied().unwrap_or(0)
    }

    /// How often a class was inserted or patched.
    pub fn class_writes(&self, id: &str) -> usize {
        self.inner().class_writes.get(id).copied().unwrap_or(0)
    }

    /// The messages added, in order.
    pub fn messages(&self) -> Vec<AddedMessage> {
        self.inner().messages.clone()
    }

    /// Token requests answered (granted or not).
    pub fn token_requests(&self) -> usize {
        self.inner().token_requests
    }

    /// Why assertions were refused.
    pub fn refused_assertions(&self) -> Vec<String> {
        self.inner().refused_assertions.clone()
    }

    /// API calls made (with or without a valid token).
    pub fn calls(&self) -> usize {
        self.inner().calls
    }

    /// The next API calls answer these statuses, one each, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner().fail_next.extend(statuses.iter().copied());
    }
}
