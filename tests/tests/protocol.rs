//! The SCIM surface's edges against a running `ferry serve`: authentication per app,
//! every client mistake answered with a SCIM error of the right status (never a 500),
//! and the discovery endpoints exposing the target's own attributes.

use ferry_e2e::scim::encode;
use ferry_e2e::targets::{Target, config};
use ferry_e2e::{Ferry, ScimClient, sql_plugin_folder};
use reqwest::Method;
use serde_json::{Value, json};

/// A second app on the same target with its own token, to prove tokens do not cross.
const SECOND_APP: &str = r#"
[apps.other]
plugin = "generic-sql"
token = { value = "the-other-apps-token-7d1e" }
allow-inline-secrets = true

[apps.other.database]
url = "{url}"

[[apps.other.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
"#;

async fn server(dir: &std::path::Path) -> (Ferry, ScimClient) {
    let target = Target::sqlite(dir);
    let extra = SECOND_APP.replace("{url}", &target.url());
    let mut ferry = Ferry::start(dir, &config(&sql_plugin_folder(dir), &target, &extra));
    let scim = ferry.ready("hr").await;
    (ferry, scim)
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_on_any_attribute_find_the_same_users_with_or_without_a_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    // givenName gets a lookup of its own; familyName has none and is answered by a scan.
    let extra = "[apps.hr.users]\nlookups = [\"name.givenName\"]\n";
    let mut ferry = Ferry::start(
        dir.path(),
        &config(&sql_plugin_folder(dir.path()), &target, extra),
    );
    let scim = ferry.ready("hr").await;
    let mut ids = Vec::new();
    for (user_name, given, family) in [
        ("ada@example.org", "Ada", "Lovelace"),
        ("byron@example.org", "Ada", "Byron"),
        ("annabella@example.org", "Annabella", "Lovelace"),
    ] {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": given, "familyName": family},
        });
        let (status, created) = scim.post("/Users", &body).await.unwrap();
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let found = async |filter: &str| {
        let (status, list) = scim
            .get(&format!("/Users?filter={}", encode(filter)))
            .await
            .unwrap();
        assert_eq!(status, 200, "{filter}: {list}");
        let mut found: Vec<String> = list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        found.sort();
        assert_eq!(list["totalResults"], found.len(), "{filter}: {list}");
        found
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let lovelaces = sorted(vec![ids[0].clone(), ids[2].clone()]);
    assert_eq!(found(r#"name.familyName eq "LOVELACE""#).await, lovelaces);
    assert_eq!(
        found(r#"name.givenName eq "ada""#).await,
        sorted(vec![ids[0].clone(), ids[1].clone()])
    );
    assert_eq!(
        found(r#"name.givenName eq "Ada" and name.familyName eq "Lovelace""#).await,
        vec![ids[0].clone()]
    );
    assert_eq!(
        found(r#"userName eq "BYRON@example.org""#).await,
        vec![ids[1].clone()]
    );
    assert_eq!(
        found(r#"name.familyName eq "Nobody""#).await,
        Vec::<String>::new()
    );
    ferry.stop();
}

fn assert_scim_error(status: u16, body: &Value, expected: u16, scim_type: Option<&str>) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(
        body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{body}"
    );
    assert_eq!(body["status"], expected.to_string(), "{body}");
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], t, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_checked_per_app() {
    let dir = tempfile::tempdir().unwrap();
    let (_ferry, scim) = server(dir.path()).await;
    for token in [
        "",
        "wrong-token-of-some-length",
        "the-other-apps-token-7d1e",
    ] {
        let r = scim
            .with_token(token)
            .send(Method::GET, "/Users", None, "")
            .await
            .unwrap();
        assert_eq!(r.status, 401, "token {token:?}");
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert_eq!(r.body["status"], "401");
    }
    let other = ScimClient::new(
        &dir.path().join("tls/cert.pem"),
        scim_port(&scim),
        "other",
        "the-other-apps-token-7d1e",
    );
    assert_eq!(
        other.get("/ServiceProviderConfig").await.unwrap().0,
        200,
        "the other app opens with its own token"
    );
    let nobody = ScimClient::new(
        &dir.path().join("tls/cert.pem"),
        scim_port(&scim),
        "nobody",
        ferry_e2e::TOKEN,
    );
    let (status, body) = nobody.get("/Users").await.unwrap();
    assert_scim_error(status, &body, 404, None);
}

fn scim_port(scim: &ScimClient) -> u16 {
    scim.base
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn client_mistakes_get_scim_errors_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let (ferry, scim) = server(dir.path()).await;

    let (s, b) = scim
        .get(&format!("/Users?filter={}", encode("userName eq")))
        .await
        .unwrap();
    assert_scim_error(s, &b, 400, Some("invalidFilter"));
    let (s, b) = scim
        .get(&format!("/Users?filter={}", encode(&"(".repeat(100))))
        .await
        .unwrap();
    assert_scim_error(s, &b, 400, Some("invalidFilter"));
    let (s, b) = scim.get("/Users?count=many").await.unwrap();
    assert_scim_error(s, &b, 400, Some("invalidValue"));

    let r = scim
        .send(
            Method::POST,
            "/Users",
            Some(b"{not json".to_vec()),
            "application/scim+json",
        )
        .await
        .unwrap();
    assert_scim_error(r.status.as_u16(), &r.body, 400, Some("invalidSyntax"));
    let r = scim
        .send(Method::POST, "/Users", Some(b"{}".to_vec()), "text/plain")
        .await
        .unwrap();
    assert_scim_error(r.status.as_u16(), &r.body, 415, None);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = scim
        .send(
            Method::POST,
            "/Users",
            Some(deep.into_bytes()),
            "application/scim+json",
        )
        .await
        .unwrap();
    assert_scim_error(r.status.as_u16(), &r.body, 400, Some("invalidSyntax"));
    let huge = vec![b' '; 2 << 20];
    let r = scim
        .send(Method::POST, "/Users", Some(huge), "application/scim+json")
        .await
        .unwrap();
    assert_scim_error(r.status.as_u16(), &r.body, 413, None);

    // A plain application/json body is accepted.
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "json@example.org"});
    let r = scim
        .send(
            Method::POST,
            "/Users",
            Some(serde_json::to_vec(&user).unwrap()),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();

    let (s, b) = scim
        .post("/Users", &json!({"userName": "x", "active": "perhaps"}))
        .await
        .unwrap();
    assert_scim_error(s, &b, 400, Some("invalidValue"));
    let (s, b) = scim
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        )
        .await
        .unwrap();
    assert_scim_error(s, &b, 400, Some("invalidValue"));

    let bad_patches = [
        (
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "jump", "path": "active"}]}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "nosuch", "value": 1}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "emails[type eq", "value": 1}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "id", "value": "9"}]}),
            "mutability",
        ),
    ];
    for (patch, scim_type) in bad_patches {
        let (s, b) = scim.patch(&format!("/Users/{id}"), &patch).await.unwrap();
        assert_scim_error(s, &b, 400, Some(scim_type));
    }
    let (s, b) = scim.get("/Users/~~not-an-id").await.unwrap();
    assert_scim_error(s, &b, 404, None);
    let (s, b) = scim.get("/Nothing/here").await.unwrap();
    assert_scim_error(s, &b, 404, None);
    let r = scim.send(Method::DELETE, "/Users", None, "").await.unwrap();
    assert_scim_error(r.status.as_u16(), &r.body, 405, None);
    assert!(
        !ferry.log().contains("panicked"),
        "no panic in the host:\n{}",
        ferry.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_exposes_the_target_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let (_ferry, scim) = server(dir.path()).await;
    let (s, config) = scim.get("/ServiceProviderConfig").await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 1000);
    let (_, types) = scim.get("/ResourceTypes").await.unwrap();
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    let (_, schemas) = scim.get("/Schemas").await.unwrap();
    let ferry_ext = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "urn:ietf:params:scim:schemas:extension:ferry:2.0:User")
        .expect("the target extension is listed");
    let names: Vec<&str> = ferry_ext["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for column in ["user_name", "employee_number", "department", "id"] {
        assert!(names.contains(&column), "{column} in {names:?}");
    }
    let (s, one) = scim
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(one["id"], "urn:ietf:params:scim:schemas:core:2.0:User");

    // A target attribute set through the extension lands in its column.
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ext@example.org",
        "urn:ietf:params:scim:schemas:extension:ferry:2.0:User": {"department": "Via extension"}
    });
    let (s, created) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(s, 201, "{created}");
    let target = Target::Sqlite(dir.path().join("target.db"));
    let row = target.row("ext@example.org").await.unwrap();
    assert_eq!(row["department"].as_deref(), Some("Via extension"));
}

/// Runs `openssl s_client` against the server offering only one protocol version, with
/// the system's OpenSSL policy switched off (`OPENSSL_CONF=/dev/null`, security level 0)
/// so the client really offers old versions; returns (handshake completed, output).
fn handshake(port: u16, version_flag: &str) -> (bool, String) {
    let output = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            version_flag,
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-brief",
        ])
        .env("OPENSSL_CONF", "/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is installed (Debian package openssl)");
    let text = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    (text.contains("CONNECTION ESTABLISHED"), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_below_1_2_is_refused_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_ferry, scim) = server(dir.path()).await;
    let port = scim_port(&scim);
    for modern in ["-tls1_2", "-tls1_3"] {
        let (ok, text) = handshake(port, modern);
        assert!(ok, "{modern} works: {text}");
    }
    for old in ["-tls1_1", "-tls1"] {
        let (ok, text) = handshake(port, old);
        assert!(!ok, "{old} is refused: {text}");
        // The refusal is the server's alert, not the client declining to try.
        assert!(text.contains("alert"), "{old}: {text}");
    }
}
