//! The configuration file (TOML): the server, and one table per app. Unknown keys are
//! errors, every error names the file and line, relative paths are relative to the
//! file's folder, and secrets come from the environment or files (see [`secret`]).

pub mod secret;
pub mod settings;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::runtime::limits::Limits;
use secret::SecretSource;

/// A configuration error: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// The 1-based line the error is about (1 when it is about the whole file).
    pub line: usize,
    /// What is wrong, naming the app and key when there is one.
    pub message: String,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Process-wide settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// The apps, by name. The name is part of each app's SCIM URL.
    #[serde(default)]
    pub apps: BTreeMap<String, Spanned<AppConfig>>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ServerConfig {
    /// The address SCIM is served on. Default `0.0.0.0:8585`, the port ECMA2Host uses.
    pub listen: SocketAddr,
    /// Ferry's own state: caches, compiled plugins. Default `data`.
    pub data: PathBuf,
    /// The folder of connector components (`*.wasm`). Default `plugins`.
    pub plugins: PathBuf,
    /// The TLS certificate chain (PEM). Required unless `insecure-http`.
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS. Only allowed on a loopback address (for a
    /// local reverse proxy or tests); bearer tokens would otherwise cross the network in
    /// clear text.
    pub insecure_http: bool,
    /// The largest request body, in bytes; a bigger one gets 413. Default 1 MiB: a SCIM
    /// user is a few KiB, and Entra ID sends one resource per request.
    pub max_request_bytes: usize,
    /// Connector instances alive at once across all apps. Default 200.
    pub max_instances: u32,
    /// How often the plugins folder is checked for new, changed and removed
    /// components, in seconds; 0 turns hot reload off. Default 2: a copied file is
    /// picked up within seconds, and listing a folder that often costs nothing.
    pub plugin_poll_seconds: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8585)),
            data: "data".into(),
            plugins: "plugins".into(),
            tls_cert: None,
            tls_key: None,
            insecure_http: false,
            max_request_bytes: 1 << 20,
            max_instances: 200,
            plugin_poll_seconds: 2,
        }
    }
}

/// `[apps.NAME]`: one connector instance configuration with its own SCIM endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppConfig {
    /// The connector, by the name its `describe` returns (e.g. `generic-sql`).
    pub plugin: String,
    /// The bearer token the IdP presents (at least 16 characters).
    pub token: SecretSource,
    /// Accept `{ value = "..." }` secrets written in this file.
    #[serde(default)]
    pub allow_inline_secrets: bool,
    /// The database the connector's `sql` capability reaches.
    pub database: Option<DatabaseConfig>,
    /// What the connector's `net` capability may reach; nothing without it.
    pub network: Option<NetworkConfig>,
    /// A folder the connector may use; none without it.
    pub files: Option<FilesConfig>,
    /// Sandbox limits.
    #[serde(default)]
    pub limits: Limits,
    /// When the cache is refreshed from the target.
    #[serde(default)]
    pub import: ImportConfig,
    /// The connector's parameters, checked against what it declares.
    #[serde(default)]
    pub settings: BTreeMap<String, Spanned<toml::Value>>,
    /// How SCIM Users map to the connector's objects.
    pub users: Option<ResourceMappingConfig>,
    /// How SCIM Groups map to the connector's objects; by default the connector's
    /// `group` object type, when it has one.
    pub groups: Option<GroupsMappingConfig>,
}

/// `[apps.NAME.database]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatabaseConfig {
    /// `sqlite:path/to/file.db` or `postgres://user@host:port/db`, without a password.
    pub url: String,
    /// The database password.
    pub password: Option<SecretSource>,
    /// Accept a password inside `url` (refused by default, because URLs end up in logs).
    #[serde(default)]
    pub allow_password_in_url: bool,
}

/// `[apps.NAME.network]`: the hosts and ports the connector may connect to, and how TLS
/// to them is verified. The host resolves names, checks every address, and does TLS
/// itself, so a connector can neither reach what is not listed nor skip verification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkConfig {
    /// Allowed destinations: `host:port`, `*.example.org:636`, `10.1.2.3:389`,
    /// `10.0.0.0/8:389`, `[::1]:389`. Loopback, link-local, metadata and other special
    /// addresses are refused unless an entry names them by address or range.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Extra trusted CA certificates (PEM), e.g. the directory's internal CA.
    pub ca_file: Option<PathBuf>,
    /// Also trust the system's CA store. Default true.
    #[serde(default = "yes")]
    pub system_roots: bool,
    /// A client certificate chain (PEM) presented in TLS handshakes (SASL EXTERNAL).
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// Turns certificate verification off for this app. Never in production: anyone on
    /// the path can read and change the traffic, credentials included.
    #[serde(default)]
    pub insecure_skip_certificate_verification: bool,
    /// Seconds to wait for a connection (resolution included). Default 10.
    #[serde(default = "ten")]
    pub connect_timeout_seconds: u32,
    /// Seconds a read or write may wait. Default 60.
    #[serde(default = "sixty")]
    pub io_timeout_seconds: u32,
    /// Connections open at once across the app's instances. Default 16.
    #[serde(default = "sixteen")]
    pub max_connections: u32,
}

fn ten() -> u32 {
    10
}

fn sixty() -> u32 {
    60
}

fn sixteen() -> u32 {
    16
}

/// `[apps.NAME.files]`: one host folder granted to the connector, which sees it as
/// `/data` (for connectors that keep their objects in files, e.g. CSV or JSON). Nothing
/// outside it is reachable: the connector's file system has no other root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilesConfig {
    /// The folder on the host, relative to the configuration file's folder. It must exist.
    pub dir: PathBuf,
    /// Grant reading only. Default false (read and write).
    #[serde(default)]
    pub read_only: bool,
}

/// `[apps.NAME.import]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImportConfig {
    /// Objects per import page. Default 500: big enough to amortise a call, small enough
    /// that a page of large objects stays far below the memory limit.
    pub page_size: u32,
    /// Minutes between full imports; 0 = only when the cache is empty. Default 1440 (a
    /// day): delta imports and exports keep the cache fresh in between, and a full
    /// import repairs anything they missed.
    pub full_interval_minutes: u32,
    /// Seconds between delta imports; 0 = none. Default 60.
    pub delta_interval_seconds: u32,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            page_size: 500,
            full_interval_minutes: 1440,
            delta_interval_seconds: 60,
        }
    }
}

/// `[apps.NAME.users]`: which object type SCIM Users are, and the attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResourceMappingConfig {
    /// The connector's object type. Default: the one named `user`, else the first.
    pub object_type: Option<String>,
    /// Map SCIM attributes to connector attributes with matching names (userName to
    /// user_name, emails[type eq "work"].value to email, ...). Default true.
    #[serde(default = "yes")]
    pub default_mapping: bool,
    /// SCIM attribute path → connector attribute; overrides the default mapping.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// SCIM attribute paths clients filter on besides those IdPs match on (see
    /// [`crate::scim::mapping::MATCHED_BY_IDPS`]): the cache keeps lookups for them. Other filters scan.
    #[serde(default)]
    pub lookups: Vec<String>,
}

/// `[apps.NAME.groups]`: which object type SCIM Groups are, which of its attributes
/// holds the members, and the attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GroupsMappingConfig {
    /// The connector's object type. Default `group`.
    #[serde(default = "group")]
    pub object_type: String,
    /// The multi-valued reference attribute listing the members. Default: the one whose
    /// references point to the users' object type.
    pub members: Option<String>,
    /// Map SCIM attributes to connector attributes with matching names. Default true.
    #[serde(default = "yes")]
    pub default_mapping: bool,
    /// SCIM attribute path → connector attribute; overrides the default mapping.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// SCIM attribute paths clients filter on besides those IdPs match on (see
    /// [`crate::scim::mapping::MATCHED_BY_IDPS`]): the cache keeps lookups for them. Other filters scan.
    #[serde(default)]
    pub lookups: Vec<String>,
}

fn group() -> String {
    "group".into()
}

fn yes() -> bool {
    true
}

/// The shortest bearer token accepted (ECMA2Host asks for 12; 16 random characters are
/// beyond guessing).
pub const MIN_TOKEN_CHARS: usize = 16;

/// A loaded configuration with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The parsed configuration; its relative paths are already resolved.
    pub config: Config,
    /// The file it was read from.
    pub file: PathBuf,
    /// The file's folder, which relative paths are resolved against.
    pub base_dir: PathBuf,
    text: String,
}

impl LoadedConfig {
    /// Reads and parses `file`.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: 1,
            message: format!("cannot read the configuration: {e}"),
        })?;
        Self::parse(file, text)
    }

    /// Parses `text` as if read from `file`.
    pub fn parse(file: &Path, text: String) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: e.span().map_or(1, |s| line_of(&text, s.start)),
            message: e.message().to_string(),
        })?;
        let base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let server = &mut config.server;
        for path in [&mut server.data, &mut server.plugins] {
            *path = base_dir.join(&*path);
        }
        for path in [&mut server.tls_cert, &mut server.tls_key]
            .into_iter()
            .flatten()
        {
            *path = base_dir.join(&*path);
        }
        let loaded = Self {
            config,
            file: file.to_path_buf(),
            base_dir,
            text,
        };
        loaded.check()?;
        Ok(loaded)
    }

    /// An error about the whole file.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: 1,
            message: message.into(),
        }
    }

    /// An error at a byte offset of the file.
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: line_of(&self.text, offset),
            message: message.into(),
        }
    }

    /// An error about an app, at the app's table.
    pub fn app_error(&self, app: &str, message: impl std::fmt::Display) -> ConfigError {
        let offset = self.config.apps.get(app).map_or(0, |a| a.span().start);
        self.error_at(offset, format!("app '{app}': {message}"))
    }

    /// Checks what the types alone cannot: the server's TLS and listen rules, app names,
    /// limits, token length, mapping object types. Plugin-specific checks (settings)
    /// need the plugin and happen when apps are built.
    fn check(&self) -> Result<(), ConfigError> {
        let server = &self.config.server;
        if server.insecure_http {
            if !server.listen.ip().is_loopback() {
                return Err(self.error(format!(
                    "insecure-http is only allowed on a loopback address, not {}: bearer tokens \
                     would cross the network in clear text",
                    server.listen
                )));
            }
        } else if server.tls_cert.is_none() || server.tls_key.is_none() {
            return Err(self.error(
                "[server] needs tls-cert and tls-key (PEM files; `ferry cert` makes a \
                 self-signed pair for trials), or insecure-http = true on a loopback address",
            ));
        }
        if server.max_instances == 0 {
            return Err(self.error("[server] max-instances must be at least 1"));
        }
        for (name, app) in &self.config.apps {
            if !valid_app_name(name) {
                return Err(self.app_error(
                    name,
                    "app names may contain only letters, digits, '-' and '_' (they are part of the URL)",
                ));
            }
            let app = app.get_ref();
            app.limits
                .validate()
                .map_err(|e| self.app_error(name, format!("[limits] {e}")))?;
            if app.import.page_size == 0 {
                return Err(self.app_error(name, "[import] page-size must be at least 1"));
            }
        }
        Ok(())
    }

    /// The app's bearer token, checked for length.
    pub fn token(&self, app: &str) -> Result<secret::Secret, ConfigError> {
        let cfg = self.config.apps[app].get_ref();
        let token = cfg
            .token
            .resolve(&self.base_dir, cfg.allow_inline_secrets)
            .map_err(|e| self.app_error(app, format!("token: {e}")))?;
        if token.expose().chars().count() < MIN_TOKEN_CHARS {
            return Err(self.app_error(
                app,
                format!("token: a bearer token needs at least {MIN_TOKEN_CHARS} characters"),
            ));
        }
        Ok(token)
    }
}

fn valid_app_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedConfig, ConfigError> {
        LoadedConfig::parse(Path::new("/etc/ferry/ferry.toml"), text.to_string())
    }

    const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:8585"
insecure-http = true

[apps.hr]
plugin = "generic-sql"
token = { env = "HR_TOKEN" }
"#;

    #[test]
    fn parses_a_minimal_file_and_resolves_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.config.server.data, PathBuf::from("/etc/ferry/data"));
        let hr = c.config.apps["hr"].get_ref();
        assert_eq!(hr.plugin, "generic-sql");
        assert_eq!(hr.limits, Limits::default());
        assert_eq!(hr.import.page_size, 500);
    }

    #[test]
    fn unknown_keys_name_the_file_and_line() {
        let text = format!("{MINIMAL}colour = \"blue\"\n");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.file, PathBuf::from("/etc/ferry/ferry.toml"));
        assert_eq!(e.line, 9);
        assert!(e.message.contains("colour"), "{e}");
        assert!(e.to_string().starts_with("/etc/ferry/ferry.toml:9:"), "{e}");
    }

    #[test]
    fn refuses_plain_http_off_loopback_and_missing_tls() {
        let e = parse(&MINIMAL.replace("127.0.0.1", "0.0.0.0")).unwrap_err();
        assert!(e.message.contains("loopback"), "{e}");
        let e = parse(&MINIMAL.replace("insecure-http = true", "")).unwrap_err();
        assert!(e.message.contains("tls-cert"), "{e}");
    }

    #[test]
    fn app_errors_point_at_the_app() {
        let text = format!("{MINIMAL}\n[apps.hr.limits]\ninstances = 0\n");
        let e = parse(&text).unwrap_err();
        assert!(
            e.message.contains("app 'hr'") && e.message.contains("instances"),
            "{e}"
        );
        assert_eq!(e.line, 6);
        let bad_name = MINIMAL.replace("[apps.hr]", "[apps.\"h r\"]");
        assert!(parse(&bad_name).unwrap_err().message.contains("app names"));
    }

    #[test]
    fn short_tokens_are_refused() {
        let text = MINIMAL
            .replace("{ env = \"HR_TOKEN\" }", "{ value = \"short\" }")
            .replace(
                "plugin = \"generic-sql\"",
                "plugin = \"generic-sql\"\nallow-inline-secrets = true",
            );
        let c = parse(&text).unwrap();
        assert!(c.token("hr").unwrap_err().message.contains("at least 16"));
    }
}
