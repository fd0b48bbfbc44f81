//! `ferry demo`: one command to see the whole path work. It creates, in a data folder, a
//! self-signed certificate, a token, the target (a SQLite database holding what Entra ID
//! sends by default, or an app on a given LDAP directory) and a real configuration file
//! (`ferry.toml`, to read and copy), then serves it and prints ready-to-paste commands.

mod ldap;
mod sql;

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
    /// The folder holding the connectors (`cargo xtask demo` passes the ones it built).
    #[arg(long, default_value = "plugins")]
    plugins: PathBuf,
    /// Provision into this LDAP directory instead of SQLite (`ldap://HOST:PORT`; StartTLS
    /// is used). `cargo xtask demo -- --ldap` starts a directory and fills these in.
    #[command(flatten)]
    ldap: ldap::LdapArgs,
}

/// What the demo provisions into: the app's configuration tables and how to look at
/// the result.
#[derive(Debug)]
pub(crate) struct Target {
    /// The plugin file the app needs.
    plugin_file: &'static str,
    /// The `[apps.demo.*]` tables after `plugin` and `token`.
    app_config: String,
    /// The banner line saying what the target is.
    describe: String,
    /// The banner line showing how to look into the target.
    look: String,
}

/// The demo's configuration; `{listen}`, `{plugins}`, `{plugin}` and `{app}` are filled
/// in.
const CONFIG_TEMPLATE: &str = r#"# Written by `ferry demo`. A complete, working configuration: copy it as a start.
[server]
listen = "{listen}"
data = "."
plugins = "{plugins}"
tls-cert = "tls/cert.pem"
tls-key = "tls/key.pem"

[apps.demo]
plugin = "{plugin}"
token = { file = "token" }

[apps.demo.import]
delta-interval-seconds = 10
{app}"#;

fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates (or keeps) the demo's files and returns the configuration file and the target.
pub fn prepare(args: &DemoArgs) -> anyhow::Result<(PathBuf, Target)> {
    let data = &args.data;
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let target = match args.ldap.target()? {
        Some(ldap) => ldap,
        None => sql::target(data)?,
    };
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
        plugins.join(target.plugin_file).exists(),
        "{} has no {}: run `cargo xtask demo` (it builds the connectors), or pass --plugins",
        plugins.display(),
        target.plugin_file
    );
    let config = CONFIG_TEMPLATE
        .replace("{listen}", &args.listen.to_string())
        .replace("{plugins}", &toml_path(&plugins))
        .replace("{plugin}", target.plugin_file.trim_end_matches(".wasm"))
        .replace("{app}", &target.app_config);
    let config_file = data.join("ferry.toml");
    std::fs::write(&config_file, config)
        .with_context(|| format!("writing {}", config_file.display()))?;
    Ok((config_file, target))
}

/// A path as a TOML basic string's content.
pub(crate) fn toml_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let (config_file, target) = prepare(&args)?;
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
         {describe}\n\
         \x20 configuration : {config}\n\n\
         Try it:\n\
         \x20 curl --cacert {cert} -H 'Authorization: Bearer {token}' '{url}/Users?filter=userName%20eq%20%22ada%22'\n\
         \x20 curl --cacert {cert} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/scim+json' \\\n\
         \x20      -d '{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada\",\"name\":{{\"formatted\":\"Ada Lovelace\",\"givenName\":\"Ada\",\"familyName\":\"Lovelace\"}},\"emails\":[{{\"type\":\"work\",\"value\":\"ada@example.org\"}}],\"active\":true}}' \\\n\
         \x20      '{url}/Users'\n\
         {look}\n\n\
         Stop with Ctrl-C.\n",
        cert = cert.display(),
        describe = target.describe,
        look = target.look,
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
            ldap: ldap::LdapArgs::default(),
        };
        let (config_file, _) = prepare(&args).unwrap();
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
            ldap: ldap::LdapArgs::default(),
        };
        let e = prepare(&args).unwrap_err().to_string();
        assert!(e.contains("cargo xtask demo"), "{e}");
    }
}
