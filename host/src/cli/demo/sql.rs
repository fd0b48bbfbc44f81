//! The demo's SQLite target: a users table holding what Entra ID sends by default, a
//! groups table with its membership table (so an IdP provisions groups out of the box),
//! and change tables kept by triggers so delta imports see direct edits, deletes and
//! membership changes included.

use std::path::Path;

use anyhow::Context;

use super::{Target, toml_path};

const TARGET_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    external_id TEXT,
    active BOOLEAN NOT NULL DEFAULT 1,
    display_name TEXT,
    given_name TEXT,
    family_name TEXT,
    formatted_name TEXT,
    email TEXT,
    employee_number TEXT,
    department TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS user_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS users_added AFTER INSERT ON users
BEGIN INSERT INTO user_changes (user_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS users_changed AFTER UPDATE ON users
BEGIN
    UPDATE users SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
    INSERT INTO user_changes (user_id) VALUES (NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS users_deleted AFTER DELETE ON users
BEGIN INSERT INTO user_changes (user_id) VALUES (OLD.id); END;
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    display_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    external_id TEXT
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE IF NOT EXISTS group_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS groups_added AFTER INSERT ON groups
BEGIN INSERT INTO group_changes (group_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS groups_changed AFTER UPDATE ON groups
BEGIN INSERT INTO group_changes (group_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS groups_deleted AFTER DELETE ON groups
BEGIN INSERT INTO group_changes (group_id) VALUES (OLD.id); END;
CREATE TRIGGER IF NOT EXISTS members_added AFTER INSERT ON group_members
BEGIN INSERT INTO group_changes (group_id) VALUES (NEW.group_id); END;
CREATE TRIGGER IF NOT EXISTS members_removed AFTER DELETE ON group_members
BEGIN INSERT INTO group_changes (group_id) VALUES (OLD.group_id); END;
";

const APP_CONFIG: &str = r#"
[apps.demo.database]
url = "sqlite:target.db"

[[apps.demo.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
read-only = ["updated_at"]
change-table = { table = "user_changes", sequence = "seq", anchor = "user_id" }

[[apps.demo.settings.object-types]]
name = "group"
table = "groups"
anchor = "id"
change-table = { table = "group_changes", sequence = "seq", anchor = "group_id" }
[[apps.demo.settings.object-types.multi-valued]]
attribute = "members"
table = "group_members"
key = "group_id"
value = "user_id"
reference = "user"

[apps.demo.users]
object-type = "user"
"#;

/// Creates (or keeps) `data/target.db` and returns the SQL target.
pub(crate) fn target(data: &Path) -> anyhow::Result<Target> {
    let db = data.join("target.db");
    rusqlite::Connection::open(&db)
        .context("creating the target database")?
        .execute_batch(TARGET_SCHEMA)
        .context("creating the demo tables")?;
    let db = std::path::absolute(&db)?;
    Ok(Target {
        plugin_file: "generic-sql.wasm",
        app_config: APP_CONFIG.into(),
        describe: format!(
            "  target        : {} (SQLite; tables users, groups, group_members)",
            db.display()
        ),
        look: format!("  sqlite3 '{}' 'SELECT * FROM users'", toml_path(&db)),
    })
}
