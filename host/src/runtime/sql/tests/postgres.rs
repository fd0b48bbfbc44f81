//! PostgreSQL: the common behaviour, and the type conversions only PostgreSQL needs.

use std::path::Path;
use std::time::{Duration, Instant};

use time::macros::datetime;

use super::{Db, text};
use crate::runtime::sql::{Dialect, Driver, SqlErrorKind, SqlLimits, SqlTarget, SqlValue};

common_tests!(Dialect::Postgres);

#[tokio::test]
async fn every_value_round_trips_by_column_type() {
    let mut db = Db::open(Dialect::Postgres).await;
    db.run(&[
        "CREATE EXTENSION citext",
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')",
        "CREATE TABLE v (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(20, 4),
            t text, vc varchar(50), c char(3), ci citext, m mood, e email, bl bytea, u uuid,
            tz timestamptz, ts timestamp, d date, jb jsonb, j json, nl text)",
    ])
    .await;
    let placeholders: Vec<String> = (1..=21).map(|n| format!("${n}")).collect();
    let insert = format!("INSERT INTO v VALUES ({})", placeholders.join(", "));
    let instant = SqlValue::Timestamp(datetime!(2024-05-01 12:34:56.789 +02:00));
    let written = vec![
        SqlValue::Boolean(true),
        SqlValue::Integer(i16::MIN.into()),
        SqlValue::Integer(i32::MAX.into()),
        SqlValue::Integer(i64::MIN),
        SqlValue::Real(1.5),
        SqlValue::Real(-1.5e300),
        text("-12345.6789"),
        text("𝔘𝔫𝔦😀"),
        text("varchar"),
        text("ab"),
        text("MiXed"),
        text("happy"),
        text("a@example.org"),
        SqlValue::Blob(vec![0, 1, 0xFF, 0]),
        text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
        instant.clone(),
        instant.clone(),
        text("2024-05-01"),
        text(r#"{"a":[1,2]}"#),
        text(r#"{"b" :1}"#),
        SqlValue::Null,
    ];
    db.conn.execute(&insert, written).await.unwrap();
    let result = db.conn.query("SELECT * FROM v", vec![]).await.unwrap();
    let types: Vec<&str> = result
        .columns
        .iter()
        .map(|c| c.type_name.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "bool",
            "int2",
            "int4",
            "int8",
            "float4",
            "float8",
            "numeric",
            "text",
            "varchar",
            "bpchar",
            "citext",
            "mood",
            "text",
            "bytea",
            "uuid",
            "timestamptz",
            "timestamp",
            "date",
            "jsonb",
            "json",
            "text"
        ]
    );
    assert_eq!(
        result.rows,
        [vec![
            SqlValue::Boolean(true),
            SqlValue::Integer(i16::MIN.into()),
            SqlValue::Integer(i32::MAX.into()),
            SqlValue::Integer(i64::MIN),
            SqlValue::Real(1.5),
            SqlValue::Real(-1.5e300),
            text("-12345.6789"),
            text("𝔘𝔫𝔦😀"),
            text("varchar"),
            text("ab "),
            text("MiXed"),
            text("happy"),
            text("a@example.org"),
            SqlValue::Blob(vec![0, 1, 0xFF, 0]),
            text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            instant.clone(),
            instant,
            SqlValue::Timestamp(datetime!(2024-05-01 0:00 UTC)),
            text(r#"{"a": [1, 2]}"#),
            text(r#"{"b" :1}"#),
            SqlValue::Null,
        ]]
    );
}

#[tokio::test]
async fn values_convert_to_the_type_the_server_inferred() {
    let mut db = Db::open(Dialect::Postgres).await;
    db.run(&["CREATE TABLE c (i4 int4, b bool, u uuid, tz timestamptz, d date, n numeric, t text, f8 float8, i2 int2)"])
        .await;
    let insert = "INSERT INTO c VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    let rows = [
        (
            vec![
                text("42"),
                text("T"),
                text(uuid),
                text("2024-05-01T12:00:00+02:00"),
                text("2024-05-01"),
                text("12.50"),
                SqlValue::Integer(7),
                SqlValue::Integer(3),
                text(" -5 "),
            ],
            vec![
                SqlValue::Integer(42),
                SqlValue::Boolean(true),
                text(uuid),
                SqlValue::Timestamp(datetime!(2024-05-01 10:00 UTC)),
                SqlValue::Timestamp(datetime!(2024-05-01 0:00 UTC)),
                text("12.50"),
                text("7"),
                SqlValue::Real(3.0),
                SqlValue::Integer(-5),
            ],
        ),
        (
            vec![
                SqlValue::Integer(-1),
                text("0"),
                SqlValue::Null,
                SqlValue::Timestamp(datetime!(2024-05-01 23:30 -05:00)),
                SqlValue::Timestamp(datetime!(2024-05-01 23:30 -05:00)),
                SqlValue::Real(0.25),
                SqlValue::Boolean(true),
                text("1e3"),
                SqlValue::Integer(2),
            ],
            vec![
                SqlValue::Integer(-1),
                SqlValue::Boolean(false),
                SqlValue::Null,
                SqlValue::Timestamp(datetime!(2024-05-02 4:30 UTC)),
                // A date is the UTC day.
                SqlValue::Timestamp(datetime!(2024-05-02 0:00 UTC)),
                text("0.25"),
                text("true"),
                SqlValue::Real(1000.0),
                SqlValue::Integer(2),
            ],
        ),
    ];
    for (written, _) in &rows {
        db.conn.execute(insert, written.clone()).await.unwrap();
    }
    let read = db.rows("SELECT * FROM c ORDER BY i4 DESC", vec![]).await;
    assert_eq!(read, rows.map(|(_, expected)| expected));
    let as_text = db
        .rows(
            "SELECT $1::text, $2::text, $3::text",
            vec![
                SqlValue::Integer(i64::MIN),
                SqlValue::Real(0.1),
                SqlValue::Timestamp(datetime!(2024-05-01 12:00 +02:00)),
            ],
        )
        .await;
    assert_eq!(
        as_text,
        [vec![
            text(&i64::MIN.to_string()),
            text("0.1"),
            text("2024-05-01T10:00:00Z")
        ]]
    );
}

#[tokio::test]
async fn mismatches_name_the_parameter_and_both_types_but_not_the_value() {
    let mut db = Db::open(Dialect::Postgres).await;
    for (statement, params, expected) in [
        (
            "SELECT $1::int4",
            vec![text("secret-abc")],
            &["$1", "int4"][..],
        ),
        (
            "SELECT $1::int2",
            vec![SqlValue::Integer(70_000)],
            &["$1", "out of range", "int2"],
        ),
        (
            "SELECT $1::int4",
            vec![SqlValue::Blob(vec![1])],
            &["$1", "blob", "int4"],
        ),
        (
            "SELECT $1::int4 + $2::int4",
            vec![SqlValue::Integer(1), SqlValue::Boolean(true)],
            &["$2", "boolean", "int4"],
        ),
        (
            "SELECT $1::float8",
            vec![SqlValue::Integer(i64::MAX)],
            &["$1", "float8"],
        ),
        ("SELECT $1::uuid", vec![text("secret-abc")], &["$1", "uuid"]),
        (
            "SELECT $1::bytea",
            vec![text("secret-abc")],
            &["$1", "text", "bytea"],
        ),
        (
            "SELECT $1::timestamptz",
            vec![text("secret-abc")],
            &["$1", "RFC 3339"],
        ),
        (
            "SELECT $1::numeric",
            vec![text("secret-abc")],
            &["$1", "numeric"],
        ),
        (
            "SELECT $1::inet IS NULL",
            vec![text("secret-abc")],
            &["$1", "inet", "$1::text::inet"],
        ),
    ] {
        let error = db.conn.query(statement, params).await.unwrap_err();
        assert_eq!(
            error.kind,
            SqlErrorKind::InvalidValue,
            "{statement}: {error}"
        );
        for part in expected {
            assert!(
                error.message.contains(part),
                "{statement}: {error} lacks {part}"
            );
        }
        assert!(!error.message.contains("secret"), "{statement}: {error}");
    }
    // Null binds to anything.
    let rows = db
        .rows("SELECT $1::inet IS NULL", vec![SqlValue::Null])
        .await;
    assert_eq!(rows, [vec![SqlValue::Boolean(true)]]);
}

#[tokio::test]
async fn nul_characters_are_refused_clearly() {
    let mut db = Db::open(Dialect::Postgres).await;
    let error = db
        .conn
        .query("SELECT $1::text", vec![text("a\0b")])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::InvalidValue);
    assert!(
        error.message.contains("NUL") && error.message.contains("$1"),
        "{error}"
    );
}

#[tokio::test]
async fn unreadable_columns_suggest_a_cast_before_anything_runs() {
    let mut db = Db::open(Dialect::Postgres).await;
    db.run(&["CREATE TABLE log (x int4)"]).await;
    let error = db
        .conn
        .query("SELECT '127.0.0.1'::inet AS addr", vec![])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::InvalidValue);
    for part in ["\"addr\"", "inet", "::text"] {
        assert!(error.message.contains(part), "{error} lacks {part}");
    }
    let returning = "INSERT INTO log VALUES (1) RETURNING '10.0.0.1'::inet";
    assert_eq!(
        db.conn.query(returning, vec![]).await.unwrap_err().kind,
        SqlErrorKind::InvalidValue
    );
    assert_eq!(
        db.rows("SELECT count(*) FROM log", vec![]).await,
        [vec![SqlValue::Integer(0)]]
    );
    let cast = db.rows("SELECT '127.0.0.1'::inet::text", vec![]).await;
    assert_eq!(cast, [vec![text("127.0.0.1/32")]]);
    // A value the type holds but a timestamp cannot.
    let error = db
        .conn
        .query("SELECT 'infinity'::timestamptz AS forever", vec![])
        .await
        .unwrap_err();
    assert_eq!(error.kind, SqlErrorKind::InvalidValue);
    assert!(
        error.message.contains("\"forever\"") && error.message.contains("cast"),
        "{error}"
    );
}

#[tokio::test]
async fn numeric_travels_exactly_as_postgres_prints_it() {
    let mut db = Db::open(Dialect::Postgres).await;
    for literal in [
        "0",
        "-0",
        "0.000",
        "1",
        "-1",
        "10000",
        "9999.9999",
        "100000000",
        "0.1",
        "-0.00001",
        "1e-10",
        "123456789012345678901234567890.123456789",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        // The server parses and prints: the reference.
        let reference = db
            .rows("SELECT $1::text::numeric::text", vec![text(literal)])
            .await;
        // Ours: encoded by Ferry, printed by the server; encoded by the server, decoded by Ferry.
        let encoded = db
            .rows("SELECT $1::numeric::text", vec![text(literal)])
            .await;
        let decoded = db
            .rows("SELECT $1::text::numeric", vec![text(literal)])
            .await;
        assert_eq!(encoded, reference, "{literal}");
        assert_eq!(decoded, reference, "{literal}");
    }
}

#[tokio::test]
async fn the_statement_cache_stays_bounded() {
    let mut db = Db::open(Dialect::Postgres).await;
    for n in 0..300 {
        db.rows(&format!("SELECT {n}"), vec![]).await;
    }
    let Some(Driver::Postgres(connection)) = &db.conn.driver else {
        panic!("a PostgreSQL connection")
    };
    assert_eq!(
        connection.cached_statements(),
        crate::runtime::sql::STATEMENT_CACHE_CAPACITY
    );
    assert_eq!(
        db.rows("SELECT 299", vec![]).await,
        [vec![SqlValue::Integer(299)]]
    );
}

#[tokio::test]
async fn a_timed_out_statement_stops_on_the_server() {
    let db = Db::open(Dialect::Postgres).await;
    let limits = SqlLimits {
        statement_timeout: Duration::from_millis(200),
        ..SqlLimits::default()
    };
    let mut slow = db.connect(limits).await;
    let marker = "ferry-cancel-marker";
    let statement = format!("SELECT pg_sleep(30) /* {marker} */");
    assert_eq!(
        slow.query(&statement, vec![]).await.unwrap_err().kind,
        SqlErrorKind::Timeout
    );
    let mut observer = db.connect(SqlLimits::default()).await;
    let running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid()"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let rows = observer.query(&running, vec![]).await.unwrap().rows;
        if rows == [vec![SqlValue::Integer(0)]] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the statement still runs on the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn connection_failures_are_unavailable_and_keep_the_password_out() {
    let server = ferry_test_support::shared_postgres();
    let secret = "hunter2-secret";
    for url in [
        format!(
            "postgres://ferry@127.0.0.1:{}/x",
            ferry_test_support::free_port()
        ),
        server.url("no_such_database"),
    ] {
        let target = SqlTarget::from_url(&url, Some(secret.into()), Path::new("/"), false).unwrap();
        let error = target
            .connect(SqlLimits::default())
            .await
            .err()
            .expect("refused");
        assert_eq!(error.kind, SqlErrorKind::Unavailable, "{url}: {error}");
        assert!(!error.message.contains(secret), "{error}");
    }
}
