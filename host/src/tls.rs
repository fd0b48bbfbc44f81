//! TLS for the SCIM endpoint: certificates from PEM files, and self-signed pairs that
//! `ferry cert` and the demo generate for trials (valid two years, like ECMA2Host's).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use time::{Duration, OffsetDateTime};

/// The validity of a generated certificate.
const VALIDITY: Duration = Duration::days(730);

/// Writes a self-signed certificate for `names` (DNS names or IP addresses) to
/// `dir/cert.pem` and `dir/key.pem` (the key readable by its owner only). Returns both
/// paths.
pub fn generate_self_signed(dir: &Path, names: &[String]) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut params =
        CertificateParams::new(Vec::<String>::new()).context("certificate parameters")?;
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .with_context(|| format!("'{n}' is not a DNS name or IP address")),
        })
        .collect::<anyhow::Result<_>>()?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "localhost".into()),
    );
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Ferry (self-signed, for trials)");
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + VALIDITY;
    let key = KeyPair::generate().context("generating a key")?;
    let cert = params
        .self_signed(&key)
        .context("signing the certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    write_private(&key_path, key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, cert.pem())
        .with_context(|| format!("writing {}", cert_path.display()))?;
    Ok((cert_path, key_path))
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// The TLS configuration of the SCIM listener from PEM files. rustls offers TLS 1.2 and
/// 1.3 only.
pub async fn server_config(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .with_context(|| {
            format!(
                "loading the TLS certificate {} and key {}",
                cert.display(),
                key.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_usable_pair() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) =
            generate_self_signed(dir.path(), &["localhost".into(), "127.0.0.1".into()]).unwrap();
        let pem = std::fs::read_to_string(&cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(generate_self_signed(dir.path(), &["bücher.example".into()]).is_err());
    }
}
