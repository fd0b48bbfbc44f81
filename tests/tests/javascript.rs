//! The JavaScript connectors, built with componentize-js by `cargo xtask plugins`, in the
//! real `ferry` binary over HTTPS: the HTTP connector (`plugins/examples/js-http`)
//! provisioning into a real HTTP/JSON users API (`ferry_test_support::TestApi`) that it
//! reaches only through the host's allow-listed `net` capability, every step checked in
//! the API's own state; users made and deleted in the API seen through delta imports;
//! the API's refusals arriving as the matching SCIM errors; and the SDK's template
//! (`sdk/js/template`) inspected and serving.

use ferry_e2e::scim::{entra_user, find, patch_op};
use ferry_e2e::{Ferry, ScimClient, eventually, ferry_command, plugin_folder_with, server_section};
use ferry_test_support::TestApi;
use serde_json::{Value, json};

/// The target extension, where connector attributes without a SCIM home (`roles`,
/// `level`) live.
const TARGET: &str = "urn:ietf:params:scim:schemas:extension:ferry:2.0:User";

/// An app `name` on the js-http connector, reaching `api` with the token in the file
/// `token_file`; `extra` adds tables (imports, limits).
fn app(name: &str, api: &TestApi, token_file: &str, extra: &str) -> String {
    format!(
        r#"
[apps.{name}]
plugin = "js-http"
token = {{ file = "token" }}

[apps.{name}.network]
allow = ["127.0.0.1:{port}"]

[apps.{name}.settings]
host = "127.0.0.1"
port = {port}
security = "plain"
token = {{ file = "{token_file}" }}
{extra}"#,
        port = api.port()
    )
}

/// The API's user `id`, which must exist.
fn api_user(api: &TestApi, id: &str) -> Value {
    api.users()
        .into_iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("the API has no user {id}: {:?}", api.users()))
}

#[tokio::test(flavor = "multi_thread")]
async fn scim_provisions_into_the_http_api_and_api_changes_come_back() {
    let api = TestApi::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("api.token"), api.token()).unwrap();
    // A user the API holds before Ferry starts: the full import brings it.
    let before = api
        .create_user(json!({"userName": "ada", "roles": ["founder"], "level": 3}))
        .unwrap();
    let plugins = plugin_folder_with(dir, "js-http.wasm");
    let config = server_section(&plugins)
        + &app(
            "people",
            &api,
            "api.token",
            "\n[apps.people.import]\npage-size = 2\ndelta-interval-seconds = 1\n",
        );
    let mut ferry = Ferry::start(dir, &config);
    let scim = ferry.ready("people").await;

    let found = find(&scim, "userName eq \"ada\"").await;
    assert_eq!(found["totalResults"], 1, "{found}");
    let ada = &found["Resources"][0];
    assert_eq!(ada["id"], before["id"]);
    assert_eq!(ada[TARGET]["roles"], json!(["founder"]));
    assert_eq!(ada[TARGET]["level"], 3);

    // Create: the API holds the user with every mapped and target attribute; the SCIM id
    // is the API's id.
    let mut grace = entra_user("grace", "ext-grace");
    grace[TARGET] = json!({"roles": ["admin", "dev"], "level": 7});
    let (status, created) = scim.post("/Users", &grace).await.unwrap();
    assert_eq!(status, 201, "{created}\n{}", ferry.log());
    let id = created["id"].as_str().unwrap().to_string();
    let stored = api.user_named("grace").expect("the API holds grace");
    assert_eq!(stored["id"], id.as_str());
    for (field, value) in [
        ("displayName", json!("Grace Hopper")),
        ("givenName", json!("Grace")),
        ("familyName", json!("Hopper")),
        ("email", json!("grace@navy.example")),
        ("employeeNumber", json!("1906")),
        ("department", json!("Computing")),
        ("active", json!(true)),
        ("roles", json!(["admin", "dev"])),
        ("level", json!(7)),
    ] {
        assert_eq!(stored[field], value, "{field} in {stored}");
    }
    assert_eq!(created[TARGET]["roles"], json!(["admin", "dev"]));
    assert!(
        created[TARGET]["updatedAt"].is_string(),
        "the API's time comes back: {created}"
    );

    let (status, read) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["userName"], "grace");
    assert_eq!(read["name"]["familyName"], "Hopper");

    // PATCH replace, the way Entra ID disables a user (a string "False").
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([
                {"op": "Replace", "path": "displayName", "value": "Rear Admiral Hopper"},
                {"op": "Replace", "path": "active", "value": "False"},
            ])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{patched}");
    let stored = api_user(&api, &id);
    assert_eq!(stored["displayName"], "Rear Admiral Hopper");
    assert_eq!(stored["active"], false);

    // Multi-valued: add a value, then remove one; the others stay.
    let roles = format!("{TARGET}:roles");
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "add", "path": roles, "value": ["ops"]}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(api_user(&api, &id)["roles"], json!(["admin", "dev", "ops"]));
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "remove", "path": roles, "value": ["admin"]}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(api_user(&api, &id)["roles"], json!(["dev", "ops"]));
    assert_eq!(body[TARGET]["roles"], json!(["dev", "ops"]));

    // Clearing a single-valued attribute removes it in the API.
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "remove", "path": format!("{TARGET}:level")}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(api_user(&api, &id).get("level").is_none());

    // A new userName keeps the id (the API renames in place).
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "userName", "value": "grace.hopper"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.user_named("grace.hopper").expect("renamed")["id"],
        id.as_str()
    );
    assert!(api.user_named("grace").is_none());

    // A duplicate create is a conflict.
    let (status, body) = scim.post("/Users", &entra_user("ada", "x")).await.unwrap();
    assert_eq!(status, 409, "{body}");

    // Made in the API beside Ferry: the delta import brings the user...
    let direct = api
        .create_user(
            json!({"userName": "direct", "displayName": "Made in the API", "roles": ["x"]}),
        )
        .unwrap();
    let found = eventually("the user made in the API appears through SCIM", || async {
        let found = find(&scim, "userName eq \"direct\"").await;
        (found["totalResults"] == 1).then_some(found)
    })
    .await;
    assert_eq!(found["Resources"][0]["id"], direct["id"]);
    assert_eq!(found["Resources"][0]["displayName"], "Made in the API");
    assert_eq!(found["Resources"][0][TARGET]["roles"], json!(["x"]));
    // ...and a deletion there takes it away.
    assert!(api.delete_user(direct["id"].as_str().unwrap()));
    eventually(
        "the user deleted in the API disappears from SCIM",
        || async {
            let found = find(&scim, "userName eq \"direct\"").await;
            (found["totalResults"] == 0).then_some(())
        },
    )
    .await;

    // Delete: gone from the API and from SCIM.
    let (status, body) = scim.delete(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 204, "{body}");
    assert!(api.users().iter().all(|u| u["id"] != id.as_str()));
    let (status, _) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 404);
    assert!(
        !ferry.log().contains(api.token()),
        "the API token never reaches the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_refusals_become_scim_errors_and_connections_are_kept_or_renewed() {
    // Two APIs: "batch" has its own, so nothing else consumes the failures it plans.
    let api = TestApi::start();
    let other = TestApi::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("api.token"), api.token()).unwrap();
    std::fs::write(dir.join("wrong.token"), "not-the-api-token").unwrap();
    let plugins = plugin_folder_with(dir, "js-http.wasm");
    // No delta imports for "batch": what is made in its API stays unknown to its cache,
    // so the API itself must refuse a duplicate. One instance: one kept-alive connection.
    let config = server_section(&plugins)
        + &app(
            "batch",
            &api,
            "api.token",
            "\n[apps.batch.import]\ndelta-interval-seconds = 0\n\n[apps.batch.limits]\ninstances = 1\n",
        )
        + &app("locked", &other, "wrong.token", "");
    let mut ferry = Ferry::start(dir, &config);
    let scim = ferry.ready("batch").await;

    // The API refuses a userName it holds (the cache does not know it): 409.
    api.create_user(json!({"userName": "taken"})).unwrap();
    let (status, body) = scim
        .post("/Users", &entra_user("taken", "t"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap_or_default().contains("409"),
        "the API's answer is named: {body}"
    );
    // A value the API does not accept (422): 400, and nothing is stored.
    let mut bad = entra_user("bad-mail", "b");
    bad["emails"] = json!([{"type": "work", "value": "not-an-address", "primary": true}]);
    let (status, body) = scim.post("/Users", &bad).await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(api.user_named("bad-mail").is_none());

    // The API refuses the token's rights (403): SCIM 403.
    api.fail_next(1, 403);
    let (status, body) = scim
        .post("/Users", &entra_user("retried", "r"))
        .await
        .unwrap();
    assert_eq!(status, 403, "{body}");
    // The API is unavailable (503), then rate-limits (429): SCIM 503 with Retry-After,
    // nothing stored; the IdP's retry then succeeds.
    for failure in [503, 429] {
        api.fail_next(1, failure);
        let reply = scim
            .send(
                reqwest::Method::POST,
                "/Users",
                Some(serde_json::to_vec(&entra_user("retried", "r")).unwrap()),
                "application/scim+json",
            )
            .await
            .unwrap();
        assert_eq!(reply.status, 503, "{failure}: {}", reply.body);
        assert!(reply.headers.contains_key("retry-after"), "{failure}");
        assert!(api.user_named("retried").is_none());
    }
    let (status, created) = scim
        .post("/Users", &entra_user("retried", "r"))
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    // Read-through: a user made in the API after the import is found by id at once.
    let fresh = api.create_user(json!({"userName": "fresh"})).unwrap();
    let (status, body) = scim
        .get(&format!("/Users/{}", fresh["id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userName"], "fresh");

    // A user deleted in the API meanwhile: the update is refused as not found (404).
    assert!(api.delete_user(&id));
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "x"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 404, "{body}");

    // Kept alive: successive requests share one connection.
    let (requests, connections) = (api.requests(), api.connections());
    for n in 0..4 {
        let name = format!("kept-{n}");
        let (status, body) = scim
            .post("/Users", &entra_user(&name, &name))
            .await
            .unwrap();
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(api.requests(), requests + 4);
    assert_eq!(
        api.connections(),
        connections,
        "four requests, no new connection"
    );
    // A server that closes every connection after its answer: each request reconnects.
    let connections = api.connections();
    api.close_connections(true);
    for n in 0..3 {
        let name = format!("closing-{n}");
        let (status, body) = scim
            .post("/Users", &entra_user(&name, &name))
            .await
            .unwrap();
        assert_eq!(status, 201, "{body}\n{}", ferry.log());
        assert!(api.user_named(&name).is_some());
    }
    // The first of the three still went over the kept-alive connection; its answer
    // closed it, and each of the other two needed a new one.
    assert!(
        api.connections() >= connections + 2,
        "{} connections",
        api.connections()
    );

    // The wrong API token: writes are refused (403) saying why, reads wait for an import
    // that cannot complete, and `ferry check` names the app and the API's 401.
    let locked = scim_for(&ferry, "locked");
    let (status, body) = locked.post("/Users", &entra_user("x", "x")).await.unwrap();
    assert_eq!(status, 403, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default().to_string();
    assert!(detail.contains("401") && detail.contains("token"), "{body}");
    assert!(other.users().is_empty());
    let (status, _) = locked.get("/Users?count=0").await.unwrap();
    assert_eq!(status, 503);
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir);
    assert!(!ok, "{out}");
    assert!(out.contains("app 'locked'") && out.contains("401"), "{out}");
    assert!(out.contains("app 'batch': ok"), "{out}");
    assert!(!out.contains(api.token()), "{out}");
}

/// A SCIM client for another app of the same server.
fn scim_for(ferry: &Ferry, app: &str) -> ScimClient {
    ScimClient::new(
        &ferry.dir.join("tls/cert.pem"),
        ferry.port,
        app,
        ferry_e2e::TOKEN,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_javascript_template_loads_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let plugins = plugin_folder_with(dir, "js-template.wasm");
    let wasm = plugins.join("js-template.wasm");
    let (ok, shown) = ferry_command(&["plugins", "inspect", wasm.to_str().unwrap()], dir);
    assert!(ok, "{shown}");
    assert!(shown.contains("name:        js-template"), "{shown}");
    assert!(shown.contains("contract:    ferry:connector@"), "{shown}");
    assert!(shown.contains("id-prefix"), "{shown}");
    for import in shown
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(':'))
    {
        assert!(
            !import.contains("wasi:http") && !import.contains("wasi:sockets"),
            "the template imports only what Ferry offers: {import}"
        );
    }

    // One instance: the template keeps its users in the instance's memory.
    let config = server_section(&plugins)
        + r#"
[apps.memory]
plugin = "js-template"
token = { file = "token" }

[apps.memory.limits]
instances = 1

[apps.memory.settings]
id-prefix = "js-"
"#;
    let mut ferry = Ferry::start(dir, config.as_str());
    let scim = ferry.ready("memory").await;
    let (status, created) = scim.post("/Users", &entra_user("ada", "a")).await.unwrap();
    assert_eq!(status, 201, "{created}\n{}", ferry.log());
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("js-"), "{created}");
    assert_eq!(created["emails"][0]["value"], "grace@navy.example");
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "Ada"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "Ada");
    let (status, body) = scim.delete(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 204, "{body}");
    let (status, _) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 404);
}
