//! Groups, references and passwords on the generic SQL connector, on a real SQLite file
//! and a real PostgreSQL database: a group table plus a membership table whose rows link
//! groups to users, every shape of membership change Entra ID and Okta send checked in
//! the target's own rows; a group of 50,000 members gaining and losing members one
//! request at a time; a manager foreign key and an operator's password statement; and
//! the Entra-like lifecycle of [`ferry_e2e::lifecycle`] on people keyed by login name,
//! with groups nested in groups; and users whose key is two columns (tenant, login).

use std::time::Instant;

use ferry_e2e::lifecycle::{Inspect, entra_lifecycle};
use ferry_e2e::scim::{encode, entra_group_lookup, entra_user, find, patch_op};
use ferry_e2e::targets::{Target, config, sql_app};
use ferry_e2e::{Ferry, ScimClient, eventually, ferry_command, sql_plugin_folder};
use serde_json::{Value, json};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The groups and membership tables beside the users table.
fn groups_ddl(target: &Target) -> &'static str {
    if target.is_sqlite() {
        "CREATE TABLE groups (id INTEGER PRIMARY KEY AUTOINCREMENT, display_name TEXT NOT NULL, \
             external_id TEXT);
         CREATE TABLE group_members (group_id INTEGER NOT NULL REFERENCES groups (id), \
             user_id INTEGER NOT NULL REFERENCES users (id), PRIMARY KEY (group_id, user_id));"
    } else {
        "CREATE TABLE groups (id BIGSERIAL PRIMARY KEY, display_name TEXT NOT NULL, \
             external_id TEXT);
         CREATE TABLE group_members (group_id BIGINT NOT NULL REFERENCES groups (id), \
             user_id BIGINT NOT NULL REFERENCES users (id), PRIMARY KEY (group_id, user_id));"
    }
}

/// The group object type in the app's settings.
const GROUP_TYPE: &str = r#"
[[apps.hr.settings.object-types]]
name = "group"
table = "groups"
anchor = "id"
[[apps.hr.settings.object-types.multi-valued]]
attribute = "members"
table = "group_members"
key = "group_id"
value = "user_id"
reference = "user"
"#;

async fn start(target: &Target, dir: &std::path::Path) -> (Ferry, ScimClient) {
    target.execute(groups_ddl(target)).await;
    let plugins = sql_plugin_folder(dir);
    let mut ferry = Ferry::start(dir, &config(&plugins, target, GROUP_TYPE));
    let scim = ferry.ready("hr").await;
    (ferry, scim)
}

/// The user ids in the membership table for group `id`, sorted.
async fn member_rows(target: &Target, id: &str) -> Vec<String> {
    let mut rows = target
        .texts(&format!(
            "SELECT CAST(user_id AS TEXT) FROM group_members WHERE group_id = {id}"
        ))
        .await;
    rows.sort();
    rows
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

async fn create_user(scim: &ScimClient, name: &str) -> String {
    let (status, body) = scim
        .post("/Users", &entra_user(name, &format!("x-{name}")))
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn patched(scim: &ScimClient, id: &str, operations: Value) {
    let (status, body) = scim
        .patch(&format!("/Groups/{id}"), &patch_op(operations))
        .await
        .unwrap();
    assert_eq!(status, 204, "{body}");
}

async fn group_sequence(target: Target, dir: &std::path::Path) {
    let (mut ferry, scim) = start(&target, dir).await;
    let (ok, checked) = ferry_command(&["check", "--config", "ferry.toml"], dir);
    assert!(ok, "{checked}");
    assert!(
        checked.contains("SCIM Groups ↔ 'group' (members in 'members')"),
        "{checked}"
    );
    let (status, types) = scim.get("/ResourceTypes").await.unwrap();
    assert_eq!(status, 200);
    assert!(types.to_string().contains("\"Group\""), "{types}");
    let u1 = create_user(&scim, "u1@example.org").await;
    let u2 = create_user(&scim, "u2@example.org").await;
    let u3 = create_user(&scim, "u3@example.org").await;

    // Create with one member.
    let (status, created) = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "Engineers", "externalId": "e-1",
                    "members": [{"value": u1}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    let gid = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["displayName"], "Engineers");
    assert_eq!(created["members"][0]["value"], u1.as_str());
    assert_eq!(
        target
            .texts(&format!("SELECT display_name FROM groups WHERE id = {gid}"))
            .await,
        ["Engineers"]
    );
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u1]));

    // The lookup Entra sends, without members.
    let listed = entra_group_lookup(&scim, "Engineers").await;
    assert_eq!(listed["totalResults"], 1);
    assert!(listed["Resources"][0].get("members").is_none(), "{listed}");

    // Every membership shape.
    patched(
        &scim,
        &gid,
        json!([{"op": "Add", "path": "members",
                                 "value": [{"value": u2}, {"value": u3}]}]),
    )
    .await;
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u1, &u2, &u3]));
    patched(
        &scim,
        &gid,
        json!([{"op": "Remove", "path": "members",
                                 "value": [{"value": u1}]}]),
    )
    .await;
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u2, &u3]));
    patched(
        &scim,
        &gid,
        json!([{"op": "remove",
                                 "path": format!("members[value eq \"{u2}\"]")}]),
    )
    .await;
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u3]));
    patched(
        &scim,
        &gid,
        json!([{"op": "Replace", "path": "displayName",
                                 "value": "Platform Engineers"}]),
    )
    .await;
    assert_eq!(
        target
            .texts(&format!("SELECT display_name FROM groups WHERE id = {gid}"))
            .await,
        ["Platform Engineers"]
    );
    // Adding a member twice is harmless.
    patched(
        &scim,
        &gid,
        json!([{"op": "Add", "path": "members", "value": [{"value": u3}]}]),
    )
    .await;
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u3]));

    // Reads: the group with its members, the user with its groups, groups by member.
    let (status, got) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["displayName"], "Platform Engineers");
    assert_eq!(
        got["members"],
        json!([{"value": u3, "type": "User",
        "$ref": format!("{}/Users/{u3}", scim.base)}])
    );
    let (_, user) = scim.get(&format!("/Users/{u3}")).await.unwrap();
    assert_eq!(user["groups"][0]["value"], gid.as_str(), "{user}");
    assert_eq!(user["groups"][0]["display"], "Platform Engineers");
    let by_member = find_groups(&scim, &format!("members[value eq \"{u3}\"]")).await;
    assert_eq!(by_member["totalResults"], 1);
    assert_eq!(by_member["Resources"][0]["id"], gid.as_str());
    assert_eq!(
        find_groups(&scim, &format!("members[value eq \"{u1}\"]")).await["totalResults"],
        0
    );

    // A member that is not provisioned is an error the IdP retries, and changes nothing.
    let (status, body) = scim
        .patch(
            &format!("/Groups/{gid}"),
            &patch_op(json!([{"op": "Add", "path": "members", "value": [{"value": "999999"}]}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("999999"),
        "{body}"
    );
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u3]));

    // A second group of the same name is a conflict.
    let (status, body) = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "Platform Engineers"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");

    // Replace the whole list, then delete.
    patched(
        &scim,
        &gid,
        json!([{"op": "replace", "path": "members",
                                 "value": [{"value": u1}, {"value": u2}]}]),
    )
    .await;
    assert_eq!(member_rows(&target, &gid).await, sorted(&[&u1, &u2]));
    let (_, got) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(got["members"].as_array().unwrap().len(), 2, "{got}");
    let (status, _) = scim.delete(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(status, 204);
    assert!(
        target
            .texts(&format!(
                "SELECT CAST(id AS TEXT) FROM groups WHERE id = {gid}"
            ))
            .await
            .is_empty()
    );
    assert!(member_rows(&target, &gid).await.is_empty());
    let (status, _) = scim.get(&format!("/Groups/{gid}")).await.unwrap();
    assert_eq!(status, 404);
    let (_, user) = scim.get(&format!("/Users/{u1}")).await.unwrap();
    assert!(user.get("groups").is_none(), "{user}");
    ferry.stop();
}

async fn find_groups(scim: &ScimClient, filter: &str) -> Value {
    let (status, body) = scim
        .get(&format!("/Groups?filter={}", encode(filter)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

ferry_e2e::on_sqlite_and_postgres!(group_sequence => groups_on_sqlite, groups_on_postgres);

/// How many members the big group has.
const BIG: usize = 50_000;

/// A group of 50,000 members gains and loses members one request at a time, each
/// request touching only those members; the same requests on a group of ten are the
/// reference. The times are printed for the record, not asserted.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_of_fifty_thousand_changes_member_by_member() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::postgres().await;
    target.execute(groups_ddl(&target)).await;
    target
        .execute(&format!(
            "INSERT INTO users (user_name) SELECT 'member' || n || '@example.org' \
               FROM generate_series(1, {extra}) AS n;
             INSERT INTO groups (display_name) VALUES ('Everyone'), ('Few');
             INSERT INTO group_members (group_id, user_id)
               SELECT g.id, u.id FROM groups g, users u
               WHERE g.display_name = 'Everyone' AND u.id <= {BIG};
             INSERT INTO group_members (group_id, user_id)
               SELECT g.id, u.id FROM groups g, users u
               WHERE g.display_name = 'Few' AND u.id <= 10;",
            extra = BIG + 20
        ))
        .await;
    let plugins = sql_plugin_folder(dir.path());
    let started = Instant::now();
    let mut ferry = Ferry::start(dir.path(), &config(&plugins, &target, GROUP_TYPE));
    let scim = ferry.ready("hr").await;
    eprintln!(
        "imported {} users and a group of {BIG} in {:.1} s",
        BIG + 20,
        started.elapsed().as_secs_f64()
    );
    let id_of = |name: &'static str| {
        let target = &target;
        async move {
            target
                .texts(&format!(
                    "SELECT CAST(id AS TEXT) FROM groups WHERE display_name = '{name}'"
                ))
                .await
                .remove(0)
        }
    };
    let (everyone, few) = (id_of("Everyone").await, id_of("Few").await);
    let newcomers: Vec<String> = ((BIG + 1)..=(BIG + 20)).map(|n| n.to_string()).collect();

    let mut timings = Vec::new();
    for (group, size) in [(&few, 10usize), (&everyone, BIG)] {
        let started = Instant::now();
        for newcomer in &newcomers {
            patched(
                &scim,
                group,
                json!([{"op": "Add", "path": "members",
                                          "value": [{"value": newcomer}]}]),
            )
            .await;
        }
        for newcomer in &newcomers {
            patched(
                &scim,
                group,
                json!([{"op": "remove",
                                          "path": format!("members[value eq \"{newcomer}\"]")}]),
            )
            .await;
        }
        let per_request = started.elapsed().as_secs_f64() * 1000.0 / 40.0;
        timings.push(per_request);
        eprintln!("group of {size}: 40 membership PATCHes, {per_request:.1} ms each");
        let rows = target
            .texts(&format!(
                "SELECT CAST(count(*) AS TEXT) FROM group_members WHERE group_id = {group}"
            ))
            .await;
        assert_eq!(rows, [size.to_string()], "back to the original members");
    }
    eprintln!(
        "a membership PATCH on {BIG} members takes {:.2}x the time of one on 10",
        timings[1] / timings[0]
    );
    // The cache followed every change: the big group's listed members are its rows.
    let (status, got) = scim.get(&format!("/Groups/{everyone}")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(got["members"].as_array().unwrap().len(), BIG);
    let probe = find(&scim, "userName eq \"member7@example.org\"").await;
    let member7 = probe["Resources"][0]["id"].as_str().unwrap().to_string();
    let (_, user) = scim.get(&format!("/Users/{member7}")).await.unwrap();
    let groups: Vec<&str> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(groups.len(), 2, "{user}");
    ferry.stop();
}

/// The enterprise extension's URN.
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A manager foreign key and a password statement on the users table.
fn manager_and_password(target: &Target) -> (&'static str, &'static str) {
    if target.is_sqlite() {
        (
            "ALTER TABLE users ADD COLUMN manager_id INTEGER REFERENCES users (id);
             ALTER TABLE users ADD COLUMN password_hash TEXT;",
            "UPDATE users SET password_hash = hex(:password) WHERE id = :id",
        )
    } else {
        (
            "ALTER TABLE users ADD COLUMN manager_id BIGINT REFERENCES users (id);
             ALTER TABLE users ADD COLUMN password_hash TEXT;",
            "UPDATE users SET password_hash = upper(encode(convert_to(:password, 'UTF8'), 'hex')) \
             WHERE id = :id",
        )
    }
}

/// The hex of `text`, as both statements store it.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02X}")).collect()
}

async fn column_of(target: &Target, column: &str, id: &str) -> String {
    target
        .texts(&format!(
            "SELECT CAST({column} AS TEXT) FROM users WHERE id = {id}"
        ))
        .await
        .remove(0)
}

async fn manager_and_password_sequence(target: Target, dir: &std::path::Path) {
    let (ddl, statement) = manager_and_password(&target);
    target.execute(ddl).await;
    let extra = format!(
        "references = {{ manager_id = \"user\" }}\nexclude = [\"password_hash\"]\n\
         [apps.hr.settings.object-types.statements]\npassword = \"{statement}\"\n"
    );
    let plugins = sql_plugin_folder(dir);
    let mut ferry = Ferry::start(dir, &config(&plugins, &target, &extra));
    let scim = ferry.ready("hr").await;
    let boss = create_user(&scim, "boss@example.org").await;
    let boss2 = create_user(&scim, "boss2@example.org").await;

    // Create with a manager and a password: the key and the statement's effect.
    let mut worker = entra_user("worker@example.org", "w-1");
    worker[ENTERPRISE]["manager"] = json!({"value": boss});
    worker["password"] = json!("Initial-Pa55!");
    let (status, created) = scim.post("/Users", &worker).await.unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created[ENTERPRISE]["manager"]["value"], boss.as_str());
    assert!(created.get("password").is_none(), "{created}");
    assert_eq!(column_of(&target, "manager_id", &id).await, boss);
    assert_eq!(
        column_of(&target, "password_hash", &id).await,
        hex("Initial-Pa55!")
    );

    // Change the manager as Entra sends it (a bare id), then remove it.
    let path = format!("{ENTERPRISE}:manager");
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "Add", "path": path, "value": boss2}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[ENTERPRISE]["manager"]["value"], boss2.as_str());
    assert_eq!(column_of(&target, "manager_id", &id).await, boss2);
    // A manager not provisioned: retryable, nothing written.
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "Replace", "path": path, "value": {"value": "424242"}}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(column_of(&target, "manager_id", &id).await, boss2);
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "Remove", "path": path}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get(ENTERPRISE)
            .is_none_or(|e| e.get("manager").is_none()),
        "{body}"
    );
    assert_eq!(column_of(&target, "manager_id", &id).await, "");

    // A new password through PATCH.
    let (status, body) = scim
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "password", "value": "N3w-Pa55!"}])),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.get("password").is_none(), "{body}");
    assert_eq!(
        column_of(&target, "password_hash", &id).await,
        hex("N3w-Pa55!")
    );

    ferry.stop();
    let log = ferry.log();
    for secret in ["Initial-Pa55!", "N3w-Pa55!"] {
        assert!(!log.contains(secret), "a password reached the log");
    }
    for file in ["cache.db", "cache.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join("data/apps/hr").join(file)) else {
            continue;
        };
        for secret in ["Initial-Pa55!", "N3w-Pa55!"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a password reached {file}"
            );
        }
    }
}

ferry_e2e::on_sqlite_and_postgres!(manager_and_password_sequence => manager_and_password_on_sqlite, manager_and_password_on_postgres);

/// A change table kept by triggers on the groups and membership tables, so that delta
/// imports see membership changes made directly in the target.
fn group_changes_ddl(target: &Target) -> &'static str {
    if target.is_sqlite() {
        "CREATE TABLE group_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL);
         CREATE TRIGGER groups_added AFTER INSERT ON groups
           BEGIN INSERT INTO group_changes (group_id) VALUES (NEW.id); END;
         CREATE TRIGGER groups_deleted AFTER DELETE ON groups
           BEGIN INSERT INTO group_changes (group_id) VALUES (OLD.id); END;
         CREATE TRIGGER members_added AFTER INSERT ON group_members
           BEGIN INSERT INTO group_changes (group_id) VALUES (NEW.group_id); END;
         CREATE TRIGGER members_removed AFTER DELETE ON group_members
           BEGIN INSERT INTO group_changes (group_id) VALUES (OLD.group_id); END;"
    } else {
        "CREATE TABLE group_changes (seq BIGSERIAL PRIMARY KEY, group_id BIGINT NOT NULL);
         CREATE FUNCTION note_group_change() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF TG_TABLE_NAME = 'groups' THEN
                 INSERT INTO group_changes (group_id)
                 VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
             ELSE
                 INSERT INTO group_changes (group_id)
                 VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.group_id ELSE NEW.group_id END);
             END IF;
             RETURN NULL;
         END $$;
         CREATE TRIGGER groups_changes AFTER INSERT OR DELETE ON groups
           FOR EACH ROW EXECUTE FUNCTION note_group_change();
         CREATE TRIGGER members_changes AFTER INSERT OR DELETE ON group_members
           FOR EACH ROW EXECUTE FUNCTION note_group_change();"
    }
}

/// The members SCIM shows for group `id`, sorted.
async fn scim_members(scim: &ScimClient, id: &str) -> Vec<String> {
    let (status, group) = scim.get(&format!("/Groups/{id}")).await.unwrap();
    assert_eq!(status, 200, "{group}");
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|v| v["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

async fn direct_membership_sequence(target: Target, dir: &std::path::Path) {
    target.execute(groups_ddl(&target)).await;
    target.execute(group_changes_ddl(&target)).await;
    let with_changes = GROUP_TYPE.replace(
        "anchor = \"id\"\n[[apps.hr.settings.object-types.multi-valued]]",
        "anchor = \"id\"\nchange-table = { table = \"group_changes\", sequence = \"seq\", anchor = \"group_id\" }\n[[apps.hr.settings.object-types.multi-valued]]",
    );
    assert_ne!(with_changes, GROUP_TYPE);
    let plugins = sql_plugin_folder(dir);
    let mut ferry = Ferry::start(dir, &config(&plugins, &target, &with_changes));
    let scim = ferry.ready("hr").await;
    let u1 = create_user(&scim, "d1@example.org").await;
    let u2 = create_user(&scim, "d2@example.org").await;
    let (status, created) = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "Direct", "members": [{"value": u1}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    let gid = created["id"].as_str().unwrap().to_string();

    // Members added and removed in the target itself arrive through delta imports.
    target
        .execute(&format!(
            "INSERT INTO group_members (group_id, user_id) VALUES ({gid}, {u2})"
        ))
        .await;
    eventually("a member added in the target", || async {
        (scim_members(&scim, &gid).await == sorted(&[&u1, &u2])).then_some(())
    })
    .await;
    let (_, user) = scim.get(&format!("/Users/{u2}")).await.unwrap();
    assert_eq!(user["groups"][0]["value"], gid.as_str(), "{user}");
    target
        .execute(&format!(
            "DELETE FROM group_members WHERE group_id = {gid} AND user_id = {u1}"
        ))
        .await;
    eventually("a member removed in the target", || async {
        (scim_members(&scim, &gid).await == sorted(&[&u2])).then_some(())
    })
    .await;
    let (_, user) = scim.get(&format!("/Users/{u1}")).await.unwrap();
    assert!(user.get("groups").is_none(), "{user}");
    ferry.stop();
}

ferry_e2e::on_sqlite_and_postgres!(direct_membership_sequence => direct_membership_changes_arrive_on_sqlite, direct_membership_changes_arrive_on_postgres);

/// People keyed by their login name (a natural key: a rename moves the row), their
/// e-mail addresses in a child table, a manager foreign key, teams and a membership
/// table whose members are people or teams (nested groups): `member_type` names which,
/// so `member` has no foreign key and the connector moves and deletes its rows; the
/// other foreign keys follow a moved key (`ON UPDATE CASCADE`). Logins are letters and
/// team ids numbers, so no anchor is both.
fn people_ddl(target: &Target) -> String {
    let (active, serial, big) = if target.is_sqlite() {
        (
            "INTEGER NOT NULL DEFAULT 1",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "INTEGER",
        )
    } else {
        (
            "BOOLEAN NOT NULL DEFAULT TRUE",
            "BIGSERIAL PRIMARY KEY",
            "BIGINT",
        )
    };
    format!(
        "CREATE TABLE people (login TEXT PRIMARY KEY, external_id TEXT, active {active}, \
             display_name TEXT, given_name TEXT, family_name TEXT, \
             manager_login TEXT REFERENCES people (login) ON UPDATE CASCADE ON DELETE SET NULL, \
             password_hash TEXT);
         CREATE TABLE person_emails (login TEXT NOT NULL REFERENCES people (login) \
             ON UPDATE CASCADE ON DELETE CASCADE, email TEXT NOT NULL);
         CREATE TABLE teams (id {serial}, display_name TEXT NOT NULL);
         CREATE TABLE team_members (team_id {big} NOT NULL REFERENCES teams (id) ON DELETE CASCADE, \
             member_type TEXT NOT NULL, member TEXT NOT NULL, \
             PRIMARY KEY (team_id, member_type, member));"
    )
}

/// The people app: userName is the key column; passwords through a statement that
/// stores their hex (as [`manager_and_password`]'s do).
fn people_config(plugins: &std::path::Path, target: &Target) -> String {
    let hex = if target.is_sqlite() {
        "hex(:password)"
    } else {
        "upper(encode(convert_to(:password, 'UTF8'), 'hex'))"
    };
    format!(
        r#"{app}
[apps.hr.users.attributes]
userName = "login"
emails = "emails"
"{ENTERPRISE}:manager" = "manager_login"

[[apps.hr.settings.object-types]]
name = "user"
table = "people"
anchor = "login"
exclude = ["password_hash"]
references = {{ manager_login = "user" }}
[[apps.hr.settings.object-types.multi-valued]]
attribute = "emails"
table = "person_emails"
key = "login"
value = "email"
[apps.hr.settings.object-types.statements]
password = "UPDATE people SET password_hash = {hex} WHERE login = :login"

[[apps.hr.settings.object-types]]
name = "group"
table = "teams"
anchor = "id"
[[apps.hr.settings.object-types.multi-valued]]
attribute = "members"
table = "team_members"
key = "team_id"
value = "member"
reference = ["user", "group"]
reference-type-column = "member_type"
"#,
        app = sql_app(plugins, target),
    )
}

/// The people tables, read as the lifecycle checks them.
struct People<'t>(&'t Target);

/// `text` as an SQL string literal (test names only; quotes doubled all the same).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Inspect for People<'_> {
    async fn has_user(&self, user_name: &str) -> bool {
        let sql = format!(
            "SELECT login FROM people WHERE login = {}",
            literal(user_name)
        );
        !self.0.texts(&sql).await.is_empty()
    }

    async fn emails(&self, user_name: &str) -> Vec<String> {
        let sql = format!(
            "SELECT lower(email) FROM person_emails WHERE login = {} ORDER BY 1",
            literal(user_name)
        );
        self.0.texts(&sql).await
    }

    async fn manager(&self, user_name: &str) -> Option<String> {
        let sql = format!(
            "SELECT manager_login FROM people WHERE login = {}",
            literal(user_name)
        );
        self.0.texts(&sql).await.pop().filter(|m| !m.is_empty())
    }

    async fn password_is(&self, user_name: &str, password: &str) -> bool {
        let sql = format!(
            "SELECT password_hash FROM people WHERE login = {}",
            literal(user_name)
        );
        self.0.texts(&sql).await.pop() == Some(hex(password))
    }

    /// Users by login; a team by its display name.
    async fn members(&self, group: &str) -> Vec<String> {
        let sql = format!(
            "SELECT lower(CASE WHEN m.member_type = 'group' THEN g.display_name ELSE m.member END) \
             FROM team_members m JOIN teams t ON t.id = m.team_id \
             LEFT JOIN teams g ON m.member_type = 'group' AND CAST(g.id AS TEXT) = m.member \
             WHERE t.display_name = {} ORDER BY 1",
            literal(group)
        );
        self.0.texts(&sql).await
    }

    fn nests_groups(&self) -> bool {
        true
    }
}

async fn people_lifecycle(target: Target, dir: &std::path::Path) {
    target.execute(&people_ddl(&target)).await;
    let plugins = sql_plugin_folder(dir);
    let mut ferry = Ferry::start(dir, &people_config(&plugins, &target));
    let scim = ferry.ready("hr").await;
    entra_lifecycle(&scim, &People(&target)).await;
    let log = ferry.log();
    assert!(!log.contains("Pa55"), "passwords never reach the log");
    ferry.stop();
}

ferry_e2e::on_sqlite_and_postgres!(people_lifecycle => entra_lifecycle_on_sqlite, entra_lifecycle_on_postgres);

/// Accounts whose identity is two columns: the tenant and the login name.
const ACCOUNTS_DDL: &str = "CREATE TABLE accounts (tenant TEXT NOT NULL, login TEXT NOT NULL, \
     display_name TEXT, PRIMARY KEY (tenant, login));";

/// SCIM Users on a composite key: the enterprise `organization` is the tenant, the
/// userName the login. The SCIM id encodes both, URL-safely, and stays through a rename.
async fn composite_sequence(target: Target, dir: &std::path::Path) {
    target.execute(ACCOUNTS_DDL).await;
    let config = format!(
        r#"{app}
[apps.hr.users.attributes]
userName = "login"
"{ENTERPRISE}:organization" = "tenant"

[[apps.hr.settings.object-types]]
name = "user"
table = "accounts"
anchor = ["tenant", "login"]
"#,
        app = sql_app(&sql_plugin_folder(dir), &target),
    );
    let mut ferry = Ferry::start(dir, &config);
    let scim = ferry.ready("hr").await;
    let account = |tenant: &str, login: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
               "userName": login, "displayName": login, ENTERPRISE: {"organization": tenant}})
    };
    let rows = || {
        target
            .texts("SELECT tenant || '/' || login || '/' || display_name FROM accounts ORDER BY 1")
    };
    let mut ids = Vec::new();
    for (tenant, login) in [
        ("acme", "ann"),
        ("globex", "ann.g"),
        ("acme, \"inc\"", "bo/b"),
    ] {
        let (status, body) = scim.post("/Users", &account(tenant, login)).await.unwrap();
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_~.".contains(&b)),
            "URL-safe: {id}"
        );
        let (status, got) = scim.get(&format!("/Users/{id}")).await.unwrap();
        assert_eq!(status, 200, "{got}");
        assert_eq!(got[ENTERPRISE]["organization"], tenant);
        assert_eq!(got["userName"], login);
        ids.push(id);
    }
    assert_eq!(
        rows().await,
        [
            "acme, \"inc\"/bo/b/bo/b",
            "acme/ann/ann",
            "globex/ann.g/ann.g"
        ]
    );
    // A change, then a rename within the tenant: the same id throughout.
    let path = format!("/Users/{}", ids[0]);
    let body = scim
        .patch(
            &path,
            &patch_op(json!([{"op": "Replace", "path": "displayName", "value": "Ann A."}])),
        )
        .await
        .unwrap();
    assert_eq!(body.0, 200, "{}", body.1);
    let (status, body) = scim
        .patch(
            &path,
            &patch_op(json!([{"op": "Replace", "path": "userName", "value": "anna"}])),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(ids[0].as_str())),
        "{body}"
    );
    assert_eq!(
        rows().await,
        [
            "acme, \"inc\"/bo/b/bo/b",
            "acme/anna/Ann A.",
            "globex/ann.g/ann.g"
        ]
    );
    let (_, got) = scim.get(&path).await.unwrap();
    assert_eq!(got["userName"], "anna", "{got}");
    // Deletes by id.
    for id in &ids {
        let (status, _) = scim.delete(&format!("/Users/{id}")).await.unwrap();
        assert_eq!(status, 204);
    }
    assert!(rows().await.is_empty());
    ferry.stop();
}

ferry_e2e::on_sqlite_and_postgres!(composite_sequence => composite_anchors_on_sqlite, composite_anchors_on_postgres);
