//! The `ferry` command line.

mod check;
mod conformance;
mod demo;
mod inspect;
mod serve;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Ferry: a sandboxed WebAssembly connector host for identity provisioning.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve SCIM for every app in the configuration.
    Serve {
        /// The configuration file (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a configuration: parse it, load every plugin, build every app and run its
    /// connector's test-connection. Exits non-zero on any problem.
    Check {
        /// The configuration file (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run the demo: a SQLite target, one app on the generic SQL connector, HTTPS with a
    /// self-signed certificate.
    Demo(demo::DemoArgs),
    /// Run the conformance suite against a connector and its real target: every check
    /// of the contract, one line each; exits non-zero when any check fails.
    Conformance(conformance::ConformanceArgs),
    /// Work with connector components.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Generate a self-signed TLS certificate and key (for trials).
    Cert {
        /// Where to write cert.pem and key.pem.
        #[arg(long, default_value = "tls")]
        out: PathBuf,
        /// DNS names and IP addresses the certificate is for.
        #[arg(long = "name", default_values = ["localhost", "127.0.0.1"])]
        names: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// Show what a connector is: name, version, contract version, parameters, features.
    Inspect {
        /// The component file.
        file: PathBuf,
    },
}

/// Runs the command line; the exit code is the result.
pub async fn run(cli: Cli) -> std::process::ExitCode {
    let result = match cli.command {
        Command::Serve { config } => serve::run(&config).await,
        Command::Check { config } => check::run(&config).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Conformance(args) => conformance::run(args).await,
        Command::Plugins {
            command: PluginsCommand::Inspect { file },
        } => inspect::run(&file).await,
        Command::Cert { out, names } => {
            crate::tls::generate_self_signed(&out, &names).map(|(cert, key)| {
                println!(
                    "certificate: {}\nkey:         {}",
                    cert.display(),
                    key.display()
                );
            })
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints `line` on stdout at once. A closed stdout (`ferry plugins inspect X | head`) is
/// ignored rather than a panic, which would also stop the conformance suite before it
/// cleans up.
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
