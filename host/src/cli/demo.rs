//! `ferry demo`: one command to see the whole path work. It creates, in a data folder, a
//! SQLite target database holding what Entra ID sends by default, a self-signed
//! certificate, a token and a real configuration file (`ferry.toml`, to read and copy),
//! then serves it and prints a ready-to-paste curl command.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::Rng;

use crate::config::LoadedConfig;

/// Options of `ferry demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The address to serve on.
    #[arg(long, default_value = "127.0.0.1:8585")]
    listen: SocketAddr,
    /// The demo's folder: target database, certificate, token, configuration, cache.
    #[arg(long, default_value = "ferry-demo")]
    data: PathBuf,
    /// The bearer token (default: a random one, kept in DATA/token).
    #[arg(long)]
    token: Option<String>,
    /// The folder holding generic-sql.wasm (`cargo xtask demo` passes the one it built).
    #[arg(long, default_value = "plugins")]
    plugins: PathBuf,
}

/// The demo's target table: the attributes Entra ID sends by default, plus a change table
/// kept by triggers so delta imports see direct edits, deletes included.
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
";

/// The demo's configuration; `{listen}` and `{plugins}` are filled in.
const CONFIG_TEMPLATE: &str = r#"# Written by `ferry demo`. A complete, working configuration: copy it as a start.
[server]
listen = "{listen}"
data = "."
plugins = "{plugins}"
tls-cert = "tls/cert.pem"
tls-key = "tls/key.pem"

[apps.demo]
plugin = "generic-sql"
token = { file = "token" }

[apps.demo.database]
url = "sqlite:target.db"

[apps.demo.import]
delta-interval-seconds = 10

[[apps.demo.settings.object-types]]
name = "user"
table = "users"
anchor = "id"
read-only = ["updated_at"]
change-table = { table = "user_changes", sequence = "seq", anchor = "user_id" }

[apps.demo.users]
object-type = "user"
"#;

fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates (or keeps) the demo's files and returns the configuration file.
pub fn prepare(args: &DemoArgs) -> anyhow::Result<PathBuf> {
    let data = &args.data;
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let target = rusqlite::Connection::open(data.join("target.db"))
        .context("creating the target database")?;
    target
        .execute_batch(TARGET_SCHEMA)
        .context("creating the demo tables")?;
    let token_file = data.join("token");
    match &args.token {
        Some(token) => crate::tls::write_private(&token_file, token.as_bytes())?,
        None if !token_file.exists() => {
            crate::tls::write_private(&token_file, random_token().as_bytes())?
        }
        None => {}
    }
    if !data.join("tls/cert.pem").exists() || !data.join("tls/key.pem").exists() {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        if !args.listen.ip().is_unspecified() {
            names.push(args.listen.ip().to_string());
        }
        names.dedup();
        crate::tls::generate_self_signed(&data.join("tls"), &names)?;
    }
    let plugins = std::path::absolute(&args.plugins)?;
    anyhow::ensure!(
        plugins.join("generic-sql.wasm").exists(),
        "{} has no generic-sql.wasm: run `cargo xtask demo` (it builds the connector), or pass --plugins",
        plugins.display()
    );
    let config = CONFIG_TEMPLATE
        .replace("{listen}", &args.listen.to_string())
        .replace("{plugins}", &toml_path(&plugins));
    let config_file = data.join("ferry.toml");
    std::fs::write(&config_file, config)
        .with_context(|| format!("writing {}", config_file.display()))?;
    Ok(config_file)
}

/// A path as a TOML basic string's content.
fn toml_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let config_file = prepare(&args)?;
    let config = LoadedConfig::load(&config_file)?;
    let token = std::fs::read_to_string(args.data.join("token"))?;
    let host = if args.listen.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        args.listen.ip().to_string()
    };
    let url = format!("https://{host}:{}/apps/demo/scim/v2", args.listen.port());
    let cert = std::path::absolute(args.data.join("tls/cert.pem"))?;
    println!(
        "\nFerry demo\n\
         \x20 SCIM base URL : {url}\n\
         \x20 bearer token  : {token}\n\
         \x20 certificate   : {cert} (self-signed)\n\
         \x20 target        : {db} (SQLite; table users)\n\
         \x20 configuration : {config}\n\n\
         Try it:\n\
         \x20 curl --cacert {cert} -H 'Authorization: Bearer {token}' '{url}/Users?filter=userName%20eq%20%22ada%40example.org%22'\n\
         \x20 curl --cacert {cert} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/scim+json' \\\n\
         \x20      -d '{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada@example.org\",\"name\":{{\"givenName\":\"Ada\",\"familyName\":\"Lovelace\"}},\"emails\":[{{\"type\":\"work\",\"value\":\"ada@example.org\"}}],\"active\":true}}' \\\n\
         \x20      '{url}/Users'\n\
         \x20 sqlite3 {db} 'SELECT * FROM users'\n\n\
         Stop with Ctrl-C.\n",
        cert = cert.display(),
        db = std::path::absolute(args.data.join("target.db"))?.display(),
        config = std::path::absolute(&config_file)?.display(),
    );
    super::serve::serve(config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_a_loadable_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::write(plugins.join("generic-sql.wasm"), b"").unwrap();
        let args = DemoArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            data: dir.path().join("demo"),
            token: Some("a-demo-token-of-32-characters!!!".into()),
            plugins,
        };
        let config_file = prepare(&args).unwrap();
        let config = LoadedConfig::load(&config_file).unwrap();
        assert_eq!(
            config.token("demo").unwrap().expose(),
            "a-demo-token-of-32-characters!!!"
        );
        let db = rusqlite::Connection::open(args.data.join("target.db")).unwrap();
        db.execute("INSERT INTO users (user_name) VALUES ('x')", [])
            .unwrap();
        let changes: i64 = db
            .query_row("SELECT count(*) FROM user_changes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(changes, 1);
        // A second run keeps what is there.
        prepare(&args).unwrap();
        assert!(random_token().len() == 32);
    }

    #[test]
    fn refuses_a_missing_connector_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let args = DemoArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            data: dir.path().join("demo"),
            token: None,
            plugins: dir.path().join("nowhere"),
        };
        let e = prepare(&args).unwrap_err().to_string();
        assert!(e.contains("cargo xtask demo"), "{e}");
    }
}
