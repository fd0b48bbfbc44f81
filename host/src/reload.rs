//! Hot reload of the plugins folder. The folder is polled: a new or changed `.wasm` is
//! validated and compiled in the background and the apps that use its plugin move to it
//! atomically (calls in flight finish on the old version); a file that cannot be loaded
//! is refused with a log line naming the reason, and the version already running keeps
//! serving; a removed file stops the apps that use it until a file providing the plugin
//! comes back.
//!
//! Polling rather than file-system notifications: it behaves the same on every file
//! system (network shares and container volumes included), and a file is acted on only
//! once its size and modification time have held still for one poll, so a copy in
//! progress is never loaded half-written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::app::App;
use crate::config::LoadedConfig;
use crate::runtime::Runtime;
use crate::runtime::plugin::LoadedPlugin;
use crate::server::{Catalog, app_pool};

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

/// A file in the plugins folder as the watcher last saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// The stamp at the last poll.
    stamp: Stamp,
    /// The stamp last acted on (loaded or refused); `None` until the first action.
    handled: Option<Stamp>,
    /// The plugin this file provides, if its last load succeeded.
    provides: Option<String>,
}

/// The watcher's state: every file seen, the plugin serving under each name, and the
/// apps by the plugin they use.
pub struct Watcher {
    runtime: Runtime,
    config: Arc<LoadedConfig>,
    apps: HashMap<String, Arc<App>>,
    plugins: HashMap<String, Arc<LoadedPlugin>>,
    files: HashMap<PathBuf, Seen>,
}

impl Watcher {
    /// A watcher that starts from what `serve` loaded: the files already loaded count as
    /// handled, so nothing is reloaded until it changes.
    pub fn new(
        runtime: Runtime,
        config: Arc<LoadedConfig>,
        catalog: Catalog,
        apps: HashMap<String, Arc<App>>,
    ) -> Self {
        let mut files = HashMap::new();
        for (path, stamp) in wasm_files(&config.config.server.plugins).unwrap_or_default() {
            let provides = catalog
                .plugins
                .values()
                .find(|p| p.path == path)
                .map(|p| p.info.name.clone());
            files.insert(
                path,
                Seen {
                    stamp,
                    handled: Some(stamp),
                    provides,
                },
            );
        }
        Self {
            runtime,
            config,
            apps,
            plugins: catalog.plugins,
            files,
        }
    }

    /// Polls the folder every `every` until the task is dropped.
    pub async fn run(mut self, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.poll().await;
        }
    }

    /// One look at the folder: acts on every file that changed and then held still, and
    /// on every file that disappeared.
    pub async fn poll(&mut self) {
        let Some(now) = wasm_files(&self.config.config.server.plugins) else {
            return;
        };
        let removed: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| !now.contains_key(*p))
            .cloned()
            .collect();
        for path in removed {
            if let Some(Seen {
                provides: Some(name),
                ..
            }) = self.files.remove(&path)
            {
                self.withdraw(&name, &format!("{} was removed", path.display()));
            }
        }
        let mut ready = Vec::new();
        for (path, stamp) in now {
            let seen = self.files.entry(path.clone()).or_insert(Seen {
                stamp,
                handled: None,
                provides: None,
            });
            let still = seen.stamp == stamp;
            seen.stamp = stamp;
            if still && seen.handled != Some(stamp) {
                ready.push(path);
            }
        }
        ready.sort();
        for path in ready {
            self.reload(&path).await;
        }
    }

    /// Loads a new or changed file and moves the apps of its plugin to it.
    async fn reload(&mut self, path: &Path) {
        let stamp = self.files[path].stamp;
        if let Some(seen) = self.files.get_mut(path) {
            seen.handled = Some(stamp);
        }
        let plugin = match self.runtime.load_plugin(path).await {
            Ok(plugin) => plugin,
            Err(e) => {
                let serving = self.files[path].provides.as_deref().unwrap_or("nothing");
                tracing::error!(
                    "plugin refused: {e}; the version loaded before keeps serving ({serving})"
                );
                return;
            }
        };
        let name = plugin.info.name.clone();
        if let Some(other) = self
            .plugins
            .get(&name)
            .filter(|p| p.path != path)
            .map(|p| p.path.clone())
            .filter(|p| self.files.contains_key(p))
        {
            tracing::error!(
                "plugin refused: {}: it is named '{name}' like {}, which is loaded",
                path.display(),
                other.display()
            );
            return;
        }
        if let Some(old) = self.plugins.get(&name)
            && old.sha256 == plugin.sha256
        {
            // Touched but not changed.
            self.provide(path, &name);
            return;
        }
        let previous = self.files[path].provides.clone();
        if let Some(previous) = previous.filter(|p| *p != name) {
            self.withdraw(
                &previous,
                &format!("{} now provides '{name}'", path.display()),
            );
        }
        tracing::info!(plugin = %name, version = %plugin.info.version, sha256 = %plugin.sha256, file = %path.display(), "plugin loaded");
        self.plugins.insert(name.clone(), plugin.clone());
        self.provide(path, &name);
        for app in self.apps_of(&name) {
            let pool = match app_pool(&self.config, plugin.clone(), &app.name) {
                Ok(pool) => pool,
                Err(e) => {
                    tracing::error!(app = %app.name, "the new version of '{name}' is refused for this app: {e}");
                    continue;
                }
            };
            match app.replace_pool(pool).await {
                Ok(()) => {
                    tracing::info!(app = %app.name, plugin = %name, version = %plugin.info.version, sha256 = %plugin.sha256, "app now runs the new version")
                }
                Err(e) => {
                    tracing::error!(app = %app.name, "the new version of '{name}' is refused for this app, which keeps the version it had: {e:#}")
                }
            }
        }
    }

    /// Records that `path` provides `name`.
    fn provide(&mut self, path: &Path, name: &str) {
        if let Some(seen) = self.files.get_mut(path) {
            seen.provides = Some(name.to_string());
        }
    }

    /// The plugin `name` is gone: its apps stop.
    fn withdraw(&mut self, name: &str, why: &str) {
        self.plugins.remove(name);
        tracing::warn!(plugin = %name, "plugin unloaded: {why}");
        for app in self.apps_of(name) {
            app.stop(format!("its connector '{name}' is gone: {why}"));
        }
    }

    /// The apps configured to use plugin `name`.
    fn apps_of(&self, name: &str) -> Vec<Arc<App>> {
        let mut apps: Vec<Arc<App>> = self
            .config
            .config
            .apps
            .iter()
            .filter(|(_, a)| a.get_ref().plugin == name)
            .filter_map(|(n, _)| self.apps.get(n).cloned())
            .collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        apps
    }
}

/// The `*.wasm` files in `dir` with their stamps; `None` (logged) when the folder cannot
/// be read, so a folder that is briefly unreadable changes nothing.
fn wasm_files(dir: &Path) -> Option<HashMap<PathBuf, Stamp>> {
    let entries = std::fs::read_dir(dir)
        .inspect_err(|e| tracing::warn!("cannot read the plugins folder {}: {e}", dir.display()))
        .ok()?;
    let files = entries.filter_map(|entry| {
        let path = entry.ok()?.path();
        if path.extension().is_none_or(|x| x != "wasm") {
            return None;
        }
        let meta = std::fs::metadata(&path).ok()?;
        Some((
            path,
            Stamp {
                len: meta.len(),
                modified: meta.modified().ok(),
            },
        ))
    });
    Some(files.collect())
}
