//! The demo on an LDAP directory: an app on the generic LDAP connector, allowed to reach
//! exactly that directory, trusting exactly its CA, creating users under `ou=people`.

use std::path::PathBuf;

use anyhow::Context;

use super::{Target, toml_path};

/// Where the demo's directory is. All or nothing: `--ldap-url` needs the others.
#[derive(Debug, Default, clap::Args)]
pub struct LdapArgs {
    /// The directory, `ldap://HOST:PORT` (StartTLS is used).
    #[arg(long, requires_all = ["ldap_base_dn", "ldap_bind_dn", "ldap_password_file", "ldap_ca"])]
    ldap_url: Option<String>,
    /// The base DN; users are created under `ou=people` below it.
    #[arg(long)]
    ldap_base_dn: Option<String>,
    /// The DN Ferry binds as.
    #[arg(long)]
    ldap_bind_dn: Option<String>,
    /// A file holding that DN's password.
    #[arg(long)]
    ldap_password_file: Option<PathBuf>,
    /// The directory's CA certificate (PEM).
    #[arg(long)]
    ldap_ca: Option<PathBuf>,
}

/// A TOML basic string's content.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

impl LdapArgs {
    /// The LDAP target, when `--ldap-url` was given.
    pub(crate) fn target(&self) -> anyhow::Result<Option<Target>> {
        let Some(url) = &self.ldap_url else {
            return Ok(None);
        };
        let (host, port) = url
            .strip_prefix("ldap://")
            .and_then(|rest| rest.trim_end_matches('/').rsplit_once(':'))
            .context("--ldap-url must look like ldap://HOST:PORT")?;
        let port: u16 = port.parse().context("--ldap-url has no valid port")?;
        let base = self.ldap_base_dn.as_deref().unwrap_or_default();
        let bind = self.ldap_bind_dn.as_deref().unwrap_or_default();
        let password =
            std::path::absolute(self.ldap_password_file.as_deref().unwrap_or(".".as_ref()))?;
        let ca = std::path::absolute(self.ldap_ca.as_deref().unwrap_or(".".as_ref()))?;
        let app_config = format!(
            r#"
[apps.demo.network]
allow = ["{host}:{port}"]
ca-file = "{ca}"
system-roots = false

[apps.demo.settings]
host = "{host}"
port = {port}
security = "starttls"
bind-dn = "{bind}"
bind-password = {{ file = "{password}" }}
base-dn = "{base}"
user-dn-template = "uid={{uid}},ou=people,{{base-dn}}"
"#,
            ca = toml_path(&ca),
            password = toml_path(&password),
            bind = quoted(bind),
            base = quoted(base),
        );
        Ok(Some(Target {
            plugin_file: "generic-ldap.wasm",
            app_config,
            describe: format!(
                "  target        : {url} (LDAP, StartTLS; base DN {base}; users in ou=people)"
            ),
            look: format!(
                "  LDAPTLS_CACERT='{}' ldapsearch -x -ZZ -H {url} -D '{bind}' -y '{}' -b 'ou=people,{base}' uid cn mail",
                ca.display(),
                password.display()
            ),
        }))
    }
}
