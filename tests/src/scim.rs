//! A SCIM client over HTTPS that trusts only the test's own certificate, as an IdP
//! configured with Ferry's certificate would.

use std::path::Path;
use std::sync::Once;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A client for one app's SCIM endpoint; clones share the connection pool, as an IdP's
/// concurrent workers would.
#[derive(Clone)]
pub struct ScimClient {
    http: reqwest::Client,
    /// `https://127.0.0.1:PORT/apps/APP/scim/v2`.
    pub base: String,
    token: String,
}

/// A response: the status, the headers and the JSON body (`Value::Null` when empty).
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON.
    pub body: Value,
}

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl ScimClient {
    /// A client for `app` on `port`, trusting the PEM certificate `cert`.
    pub fn new(cert: &Path, port: u16, app: &str, token: &str) -> Self {
        install_crypto();
        let pem = std::fs::read(cert).unwrap();
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        Self {
            http,
            base: format!("https://127.0.0.1:{port}/apps/{app}/scim/v2"),
            token: token.to_string(),
        }
    }

    /// The same server and app with another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            token: token.to_string(),
        }
    }

    /// Sends a request with the bearer token (when not empty) and an optional body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> reqwest::Result<Reply> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        let r = self
            .send(method, path, body, "application/scim+json")
            .await?;
        Ok((r.status.as_u16(), r.body))
    }

    /// GET.
    pub async fn get(&self, path: &str) -> reqwest::Result<(u16, Value)> {
        self.json(Method::GET, path, None).await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Result<(u16, Value)> {
        self.json(Method::POST, path, Some(body)).await
    }

    /// PUT a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> reqwest::Result<(u16, Value)> {
        self.json(Method::PUT, path, Some(body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> reqwest::Result<(u16, Value)> {
        self.json(Method::PATCH, path, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> reqwest::Result<(u16, Value)> {
        self.json(Method::DELETE, path, None).await
    }
}

/// `filter` percent-encoded for a query string.
pub fn encode(filter: &str) -> String {
    let mut out = String::new();
    for b in filter.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The enterprise User extension's URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A user as Entra ID creates it by default (RFC 7643 core + enterprise extension).
pub fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Grace Hopper",
        "emails": [{"primary": true, "type": "work", "value": "grace@navy.example"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
        ENTERPRISE: {"employeeNumber": "1906", "department": "Computing"},
        "roles": []
    })
}

/// A PatchOp request body with these operations.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// `GET /Users?filter=…`, asserting a 200.
pub async fn find(scim: &ScimClient, filter: &str) -> Value {
    let (status, body) = scim
        .get(&format!("/Users?filter={}", encode(filter)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{filter}: {body}");
    body
}

/// The group lookup Entra ID sends before it provisions a group: by displayName, without
/// members (`excludedAttributes=members`), asserting a 200.
pub async fn entra_group_lookup(scim: &ScimClient, display_name: &str) -> Value {
    let filter = format!("displayName eq {}", Value::from(display_name));
    let (status, body) = scim
        .get(&format!(
            "/Groups?filter={}&excludedAttributes=members",
            encode(&filter)
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body
}
