//! Secrets never leak: a PostgreSQL password (required by SCRAM, so it is really sent),
//! the app's bearer token and a password given by a client reach neither the log, nor an
//! error body, nor `ferry check`'s output — including when the password is wrong or is
//! written into the database URL.

use ferry_e2e::targets::config;
use ferry_e2e::{Ferry, TOKEN, ferry_command, sql_plugin_folder};
use ferry_test_support::TempPostgres;
use serde_json::json;

const DB_PASSWORD: &str = "pg-S3cret-Value-9f1c";
const WRONG_PASSWORD: &str = "wrong-S3cret-Value-77aa";
const USER_PASSWORD: &str = "client-Sent-P4ssword-5e0d";

/// A server whose role `ferry_app` must log in with a SCRAM password.
async fn server_with_password() -> (TempPostgres, String, tokio_postgres::Client) {
    let server = TempPostgres::start();
    let hba = server.folder().join("data/pg_hba.conf");
    let rules = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("host all ferry_app 127.0.0.1/32 scram-sha-256\n{rules}"),
    )
    .unwrap();
    let database = server.unique_database();
    let (admin, connection) =
        tokio_postgres::connect(&server.url(&database), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(&format!(
            "SET password_encryption = 'scram-sha-256';
             CREATE ROLE ferry_app LOGIN PASSWORD '{DB_PASSWORD}';
             CREATE TABLE users (id BIGSERIAL PRIMARY KEY, user_name TEXT NOT NULL UNIQUE, password TEXT);
             GRANT ALL ON users TO ferry_app;
             GRANT ALL ON SEQUENCE users_id_seq TO ferry_app;
             SELECT pg_reload_conf();"
        ))
        .await
        .unwrap();
    let url = format!(
        "postgres://ferry_app@127.0.0.1:{}/{database}",
        server.port()
    );
    (server, url, admin)
}

/// The test configuration for a PostgreSQL URL, its password read from `pg.password`.
fn app_config(dir: &std::path::Path, url: &str) -> String {
    let target = ferry_e2e::targets::Target::Postgres(url.to_string());
    config(&sql_plugin_folder(dir), &target, "")
        .replace(&format!("url = \"{url}\"\n"), &format!("url = \"{url}\"\npassword = {{ file = \"pg.password\" }}\n"))
        .replace("change-table = { table = \"user_changes\", sequence = \"seq\", anchor = \"user_id\" }\n", "")
}

fn assert_clean(text: &str, what: &str) {
    for secret in [DB_PASSWORD, WRONG_PASSWORD, USER_PASSWORD, TOKEN] {
        assert!(!text.contains(secret), "{what} contains a secret:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_and_tokens_never_reach_logs_error_bodies_or_check_output() {
    let (_server, url, admin) = server_with_password().await;
    let dir = tempfile::tempdir().unwrap();
    let text = app_config(dir.path(), &url);

    // The right password: `ferry check` passes (so the password was really used).
    std::fs::write(dir.path().join("pg.password"), format!("{DB_PASSWORD}\n")).unwrap();
    let mut ferry = Ferry::start(dir.path(), &text);
    let scim = ferry.ready("hr").await;
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(ok, "{out}");
    assert_clean(&out, "ferry check's output");

    // A client-sent password lands in the target but never in a response or the log;
    // a failing request's error body holds no secret either.
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "pw", "password": USER_PASSWORD});
    let (status, body) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_clean(&body.to_string(), "the created resource");
    let stored: String = admin
        .query_one("SELECT password FROM users WHERE user_name = 'pw'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, USER_PASSWORD, "the password reached the target");
    let (status, body) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert_clean(&body.to_string(), "an error body");
    let (_, list) = scim.get("/Users").await.unwrap();
    assert_clean(&list.to_string(), "a list");
    ferry.stop();
    assert_clean(&ferry.log(), "the log");

    // The wrong password: a clear failure that names the app, without the password.
    std::fs::write(dir.path().join("pg.password"), WRONG_PASSWORD).unwrap();
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok, "{out}");
    assert!(
        out.contains("app 'hr'") && out.contains("password authentication failed"),
        "{out}"
    );
    assert_clean(&out, "ferry check's output with a wrong password");

    // A password written into the URL is refused without repeating it.
    let inline = text.replace("ferry_app@", &format!("ferry_app:{DB_PASSWORD}@"));
    std::fs::write(
        dir.path().join("ferry.toml"),
        inline.replace("{port}", "18997"),
    )
    .unwrap();
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok, "{out}");
    assert!(
        out.contains("app 'hr'") && out.contains("password"),
        "{out}"
    );
    assert_clean(&out, "the refusal of an inline password");
}
