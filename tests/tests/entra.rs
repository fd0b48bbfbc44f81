//! The provisioning sequence Entra ID runs, against `ferry serve` over HTTPS, on a real
//! SQLite file and a real PostgreSQL database: every step checked through SCIM and in the
//! target itself; then direct edits in the target seen by delta imports; then a restart
//! that serves from the cache while the target is unreachable.

use ferry_e2e::scim::{ENTERPRISE, encode, entra_user, find};
use ferry_e2e::targets::{Target, config};
use ferry_e2e::{Ferry, TOKEN, eventually, sql_plugin_folder};
use serde_json::json;

fn col<'r>(row: &'r ferry_e2e::targets::Row, c: &str) -> Option<&'r str> {
    row[c].as_deref()
}

async fn entra_sequence(target: Target, dir: &std::path::Path) {
    let plugins = sql_plugin_folder(dir);
    let mut ferry = Ferry::start(dir, &config(&plugins, &target, ""));
    let scim = ferry.ready("hr").await;

    // The probe Entra sends at the start of every cycle: 200 and an empty list.
    let probe = find(&scim, &format!("userName eq \"{}\"", uuid::Uuid::new_v4())).await;
    assert_eq!(probe["totalResults"], 0);
    assert_eq!(probe["Resources"], json!([]));

    // Create.
    let (status, created) = scim
        .post("/Users", &entra_user("grace@navy.example", "a1b2"))
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_string();
    assert_eq!(created["userName"], "grace@navy.example");
    let row = target
        .row("grace@navy.example")
        .await
        .expect("the row is in the target");
    assert_eq!(
        col(&row, "id"),
        Some(id.as_str()),
        "the SCIM id is the anchor"
    );
    assert_eq!(col(&row, "external_id"), Some("a1b2"));
    assert_eq!(col(&row, "active"), Some("true"));
    assert_eq!(col(&row, "given_name"), Some("Grace"));
    assert_eq!(col(&row, "family_name"), Some("Hopper"));
    assert_eq!(col(&row, "email"), Some("grace@navy.example"));
    assert_eq!(col(&row, "employee_number"), Some("1906"));
    assert_eq!(col(&row, "department"), Some("Computing"));

    // Find by userName, as Entra matches (case-insensitively), and by id.
    let found = find(&scim, "userName eq \"GRACE@navy.example\"").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    let (status, got) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(got["name"]["givenName"], "Grace");
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "1906");

    // A duplicate userName is a 409 uniqueness.
    let (status, body) = scim
        .post("/Users", &entra_user("Grace@Navy.example", "other"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["scimType"], "uniqueness");
    assert_eq!(target.count().await, 1);

    // PATCH as Entra sends it: title-case ops, "False", filtered and URN paths, and a
    // path-less replace.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "hopper@navy.example"},
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Operations"},
            {"op": "Replace", "value": {"name.givenName": "Amazing Grace", "displayName": "Admiral Hopper"}}
        ]
    });
    let (status, patched) = scim.patch(&format!("/Users/{id}"), &patch).await.unwrap();
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["active"], false);
    let row = target.row("grace@navy.example").await.unwrap();
    assert_eq!(col(&row, "active"), Some("false"));
    assert_eq!(col(&row, "email"), Some("hopper@navy.example"));
    assert_eq!(col(&row, "department"), Some("Operations"));
    assert_eq!(col(&row, "given_name"), Some("Amazing Grace"));
    assert_eq!(col(&row, "display_name"), Some("Admiral Hopper"));
    assert_eq!(
        col(&row, "family_name"),
        Some("Hopper"),
        "untouched attributes stay"
    );

    // PUT replaces: what it leaves out is cleared.
    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "grace@navy.example",
        "externalId": "a1b2",
        "active": true,
        "name": {"givenName": "Grace", "familyName": "Hopper"}
    });
    let (status, replaced) = scim.put(&format!("/Users/{id}"), &put).await.unwrap();
    assert_eq!(status, 200, "{replaced}");
    let row = target.row("grace@navy.example").await.unwrap();
    assert_eq!(col(&row, "active"), Some("true"));
    assert_eq!(col(&row, "given_name"), Some("Grace"));
    assert_eq!(col(&row, "email"), None);
    assert_eq!(col(&row, "department"), None);
    assert_eq!(col(&row, "display_name"), None);

    // More users, then filtered lists with paging.
    for (name, ext) in [
        ("ada@example.org", "x1"),
        ("alan@example.org", "x2"),
        ("adele@example.org", "x3"),
    ] {
        let mut u = entra_user(name, ext);
        u["emails"][0]["value"] = json!(name);
        let (status, body) = scim.post("/Users", &u).await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let ad = find(&scim, "userName sw \"ad\" and active eq true").await;
    assert_eq!(ad["totalResults"], 2);
    let by_email = find(
        &scim,
        "emails[type eq \"work\"].value eq \"alan@example.org\"",
    )
    .await;
    assert_eq!(by_email["Resources"][0]["userName"], "alan@example.org");
    let by_external = find(&scim, "externalId eq \"x3\"").await;
    assert_eq!(by_external["Resources"][0]["userName"], "adele@example.org");
    assert_eq!(
        find(&scim, "externalId eq \"X3\"").await["totalResults"],
        0,
        "externalId is case-exact"
    );
    let (status, page) = scim
        .get("/Users?startIndex=2&count=2&attributes=userName")
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["startIndex"], 2);
    assert!(
        page["Resources"][0].get("emails").is_none(),
        "attributes= limits the response"
    );
    let (status, counted) = scim.get("/Users?count=0").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(counted["totalResults"], 4);
    assert_eq!(counted["Resources"], json!([]));
    let none = find(&scim, "not (userName pr) or (name.familyName co \"zzz\")").await;
    assert_eq!(none["totalResults"], 0);

    // Hostile values land literally.
    let mut hostile = entra_user("o'brien\"; DROP TABLE users; --", "h");
    let long = "é".repeat(5000);
    let odd = if target.stores_nul() {
        "nul\0inside 𝔘𝔫𝔦😀"
    } else {
        "no nul 𝔘𝔫𝔦😀"
    };
    hostile["displayName"] = json!(long);
    hostile["name"]["givenName"] = json!(odd);
    let (status, body) = scim.post("/Users", &hostile).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let row = target
        .row("o'brien\"; DROP TABLE users; --")
        .await
        .expect("stored literally");
    assert_eq!(col(&row, "display_name"), Some(long.as_str()));
    assert_eq!(col(&row, "given_name"), Some(odd));
    let found = find(&scim, "userName eq \"o'brien\\\"; DROP TABLE users; --\"").await;
    assert_eq!(found["totalResults"], 1);

    // Delete: 204, gone from the target, 404 after.
    let (status, _) = scim.delete(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 204);
    assert!(target.row("grace@navy.example").await.is_none());
    let (status, body) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 404);
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    let (status, _) = scim.delete(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 404);

    // Direct edits in the target reach SCIM reads through delta imports, deletes too.
    target
        .execute(
            "UPDATE users SET department = 'Direct' WHERE user_name = 'ada@example.org';
             INSERT INTO users (user_name, given_name) VALUES ('direct@example.org', 'Dee');
             DELETE FROM users WHERE user_name = 'alan@example.org';",
        )
        .await;
    eventually("the delta import to bring the direct edits", || async {
        let direct = find(&scim, "userName eq \"direct@example.org\"").await;
        let ada = find(&scim, "userName eq \"ada@example.org\"").await;
        let alan = find(&scim, "userName eq \"alan@example.org\"").await;
        let done = direct["totalResults"] == 1
            && ada["Resources"][0][ENTERPRISE]["department"] == "Direct"
            && alan["totalResults"] == 0;
        done.then_some(())
    })
    .await;

    // Restart with the target unreachable: the cache still serves (once the app has
    // bound to the schema the last run saved; before that, a read is a retryable 503).
    ferry.stop();
    let unreachable = match &target {
        Target::Sqlite(_) => Target::Sqlite(dir.join("moved-away.db")),
        Target::Postgres(_) => Target::Postgres(format!(
            "postgres://postgres@127.0.0.1:{}/nothing",
            ferry_test_support::free_port()
        )),
    };
    let mut ferry = Ferry::start(dir, &config(&plugins, &unreachable, ""));
    let scim = ferry.ready("hr").await;
    let (status, list) = scim
        .get(&format!(
            "/Users?filter={}",
            encode("userName eq \"ada@example.org\"")
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["Resources"][0][ENTERPRISE]["department"], "Direct");
    // Writes need the target: a retryable 503.
    let (status, body) = scim
        .post("/Users", &entra_user("new@example.org", "n"))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");

    ferry.stop();
    assert!(
        !ferry.log().contains(TOKEN),
        "the bearer token never reaches the log"
    );
}

ferry_e2e::on_sqlite_and_postgres!(entra_sequence => entra_sequence_on_sqlite, entra_sequence_on_postgres);

/// A user made in the target after the last import is found by id at once: the cache
/// misses, and Ferry reads through to the connector (`read`, contract 0.2.0) and caches
/// it. Filters stay answered from the cache alone, so they see it only after an import.
#[tokio::test(flavor = "multi_thread")]
async fn a_get_by_id_reads_through_to_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let plugins = sql_plugin_folder(dir.path());
    let text = config(&plugins, &target, "")
        .replace("delta-interval-seconds = 1", "delta-interval-seconds = 0");
    let mut ferry = Ferry::start(dir.path(), &text);
    let scim = ferry.ready("hr").await;

    target
        .execute("INSERT INTO users (user_name, given_name) VALUES ('late@example.org', 'Late')")
        .await;
    let id = target.row("late@example.org").await.unwrap()["id"]
        .clone()
        .unwrap();
    let filtered = find(&scim, "userName eq \"late@example.org\"").await;
    assert_eq!(filtered["totalResults"], 0, "no import has run: {filtered}");
    let (status, got) = scim.get(&format!("/Users/{id}")).await.unwrap();
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["userName"], "late@example.org");
    assert_eq!(got["name"]["givenName"], "Late");
    // Now cached: the filter finds it too.
    let filtered = find(&scim, "userName eq \"late@example.org\"").await;
    assert_eq!(filtered["totalResults"], 1, "{filtered}");
    // An id the target does not have either is still a 404.
    let (status, body) = scim.get("/Users/987654").await.unwrap();
    assert_eq!(status, 404, "{body}");
}
