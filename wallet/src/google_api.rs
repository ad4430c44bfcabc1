//! Google Wallet's REST API (walletobjects v1), as far as a loyalty shop
//! needs it: a class per template, an object per card, messages on objects.
//!
//! Authentication is the service account's OAuth 2.0 JWT-bearer grant: an
//! RS256-signed assertion (issuer the account's email, audience the token
//! endpoint, the `wallet_object.issuer` scope) is exchanged for an access
//! token, kept until a minute before it expires. Both URLs come from
//! `[google_wallet]` (Google's by default), so tests point them at a fake.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::google::GoogleWallet;

/// Google's walletobjects v1 base URL.
pub const API_URL: &str = "https://walletobjects.googleapis.com/walletobjects/v1";
/// Google's OAuth 2.0 token endpoint.
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The scope an issuer's service account asks for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/wallet_object.issuer";

/// A token is fetched again this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// One request's patience.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a call did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoogleApiError {
    /// Worth trying again later: 429, 5xx, no connection, no token.
    #[error("{0}")]
    Retry(String),
    /// Google refused it (another 4xx), with Google's reason.
    #[error("{0}")]
    Refused(String),
    /// Too many notifying updates of one object (Google allows 3 a day).
    #[error("{0}")]
    NotifyQuota(String),
    /// The object or class does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// It exists already (409, on an insert).
    #[error("{0}")]
    Exists(String),
}

/// A client of the walletobjects API for one issuer.
pub struct GoogleApi {
    wallet: Arc<GoogleWallet>,
    http: reqwest::Client,
    api_url: String,
    token_url: String,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
    callback_keys: crate::google_callback::RootKeys,
}

/// Google's reason in an error body (`error.message`, `error.status`), or
/// the body's start.
fn reason(status: u16, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().map(|v| &v["error"]);
    let message = error.and_then(|e| e["message"].as_str().or_else(|| e.as_str()));
    let code = error.and_then(|e| e["status"].as_str());
    match (message, code) {
        (Some(m), Some(c)) => format!("Google answered {status} {c}: {m}"),
        (Some(m), None) => format!("Google answered {status}: {m}"),
        _ => {
            let start: String = body.chars().take(200).collect();
            format!("Google answered {status}: {start}")
        }
    }
}

/// Whether a 4xx body says the per-object notification budget is spent.
fn is_notify_quota(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("quota") && lower.contains("notif")
}

impl GoogleApi {
    /// A client for `wallet`'s issuer at these URLs (`None`: Google's):
    /// the API, the token endpoint, the callbacks' signing keys.
    pub fn new(
        wallet: Arc<GoogleWallet>,
        api_url: Option<&str>,
        token_url: Option<&str>,
        callback_keys_url: Option<&str>,
    ) -> Result<Self, GoogleApiError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| GoogleApiError::Refused(format!("no HTTP client: {e}")))?;
        let url = |u: Option<&str>, default: &str| {
            u.map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(default)
                .trim_end_matches('/')
                .to_string()
        };
        Ok(Self {
            wallet,
            http,
            api_url: url(api_url, API_URL),
            token_url: url(token_url, TOKEN_URL),
            token: tokio::sync::Mutex::new(None),
            callback_keys: crate::google_callback::RootKeys::new(callback_keys_url),
        })
    }

    /// Google's keys that sign save and delete callbacks.
    pub fn callback_keys(&self) -> &crate::google_callback::RootKeys {
        &self.callback_keys
    }

    /// The issuer's ids and object builders.
    pub fn wallet(&self) -> &GoogleWallet {
        &self.wallet
    }

    /// The signed assertion of the JWT-bearer grant.
    fn assertion(&self) -> Result<String, GoogleApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.wallet.client_email(),
            "scope": SCOPE,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        });
        self.wallet
            .jwt(&claims)
            .map_err(|e| GoogleApiError::Refused(format!("cannot sign the token request: {e}")))
    }

    /// An access token, from the cache while it has more than a minute left.
    pub async fn token(&self) -> Result<String, GoogleApiError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() + TOKEN_MARGIN < *until
        {
            return Ok(token.clone());
        }
        let form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}",
            self.assertion()?
        );
        let response = self
            .http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| GoogleApiError::Retry(format!("token endpoint unreachable: {e}")))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status != 200 {
            let why = format!("no access token: {}", reason(status, &body));
            return Err(match status {
                429 | 500.. => GoogleApiError::Retry(why),
                _ => GoogleApiError::Refused(why),
            });
        }
        let parsed: Value = serde_json::from_str(&body).unwrap_or_default();
        let Some(token) = parsed["access_token"].as_str() else {
            return Err(GoogleApiError::Retry(
                "the token endpoint answered without an access_token".into(),
            ));
        };
        let lifetime = parsed["expires_in"].as_u64().unwrap_or(3600);
        *cached = Some((
            token.to_string(),
            Instant::now() + Duration::from_secs(lifetime),
        ));
        Ok(token.to_string())
    }

    /// One authorized call; the answer's JSON on 2xx.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, GoogleApiError> {
        let token = self.token().await?;
        let mut request = self
            .http
            .request(method, format!("{}/{path}", self.api_url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| GoogleApiError::Retry(format!("Google Wallet unreachable: {e}")))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        match status {
            200..=299 => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            401 => {
                // The token may have been revoked early: fetch a new one next time.
                *self.token.lock().await = None;
                Err(GoogleApiError::Retry(reason(status, &text)))
            }
            404 => Err(GoogleApiError::NotFound(reason(status, &text))),
            409 => Err(GoogleApiError::Exists(reason(status, &text))),
            429 if is_notify_quota(&text) => {
                Err(GoogleApiError::NotifyQuota(reason(status, &text)))
            }
            429 | 500.. => Err(GoogleApiError::Retry(reason(status, &text))),
            _ if is_notify_quota(&text) => Err(GoogleApiError::NotifyQuota(reason(status, &text))),
            _ => Err(GoogleApiError::Refused(reason(status, &text))),
        }
    }

    /// Inserts a class, or patches it when it exists (409).
    pub async fn put_class(&self, class: &Value) -> Result<(), GoogleApiError> {
        let id = class["id"].as_str().unwrap_or_default();
        match self
            .call(reqwest::Method::POST, "loyaltyClass", Some(class))
            .await
        {
            Err(GoogleApiError::Exists(_)) => self
                .call(
                    reqwest::Method::PATCH,
                    &format!("loyaltyClass/{id}"),
                    Some(class),
                )
                .await
                .map(drop),
            other => other.map(drop),
        }
    }

    /// Inserts an object; one that exists already (409) is patched.
    pub async fn insert_object(&self, object: &Value) -> Result<(), GoogleApiError> {
        match self
            .call(reqwest::Method::POST, "loyaltyObject", Some(object))
            .await
        {
            Err(GoogleApiError::Exists(_)) => self.patch_object(object).await,
            other => other.map(drop),
        }
    }

    /// Patches an object's fields (never notifying); one Google lost (404)
    /// is inserted again. Of the two barcodes, the one `object` leaves out
    /// is cleared (sent as null, Google's patch semantics): a card whose
    /// template turned to rotating codes or back shows one code, not both.
    pub async fn patch_object(&self, object: &Value) -> Result<(), GoogleApiError> {
        let id = object["id"].as_str().unwrap_or_default();
        let mut patch = object.clone();
        if let Some(fields) = patch.as_object_mut() {
            for barcode in ["barcode", "rotatingBarcode"] {
                fields.entry(barcode).or_insert(Value::Null);
            }
        }
        match self
            .call(
                reqwest::Method::PATCH,
                &format!("loyaltyObject/{id}"),
                Some(&patch),
            )
            .await
        {
            Err(GoogleApiError::NotFound(_)) => self
                .call(reqwest::Method::POST, "loyaltyObject", Some(object))
                .await
                .map(drop),
            other => other.map(drop),
        }
    }

    /// How many loyalty classes the issuer has: proves the token works for
    /// this issuer (the service account is one of its users).
    pub async fn issuer_classes(&self) -> Result<usize, GoogleApiError> {
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("loyaltyClass?issuerId={}", self.wallet.issuer_id()),
                None,
            )
            .await?;
        Ok(answer["resources"].as_array().map_or(0, Vec::len))
    }

    /// An object as Google keeps it.
    pub async fn get_object(&self, id: &str) -> Result<Value, GoogleApiError> {
        self.call(reqwest::Method::GET, &format!("loyaltyObject/{id}"), None)
            .await
    }

    /// Adds a message to an object: with a notification (`notify`), or as
    /// text only.
    pub async fn add_message(
        &self,
        object_id: &str,
        message_id: &str,
        header: &str,
        body: &str,
        notify: bool,
    ) -> Result<(), GoogleApiError> {
        let message = json!({
            "message": {
                "id": message_id,
                "header": header,
                "body": body,
                "messageType": if notify { "TEXT_AND_NOTIFY" } else { "TEXT" },
            }
        });
        self.call(
            reqwest::Method::POST,
            &format!("loyaltyObject/{object_id}/addMessage"),
            Some(&message),
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_reasons_are_read_from_its_error_body() {
        let body =
            r#"{"error":{"code":400,"message":"Invalid barcode","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            reason(400, body),
            "Google answered 400 INVALID_ARGUMENT: Invalid barcode"
        );
        assert_eq!(
            reason(502, "bad gateway"),
            "Google answered 502: bad gateway"
        );
        assert!(is_notify_quota(
            r#"{"error":{"message":"Notification quota exceeded for this object"}}"#
        ));
        assert!(!is_notify_quota(
            r#"{"error":{"message":"Invalid barcode"}}"#
        ));
    }
}
