//! The connector end to end against a real SQLite (the one the host embeds), through the
//! SDK's `Sqlite`, which behaves like the host's `sql` capability: `?`/`?NNN`
//! placeholders, booleans as 0/1, timestamps written as RFC 3339 text, failures sorted
//! into kinds.

use std::cell::RefCell;
use std::rc::Rc;

use ferry_connector::Session;
use ferry_connector::Settings;
use ferry_connector::sql::{Database, Dialect, RowSet, SqlError, Statement};
use ferry_connector::testing::rusqlite::Connection;
use ferry_connector::testing::{self, Sqlite};
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Change, Datetime, DeltaEntry, Error, ErrorKind, Object,
    ObjectRef, RenameChange, Setting, SettingValue, UpdateChange, Value, ValueType,
};

use crate::describe::parameters;
use crate::session::SqlSession;

const SCHEMA: &str = "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        mail TEXT,
        active BOOLEAN NOT NULL DEFAULT 1,
        score REAL,
        photo BLOB,
        last_login TIMESTAMP,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00',
        deleted INTEGER NOT NULL DEFAULT 0,
        internal_notes TEXT
    );
    CREATE TABLE user_emails (
        user_id INTEGER NOT NULL REFERENCES users (id),
        email TEXT NOT NULL CHECK (email LIKE '%@%'),
        UNIQUE (user_id, email)
    );
    CREATE TABLE groups (gid TEXT PRIMARY KEY, title TEXT);
    CREATE TABLE group_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, gid TEXT NOT NULL);
    CREATE TRIGGER group_added AFTER INSERT ON groups BEGIN INSERT INTO group_changes (gid) VALUES (new.gid); END;
    CREATE TRIGGER group_changed AFTER UPDATE ON groups BEGIN INSERT INTO group_changes (gid) VALUES (new.gid); END;
    CREATE TRIGGER group_removed AFTER DELETE ON groups BEGIN INSERT INTO group_changes (gid) VALUES (old.gid); END;
";

const USER: &str = r#"{
    "name": "user", "table": "users", "anchor": "id",
    "watermark": "updated_at", "soft-delete": "deleted",
    "read-only": ["created_at"], "exclude": ["internal_notes"],
    "multi-valued": [{"attribute": "emails", "table": "user_emails", "key": "user_id", "value": "email"}]
}"#;

const GROUP: &str = r#"{
    "name": "group", "table": "groups", "anchor": "gid",
    "change-table": {"table": "group_changes", "sequence": "seq", "anchor": "gid"}
}"#;

fn database() -> Rc<Connection> {
    let connection = Connection::open_in_memory().unwrap();
    connection.execute_batch(SCHEMA).unwrap();
    Rc::new(connection)
}

fn open(db: &Rc<Connection>, types: &[&str]) -> Result<SqlSession<Sqlite>, Error> {
    open_on(Sqlite::new(Rc::clone(db)), types)
}

/// A session over `database` with these object types configured.
fn open_on<D: Database>(database: D, types: &[&str]) -> Result<SqlSession<D>, Error> {
    let given = vec![Setting::new(
        "object-types",
        SettingValue::Structured(format!("[{}]", types.join(","))),
    )];
    SqlSession::open(database, &Settings::parse(given, &parameters())?)
}

/// The SDK's SQLite, noting each round trip to the database: a statement's first word
/// (`INSERT`, `SELECT`, …), or `BEGIN`, `COMMIT`, `ROLLBACK`. How the tests pin what a
/// change costs.
struct Recording {
    db: Sqlite,
    trips: Rc<RefCell<Vec<String>>>,
}

impl Recording {
    /// A recording database over `db`, and the round trips it will note.
    fn new(db: &Rc<Connection>) -> (Self, Rc<RefCell<Vec<String>>>) {
        let trips = Rc::default();
        let recording = Self {
            db: Sqlite::new(Rc::clone(db)),
            trips: Rc::clone(&trips),
        };
        (recording, trips)
    }

    fn note(&self, trip: &str) {
        let word = trip.split_whitespace().next().unwrap_or_default();
        self.trips.borrow_mut().push(word.to_owned());
    }
}

impl Database for Recording {
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    fn quote_identifier(&self, name: &str) -> String {
        self.db.quote_identifier(name)
    }

    fn query(&self, statement: &Statement) -> Result<RowSet, SqlError> {
        self.note(&statement.text);
        self.db.query(statement)
    }

    fn execute(&self, statement: &Statement) -> Result<u64, SqlError> {
        self.note(&statement.text);
        self.db.execute(statement)
    }

    fn begin(&self) -> Result<(), SqlError> {
        self.note("BEGIN");
        self.db.begin()
    }

    fn commit(&self) -> Result<(), SqlError> {
        self.note("COMMIT");
        self.db.commit()
    }

    fn rollback(&self) -> Result<(), SqlError> {
        self.note("ROLLBACK");
        self.db.rollback()
    }
}

/// The round trips noted since the last call, which forgets them.
fn taken(trips: &RefCell<Vec<String>>) -> Vec<String> {
    trips.take()
}

fn connector(db: &Rc<Connection>) -> SqlSession<Sqlite> {
    open(db, &[USER, GROUP]).unwrap()
}

fn text(value: &str) -> Value {
    Value::String(value.into())
}

fn attribute(name: &str, values: Vec<Value>) -> Attribute {
    Attribute::new(name, values)
}

fn values<'a>(object: &'a Object, name: &str) -> Option<&'a [Value]> {
    object
        .attribute(name)
        .map(|attribute| attribute.values.as_slice())
}

fn add(object_type: &str, attributes: Vec<Attribute>) -> Change {
    Change::Add(AddChange {
        object_type: object_type.into(),
        attributes,
    })
}

fn update(object_type: &str, anchor: &str, changes: Vec<AttributeChange>) -> Change {
    Change::Update(UpdateChange {
        target: target(object_type, anchor),
        changes,
    })
}

fn target(object_type: &str, anchor: &str) -> ObjectRef {
    ObjectRef {
        object_type: object_type.into(),
        anchor: anchor.into(),
    }
}

/// Runs one change and returns its result.
fn run(connector: &dyn Session, change: Change) -> Result<Option<Object>, Error> {
    connector.export(vec![change]).remove(0)
}

fn add_user(connector: &SqlSession<Sqlite>, login: &str, emails: &[&str]) -> Object {
    let mut attributes = vec![attribute("login", vec![text(login)])];
    if !emails.is_empty() {
        attributes.push(attribute(
            "emails",
            emails.iter().map(|email| text(email)).collect(),
        ));
    }
    run(connector, add("user", attributes)).unwrap().unwrap()
}

/// Every object of a full import, page by page, and the watermark of the last page.
fn import_all(connector: &SqlSession<Sqlite>, page_size: u32) -> (Vec<Object>, String) {
    let (objects, watermark) = testing::import_all(connector, page_size);
    (
        objects,
        watermark.expect("the last page carries the watermark"),
    )
}

fn described(entry: &DeltaEntry) -> String {
    match entry {
        DeltaEntry::Upsert(object) => format!("upsert {} {}", object.object_type, object.anchor),
        DeltaEntry::Delete(target) => format!("delete {} {}", target.object_type, target.anchor),
    }
}

#[test]
fn describes_the_schema_from_the_discovered_columns() {
    let db = database();
    let schema = connector(&db).schema().unwrap();
    let user = &schema.object_types[0];
    assert_eq!(user.anchor_attributes, ["id"]);
    let summary: Vec<(String, ValueType, bool, bool, bool)> = user
        .attributes
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.value_type,
                a.multi_valued,
                a.required,
                a.read_only,
            )
        })
        .collect();
    let expected = [
        ("id", ValueType::Integer, false, false, false),
        ("login", ValueType::String, false, true, false),
        ("mail", ValueType::String, false, false, false),
        ("active", ValueType::Boolean, false, false, false),
        ("score", ValueType::String, false, false, false),
        ("photo", ValueType::Binary, false, false, false),
        ("last_login", ValueType::Datetime, false, false, false),
        ("created_at", ValueType::Datetime, false, false, true),
        ("updated_at", ValueType::Datetime, false, false, true),
        ("emails", ValueType::String, true, false, false),
    ]
    .map(|(name, value_type, multi, required, read_only)| {
        (name.to_owned(), value_type, multi, required, read_only)
    });
    assert_eq!(summary, expected);
    assert_eq!(schema.object_types[1].anchor_attributes, ["gid"]);
}

#[test]
fn open_names_what_the_database_does_not_have() {
    let db = database();
    let cases = [
        (
            r#"{"name": "user", "table": "people", "anchor": "id"}"#,
            "object-types[0] (user): the table 'people' does not exist",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "uid"}"#,
            "object-types[0] (user): anchor: the table 'users' has no column 'uid' (its columns: id, login,",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id", "watermark": "changed"}"#,
            "object-types[0] (user): watermark: the table 'users' has no column 'changed'",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id",
                "multi-valued": [{"attribute": "emails", "table": "user_emails", "key": "owner", "value": "email"}]}"#,
            "object-types[0] (user): multi-valued[0].key: the table 'user_emails' has no column 'owner'",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id",
                "multi-valued": [{"attribute": "mail", "table": "user_emails", "key": "user_id", "value": "email"}]}"#,
            "object-types[0] (user): multi-valued[0].attribute: 'mail' is already a column of table 'users'",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id",
                "multi-valued": [{"attribute": "friends", "table": "user_emails", "key": "user_id",
                                  "value": "email", "reference": ["user"], "reference-type-column": "kind"}]}"#,
            "object-types[0] (user): multi-valued[0].reference-type-column: the table 'user_emails' has no column 'kind'",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id", "read-only": ["nickname"]}"#,
            "object-types[0] (user): read-only[0]: 'nickname' is neither a column",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id",
                "statements": {"update": "UPDATE users SET mail = :mail WHERE id = :uid"}}"#,
            "object-types[0] (user): statements.update: unknown parameter ':uid' (it may use :id, :login,",
        ),
        (
            r#"{"name": "user", "table": "users", "anchor": "id",
                "statements": {"delete": "DELETE FROM users WHERE login = :login"}}"#,
            "object-types[0] (user): statements.delete: unknown parameter ':login' (it may use :id)",
        ),
        (
            r#"{"name": "user", "table": "users", "schema": "elsewhere", "anchor": "id"}"#,
            "object-types[0] (user): cannot read the columns of table 'elsewhere.users'",
        ),
    ];
    for (config, expected) in cases {
        let error = open(&db, &[config]).err().expect(config);
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{config}");
        assert!(
            error.message.starts_with(expected),
            "{}\n  expected: {expected}",
            error.message
        );
    }
}

#[test]
fn test_connection_notices_a_table_that_changed() {
    let db = database();
    let connector = connector(&db);
    connector.test_connection().unwrap();
    db.execute_batch(
        "ALTER TABLE users DROP COLUMN internal_notes; ALTER TABLE users DROP COLUMN score;",
    )
    .unwrap();
    let failure = connector.test_connection().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Internal);
    assert!(
        failure.message.starts_with("checking table 'users'"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("configuration mistake"),
        "{}",
        failure.message
    );
}

#[test]
fn full_import_pages_through_every_type_without_soft_deleted_rows() {
    let db = database();
    let connector = connector(&db);
    let ada = add_user(&connector, "ada", &["ada@example.com", "a@example.org"]);
    for login in ["bob", "cy", "dee", "eve"] {
        add_user(&connector, login, &[]);
    }
    db.execute_batch(
        "UPDATE users SET deleted = 1 WHERE login = 'cy';
         INSERT INTO groups VALUES ('admins', 'Admins'), ('staff', NULL);",
    )
    .unwrap();
    for page_size in [1, 2, 3, 100] {
        let (objects, watermark) = import_all(&connector, page_size);
        let anchors: Vec<(&str, &str)> = objects
            .iter()
            .map(|object| (object.object_type.as_str(), object.anchor.as_str()))
            .collect();
        assert_eq!(
            anchors,
            [
                ("user", "1"),
                ("user", "2"),
                ("user", "4"),
                ("user", "5"),
                ("group", "admins"),
                ("group", "staff")
            ],
            "page size {page_size}"
        );
        assert_eq!(objects[0], ada);
        assert!(watermark.contains("group"));
    }
    let (objects, _) = import_all(&connector, 10);
    assert_eq!(
        values(&objects[0], "emails"),
        Some(&[text("a@example.org"), text("ada@example.com")][..])
    );
    assert_eq!(values(&objects[1], "emails"), None);
    assert_eq!(
        values(&objects[0], "active"),
        Some(&[Value::Boolean(true)][..])
    );
    assert_eq!(values(&objects[0], "mail"), None, "NULL is no attribute");
    assert_eq!(values(&objects[0], "internal_notes"), None, "excluded");
    assert_eq!(
        values(&objects[0], "deleted"),
        None,
        "the soft-delete column is not an attribute"
    );
    assert_eq!(values(&objects[5], "title"), None);
}

#[test]
fn delta_by_watermark_sees_updates_and_soft_deletes_in_order() {
    let db = database();
    let connector = open(&db, &[USER]).unwrap();
    for login in ["ada", "bob", "cy"] {
        add_user(&connector, login, &[]);
    }
    let (_, watermark) = import_all(&connector, 10);
    // The hand-over: rows at the import's watermark value are sent once more.
    let first = connector.delta_import(&watermark, 10).unwrap();
    assert_eq!(
        first.entries.iter().map(described).collect::<Vec<_>>(),
        ["upsert user 1", "upsert user 2", "upsert user 3"]
    );
    assert!(!first.more);
    let quiet = connector.delta_import(&first.watermark, 10).unwrap();
    assert!(quiet.entries.is_empty() && !quiet.more);
    assert_eq!(quiet.watermark, first.watermark);

    db.execute_batch(
        "UPDATE users SET mail = 'b@example.com', updated_at = '2024-01-02 00:00:00' WHERE id = 2;
         UPDATE users SET deleted = 1, updated_at = '2024-01-01 00:00:00' WHERE id = 3;
         UPDATE users SET updated_at = '2024-01-02 00:00:00' WHERE id = 1;",
    )
    .unwrap();
    let page = connector.delta_import(&quiet.watermark, 2).unwrap();
    assert_eq!(
        page.entries.iter().map(described).collect::<Vec<_>>(),
        ["delete user 3", "upsert user 1"]
    );
    assert!(page.more);
    let rest = connector.delta_import(&page.watermark, 2).unwrap();
    assert_eq!(
        rest.entries.iter().map(described).collect::<Vec<_>>(),
        ["upsert user 2"]
    );
    assert!(!rest.more);
    let DeltaEntry::Upsert(bob) = &rest.entries[0] else {
        unreachable!()
    };
    assert_eq!(values(bob, "mail"), Some(&[text("b@example.com")][..]));
}

#[test]
fn delta_by_change_table_sees_hard_deletes() {
    let db = database();
    let connector = open(&db, &[GROUP]).unwrap();
    db.execute_batch("INSERT INTO groups VALUES ('old', 'Old')")
        .unwrap();
    let (_, watermark) = import_all(&connector, 10);
    let quiet = connector.delta_import(&watermark, 10).unwrap();
    assert!(
        quiet.entries.is_empty(),
        "a change table has no hand-over overlap"
    );
    db.execute_batch(
        "INSERT INTO groups VALUES ('new', 'New');
         UPDATE groups SET title = 'Newer' WHERE gid = 'new';
         DELETE FROM groups WHERE gid = 'old';",
    )
    .unwrap();
    let page = connector.delta_import(&quiet.watermark, 2).unwrap();
    assert_eq!(
        page.entries.iter().map(described).collect::<Vec<_>>(),
        ["upsert group new"]
    );
    assert!(page.more);
    let DeltaEntry::Upsert(group) = &page.entries[0] else {
        unreachable!()
    };
    assert_eq!(values(group, "title"), Some(&[text("Newer")][..]));
    let rest = connector.delta_import(&page.watermark, 2).unwrap();
    assert_eq!(
        rest.entries.iter().map(described).collect::<Vec<_>>(),
        ["delete group old"]
    );
    assert!(!rest.more);
}

#[test]
fn delta_without_a_source_is_unsupported() {
    let db = database();
    let without_source = open(
        &db,
        &[r#"{"name": "user", "table": "users", "anchor": "id"}"#],
    )
    .unwrap();
    let page = without_source.full_import(None, 10).unwrap();
    assert_eq!(page.watermark, None);
    let failure = without_source.delta_import("anything", 10).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Unsupported);
    let failure = connector(&db).delta_import("not ours", 10).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);
}

#[test]
fn add_returns_the_object_with_its_generated_anchor() {
    let db = database();
    let connector = connector(&db);
    let at = Datetime {
        seconds: 1_714_566_600,
        nanoseconds: 500_000_000,
    };
    let added = run(
        &connector,
        add(
            "user",
            vec![
                attribute("login", vec![text("ada")]),
                attribute("active", vec![Value::Boolean(false)]),
                attribute("photo", vec![Value::Binary(vec![0, 159, 146, 150])]),
                attribute("last_login", vec![Value::Datetime(at)]),
                attribute("mail", vec![]),
                attribute(
                    "emails",
                    vec![text("a@x.org"), text("a@x.org"), text("b@x.org")],
                ),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(added.anchor, "1");
    assert_eq!(values(&added, "id"), Some(&[Value::Integer(1)][..]));
    assert_eq!(values(&added, "active"), Some(&[Value::Boolean(false)][..]));
    assert_eq!(
        values(&added, "photo"),
        Some(&[Value::Binary(vec![0, 159, 146, 150])][..])
    );
    assert_eq!(
        values(&added, "last_login"),
        Some(&[Value::Datetime(at)][..])
    );
    assert_eq!(
        values(&added, "emails"),
        Some(&[text("a@x.org"), text("b@x.org")][..])
    );
    assert!(
        values(&added, "created_at").is_some(),
        "the database's default is read back"
    );
    let group = run(
        &connector,
        add("group", vec![attribute("gid", vec![text("ops")])]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(group.anchor, "ops");
}

#[test]
fn a_plain_add_is_one_statement_and_an_update_reads_nothing_back() {
    let db = database();
    let (recording, trips) = Recording::new(&db);
    let connector = open_on(recording, &[USER, GROUP]).unwrap();
    taken(&trips);

    // No child rows, no password, no soft-delete column: the INSERT alone, in autocommit,
    // returning the whole row.
    let group = run(
        &connector,
        add(
            "group",
            vec![
                attribute("gid", vec![text("ops")]),
                attribute("title", vec![text("Ops")]),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(taken(&trips), ["INSERT"]);
    assert_eq!(group.anchor, "ops");
    assert_eq!(values(&group, "title"), Some(&[text("Ops")][..]));

    // The row comes back from the UPDATE; the read before it gives the change its base.
    let renamed = run(
        &connector,
        update(
            "group",
            "ops",
            vec![AttributeChange::Replace(attribute(
                "title",
                vec![text("Operations")],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(taken(&trips), ["BEGIN", "SELECT", "UPDATE", "COMMIT"]);
    assert_eq!(values(&renamed, "title"), Some(&[text("Operations")][..]));

    // A soft-delete column keeps the transaction (a row coming back soft-deleted is rolled
    // back), and the child table is still read.
    let user = run(
        &connector,
        add("user", vec![attribute("login", vec![text("ada")])]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(taken(&trips), ["BEGIN", "INSERT", "SELECT", "COMMIT"]);
    assert!(
        values(&user, "created_at").is_some(),
        "the default comes back"
    );
}

#[test]
fn a_view_is_read_back_after_a_write() {
    let db = database();
    db.execute_batch(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             kind TEXT NOT NULL DEFAULT 'staff');
         CREATE VIEW staff AS SELECT id, name, kind FROM people WHERE name <> 'hidden';
         CREATE TRIGGER staff_added INSTEAD OF INSERT ON staff \
             BEGIN INSERT INTO people (id, name) VALUES (new.id, new.name); END;",
    )
    .unwrap();
    let (recording, trips) = Recording::new(&db);
    let connector = open_on(
        recording,
        &[r#"{"name": "staff", "table": "staff", "anchor": "id"}"#],
    )
    .unwrap();
    taken(&trips);
    let added = run(
        &connector,
        add(
            "staff",
            vec![
                attribute("id", vec![Value::Integer(5)]),
                attribute("name", vec![text("ann")]),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(taken(&trips), ["BEGIN", "INSERT", "SELECT", "COMMIT"]);
    assert_eq!(
        values(&added, "kind"),
        Some(&[text("staff")][..]),
        "the table's default, not the view's NULL"
    );
    let failure = run(
        &connector,
        add(
            "staff",
            vec![
                attribute("id", vec![Value::Integer(6)]),
                attribute("name", vec![text("hidden")]),
            ],
        ),
    )
    .unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Internal);
    assert!(
        failure.message.contains("cannot be read back"),
        "{}",
        failure.message
    );
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM people", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 1, "the hidden row was rolled back");
}

#[test]
fn hostile_values_land_literally() {
    let db = database();
    let connector = connector(&db);
    let hostile = [
        "x'); DROP TABLE users; --".to_owned(),
        "\"quoted\" ; 'single' \\ backslash".to_owned(),
        "😀 non-BMP 𝄞 and NUL \0 inside".to_owned(),
        "y".repeat(10 * 1024),
    ];
    for (index, login) in hostile.iter().enumerate() {
        let email = format!("a@{login}");
        let added = run(
            &connector,
            add(
                "user",
                vec![
                    attribute("login", vec![text(login)]),
                    attribute("emails", vec![text(&email)]),
                ],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(added.anchor, (index + 1).to_string());
        assert_eq!(values(&added, "login"), Some(&[text(login)][..]));
        assert_eq!(values(&added, "emails"), Some(&[text(&email)][..]));
    }
    let stored: String = db
        .query_row("SELECT login FROM users WHERE id = 3", [], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, hostile[2]);
    let (objects, _) = import_all(&connector, 2);
    assert_eq!(
        objects
            .iter()
            .filter(|object| object.object_type == "user")
            .count(),
        hostile.len()
    );
}

#[test]
fn update_changes_columns_and_child_rows() {
    let db = database();
    let connector = connector(&db);
    add_user(&connector, "ada", &["a@x.org", "b@x.org"]);
    let updated = run(
        &connector,
        update(
            "user",
            "1",
            vec![
                AttributeChange::Replace(attribute("mail", vec![text("ada@x.org")])),
                AttributeChange::Replace(attribute("login", vec![text("ada2")])),
                AttributeChange::AddValues(attribute(
                    "emails",
                    vec![text("b@x.org"), text("c@x.org")],
                )),
                AttributeChange::RemoveValues(attribute("emails", vec![text("a@x.org")])),
                AttributeChange::Replace(attribute("id", vec![Value::Integer(1)])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(values(&updated, "mail"), Some(&[text("ada@x.org")][..]));
    assert_eq!(values(&updated, "login"), Some(&[text("ada2")][..]));
    assert_eq!(
        values(&updated, "emails"),
        Some(&[text("b@x.org"), text("c@x.org")][..])
    );

    let cleared = run(
        &connector,
        update(
            "user",
            "1",
            vec![
                AttributeChange::Clear("mail".into()),
                AttributeChange::Clear("emails".into()),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(values(&cleared, "mail"), None);
    assert_eq!(values(&cleared, "emails"), None);
    let children: i64 = db
        .query_row("SELECT COUNT(*) FROM user_emails", [], |row| row.get(0))
        .unwrap();
    assert_eq!(children, 0);

    let replaced = run(
        &connector,
        update(
            "user",
            "1",
            vec![AttributeChange::Replace(attribute(
                "emails",
                vec![text("d@x.org")],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(values(&replaced, "emails"), Some(&[text("d@x.org")][..]));
}

#[test]
fn delete_removes_child_rows_then_the_row() {
    let db = database();
    let connector = connector(&db);
    add_user(&connector, "ada", &["a@x.org"]);
    assert_eq!(
        run(&connector, Change::Delete(target("user", "1"))),
        Ok(None)
    );
    let left: i64 = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM user_emails)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        run(&connector, Change::Delete(target("user", "1")))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[test]
fn export_reports_each_failure_with_its_kind_and_goes_on() {
    let db = database();
    let connector = connector(&db);
    add_user(&connector, "ada", &[]);
    db.execute_batch("UPDATE users SET deleted = 1 WHERE id = 1")
        .unwrap();
    add_user(&connector, "bob", &[]);
    let results = connector.export(vec![
        add("user", vec![attribute("login", vec![text("bob")])]),
        add("user", vec![attribute("created_at", vec![text("x")])]),
        add("user", vec![attribute("internal_notes", vec![text("x")])]),
        add("user", vec![attribute("login", vec![text("a"), text("b")])]),
        add("user", vec![attribute("login", vec![Value::Integer(5)])]),
        add("user", vec![attribute("mail", vec![text("x")])]),
        add("nobody", vec![]),
        update("user", "1", vec![AttributeChange::Clear("mail".into())]),
        update("user", "x", vec![]),
        update(
            "user",
            "2",
            vec![AttributeChange::Replace(attribute(
                "id",
                vec![Value::Integer(1)],
            ))],
        ),
        Change::Delete(target("user", "99")),
        Change::Rename(RenameChange {
            target: target("user", "2"),
            new_name: "x".into(),
        }),
        add(
            "user",
            vec![
                attribute("login", vec![text("cy")]),
                attribute("emails", vec![text("no-at-sign")]),
            ],
        ),
        add("user", vec![attribute("login", vec![text("dee")])]),
    ]);
    let kinds: Vec<Result<(), (ErrorKind, Option<String>)>> = results
        .iter()
        .map(|result| {
            result
                .as_ref()
                .map(|_| ())
                .map_err(|error| (error.kind, error.attribute.clone()))
        })
        .collect();
    let attribute = |name: &str| Some(name.to_owned());
    assert_eq!(
        kinds,
        [
            Err((ErrorKind::AlreadyExists, None)),
            Err((ErrorKind::InvalidInput, attribute("created_at"))),
            Err((ErrorKind::InvalidInput, attribute("internal_notes"))),
            Err((ErrorKind::InvalidInput, attribute("login"))),
            Err((ErrorKind::InvalidInput, attribute("login"))),
            Err((ErrorKind::InvalidInput, None)),
            Err((ErrorKind::InvalidInput, None)),
            Err((ErrorKind::NotFound, None)),
            Err((ErrorKind::NotFound, None)),
            // The soft-deleted row still holds key 1.
            Err((ErrorKind::AlreadyExists, None)),
            Err((ErrorKind::NotFound, None)),
            // An integer key cannot be "x".
            Err((ErrorKind::InvalidInput, None)),
            Err((ErrorKind::InvalidInput, None)),
            Ok(()),
        ]
    );
    // The change whose child row failed left no row behind; the next one got the next id.
    let logins: Vec<String> = db
        .prepare("SELECT login FROM users ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(logins, ["ada", "bob", "dee"]);
}

/// Gives user `anchor` the key `id` and the mail `ada@x.org` in one update; the user as
/// returned.
fn move_and_mail(connector: &SqlSession<Sqlite>, anchor: &str, id: i64) -> Object {
    let changes = vec![
        AttributeChange::Replace(attribute("id", vec![Value::Integer(id)])),
        AttributeChange::Replace(attribute("mail", vec![text("ada@x.org")])),
    ];
    run(connector, update("user", anchor, changes))
        .unwrap()
        .unwrap()
}

#[test]
fn a_new_key_moves_the_row_its_child_rows_and_what_points_at_it() {
    let db = database();
    db.execute_batch(
        "CREATE TABLE members (gid TEXT NOT NULL REFERENCES groups (gid), user_id INTEGER NOT NULL REFERENCES users (id));
         ALTER TABLE users ADD COLUMN manager INTEGER REFERENCES users (id);",
    )
    .unwrap();
    let user = r#"{
        "name": "user", "table": "users", "anchor": "id", "exclude": ["internal_notes"],
        "references": {"manager": "user"},
        "multi-valued": [{"attribute": "emails", "table": "user_emails", "key": "user_id", "value": "email"}]
    }"#;
    let group = r#"{
        "name": "group", "table": "groups", "anchor": "gid",
        "multi-valued": [{"attribute": "members", "table": "members", "key": "gid", "value": "user_id", "reference": "user"}]
    }"#;
    let connector = open(&db, &[user, group]).unwrap();
    add_user(&connector, "ada", &["a@x.org"]);
    let bob = add_user(&connector, "bob", &[]);
    run(
        &connector,
        update(
            "user",
            &bob.anchor,
            vec![AttributeChange::Replace(attribute(
                "manager",
                vec![Value::Reference("1".into())],
            ))],
        ),
    )
    .unwrap();
    run(
        &connector,
        add(
            "group",
            vec![
                attribute("gid", vec![text("ops")]),
                attribute("members", vec![Value::Reference("1".into())]),
            ],
        ),
    )
    .unwrap();
    let state = || -> Vec<i64> {
        let query = "SELECT (SELECT id FROM users WHERE login = 'ada'),
                            (SELECT user_id FROM user_emails), (SELECT user_id FROM members),
                            (SELECT manager FROM users WHERE login = 'bob')";
        db.query_row(query, [], |row| {
            (0..4).map(|index| row.get(index)).collect()
        })
        .unwrap()
    };

    let moved = move_and_mail(&connector, "1", 7);
    assert_eq!(moved.anchor, "7");
    assert_eq!(values(&moved, "mail"), Some(&[text("ada@x.org")][..]));
    assert_eq!(values(&moved, "emails"), Some(&[text("a@x.org")][..]));
    assert_eq!(state(), [7, 7, 7, 7]);

    let renamed = run(
        &connector,
        Change::Rename(RenameChange {
            target: target("user", "7"),
            new_name: "8".into(),
        }),
    )
    .unwrap()
    .unwrap();
    assert_eq!(renamed.anchor, "8");
    assert_eq!(state(), [8, 8, 8, 8]);

    let taken = run(
        &connector,
        Change::Rename(RenameChange {
            target: target("user", "8"),
            new_name: bob.anchor.clone(),
        }),
    )
    .unwrap_err();
    assert_eq!(taken.kind, ErrorKind::AlreadyExists, "{taken:?}");
    assert_eq!(state(), [8, 8, 8, 8], "nothing moved");
    let group = run(
        &connector,
        Change::Rename(RenameChange {
            target: target("group", "ops"),
            new_name: "[\"it's\", \"ops\"]".into(),
        }),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        group.anchor, "[\"it's\", \"ops\"]",
        "a one-column anchor is bare"
    );
    assert_eq!(
        values(&group, "members"),
        Some(&[Value::Reference("8".into())][..])
    );
}

#[test]
fn the_operators_update_runs_with_the_new_key_after_the_move() {
    let db = database();
    let config = r#"{
        "name": "user", "table": "users", "anchor": "id", "exclude": ["internal_notes"],
        "multi-valued": [{"attribute": "emails", "table": "user_emails", "key": "user_id", "value": "email"}],
        "statements": {"update": "UPDATE users SET mail = upper(:mail) WHERE id = :id"}
    }"#;
    let connector = open(&db, &[config]).unwrap();
    add_user(&connector, "ada", &["a@x.org"]);
    let moved = move_and_mail(&connector, "1", 5);
    assert_eq!(moved.anchor, "5");
    assert_eq!(values(&moved, "mail"), Some(&[text("ADA@X.ORG")][..]));
    assert_eq!(values(&moved, "emails"), Some(&[text("a@x.org")][..]));
    let emptied = run(
        &connector,
        update("user", "5", vec![AttributeChange::Clear("id".into())]),
    )
    .unwrap_err();
    assert_eq!(emptied.kind, ErrorKind::InvalidInput);
    assert_eq!(emptied.attribute.as_deref(), Some("id"));
}

#[test]
fn operator_statements_are_bound_with_every_part_of_a_composite_key() {
    let db = database();
    db.execute_batch(
        "CREATE TABLE accounts (tenant TEXT NOT NULL, login TEXT NOT NULL, mail TEXT,
                                PRIMARY KEY (tenant, login));",
    )
    .unwrap();
    let config = r#"{
        "name": "account", "table": "accounts", "anchor": ["tenant", "login"],
        "statements": {
            "insert": "INSERT INTO accounts (tenant, login, mail) VALUES (:tenant, :login, :mail)",
            "delete": "DELETE FROM accounts WHERE login = :login AND tenant = :tenant"
        }
    }"#;
    let connector = open(&db, &[config]).unwrap();
    let schema = connector.schema().unwrap();
    assert_eq!(
        schema.object_types[0].anchor_attributes,
        ["tenant", "login"]
    );
    for (tenant, login) in [("acme", "ann"), ("acme", "bob")] {
        let added = run(
            &connector,
            add(
                "account",
                vec![
                    attribute("login", vec![text(login)]),
                    attribute("tenant", vec![text(tenant)]),
                ],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(added.anchor, format!(r#"["{tenant}","{login}"]"#));
    }
    assert_eq!(
        run(
            &connector,
            Change::Delete(target("account", r#"["acme","ann"]"#))
        ),
        Ok(None)
    );
    let left: Vec<String> = db
        .prepare("SELECT tenant || '/' || login FROM accounts")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, ["acme/bob"]);
    let wrong = open(
        &db,
        &[
            r#"{"name": "account", "table": "accounts", "anchor": ["tenant", "login"],
              "statements": {"delete": "DELETE FROM accounts WHERE mail = :mail"}}"#,
        ],
    )
    .err()
    .unwrap();
    assert!(
        wrong
            .message
            .ends_with("unknown parameter ':mail' (it may use :tenant, :login)"),
        "{}",
        wrong.message
    );
}

#[test]
fn operator_statements_bind_named_parameters() {
    let db = database();
    let config = r#"{
        "name": "user", "table": "users", "anchor": "id", "soft-delete": "deleted",
        "exclude": ["internal_notes"],
        "statements": {
            "insert": "INSERT INTO users (login, mail) VALUES (:login, lower(:mail)) RETURNING id",
            "update": "UPDATE users SET mail = upper(:mail), login = :login -- :ignored\n WHERE id = :id",
            "delete": "UPDATE users SET deleted = 1 WHERE id = :id AND ':id' <> 'x'"
        }
    }"#;
    let connector = open(&db, &[config]).unwrap();
    let added = run(
        &connector,
        add(
            "user",
            vec![
                attribute("login", vec![text("ada")]),
                attribute("mail", vec![text("ADA@X.ORG")]),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(values(&added, "mail"), Some(&[text("ada@x.org")][..]));
    let updated = run(
        &connector,
        update(
            "user",
            &added.anchor,
            vec![AttributeChange::Replace(attribute(
                "mail",
                vec![text("new@x.org")],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(values(&updated, "mail"), Some(&[text("NEW@X.ORG")][..]));
    assert_eq!(
        values(&updated, "login"),
        Some(&[text("ada")][..]),
        "the whole new state is bound"
    );
    assert_eq!(
        run(&connector, Change::Delete(target("user", &added.anchor))),
        Ok(None)
    );
    let deleted: i64 = db
        .query_row("SELECT deleted FROM users WHERE id = 1", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(deleted, 1, "the operator's delete soft-deleted the row");
    assert!(connector.full_import(None, 10).unwrap().objects.is_empty());
    assert_eq!(
        run(&connector, update("user", &added.anchor, vec![]))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound,
        "a soft-deleted object is gone"
    );
}

#[test]
fn an_insert_returning_nothing_takes_the_anchor_from_the_attributes() {
    let db = database();
    let config = r#"{
        "name": "user", "table": "users", "anchor": "id",
        "statements": {"insert": "INSERT INTO users (id, login) VALUES (:id, :login)"}
    }"#;
    let connector = open(&db, &[config]).unwrap();
    let added = run(
        &connector,
        add(
            "user",
            vec![
                attribute("id", vec![Value::Integer(7)]),
                attribute("login", vec![text("ada")]),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(added.anchor, "7");
    let failure = run(
        &connector,
        add("user", vec![attribute("login", vec![text("bob")])]),
    )
    .unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Internal);
    assert!(
        failure.message.contains("returned no anchor"),
        "{}",
        failure.message
    );
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 1, "the failed add was rolled back");
}

#[test]
fn a_cursor_for_another_configuration_is_refused() {
    let db = database();
    let both = connector(&db);
    for login in ["ada", "bob"] {
        add_user(&both, login, &[]);
    }
    db.execute_batch("INSERT INTO groups VALUES ('ops', NULL)")
        .unwrap();
    let first = both.full_import(None, 2).unwrap();
    let cursor = first.next_cursor.unwrap();
    // The page was full: the next one goes on with the same type, then the next type.
    let second = both.full_import(Some(&cursor), 2).unwrap();
    assert_eq!(second.objects.len(), 1);
    assert_eq!(second.objects[0].object_type, "group");
    let groups_only = open(&db, &[GROUP]).unwrap();
    let failure = groups_only.full_import(Some(&cursor), 2).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);
    assert!(failure.message.contains("'user'"), "{}", failure.message);
    let failure = both.full_import(Some("{}"), 2).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);
}

/// Groups whose members are users or groups: `members.kind` names each row's type.
const NESTED_GROUP: &str = r#"{
    "name": "group", "table": "groups", "anchor": "gid",
    "multi-valued": [{"attribute": "members", "table": "members", "key": "gid", "value": "member",
                      "reference": ["user", "group"], "reference-type-column": "kind"}]
}"#;

/// The rows of the members table: (group, member, kind), sorted.
fn member_rows(db: &Connection) -> Vec<(String, String, String)> {
    db.prepare("SELECT gid, member, kind FROM members ORDER BY gid, member, kind")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn rows(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(group, member, kind)| (group.to_string(), member.to_string(), kind.to_string()))
        .collect()
}

fn references(anchors: &[&str]) -> Vec<Value> {
    anchors
        .iter()
        .map(|anchor| Value::Reference(anchor.to_string()))
        .collect()
}

#[test]
fn a_link_to_several_types_stores_each_members_type() {
    let db = database();
    db.execute_batch(
        "CREATE TABLE members (gid TEXT NOT NULL REFERENCES groups (gid), member TEXT NOT NULL,
                               kind TEXT NOT NULL);",
    )
    .unwrap();
    let connector = open(&db, &[USER, NESTED_GROUP]).unwrap();
    let schema = connector.schema().unwrap();
    let members = schema.object_types[1].attribute("members").unwrap();
    assert_eq!(members.reference_types, ["user", "group"]);
    assert_eq!(members.value_type, ValueType::Reference);
    connector.test_connection().unwrap();

    add_user(&connector, "ada", &[]);
    add_user(&connector, "bob", &[]);
    let group = |gid: &str, members: &[&str]| {
        add(
            "group",
            vec![
                attribute("gid", vec![text(gid)]),
                attribute("members", references(members)),
            ],
        )
    };
    run(&connector, group("admins", &[])).unwrap();
    let ops = run(&connector, group("ops", &["1", "admins"]))
        .unwrap()
        .unwrap();
    assert_eq!(
        values(&ops, "members"),
        Some(&references(&["1", "admins"])[..])
    );
    assert_eq!(
        member_rows(&db),
        rows(&[("ops", "1", "user"), ("ops", "admins", "group")])
    );

    let edit = |change: AttributeChange| run(&connector, update("group", "ops", vec![change]));
    let change_members = |add: bool, anchors: &[&str]| {
        let members = attribute("members", references(anchors));
        edit(if add {
            AttributeChange::AddValues(members)
        } else {
            AttributeChange::RemoveValues(members)
        })
    };
    change_members(true, &["2"]).unwrap();
    change_members(false, &["admins"]).unwrap();
    assert_eq!(
        member_rows(&db),
        rows(&[("ops", "1", "user"), ("ops", "2", "user")])
    );
    change_members(true, &["admins"]).unwrap();
    change_members(false, &["2"]).unwrap();
    let expected = rows(&[("ops", "1", "user"), ("ops", "admins", "group")]);
    assert_eq!(member_rows(&db), expected);

    // A member no listed type has, and one two types have: refused, nothing written.
    let missing = change_members(true, &["2", "nobody"]).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(missing.message.contains("'nobody'"), "{}", missing.message);
    db.execute_batch("INSERT INTO groups VALUES ('1', 'One'), ('2', 'Two')")
        .unwrap();
    let ambiguous = edit(AttributeChange::Replace(attribute(
        "members",
        references(&["admins", "1", "2"]),
    )))
    .unwrap_err();
    assert_eq!(ambiguous.kind, ErrorKind::InvalidInput);
    assert!(
        ambiguous.message.contains("'2' is ambiguous"),
        "{}",
        ambiguous.message
    );
    assert_eq!(member_rows(&db), expected);

    // A user's key move and delete touch only the rows naming a user.
    db.execute_batch("INSERT INTO members VALUES ('admins', '1', 'group')")
        .unwrap();
    move_and_mail(&connector, "1", 7);
    assert_eq!(
        member_rows(&db),
        rows(&[
            ("admins", "1", "group"),
            ("ops", "7", "user"),
            ("ops", "admins", "group")
        ])
    );
    run(&connector, Change::Delete(target("user", "7"))).unwrap();
    assert_eq!(
        member_rows(&db),
        rows(&[("admins", "1", "group"), ("ops", "admins", "group")])
    );
    // A group's delete: its own members, and the rows naming it as a member.
    run(&connector, Change::Delete(target("group", "admins"))).unwrap();
    assert_eq!(member_rows(&db), []);
    let (objects, _) = import_all(&connector, 10);
    let ops = objects.iter().find(|o| o.anchor == "ops").unwrap();
    assert_eq!(values(ops, "members"), None);
}
