//! Reading requests: JSON bodies and queries whose faults become the API's
//! error shape, path ids, and the list limits.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};

use super::error::ApiError;

/// A JSON body, or why it could not be read (turned into an [`ApiError`]).
pub type Body<T> = Result<Json<T>, JsonRejection>;

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
