//! `ferry conformance --plugin FILE.wasm --config APP.toml`: runs one suite of checks
//! against any connector and its real target, so a connector author (in any language)
//! learns what the host will rely on before an IdP does. The app comes from an ordinary
//! Ferry configuration, loaded and validated as `ferry serve` does, so settings, secrets,
//! database, network allow-list, files and limits all work; `--plugin` names the
//! component to run in its place. Prints one line per check and a summary; exits
//! non-zero when any check fails. Every object the suite creates is deleted at the end,
//! failure or not.

mod contract;
mod error_kinds;
mod harness;
mod imports;
mod lifecycle;
mod plan;
mod report;
mod suite;
mod values;

use std::path::PathBuf;

use anyhow::bail;

use crate::config::LoadedConfig;
use crate::server::app_pool;

use super::print_line;
use plan::Hints;
use report::Report;

/// The command's arguments: what to test, against which app, and the few hints the
/// suite cannot discover from `describe` and `schema`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// The connector component to test; it runs in place of the app's `plugin`.
    #[arg(long, value_name = "FILE.wasm")]
    plugin: PathBuf,
    /// A Ferry configuration (TOML) holding the app whose settings and target to use.
    #[arg(long, short)]
    config: PathBuf,
    /// The app to use, when the configuration has several.
    #[arg(long)]
    app: Option<String>,
    /// The object type to test [default: "user", else the schema's first].
    #[arg(long, value_name = "TYPE")]
    object_type: Option<String>,
    /// The attribute that names an object: unique in the target, and a change of it is a
    /// rename [default: the first required, writable string attribute].
    #[arg(long, value_name = "ATTRIBUTE")]
    name_attribute: Option<String>,
    /// An attribute the suite must not write (repeatable), e.g. one whose syntax the
    /// suite's sample values do not fit.
    #[arg(long = "skip-attribute", value_name = "ATTRIBUTE")]
    skip_attributes: Vec<String>,
}

/// Runs the suite and prints the report; an error when the setup fails or any check
/// fails.
pub async fn run(args: ConformanceArgs) -> anyhow::Result<()> {
    let config = LoadedConfig::load(&args.config)?;
    let app = choose_app(&config, args.app.as_deref())?;
    let runtime = crate::server::runtime_for(&config)?;
    let plugin = runtime.load_plugin(&args.plugin).await?;
    let app_config = config.config.apps[&app].get_ref();
    print_line(&format!(
        "ferry conformance: {} {} ({}) with app '{app}' of {}",
        plugin.info.name,
        plugin.info.version,
        plugin.path.display(),
        config.file.display()
    ));
    if app_config.plugin != plugin.info.name {
        print_line(&format!(
            "note: the app names plugin '{}'; '{}' runs in its place",
            app_config.plugin, plugin.info.name
        ));
    }
    let page_size = app_config.import.page_size;
    let pool = app_pool(&config, plugin.clone(), &app)?;
    let hints = Hints {
        object_type: args.object_type,
        name_attribute: args.name_attribute,
        skip: args.skip_attributes,
    };
    let mut report = Report::default();
    suite::run(pool, &plugin.info, &hints, page_size, &mut report).await;
    print_line(&report.summary());
    if report.failed() > 0 {
        bail!(
            "{} conformance check(s) failed for {}",
            report.failed(),
            plugin.info.name
        );
    }
    Ok(())
}

/// The app named by `--app`, or the configuration's only app.
fn choose_app(config: &LoadedConfig, wanted: Option<&str>) -> anyhow::Result<String> {
    let apps: Vec<&str> = config.config.apps.keys().map(String::as_str).collect();
    let message = match (wanted, apps.as_slice()) {
        (Some(name), _) if apps.contains(&name) => return Ok(name.to_owned()),
        (None, [only]) => return Ok((*only).to_owned()),
        (_, []) => "the file has no [apps.NAME] table to test against".to_owned(),
        (Some(name), _) => format!("there is no app '{name}' (apps: {})", apps.join(", ")),
        (None, _) => format!(
            "the file has several apps ({}): choose one with --app",
            apps.join(", ")
        ),
    };
    Err(config.error(message).into())
}
