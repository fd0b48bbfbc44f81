//! The drivers against real databases: a SQLite file in a temporary folder and a
//! PostgreSQL server started by `ferry-test-support` (shared by the test process, one
//! fresh database per test). A missing PostgreSQL fails these tests; none is skipped.
//!
//! The behaviour connectors rely on whatever the dialect is lives in [`common`] and runs
//! against both; each dialect's module adds what only it has.

use std::path::Path;

use super::{Dialect, SqlConnection, SqlLimits, SqlTarget, SqlValue};

/// A test database: its target (to open more connections) and one open connection.
struct Db {
    target: SqlTarget,
    conn: SqlConnection,
    /// Keeps a SQLite file's folder alive for the test.
    _folder: Option<tempfile::TempDir>,
}

impl Db {
    /// A new, empty database of `dialect` with default limits.
    async fn open(dialect: Dialect) -> Db {
        let (target, folder) = match dialect {
            Dialect::Sqlite => {
                let folder = tempfile::tempdir().unwrap();
                // An empty file is an empty SQLite database.
                std::fs::File::create(folder.path().join("test.db")).unwrap();
                let target = SqlTarget::from_url("sqlite:test.db", None, folder.path(), false);
                (target.unwrap(), Some(folder))
            }
            Dialect::Postgres => {
                let server = ferry_test_support::shared_postgres();
                let url = server.url(&server.unique_database());
                (
                    SqlTarget::from_url(&url, None, Path::new("/"), false).unwrap(),
                    None,
                )
            }
        };
        let conn = target.connect(SqlLimits::default()).await.unwrap();
        Db {
            target,
            conn,
            _folder: folder,
        }
    }

    /// Another connection to the same database.
    async fn connect(&self, limits: SqlLimits) -> SqlConnection {
        self.target.connect(limits).await.unwrap()
    }

    /// The `n`th placeholder (from 1) in this dialect.
    fn p(&self, n: usize) -> String {
        match self.target.dialect() {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Runs statements that must succeed.
    async fn run(&mut self, statements: &[&str]) {
        for statement in statements {
            if let Err(error) = self.conn.execute(statement, vec![]).await {
                panic!("{statement}: {error}");
            }
        }
    }

    /// The rows of a query that must succeed.
    async fn rows(&mut self, statement: &str, params: Vec<SqlValue>) -> Vec<Vec<SqlValue>> {
        match self.conn.query(statement, params).await {
            Ok(result) => result.rows,
            Err(error) => panic!("{statement}: {error}"),
        }
    }
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

/// Declares, in a dialect's test module, one tokio test per test in [`common`].
macro_rules! common_tests {
    ($dialect:expr) => {
        common_tests!(
            $dialect;
            hostile_text_lands_literally,
            quoted_identifiers_hold_anything,
            unique_violations_are_reported_as_such,
            other_constraints_are_constraint_violations,
            bad_statements_are_syntax_errors,
            a_wrong_number_of_values_is_an_invalid_value,
            execute_counts_changed_rows,
            commit_keeps_and_rollback_discards,
            transaction_calls_out_of_place_are_refused,
            a_failed_statement_fails_the_transaction,
            a_savepoint_recovers_a_failed_transaction,
            too_large_results_stop_while_reading,
            a_timeout_closes_the_connection,
        );
    };
    ($dialect:expr; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                super::common::$test(super::Db::open($dialect).await).await;
            }
        )+
    };
}

// After the macro: the dialect modules use it.
mod common;
mod postgres;
mod sqlite;
