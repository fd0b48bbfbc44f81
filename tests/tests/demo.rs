//! The demo as a newcomer runs it: `ferry demo` creates its folder, serves HTTPS with a
//! self-signed certificate, and a SCIM create shows up in its SQLite target database — or,
//! in its LDAP flavour, in the directory it was pointed at.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use ferry_e2e::{ScimClient, eventually, ferry_bin, plugin_dir};
use ferry_test_support::TempSlapd;
use serde_json::json;

/// A running `ferry demo` in a temporary folder, stopped when dropped.
struct Demo {
    child: Child,
    data: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "demo-token-for-the-e2e-test-123";

/// Starts `ferry demo` with `extra` arguments and waits until it serves reads.
async fn demo(extra: &[&str]) -> (Demo, ScimClient, u16) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let port = ferry_test_support::free_port();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for file in ["generic-sql.wasm", "generic-ldap.wasm"] {
        std::fs::copy(plugin_dir().join(file), plugins.join(file)).unwrap();
    }
    let log = dir.path().join("demo.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(ferry_bin())
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--token",
            TOKEN,
        ])
        .arg("--data")
        .arg(&data)
        .arg("--plugins")
        .arg(&plugins)
        .args(extra)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let demo = Demo {
        child,
        data: data.clone(),
        log,
        _dir: dir,
    };
    let cert = data.join("tls/cert.pem");
    eventually("the demo to create its certificate", || async {
        cert.exists().then_some(())
    })
    .await;
    let scim = ScimClient::new(&cert, port, "demo", TOKEN);
    eventually("the demo to serve reads", || async {
        matches!(scim.get("/Users?count=0").await, Ok((200, _))).then_some(())
    })
    .await;
    (demo, scim, port)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_provisions_into_its_sqlite_table() {
    let (demo, scim, port) = demo(&[]).await;
    let printed = std::fs::read_to_string(&demo.log).unwrap();
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
    let db = rusqlite::Connection::open(demo.data.join("target.db")).unwrap();
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

    // Groups out of the box: a group with Ada as its member lands in the groups and
    // membership tables.
    let ada = body["id"].as_str().unwrap().to_string();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Analysts", "members": [{"value": ada}]
    });
    let (status, body) = scim.post("/Groups", &group).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let member: (String, String) = db
        .query_row(
            "SELECT g.display_name, CAST(m.user_id AS TEXT) FROM groups g \
             JOIN group_members m ON m.group_id = g.id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(member, ("Analysts".to_string(), ada));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ldap_demo_provisions_into_its_directory() {
    let slapd = TempSlapd::start();
    let password = slapd.folder().join("admin.password");
    std::fs::write(&password, slapd.admin_password()).unwrap();
    let url = slapd.url();
    let (demo, scim, _) = demo(&[
        "--ldap-url",
        &url,
        "--ldap-base-dn",
        slapd.base_dn(),
        "--ldap-bind-dn",
        slapd.admin_dn(),
        "--ldap-password-file",
        password.to_str().unwrap(),
        "--ldap-ca",
        slapd.ca_pem_path().to_str().unwrap(),
    ])
    .await;
    let printed = std::fs::read_to_string(&demo.log).unwrap();
    assert!(
        printed.contains(&url) && printed.contains("dc=example,dc=org"),
        "the banner shows the directory: {printed}"
    );
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada", "name": {"formatted": "Ada Lovelace", "givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"type": "work", "value": "ada@example.org"}]
    });
    let (status, body) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let entry = slapd
        .entry("uid=ada,ou=people,dc=example,dc=org")
        .expect("the entry is in the directory");
    assert_eq!(entry["mail"], vec!["ada@example.org".to_string()]);
    assert_eq!(entry["cn"], vec!["Ada Lovelace".to_string()]);
}
