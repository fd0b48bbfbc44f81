//! `ferry serve`: assemble the configuration and serve SCIM until SIGINT or SIGTERM.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::accept::NoDelayAcceptor;

use crate::app::scheduler;
use crate::config::LoadedConfig;
use crate::reload::Watcher;
use crate::scim::request::ScimState;
use crate::scim::router::router;
use crate::server::assemble;

/// The file in the data folder a serving process holds locked.
const LOCK_FILE: &str = "ferry.lock";

/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);

pub async fn run(config_file: &Path) -> anyhow::Result<()> {
    let config = LoadedConfig::load(config_file)?;
    serve(config).await
}

/// Serves a loaded configuration.
pub async fn serve(config: LoadedConfig) -> anyhow::Result<()> {
    let _data_lock = lock_data_folder(&config.config.server.data)?;
    let ferry = assemble(&config).await?;
    for app in ferry.apps.values() {
        tokio::spawn(scheduler::run(app.clone()));
    }
    let config = Arc::new(config);
    let apps = ferry.apps.clone();
    let poll = config.config.server.plugin_poll_seconds;
    if poll > 0 {
        let watcher = Watcher::new(ferry.runtime, config.clone(), ferry.catalog, ferry.apps);
        tokio::spawn(watcher.run(Duration::from_secs(poll.into())));
    }
    let server = &config.config.server;
    let scheme = if server.insecure_http {
        "http"
    } else {
        "https"
    };
    let state = Arc::new(ScimState {
        apps: apps.clone(),
        scheme,
        max_body_bytes: server.max_request_bytes,
    });
    let app = router(state);
    let listener = std::net::TcpListener::bind(server.listen)
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone()));
    tracing::info!(address = %server.listen, scheme, apps = apps.len(), "serving SCIM");
    for name in apps.keys() {
        tracing::info!(app = %name, "SCIM base URL: {scheme}://{}/apps/{name}/scim/v2", server.listen);
    }
    let service = app.into_make_service();
    // TCP_NODELAY: a response leaves at once instead of waiting for the client's
    // acknowledgement of the one before (Nagle), as every HTTP server does for
    // request/response traffic.
    if server.insecure_http {
        axum_server::from_tcp(listener)?
            .acceptor(NoDelayAcceptor::new())
            .handle(handle)
            .serve(service)
            .await?;
    } else {
        let (cert, key) = (server.tls_cert.as_ref(), server.tls_key.as_ref());
        let tls = crate::tls::server_config(
            cert.context("tls-cert is not set")?,
            key.context("tls-key is not set")?,
        )
        .await?;
        axum_server::from_tcp_rustls(listener, tls)?
            .map(|rustls| rustls.acceptor(NoDelayAcceptor::new()))
            .handle(handle)
            .serve(service)
            .await?;
    }
    Ok(())
}

/// Takes the data folder for this process, for as long as the returned file is open:
/// two servers writing one cache would each believe their own view of it. The lock is
/// the operating system's (`flock`), so it is released however the process ends.
fn lock_data_folder(data: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let path = data.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "the data folder {} is in use by another ferry serve (process {}): \
                 two servers must not share one data folder",
                data.display(),
                holder.trim()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

async fn shutdown_on_signal(handle: axum_server::Handle<std::net::SocketAddr>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
    handle.graceful_shutdown(Some(GRACE));
}
