//! The `ferry` binary.

use clap::Parser;

/// mimalloc instead of glibc's malloc: a SCIM read allocates and frees a few hundred small
/// objects (JSON, rows) on whichever worker thread runs it, where glibc's per-thread
/// arenas spent a sixth of the read path in `malloc`/`free` (perf, cached reads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("error: could not install the TLS crypto provider");
        return std::process::ExitCode::FAILURE;
    }
    let cli = ferry::cli::Cli::parse();
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(ferry::cli::run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
