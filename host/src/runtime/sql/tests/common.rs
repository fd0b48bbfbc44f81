//! What connectors may rely on in every dialect. Each test takes a fresh database.

use std::time::{Duration, Instant};

use super::{Db, text};
use crate::runtime::sql::{Dialect, SqlErrorKind, SqlLimits, SqlValue, quote_identifier};

const USERS: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    age INTEGER CHECK (age >= 0),
    manager INTEGER REFERENCES users (id)
)";

/// Inserts user `id` named `name`.
async fn add_user(db: &mut Db, id: i64, name: &str) -> Result<u64, crate::runtime::sql::SqlError> {
    let statement = format!(
        "INSERT INTO users (id, name) VALUES ({}, {})",
        db.p(1),
        db.p(2)
    );
    db.conn
        .execute(&statement, vec![SqlValue::Integer(id), text(name)])
        .await
}

/// How many users there are, seen through a separate connection.
async fn users_seen_elsewhere(db: &Db) -> i64 {
    let mut other = db.connect(SqlLimits::default()).await;
    let rows = other
        .query("SELECT count(*) FROM users", vec![])
        .await
        .unwrap()
        .rows;
    match rows[0][0] {
        SqlValue::Integer(count) => count,
        ref other => panic!("count(*) gave {other:?}"),
    }
}

pub(super) async fn hostile_text_lands_literally(mut db: Db) {
    db.run(&[USERS]).await;
    let long = "0123456789".repeat(1024);
    let hostile = [
        "O'Brien",
        "\"double\" and 'single' quotes",
        "'; DROP TABLE users; --",
        "Robert'); DELETE FROM users WHERE ('1' = '1",
        "back\\slash \\' \\\"",
        "$1 ? :name @p1 %s",
        "𝔘𝔫𝔦😀 ünï ½",
        "line\nbreak\ttab\r",
        "",
        long.as_str(),
    ];
    for (id, name) in hostile.iter().enumerate() {
        add_user(&mut db, id as i64, name).await.unwrap();
    }
    let by_name = format!("SELECT id, name FROM users WHERE name = {}", db.p(1));
    for (id, name) in hostile.iter().enumerate() {
        let rows = db.rows(&by_name, vec![text(name)]).await;
        assert_eq!(
            rows,
            [vec![SqlValue::Integer(id as i64), text(name)]],
            "{name:.40}"
        );
    }
    assert_eq!(users_seen_elsewhere(&db).await, hostile.len() as i64);
}

pub(super) async fn quoted_identifiers_hold_anything(mut db: Db) {
    let dialect = db.target.dialect();
    let table = quote_identifier(dialect, "odd \"table\"; DROP TABLE x; --");
    let column = quote_identifier(dialect, "Mixed Case \"col\"");
    assert_eq!(quote_identifier(dialect, "a\"b"), "\"a\"\"b\"");
    db.run(&[&format!("CREATE TABLE {table} ({column} TEXT)")])
        .await;
    let insert = format!("INSERT INTO {table} ({column}) VALUES ({})", db.p(1));
    db.conn.execute(&insert, vec![text("x")]).await.unwrap();
    let result = db
        .conn
        .query(&format!("SELECT {column} FROM {table}"), vec![])
        .await
        .unwrap();
    assert_eq!(result.columns[0].name, "Mixed Case \"col\"");
    assert_eq!(result.rows, [vec![text("x")]]);
}

pub(super) async fn unique_violations_are_reported_as_such(mut db: Db) {
    db.run(&[USERS]).await;
    add_user(&mut db, 1, "alice").await.unwrap();
    let same_name = add_user(&mut db, 2, "alice").await.unwrap_err();
    assert_eq!(same_name.kind, SqlErrorKind::UniqueViolation, "{same_name}");
    let same_key = add_user(&mut db, 1, "bob").await.unwrap_err();
    assert_eq!(same_key.kind, SqlErrorKind::UniqueViolation, "{same_key}");
}

pub(super) async fn other_constraints_are_constraint_violations(mut db: Db) {
    db.run(&[USERS]).await;
    add_user(&mut db, 1, "alice").await.unwrap();
    for statement in [
        "INSERT INTO users (id, name) VALUES (2, NULL)",
        "INSERT INTO users (id, name, age) VALUES (2, 'bob', -1)",
        "INSERT INTO users (id, name, manager) VALUES (2, 'bob', 99)",
    ] {
        let error = db.conn.execute(statement, vec![]).await.unwrap_err();
        assert_eq!(
            error.kind,
            SqlErrorKind::ConstraintViolation,
            "{statement}: {error}"
        );
    }
}

pub(super) async fn bad_statements_are_syntax_errors(mut db: Db) {
    db.run(&[USERS]).await;
    for statement in [
        "SELEC 1",
        "SELECT * FROM missing_table",
        "SELECT missing_column FROM users",
        "INSERT INTO users (nope) VALUES (1)",
        "SELECT 1; SELECT 2",
    ] {
        let error = db.conn.query(statement, vec![]).await.unwrap_err();
        assert_eq!(error.kind, SqlErrorKind::Syntax, "{statement}: {error}");
    }
}

pub(super) async fn a_wrong_number_of_values_is_an_invalid_value(mut db: Db) {
    db.run(&[USERS]).await;
    let statement = format!("SELECT name FROM users WHERE id = {}", db.p(1));
    for params in [vec![], vec![SqlValue::Integer(1), SqlValue::Integer(2)]] {
        let error = db.conn.query(&statement, params).await.unwrap_err();
        assert_eq!(error.kind, SqlErrorKind::InvalidValue, "{error}");
        assert!(error.message.contains("placeholders"), "{error}");
    }
}

pub(super) async fn execute_counts_changed_rows(mut db: Db) {
    db.run(&[USERS]).await;
    for id in 1..=3 {
        assert_eq!(add_user(&mut db, id, &format!("u{id}")).await.unwrap(), 1);
    }
    for (statement, changed) in [
        ("UPDATE users SET age = 30", 3),
        ("UPDATE users SET age = 1 WHERE id = 99", 0),
        ("CREATE TABLE other (x INTEGER)", 0),
        ("DELETE FROM users WHERE id > 1", 2),
    ] {
        assert_eq!(
            db.conn.execute(statement, vec![]).await.unwrap(),
            changed,
            "{statement}"
        );
    }
}

pub(super) async fn commit_keeps_and_rollback_discards(mut db: Db) {
    db.run(&[USERS]).await;
    assert!(!db.conn.in_transaction());
    db.conn.begin().await.unwrap();
    assert!(db.conn.in_transaction());
    add_user(&mut db, 1, "kept").await.unwrap();
    db.conn.commit().await.unwrap();
    assert!(!db.conn.in_transaction());
    assert_eq!(users_seen_elsewhere(&db).await, 1);

    db.conn.begin().await.unwrap();
    add_user(&mut db, 2, "discarded").await.unwrap();
    db.conn.rollback().await.unwrap();
    assert!(!db.conn.in_transaction());
    assert_eq!(users_seen_elsewhere(&db).await, 1);
    let rows = db.rows("SELECT name FROM users", vec![]).await;
    assert_eq!(rows, [vec![text("kept")]]);
}

pub(super) async fn transaction_calls_out_of_place_are_refused(mut db: Db) {
    db.run(&[USERS]).await;
    let refused = |result: Result<_, crate::runtime::sql::SqlError>| {
        let error = result.unwrap_err();
        assert_eq!(error.kind, SqlErrorKind::TransactionState, "{error}");
    };
    refused(db.conn.commit().await);
    refused(db.conn.rollback().await);
    for statement in ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT a", " -- x\n end"] {
        refused(db.conn.execute(statement, vec![]).await.map(drop));
    }
    db.conn.begin().await.unwrap();
    refused(db.conn.begin().await);
    refused(db.conn.query("COMMIT", vec![]).await.map(drop));
    // Still open and usable: a refusal is not a failed statement.
    add_user(&mut db, 1, "alice").await.unwrap();
    db.conn.commit().await.unwrap();
    assert_eq!(users_seen_elsewhere(&db).await, 1);
}

pub(super) async fn a_failed_statement_fails_the_transaction(mut db: Db) {
    db.run(&[USERS]).await;
    db.conn.begin().await.unwrap();
    add_user(&mut db, 1, "alice").await.unwrap();
    let duplicate = add_user(&mut db, 2, "alice").await.unwrap_err();
    assert_eq!(duplicate.kind, SqlErrorKind::UniqueViolation);
    let next = add_user(&mut db, 3, "carol").await.unwrap_err();
    assert_eq!(next.kind, SqlErrorKind::TransactionState, "{next}");
    let commit = db.conn.commit().await.unwrap_err();
    assert_eq!(commit.kind, SqlErrorKind::TransactionState, "{commit}");
    assert!(commit.message.contains("rolled back"), "{commit}");
    assert!(!db.conn.in_transaction());
    assert_eq!(users_seen_elsewhere(&db).await, 0);
    // The connection goes on.
    add_user(&mut db, 4, "dave").await.unwrap();
}

pub(super) async fn a_savepoint_recovers_a_failed_transaction(mut db: Db) {
    db.run(&[USERS]).await;
    db.conn.begin().await.unwrap();
    add_user(&mut db, 1, "alice").await.unwrap();
    db.run(&["SAVEPOINT before_bob"]).await;
    add_user(&mut db, 2, "alice").await.unwrap_err();
    db.run(&["ROLLBACK TO SAVEPOINT before_bob"]).await;
    add_user(&mut db, 2, "bob").await.unwrap();
    db.conn.commit().await.unwrap();
    assert_eq!(users_seen_elsewhere(&db).await, 2);
}

pub(super) async fn too_large_results_stop_while_reading(db: Db) {
    let limits = SqlLimits {
        max_rows: 1_000,
        max_result_bytes: 64 * 1024,
        ..SqlLimits::default()
    };
    let mut conn = db.connect(limits).await;
    let series = |rows: u32| {
        format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x FROM c"
        )
    };
    assert_eq!(
        conn.query(&series(1_000), vec![]).await.unwrap().rows.len(),
        1_000
    );
    // Far more rows than allowed: refused as soon as the limit is crossed.
    let started = Instant::now();
    let error = conn.query(&series(200_000), vec![]).await.unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::TooLarge, "{error}");
    assert!(error.message.contains("1000 rows"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Few rows, too many bytes.
    let wide = format!("SELECT {} AS wide", db.p(1));
    let error = conn
        .query(&wide, vec![text(&"x".repeat(100_000))])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::TooLarge, "{error}");
    // The connection stays usable.
    assert_eq!(
        conn.query("SELECT 1", vec![]).await.unwrap().rows,
        [vec![SqlValue::Integer(1)]]
    );
}

/// A statement that runs for seconds.
fn slow_statement(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        }
        Dialect::Postgres => "SELECT pg_sleep(5)",
    }
}

pub(super) async fn a_timeout_closes_the_connection(db: Db) {
    let limits = SqlLimits {
        statement_timeout: Duration::from_millis(300),
        ..SqlLimits::default()
    };
    let mut conn = db.connect(limits).await;
    conn.begin().await.unwrap();
    let started = Instant::now();
    let error = conn
        .query(slow_statement(db.target.dialect()), vec![])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::Timeout, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !conn.in_transaction(),
        "a closed connection has no transaction"
    );
    for after in [
        conn.query("SELECT 1", vec![]).await.map(drop),
        conn.rollback().await,
    ] {
        assert_eq!(after.unwrap_err().kind, SqlErrorKind::Unavailable);
    }
    // The database itself is fine: a new connection works at once.
    let mut fresh = db.connect(limits).await;
    fresh.query("SELECT 1", vec![]).await.unwrap();
}
