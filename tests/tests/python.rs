//! The Python connectors, built with componentize-py by `cargo xtask plugins`, in the real
//! `ferry` binary over HTTPS: the JSON-file connector (`plugins/examples/python-json`)
//! through a whole provisioning sequence, every step checked in the file on disk; edits
//! made beside Ferry seen by delta imports; and the SDK's template (`sdk/python/template`)
//! loaded, inspected and serving.

use std::path::Path;

use ferry_e2e::scim::{encode, entra_user, find, patch_op};
use ferry_e2e::{
    Ferry, ScimClient, TOKEN, eventually, ferry_command, plugin_folder_with, server_section,
};
use serde_json::{Value, json};

/// The target extension, where connector attributes without a SCIM home (`aliases`) live.
const TARGET: &str = "urn:ietf:params:scim:schemas:extension:ferry:2.0:User";

/// A password the log, the responses and the file must never show.
const PASSWORD: &str = "Never-In-The-Log-7731";

/// A configuration with one app, `people`, on the Python JSON connector; `files` is its
/// `[apps.people.files]` table (empty: no folder granted).
fn json_config(plugins: &Path, files: &str) -> String {
    format!(
        r#"{server}
[apps.people]
plugin = "python-json"
token = {{ file = "token" }}

[apps.people.import]
delta-interval-seconds = 1
page-size = 2
{files}"#,
        server = server_section(plugins),
    )
}

/// The users in the granted folder's users file, by id.
fn users_on_disk(folder: &Path) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(folder.join("users.json")).expect("users.json exists");
    let document: Value = serde_json::from_str(&text).expect("users.json is whole JSON");
    document["users"]
        .as_array()
        .expect("a users list")
        .iter()
        .map(|user| (user["id"].as_str().unwrap().to_string(), user.clone()))
        .collect()
}

/// The journal's lines.
fn journal(folder: &Path) -> Vec<Value> {
    std::fs::read_to_string(folder.join("users.journal"))
        .expect("users.journal exists")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each journal line is JSON"))
        .collect()
}

/// `ferry check` on the configuration in `dir`: (success, output).
fn check(dir: &Path, config: &str) -> (bool, String) {
    std::fs::write(dir.join("ferry.toml"), config.replace("{port}", "18998")).unwrap();
    ferry_command(&["check", "--config", "ferry.toml"], dir)
}

/// Edits the files the way another writer must: holding the connector's lock, replacing
/// the users file whole, then appending to the journal.
fn edit_beside_ferry(folder: &Path, edit: impl FnOnce(&mut Vec<Value>), journal_lines: &[Value]) {
    let lock = folder.join(".users.json.lock");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .expect("the lock is free");
    let mut users: Vec<Value> = users_on_disk(folder).into_values().collect();
    edit(&mut users);
    let temporary = folder.join(".users.json.outside.tmp");
    std::fs::write(&temporary, json!({ "users": users }).to_string()).unwrap();
    std::fs::rename(&temporary, folder.join("users.json")).unwrap();
    let mut text = std::fs::read_to_string(folder.join("users.journal")).unwrap();
    for line in journal_lines {
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(folder.join("users.journal"), text).unwrap();
    std::fs::remove_file(lock).unwrap();
}

async fn get_user(scim: &ScimClient, id: &str) -> (u16, Value) {
    scim.get(&format!("/Users/{id}")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_json_connector_provisions_into_its_file_and_sees_outside_edits() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let plugins = plugin_folder_with(dir, "python-json.wasm");
    let folder = dir.join("granted");
    std::fs::create_dir(&folder).unwrap();
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    let (ok, out) = ferry_command(&["cert", "--out", "tls"], dir);
    assert!(ok, "{out}");

    // test-connection says what is wrong: no folder granted, or one granted read-only.
    let (ok, out) = check(dir, &json_config(&plugins, ""));
    assert!(!ok, "{out}");
    assert!(
        out.contains("app 'people'") && out.contains("[apps.NAME.files]"),
        "{out}"
    );
    let read_only = "[apps.people.files]\ndir = \"granted\"\nread-only = true\n";
    let (ok, out) = check(dir, &json_config(&plugins, read_only));
    assert!(!ok, "{out}");
    assert!(out.contains("not writable"), "{out}");
    let granted = "[apps.people.files]\ndir = \"granted\"\n";
    let (ok, out) = check(dir, &json_config(&plugins, granted));
    assert!(ok, "{out}");
    assert!(out.contains("app 'people': ok"), "{out}");
    assert!(
        !folder.join("users.json").exists(),
        "checking writes no users file"
    );

    let mut ferry = Ferry::start(dir, &json_config(&plugins, granted));
    let scim = ferry.ready("people").await;
    let (status, list) = scim.get("/Users").await.unwrap();
    assert_eq!((status, &list["totalResults"]), (200, &json!(0)), "{list}");

    // Create, with a password and a multi-valued attribute of the target's own.
    let mut ada = entra_user("ada@example.org", "e-1");
    ada["password"] = json!(PASSWORD);
    ada[TARGET] = json!({"aliases": ["lovelace@example.org"]});
    let (status, created) = scim.post("/Users", &ada).await.unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_string();
    assert!(created.get("password").is_none(), "{created}");
    let on_disk = &users_on_disk(&folder)[&id];
    assert_eq!(on_disk["userName"], "ada@example.org");
    assert_eq!(on_disk["externalId"], "e-1");
    assert_eq!(on_disk["active"], true);
    assert_eq!(on_disk["givenName"], "Grace");
    assert_eq!(on_disk["familyName"], "Hopper");
    assert_eq!(on_disk["email"], "grace@navy.example");
    assert_eq!(on_disk["department"], "Computing");
    assert_eq!(on_disk["aliases"], json!(["lovelace@example.org"]));
    assert!(on_disk.get("password").is_none(), "{on_disk}");
    let hash = on_disk["passwordHash"].as_str().expect("a password hash");
    assert!(hash.starts_with("pbkdf2-sha256$100000$"), "{hash}");
    let text = std::fs::read_to_string(folder.join("users.json")).unwrap();
    assert!(!text.contains(PASSWORD), "the password is never stored");

    // Read back, by id and by filter.
    let (status, got) = get_user(&scim, &id).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["userName"], "ada@example.org");
    assert_eq!(got[TARGET]["aliases"], json!(["lovelace@example.org"]));
    let found = find(&scim, "userName eq \"ADA@example.org\"").await;
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // A second user with the same userName (in another case) is a 409.
    let (status, body) = scim
        .post("/Users", &entra_user("Ada@Example.org", "e-2"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["scimType"], "uniqueness");
    assert_eq!(users_on_disk(&folder).len(), 1);

    // PATCH as Entra sends it, with values added to the multi-valued attribute.
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "displayName", "value": "Countess Lovelace"},
                {"op": "Add", "path": format!("{TARGET}:aliases"), "value": ["ada@analytical.example", "al@example.org"]}
            ])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{patched}");
    let on_disk = &users_on_disk(&folder)[&id];
    assert_eq!(on_disk["active"], false);
    assert_eq!(on_disk["displayName"], "Countess Lovelace");
    assert_eq!(
        on_disk["aliases"],
        json!([
            "lovelace@example.org",
            "ada@analytical.example",
            "al@example.org"
        ])
    );
    assert_eq!(on_disk["familyName"], "Hopper", "untouched attributes stay");

    // Values removed from it.
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([
                {"op": "remove", "path": format!("{TARGET}:aliases"), "value": ["lovelace@example.org"]}
            ])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched[TARGET]["aliases"],
        json!(["ada@analytical.example", "al@example.org"])
    );
    let on_disk = &users_on_disk(&folder)[&id];
    assert_eq!(
        on_disk["aliases"],
        json!(["ada@analytical.example", "al@example.org"])
    );

    // The connector refuses a user without a userName; the file stays as it was.
    let before = std::fs::read_to_string(folder.join("users.json")).unwrap();
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "remove", "path": "userName"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        std::fs::read_to_string(folder.join("users.json")).unwrap(),
        before
    );

    // PUT replaces: what it leaves out is cleared, except the attributes of a target
    // extension it does not state; the password is not part of it.
    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada@example.org",
        "externalId": "e-1",
        "active": true,
        "name": {"givenName": "Ada", "familyName": "Lovelace"}
    });
    let (status, replaced) = scim.put(&format!("/Users/{id}"), &put).await.unwrap();
    assert_eq!(status, 200, "{replaced}");
    let on_disk = &users_on_disk(&folder)[&id];
    assert_eq!(on_disk["active"], true);
    assert_eq!(on_disk["givenName"], "Ada");
    assert_eq!(on_disk["familyName"], "Lovelace");
    for cleared in ["displayName", "email", "department"] {
        assert!(on_disk.get(cleared).is_none(), "{cleared}: {on_disk}");
    }
    assert_eq!(
        on_disk["aliases"],
        json!(["ada@analytical.example", "al@example.org"])
    );
    assert_eq!(on_disk["passwordHash"].as_str(), Some(hash));

    // Removing the attribute clears every value.
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "remove", "path": format!("{TARGET}:aliases")}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let on_disk = &users_on_disk(&folder)[&id];
    assert!(on_disk.get("aliases").is_none(), "{on_disk}");

    // A new userName renames the user; the id stays.
    let (status, renamed) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(
                json!([{"op": "replace", "path": "userName", "value": "ada.lovelace@example.org"}]),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["id"], id.as_str());
    let users = users_on_disk(&folder);
    assert_eq!(users[&id]["userName"], "ada.lovelace@example.org");
    assert_eq!(users.len(), 1);
    let found = find(&scim, "userName eq \"ada.lovelace@example.org\"").await;
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // Delete: 204, gone from the file, journaled as a deletion, 404 after.
    let (status, bob) = scim
        .post("/Users", &entra_user("bob@example.org", "e-3"))
        .await
        .unwrap();
    assert_eq!(status, 201, "{bob}");
    let bob = bob["id"].as_str().unwrap().to_string();
    assert!(users_on_disk(&folder).contains_key(&bob));
    let (status, _) = scim.delete(&format!("/Users/{bob}")).await.unwrap();
    assert_eq!(status, 204);
    assert!(!users_on_disk(&folder).contains_key(&bob));
    let (status, _) = get_user(&scim, &bob).await;
    assert_eq!(status, 404);
    let (status, _) = scim.delete(&format!("/Users/{bob}")).await.unwrap();
    assert_eq!(status, 404);

    // The journal: one line per user (the latest change), sequence numbers increasing.
    let lines = journal(&folder);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0]["seq"].as_u64() < lines[1]["seq"].as_u64(),
        "{lines:?}"
    );
    assert_eq!(
        lines[0],
        json!({"seq": lines[0]["seq"], "id": id, "op": "upsert"})
    );
    assert_eq!(
        lines[1],
        json!({"seq": lines[1]["seq"], "id": bob, "op": "delete"})
    );
    let last = lines[1]["seq"].as_u64().unwrap();

    // Another writer adds a user and deletes Ada, and journals both: delta imports bring
    // them to SCIM reads.
    edit_beside_ferry(
        &folder,
        |users| {
            users.retain(|user| user["id"] != id.as_str());
            users.push(json!({"id": "outside-1", "userName": "eve@example.org", "active": true, "aliases": ["e@x.org", "eve@x.org"]}));
        },
        &[
            json!({"seq": last + 1, "id": "outside-1", "op": "upsert"}),
            json!({"seq": last + 2, "id": id, "op": "delete"}),
        ],
    );
    let eve = eventually("the delta import to bring the outside edits", || async {
        let eve = find(&scim, "userName eq \"eve@example.org\"").await;
        let ada = find(&scim, "userName eq \"ada.lovelace@example.org\"").await;
        (eve["totalResults"] == 1 && ada["totalResults"] == 0).then_some(eve)
    })
    .await;
    assert_eq!(eve["Resources"][0]["id"], "outside-1");
    assert_eq!(
        eve["Resources"][0][TARGET]["aliases"],
        json!(["e@x.org", "eve@x.org"])
    );
    let (status, _) = get_user(&scim, &id).await;
    assert_eq!(status, 404, "the deletion reached the cache");
    let filter = encode(&format!("{TARGET}:aliases eq \"eve@x.org\""));
    let (status, by_alias) = scim.get(&format!("/Users?filter={filter}")).await.unwrap();
    assert_eq!(status, 200, "{by_alias}");
    assert_eq!(by_alias["Resources"][0]["id"], "outside-1");

    // A user written beside Ferry without a journal line is found by id all the same:
    // the host reads through to the connector (`read`, contract 0.2.0).
    edit_beside_ferry(
        &folder,
        |users| users.push(json!({"id": "outside-2", "userName": "mallory@example.org"})),
        &[],
    );
    let (status, mallory) = get_user(&scim, "outside-2").await;
    assert_eq!(status, 200, "{mallory}");
    assert_eq!(mallory["userName"], "mallory@example.org");

    // The user from outside takes changes like any other.
    let (status, body) = scim
        .patch(
            "/Users/outside-1",
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "Eve"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(users_on_disk(&folder)["outside-1"]["displayName"], "Eve");

    // A full import from scratch pages through the file (two users a page).
    edit_beside_ferry(
        &folder,
        |users| users.push(json!({"id": "outside-3", "userName": "trent@example.org"})),
        &[],
    );
    ferry.stop();
    std::fs::remove_dir_all(dir.join("data/apps")).expect("the apps' caches");
    let mut ferry = Ferry::start(dir, &json_config(&plugins, granted));
    let scim = ferry.ready("people").await;
    let (status, all) = scim.get("/Users?count=100").await.unwrap();
    assert_eq!(status, 200, "{all}");
    let mut served: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap())
        .collect();
    served.sort();
    assert_eq!(served, ["outside-1", "outside-2", "outside-3"]);

    ferry.stop();
    let log = ferry.log();
    assert!(
        !log.contains(PASSWORD),
        "the password never reaches the log"
    );
    assert!(!log.contains(TOKEN), "the token never reaches the log");
    let leftovers: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no lock or temporary file is left: {leftovers:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_template_loads_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let plugins = plugin_folder_with(dir, "python-template.wasm");
    let wasm = plugins.join("python-template.wasm");
    let (ok, shown) = ferry_command(&["plugins", "inspect", wasm.to_str().unwrap()], dir);
    assert!(ok, "{shown}");
    assert!(shown.contains("name:        python-template"), "{shown}");
    assert!(shown.contains("contract:    ferry:connector@"), "{shown}");
    assert!(shown.contains("id-prefix"), "{shown}");

    // One instance: the template keeps its users in the instance's memory.
    let config = format!(
        r#"{server}
[apps.memory]
plugin = "python-template"
token = {{ file = "token" }}

[apps.memory.settings]
id-prefix = "py-"

[apps.memory.limits]
instances = 1
"#,
        server = server_section(&plugins),
    );
    let mut ferry = Ferry::start(dir, &config);
    let scim = ferry.ready("memory").await;
    let (status, created) = scim
        .post("/Users", &entra_user("ada@example.org", "t-1"))
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "py-1");
    assert_eq!(created["displayName"], "Grace Hopper");
    let (status, body) = scim
        .post("/Users", &entra_user("ada@example.org", "t-2"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");
    let (status, patched) = scim
        .patch(
            "/Users/py-1",
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "Ada"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["displayName"], "Ada");
    let (status, _) = scim.delete("/Users/py-1").await.unwrap();
    assert_eq!(status, 204);
    let (status, _) = get_user(&scim, "py-1").await;
    assert_eq!(status, 404);
}
