//! pass.json of a card's storeCard pass, drawn from core's card view.

use serde_json::{Value, json};
use stampcard_core::model::{Branding, VoucherState};
use stampcard_core::views::{CardView, VoucherView};

use super::images::color;
use crate::texts::Texts;

/// What identifies the pass and where its web service lives.
pub struct PassIdentity<'a> {
    /// `[wallet] pass_type_id`.
    pub pass_type_id: &'a str,
    /// `[wallet] team_id`.
    pub team_id: &'a str,
    /// `[wallet] organization_name`.
    pub organization_name: &'a str,
    /// `[wallet] locations`.
    pub locations: &'a [super::location::PassLocation],
    /// The PassKit web service base URL.
    pub web_service_url: &'a str,
    /// The pass's fixed serial number.
    pub serial: &'a str,
    /// The pass's fixed authentication token.
    pub auth_token: &'a str,
}

/// The news field: the latest campaign text.
pub struct News<'a> {
    /// The short PUSH text.
    pub text: &'a str,
    /// Whether this version of the pass is the one that brought it: then the
    /// other fields carry no change message (two changed fields with
    /// messages would show a generic notice instead of the text).
    pub just_changed: bool,
}

fn rgb(hex: &str) -> String {
    let [r, g, b] = color(hex);
    format!("rgb({r},{g},{b})")
}

fn field(key: &str, label: &str, value: impl Into<Value>, change: Option<&str>) -> Value {
    let mut f = json!({ "key": key, "label": label, "value": value.into() });
    if let Some(m) = change {
        f["changeMessage"] = m.into();
    }
    f
}

/// A field's change message, unless this version brings news (then the
/// news field alone announces it).
fn unless_quiet(quiet: bool, message: &str) -> Option<&str> {
    (!quiet).then_some(message)
}

/// An active voucher as a wallet shows it: what it is, its code (and the
/// till's code), until when.
pub fn voucher_text(texts: &Texts, v: &VoucherView) -> String {
    let mut text = texts.f(
        "pass.voucher.code",
        &[("description", &v.description), ("code", &v.code)],
    );
    if let Some(fixed) = &v.fixed_code {
        text += &texts.f("pass.voucher.pos_code", &[("code", fixed)]);
    }
    if let Some(exp) = v.expires_at {
        let date = exp.format("%Y-%m-%d").to_string();
        text += &texts.f("pass.voucher.valid_until", &[("date", &date)]);
    }
    text
}

/// The pass.json of a card, in its holder's language.
pub fn pass_json(
    id: &PassIdentity<'_>,
    view: &CardView,
    branding: &Branding,
    news: Option<&News<'_>>,
) -> Value {
    let texts = Texts::of(view.language.as_deref());
    let t = |key: &str| texts.t(key);
    let quiet = news.is_some_and(|n| n.just_changed);
    let stamps_changed = t("pass.stamps_changed");
    let active: Vec<_> = view
        .vouchers
        .iter()
        .filter(|v| v.state == VoucherState::Active)
        .collect();
    let vouchers = match active.len() {
        0 => t("pass.vouchers.none"),
        1 => active[0].description.clone(),
        n => texts.f("pass.vouchers.many", &[("count", &n.to_string())]),
    };
    let mut back = Vec::new();
    if let Some(n) = news {
        back.push(field("news", &t("pass.news"), n.text, Some("%@")));
    }
    for v in &active {
        back.push(field(
            &format!("voucher-{}", v.id),
            &t("pass.voucher"),
            voucher_text(&texts, v),
            None,
        ));
    }
    if view.rewards_pending > 0 {
        back.push(field(
            "rewards",
            &t("pass.ready"),
            texts.f(
                "pass.rewards_ready",
                &[("count", &view.rewards_pending.to_string())],
            ),
            None,
        ));
    }
    let mut web = field("web", &t("pass.web"), view.url.clone(), None);
    web["attributedValue"] = format!(
        "<a href=\"{}\">{}</a>",
        view.url,
        crate::html::escape(&t("pass.web.link"))
    )
    .into();
    back.push(web);
    back.push(field(
        "card",
        &t("pass.card_number"),
        view.card_id.to_string(),
        None,
    ));
    if !view.terms.is_empty() {
        back.push(field("terms", &t("pass.terms"), view.terms.clone(), None));
    }
    let mut pass = json!({
        "formatVersion": 1,
        "passTypeIdentifier": id.pass_type_id,
        "teamIdentifier": id.team_id,
        "serialNumber": id.serial,
        "organizationName": id.organization_name,
        "description": format!("{} — {}", view.title, view.business_name),
        "logoText": view.business_name,
        "backgroundColor": rgb(&branding.background),
        "foregroundColor": rgb(&branding.foreground),
        "labelColor": rgb(&branding.label),
        "webServiceURL": id.web_service_url,
        "authenticationToken": id.auth_token,
        "sharingProhibited": true,
        "voided": view.deleted,
        "barcodes": [{
            "format": "PKBarcodeFormatQR",
            "message": view.code,
            "messageEncoding": "iso-8859-1",
            "altText": view.code,
        }],
        "storeCard": {
            "headerFields": [field(
                "progress", &t("pass.stamps"),
                format!("{}/{}", view.progress.stamps, view.progress.of),
                unless_quiet(quiet, &stamps_changed),
            )],
            "secondaryFields": [
                field("holder", &t("pass.member"), view.customer_name.clone(), None),
                field("reward", &t("pass.reward"), view.reward.clone(), None),
            ],
            "auxiliaryFields": [field(
                "vouchers", &t("pass.vouchers"), vouchers, unless_quiet(quiet, "%@"),
            )],
            "backFields": back,
        },
    });
    if !id.locations.is_empty() {
        pass["locations"] = super::location::to_json(id.locations);
    }
    pass
}
