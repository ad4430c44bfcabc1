//! `Authorization: Bearer <key>` → the caller, as the actor that journal
//! events name. Missing or wrong → 401; the role is checked per endpoint.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use stampcard_core::Shop;
use stampcard_core::model::Actor;

use super::error::ApiError;

/// The authenticated caller.
pub struct Caller(pub Actor);

impl Caller {
    /// Refuses (403) a caller without the admin role.
    pub fn admin(&self) -> Result<(), ApiError> {
        if self.0.is_admin() {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs an admin API key",
            ))
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Shop: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(bearer(&Shop::from_ref(state), &parts.headers)?))
    }
}

/// The actor an `Authorization: Bearer <key>` header stands for.
pub fn bearer(shop: &Shop, headers: &axum::http::HeaderMap) -> Result<Actor, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send an API key as 'Authorization: Bearer <key>' (stampcard api-key create)",
            )
        })?;
    let token = header.strip_prefix("Bearer ").unwrap_or("").trim();
    Ok(shop.access().authenticate_api_key(token)?)
}
