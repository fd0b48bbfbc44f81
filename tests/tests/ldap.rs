//! SCIM → LDAP end to end: `ferry serve` with the generic LDAP connector, reaching a real
//! OpenLDAP only through the host's allow-listed network capability, with TLS done by
//! the host (StartTLS and LDAPS). Every step is checked with the directory's own tools;
//! direct `ldapmodify` changes come back through delta imports from the accesslog.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_e2e::lifecycle::{Inspect, entra_lifecycle};
use ferry_e2e::scim::{ENTERPRISE, encode, entra_group_lookup, find};
use ferry_e2e::{Ferry, eventually, ferry_command, plugin_folder_with, server_section};
use ferry_test_support::{TempSlapd, shared_slapd};
use serde_json::{Value, json};

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
    format!(
        r#"
[apps.{name}]
plugin = "generic-ldap"
token = {{ file = "token" }}

[apps.{name}.import]
delta-interval-seconds = 1
{tables}"#,
        tables = slapd.app_tables(name, ou, security, Some(ca), Some(allow)),
    )
}

fn server_config(plugins: &Path, apps: &str) -> String {
    server_section(plugins) + apps
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
    let plugins = plugin_folder_with(dir.path(), "generic-ldap.wasm");
    (slapd, ou, dir, plugins)
}

fn allow_both(slapd: &TempSlapd) -> Vec<String> {
    vec![
        format!("127.0.0.1:{}", slapd.port()),
        format!("127.0.0.1:{}", slapd.ldaps_port()),
    ]
}

/// The app `dir` below `ou` over StartTLS, allowed to reach both of `slapd`'s ports.
fn dir_app(slapd: &TempSlapd, ou: &str) -> String {
    app(
        "dir",
        slapd,
        ou,
        "starttls",
        slapd.ca_pem_path(),
        &allow_both(slapd),
    )
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
    let config = server_config(&plugins, &dir_app(slapd, &ou));
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

    // A new password by PATCH, with a path and in Entra's form without one: the new
    // password binds, the old one no longer does, and no response shows either.
    let mut old = "Initial-Pa55word!";
    for (new, operation) in [
        (
            "New-Pa55word!",
            json!({"op": "replace", "path": "password", "value": "New-Pa55word!"}),
        ),
        (
            "Newer-Pa55word!",
            json!({"op": "Replace", "value": {"password": "Newer-Pa55word!"}}),
        ),
    ] {
        let change = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [operation]
        });
        let (status, body) = scim.patch(&format!("/Users/{id}"), &change).await.unwrap();
        assert_eq!(status, 200, "{body}\n{}", ferry.log());
        assert!(body.get("password").is_none(), "{body}");
        assert!(!body.to_string().contains(new), "{body}");
        assert!(can_bind(slapd, &dn, new), "the new password binds");
        assert!(
            !can_bind(slapd, &dn, old),
            "the old password no longer binds"
        );
        old = new;
    }

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
    // Restart with the directory unreachable: the cache still serves (once the app has
    // bound to the schema the last run saved; before that, a read is a retryable 503).
    ferry.stop();
    let unused = ferry_test_support::free_port();
    let unreachable = config
        .replace(
            &format!("port = {}", slapd.port()),
            &format!("port = {unused}"),
        )
        .replace("allow = [", &format!("allow = [\"127.0.0.1:{unused}\", "));
    let mut ferry = Ferry::start(dir.path(), &unreachable);
    let scim = ferry.ready("dir").await;
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
    for password in ["Initial-Pa55word!", "New-Pa55word!", "Newer-Pa55word!"] {
        assert!(
            !log.contains(password),
            "user passwords never reach the log"
        );
    }
}

/// A DN template with the department in the parent: a new department moves the user
/// (one modrdn with newSuperior), the SCIM id stays, and a department without its unit
/// is refused with the DNs named and nothing changed.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_department_moves_the_user_to_its_unit() {
    let (slapd, ou, dir, plugins) = fixture();
    for unit in ["Computing", "Operations"] {
        slapd.ldapadd(&format!(
            "dn: ou={unit},{ou}\nobjectClass: organizationalUnit\nou: {unit}\n"
        ));
    }
    let app = dir_app(slapd, &ou).replace(
        "user-dn-template = \"uid={uid},{base-dn}\"",
        "user-dn-template = \"uid={uid},ou={departmentNumber},{base-dn}\"",
    );
    let mut ferry = Ferry::start(dir.path(), &server_config(&plugins, &app));
    let scim = ferry.ready("dir").await;
    let (status, created) = scim.post("/Users", &entra_user("grace")).await.unwrap();
    assert_eq!(status, 201, "{created}\n{}", ferry.log());
    let id = created["id"].as_str().unwrap().to_string();
    let computing = format!("uid=grace,ou=Computing,{ou}");
    assert!(slapd.entry(&computing).is_some(), "{}", ferry.log());

    let department = |value: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": format!("{ENTERPRISE}:department"),
                            "value": value}]
        })
    };
    let (status, body) = scim
        .patch(&format!("/Users/{id}"), &department("Operations"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], id.as_str());
    let operations = format!("uid=grace,ou=Operations,{ou}");
    assert!(slapd.entry(&computing).is_none(), "the old DN is gone");
    let moved = slapd.entry(&operations).expect("the entry moved");
    assert_eq!(first(&moved, "entryUUID").as_deref(), Some(id.as_str()));
    assert_eq!(
        first(&moved, "departmentNumber").as_deref(),
        Some("Operations")
    );

    let (status, body) = scim
        .patch(&format!("/Users/{id}"), &department("Nowhere"))
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("does not exist") && body.to_string().contains("Nowhere"),
        "{body}"
    );
    let kept = slapd.entry(&operations).expect("nothing moved");
    assert_eq!(
        first(&kept, "departmentNumber").as_deref(),
        Some("Operations")
    );
    let (_, got) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(got[ENTERPRISE]["department"], "Operations", "{got}");
    ferry.stop();
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

/// The values of `attribute` of the entry at `dn`, lower-cased and sorted; none when the
/// entry has none (or is gone).
fn values_at(slapd: &TempSlapd, dn: &str, attribute: &str) -> Vec<String> {
    let mut values: Vec<String> = slapd
        .entry(dn)
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.eq_ignore_ascii_case(attribute))
        .flat_map(|(_, values)| values)
        .map(|value| value.to_lowercase())
        .collect();
    values.sort();
    values
}

/// DNs as `values_at` gives them.
fn lowered(dns: &[&str]) -> Vec<String> {
    let mut dns: Vec<String> = dns.iter().map(|dn| dn.to_lowercase()).collect();
    dns.sort();
    dns
}

/// SCIM Groups and the enterprise manager on OpenLDAP: groupOfNames entries whose
/// `member` values are the users' DNs while SCIM shows the users' ids, every membership
/// shape Entra ID sends landing as single-value modifies, and a member added directly in
/// the directory coming back through the accesslog.
#[tokio::test(flavor = "multi_thread")]
async fn scim_groups_and_managers_land_in_the_directory() {
    let (slapd, ou, dir, plugins) = fixture();
    let placeholder = format!("cn=nobody,{ou}");
    let settings = format!("groups = true\ngroup-placeholder-member = \"{placeholder}\"\n");
    let app = dir_app(slapd, &ou) + &settings;
    let mut ferry = Ferry::start(dir.path(), &server_config(&plugins, &app));
    let scim = ferry.ready("dir").await;
    let patch = |operations: Value| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": operations})
    };

    let mut users = Vec::new();
    for name in ["ann", "ben", "cat"] {
        let (status, body) = scim.post("/Users", &entra_user(name)).await.unwrap();
        assert_eq!(status, 201, "{body}\n{}", ferry.log());
        users.push((
            body["id"].as_str().unwrap().to_string(),
            format!("uid={name},{ou}"),
        ));
    }
    let [(ann, ann_dn), (ben, ben_dn), (cat, cat_dn)] = &users[..] else {
        unreachable!()
    };

    // Create with a member: a groupOfNames holding the user's DN; SCIM shows the id.
    let group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let (status, created) = scim
        .post(
            "/Groups",
            &json!({"schemas": [group], "displayName": "Engineers", "members": [{"value": ann}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}\n{}", ferry.log());
    let gid = created["id"].as_str().unwrap().to_string();
    let group_dn = format!("cn=Engineers,{ou}");
    assert_eq!(created["displayName"], "Engineers");
    assert_eq!(created["members"][0]["value"], ann.as_str());
    let entry = slapd.entry(&group_dn).expect("the group exists");
    assert_eq!(first(&entry, "entryUUID").as_deref(), Some(gid.as_str()));
    assert_eq!(values_at(slapd, &group_dn, "member"), lowered(&[ann_dn]));

    // Entra creates groups empty: the placeholder keeps the groupOfNames valid, unseen.
    let (status, empty) = scim
        .post(
            "/Groups",
            &json!({"schemas": [group], "displayName": "Empty"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{empty}");
    assert_eq!(
        values_at(slapd, &format!("cn=Empty,{ou}"), "member"),
        lowered(&[&placeholder])
    );
    assert!(
        empty["members"].as_array().is_none_or(Vec::is_empty),
        "{empty}"
    );

    // Entra's membership shapes, each checked in the directory.
    let members_patch = |operations: Value| {
        let scim = &scim;
        let body = patch(operations);
        let path = format!("/Groups/{gid}");
        async move {
            let (status, body) = scim.patch(&path, &body).await.unwrap();
            assert_eq!(status, 204, "{body}");
        }
    };
    members_patch(json!([{"op": "Add", "path": "members",
        "value": [{"$ref": null, "value": ben}, {"$ref": null, "value": cat}]}]))
    .await;
    assert_eq!(
        values_at(slapd, &group_dn, "member"),
        lowered(&[ann_dn, ben_dn, cat_dn])
    );
    members_patch(json!([{"op": "Remove", "path": "members",
        "value": [{"$ref": null, "value": ann}]}]))
    .await;
    assert_eq!(
        values_at(slapd, &group_dn, "member"),
        lowered(&[ben_dn, cat_dn])
    );
    members_patch(json!([{"op": "remove", "path": format!("members[value eq \"{ben}\"]")}])).await;
    assert_eq!(values_at(slapd, &group_dn, "member"), lowered(&[cat_dn]));
    // Adding a member twice is harmless.
    members_patch(json!([{"op": "Add", "path": "members", "value": [{"value": cat}]}])).await;
    assert_eq!(values_at(slapd, &group_dn, "member"), lowered(&[cat_dn]));

    // Reads: the group with its members, the lookup Entra sends, the user's groups.
    let (status, got) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["members"].as_array().unwrap().len(), 1, "{got}");
    assert_eq!(got["members"][0]["value"], cat.as_str());
    let listed = entra_group_lookup(&scim, "Engineers").await;
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["Resources"][0]["id"], gid.as_str());
    let (_, user) = scim.get(&format!("/Users/{cat}")).await.unwrap();
    assert_eq!(user["groups"][0]["value"], gid.as_str(), "{user}");
    assert_eq!(user["groups"][0]["display"], "Engineers");

    // A new displayName renames the entry; the id and the members stay.
    members_patch(json!([{"op": "Replace", "path": "displayName", "value": "Platform"}])).await;
    let renamed_dn = format!("cn=Platform,{ou}");
    assert!(slapd.entry(&group_dn).is_none(), "the old DN is gone");
    assert_eq!(
        first(&slapd.entry(&renamed_dn).unwrap(), "entryUUID").as_deref(),
        Some(gid.as_str())
    );
    assert_eq!(values_at(slapd, &renamed_dn, "member"), lowered(&[cat_dn]));
    let (_, got) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(got["displayName"], "Platform");
    assert_eq!(got["members"][0]["value"], cat.as_str(), "{got}");

    // A member added directly in the directory comes back through the accesslog.
    slapd.ldapmodify(&format!(
        "dn: {renamed_dn}\nchangetype: modify\nadd: member\nmember: {ann_dn}\n"
    ));
    eventually("the direct member to arrive", || async {
        let (_, got) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
        (got["members"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;

    // The enterprise manager: set (a bare id, as Entra sends it), changed, removed.
    let manager = format!("{ENTERPRISE}:manager");
    let user_patch = |operations: Value| {
        let scim = &scim;
        let body = patch(operations);
        let path = format!("/Users/{ann}");
        async move {
            let (status, body) = scim.patch(&path, &body).await.unwrap();
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let body = user_patch(json!([{"op": "Add", "path": manager, "value": ben}])).await;
    assert_eq!(body[ENTERPRISE]["manager"]["value"], ben.as_str(), "{body}");
    assert_eq!(values_at(slapd, ann_dn, "manager"), lowered(&[ben_dn]));
    let body =
        user_patch(json!([{"op": "Replace", "path": manager, "value": {"value": cat}}])).await;
    assert_eq!(body[ENTERPRISE]["manager"]["value"], cat.as_str(), "{body}");
    assert_eq!(values_at(slapd, ann_dn, "manager"), lowered(&[cat_dn]));
    let body = user_patch(json!([{"op": "Remove", "path": manager}])).await;
    assert!(
        body.get(ENTERPRISE)
            .is_none_or(|extension| extension.get("manager").is_none()),
        "{body}"
    );
    assert!(values_at(slapd, ann_dn, "manager").is_empty());

    // Delete.
    let (status, _) = scim.delete(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(status, 204);
    assert!(slapd.entry(&renamed_dn).is_none());
    assert_eq!(scim.get(&format!("/Groups/{gid}")).await.unwrap().0, 404);
    let (_, user) = scim.get(&format!("/Users/{cat}")).await.unwrap();
    assert!(user.get("groups").is_none(), "{user}");
    ferry.stop();
}

/// The directory below one OU, read as the lifecycle checks it: users are
/// `uid=NAME,OU`, groups `cn=NAME,OU`.
struct Directory<'d> {
    slapd: &'d TempSlapd,
    ou: &'d str,
}

impl Directory<'_> {
    fn user_dn(&self, user_name: &str) -> String {
        format!("uid={user_name},{}", self.ou)
    }

    /// The value of a DN's first RDN (`ann` of `uid=ann,ou=…`), lower-cased.
    fn name_of(dn: &str) -> String {
        let rdn = dn.split(',').next().unwrap_or_default();
        rdn.split_once('=').map_or(rdn, |(_, v)| v).to_lowercase()
    }
}

impl Inspect for Directory<'_> {
    async fn has_user(&self, user_name: &str) -> bool {
        self.slapd.entry(&self.user_dn(user_name)).is_some()
    }

    async fn emails(&self, user_name: &str) -> Vec<String> {
        values_at(self.slapd, &self.user_dn(user_name), "mail")
    }

    async fn manager(&self, user_name: &str) -> Option<String> {
        values_at(self.slapd, &self.user_dn(user_name), "manager")
            .first()
            .map(|dn| Self::name_of(dn))
    }

    async fn password_is(&self, user_name: &str, password: &str) -> bool {
        can_bind(self.slapd, &self.user_dn(user_name), password)
    }

    /// Members that are entries (not the placeholder an empty groupOfNames holds).
    async fn members(&self, group: &str) -> Vec<String> {
        let dn = format!("cn={group},{}", self.ou);
        let mut names: Vec<String> = values_at(self.slapd, &dn, "member")
            .iter()
            .filter(|member| self.slapd.entry(member).is_some())
            .map(|member| Self::name_of(member))
            .collect();
        names.sort();
        names
    }

    fn nests_groups(&self) -> bool {
        true
    }
}

/// The lifecycle of [`ferry_e2e::lifecycle`] on OpenLDAP with nested groups: every
/// step checked in the entries (and by binds); renames and deletes carried into groups
/// and managers by the directory's referential integrity.
#[tokio::test(flavor = "multi_thread")]
async fn entra_lifecycle_on_ldap() {
    let (slapd, ou, dir, plugins) = fixture();
    let app = dir_app(slapd, &ou)
        + &format!(
            "groups = true\nnested-groups = true\ngroup-placeholder-member = \"cn=nobody,{ou}\"\n\
             [apps.dir.users.attributes]\nemails = \"mail\"\n"
        );
    let mut ferry = Ferry::start(dir.path(), &server_config(&plugins, &app));
    let scim = ferry.ready("dir").await;
    entra_lifecycle(&scim, &Directory { slapd, ou: &ou }).await;
    assert!(
        !ferry.log().contains("Pa55"),
        "passwords never reach the log"
    );
    ferry.stop();
}
