//! The reference for cached reads: a bare hyper HTTP/1.1 server that answers every
//! request with the same body (a real answer Ferry gave), doing no routing, no
//! authentication and no lookup. Run as its own process, as Ferry is.

use std::convert::Infallible;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// `fixed-server PORT BODY_FILE`: serves on 127.0.0.1:PORT until killed.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let [port, body_file] = args else {
        anyhow::bail!("usage: ferry-bench fixed-server PORT BODY_FILE");
    };
    let port: u16 = port.parse().context("PORT")?;
    let body = Bytes::from(std::fs::read(body_file).context("BODY_FILE")?);
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let body = body.clone();
            tokio::spawn(async move {
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
            });
        }
    })
}
