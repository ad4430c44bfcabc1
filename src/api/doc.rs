//! The OpenAPI document, generated from the handlers' annotations (utoipa)
//! and served at `/api/v1/openapi.json`.

use std::collections::BTreeMap;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

use super::schemas::{ErrorBody, ErrorDetail};
use super::{automations, campaigns, cards, journal, webhooks};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stampcard API",
        version = "1",
        description = "Stamp cards for a POS, CRM or script. Authenticate with \
            `Authorization: Bearer <key>` (`stampcard api-key create`). Every error is \
            `{\"error\": {\"code\", \"message\"}}` with a stable code."
    ),
    paths(
        cards::templates, cards::issue_card, cards::card, cards::lookup, cards::customers,
        cards::vouchers, cards::issue_voucher, cards::claim_receipt, cards::stamp, cards::redeem,
        journal::events, journal::reverse,
        webhooks::create, webhooks::list, webhooks::delete, webhooks::deliveries,
        campaigns::create, campaigns::send, campaigns::status, campaigns::list,
        automations::create, automations::list, automations::switch,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    tags(
        (name = "cards", description = "Cards, stamps, receipts, vouchers and customers"),
        (name = "journal", description = "The journal feed and reversals"),
        (name = "webhooks", description = "Signed deliveries of journal events (admin keys)"),
        (name = "campaigns", description = "Messages to a template's holders, and the daily automations (admin keys)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: stc_<id>_<64 hex digits>"))
                    .build(),
            ),
        );
    }
}

/// The error answers every endpoint may give, all in the error shape.
pub struct Errors;

impl IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            (
                "400",
                "The request cannot be read (bad JSON, query or path)",
            ),
            ("401", "No API key, or an unknown or revoked one"),
            ("403", "The key's role may not do this"),
            ("404", "No such card, code, event, webhook or campaign"),
            (
                "409",
                "The rules refuse it (cooldown, daily cap, already redeemed …)",
            ),
            ("413", "The body is larger than 64 KiB"),
            ("415", "The body is not application/json"),
            (
                "422",
                "Invalid values, or an Idempotency-Key reused with a different body",
            ),
            ("503", "The store is unavailable"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
    }
}

/// `GET /api/v1/openapi.json` (no key needed).
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
