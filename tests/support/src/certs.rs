//! Throwaway certificates for servers that speak TLS, generated at start with `rcgen`.
//!
//! One test CA signs a server certificate for `localhost` and `127.0.0.1` and a client
//! certificate (for TLS client authentication, e.g. SASL EXTERNAL). A second CA, unrelated
//! to everything else, lets tests check that a client trusting the wrong CA is refused.
//! Everything is written as PEM into the server's folder, keys readable by their owner only.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The subject common name of the client certificate (its subject DN is `cn=` this).
const CLIENT_COMMON_NAME: &str = "ferry-test-client";

/// Where the PEM files of one set of test certificates are.
pub(crate) struct TestCertificates {
    /// The CA that signed the server and client certificates.
    pub(crate) ca: PathBuf,
    /// A CA that signed nothing here.
    pub(crate) other_ca: PathBuf,
    /// For `localhost` and `127.0.0.1`, server authentication only.
    pub(crate) server_cert: PathBuf,
    pub(crate) server_key: PathBuf,
    /// Subject `CN=ferry-test-client`, client authentication only.
    pub(crate) client_cert: PathBuf,
    pub(crate) client_key: PathBuf,
}

impl TestCertificates {
    /// Generates the certificates and writes them into `folder`.
    pub(crate) fn generate(folder: &Path) -> TestCertificates {
        let files = TestCertificates {
            ca: folder.join("ca.pem"),
            other_ca: folder.join("other-ca.pem"),
            server_cert: folder.join("server.pem"),
            server_key: folder.join("server-key.pem"),
            client_cert: folder.join("client.pem"),
            client_key: folder.join("client-key.pem"),
        };
        let (ca_pem, ca) = certificate_authority("Ferry test CA");
        write(&files.ca, &ca_pem, 0o644);
        let (other_ca_pem, _) = certificate_authority("Ferry unrelated test CA");
        write(&files.other_ca, &other_ca_pem, 0o644);

        let server = leaf(
            "localhost",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        sign(&server, &ca, &files.server_cert, &files.server_key);
        let client = leaf(CLIENT_COMMON_NAME, &[], ExtendedKeyUsagePurpose::ClientAuth);
        sign(&client, &ca, &files.client_cert, &files.client_key);
        files
    }
}

/// A new self-signed CA: its certificate as PEM, and the issuer that signs with its key.
fn certificate_authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("cannot generate a CA key");
    let pem = params
        .self_signed(&key)
        .expect("cannot self-sign the CA")
        .pem();
    (pem, Issuer::new(params, key))
}

/// The parameters of an end-entity certificate for `names` (DNS names or IP addresses).
fn leaf(common_name: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("valid certificate names");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    params
}

/// Signs `params` with `issuer`'s key and writes the certificate and its new key.
fn sign(params: &CertificateParams, issuer: &Issuer<'_, KeyPair>, cert: &Path, key: &Path) {
    let key_pair = KeyPair::generate().expect("cannot generate a key");
    let certificate = params
        .signed_by(&key_pair, issuer)
        .expect("cannot sign a certificate");
    write(cert, &certificate.pem(), 0o644);
    write(key, &key_pair.serialize_pem(), 0o600);
}

/// Writes a new file with permissions `mode`.
fn write(path: &Path, contents: &str, mode: u32) {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}
