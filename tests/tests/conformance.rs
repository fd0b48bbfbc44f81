//! `ferry conformance` end to end: the real binary runs the suite against each shipped
//! connector on its real target (SQLite, PostgreSQL, OpenLDAP), and every run must pass
//! and leave the target as it found it. The negative cases prove the suite catches a
//! target that answers wrongly, and that bad input is a clear error, not a panic.
//!
//! Adding a connector is one short test: write its app with [`app`] (or any
//! configuration), run it with [`conformance`] and check it with [`assert_conforms`].

use std::path::Path;

use ferry_e2e::targets::{self, Target};
use ferry_e2e::{TOKEN, ferry_command, plugin_dir};
use ferry_test_support::shared_slapd;

/// A configuration holding one app, `conformance`, running `plugin` with `body` (its
/// `[apps.conformance.*]` tables: settings, database, network).
fn app(plugin: &str, body: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:8585"
insecure-http = true

[apps.conformance]
plugin = "{plugin}"
token = {{ file = "token" }}
{body}"#
    )
}

/// Runs `ferry conformance` on the component `component` (a file in the plugins build
/// folder) with `config` written into `dir`, plus `extra` arguments (hints). Returns
/// whether it exited 0, and its output.
fn conformance(dir: &Path, component: &str, config: &str, extra: &[&str]) -> (bool, String) {
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    std::fs::write(dir.join("conformance.toml"), config).unwrap();
    let plugin = plugin_dir().join(component);
    let mut args = vec![
        "conformance",
        "--plugin",
        plugin.to_str().unwrap(),
        "--config",
        "conformance.toml",
    ];
    args.extend(extra);
    ferry_command(&args, dir)
}

/// The checks every connector must pass (the others may be skipped where the connector
/// or its schema does not offer what they need).
const ALWAYS: &[&str] = &[
    "describe",
    "schema",
    "test-connection",
    "plan",
    "add",
    "read back (full import)",
    "read back (read, contract 0.2.0)",
    "update: replace string",
    "update: clear",
    "Unicode (non-BMP, combining, RTL) round-trip",
    "large value (64 KiB) round-trip",
    "error: duplicate add → already-exists",
    "delete",
    "error: update of a missing object → not-found",
    "error: delete of a missing object → not-found",
    "error: add without required",
    "error: add with an undeclared attribute → invalid-input",
    "full import paging",
    "cleanup",
];

/// Asserts the run passed: exit 0, no failed check, every check in [`ALWAYS`] and in
/// `also` listed as passed.
fn assert_conforms((passed, output): (bool, String), also: &[&str]) {
    // Shown with `--nocapture`: the report of a passing run is worth reading too.
    println!("{output}");
    assert!(passed, "ferry conformance failed:\n{output}");
    assert!(output.contains(" 0 failed"), "{output}");
    assert!(!output.contains("FAIL  "), "{output}");
    for check in ALWAYS.iter().chain(also) {
        assert!(
            output
                .lines()
                .any(|line| line.starts_with(&format!("PASS  {check}"))),
            "'{check}' did not pass:\n{output}"
        );
    }
}

/// Every kind of value, a multi-valued attribute and deltas: what the SQL runs must pass.
const SQL_CHECKS: &[&str] = &[
    "update: replace integer 'badge'",
    "update: replace boolean 'active'",
    "update: replace datetime 'hired_at'",
    "update: replace binary 'photo'",
    "update: add-values 'emails'",
    "update: remove-values 'emails'",
    "delta import: change",
    "delta import: deletion",
];

/// The users table of [`targets`] with a column of each remaining kind and a child table
/// of e-mail addresses (in `dialect`'s types).
fn widen(target: &Target) -> &'static str {
    match target {
        Target::Sqlite(_) => {
            "ALTER TABLE users ADD COLUMN badge INTEGER;
             ALTER TABLE users ADD COLUMN hired_at TIMESTAMP;
             ALTER TABLE users ADD COLUMN photo BLOB;
             CREATE TABLE user_emails (user_id INTEGER NOT NULL REFERENCES users (id), email TEXT NOT NULL);"
        }
        Target::Postgres(_) => {
            "ALTER TABLE users ADD COLUMN badge BIGINT, ADD COLUMN hired_at TIMESTAMPTZ,
                 ADD COLUMN photo BYTEA;
             CREATE TABLE user_emails (user_id BIGINT NOT NULL REFERENCES users (id), email TEXT NOT NULL);"
        }
    }
}

/// The generic SQL connector's app on `target` (widened), deltas from the change table.
async fn sql_config(target: &Target) -> String {
    target.execute(widen(target)).await;
    let multi_valued = r#"
[[apps.hr.settings.object-types.multi-valued]]
attribute = "emails"
table = "user_emails"
key = "user_id"
value = "email"
"#;
    targets::config(&plugin_dir(), target, multi_valued).replace("{port}", "0")
}

#[tokio::test]
async fn generic_sql_on_sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let config = sql_config(&target).await;
    assert_conforms(
        conformance(dir.path(), "generic-sql.wasm", &config, &[]),
        SQL_CHECKS,
    );
    assert_eq!(target.count().await, 0, "the suite left users behind");
}

#[tokio::test]
async fn generic_sql_on_postgres_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::postgres().await;
    let config = sql_config(&target).await;
    assert_conforms(
        conformance(dir.path(), "generic-sql.wasm", &config, &[]),
        SQL_CHECKS,
    );
    assert_eq!(target.count().await, 0, "the suite left users behind");
}

#[test]
fn generic_ldap_on_slapd_conforms() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ldap.password"), slapd.admin_password()).unwrap();
    let body = slapd.app_tables(
        "conformance",
        &ou,
        "starttls",
        Some(slapd.ca_pem_path()),
        None,
    );
    // The DN template names entries by uid, which the schema cannot tell.
    assert_conforms(
        conformance(
            dir.path(),
            "generic-ldap.wasm",
            &app("generic-ldap", &body),
            &["--name-attribute", "uid"],
        ),
        &[
            "update: replace boolean 'active'",
            "update: replace binary",
            "update: add-values",
            "update: remove-values",
            "rename",
            "delta import: change",
            "delta import: deletion",
        ],
    );
    let left = slapd.ldapsearch(&ou, "(objectClass=inetOrgPerson)", &["dn"]);
    assert!(
        !left.contains("dn: "),
        "the suite left entries behind:\n{left}"
    );
}

/// A target that answers wrongly — an AFTER trigger rewrites a column on insert, so what
/// is read back is not what was written (the add itself returns the row as inserted) —
/// fails the read-back checks, naming the attribute, exits non-zero, and is still
/// cleaned up.
#[tokio::test]
async fn a_target_that_changes_values_fails_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let config = sql_config(&target).await;
    target
        .execute(
            "CREATE TRIGGER mangle AFTER INSERT ON users BEGIN
                 UPDATE users SET external_id = upper(external_id) WHERE id = NEW.id;
             END;",
        )
        .await;
    let (passed, output) = conformance(dir.path(), "generic-sql.wasm", &config, &[]);
    assert!(!passed, "{output}");
    for failed in [
        "FAIL  read back (full import) — ",
        "FAIL  read back (read, contract 0.2.0) — ",
    ] {
        let line = output
            .lines()
            .find(|line| line.starts_with(failed))
            .unwrap_or_else(|| panic!("no '{failed}' line:\n{output}"));
        assert!(line.contains("attribute 'external_id'"), "{line}");
    }
    assert!(output.contains("PASS  cleanup"), "{output}");
    assert!(output.contains("conformance check(s) failed"), "{output}");
    assert_eq!(target.count().await, 0, "the suite left users behind");
}

/// A missing component, a missing or broken configuration and an unknown app are errors
/// naming the file or app, with a non-zero exit.
#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let sql = app("generic-sql", "");
    let (ok, output) = conformance(dir.path(), "no-such.wasm", &sql, &[]);
    assert!(!ok && output.contains("no-such.wasm"), "{output}");
    assert!(!output.contains("panicked"), "{output}");

    let (ok, output) = conformance(
        dir.path(),
        "generic-sql.wasm",
        &format!("{sql}colour = \"blue\"\n"),
        &[],
    );
    assert!(!ok && output.contains("conformance.toml:"), "{output}");
    assert!(output.contains("colour"), "{output}");

    let (ok, output) = conformance(dir.path(), "generic-sql.wasm", &sql, &["--app", "hr"]);
    assert!(
        !ok && output.contains("no app 'hr'") && output.contains("conformance"),
        "{output}"
    );

    let (ok, output) = ferry_command(
        &[
            "conformance",
            "--plugin",
            "x.wasm",
            "--config",
            "missing.toml",
        ],
        dir.path(),
    );
    assert!(!ok && output.contains("missing.toml"), "{output}");
}

/// The Python example connector: users in a JSON file in the app's granted folder.
#[test]
fn python_json_conforms() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("people-data")).unwrap();
    let body = "[apps.conformance.files]\ndir = \"people-data\"\n";
    assert_conforms(
        conformance(
            dir.path(),
            "python-json.wasm",
            &app("python-json", body),
            &[],
        ),
        &["rename", "delta import: change", "delta import: deletion"],
    );
}

/// The JavaScript example connector: users in an HTTP/JSON API, reached through the
/// host's allow-listed `net` capability. Its `level` attribute only takes 0–99, which
/// the suite's integer samples do not fit.
#[test]
fn js_http_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let api = ferry_test_support::TestApi::start();
    std::fs::write(dir.path().join("api-token"), api.token()).unwrap();
    let body = format!(
        "[apps.conformance.network]\nallow = [\"127.0.0.1:{port}\"]\n\n\
         [apps.conformance.settings]\nhost = \"127.0.0.1\"\nport = {port}\n\
         security = \"plain\"\ntoken = {{ file = \"api-token\" }}\n",
        port = api.port()
    );
    assert_conforms(
        conformance(
            dir.path(),
            "js-http.wasm",
            &app("js-http", &body),
            &["--skip-attribute", "level"],
        ),
        &["delta import: change", "delta import: deletion"],
    );
    assert!(api.users().is_empty(), "the suite left users behind");
}
