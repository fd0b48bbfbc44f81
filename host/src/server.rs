//! Assembling a running Ferry from a configuration: load the plugins folder, build every
//! app (checking its settings against its connector), and serve SCIM over TLS.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::app::{App, UsersConfig};
use crate::config::settings::{self, SettingsError};
use crate::config::{ConfigError, LoadedConfig};
use crate::runtime::Runtime;
use crate::runtime::engine::EngineSizing;
use crate::runtime::net::{NetConfigError, NetPolicy};
use crate::runtime::plugin::{LoadedPlugin, PluginError};
use crate::runtime::pool::SessionPool;
use crate::runtime::sql::SqlTarget;
use crate::runtime::state::{FilesGrant, Grants};

/// The plugins found in the plugins folder, by the name their `describe` gives, and the
/// files that could not be loaded.
pub struct Catalog {
    /// Loaded plugins by name.
    pub plugins: HashMap<String, Arc<LoadedPlugin>>,
    /// Files refused, with the reason.
    pub refused: Vec<PluginError>,
}

impl Catalog {
    /// Loads every `*.wasm` file in `dir`. A bad file is refused with its reason; the
    /// others load regardless.
    pub async fn load(runtime: &Runtime, dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the plugins folder {}: {e}", dir.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        files.sort();
        let mut catalog = Self {
            plugins: HashMap::new(),
            refused: Vec::new(),
        };
        for file in files {
            match runtime.load_plugin(&file).await {
                Ok(plugin) => {
                    let name = plugin.info.name.clone();
                    if let Some(other) = catalog.plugins.get(&name) {
                        catalog.refused.push(PluginError {
                            path: file,
                            reason: format!(
                                "it is named '{name}' like {}, which was loaded first",
                                other.path.display()
                            ),
                        });
                        continue;
                    }
                    tracing::info!(plugin = %name, version = %plugin.info.version, file = %plugin.path.display(), "plugin loaded");
                    catalog.plugins.insert(name, plugin);
                }
                Err(e) => {
                    tracing::error!("plugin refused: {e}");
                    catalog.refused.push(e);
                }
            }
        }
        Ok(catalog)
    }
}

/// A configuration turned into running parts (not yet serving).
pub struct Ferry {
    /// The runtime (engine, linker, compiled-artifact cache).
    pub runtime: Runtime,
    /// The loaded plugins.
    pub catalog: Catalog,
    /// The apps by name.
    pub apps: HashMap<String, Arc<App>>,
}

/// Builds the runtime, loads plugins and builds every app. Any app that cannot be built
/// is a configuration error naming the file, line and app.
pub async fn assemble(config: &LoadedConfig) -> Result<Ferry, ConfigError> {
    let server = &config.config.server;
    let runtime = runtime_for(config)?;
    let catalog = Catalog::load(&runtime, &server.plugins)
        .await
        .map_err(|e| config.error(e))?;
    let mut apps = HashMap::new();
    for name in config.config.apps.keys() {
        let app = build_app(config, &catalog, name)?;
        apps.insert(name.clone(), Arc::new(app));
    }
    Ok(Ferry {
        runtime,
        catalog,
        apps,
    })
}

/// The runtime a configuration asks for: its instance budget, its compiled-artifact
/// folder under the data folder.
pub fn runtime_for(config: &LoadedConfig) -> Result<Runtime, ConfigError> {
    let server = &config.config.server;
    Runtime::new(
        EngineSizing {
            total_instances: server.max_instances,
        },
        server.data.join("compiled"),
    )
    .map_err(|e| config.error(format!("{e:#}")))
}

fn build_app(config: &LoadedConfig, catalog: &Catalog, name: &str) -> Result<App, ConfigError> {
    let app = config.config.apps[name].get_ref();
    let plugin = catalog.plugins.get(&app.plugin).ok_or_else(|| {
        let mut known: Vec<&str> = catalog.plugins.keys().map(String::as_str).collect();
        known.sort();
        let refused: Vec<String> = catalog.refused.iter().map(ToString::to_string).collect();
        config.app_error(
            name,
            format!(
                "no plugin named '{}' in {} (loaded: {}{})",
                app.plugin,
                config.config.server.plugins.display(),
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
                if refused.is_empty() {
                    String::new()
                } else {
                    format!("; refused: {}", refused.join("; "))
                }
            ),
        )
    })?;
    let pool = app_pool(config, plugin.clone(), name)?;
    let token = config.token(name)?;
    let users = app.users.as_ref();
    Ok(App::new(
        name.to_string(),
        token,
        pool,
        app.import.clone(),
        UsersConfig {
            object_type: users.and_then(|u| u.object_type.clone()),
            default_mapping: users.is_none_or(|u| u.default_mapping),
            attributes: users.map(|u| u.attributes.clone()).unwrap_or_default(),
            lookups: users.map(|u| u.lookups.clone()).unwrap_or_default(),
        },
        app.groups.clone(),
        &config.config.server.data,
    ))
}

/// The session pool of app `name` running `plugin`: its settings checked against the
/// plugin's parameters, and the grants (database, network, files, limits) its
/// configuration gives. Public so that `ferry conformance` runs a component under
/// exactly the grants `serve` would give it.
pub fn app_pool(
    config: &LoadedConfig,
    plugin: Arc<LoadedPlugin>,
    name: &str,
) -> Result<SessionPool, ConfigError> {
    let app = config.config.apps[name].get_ref();
    let settings = settings::build(
        &plugin.info.parameters,
        &app.settings,
        &config.base_dir,
        app.allow_inline_secrets,
    )
    .map_err(|SettingsError { offset, message }| match offset {
        Some(at) => config.error_at(at, format!("app '{name}': {message}")),
        None => config.app_error(name, message),
    })?;
    let database = app
        .database
        .as_ref()
        .map(|db| {
            let password = db
                .password
                .as_ref()
                .map(|p| p.resolve(&config.base_dir, app.allow_inline_secrets))
                .transpose()
                .map_err(|e| config.app_error(name, format!("[database] password: {e}")))?;
            SqlTarget::from_url(
                &db.url,
                password.map(|p| p.expose().to_string()),
                &config.base_dir,
                db.allow_password_in_url,
            )
            .map_err(|e| config.app_error(name, format!("[database] {e}")))
        })
        .transpose()?;
    let network = app
        .network
        .as_ref()
        .map(|net| {
            // The span puts the app's name on what building the policy logs (an
            // insecure-verification warning, unreadable system certificates).
            tracing::warn_span!("network", app = name)
                .in_scope(|| NetPolicy::from_config(net, &config.base_dir))
                .map(Arc::new)
                .map_err(|NetConfigError { entry, message }| match entry {
                    Some(i) => config.error_at(
                        net.allow[i].span().start,
                        format!("app '{name}': [network] {message}"),
                    ),
                    None => config.app_error(name, format!("[network] {message}")),
                })
        })
        .transpose()?;
    let files = app
        .files
        .as_ref()
        .map(|f| {
            let dir = config.base_dir.join(&f.dir);
            if !dir.is_dir() {
                return Err(config.app_error(
                    name,
                    format!("[files] dir: {} is not a folder", dir.display()),
                ));
            }
            let host_dir = std::path::absolute(&dir)
                .map_err(|e| config.app_error(name, format!("[files] dir: {e}")))?;
            Ok(FilesGrant {
                host_dir,
                read_only: f.read_only,
            })
        })
        .transpose()?;
    let grants = Grants {
        app: Arc::from(name),
        plugin: Arc::from(plugin.info.name.as_str()),
        limits: app.limits.clone(),
        database,
        network,
        files,
    };
    Ok(SessionPool::new(plugin, grants, settings))
}
