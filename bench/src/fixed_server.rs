//! The reference for cached reads: a bare hyper HTTP/1.1 server that answers every
//! request with the same body (a real answer Ferry gave), doing no routing, no
//! authentication and no lookup. Run as its own process, as Ferry is; over TLS with
//! Ferry's own certificate and key when given them (rustls on the ring provider, as
//! Ferry's listener), so both sides do the same handshakes and the same encryption.

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

const USAGE: &str = "usage: ferry-bench fixed-server PORT BODY_FILE [CERT_PEM KEY_PEM]";

/// `fixed-server PORT BODY_FILE [CERT_PEM KEY_PEM]`: serves on 127.0.0.1:PORT until
/// killed, over TLS when given a certificate and key.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let (port, body_file, tls) = match args {
        [port, body_file] => (port, body_file, None),
        [port, body_file, cert, key] => (port, body_file, Some(acceptor(cert, key)?)),
        _ => bail!(USAGE),
    };
    let port: u16 = port.parse().context("PORT")?;
    let body = Bytes::from(std::fs::read(body_file).context("BODY_FILE")?);
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let (body, tls) = (body.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(stream).await {
                            serve(stream, body).await;
                        }
                    }
                    None => serve(stream, body).await,
                }
            });
        }
    })
}

/// Answers every request on one connection with `body`.
async fn serve(stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static, body: Bytes) {
    let service = service_fn(move |_request: Request<hyper::body::Incoming>| {
        let response = Response::builder()
            .header("content-type", "application/scim+json")
            .body(Full::new(body.clone()))
            .expect("a fixed response is valid");
        async move { Ok::<_, Infallible>(response) }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// A TLS acceptor for the PEM certificate chain and key, offering TLS 1.2 and 1.3 and
/// HTTP/1.1 as Ferry's listener does.
fn acceptor(cert: &str, key: &str) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading the certificate {cert}"))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the key {key}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
