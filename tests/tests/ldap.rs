//! SCIM → LDAP end to end: `ferry serve` with the generic LDAP connector, reaching a real
//! OpenLDAP only through the host's allow-listed network capability, with TLS done by
//! the host (StartTLS and LDAPS). Every step is checked with the directory's own tools;
//! direct `ldapmodify` changes come back through delta imports from the accesslog.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_e2e::scim::{ENTERPRISE, encode, find};
use ferry_e2e::{Ferry, eventually, ferry_command, plugin_dir};
use ferry_test_support::{TempSlapd, shared_slapd};
use serde_json::{Value, json};

/// The plugins folder for these tests: only the LDAP connector.
fn ldap_plugins(dir: &Path) -> std::path::PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        plugin_dir().join("generic-ldap.wasm"),
        plugins.join("generic-ldap.wasm"),
    )
    .unwrap();
    plugins
}

/// One app `name` on `slapd` below `ou`, over `security` ("starttls" or "ldaps"),
/// trusting `ca` and allowed to reach `allow`.
fn app(
    name: &str,
    slapd: &TempSlapd,
    ou: &str,
    security: &str,
    ca: &Path,
    allow: &[String],
) -> String {
    let port = if security == "ldaps" {
        slapd.ldaps_port()
    } else {
        slapd.port()
    };
    let allow: Vec<String> = allow.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"
[apps.{name}]
plugin = "generic-ldap"
token = {{ file = "token" }}

[apps.{name}.network]
allow = [{allow}]
ca-file = "{ca}"
system-roots = false

[apps.{name}.import]
delta-interval-seconds = 1

[apps.{name}.settings]
host = "127.0.0.1"
port = {port}
security = "{security}"
bind-dn = "{bind_dn}"
bind-password = {{ file = "ldap.password" }}
base-dn = "{ou}"
user-dn-template = "uid={{uid}},{{base-dn}}"
disable = "ppolicy"
"#,
        allow = allow.join(", "),
        ca = ca.display(),
        bind_dn = slapd.admin_dn(),
    )
}

fn server_config(plugins: &Path, apps: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:{{port}}"
data = "data"
plugins = "{plugins}"
tls-cert = "tls/cert.pem"
tls-key = "tls/key.pem"
{apps}"#,
        plugins = plugins.display()
    )
}

/// The shared directory, a fresh subtree of it, a folder holding the bind password and
/// the plugins folder.
fn fixture() -> (
    &'static TempSlapd,
    String,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ldap.password"), slapd.admin_password()).unwrap();
    let plugins = ldap_plugins(dir.path());
    (slapd, ou, dir, plugins)
}

fn allow_both(slapd: &TempSlapd) -> Vec<String> {
    vec![
        format!("127.0.0.1:{}", slapd.port()),
        format!("127.0.0.1:{}", slapd.ldaps_port()),
    ]
}

fn first(entry: &BTreeMap<String, Vec<String>>, attribute: &str) -> Option<String> {
    entry
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
        .and_then(|(_, v)| v.first().cloned())
}

/// An Entra-style user with an initial password (written to `userPassword`).
fn entra_user(user_name: &str) -> Value {
    let mut user = ferry_e2e::scim::entra_user(user_name, &format!("ext-{user_name}"));
    user["password"] = json!("Initial-Pa55word!");
    user
}

/// The values of `attribute` in LDIF text, base64 (`attr::`) decoded.
fn ldif_values(ldif: &str, attribute: &str) -> Vec<String> {
    use base64::Engine;
    ldif.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            if !name.eq_ignore_ascii_case(attribute) {
                return None;
            }
            Some(match rest.strip_prefix(':') {
                Some(encoded) => String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded.trim())
                        .unwrap(),
                )
                .unwrap(),
                None => rest.strip_prefix(' ').unwrap_or(rest).to_string(),
            })
        })
        .collect()
}

/// Binds as `dn` with `password` using the real `ldapwhoami` over StartTLS.
fn can_bind(slapd: &TempSlapd, dn: &str, password: &str) -> bool {
    slapd
        .client_command("ldapwhoami")
        .args(["-x", "-ZZ", "-H", &slapd.url(), "-D", dn, "-w", password])
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread")]
async fn scim_to_ldap_over_starttls_with_deltas_renames_and_hostile_values() {
    let (slapd, ou, dir, plugins) = fixture();
    let config = server_config(
        &plugins,
        &app(
            "dir",
            slapd,
            &ou,
            "starttls",
            slapd.ca_pem_path(),
            &allow_both(slapd),
        ),
    );
    let mut ferry = Ferry::start(dir.path(), &config);
    let scim = ferry.ready("dir").await;

    let probe = find(&scim, &format!("userName eq \"{}\"", uuid::Uuid::new_v4())).await;
    assert_eq!(probe["totalResults"], 0);

    // Create: the entry appears in the directory with the mapped attributes and the
    // initial password; the id is the entryUUID.
    let (status, created) = scim.post("/Users", &entra_user("grace")).await.unwrap();
    assert_eq!(status, 201, "{created}\n{}", ferry.log());
    let id = created["id"].as_str().unwrap().to_string();
    let dn = format!("uid=grace,{ou}");
    let entry = slapd.entry(&dn).expect("the entry exists");
    assert_eq!(first(&entry, "entryUUID").as_deref(), Some(id.as_str()));
    assert_eq!(first(&entry, "cn").as_deref(), Some("Grace Hopper"));
    assert_eq!(first(&entry, "sn").as_deref(), Some("Hopper"));
    assert_eq!(first(&entry, "givenName").as_deref(), Some("Grace"));
    assert_eq!(first(&entry, "mail").as_deref(), Some("grace@navy.example"));
    assert_eq!(first(&entry, "employeeNumber").as_deref(), Some("1906"));
    assert_eq!(
        first(&entry, "departmentNumber").as_deref(),
        Some("Computing")
    );
    assert!(
        can_bind(slapd, &dn, "Initial-Pa55word!"),
        "the initial password works"
    );
    assert!(
        created.get("password").is_none(),
        "the password is never returned"
    );

    // Find, as Entra matches.
    let found = find(&scim, "userName eq \"GRACE\"").await;
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // PATCH as Entra sends it.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "hopper@navy.example"},
            {"op": "Replace", "path": "name.givenName", "value": "Amazing Grace"},
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Operations"}
        ]
    });
    let (status, body) = scim.patch(&format!("/Users/{id}"), &patch).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let entry = slapd.entry(&dn).unwrap();
    assert_eq!(
        first(&entry, "mail").as_deref(),
        Some("hopper@navy.example")
    );
    assert_eq!(first(&entry, "givenName").as_deref(), Some("Amazing Grace"));
    assert_eq!(
        first(&entry, "departmentNumber").as_deref(),
        Some("Operations")
    );

    // Disable as Entra does ("False" as a string): the account is locked and cannot
    // bind; enabling unlocks it.
    let set_active = |value: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": value}]
        })
    };
    let (status, body) = scim
        .patch(&format!("/Users/{id}"), &set_active("False"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);
    let entry = slapd.entry(&dn).unwrap();
    assert_eq!(
        first(&entry, "pwdAccountLockedTime").as_deref(),
        Some("000001010000Z")
    );
    assert!(
        !can_bind(slapd, &dn, "Initial-Pa55word!"),
        "a disabled user cannot bind"
    );
    let (status, body) = scim
        .patch(&format!("/Users/{id}"), &set_active("True"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true);
    assert!(
        can_bind(slapd, &dn, "Initial-Pa55word!"),
        "an enabled user binds again"
    );

    // Rename: a new userName moves the entry (modrdn); the SCIM id stays.
    let rename = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "userName", "value": "grace.hopper"}]
    });
    let (status, body) = scim.patch(&format!("/Users/{id}"), &rename).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert!(slapd.entry(&dn).is_none(), "the old DN is gone");
    let renamed = slapd
        .entry(&format!("uid=grace.hopper,{ou}"))
        .expect("the entry moved");
    assert_eq!(first(&renamed, "entryUUID").as_deref(), Some(id.as_str()));
    let (_, got) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(got["userName"], "grace.hopper");

    // PUT replaces: what it leaves out is cleared in the directory.
    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "grace.hopper",
        "name": {"formatted": "Grace Hopper", "familyName": "Hopper"},
    });
    let (status, body) = scim.put(&format!("/Users/{id}"), &put).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let entry = slapd.entry(&format!("uid=grace.hopper,{ou}")).unwrap();
    assert_eq!(first(&entry, "mail"), None);
    assert_eq!(first(&entry, "givenName"), None);
    assert_eq!(first(&entry, "sn").as_deref(), Some("Hopper"));

    // A duplicate is a 409.
    let (status, body) = scim
        .post("/Users", &entra_user("grace.hopper"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");

    // Hostile values land literally: in the DN, in filters, in values.
    for hostile in [
        "*)(uid=*))(|(uid=*",
        "a,b+c=\"d\"\\e#f;<g>",
        "𝔘𝔫𝔦😀 user",
        "nul\0byte",
    ] {
        let mut user = entra_user(hostile);
        user["name"]["formatted"] = json!(format!("cn {hostile}"));
        let (status, body) = scim.post("/Users", &user).await.unwrap();
        assert_eq!(status, 201, "{hostile}: {body}\n{}", ferry.log());
        let found = find(&scim, &format!("userName eq {}", Value::from(hostile))).await;
        assert_eq!(found["totalResults"], 1, "{hostile}");
        let uuid = body["id"].as_str().unwrap();
        let ldif = slapd.ldapsearch(&ou, &format!("(entryUUID={uuid})"), &["uid", "cn"]);
        assert_eq!(
            ldif_values(&ldif, "uid"),
            vec![hostile.to_string()],
            "{ldif}"
        );
        assert_eq!(
            ldif_values(&ldif, "cn"),
            vec![format!("cn {hostile}")],
            "{ldif}"
        );
    }
    assert_eq!(
        find(&scim, "userName pr").await["totalResults"],
        5,
        "no filter injection matched everything"
    );

    // Delete.
    let (status, _) = scim.delete(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 204);
    assert!(slapd.entry(&format!("uid=grace.hopper,{ou}")).is_none());
    assert_eq!(scim.get(&format!("/Users/{id}")).await.unwrap().0, 404);

    // Direct changes in the directory come back through the accesslog.
    slapd.ldapadd(&format!(
        "dn: uid=direct,{ou}\nobjectClass: inetOrgPerson\nuid: direct\ncn: Direct Add\nsn: Add\nmail: direct@example.org\n"
    ));
    slapd.ldapadd(&format!(
        "dn: uid=moved,{ou}\nobjectClass: inetOrgPerson\nuid: moved\ncn: To Move\nsn: Move\n"
    ));
    slapd.ldapadd(&format!(
        "dn: uid=doomed,{ou}\nobjectClass: inetOrgPerson\nuid: doomed\ncn: To Delete\nsn: Delete\n"
    ));
    eventually("direct adds to arrive", || async {
        (find(&scim, "userName eq \"doomed\"").await["totalResults"] == 1).then_some(())
    })
    .await;
    let moved_id = find(&scim, "userName eq \"moved\"").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    slapd.ldapmodify(&format!(
        "dn: uid=direct,{ou}\nchangetype: modify\nreplace: mail\nmail: changed@example.org\n\n\
         dn: uid=moved,{ou}\nchangetype: modrdn\nnewrdn: uid=moved2\ndeleteoldrdn: 1\n\n\
         dn: uid=doomed,{ou}\nchangetype: delete\n"
    ));
    eventually("direct modify, modrdn and delete to arrive", || async {
        let direct = find(&scim, "userName eq \"direct\"").await;
        let moved = find(&scim, "userName eq \"moved2\"").await;
        let doomed = find(&scim, "userName eq \"doomed\"").await;
        let done = direct["Resources"][0]["emails"][0]["value"] == "changed@example.org"
            && moved["Resources"][0]["id"] == moved_id.as_str()
            && doomed["totalResults"] == 0;
        done.then_some(())
    })
    .await;
    // Restart with the directory unreachable: the cache serves at once.
    ferry.stop();
    let unused = ferry_test_support::free_port();
    let unreachable = config
        .replace(
            &format!("port = {}", slapd.port()),
            &format!("port = {unused}"),
        )
        .replace("allow = [", &format!("allow = [\"127.0.0.1:{unused}\", "));
    let mut ferry = Ferry::start(dir.path(), &unreachable);
    let scim = ferry.client("dir").await;
    let (status, list) = scim
        .get(&format!(
            "/Users?filter={}",
            encode("userName eq \"direct\"")
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list["Resources"][0]["emails"][0]["value"],
        "changed@example.org"
    );
    let (status, body) = scim
        .post("/Users", &entra_user("while-down"))
        .await
        .unwrap();
    assert_eq!(status, 503, "a write needs the directory: {body}");
    ferry.stop();
    let log = ferry.log();
    assert!(
        !log.contains(slapd.admin_password()),
        "the bind password never reaches the log"
    );
    assert!(
        !log.contains("Initial-Pa55word!"),
        "user passwords never reach the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ldaps_works_and_an_unknown_ca_or_an_unlisted_port_is_refused() {
    let (slapd, ou, dir, plugins) = fixture();

    // LDAPS.
    let config = server_config(
        &plugins,
        &app(
            "secure",
            slapd,
            &ou,
            "ldaps",
            slapd.ca_pem_path(),
            &allow_both(slapd),
        ),
    );
    let mut ferry = Ferry::start(dir.path(), &config);
    let scim = ferry.ready("secure").await;
    let (status, body) = scim.post("/Users", &entra_user("ada")).await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert!(slapd.entry(&format!("uid=ada,{ou}")).is_some());
    ferry.stop();

    // A server certificate from another CA: `ferry check` fails, naming the app and TLS.
    let config = server_config(
        &plugins,
        &app(
            "untrusted",
            slapd,
            &ou,
            "ldaps",
            slapd.other_ca_pem_path(),
            &allow_both(slapd),
        ),
    );
    std::fs::write(
        dir.path().join("ferry.toml"),
        config.replace("{port}", "18998"),
    )
    .unwrap();
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok, "{out}");
    assert!(out.contains("app 'untrusted'"), "{out}");
    assert!(
        out.to_lowercase().contains("certificate")
            || out.contains("UnknownIssuer")
            || out.contains("Tls"),
        "{out}"
    );

    // A port the allow-list does not grant: a typed denial, logged with the reason.
    let only_plain = vec![format!("127.0.0.1:{}", slapd.port())];
    let config = server_config(
        &plugins,
        &app(
            "fenced",
            slapd,
            &ou,
            "ldaps",
            slapd.ca_pem_path(),
            &only_plain,
        ),
    );
    std::fs::write(
        dir.path().join("ferry.toml"),
        config.replace("{port}", "18998"),
    )
    .unwrap();
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok, "{out}");
    assert!(
        out.contains("app 'fenced'") && out.contains("allow-list"),
        "{out}"
    );
    assert!(
        out.contains(&slapd.ldaps_port().to_string()),
        "the refusal names the port: {out}"
    );
}
