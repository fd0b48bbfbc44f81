//! The target databases of the end-to-end tests — a real SQLite file and a real
//! PostgreSQL database — created with the same users table, and read directly so every
//! step is checked in the target itself, not only through SCIM.

use std::collections::BTreeMap;
use std::path::Path;

/// The users table's columns, in order.
pub const COLUMNS: &[&str] = &[
    "id",
    "user_name",
    "external_id",
    "active",
    "display_name",
    "given_name",
    "family_name",
    "email",
    "employee_number",
    "department",
];

const SQLITE_SCHEMA: &str = "
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    external_id TEXT,
    active BOOLEAN NOT NULL DEFAULT 1,
    display_name TEXT,
    given_name TEXT,
    family_name TEXT,
    email TEXT,
    employee_number TEXT,
    department TEXT
);
CREATE TABLE user_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL);
CREATE TRIGGER users_added AFTER INSERT ON users BEGIN INSERT INTO user_changes (user_id) VALUES (NEW.id); END;
CREATE TRIGGER users_changed AFTER UPDATE ON users BEGIN INSERT INTO user_changes (user_id) VALUES (NEW.id); END;
CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN INSERT INTO user_changes (user_id) VALUES (OLD.id); END;
";

/// The PostgreSQL table is shared with the benchmarks.
const POSTGRES_SCHEMA: &str = ferry_test_support::POSTGRES_USERS_TABLE;

/// A target database with the users table.
pub enum Target {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A database on the shared test PostgreSQL.
    Postgres(String),
}

/// A row read back, every column as text (`None` for NULL); booleans as "true"/"false".
pub type Row = BTreeMap<String, Option<String>>;

impl Target {
    /// A new SQLite file in `dir`.
    pub fn sqlite(dir: &Path) -> Target {
        let path = dir.join("target.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(SQLITE_SCHEMA)
            .unwrap();
        Target::Sqlite(path)
    }

    /// A new database on the shared PostgreSQL server.
    pub async fn postgres() -> Target {
        let server = ferry_test_support::shared_postgres();
        let url = server.url(&server.unique_database());
        let target = Target::Postgres(url);
        target.execute(POSTGRES_SCHEMA).await;
        target
    }

    /// The `url = ...` line of the app's `[database]` table.
    pub fn url(&self) -> String {
        match self {
            Target::Sqlite(path) => format!("sqlite:{}", path.display()),
            Target::Postgres(url) => url.clone(),
        }
    }

    /// Whether text with NUL bytes can be stored (PostgreSQL text cannot hold NUL).
    pub fn stores_nul(&self) -> bool {
        matches!(self, Target::Sqlite(_))
    }

    async fn pg(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }

    /// Runs statements directly on the target, as an administrator would.
    pub async fn execute(&self, sql: &str) {
        match self {
            Target::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Target::Postgres(url) => Self::pg(url).await.batch_execute(sql).await.unwrap(),
        }
    }

    /// The row of the user with this exact user_name.
    pub async fn row(&self, user_name: &str) -> Option<Row> {
        let select = COLUMNS
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let values: Option<Vec<Option<String>>> = match self {
            Target::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let sql = format!("SELECT {select} FROM users WHERE user_name = ?1 COLLATE BINARY");
                let mut stmt = c.prepare(&sql).unwrap();
                let mut rows = stmt.query([user_name]).unwrap();
                rows.next().unwrap().map(|r| {
                    (0..COLUMNS.len())
                        .map(|i| r.get::<_, Option<String>>(i).unwrap())
                        .collect()
                })
            }
            Target::Postgres(url) => {
                let sql = format!("SELECT {select} FROM users WHERE user_name = $1");
                let rows = Self::pg(url)
                    .await
                    .query(&sql, &[&user_name])
                    .await
                    .unwrap();
                rows.first().map(|r| {
                    (0..COLUMNS.len())
                        .map(|i| r.get::<_, Option<String>>(i))
                        .collect()
                })
            }
        };
        values.map(|v| {
            COLUMNS
                .iter()
                .zip(v)
                .map(|(c, v)| {
                    let v = match (*c, v.as_deref()) {
                        ("active", Some("1")) => Some("true".to_string()),
                        ("active", Some("0")) => Some("false".to_string()),
                        _ => v,
                    };
                    (c.to_string(), v)
                })
                .collect()
        })
    }

    /// The first column of a query's rows, as text (`CAST(x AS TEXT)` in `sql` where
    /// needed); NULL as an empty string.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Target::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut stmt = c.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get::<_, Option<String>>(0))
                    .unwrap()
                    .map(|v| v.unwrap().unwrap_or_default())
                    .collect()
            }
            Target::Postgres(url) => Self::pg(url)
                .await
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
                .collect(),
        }
    }

    /// Whether this is the SQLite target (for DDL that differs).
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Target::Sqlite(_))
    }

    /// How many users the table holds.
    pub async fn count(&self) -> i64 {
        match self {
            Target::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .unwrap(),
            Target::Postgres(url) => Self::pg(url)
                .await
                .query_one("SELECT count(*) FROM users", &[])
                .await
                .unwrap()
                .get(0),
        }
    }
}

/// A configuration for one app `hr` on the generic SQL connector and `target`; `{port}`
/// is left for [`crate::Ferry::start`]. Delta imports run every second so tests see
/// direct changes quickly.
pub fn config(plugins: &Path, target: &Target, extra: &str) -> String {
    format!(
        r#"{app}
[apps.hr.import]
delta-interval-seconds = 1

[[apps.hr.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
change-table = {{ table = "user_changes", sequence = "seq", anchor = "user_id" }}
{extra}"#,
        app = sql_app(plugins, target),
    )
}

/// The `[server]` section and the generic SQL app `hr` on `target`, up to its database:
/// for configurations that bring their own object types and mapping.
pub fn sql_app(plugins: &Path, target: &Target) -> String {
    format!(
        r#"{server}
[apps.hr]
plugin = "generic-sql"
token = {{ file = "token" }}

[apps.hr.database]
url = "{url}"
"#,
        server = crate::server_section(plugins),
        url = target.url(),
    )
}

/// Declares two tests running `sequence(target, dir)`: one on a fresh SQLite file, one on
/// a fresh database of the shared test PostgreSQL, each with its own temporary folder.
#[macro_export]
macro_rules! on_sqlite_and_postgres {
    ($sequence:path => $on_sqlite:ident, $on_postgres:ident) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $on_sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $sequence($crate::targets::Target::sqlite(dir.path()), dir.path()).await;
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn $on_postgres() {
            let dir = tempfile::tempdir().unwrap();
            $sequence($crate::targets::Target::postgres().await, dir.path()).await;
        }
    };
}
