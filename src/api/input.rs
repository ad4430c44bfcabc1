//! Reading requests: JSON bodies and queries whose faults become the API's
//! error shape, path ids, and the list limits.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body, or why it could not be read (an [`ApiError`]).
pub type Body<T> = Result<Object<T>, ApiError>;

/// A request body that is a JSON object. Anything else — an array above all,
/// which serde would take as a struct's fields by position — is refused.
pub struct Object<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Object<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_value(value).map(Object).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })
    }
}

/// A numeric id from the path, `what` naming it in the error.
pub fn path_id(what: &str, id: &str) -> Result<u64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("'{id}' is not {what}")))
}

/// A query the API cannot read.
pub fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

/// List sizes: 1 to 1000.
pub fn check_limit(limit: usize) -> Result<(), ApiError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(ApiError::bad_request("limit must be 1 to 1000"))
    }
}

/// The largest page.
pub const MAX_LIMIT: usize = 1000;

/// The default page.
pub fn hundred() -> usize {
    100
}
