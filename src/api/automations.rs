//! Automations over the API (admin keys): create, list (with how many
//! cards are due now), turn on and off. `serve` runs the enabled ones once
//! a shop-local day, each run a campaign.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use stampcard_core::model::{AutomationKind, CampaignVoucher};
use stampcard_core::shop::AutomationDraft;
use utoipa::ToSchema;

use super::auth::Caller;
use super::campaigns::{CampaignState, NewCampaignVoucher};
use super::doc::Errors;
use super::error::ApiError;
use super::input::{Body, Object, path_id};

/// A new automation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAutomation {
    /// Whose holders.
    template_id: u64,
    /// birthday:DAYS (a gift DAYS before the birthday), voucher-expiring:DAYS,
    /// win-back:DAYS (no visit for DAYS), almost-ready.
    when: String,
    /// The message for Telegram, email and the web card.
    text: String,
    /// The short wallet PUSH text.
    #[serde(default)]
    push_text: String,
    /// Channels: telegram, email, wallet, log.
    channels: Vec<String>,
    /// Name (default: what triggers it).
    #[serde(default)]
    name: Option<String>,
    /// A voucher for each recipient (the birthday gift).
    #[serde(default)]
    voucher: Option<NewCampaignVoucher>,
}

/// On or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationSwitch {
    /// Whether the daily run includes it.
    enabled: bool,
}

/// Creates an automation (on); the answer holds it and the cards due now.
#[utoipa::path(post, path = "/api/v1/automations", operation_id = "create_automation", tag = "campaigns",
    request_body = NewAutomation,
    responses((status = 201, description = "Created", body = serde_json::Value), Errors))]
pub async fn create(
    State(s): State<CampaignState>,
    Caller(actor): Caller,
    body: Body<NewAutomation>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Object(req) = body?;
    let kind = AutomationKind::parse(&req.when)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", e))?;
    let a = s
        .shop
        .campaigns()
        .create_automation(
            AutomationDraft {
                name: req.name,
                template_id: req.template_id,
                kind,
                text: req.text,
                push_text: req.push_text,
                channels: req.channels,
                voucher: req.voucher.map(CampaignVoucher::from),
            },
            &actor,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!(s.shop.campaigns().automation_status(a)?)),
    ))
}

/// Every automation with the cards due now.
#[utoipa::path(get, path = "/api/v1/automations", operation_id = "list_automations", tag = "campaigns",
    responses((status = 200, description = "Automations", body = Vec<serde_json::Value>), Errors))]
pub async fn list(
    State(s): State<CampaignState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.admin()?;
    Ok(Json(serde_json::json!(
        s.shop.campaigns().automation_statuses()?
    )))
}

/// Turns an automation on or off.
#[utoipa::path(patch, path = "/api/v1/automations/{id}", operation_id = "switch_automation", tag = "campaigns",
    params(("id" = u64, Path, description = "Automation id")),
    request_body = AutomationSwitch,
    responses((status = 200, description = "Changed", body = serde_json::Value), Errors))]
pub async fn switch(
    State(s): State<CampaignState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Body<AutomationSwitch>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id("an automation id", &id)?;
    let Object(req) = body?;
    let a = s
        .shop
        .campaigns()
        .set_automation_enabled(id, req.enabled, &actor)
        .await?;
    Ok(Json(serde_json::json!(a)))
}
