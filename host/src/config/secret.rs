//! Secrets in the configuration: bearer tokens, database passwords, secret connector
//! parameters. They come from an environment variable or a file, so the configuration
//! file itself can be shared and versioned; a literal value is accepted only when the
//! operator insists with `allow-inline-secrets = true`. Once read, a secret is a
//! [`Secret`], which never prints its value.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where a secret comes from: exactly one of `env`, `file` or `value`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// The name of an environment variable holding the secret.
    pub env: Option<String>,
    /// A file holding the secret (trailing newlines are removed); relative to the
    /// configuration file's folder.
    pub file: Option<PathBuf>,
    /// The secret itself; only with `allow-inline-secrets = true`.
    pub value: Option<String>,
}

/// A secret value. Its `Debug` shows `***`; there is no `Display`, so it cannot end up in
/// a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    /// Wraps a value read from a trusted place.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it (a driver, a comparison).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl SecretSource {
    /// Reads the secret. Errors say where it was looked for, never what was found.
    pub fn resolve(&self, base_dir: &Path, allow_inline: bool) -> Result<Secret, String> {
        let value = match (&self.env, &self.file, &self.value) {
            (Some(var), None, None) => std::env::var(var).map_err(|_| {
                format!("the environment variable {var} is not set (or not valid UTF-8)")
            })?,
            (None, Some(file), None) => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
                text.trim_end_matches(['\r', '\n']).to_string()
            }
            (None, None, Some(value)) => {
                if !allow_inline {
                    return Err(
                        "a secret written in the configuration file is refused; use \
                                { env = \"VAR\" } or { file = \"path\" }, or set \
                                allow-inline-secrets = true for this app"
                            .into(),
                    );
                }
                value.clone()
            }
            _ => return Err("give exactly one of env, file or value".into()),
        };
        if value.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(env: Option<&str>, file: Option<&str>, value: Option<&str>) -> SecretSource {
        SecretSource {
            env: env.map(Into::into),
            file: file.map(Into::into),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn reads_files_relative_to_the_config_and_trims_newlines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "s3cret-token\n").unwrap();
        let s = source(None, Some("tok"), None)
            .resolve(dir.path(), false)
            .unwrap();
        assert_eq!(s.expose(), "s3cret-token");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn refuses_inline_unless_allowed_and_ambiguous_sources() {
        let inline = source(None, None, Some("abc"));
        assert!(
            inline
                .resolve(Path::new("."), false)
                .unwrap_err()
                .contains("allow-inline-secrets")
        );
        assert_eq!(
            inline.resolve(Path::new("."), true).unwrap().expose(),
            "abc"
        );
        let both = source(Some("X"), None, Some("abc"));
        assert!(
            both.resolve(Path::new("."), true)
                .unwrap_err()
                .contains("exactly one")
        );
        let missing = source(Some("FERRY_TEST_SURELY_UNSET_VAR"), None, None);
        let e = missing.resolve(Path::new("."), false).unwrap_err();
        assert!(e.contains("FERRY_TEST_SURELY_UNSET_VAR"));
    }
}
