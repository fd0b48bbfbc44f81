//! Per-app admission: beyond `max-requests-in-flight`, a request gets 429 with
//! `Retry-After` at once, and capacity comes back when requests finish.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ferry::app::{App, UsersConfig};
use ferry::config::ImportConfig;
use ferry::config::secret::Secret;
use ferry::runtime::Runtime;
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::limits::Limits;
use ferry::runtime::pool::SessionPool;
use ferry::runtime::state::Grants;
use ferry::scim::request::ScimState;
use tower::ServiceExt;

const TOKEN: &str = "admission-test-token-0123";

async fn app(dir: &std::path::Path) -> Arc<App> {
    let runtime = Runtime::new(EngineSizing { total_instances: 4 }, dir.join("compiled")).unwrap();
    let plugin = runtime
        .load_plugin(&crate::common::component("fixture-misbehave.wasm"))
        .await
        .unwrap();
    let limits = Limits {
        max_requests_in_flight: 1,
        ..Limits::default()
    };
    let grants = Grants {
        app: Arc::from("one"),
        plugin: Arc::from("misbehave"),
        limits,
        database: None,
        network: None,
        files: None,
    };
    Arc::new(App::new(
        "one".into(),
        Secret::new(TOKEN),
        SessionPool::new(plugin, grants, vec![]),
        ImportConfig::default(),
        UsersConfig {
            object_type: None,
            default_mapping: true,
            attributes: Default::default(),
            lookups: vec![],
        },
        None,
        dir,
    ))
}

fn request() -> Request<Body> {
    Request::get("/apps/one/scim/v2/ServiceProviderConfig")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_app_answers_429_with_retry_after_until_capacity_returns() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let router = ferry::scim::router::router(Arc::new(ScimState {
        apps: HashMap::from([("one".to_string(), app.clone())]),
        scheme: "https",
        max_body_bytes: 1 << 20,
    }));

    let held = app.admission.clone().try_acquire_owned().unwrap();
    let response = router.clone().oneshot(request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["status"], "429");

    drop(held);
    let response = router.oneshot(request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "capacity came back");
}
