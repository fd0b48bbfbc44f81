//! What every SCIM request goes through before a handler sees it: finding the app named
//! in the path, checking its bearer token in constant time, and reading a JSON body
//! within the size limit. Each failure is a SCIM error with the right status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::error::ScimError;
use crate::app::App;

/// What the SCIM handlers share: the apps by name and how URLs are formed.
pub struct ScimState {
    /// The apps, by the name in their URL.
    pub apps: HashMap<String, Arc<App>>,
    /// "https", or "http" when the server runs plain HTTP on loopback.
    pub scheme: &'static str,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
}

/// A request's app, after its bearer token was checked and the request admitted; plus
/// the base URL of its SCIM endpoint for `meta.location`.
pub struct AuthorizedApp {
    /// The app.
    pub app: Arc<App>,
    /// `https://host/apps/NAME/scim/v2`.
    pub base_url: String,
    /// Held while the request is served (see `max-requests-in-flight`).
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

/// Seconds a client is asked to wait after a 429.
const TOO_MANY_RETRY_AFTER: u32 = 1;

/// A 401 with the `WWW-Authenticate` challenge RFC 6750 asks for.
fn unauthorized(detail: &str) -> Response {
    let mut r = ScimError::new(StatusCode::UNAUTHORIZED, None, detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ferry\""),
    );
    r
}

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<Arc<ScimState>> for AuthorizedApp {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ScimState>,
    ) -> Result<Self, Response> {
        let Path(params): Path<HashMap<String, String>> = Path::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let name = params.get("app").map(String::as_str).unwrap_or_default();
        let Some(app) = state.apps.get(name) else {
            return Err(
                ScimError::not_found(format!("there is no app named '{name}'")).into_response(),
            );
        };
        let Some(token) = bearer(&parts.headers) else {
            return Err(unauthorized(
                "a bearer token is required (Authorization: Bearer <token>)",
            ));
        };
        let expected = app.token.expose().as_bytes();
        // ct_eq compares in time independent of where the bytes differ; the length check
        // leaks only the length, which is not secret.
        if !bool::from(token.as_bytes().ct_eq(expected)) {
            tracing::warn!(app = %name, "a request with a wrong bearer token was refused");
            return Err(unauthorized("the bearer token is not valid for this app"));
        }
        // HTTP/2 carries the host in the URI's authority, HTTP/1.1 in the Host header.
        let Ok(admitted) = app.admission.clone().try_acquire_owned() else {
            let mut error = ScimError::new(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                format!("app '{name}' is serving as many requests as it allows; retry shortly"),
            );
            error.retry_after = Some(TOO_MANY_RETRY_AFTER);
            return Err(error.into_response());
        };
        let host = parts
            .uri
            .authority()
            .map(|a| a.as_str())
            .or_else(|| {
                parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
            })
            .unwrap_or("localhost");
        Ok(Self {
            app: app.clone(),
            base_url: format!("{}://{host}/apps/{name}/scim/v2", state.scheme),
            _admitted: admitted,
        })
    }
}

/// A JSON request body, read within the size limit. `application/scim+json` and
/// `application/json` are accepted.
pub struct ScimJson(pub Value);

impl FromRequest<Arc<ScimState>> for ScimJson {
    type Rejection = ScimError;

    async fn from_request(request: Request, state: &Arc<ScimState>) -> Result<Self, ScimError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_ascii_lowercase();
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media != "application/scim+json" && media != "application/json" {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("the body must be application/scim+json, not {media}"),
            ));
        }
        let limit = state.max_body_bytes;
        let bytes: Bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| {
                ScimError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    format!("the request body is larger than {limit} bytes"),
                )
            })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(ScimError::invalid_syntax("the body must be a JSON object"));
        }
        Ok(Self(value))
    }
}

/// Bytes reserved for a response body up front: one resource with its metadata fits, so
/// the usual answer is written without growing the buffer.
const RESPONSE_CAPACITY: usize = 2048;

/// A SCIM JSON response with a status.
pub fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut bytes = Vec::with_capacity(RESPONSE_CAPACITY);
    // Writing a `Value` into a Vec cannot fail: its keys are strings, and a Vec takes
    // every write.
    let _ = serde_json::to_writer(&mut bytes, body);
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(super::error::SCIM_JSON),
    );
    r
}
