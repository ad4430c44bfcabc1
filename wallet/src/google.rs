//! "Save to Google Wallet": a link carrying a JWT signed (RS256) with the
//! shop's Google service-account key, holding a loyalty class for the
//! template and a loyalty object for the card.

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use serde::Deserialize;
use serde_json::{Value, json};
use stampcard_core::model::{Template, VoucherState};
use stampcard_core::views::CardView;

use crate::WalletError;

/// Where the JWT is saved.
pub const SAVE_URL: &str = "https://pay.google.com/gp/v/save/";

/// The fields of a service-account key file we use.
#[derive(Deserialize)]
struct KeyFile {
    client_email: String,
    private_key: String,
}

/// Google Wallet of one shop.
pub struct GoogleWallet {
    issuer_id: String,
    client_email: String,
    key: PKey<Private>,
}

/// Base64url without padding, as JWTs use.
pub fn base64url(bytes: &[u8]) -> String {
    openssl::base64::encode_block(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

impl GoogleWallet {
    /// From the issuer id and a service-account key file (JSON).
    pub fn new(issuer_id: &str, key_file: &[u8]) -> Result<Self, WalletError> {
        let bad = |reason: String| WalletError::Certificate {
            what: "[google_wallet] service_account_key".into(),
            reason,
        };
        if issuer_id.is_empty() || !issuer_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WalletError::Certificate {
                what: "[google_wallet] issuer_id".into(),
                reason: format!("'{issuer_id}' is not an issuer id (digits only)"),
            });
        }
        let file: KeyFile = serde_json::from_slice(key_file)
            .map_err(|e| bad(format!("not a service-account key file: {e}")))?;
        let key = PKey::private_key_from_pem(file.private_key.as_bytes())
            .map_err(|e| bad(format!("its private_key is not a PEM key: {e}")))?;
        Ok(Self {
            issuer_id: issuer_id.to_string(),
            client_email: file.client_email,
            key,
        })
    }

    /// The issuer id.
    pub fn issuer_id(&self) -> &str {
        &self.issuer_id
    }

    /// The service account's email (the JWTs' issuer).
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The loyalty class id of a template.
    pub fn class_id(&self, template: u64) -> String {
        format!("{}.stampcard-template-{template}", self.issuer_id)
    }

    /// The loyalty object id of a card.
    pub fn object_id(&self, card: u64) -> String {
        format!("{}.stampcard-card-{card}", self.issuer_id)
    }

    /// A template's loyalty class; its logo is the web pages' logo of the
    /// template under `origin` (the shop's public URL).
    pub fn class(&self, template: &Template, origin: &str) -> Value {
        let [r, g, b] = crate::pass::images::color(&template.branding.background);
        json!({
            "id": self.class_id(template.id),
            "issuerName": template.business_name,
            "programName": template.name,
            "reviewStatus": "UNDER_REVIEW",
            "hexBackgroundColor": format!("#{r:02x}{g:02x}{b:02x}"),
            "callbackOptions": { "url": format!("{}/google/callback", origin.trim_end_matches('/')) },
            "programLogo": {
                "sourceUri": { "uri": format!("{}/t/{}/logo.png", origin.trim_end_matches('/'), template.id) },
            },
        })
    }

    /// A card's loyalty object as its holder should see it now: progress,
    /// active vouchers with their codes, rewards waiting. A deleted card
    /// (also a forgotten customer's) is INACTIVE with no personal fields.
    ///
    /// `totp_key`: the card's TOTP secret (hex) when its template stamps
    /// only from rotating codes: the object then carries Google's rotating
    /// barcode, which the phone computes every 30 seconds (`5`, the card id,
    /// 8 TOTP digits — `stampcard_core::rotating`).
    pub fn object(&self, view: &CardView, totp_key: Option<&str>) -> Value {
        let texts = crate::texts::Texts::of(view.language.as_deref());
        let id = self.object_id(view.card_id);
        let class_id = self.class_id(view.template_id);
        if view.deleted {
            return json!({
                "id": id,
                "classId": class_id,
                "state": "INACTIVE",
                "accountId": view.card_id.to_string(),
                "accountName": "",
                "textModulesData": [],
                "linksModuleData": { "uris": [] },
            });
        }
        let mut modules: Vec<Value> = view
            .vouchers
            .iter()
            .filter(|v| v.state == VoucherState::Active)
            .map(|v| {
                json!({
                    "id": format!("voucher-{}", v.id),
                    "header": texts.t("pass.voucher"),
                    "body": crate::pass::json::voucher_text(&texts, v),
                })
            })
            .collect();
        if view.rewards_pending > 0 {
            modules.push(json!({
                "id": "rewards",
                "header": texts.t("pass.ready"),
                "body": texts.f("pass.rewards_ready", &[("count", &view.rewards_pending.to_string())]),
            }));
        }
        let mut object = json!({
            "id": id,
            "classId": class_id,
            "state": "ACTIVE",
            "accountId": view.card_id.to_string(),
            "accountName": view.customer_name,
            "barcode": { "type": "QR_CODE", "value": view.code, "alternateText": view.code },
            "loyaltyPoints": {
                "label": texts.t("pass.stamps"),
                "balance": { "string": format!("{}/{}", view.progress.stamps, view.progress.of) },
            },
            "textModulesData": modules,
            "linksModuleData": { "uris": [{ "uri": view.url, "description": texts.t("pass.web") }] },
        });
        if let Some(key) = totp_key {
            use stampcard_core::codes::ID_DIGITS;
            use stampcard_core::rotating::{KIND_DIGIT, PERIOD_SECS, TOTP_DIGITS};
            object["rotatingBarcode"] = json!({
                "type": "QR_CODE",
                "valuePattern": format!("{KIND_DIGIT}{:0ID_DIGITS$}{{totp_value_0}}", view.card_id),
                "alternateText": texts.f("card.number", &[("card", &view.card_id.to_string())]),
                "totpDetails": {
                    "periodMillis": (PERIOD_SECS * 1000).to_string(),
                    "algorithm": "TOTP_SHA1",
                    "parameters": [{ "key": key, "valueLength": TOTP_DIGITS }],
                },
            });
            // The printed code would be shown instead where a phone cannot
            // compute the rotating one; it does not stamp, so it is left out.
            if let Some(o) = object.as_object_mut() {
                o.remove("barcode");
            }
        }
        object
    }

    /// The claims of a card's save link carrying its class and object
    /// whole (when no API is at hand: a snapshot, never updated).
    pub fn claims(
        &self,
        view: &CardView,
        template: &Template,
        origin: &str,
        totp_key: Option<&str>,
    ) -> Value {
        self.save_claims(
            json!([self.class(template, origin)]),
            json!([self.object(view, totp_key)]),
            origin,
        )
    }

    /// The claims of a save link naming an object already inserted through
    /// the API (Google then shows the object as the API keeps it).
    pub fn claims_by_id(&self, card: u64, template: u64, origin: &str) -> Value {
        self.save_claims(
            json!([]),
            json!([{ "id": self.object_id(card), "classId": self.class_id(template) }]),
            origin,
        )
    }

    fn save_claims(&self, classes: Value, objects: Value, origin: &str) -> Value {
        json!({
            "iss": self.client_email,
            "aud": "google",
            "typ": "savetowallet",
            "origins": [origin],
            "payload": { "loyaltyClasses": classes, "loyaltyObjects": objects },
        })
    }

    /// A signed JWT (RS256) of these claims.
    pub fn jwt(&self, claims: &Value) -> Result<String, WalletError> {
        let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let body = base64url(claims.to_string().as_bytes());
        let input = format!("{header}.{body}");
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(input.as_bytes())?;
        let signature = signer.sign_to_vec()?;
        Ok(format!("{input}.{}", base64url(&signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding_or_plus() {
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(b"ab"), "YWI");
    }

    #[test]
    fn bad_key_files_and_issuers_are_refused() {
        assert!(GoogleWallet::new("123", b"{}").is_err());
        assert!(GoogleWallet::new("12x", b"{}").is_err());
        let e = GoogleWallet::new("123", br#"{"client_email":"a@b","private_key":"nope"}"#);
        assert!(e.is_err_and(|e| e.to_string().contains("PEM")));
    }
}
