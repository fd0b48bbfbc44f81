//! SCIM error responses (RFC 7644 §3.12): every failure the SCIM surface reports becomes
//! one of these, so a client always gets a SCIM Error body with the right status and
//! `scimType`, never a bare 500 or an HTML page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The `scimType` keywords of RFC 7644 §3.12 that Ferry reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax is invalid or names an unsupported attribute.
    InvalidFilter,
    /// The request body is not valid SCIM JSON.
    InvalidSyntax,
    /// A value is of the wrong type or refused by the target.
    InvalidValue,
    /// A PATCH path is invalid or names no attribute.
    InvalidPath,
    /// A unique attribute (userName) is already taken.
    Uniqueness,
    /// A PATCH names a path that must not be changed.
    Mutability,
    /// The filter or request would produce more results than allowed.
    TooMany,
    /// A PATCH operation has no target (no path and no value to match).
    NoTarget,
}

impl ScimType {
    fn keyword(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidPath => "invalidPath",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::TooMany => "tooMany",
            ScimType::NoTarget => "noTarget",
        }
    }
}

/// A SCIM error: an HTTP status, an optional `scimType` and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status sent with the error body.
    pub status: StatusCode,
    /// The RFC 7644 error keyword, for 400 and 409 responses.
    pub scim_type: Option<ScimType>,
    /// What went wrong, in words an operator can act on. Never holds a secret.
    pub detail: String,
    /// Seconds to wait before retrying, sent as `Retry-After` (503, 429).
    pub retry_after: Option<u32>,
}

impl ScimError {
    /// A 400 with the given keyword.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// An invalid filter (400 `invalidFilter`).
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// An invalid PATCH path (400 `invalidPath`).
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// An invalid value (400 `invalidValue`).
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// A malformed request body (400 `invalidSyntax`).
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// A resource that does not exist (404).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// A uniqueness conflict (409 `uniqueness`).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail)
    }

    /// A retryable failure (503 with `Retry-After`).
    pub fn unavailable(detail: impl Into<String>, retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, None, detail)
        }
    }

    /// A failure of Ferry itself or of the connector (500).
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, detail)
    }

    /// Any status, keyword and detail.
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The SCIM Error body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.keyword());
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl std::error::Error for ScimError {}

/// The media type of every SCIM response body.
pub const SCIM_JSON: &str = "application/scim+json";

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
