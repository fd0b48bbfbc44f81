//! Which database an app's connector talks to, parsed once from the app's configuration.
//!
//! | URL | database |
//! |---|---|
//! | `sqlite:users.db`, `sqlite://users.db` | `users.db` beside the config file |
//! | `sqlite:/srv/users.db`, `sqlite:///srv/users.db` | `/srv/users.db` |
//! | `postgres://ferry@db.example:5432/idm?application_name=x` (or `postgresql://`) | PostgreSQL, as libpq reads the URL |
//!
//! The PostgreSQL password comes from the app's configuration (an environment variable or
//! a file), not from the URL: URLs end up in logs, process lists and tickets. A URL with a
//! password is refused unless the app explicitly allows it.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Dialect, SqlConnection, SqlError, SqlErrorKind, SqlLimits, postgres, sqlite};

/// An app's database. Cloned into each session; its `Debug` never shows the password.
#[derive(Clone, Debug)]
pub enum SqlTarget {
    /// A SQLite file, which must exist.
    Sqlite {
        /// The file, absolute.
        path: PathBuf,
    },
    /// A PostgreSQL database.
    Postgres(PostgresTarget),
}

/// A PostgreSQL connection's settings, password included.
#[derive(Clone)]
pub struct PostgresTarget {
    /// Boxed: a `Config` is several times larger than a SQLite target.
    pub(super) config: Box<tokio_postgres::Config>,
}

impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        f.debug_struct("PostgresTarget")
            .field("user", &config.get_user())
            .field("hosts", &config.get_hosts())
            .field("ports", &config.get_ports())
            .field("dbname", &config.get_dbname())
            .field("password", &config.get_password().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A database URL that cannot be used, and why. The message never repeats a password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTarget(String);

impl SqlTarget {
    /// Parses an app's database URL (see the module's table). Relative SQLite paths are
    /// resolved against `base_dir`, the config file's folder. `password` is the
    /// PostgreSQL password from the app's configuration; one embedded in the URL is
    /// refused unless `allow_inline_password`.
    pub fn from_url(
        url: &str,
        password: Option<String>,
        base_dir: &Path,
        allow_inline_password: bool,
    ) -> Result<SqlTarget, InvalidTarget> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            return sqlite_target(path, password, base_dir);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return postgres_target(url, password, allow_inline_password).map(SqlTarget::Postgres);
        }
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        Err(InvalidTarget(format!(
            "unsupported database URL scheme {scheme:?}: expected sqlite:PATH or postgres://USER@HOST:PORT/DATABASE"
        )))
    }

    /// The database's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            SqlTarget::Sqlite { .. } => Dialect::Sqlite,
            SqlTarget::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Opens a connection for one connector session, within `limits.statement_timeout`.
    pub async fn connect(&self, limits: SqlLimits) -> Result<SqlConnection, SqlError> {
        let connecting = async {
            Ok(match self {
                SqlTarget::Sqlite { path } => {
                    sqlite::SqliteConnection::open(path, limits).await?.into()
                }
                SqlTarget::Postgres(target) => {
                    postgres::PostgresConnection::connect(target, limits)
                        .await?
                        .into()
                }
            })
        };
        match tokio::time::timeout(limits.statement_timeout, connecting).await {
            Ok(connected) => connected.map(|driver| SqlConnection::new(driver, limits)),
            Err(_) => Err(SqlError::new(
                SqlErrorKind::Timeout,
                format!(
                    "connecting to the database took longer than {} ms",
                    limits.statement_timeout.as_millis()
                ),
            )),
        }
    }
}

fn sqlite_target(
    path: &str,
    password: Option<String>,
    base_dir: &Path,
) -> Result<SqlTarget, InvalidTarget> {
    if password.is_some() {
        return Err(InvalidTarget(
            "a SQLite database takes no password: remove it from the app's configuration".into(),
        ));
    }
    // `sqlite://x` is a relative `x`, `sqlite:///x` the absolute `/x`.
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() {
        return Err(InvalidTarget(
            "the SQLite URL names no file: write sqlite:PATH".into(),
        ));
    }
    Ok(SqlTarget::Sqlite {
        path: base_dir.join(path),
    })
}

fn postgres_target(
    url: &str,
    password: Option<String>,
    allow_inline_password: bool,
) -> Result<PostgresTarget, InvalidTarget> {
    // The parser's messages name options, never their values.
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|error| InvalidTarget(format!("invalid PostgreSQL URL: {error}")))?;
    if config.get_password().is_some() {
        if !allow_inline_password {
            return Err(InvalidTarget(
                "the PostgreSQL URL contains a password: remove it and give the password through \
                 the app's password setting (an environment variable or a file)"
                    .into(),
            ));
        }
        if password.is_some() {
            return Err(InvalidTarget(
                "the PostgreSQL URL contains a password and the app configures one too: keep one"
                    .into(),
            ));
        }
    }
    if let Some(password) = password {
        config.password(password);
    }
    if config.get_user().is_none() {
        return Err(InvalidTarget(
            "the PostgreSQL URL names no user: write postgres://USER@HOST/DATABASE".into(),
        ));
    }
    if config.get_hosts().is_empty() {
        return Err(InvalidTarget(
            "the PostgreSQL URL names no host: write postgres://USER@HOST/DATABASE".into(),
        ));
    }
    // TODO(tls): connections are plain TCP (tokio_postgres::NoTls) until the host's rustls
    // configuration is wired to PostgreSQL; until then a URL that demands TLS is refused
    // rather than silently downgraded.
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(InvalidTarget(
            "sslmode=require is not supported yet: Ferry connects to PostgreSQL without TLS for now".into(),
        ));
    }
    if config.get_application_name().is_none() {
        config.application_name("ferry");
    }
    Ok(PostgresTarget {
        config: Box::new(config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Pa55";

    fn parse(
        url: &str,
        password: Option<&str>,
        allow_inline: bool,
    ) -> Result<SqlTarget, InvalidTarget> {
        SqlTarget::from_url(
            url,
            password.map(str::to_owned),
            Path::new("/etc/ferry"),
            allow_inline,
        )
    }

    #[test]
    fn sqlite_paths_resolve_against_the_config_folder() {
        for (url, path) in [
            ("sqlite:users.db", "/etc/ferry/users.db"),
            ("sqlite://data/users.db", "/etc/ferry/data/users.db"),
            ("sqlite:/srv/users.db", "/srv/users.db"),
            ("sqlite:///srv/users.db", "/srv/users.db"),
        ] {
            match parse(url, None, false).unwrap() {
                SqlTarget::Sqlite { path: parsed } => assert_eq!(parsed, Path::new(path), "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(parse("sqlite:", None, false).is_err());
        assert!(parse("sqlite:x.db", Some(SECRET), false).is_err());
    }

    #[test]
    fn postgres_urls_parse() {
        for url in [
            "postgres://ferry@db:5433/idm",
            "postgresql://ferry@db:5433/idm?connect_timeout=5",
        ] {
            let target = parse(url, Some(SECRET), false).unwrap();
            assert_eq!(target.dialect(), Dialect::Postgres);
            let SqlTarget::Postgres(PostgresTarget { config }) = target else {
                panic!("{url}")
            };
            assert_eq!(config.get_user(), Some("ferry"));
            assert_eq!(config.get_dbname(), Some("idm"));
            assert_eq!(config.get_ports(), [5433]);
            assert_eq!(config.get_password(), Some(SECRET.as_bytes()));
            assert_eq!(config.get_application_name(), Some("ferry"));
        }
        assert!(
            parse("postgres://db/idm", None, false)
                .unwrap_err()
                .0
                .contains("no user")
        );
        assert!(
            parse("mysql://ferry@db/idm", None, false)
                .unwrap_err()
                .0
                .contains("\"mysql\"")
        );
        assert!(parse("postgres://ferry@db/idm?sslmode=require", None, false).is_err());
    }

    #[test]
    fn an_inline_password_is_refused_without_being_echoed() {
        for url in [
            format!("postgres://ferry:{SECRET}@db/idm"),
            format!("postgres://ferry@db/idm?password={SECRET}"),
        ] {
            let error = parse(&url, None, false).unwrap_err();
            assert!(error.0.contains("contains a password"), "{error}");
            assert!(!error.0.contains(SECRET), "{error}");
            // Allowed explicitly, it is taken; but not together with a configured one.
            assert!(parse(&url, None, true).is_ok());
            assert!(
                !parse(&url, Some("other"), true)
                    .unwrap_err()
                    .0
                    .contains(SECRET)
            );
        }
        let bad_port = parse(
            &format!("postgres://ferry:{SECRET}@db:notaport/idm"),
            None,
            true,
        )
        .unwrap_err();
        assert!(!bad_port.0.contains(SECRET), "{bad_port}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        for target in [
            parse("postgres://ferry@db/idm", Some(SECRET), false).unwrap(),
            parse(&format!("postgres://ferry:{SECRET}@db/idm"), None, true).unwrap(),
        ] {
            for shown in [format!("{target:?}"), format!("{target:#?}")] {
                assert!(!shown.contains(SECRET), "{shown}");
                assert!(
                    shown.contains("redacted") && shown.contains("ferry"),
                    "{shown}"
                );
            }
        }
    }
}
