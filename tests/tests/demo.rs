//! The demo as a newcomer runs it: `ferry demo` creates its folder, serves HTTPS with a
//! self-signed certificate, and a SCIM create shows up in its SQLite target database.

use std::process::{Command, Stdio};

use ferry_e2e::{ScimClient, eventually, ferry_bin, plugin_dir};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_provisions_into_its_sqlite_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let port = ferry_test_support::free_port();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        plugin_dir().join("generic-sql.wasm"),
        plugins.join("generic-sql.wasm"),
    )
    .unwrap();
    let token = "demo-token-for-the-e2e-test-123";
    let log = std::fs::File::create(dir.path().join("demo.log")).unwrap();
    let mut child = Command::new(ferry_bin())
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--token",
            token,
        ])
        .arg("--data")
        .arg(&data)
        .arg("--plugins")
        .arg(&plugins)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let cert = data.join("tls/cert.pem");
    eventually("the demo to create its certificate", || async {
        cert.exists().then_some(())
    })
    .await;
    let scim = ScimClient::new(&cert, port, "demo", token);
    eventually("the demo to serve reads", || async {
        matches!(scim.get("/Users?count=0").await, Ok((200, _))).then_some(())
    })
    .await;
    let printed = std::fs::read_to_string(dir.path().join("demo.log")).unwrap();
    assert!(
        printed.contains(&format!("https://127.0.0.1:{port}/apps/demo/scim/v2")),
        "{printed}"
    );
    assert!(printed.contains("curl --cacert"), "{printed}");

    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "ada@example.org", "externalId": "ext-ada", "active": true, "displayName": "Ada",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"type": "work", "value": "ada@example.org", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1815", "department": "Analytical Engines"}
    });
    let (status, body) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let db = rusqlite::Connection::open(data.join("target.db")).unwrap();
    let row: (String, String, i64, String, String, String, String, String, String) = db
        .query_row(
            "SELECT user_name, external_id, active, display_name, given_name, family_name, email, employee_number, department FROM users",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "ada@example.org".into(),
            "ext-ada".into(),
            1,
            "Ada".into(),
            "Ada".into(),
            "Lovelace".into(),
            "ada@example.org".into(),
            "1815".into(),
            "Analytical Engines".into()
        )
    );
    let _ = child.kill();
    let _ = child.wait();
}
