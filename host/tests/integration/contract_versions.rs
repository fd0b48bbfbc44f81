//! Components of two contract versions side by side in one runtime, on one SQLite file:
//! `fixture-contract-v0-1` (built from the released `wit/v0.1.0`) through the host's
//! 0.1.0 adapter, and `generic-sql` (built against the current contract). Every call of
//! the old one, and every host import it makes (`log`, `sql`, `net`), must work as it
//! did; `read`, new in 0.2.0, must work on the new one and be answered `unsupported` for
//! the old one.

use std::path::Path;
use std::sync::Arc;

use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::{
    AddChange, Attribute, Change, ErrorKind, ObjectRef, Setting, SettingValue, Value,
};
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::limits::Limits;
use ferry::runtime::pool::{CallError, SessionPool};
use ferry::runtime::sql::SqlTarget;
use ferry::runtime::state::Grants;
use serde_json::json;

/// Grants of `app` on the SQLite file `db`.
fn grants(app: &str, plugin: &str, db: &Path) -> Grants {
    Grants {
        app: Arc::from(app),
        plugin: Arc::from(plugin),
        limits: Limits::default(),
        database: Some(
            SqlTarget::from_url(
                &format!("sqlite://{}", db.display()),
                None,
                Path::new("/"),
                false,
            )
            .unwrap(),
        ),
        network: None,
        files: None,
    }
}

fn add(object_type: &str, name: &str, value: &str) -> Change {
    Change::Add(AddChange {
        object_type: object_type.into(),
        attributes: vec![Attribute {
            name: name.into(),
            values: vec![Value::String(value.into())],
        }],
    })
}

fn target(object_type: &str, anchor: &str) -> ObjectRef {
    ObjectRef {
        object_type: object_type.into(),
        anchor: anchor.into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn components_of_two_contract_versions_run_side_by_side() {
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("shared.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE)")
        .unwrap();
    let runtime = Runtime::new(
        EngineSizing {
            total_instances: 16,
        },
        scratch.path().join("compiled"),
    )
    .unwrap();
    let old = runtime
        .load_plugin(&crate::common::component("fixture-contract-v0-1.wasm"))
        .await
        .unwrap();
    let new = runtime
        .load_plugin(&crate::common::component("generic-sql.wasm"))
        .await
        .unwrap();
    assert_eq!(old.contract, "0.1.0");
    assert_eq!(new.contract, "0.2.0");
    assert_eq!(old.info.name, "frozen-v0-1");

    let frozen = SessionPool::new(old, grants("frozen", "frozen-v0-1", &db), Vec::new());
    let settings = vec![Setting {
        name: "object-types".into(),
        value: SettingValue::Structured(
            json!([{"name": "person", "table": "people", "anchor": "id"}]).to_string(),
        ),
    }];
    let current = SessionPool::new(new, grants("current", "generic-sql", &db), settings);

    // The old component: open (sql execute + log), test-connection (sql dialect and
    // query, and a net connect refused as 0.1.0's `denied`), schema, exports in a
    // transaction, a unique violation as already-exists, paged full import.
    frozen.test_connection().await.unwrap();
    let schema = frozen.schema().await.unwrap();
    assert_eq!(schema.object_types[0].name, "thing");
    for label in ["alpha", "beta", "gamma"] {
        let results = frozen
            .export(vec![add("thing", "label", label)])
            .await
            .unwrap();
        let object = results[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(object.anchor, label);
    }
    let duplicate = frozen
        .export(vec![add("thing", "label", "beta")])
        .await
        .unwrap();
    let refused = duplicate[0].as_ref().unwrap_err();
    assert_eq!(
        refused.kind,
        ErrorKind::AlreadyExists,
        "{}",
        refused.message
    );
    let mut session = frozen.reserve().await.unwrap();
    let first = session.full_import(None, 2).await.unwrap();
    assert_eq!(first.objects.len(), 2);
    let second = session
        .full_import(first.next_cursor.clone(), 2)
        .await
        .unwrap();
    let anchors: Vec<String> = first
        .objects
        .iter()
        .chain(&second.objects)
        .map(|o| o.anchor.clone())
        .collect();
    assert_eq!(anchors, ["alpha", "beta", "gamma"]);
    drop(session);
    match frozen.read(&target("thing", "alpha")).await {
        Err(CallError::Connector(e)) => {
            assert_eq!(e.kind, ErrorKind::Unsupported);
            assert!(e.message.contains("0.1.0"), "{}", e.message);
        }
        other => panic!("a 0.1.0 component has no read: {other:?}"),
    }

    // The current component, in the same runtime and database, meanwhile.
    current.test_connection().await.unwrap();
    let results = current
        .export(vec![add("person", "login", "ada")])
        .await
        .unwrap();
    let ada = results[0].as_ref().unwrap().as_ref().unwrap().clone();
    let read = current
        .read(&target("person", &ada.anchor))
        .await
        .unwrap()
        .expect("read finds the person just added");
    assert_eq!(read, ada);
    assert_eq!(current.read(&target("person", "999")).await.unwrap(), None);

    // Both wrote the one file.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let things: i64 = conn
        .query_row("SELECT count(*) FROM things", [], |r| r.get(0))
        .unwrap();
    let people: i64 = conn
        .query_row("SELECT count(*) FROM people", [], |r| r.get(0))
        .unwrap();
    assert_eq!((things, people), (3, 1));
}
