//! TLS for connectors, done by the host with rustls so that no connector can skip a
//! certificate check: the trust roots and client certificate an app's configuration
//! names, and the handshake itself.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::allow_list::Host;
use crate::config::NetworkConfig;
use crate::runtime::bindings::net::NetError;

/// The client configuration for one app: ring as the provider (as everywhere in
/// Ferry), TLS 1.3 and 1.2 only (rustls offers nothing older), the app's roots or — only
/// when the operator asked for it — no verification, and its client certificate.
pub fn client_config(config: &NetworkConfig, base_dir: &Path) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = if config.insecure_skip_certificate_verification {
        tracing::warn!(
            "[network] insecure-skip-certificate-verification is on: this app's TLS \
             connections accept any certificate, so anyone on the path can read and change \
             them, credentials included"
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        builder.with_root_certificates(trust_roots(config, base_dir)?)
    };
    let config = match (&config.client_cert, &config.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(&base_dir.join(cert), "client-cert")?;
            let key_path = base_dir.join(key);
            let key = PrivateKeyDer::from_pem_file(&key_path)
                .map_err(|e| format!("client-key {}: {e}", key_path.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client-cert and client-key: {e}"))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("client-cert and client-key must be given together".into()),
    };
    Ok(Arc::new(config))
}

/// The CA bundle, then the system store when `system-roots` is on. An app left with no
/// root at all could never complete a handshake: that is a configuration error.
fn trust_roots(config: &NetworkConfig, base_dir: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if let Some(file) = &config.ca_file {
        let path = base_dir.join(file);
        for certificate in certificates(&path, "ca-file")? {
            roots
                .add(certificate)
                .map_err(|e| format!("ca-file {}: {e}", path.display()))?;
        }
    }
    if config.system_roots {
        let system = rustls_native_certs::load_native_certs();
        for error in &system.errors {
            tracing::warn!("reading the system's trusted certificates: {error}");
        }
        roots.add_parsable_certificates(system.certs);
    }
    if roots.is_empty() {
        return Err(
            "no trusted CA certificate: set ca-file, or system-roots = true on a system \
             with a CA store"
                .into(),
        );
    }
    Ok(roots)
}

/// Every certificate in a PEM file; a file without one is an error.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("{key} {shown}: {e}"))?;
    if certificates.is_empty() {
        return Err(format!("{key} {shown}: no PEM certificate in the file"));
    }
    Ok(certificates)
}

/// TLS on `tcp`, checking the certificate against `host` as the connector gave it (a
/// DNS name or an IP address), by `deadline`.
pub async fn handshake(
    config: Arc<ClientConfig>,
    host: &Host,
    tcp: TcpStream,
    deadline: Instant,
) -> Result<TlsStream<TcpStream>, NetError> {
    let name = match host {
        Host::Name(name) => ServerName::try_from(name.clone())
            .map_err(|e| NetError::Tls(format!("'{name}' cannot be a TLS server name: {e}")))?,
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
    };
    match timeout_at(deadline, TlsConnector::from(config).connect(name, tcp)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(NetError::Tls(e.to_string())),
        Err(_) => Err(NetError::Timeout),
    }
}

/// The verifier behind `insecure-skip-certificate-verification`: any certificate, for
/// any name, is accepted. The handshake signatures are still checked, so the peer at
/// least holds the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
