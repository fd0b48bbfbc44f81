//! The generic SQL connector end to end: the compiled `generic-sql` component, run by the
//! real runtime through a [`SessionPool`], against a real SQLite file and a real
//! PostgreSQL database (the test harness's private server). Every scenario runs on both,
//! from one function, and checks what the connector returns *and* what the database holds,
//! read over a separate connection:
//!
//! 1. `schema()` types attributes from the columns, marks required and read-only ones,
//!    exposes a child table as a multi-valued attribute, and hides excluded columns;
//! 2. a full import pages in anchor order, each object once with its multi-valued values,
//!    without soft-deleted rows, and hands a watermark over on its last page;
//! 3. delta imports by a watermark column (updates, soft deletes) and by a change table
//!    kept by triggers (hard deletes), with `more` set when a page is full;
//! 4. exports add, update (replace / clear / add-values / remove-values on child rows)
//!    and delete; report not-found, already-exists and read-only writes by kind; go on
//!    after a failed change; and roll a failed change back entirely;
//! 5. operator-written statements bind named parameters, and identifiers that are
//!    keywords or hold spaces or quotes are quoted correctly;
//! 6. hostile values (quotes, SQL, 10 kB, non-BMP characters, NUL) land literally;
//! 7. a composite anchor (`["tenant","login"]`) is added, read, updated, deleted, paged
//!    in key order across page boundaries, and seen by deltas from a change table (a key
//!    changed in the database: the old anchor deleted, the new one upserted);
//! 8. a new key, by an update of a key column or by a rename, moves the row, its child
//!    rows, the link tables and foreign key columns pointing at it, in one transaction;
//!    a key another object has is `already-exists` and changes nothing;
//! 9. nested groups: a link table whose `reference` lists several object types stores
//!    each member's type in its type column, found by looking the anchor up (an unknown
//!    member is `not-found`, one of two types `invalid-input`, neither writes anything);
//!    a member's key move and delete touch only the rows naming its type.
//!
//! The component is built by `cargo xtask plugins` into `target/plugins` (or the folder
//! in `FERRY_PLUGIN_DIR`). PostgreSQL is started by `ferry-test-support`; a machine
//! without it fails these tests, it never skips them.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use ferry::runtime::Runtime;
use ferry::runtime::bindings::types::{
    AddChange, Attribute, AttributeChange, AttributeSchema, Change, ChangeResult, Datetime,
    DeltaEntry, DeltaPage, Error, ErrorKind, ImportPage, Object, ObjectRef, RenameChange, Setting,
    SettingValue, UpdateChange, Value, ValueType,
};
use ferry::runtime::engine::EngineSizing;
use ferry::runtime::limits::Limits;
use ferry::runtime::plugin::LoadedPlugin;
use ferry::runtime::pool::SessionPool;
use ferry::runtime::sql::SqlTarget;
use ferry::runtime::state::Grants;
use serde_json::json;

// ---------------------------------------------------------------------------------------
// The two targets
// ---------------------------------------------------------------------------------------

/// Which database a scenario runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// Runs each scenario as one test per database: `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $scenario() {
                    super::$scenario(super::Kind::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $scenario() {
                    super::$scenario(super::Kind::Postgres).await;
                }
            )*
        }
    };
}

on_both_databases!(
    schema_is_read_from_the_columns,
    full_import_pages_in_anchor_order_without_soft_deleted_rows,
    delta_by_watermark_column_sees_updates_and_soft_deletes,
    delta_by_change_table_sees_hard_deletes,
    export_writes_rows_and_child_rows,
    export_reports_each_failure_by_kind_and_goes_on,
    a_failed_change_is_rolled_back_entirely,
    operator_statements_bind_named_parameters_around_odd_identifiers,
    generated_statements_quote_odd_identifiers,
    hostile_values_land_literally,
    composite_anchors_read_write_page_and_delta,
    a_new_key_moves_the_object_and_what_points_at_it,
    a_composite_key_moves_with_its_child_rows,
    nested_groups_keep_each_members_type,
);

/// A fresh, empty database of one kind, with a connection of the test's own for setting
/// up tables and reading what the connector wrote.
struct Target {
    kind: Kind,
    url: String,
    direct: Direct,
    /// Holds the SQLite file.
    _folder: Option<tempfile::TempDir>,
}

enum Direct {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(tokio_postgres::Client),
}

impl Target {
    /// A new database with `ddl` run in it (see [`Target::dialect`] for its `{id}`).
    async fn new(kind: Kind, ddl: &str) -> Target {
        let target = match kind {
            Kind::Sqlite => {
                let folder = tempfile::tempdir().unwrap();
                let path = folder.path().join("target.db");
                let connection = rusqlite::Connection::open(&path).unwrap();
                connection
                    .execute_batch("PRAGMA foreign_keys = ON")
                    .unwrap();
                Target {
                    kind,
                    url: format!("sqlite:{}", path.display()),
                    direct: Direct::Sqlite(Mutex::new(connection)),
                    _folder: Some(folder),
                }
            }
            Kind::Postgres => {
                let server = ferry_test_support::shared_postgres();
                let url = server.url(&server.unique_database());
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                Target {
                    kind,
                    url,
                    direct: Direct::Postgres(client),
                    _folder: None,
                }
            }
        };
        target.batch(ddl).await;
        target
    }

    /// `sql` with `{id}` replaced by the dialect's generated integer primary key.
    fn dialect(&self, sql: &str) -> String {
        let id = match self.kind {
            Kind::Sqlite => "INTEGER PRIMARY KEY",
            Kind::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        sql.replace("{id}", id)
    }

    /// Runs statements over the test's own connection.
    async fn batch(&self, sql: &str) {
        let sql = self.dialect(sql);
        match &self.direct {
            Direct::Sqlite(connection) => connection.lock().unwrap().execute_batch(&sql).unwrap(),
            Direct::Postgres(client) => client.batch_execute(&sql).await.unwrap(),
        }
    }

    /// The rows of a query, every value as text (`None` for NULL): the same text for an
    /// integer or a string in both databases, and the exact characters of a string.
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match &self.direct {
            Direct::Sqlite(connection) => {
                use rusqlite::types::ValueRef;
                let connection = connection.lock().unwrap();
                let mut statement = connection.prepare(sql).unwrap();
                let width = statement.column_count();
                let mut rows = statement.query([]).unwrap();
                let mut read = Vec::new();
                while let Some(row) = rows.next().unwrap() {
                    read.push(
                        (0..width)
                            .map(|index| match row.get_ref(index).unwrap() {
                                ValueRef::Null => None,
                                ValueRef::Integer(number) => Some(number.to_string()),
                                ValueRef::Real(number) => Some(number.to_string()),
                                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                                    Some(String::from_utf8(bytes.to_vec()).unwrap())
                                }
                            })
                            .collect(),
                    );
                }
                read
            }
            Direct::Postgres(client) => client
                .simple_query(sql)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|index| row.get(index).map(str::to_owned))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The first column of a query's rows (NULL read as "NULL").
    async fn column(&self, sql: &str) -> Vec<String> {
        self.rows(sql)
            .await
            .into_iter()
            .map(|row| row[0].clone().unwrap_or_else(|| "NULL".into()))
            .collect()
    }

    /// `SELECT COUNT(*) FROM …`.
    async fn count(&self, from: &str) -> usize {
        self.column(&format!("SELECT COUNT(*) FROM {from}")).await[0]
            .parse()
            .unwrap()
    }

    /// A timestamp column as whole seconds since the epoch, as text.
    fn epoch_of(&self, column: &str) -> String {
        match self.kind {
            Kind::Sqlite => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
            Kind::Postgres => format!("CAST(extract(epoch FROM {column}) AS BIGINT)"),
        }
    }

    /// A pool of one `generic-sql` session on this database with these object types.
    async fn pool(&self, object_types: serde_json::Value) -> SessionPool {
        let grants = Grants {
            app: Arc::from("generic-sql-test"),
            plugin: Arc::from("generic-sql"),
            limits: Limits {
                instances: 1,
                ..Limits::default()
            },
            database: Some(SqlTarget::from_url(&self.url, None, Path::new("/"), false).unwrap()),
            network: None,
            files: None,
        };
        let settings = vec![Setting {
            name: "object-types".into(),
            value: SettingValue::Structured(object_types.to_string()),
        }];
        SessionPool::new(generic_sql().await, grants, settings)
    }
}

/// The component, compiled once for the whole test process (its artifact kept in Cargo's
/// scratch folder for integration tests, so later runs load it at once).
async fn generic_sql() -> Arc<LoadedPlugin> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    static PLUGIN: tokio::sync::OnceCell<Arc<LoadedPlugin>> = tokio::sync::OnceCell::const_new();
    PLUGIN
        .get_or_init(async || {
            let file = crate::common::component("generic-sql.wasm");
            let runtime = RUNTIME.get_or_init(|| {
                let compiled = Path::new(env!("CARGO_TARGET_TMPDIR")).join("generic-sql-compiled");
                Runtime::new(
                    EngineSizing {
                        total_instances: 32,
                    },
                    compiled,
                )
                .unwrap()
            });
            runtime.load_plugin(&file).await.unwrap()
        })
        .await
        .clone()
}

// ---------------------------------------------------------------------------------------
// The people fixture: most scenarios use it
// ---------------------------------------------------------------------------------------

/// People with typed columns, a soft-delete flag, a watermark column, an excluded column,
/// and their e-mail addresses in a child table whose CHECK refuses an address without `@`.
const PEOPLE: &str = r#"
    CREATE TABLE people (
        id {id},
        login TEXT NOT NULL UNIQUE,
        display_name TEXT,
        age INTEGER,
        active BOOLEAN NOT NULL DEFAULT TRUE,
        hired_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMPTZ,
        deleted BOOLEAN NOT NULL DEFAULT FALSE,
        notes TEXT
    );
    CREATE TABLE person_emails (
        person_id BIGINT NOT NULL REFERENCES people (id),
        email TEXT NOT NULL CHECK (email LIKE '%@%'),
        PRIMARY KEY (person_id, email)
    );
"#;

/// The object-types setting for [`PEOPLE`].
fn people_config() -> serde_json::Value {
    json!([{
        "name": "person",
        "table": "people",
        "anchor": "id",
        "watermark": "updated_at",
        "soft-delete": "deleted",
        "read-only": ["created_at"],
        "exclude": ["notes"],
        "multi-valued": [
            {"attribute": "emails", "table": "person_emails", "key": "person_id", "value": "email"}
        ]
    }])
}

async fn people(kind: Kind) -> (Target, SessionPool) {
    let target = Target::new(kind, PEOPLE).await;
    let pool = target.pool(people_config()).await;
    (target, pool)
}

/// The key of the person with this login, as the database holds it.
async fn id_of(target: &Target, login: &str) -> String {
    let ids = target
        .column(&format!("SELECT id FROM people WHERE login = '{login}'"))
        .await;
    assert_eq!(ids.len(), 1, "one person is {login}");
    ids[0].clone()
}

/// Person `id` as the database holds it: login, display name, age, active (yes / no),
/// hired at (seconds since the epoch).
async fn person_row(target: &Target, id: i64) -> Vec<Vec<Option<String>>> {
    let sql = format!(
        "SELECT login, display_name, age, CASE WHEN active THEN 'yes' ELSE 'no' END, {} \
         FROM people WHERE id = {id}",
        target.epoch_of("hired_at")
    );
    target.rows(&sql).await
}

/// The display name of the person with this login, as rows (none when there is no such
/// person).
async fn display_name(target: &Target, login: &str) -> Vec<Vec<Option<String>>> {
    target
        .rows(&format!(
            "SELECT display_name FROM people WHERE login = '{login}'"
        ))
        .await
}

/// The e-mail addresses the database holds for person `id`, sorted.
async fn emails_in_database(target: &Target, id: i64) -> Vec<String> {
    target
        .column(&format!(
            "SELECT email FROM person_emails WHERE person_id = {id} ORDER BY email"
        ))
        .await
}

// ---------------------------------------------------------------------------------------
// Values, changes and calls
// ---------------------------------------------------------------------------------------

fn text(value: &str) -> Value {
    Value::String(value.into())
}

fn texts(values: &[&str]) -> Vec<Value> {
    values.iter().map(|value| text(value)).collect()
}

fn attribute(name: &str, values: Vec<Value>) -> Attribute {
    Attribute {
        name: name.into(),
        values,
    }
}

fn add(object_type: &str, attributes: Vec<Attribute>) -> Change {
    Change::Add(AddChange {
        object_type: object_type.into(),
        attributes,
    })
}

fn add_person(login: &str, mut attributes: Vec<Attribute>) -> Change {
    attributes.insert(0, attribute("login", texts(&[login])));
    add("person", attributes)
}

fn reference(object_type: &str, anchor: &str) -> ObjectRef {
    ObjectRef {
        object_type: object_type.into(),
        anchor: anchor.into(),
    }
}

fn update(object_type: &str, anchor: &str, changes: Vec<AttributeChange>) -> Change {
    Change::Update(UpdateChange {
        target: reference(object_type, anchor),
        changes,
    })
}

fn replace(name: &str, values: Vec<Value>) -> AttributeChange {
    AttributeChange::Replace(attribute(name, values))
}

fn delete(object_type: &str, anchor: &str) -> Change {
    Change::Delete(reference(object_type, anchor))
}

/// Exports changes in one call, which itself must work; one result per change.
async fn export(pool: &SessionPool, changes: Vec<Change>) -> Vec<ChangeResult> {
    let count = changes.len();
    let results = pool.export(changes).await.expect("the export call runs");
    assert_eq!(results.len(), count, "one result per change");
    results
}

/// Exports one change; its result.
async fn export_one(pool: &SessionPool, change: Change) -> ChangeResult {
    export(pool, vec![change]).await.remove(0)
}

/// Exports one change that must succeed and leave an object; the object.
async fn written(pool: &SessionPool, change: Change) -> Object {
    let description = format!("{change:?}");
    match export_one(pool, change).await {
        Ok(Some(object)) => object,
        other => panic!("{description} should succeed with an object, got {other:?}"),
    }
}

/// Exports one change that must fail; its error, checked to be of `kind`.
async fn refused(pool: &SessionPool, change: Change, kind: ErrorKind) -> Error {
    let description = format!("{change:?}");
    match export_one(pool, change).await {
        Err(error) => {
            assert_eq!(error.kind, kind, "{description}: {error:?}");
            error
        }
        Ok(object) => panic!("{description} should fail with {kind:?}, got {object:?}"),
    }
}

/// The values of an attribute of an object; empty when the object does not carry it.
fn values_of(object: &Object, name: &str) -> Vec<Value> {
    object
        .attributes
        .iter()
        .find(|attribute| attribute.name == name)
        .map(|attribute| attribute.values.clone())
        .unwrap_or_default()
}

/// The values of a string attribute, sorted.
fn strings_of(object: &Object, name: &str) -> Vec<String> {
    let mut strings: Vec<String> = values_of(object, name)
        .into_iter()
        .map(|value| match value {
            Value::String(text) => text,
            other => panic!("'{name}' of {}: not a string: {other:?}", object.anchor),
        })
        .collect();
    strings.sort();
    strings
}

/// An anchor the database generated: an integer key.
fn key_of(object: &Object) -> i64 {
    object
        .anchor
        .parse()
        .unwrap_or_else(|_| panic!("the anchor {:?} is not the integer key", object.anchor))
}

/// Every page of a full import.
async fn full_import(pool: &SessionPool, page_size: u32) -> Vec<ImportPage> {
    let mut pages: Vec<ImportPage> = Vec::new();
    let mut cursor = None;
    let mut session = pool.reserve().await.expect("a session");
    loop {
        let page = session
            .full_import(cursor.take(), page_size)
            .await
            .expect("a full-import page");
        assert!(page.objects.len() <= page_size as usize, "page size kept");
        cursor = page.next_cursor.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() < 100, "the full import never ends");
    }
}

/// The watermark a complete full import hands over.
async fn watermark_after_full_import(pool: &SessionPool) -> String {
    let pages = full_import(pool, 100).await;
    pages
        .last()
        .unwrap()
        .watermark
        .clone()
        .expect("the last page carries a watermark")
}

async fn delta(pool: &SessionPool, watermark: &str, page_size: u32) -> DeltaPage {
    pool.delta_import(watermark.to_owned(), page_size)
        .await
        .expect("a delta page")
}

/// A delta entry in short: `+anchor` for an upsert, `-anchor` for a delete.
fn described(entries: &[DeltaEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| match entry {
            DeltaEntry::Upsert(object) => format!("+{}", object.anchor),
            DeltaEntry::Delete(target) => format!("-{}", target.anchor),
        })
        .collect()
}

/// The object of an upsert entry with this anchor.
fn upserted<'a>(entries: &'a [DeltaEntry], anchor: &str) -> &'a Object {
    entries
        .iter()
        .find_map(|entry| match entry {
            DeltaEntry::Upsert(object) if object.anchor == anchor => Some(object),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no upsert of {anchor} in {:?}", described(entries)))
}

// ---------------------------------------------------------------------------------------
// 1. schema
// ---------------------------------------------------------------------------------------

async fn schema_is_read_from_the_columns(kind: Kind) {
    let (_target, pool) = people(kind).await;
    pool.test_connection().await.expect("test-connection");
    let schema = pool.schema().await.expect("schema");
    assert_eq!(schema.object_types.len(), 1);
    let person = &schema.object_types[0];
    assert_eq!(person.name, "person");
    assert_eq!(person.anchor_attributes, ["id"]);

    let names: Vec<&str> = person.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "login",
            "display_name",
            "age",
            "active",
            "hired_at",
            "created_at",
            "updated_at",
            "emails"
        ],
        "columns in table order, the child attribute last; the excluded column and the \
         soft-delete flag are not attributes"
    );
    let described = |name: &str| -> &AttributeSchema {
        person.attributes.iter().find(|a| a.name == name).unwrap()
    };
    // (type, multi-valued, required, read-only)
    let expected = [
        ("id", ValueType::Integer, false, false, false),
        ("login", ValueType::String, false, true, false),
        ("display_name", ValueType::String, false, false, false),
        ("age", ValueType::Integer, false, false, false),
        ("active", ValueType::Boolean, false, false, false),
        ("hired_at", ValueType::Datetime, false, false, false),
        ("created_at", ValueType::Datetime, false, false, true),
        ("updated_at", ValueType::Datetime, false, false, true),
        ("emails", ValueType::String, true, false, false),
    ];
    for (name, value_type, multi_valued, required, read_only) in expected {
        let attribute = described(name);
        assert_eq!(
            (
                attribute.value_type,
                attribute.multi_valued,
                attribute.required,
                attribute.read_only,
                attribute.secret
            ),
            (value_type, multi_valued, required, read_only, false),
            "{name} (type, multi-valued, required, read-only, secret)"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. full import
// ---------------------------------------------------------------------------------------

async fn full_import_pages_in_anchor_order_without_soft_deleted_rows(kind: Kind) {
    let (target, pool) = people(kind).await;
    // 28 people, 3 of them soft-deleted (the last one among them), 25 left: ids from 1 to
    // 28, so that a text order ("10" < "2") would show.
    let soft_deleted = [5, 17, 28];
    let mut sql = String::new();
    for n in 1..=28 {
        let deleted = if soft_deleted.contains(&n) {
            "TRUE"
        } else {
            "FALSE"
        };
        sql.push_str(&format!(
            "INSERT INTO people (login, display_name, updated_at, deleted) \
             VALUES ('p{n:02}', 'Person {n}', '2024-01-01 00:00:00', {deleted});\n"
        ));
        sql.push_str(&format!(
            "INSERT INTO person_emails (person_id, email) \
             SELECT id, 'p{n:02}@a.example' FROM people WHERE login = 'p{n:02}';\n"
        ));
        if n % 2 == 0 {
            sql.push_str(&format!(
                "INSERT INTO person_emails (person_id, email) \
                 SELECT id, 'p{n:02}@b.example' FROM people WHERE login = 'p{n:02}';\n"
            ));
        }
    }
    target.batch(&sql).await;
    let live = target
        .column("SELECT id FROM people WHERE NOT deleted ORDER BY id")
        .await;
    assert_eq!(live.len(), 25);

    let pages = full_import(&pool, 10).await;
    let sizes: Vec<usize> = pages.iter().map(|page| page.objects.len()).collect();
    assert_eq!(sizes, [10, 10, 5], "25 objects in pages of 10");
    assert!(
        pages[..2].iter().all(|page| page.watermark.is_none()),
        "only the last page carries the watermark"
    );
    assert!(pages[2].watermark.is_some(), "the last page carries it");

    let objects: Vec<&Object> = pages.iter().flat_map(|page| &page.objects).collect();
    let anchors: Vec<String> = objects.iter().map(|object| object.anchor.clone()).collect();
    assert_eq!(anchors, live, "every live row once, in anchor order");
    let keys: Vec<i64> = objects.iter().map(|object| key_of(object)).collect();
    assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "{keys:?}");

    for object in objects {
        assert_eq!(object.object_type, "person");
        let [login] = &strings_of(object, "login")[..] else {
            panic!("{object:?} has one login");
        };
        let n: i64 = login[1..].parse().unwrap();
        assert!(!soft_deleted.contains(&n), "{login} is soft-deleted");
        let mut expected = vec![format!("p{n:02}@a.example")];
        if n % 2 == 0 {
            expected.push(format!("p{n:02}@b.example"));
        }
        assert_eq!(strings_of(object, "emails"), expected, "{login}");
        assert_eq!(
            strings_of(object, "display_name"),
            [format!("Person {n}")],
            "{login}"
        );
        assert!(
            values_of(object, "deleted").is_empty() && values_of(object, "notes").is_empty(),
            "{login}: the soft-delete flag and the excluded column are not attributes"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. delta imports
// ---------------------------------------------------------------------------------------

async fn delta_by_watermark_column_sees_updates_and_soft_deletes(kind: Kind) {
    let (target, pool) = people(kind).await;
    target
        .batch(
            "INSERT INTO people (login, updated_at) VALUES ('p1', '2024-01-01 00:00:00');
             INSERT INTO people (login, updated_at) VALUES ('p2', '2024-01-01 00:00:00');
             INSERT INTO people (login, updated_at) VALUES ('p3', '2024-01-01 00:00:00');
             INSERT INTO people (login, updated_at) VALUES ('p4', '2024-01-01 00:00:01');",
        )
        .await;
    let (p1, p2, p3, p4) = (
        id_of(&target, "p1").await,
        id_of(&target, "p2").await,
        id_of(&target, "p3").await,
        id_of(&target, "p4").await,
    );

    let watermark = watermark_after_full_import(&pool).await;
    // The rows at the watermark's own instant may be read again; nothing older is.
    let first = delta(&pool, &watermark, 10).await;
    assert!(
        described(&first.entries)
            .iter()
            .all(|entry| *entry == format!("+{p4}")),
        "only the newest row may be seen again: {:?}",
        described(&first.entries)
    );
    assert!(!first.more);
    let quiet = delta(&pool, &first.watermark, 10).await;
    assert_eq!(described(&quiet.entries), Vec::<String>::new());
    assert!(!quiet.more);

    // p2 changes and gets an address, p3 is soft-deleted and p5 is new, all at one
    // instant; p1 changes a day later.
    target
        .batch(
            "UPDATE people SET display_name = 'Two', updated_at = '2024-01-02 00:00:00' WHERE login = 'p2';
             INSERT INTO person_emails (person_id, email) SELECT id, 'two@example.org' FROM people WHERE login = 'p2';
             UPDATE people SET deleted = TRUE, updated_at = '2024-01-02 00:00:00' WHERE login = 'p3';
             INSERT INTO people (login, updated_at) VALUES ('p5', '2024-01-02 00:00:00');
             UPDATE people SET display_name = 'One', updated_at = '2024-01-03 00:00:00' WHERE login = 'p1';",
        )
        .await;
    let p5 = id_of(&target, "p5").await;

    let page = delta(&pool, &quiet.watermark, 2).await;
    assert_eq!(
        described(&page.entries),
        [format!("+{p2}"), format!("-{p3}")]
    );
    assert!(page.more, "a full page says there is more");
    let two = upserted(&page.entries, &p2);
    assert_eq!(strings_of(two, "display_name"), ["Two"]);
    assert_eq!(strings_of(two, "emails"), ["two@example.org"]);

    // The rest of the same instant (p5 after p2 and p3), then the later change.
    let page = delta(&pool, &page.watermark, 2).await;
    assert_eq!(
        described(&page.entries),
        [format!("+{p5}"), format!("+{p1}")]
    );
    assert!(page.more);
    assert_eq!(
        strings_of(upserted(&page.entries, &p1), "display_name"),
        ["One"]
    );

    let page = delta(&pool, &page.watermark, 2).await;
    assert_eq!(described(&page.entries), Vec::<String>::new());
    assert!(!page.more, "nothing is left");
    assert_eq!(
        target
            .column("SELECT login FROM people WHERE deleted ORDER BY login")
            .await,
        ["p3"],
        "the soft-deleted row is still there"
    );
}

/// Accounts with a change table that triggers fill on every insert, update and delete.
async fn accounts(kind: Kind) -> (Target, SessionPool) {
    let target = Target::new(
        kind,
        "CREATE TABLE accounts (id {id}, name TEXT NOT NULL);
         CREATE TABLE account_changes (seq {id}, account_id BIGINT NOT NULL);",
    )
    .await;
    let triggers = match kind {
        Kind::Sqlite => {
            "CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts
                 BEGIN INSERT INTO account_changes (account_id) VALUES (NEW.id); END;
             CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts
                 BEGIN INSERT INTO account_changes (account_id) VALUES (NEW.id); END;
             CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts
                 BEGIN INSERT INTO account_changes (account_id) VALUES (OLD.id); END;"
        }
        Kind::Postgres => {
            "CREATE FUNCTION record_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 INSERT INTO account_changes (account_id)
                     VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
                 RETURN NULL;
             END $$;
             CREATE TRIGGER account_changed AFTER INSERT OR UPDATE OR DELETE ON accounts
                 FOR EACH ROW EXECUTE FUNCTION record_account_change();"
        }
    };
    target.batch(triggers).await;
    let pool = target
        .pool(json!([{
            "name": "account",
            "table": "accounts",
            "anchor": "id",
            "change-table": {"table": "account_changes", "sequence": "seq", "anchor": "account_id"}
        }]))
        .await;
    (target, pool)
}

async fn delta_by_change_table_sees_hard_deletes(kind: Kind) {
    let (target, pool) = accounts(kind).await;
    target
        .batch("INSERT INTO accounts (name) VALUES ('a1'); INSERT INTO accounts (name) VALUES ('a2'); INSERT INTO accounts (name) VALUES ('a3');")
        .await;
    let watermark = watermark_after_full_import(&pool).await;
    let quiet = delta(&pool, &watermark, 3).await;
    assert_eq!(
        described(&quiet.entries),
        Vec::<String>::new(),
        "nothing changed since the full import"
    );
    assert!(!quiet.more);

    // Six changes: a4 added, a1 changed twice, a5 added, a2 deleted in the database, and
    // a3 deleted through the connector.
    target
        .batch(
            "INSERT INTO accounts (name) VALUES ('a4');
             UPDATE accounts SET name = 'a1 v2' WHERE name = 'a1';
             UPDATE accounts SET name = 'a1 v3' WHERE name = 'a1 v2';
             INSERT INTO accounts (name) VALUES ('a5');
             DELETE FROM accounts WHERE name = 'a2';",
        )
        .await;
    assert_eq!(
        export_one(&pool, delete("account", "3")).await,
        Ok(None),
        "a3 deleted through the connector"
    );
    assert_eq!(target.count("account_changes").await, 9);

    // Three changes a page: a4, then a1 twice (reported once, as it is now).
    let page = delta(&pool, &quiet.watermark, 3).await;
    assert_eq!(described(&page.entries), ["+4", "+1"]);
    assert!(page.more, "three changes filled the page");
    assert_eq!(
        strings_of(upserted(&page.entries, "1"), "name"),
        ["a1 v3"],
        "the current state, not the state at the change"
    );

    let page = delta(&pool, &page.watermark, 3).await;
    assert_eq!(described(&page.entries), ["+5", "-2", "-3"]);
    assert!(page.more);
    assert_eq!(strings_of(upserted(&page.entries, "5"), "name"), ["a5"]);

    let page = delta(&pool, &page.watermark, 3).await;
    assert_eq!(described(&page.entries), Vec::<String>::new());
    assert!(!page.more);
    assert_eq!(
        target.column("SELECT id FROM accounts ORDER BY id").await,
        ["1", "4", "5"]
    );
}

// ---------------------------------------------------------------------------------------
// 4. exports
// ---------------------------------------------------------------------------------------

async fn export_writes_rows_and_child_rows(kind: Kind) {
    let (target, pool) = people(kind).await;
    let hired = Datetime {
        seconds: 1_714_566_600, // 2024-05-01T12:30:00Z
        nanoseconds: 0,
    };
    let ada = written(
        &pool,
        add_person(
            "ada",
            vec![
                attribute("display_name", texts(&["Ada Lovelace"])),
                attribute("age", vec![Value::Integer(36)]),
                attribute("active", vec![Value::Boolean(false)]),
                attribute("hired_at", vec![Value::Datetime(hired)]),
                attribute(
                    "emails",
                    texts(&["ada@one.example", "ada@two.example", "ada@one.example"]),
                ),
            ],
        ),
    )
    .await;
    let id = key_of(&ada);
    assert_eq!(
        target
            .column("SELECT id FROM people WHERE login = 'ada'")
            .await,
        [ada.anchor.as_str()],
        "the generated key is the anchor"
    );
    assert_eq!(
        person_row(&target, id).await,
        [cells([
            Some("ada"),
            Some("Ada Lovelace"),
            Some("36"),
            Some("no"),
            Some("1714566600")
        ])]
    );
    assert_eq!(
        emails_in_database(&target, id).await,
        ["ada@one.example", "ada@two.example"],
        "one child row per distinct value"
    );
    assert_eq!(
        strings_of(&ada, "emails"),
        ["ada@one.example", "ada@two.example"]
    );
    assert_eq!(values_of(&ada, "hired_at"), [Value::Datetime(hired)]);
    assert_eq!(values_of(&ada, "active"), [Value::Boolean(false)]);
    assert_eq!(
        values_of(&ada, "created_at").len(),
        1,
        "the database's default is read back"
    );

    // Replace the addresses, replace one column, clear another.
    let ada = written(
        &pool,
        update(
            "person",
            &ada.anchor,
            vec![
                replace("emails", texts(&["c@x.example", "d@x.example"])),
                replace("display_name", texts(&["Countess"])),
                AttributeChange::Clear("age".into()),
            ],
        ),
    )
    .await;
    assert_eq!(
        person_row(&target, id).await,
        [cells([
            Some("ada"),
            Some("Countess"),
            None,
            Some("no"),
            Some("1714566600")
        ])]
    );
    assert_eq!(
        emails_in_database(&target, id).await,
        ["c@x.example", "d@x.example"]
    );
    assert_eq!(strings_of(&ada, "emails"), ["c@x.example", "d@x.example"]);
    assert!(values_of(&ada, "age").is_empty());

    // Add values (one already there), then remove values (one never there): only those
    // child rows are touched and nothing is read back (`None`: the host applies the
    // change to its copy); `read` shows the result.
    let added = export_one(
        &pool,
        update(
            "person",
            &ada.anchor,
            vec![AttributeChange::AddValues(attribute(
                "emails",
                texts(&["e@x.example", "c@x.example"]),
            ))],
        ),
    )
    .await;
    assert_eq!(added, Ok(None));
    assert_eq!(
        emails_in_database(&target, id).await,
        ["c@x.example", "d@x.example", "e@x.example"]
    );
    let read = pool
        .read(&reference("person", &ada.anchor))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        strings_of(&read, "emails"),
        ["c@x.example", "d@x.example", "e@x.example"]
    );
    let removed = export_one(
        &pool,
        update(
            "person",
            &ada.anchor,
            vec![AttributeChange::RemoveValues(attribute(
                "emails",
                texts(&["c@x.example", "never@x.example"]),
            ))],
        ),
    )
    .await;
    assert_eq!(removed, Ok(None));
    assert_eq!(
        emails_in_database(&target, id).await,
        ["d@x.example", "e@x.example"]
    );

    // Clear the addresses, and empty a single-valued column by replacing it with nothing.
    let ada = written(
        &pool,
        update(
            "person",
            &ada.anchor,
            vec![
                AttributeChange::Clear("emails".into()),
                replace("display_name", Vec::new()),
            ],
        ),
    )
    .await;
    assert_eq!(emails_in_database(&target, id).await, Vec::<String>::new());
    assert!(values_of(&ada, "emails").is_empty());
    assert!(values_of(&ada, "display_name").is_empty());
    assert_eq!(person_row(&target, id).await[0][1], None);

    // A second person keeps its rows while the first is deleted with its child rows.
    let bob = written(
        &pool,
        add_person("bob", vec![attribute("emails", texts(&["bob@x.example"]))]),
    )
    .await;
    let added = export_one(
        &pool,
        update(
            "person",
            &ada.anchor,
            vec![AttributeChange::AddValues(attribute(
                "emails",
                texts(&["f@x.example"]),
            ))],
        ),
    )
    .await;
    assert_eq!(added, Ok(None));
    assert_eq!(
        export_one(&pool, delete("person", &ada.anchor)).await,
        Ok(None)
    );
    assert_eq!(target.count(&format!("people WHERE id = {id}")).await, 0);
    assert_eq!(emails_in_database(&target, id).await, Vec::<String>::new());
    assert_eq!(
        emails_in_database(&target, key_of(&bob)).await,
        ["bob@x.example"]
    );
    assert_eq!(target.column("SELECT login FROM people").await, ["bob"]);
}

async fn export_reports_each_failure_by_kind_and_goes_on(kind: Kind) {
    let (target, pool) = people(kind).await;
    let ada = written(
        &pool,
        add_person("ada", vec![attribute("age", vec![Value::Integer(36)])]),
    )
    .await;

    // Not found: an anchor no row has, and one that cannot be an integer key.
    for anchor in ["999999", "not-a-number"] {
        refused(
            &pool,
            update(
                "person",
                anchor,
                vec![replace("age", vec![Value::Integer(1)])],
            ),
            ErrorKind::NotFound,
        )
        .await;
        refused(&pool, delete("person", anchor), ErrorKind::NotFound).await;
    }

    // Already exists: the login is unique.
    refused(
        &pool,
        add_person("ada", Vec::new()),
        ErrorKind::AlreadyExists,
    )
    .await;
    assert_eq!(target.count("people").await, 1);

    // Invalid input naming the attribute: read-only (configured, and the watermark),
    // excluded, and unknown attributes; nothing is written.
    let created = vec![Value::Datetime(Datetime {
        seconds: 0,
        nanoseconds: 0,
    })];
    for name in ["created_at", "updated_at", "notes", "no_such_column"] {
        let values = if name.ends_with("_at") {
            created.clone()
        } else {
            texts(&["x"])
        };
        let error = refused(
            &pool,
            add_person("refused", vec![attribute(name, values.clone())]),
            ErrorKind::InvalidInput,
        )
        .await;
        assert_eq!(error.attribute.as_deref(), Some(name), "{error:?}");
        let error = refused(
            &pool,
            update("person", &ada.anchor, vec![replace(name, values)]),
            ErrorKind::InvalidInput,
        )
        .await;
        assert_eq!(error.attribute.as_deref(), Some(name), "{error:?}");
    }
    let error = refused(
        &pool,
        update("person", &ada.anchor, vec![replace("created_at", created)]),
        ErrorKind::InvalidInput,
    )
    .await;
    assert!(error.message.contains("read-only"), "{error:?}");
    assert_eq!(target.count("people WHERE login = 'refused'").await, 0);

    // A batch: the failures do not stop the changes after them.
    let results = export(
        &pool,
        vec![
            add_person("batch-1", Vec::new()),
            add_person("ada", Vec::new()),
            update(
                "person",
                "999999",
                vec![replace("age", vec![Value::Integer(1)])],
            ),
            add_person("batch-2", vec![attribute("emails", texts(&["no-at-sign"]))]),
            add_person(
                "batch-3",
                vec![attribute("emails", texts(&["b3@x.example"]))],
            ),
            delete("person", &ada.anchor),
        ],
    )
    .await;
    let outcome: Vec<Result<bool, ErrorKind>> = results
        .iter()
        .map(|result| match result {
            Ok(object) => Ok(object.is_some()),
            Err(error) => Err(error.kind),
        })
        .collect();
    assert_eq!(
        outcome,
        [
            Ok(true),
            Err(ErrorKind::AlreadyExists),
            Err(ErrorKind::NotFound),
            Err(ErrorKind::InvalidInput),
            Ok(true),
            Ok(false),
        ]
    );
    assert_eq!(
        target
            .column("SELECT login FROM people ORDER BY login")
            .await,
        ["batch-1", "batch-3"]
    );
    assert_eq!(
        target.column("SELECT email FROM person_emails").await,
        ["b3@x.example"]
    );
}

async fn a_failed_change_is_rolled_back_entirely(kind: Kind) {
    let (target, pool) = people(kind).await;
    // The row is inserted, the first address too, then the second breaks the CHECK.
    refused(
        &pool,
        add_person(
            "grace",
            vec![attribute(
                "emails",
                texts(&["grace@ok.example", "no-at-sign"]),
            )],
        ),
        ErrorKind::InvalidInput,
    )
    .await;
    assert_eq!(target.count("people").await, 0, "no half-added row");
    assert_eq!(
        target.count("person_emails").await,
        0,
        "no half-added child row"
    );

    // The column is updated, then an added address breaks the CHECK.
    let linus = written(
        &pool,
        add_person(
            "linus",
            vec![
                attribute("display_name", texts(&["Linus"])),
                attribute("emails", texts(&["linus@ok.example"])),
            ],
        ),
    )
    .await;
    refused(
        &pool,
        update(
            "person",
            &linus.anchor,
            vec![
                replace("display_name", texts(&["changed"])),
                AttributeChange::AddValues(attribute("emails", texts(&["also-no-at-sign"]))),
            ],
        ),
        ErrorKind::InvalidInput,
    )
    .await;
    assert_eq!(
        target.column("SELECT display_name FROM people").await,
        ["Linus"],
        "the column update was rolled back with the failed child insert"
    );
    assert_eq!(
        emails_in_database(&target, key_of(&linus)).await,
        ["linus@ok.example"]
    );

    // The session goes on: the next change commits.
    let linus = written(
        &pool,
        update(
            "person",
            &linus.anchor,
            vec![replace("display_name", texts(&["after"]))],
        ),
    )
    .await;
    assert_eq!(strings_of(&linus, "display_name"), ["after"]);
    assert_eq!(
        target.column("SELECT display_name FROM people").await,
        ["after"]
    );
}

// ---------------------------------------------------------------------------------------
// 5. odd identifiers and operator statements
// ---------------------------------------------------------------------------------------

/// A table whose name holds a space and whose columns are a keyword, a name with a
/// space, and a name with both kinds of quote.
const ODD: &str = r#"
    CREATE TABLE "odd table" (
        "id" {id},
        "select" TEXT NOT NULL,
        "login" TEXT,
        "full name" TEXT,
        "it's ""quoted""" TEXT,
        "gone" INTEGER NOT NULL DEFAULT 0
    );
"#;

const QUOTED: &str = "it's \"quoted\"";

/// One row of the odd table: select, login, full name, it's "quoted", gone.
async fn odd_row(target: &Target, id: &str) -> Vec<Option<String>> {
    let rows = target
        .rows(&format!(
            r#"SELECT "select", "login", "full name", "it's ""quoted""", "gone" FROM "odd table" WHERE "id" = {id}"#
        ))
        .await;
    assert_eq!(rows.len(), 1, "row {id}");
    rows.into_iter().next().unwrap()
}

fn cells<const N: usize>(values: [Option<&str>; N]) -> Vec<Option<String>> {
    values.map(|value| value.map(str::to_owned)).to_vec()
}

async fn operator_statements_bind_named_parameters_around_odd_identifiers(kind: Kind) {
    let target = Target::new(kind, ODD).await;
    let pool = target
        .pool(json!([{
            "name": "odd",
            "table": "odd table",
            "anchor": "id",
            "soft-delete": "gone",
            "statements": {
                // `:login` twice, a `:name` inside a string literal, quoted identifiers.
                "insert": r#"INSERT INTO "odd table" ("select", "login", "full name", "it's ""quoted""") VALUES (:select, :login, :login, 'kept: :not_a_parameter') RETURNING "id""#,
                // Writes "full name" from :login but leaves "login" alone.
                "update": r#"UPDATE "odd table" SET "select" = :select, "full name" = :login WHERE "id" = :id"#,
                // A soft delete.
                "delete": r#"UPDATE "odd table" SET "gone" = 1 WHERE "id" = :id AND "gone" = 0"#
            }
        }]))
        .await;
    let schema = pool.schema().await.expect("schema");
    let names: Vec<&str> = schema.object_types[0]
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["id", "select", "login", "full name", QUOTED]);

    let first = written(
        &pool,
        add(
            "odd",
            vec![
                attribute("select", texts(&["from"])),
                attribute("login", texts(&["o'neil"])),
            ],
        ),
    )
    .await;
    assert_eq!(
        target
            .column(r#"SELECT "id" FROM "odd table" WHERE "login" = 'o''neil'"#)
            .await,
        [first.anchor.as_str()],
        "the anchor RETURNING gave"
    );
    assert_eq!(
        odd_row(&target, &first.anchor).await,
        cells([
            Some("from"),
            Some("o'neil"),
            Some("o'neil"),
            Some("kept: :not_a_parameter"),
            Some("0")
        ])
    );
    assert_eq!(strings_of(&first, QUOTED), ["kept: :not_a_parameter"]);
    assert_eq!(strings_of(&first, "full name"), ["o'neil"]);

    // A parameter the change does not give is bound as NULL.
    let second = written(
        &pool,
        add("odd", vec![attribute("select", texts(&["where"]))]),
    )
    .await;
    assert_eq!(
        odd_row(&target, &second.anchor).await,
        cells([
            Some("where"),
            None,
            None,
            Some("kept: :not_a_parameter"),
            Some("0")
        ])
    );

    // The operator's update runs, bound with the object's new state.
    let first = written(
        &pool,
        update(
            "odd",
            &first.anchor,
            vec![
                replace("select", texts(&["group by"])),
                replace("login", texts(&["new login"])),
            ],
        ),
    )
    .await;
    assert_eq!(
        odd_row(&target, &first.anchor).await,
        cells([
            Some("group by"),
            Some("o'neil"),
            Some("new login"),
            Some("kept: :not_a_parameter"),
            Some("0")
        ]),
        "the operator's statement, not a generated one, wrote the row"
    );
    assert_eq!(strings_of(&first, "login"), ["o'neil"], "read back");
    assert_eq!(strings_of(&first, "full name"), ["new login"]);

    // The operator's delete soft-deletes: the row stays, imports no longer see it, and
    // a second delete finds nothing to delete.
    assert_eq!(
        export_one(&pool, delete("odd", &first.anchor)).await,
        Ok(None)
    );
    assert_eq!(
        odd_row(&target, &first.anchor).await[4].as_deref(),
        Some("1")
    );
    refused(&pool, delete("odd", &first.anchor), ErrorKind::NotFound).await;
    refused(
        &pool,
        update("odd", &first.anchor, vec![replace("select", texts(&["x"]))]),
        ErrorKind::NotFound,
    )
    .await;
    let imported: Vec<String> = full_import(&pool, 10)
        .await
        .into_iter()
        .flat_map(|page| page.objects)
        .map(|object| object.anchor)
        .collect();
    assert_eq!(imported, [second.anchor]);
}

async fn generated_statements_quote_odd_identifiers(kind: Kind) {
    let target = Target::new(kind, ODD).await;
    let pool = target
        .pool(json!([{"name": "odd", "table": "odd table", "anchor": "id"}]))
        .await;
    let object = written(
        &pool,
        add(
            "odd",
            vec![
                attribute("select", texts(&["distinct"])),
                attribute("full name", texts(&["Ada \"the\" Countess"])),
                attribute(QUOTED, texts(&["it's"])),
                attribute("gone", vec![Value::Integer(0)]),
            ],
        ),
    )
    .await;
    assert_eq!(
        odd_row(&target, &object.anchor).await,
        cells([
            Some("distinct"),
            None,
            Some("Ada \"the\" Countess"),
            Some("it's"),
            Some("0")
        ])
    );
    let object = written(
        &pool,
        update(
            "odd",
            &object.anchor,
            vec![
                replace(QUOTED, texts(&["\"both\" 'quotes'"])),
                replace("full name", Vec::new()),
            ],
        ),
    )
    .await;
    assert_eq!(
        odd_row(&target, &object.anchor).await,
        cells([
            Some("distinct"),
            None,
            None,
            Some("\"both\" 'quotes'"),
            Some("0")
        ])
    );
    let imported: Vec<Object> = full_import(&pool, 10)
        .await
        .into_iter()
        .flat_map(|page| page.objects)
        .collect();
    assert_eq!(
        imported,
        std::slice::from_ref(&object),
        "the import reads what the export returned"
    );
    assert_eq!(strings_of(&object, QUOTED), ["\"both\" 'quotes'"]);
    assert_eq!(
        export_one(&pool, delete("odd", &object.anchor)).await,
        Ok(None)
    );
    assert_eq!(target.count(r#""odd table""#).await, 0);
}

// ---------------------------------------------------------------------------------------
// 6. hostile values
// ---------------------------------------------------------------------------------------

/// Values that break naive SQL, encodings or buffers.
fn hostile_values() -> Vec<String> {
    vec![
        "O'Brien \"Bob\" `tick` \\back\\slash".into(),
        "'; DROP TABLE people; --".into(),
        "Robert\"); DROP TABLE person_emails; --".into(),
        "$1 ? ?1 :login".into(),
        "𝔘𝔫𝔦😀".into(),
        format!("{}é😀", "0123456789".repeat(1024)),
    ]
}

async fn hostile_values_land_literally(kind: Kind) {
    let (target, pool) = people(kind).await;
    let values = hostile_values();
    let mut anchors = Vec::new();
    for (index, value) in values.iter().enumerate() {
        // Short values also go into the child table (an index entry cannot hold 10 kB).
        let emails = if value.len() < 1000 {
            vec![text(&format!("{value}@example.org"))]
        } else {
            Vec::new()
        };
        let object = written(
            &pool,
            add_person(
                &format!("hostile-{index}"),
                vec![
                    attribute("display_name", vec![text(value)]),
                    attribute("emails", emails.clone()),
                ],
            ),
        )
        .await;
        assert_eq!(values_of(&object, "display_name"), [text(value)], "{index}");
        assert_eq!(values_of(&object, "emails"), emails, "{index}");
        assert_eq!(
            display_name(&target, &format!("hostile-{index}")).await,
            [[Some(value.clone())]],
            "value {index} stored exactly"
        );
        if !emails.is_empty() {
            assert_eq!(
                emails_in_database(&target, key_of(&object)).await,
                [format!("{value}@example.org")]
            );
        }
        anchors.push(object.anchor);
    }
    // Through update: each object takes the next value.
    for (index, anchor) in anchors.iter().enumerate() {
        let value = &values[(index + 1) % values.len()];
        let object = written(
            &pool,
            update(
                "person",
                anchor,
                vec![replace("display_name", vec![text(value)])],
            ),
        )
        .await;
        assert_eq!(values_of(&object, "display_name"), [text(value)], "{index}");
        assert_eq!(
            display_name(&target, &format!("hostile-{index}")).await,
            [[Some(value.clone())]],
            "value {} stored exactly by an update",
            (index + 1) % values.len()
        );
    }
    assert_eq!(
        target.count("people").await,
        values.len(),
        "no table dropped"
    );
    let imported: Vec<Object> = full_import(&pool, 100)
        .await
        .into_iter()
        .flat_map(|page| page.objects)
        .collect();
    for (index, object) in imported.iter().enumerate() {
        assert_eq!(
            values_of(object, "display_name"),
            [text(&values[(index + 1) % values.len()])],
            "imported {index}"
        );
    }

    // NUL: SQLite keeps it; PostgreSQL text cannot hold it, so the change is refused and
    // nothing is written.
    let nul = "nul\0byte";
    let nul_add = add_person(
        "hostile-nul",
        vec![attribute("display_name", vec![text(nul)])],
    );
    let nul_update = update(
        "person",
        &anchors[0],
        vec![replace("display_name", vec![text(nul)])],
    );
    match kind {
        Kind::Sqlite => {
            let object = written(&pool, nul_add).await;
            assert_eq!(values_of(&object, "display_name"), [text(nul)]);
            assert_eq!(
                display_name(&target, "hostile-nul").await,
                [[Some(nul.to_owned())]]
            );
            written(&pool, nul_update).await;
            assert_eq!(
                display_name(&target, "hostile-0").await,
                [[Some(nul.to_owned())]]
            );
        }
        Kind::Postgres => {
            refused(&pool, nul_add, ErrorKind::InvalidInput).await;
            assert_eq!(target.count("people WHERE login = 'hostile-nul'").await, 0);
            refused(&pool, nul_update, ErrorKind::InvalidInput).await;
            assert_eq!(
                display_name(&target, "hostile-0").await,
                [[Some(values[1].clone())]],
                "unchanged"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 7. composite anchors
// ---------------------------------------------------------------------------------------

/// Accounts keyed by (tenant, login), their roles in a child table keyed by both columns
/// (its foreign key cascades key updates), and a change table that triggers fill with the
/// old and the new key of every change.
async fn tenant_accounts(kind: Kind) -> (Target, SessionPool) {
    let target = Target::new(
        kind,
        "CREATE TABLE accounts (
             tenant TEXT NOT NULL,
             login TEXT NOT NULL,
             display_name TEXT,
             PRIMARY KEY (tenant, login)
         );
         CREATE TABLE account_roles (
             tenant TEXT NOT NULL,
             login TEXT NOT NULL,
             role TEXT NOT NULL,
             PRIMARY KEY (tenant, login, role),
             FOREIGN KEY (tenant, login) REFERENCES accounts (tenant, login) ON UPDATE CASCADE
         );
         CREATE TABLE account_changes (seq {id}, tenant TEXT NOT NULL, login TEXT NOT NULL);",
    )
    .await;
    let triggers = match kind {
        Kind::Sqlite => {
            "CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts BEGIN
                 INSERT INTO account_changes (tenant, login) VALUES (NEW.tenant, NEW.login); END;
             CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts BEGIN
                 INSERT INTO account_changes (tenant, login) VALUES (OLD.tenant, OLD.login);
                 INSERT INTO account_changes (tenant, login) VALUES (NEW.tenant, NEW.login); END;
             CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts BEGIN
                 INSERT INTO account_changes (tenant, login) VALUES (OLD.tenant, OLD.login); END;"
        }
        Kind::Postgres => {
            "CREATE FUNCTION record_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF TG_OP <> 'INSERT' THEN
                     INSERT INTO account_changes (tenant, login) VALUES (OLD.tenant, OLD.login);
                 END IF;
                 IF TG_OP <> 'DELETE' THEN
                     INSERT INTO account_changes (tenant, login) VALUES (NEW.tenant, NEW.login);
                 END IF;
                 RETURN NULL;
             END $$;
             CREATE TRIGGER account_changed AFTER INSERT OR UPDATE OR DELETE ON accounts
                 FOR EACH ROW EXECUTE FUNCTION record_account_change();"
        }
    };
    target.batch(triggers).await;
    let pool = target.pool(tenant_accounts_config()).await;
    (target, pool)
}

/// The object-types setting of [`tenant_accounts`]: every key of two columns.
fn tenant_accounts_config() -> serde_json::Value {
    let key = json!(["tenant", "login"]);
    json!([{
        "name": "account",
        "table": "accounts",
        "anchor": key,
        "change-table": {"table": "account_changes", "sequence": "seq", "anchor": key},
        "multi-valued": [
            {"attribute": "roles", "table": "account_roles", "key": key, "value": "role"}
        ]
    }])
}

/// The anchor of the account (tenant, login).
fn account(tenant: &str, login: &str) -> String {
    serde_json::to_string(&[tenant, login]).unwrap()
}

/// Every account as the database holds it: tenant, login, display name, in key order.
async fn accounts_in_database(target: &Target) -> Vec<Vec<Option<String>>> {
    target
        .rows("SELECT tenant, login, display_name FROM accounts ORDER BY tenant, login")
        .await
}

/// Every role as the database holds it: tenant, login, role.
async fn roles_in_database(target: &Target) -> Vec<Vec<Option<String>>> {
    target
        .rows("SELECT tenant, login, role FROM account_roles ORDER BY tenant, login, role")
        .await
}

fn add_account(tenant: &str, login: &str, roles: &[&str]) -> Change {
    add(
        "account",
        vec![
            attribute("tenant", texts(&[tenant])),
            attribute("login", texts(&[login])),
            attribute("roles", texts(roles)),
        ],
    )
}

fn rename(object_type: &str, anchor: &str, new_name: &str) -> Change {
    Change::Rename(RenameChange {
        target: reference(object_type, anchor),
        new_name: new_name.into(),
    })
}

async fn composite_anchors_read_write_page_and_delta(kind: Kind) {
    let (target, pool) = tenant_accounts(kind).await;
    let schema = pool.schema().await.expect("schema");
    assert_eq!(
        schema.object_types[0].anchor_attributes,
        ["tenant", "login"]
    );

    // Add: the anchor is the JSON array of the key's parts, whatever they hold.
    let ann = written(&pool, add_account("acme", "ann", &["admin", "dev"])).await;
    assert_eq!(ann.anchor, r#"["acme","ann"]"#);
    assert_eq!(strings_of(&ann, "roles"), ["admin", "dev"]);
    let odd = written(&pool, add_account("a\"b,c", "é😀 ]", &["x"])).await;
    assert_eq!(odd.anchor, account("a\"b,c", "é😀 ]"));
    assert_eq!(
        roles_in_database(&target).await,
        [
            cells([Some("a\"b,c"), Some("é😀 ]"), Some("x")]),
            cells([Some("acme"), Some("ann"), Some("admin")]),
            cells([Some("acme"), Some("ann"), Some("dev")]),
        ]
    );

    // Read by anchor.
    let read = pool.read(&reference("account", &odd.anchor)).await.unwrap();
    assert_eq!(read.as_ref(), Some(&odd));
    for missing in [
        account("acme", "nobody"),
        "acme".into(),
        r#"["acme"]"#.into(),
    ] {
        assert_eq!(
            pool.read(&reference("account", &missing)).await.unwrap(),
            None,
            "{missing}"
        );
    }

    // Update: a column and the child rows of this key only.
    let ann = written(
        &pool,
        update(
            "account",
            &ann.anchor,
            vec![
                replace("display_name", texts(&["Ann"])),
                replace("roles", texts(&["dev", "ops"])),
            ],
        ),
    )
    .await;
    assert_eq!(strings_of(&ann, "roles"), ["dev", "ops"]);
    assert_eq!(
        accounts_in_database(&target).await,
        [
            cells([Some("a\"b,c"), Some("é😀 ]"), None]),
            cells([Some("acme"), Some("ann"), Some("Ann")]),
        ]
    );
    assert_eq!(roles_in_database(&target).await.len(), 3);

    // Delete, with the child rows.
    assert_eq!(
        export_one(&pool, delete("account", &odd.anchor)).await,
        Ok(None)
    );
    refused(&pool, delete("account", &odd.anchor), ErrorKind::NotFound).await;
    assert_eq!(
        roles_in_database(&target).await,
        [
            cells([Some("acme"), Some("ann"), Some("dev")]),
            cells([Some("acme"), Some("ann"), Some("ops")]),
        ]
    );

    // Full import in key order, two a page: a page boundary falls inside tenant acme,
    // where comparing the columns one by one instead of as a row would skip (beta, ann).
    target
        .batch(
            "INSERT INTO accounts (tenant, login) VALUES ('beta', 'ann');
             INSERT INTO accounts (tenant, login) VALUES ('acme', 'cy');
             INSERT INTO accounts (tenant, login) VALUES ('acme', 'bob');
             INSERT INTO accounts (tenant, login) VALUES ('beta', 'al');
             INSERT INTO accounts (tenant, login) VALUES ('ceta', 'zed');
             INSERT INTO account_roles (tenant, login, role) VALUES ('beta', 'ann', 'r1');",
        )
        .await;
    let expected: Vec<String> = accounts_in_database(&target)
        .await
        .into_iter()
        .map(|row| account(row[0].as_deref().unwrap(), row[1].as_deref().unwrap()))
        .collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(expected[2], account("acme", "cy"));
    let pages = full_import(&pool, 2).await;
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let objects: Vec<&Object> = pages.iter().flat_map(|page| &page.objects).collect();
    let anchors: Vec<&str> = objects
        .iter()
        .map(|object| object.anchor.as_str())
        .collect();
    assert_eq!(anchors, expected, "every account once, in key order");
    let beta_ann = objects
        .iter()
        .find(|object| object.anchor == account("beta", "ann"))
        .unwrap();
    assert_eq!(strings_of(beta_ann, "roles"), ["r1"]);
    assert_eq!(strings_of(beta_ann, "tenant"), ["beta"]);

    // Deltas from the change table: composite anchors; a key changed in the database is
    // the old anchor deleted and the new one upserted.
    let watermark = pages.last().unwrap().watermark.clone().unwrap();
    target
        .batch(
            "UPDATE accounts SET display_name = 'Bob' WHERE tenant = 'acme' AND login = 'bob';
             DELETE FROM accounts WHERE tenant = 'ceta';
             UPDATE accounts SET login = 'ann2' WHERE tenant = 'beta' AND login = 'ann';",
        )
        .await;
    let page = delta(&pool, &watermark, 100).await;
    assert_eq!(
        described(&page.entries),
        [
            format!("+{}", account("acme", "bob")),
            format!("-{}", account("ceta", "zed")),
            format!("-{}", account("beta", "ann")),
            format!("+{}", account("beta", "ann2")),
        ]
    );
    let moved = upserted(&page.entries, &account("beta", "ann2"));
    assert_eq!(
        strings_of(moved, "roles"),
        ["r1"],
        "the roles followed the key"
    );
}

// ---------------------------------------------------------------------------------------
// 8. key moves: an update of a key column, or a rename
// ---------------------------------------------------------------------------------------

/// Staff keyed by their login, with phones in a child table (its foreign key cascades
/// key updates), a manager column pointing at other staff, and teams whose members are
/// staff; the last two foreign keys are deferrable (PostgreSQL's default foreign key,
/// neither cascading nor deferrable, would refuse a key move).
const STAFF: &str = "
    CREATE TABLE staff (
        login TEXT PRIMARY KEY,
        display_name TEXT,
        manager TEXT REFERENCES staff (login) DEFERRABLE
    );
    CREATE TABLE staff_phones (
        login TEXT NOT NULL REFERENCES staff (login) ON UPDATE CASCADE,
        phone TEXT NOT NULL
    );
    CREATE TABLE teams (name TEXT PRIMARY KEY);
    CREATE TABLE team_members (
        team TEXT NOT NULL REFERENCES teams (name),
        member TEXT NOT NULL REFERENCES staff (login) DEFERRABLE,
        PRIMARY KEY (team, member)
    );
";

fn staff_config() -> serde_json::Value {
    json!([{
        "name": "staff",
        "table": "staff",
        "anchor": "login",
        "references": {"manager": "staff"},
        "multi-valued": [
            {"attribute": "phones", "table": "staff_phones", "key": "login", "value": "phone"}
        ]
    }, {
        "name": "team",
        "table": "teams",
        "anchor": "name",
        "multi-valued": [{
            "attribute": "members", "table": "team_members", "key": "team",
            "value": "member", "reference": "staff"
        }]
    }])
}

/// Everything the staff fixture's tables hold, table by table, in a fixed order.
async fn staff_tables(target: &Target) -> Vec<Vec<Vec<Option<String>>>> {
    let mut tables = Vec::new();
    for sql in [
        "SELECT login, display_name, manager FROM staff ORDER BY login",
        "SELECT login, phone FROM staff_phones ORDER BY login, phone",
        "SELECT team, member FROM team_members ORDER BY team, member",
    ] {
        tables.push(target.rows(sql).await);
    }
    tables
}

async fn a_new_key_moves_the_object_and_what_points_at_it(kind: Kind) {
    let target = Target::new(kind, STAFF).await;
    let pool = target.pool(staff_config()).await;
    let staff = |login: &str, phones: &[&str], manager: Option<&str>| {
        let mut attributes = vec![
            attribute("login", texts(&[login])),
            attribute("phones", texts(phones)),
        ];
        attributes.extend(
            manager.map(|manager| attribute("manager", vec![Value::Reference(manager.into())])),
        );
        add("staff", attributes)
    };
    written(&pool, staff("ann", &["1", "2"], None)).await;
    written(&pool, staff("bob", &["3"], Some("ann"))).await;
    written(
        &pool,
        add(
            "team",
            vec![
                attribute("name", texts(&["ops"])),
                attribute(
                    "members",
                    vec![
                        Value::Reference("ann".into()),
                        Value::Reference("bob".into()),
                    ],
                ),
            ],
        ),
    )
    .await;
    let moved_to = |login: &str| {
        vec![
            vec![
                cells([Some("bob"), None, Some(login)]),
                cells([Some(login), Some("Anne"), None]),
            ],
            vec![
                cells([Some("bob"), Some("3")]),
                cells([Some(login), Some("1")]),
                cells([Some(login), Some("2")]),
            ],
            vec![
                cells([Some("ops"), Some("bob")]),
                cells([Some("ops"), Some(login)]),
            ],
        ]
        .into_iter()
        .map(|mut rows| {
            rows.sort();
            rows
        })
        .collect::<Vec<_>>()
    };

    // An update of the key column (with another column): row, phones, the team's
    // membership and bob's manager all move; the object comes back with its new anchor.
    let anne = written(
        &pool,
        update(
            "staff",
            "ann",
            vec![
                replace("login", texts(&["anne"])),
                replace("display_name", texts(&["Anne"])),
            ],
        ),
    )
    .await;
    assert_eq!(anne.anchor, "anne");
    assert_eq!(strings_of(&anne, "phones"), ["1", "2"]);
    assert_eq!(staff_tables(&target).await, moved_to("anne"));
    assert_eq!(pool.read(&reference("staff", "ann")).await.unwrap(), None);

    // A rename change: `new-name` is the new anchor.
    let renamed = written(&pool, rename("staff", "anne", "ann-marie")).await;
    assert_eq!(renamed.anchor, "ann-marie");
    assert_eq!(strings_of(&renamed, "display_name"), ["Anne"]);
    assert_eq!(staff_tables(&target).await, moved_to("ann-marie"));
    let team = pool.read(&reference("team", "ops")).await.unwrap().unwrap();
    let mut members = values_of(&team, "members");
    members.sort_by_key(|value| format!("{value:?}"));
    assert_eq!(
        members,
        [
            Value::Reference("ann-marie".into()),
            Value::Reference("bob".into())
        ]
    );

    // A key another object has: already-exists, and nothing changes.
    let before = staff_tables(&target).await;
    refused(
        &pool,
        rename("staff", "bob", "ann-marie"),
        ErrorKind::AlreadyExists,
    )
    .await;
    refused(
        &pool,
        update(
            "staff",
            "ann-marie",
            vec![
                replace("display_name", texts(&["changed"])),
                replace("login", texts(&["bob"])),
            ],
        ),
        ErrorKind::AlreadyExists,
    )
    .await;
    assert_eq!(staff_tables(&target).await, before, "nothing changed");
    refused(&pool, rename("staff", "nobody", "x"), ErrorKind::NotFound).await;
}

async fn a_composite_key_moves_with_its_child_rows(kind: Kind) {
    let (target, pool) = tenant_accounts(kind).await;
    written(&pool, add_account("acme", "ann", &["admin", "dev"])).await;
    written(&pool, add_account("acme", "bob", &["dev"])).await;
    let moved = written(
        &pool,
        update(
            "account",
            &account("acme", "ann"),
            vec![replace("login", texts(&["anna"]))],
        ),
    )
    .await;
    assert_eq!(moved.anchor, account("acme", "anna"));
    let renamed = written(
        &pool,
        rename("account", &moved.anchor, &account("beta", "anna")),
    )
    .await;
    assert_eq!(renamed.anchor, account("beta", "anna"));
    assert_eq!(strings_of(&renamed, "roles"), ["admin", "dev"]);
    let expected_roles = [
        cells([Some("acme"), Some("bob"), Some("dev")]),
        cells([Some("beta"), Some("anna"), Some("admin")]),
        cells([Some("beta"), Some("anna"), Some("dev")]),
    ];
    assert_eq!(roles_in_database(&target).await, expected_roles);
    refused(
        &pool,
        rename("account", &renamed.anchor, &account("acme", "bob")),
        ErrorKind::AlreadyExists,
    )
    .await;
    refused(
        &pool,
        rename("account", &renamed.anchor, "beta"),
        ErrorKind::InvalidInput,
    )
    .await;
    assert_eq!(
        accounts_in_database(&target).await,
        [
            cells([Some("acme"), Some("bob"), None]),
            cells([Some("beta"), Some("anna"), None]),
        ]
    );
    assert_eq!(roles_in_database(&target).await, expected_roles);
}

// ---------------------------------------------------------------------------------------
// 9. nested groups: a link table to several object types
// ---------------------------------------------------------------------------------------

/// Staff and teams keyed by name; a team's members are staff or teams, `member_type`
/// naming which (the member column has no foreign key: it holds keys of two tables).
const CREWS: &str = "
    CREATE TABLE staff (login TEXT PRIMARY KEY);
    CREATE TABLE teams (name TEXT PRIMARY KEY);
    CREATE TABLE team_members (
        team TEXT NOT NULL REFERENCES teams (name) ON UPDATE CASCADE,
        member TEXT NOT NULL,
        member_type TEXT NOT NULL,
        PRIMARY KEY (team, member, member_type)
    );
";

fn crews_config() -> serde_json::Value {
    json!([{"name": "staff", "table": "staff", "anchor": "login"}, {
        "name": "team",
        "table": "teams",
        "anchor": "name",
        "multi-valued": [{
            "attribute": "members", "table": "team_members", "key": "team", "value": "member",
            "reference": ["staff", "team"], "reference-type-column": "member_type"
        }]
    }])
}

/// The membership rows: team, member, member type; sorted.
async fn crew_rows(target: &Target) -> Vec<Vec<Option<String>>> {
    target
        .rows(
            "SELECT team, member, member_type FROM team_members ORDER BY team, member, member_type",
        )
        .await
}

fn crew(rows: &[[&str; 3]]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|row| cells(row.map(Some))).collect()
}

fn references(anchors: &[&str]) -> Vec<Value> {
    anchors
        .iter()
        .map(|anchor| Value::Reference((*anchor).into()))
        .collect()
}

/// Adds (`add`) or removes members of team `team`, which must succeed.
async fn change_members(pool: &SessionPool, team: &str, add: bool, members: &[&str]) {
    let values = attribute("members", references(members));
    let change = if add {
        AttributeChange::AddValues(values)
    } else {
        AttributeChange::RemoveValues(values)
    };
    let result = export_one(pool, update("team", team, vec![change])).await;
    assert!(result.is_ok(), "{team} {add} {members:?}: {result:?}");
}

async fn nested_groups_keep_each_members_type(kind: Kind) {
    let target = Target::new(kind, CREWS).await;
    let pool = target.pool(crews_config()).await;
    pool.test_connection().await.expect("test-connection");
    let schema = pool.schema().await.expect("schema");
    let members = schema.object_types[1]
        .attributes
        .iter()
        .find(|a| a.name == "members")
        .unwrap();
    assert_eq!(members.reference_types, ["staff", "team"]);
    assert_eq!(members.value_type, ValueType::Reference);

    let staff = |login: &str| add("staff", vec![attribute("login", texts(&[login]))]);
    let team = |name: &str, members: &[&str]| {
        add(
            "team",
            vec![
                attribute("name", texts(&[name])),
                attribute("members", references(members)),
            ],
        )
    };
    for login in ["ann", "bob"] {
        written(&pool, staff(login)).await;
    }
    written(&pool, team("ops", &[])).await;
    let eng = written(&pool, team("eng", &["ann", "ops"])).await;
    assert_eq!(values_of(&eng, "members"), references(&["ann", "ops"]));
    assert_eq!(
        crew_rows(&target).await,
        crew(&[["eng", "ann", "staff"], ["eng", "ops", "team"]])
    );

    // Add and remove a member of each type.
    change_members(&pool, "eng", true, &["bob"]).await;
    change_members(&pool, "eng", false, &["ops"]).await;
    assert_eq!(
        crew_rows(&target).await,
        crew(&[["eng", "ann", "staff"], ["eng", "bob", "staff"]])
    );
    change_members(&pool, "eng", true, &["ops"]).await;
    change_members(&pool, "eng", false, &["ann"]).await;
    let expected = crew(&[["eng", "bob", "staff"], ["eng", "ops", "team"]]);
    assert_eq!(crew_rows(&target).await, expected);
    let read = pool.read(&reference("team", "eng")).await.unwrap().unwrap();
    assert_eq!(values_of(&read, "members"), references(&["bob", "ops"]));
    let pages = full_import(&pool, 100).await;
    let imported = pages
        .iter()
        .flat_map(|page| &page.objects)
        .find(|object| object.anchor == "eng")
        .unwrap();
    assert_eq!(values_of(imported, "members"), references(&["bob", "ops"]));

    // A member no type has, and one both types have: refused, nothing written.
    let add_members = |members: &[&str]| {
        update(
            "team",
            "eng",
            vec![AttributeChange::AddValues(attribute(
                "members",
                references(members),
            ))],
        )
    };
    let missing = refused(&pool, add_members(&["ann", "nobody"]), ErrorKind::NotFound).await;
    assert!(missing.message.contains("'nobody'"), "{}", missing.message);
    written(&pool, staff("dup")).await;
    written(&pool, team("dup", &[])).await;
    let ambiguous = refused(&pool, add_members(&["ann", "dup"]), ErrorKind::InvalidInput).await;
    assert!(
        ambiguous.message.contains("'dup' is ambiguous"),
        "{}",
        ambiguous.message
    );
    refused(
        &pool,
        update(
            "team",
            "eng",
            vec![replace("members", references(&["bob", "dup"]))],
        ),
        ErrorKind::InvalidInput,
    )
    .await;
    assert_eq!(crew_rows(&target).await, expected, "nothing written");

    // A staff member's key move and delete touch only the rows naming staff: the team
    // that happens to be called "bob" keeps its membership.
    target
        .batch("INSERT INTO teams VALUES ('bob'); INSERT INTO team_members VALUES ('ops', 'bob', 'team');")
        .await;
    let robert = written(&pool, rename("staff", "bob", "robert")).await;
    assert_eq!(robert.anchor, "robert");
    assert_eq!(
        crew_rows(&target).await,
        crew(&[
            ["eng", "ops", "team"],
            ["eng", "robert", "staff"],
            ["ops", "bob", "team"]
        ])
    );
    assert_eq!(export_one(&pool, delete("staff", "robert")).await, Ok(None));
    assert_eq!(
        crew_rows(&target).await,
        crew(&[["eng", "ops", "team"], ["ops", "bob", "team"]])
    );
    // A team's delete: its own members, and the rows naming it as a member.
    assert_eq!(export_one(&pool, delete("team", "ops")).await, Ok(None));
    assert_eq!(crew_rows(&target).await, Vec::<Vec<Option<String>>>::new());
    assert_eq!(target.count("teams").await, 3, "eng, dup and bob are left");
}
