//! SQLite: the common behaviour, and what only SQLite has.

use std::time::Duration;

use time::macros::datetime;

use super::{Db, text};
use crate::runtime::sql::{Column, Dialect, SqlErrorKind, SqlLimits, SqlTarget, SqlValue};

common_tests!(Dialect::Sqlite);

#[tokio::test]
async fn every_value_round_trips_by_storage_class() {
    let mut db = Db::open(Dialect::Sqlite).await;
    db.run(&[
        "CREATE TABLE v (b BOOLEAN, i INTEGER, r REAL, t TEXT, bl BLOB, ts TIMESTAMP, n TEXT)",
    ])
    .await;
    let written = vec![
        SqlValue::Boolean(true),
        SqlValue::Integer(i64::MIN),
        SqlValue::Real(-1.5e300),
        text("nul \0 inside\0"),
        SqlValue::Blob(vec![0, 1, 0xFF, 0]),
        SqlValue::Timestamp(datetime!(2024-05-01 12:34:56.789 +02:00)),
        SqlValue::Null,
    ];
    // The query future must be Send: the runtime runs it across threads.
    fn send<T: Send>(future: T) -> T {
        future
    }
    send(
        db.conn
            .execute("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", written),
    )
    .await
    .unwrap();
    let result = send(db.conn.query("SELECT *, 1 + 1 AS two FROM v", vec![]))
        .await
        .unwrap();
    let declared: Vec<&str> = result
        .columns
        .iter()
        .map(|c| c.type_name.as_str())
        .collect();
    assert_eq!(
        declared,
        [
            "BOOLEAN",
            "INTEGER",
            "REAL",
            "TEXT",
            "BLOB",
            "TIMESTAMP",
            "TEXT",
            ""
        ]
    );
    assert_eq!(
        result.columns[7],
        Column {
            name: "two".into(),
            type_name: String::new()
        }
    );
    assert_eq!(
        result.rows,
        [vec![
            SqlValue::Integer(1),
            SqlValue::Integer(i64::MIN),
            SqlValue::Real(-1.5e300),
            text("nul \0 inside\0"),
            SqlValue::Blob(vec![0, 1, 0xFF, 0]),
            text("2024-05-01T10:34:56.789Z"),
            SqlValue::Null,
            SqlValue::Integer(2),
        ]]
    );
    // NUL-containing text is still text, found by an exact match.
    let found = db
        .rows(
            "SELECT count(*) FROM v WHERE t = ?",
            vec![text("nul \0 inside\0")],
        )
        .await;
    assert_eq!(found, [vec![SqlValue::Integer(1)]]);
}

#[tokio::test]
async fn text_that_is_not_utf8_names_the_column() {
    let mut db = Db::open(Dialect::Sqlite).await;
    let error = db
        .conn
        .query("SELECT CAST(x'FF' AS TEXT) AS raw", vec![])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::InvalidValue);
    assert!(
        error.message.contains("\"raw\"") && error.message.contains("BLOB"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_file_is_refused_and_not_created() {
    let folder = tempfile::tempdir().unwrap();
    let target = SqlTarget::from_url("sqlite:typo.db", None, folder.path(), false).unwrap();
    let error = target
        .connect(SqlLimits::default())
        .await
        .err()
        .expect("refused");
    assert_eq!(error.kind, SqlErrorKind::Unavailable);
    assert!(error.message.contains("database file not found"), "{error}");
    assert!(
        error
            .message
            .contains(&folder.path().join("typo.db").display().to_string()),
        "{error}"
    );
    assert!(!folder.path().join("typo.db").exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("notes.db"),
        "not a database, just text ".repeat(100),
    )
    .unwrap();
    let target = SqlTarget::from_url("sqlite:notes.db", None, folder.path(), false).unwrap();
    let error = target
        .connect(SqlLimits::default())
        .await
        .err()
        .expect("refused");
    assert_eq!(error.kind, SqlErrorKind::Unavailable, "{error}");
}

#[tokio::test]
async fn a_writer_waits_for_another_up_to_the_limit() {
    let db = Db::open(Dialect::Sqlite).await;
    let limits = SqlLimits {
        statement_timeout: Duration::from_millis(300),
        ..SqlLimits::default()
    };
    let mut first = db.connect(SqlLimits::default()).await;
    let mut second = db.connect(limits).await;
    first.begin().await.unwrap();
    first
        .execute("CREATE TABLE t (x INTEGER)", vec![])
        .await
        .unwrap();
    let error = second.begin().await.unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::Timeout, "{error}");
    first.commit().await.unwrap();
    // Once the lock is free, writers get it.
    let mut third = db.connect(limits).await;
    third.begin().await.unwrap();
    third
        .execute("INSERT INTO t VALUES (1)", vec![])
        .await
        .unwrap();
    third.commit().await.unwrap();
}
