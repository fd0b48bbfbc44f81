//! An app: one configured connector instance with its own SCIM endpoint, session pool,
//! cache and import schedule. SCIM handlers talk to an app; the app talks to its
//! connector and keeps the cache true to every change it confirms.

mod apply;
pub mod groups;
pub mod import;
pub mod scheduler;
mod translate;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;

use crate::config::ImportConfig;
use crate::config::secret::Secret;
use crate::runtime::bindings::types::{Change, ErrorKind, ObjectRef, ObjectTypeSchema, Schema};
use crate::runtime::pool::{CallError, SessionPool};
use crate::scim::mapping::Mapping;
use crate::scim::schema::user_resource;
use crate::store::cache::{Cache, CachedObject};

/// How the app's SCIM Users are configured, kept until the connector's schema is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersConfig {
    /// The object type; `None` picks "user" or the first type the connector has.
    pub object_type: Option<String>,
    /// Whether default names are mapped.
    pub default_mapping: bool,
    /// Configured SCIM path → connector attribute.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// SCIM paths the cache keeps lookups for beyond those IdPs match on.
    pub lookups: Vec<String>,
}

/// What an app needs once its connector's schema is known: the mapping and the cache.
pub struct Bound {
    /// The connector's schema.
    pub schema: Schema,
    /// SCIM Users ↔ the connector's user object type.
    pub users: Mapping,
    /// SCIM Groups ↔ the connector's group object type, when it has one.
    pub groups: Option<groups::GroupBinding>,
    /// The app's cache (shared by the bindings of successive connector versions).
    pub cache: Arc<Cache>,
}

/// One app.
pub struct App {
    /// The app's name, part of its URL.
    pub name: String,
    /// The bearer token its IdP presents.
    pub token: Secret,
    /// Its connector sessions; `None` once its connector file was removed (see
    /// [`App::stop`]). Swapped whole when the connector is reloaded: a call in flight
    /// keeps the pool it started on, the next call takes the new one.
    pool: ArcSwapOption<SessionPool>,
    /// Why the app is stopped, while it is.
    stopped: Mutex<Option<String>>,
    /// When imports run.
    pub import: ImportConfig,
    users_config: UsersConfig,
    groups_config: Option<crate::config::GroupsMappingConfig>,
    cache_path: std::path::PathBuf,
    bound: ArcSwapOption<Bound>,
    /// Serialises binding, so the connector's schema is asked for once.
    bind_lock: tokio::sync::Mutex<()>,
    /// Why the app is not ready yet, for 503 details and `ferry check`.
    last_error: Mutex<Option<String>>,
    /// Serialises imports (full and delta) of this app.
    pub(crate) import_lock: tokio::sync::Mutex<()>,
    /// Admission of SCIM requests: one permit per request being served.
    pub admission: Arc<tokio::sync::Semaphore>,
}

/// The longest connector message passed on to a SCIM client or the log: enough for any
/// diagnostic, short enough that a connector cannot flood either.
const MAX_CONNECTOR_MESSAGE: usize = 2048;

/// A connector's message made safe to pass on: cut to [`MAX_CONNECTOR_MESSAGE`] bytes,
/// control characters escaped.
fn connector_message(message: &str) -> String {
    use crate::runtime::state::{printable, truncate};
    printable(truncate(message, MAX_CONNECTOR_MESSAGE)).into_owned()
}

/// Why [`App::lookup`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The cache could not be read or written.
    #[error("the cache failed: {0:#}")]
    Cache(#[from] anyhow::Error),
    /// The connector could not be asked (stopped, busy, failed, or the target is down).
    #[error(transparent)]
    Connector(#[from] CallError),
}

/// Why an export failed, in the terms SCIM needs.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportError {
    /// The connector refused the change; the kind says how to answer.
    #[error("{message}")]
    Refused {
        /// The contract's error kind.
        kind: ErrorKind,
        /// The connector's message.
        message: String,
    },
    /// The connector instance failed or timed out, or none was free.
    #[error(transparent)]
    Call(CallError),
}

impl App {
    /// An app that binds itself to its connector's schema on first use.
    pub fn new(
        name: String,
        token: Secret,
        pool: SessionPool,
        import: ImportConfig,
        users_config: UsersConfig,
        groups_config: Option<crate::config::GroupsMappingConfig>,
        data_dir: &Path,
    ) -> Self {
        let in_flight = pool.limits().max_requests_in_flight as usize;
        Self {
            admission: Arc::new(tokio::sync::Semaphore::new(in_flight)),
            cache_path: data_dir.join("apps").join(&name).join("cache.db"),
            name,
            token,
            pool: ArcSwapOption::from_pointee(pool),
            stopped: Mutex::new(None),
            import,
            users_config,
            groups_config,
            bound: ArcSwapOption::empty(),
            bind_lock: tokio::sync::Mutex::new(()),
            last_error: Mutex::new(None),
            import_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The mapping and cache, once the app is bound; `None` while the connector's schema
    /// is still unknown (the target was unreachable at start and nothing was cached).
    pub fn bound(&self) -> Option<Arc<Bound>> {
        self.bound.load_full()
    }

    /// The connector pool calls go to now, or why there is none.
    pub fn pool(&self) -> Result<Arc<SessionPool>, CallError> {
        self.pool
            .load_full()
            .ok_or_else(|| CallError::Stopped(self.stopped().unwrap_or_default()))
    }

    /// Why the app is stopped, if it is.
    pub fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the app: calls in flight finish, later ones fail with `reason`.
    pub fn stop(&self, reason: String) {
        tracing::warn!(app = %self.name, "app stopped: {reason}");
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        self.pool.store(None);
    }

    /// Moves the app to a new version of its connector. Once the app is bound, the new
    /// version's schema must still serve the app's SCIM mapping; if it does not, the
    /// swap is refused and the old version keeps serving. Calls in flight finish on the
    /// old version; the next call runs the new one.
    pub async fn replace_pool(&self, pool: SessionPool) -> anyhow::Result<()> {
        let _binding = self.bind_lock.lock().await;
        let rebound = match self.bound() {
            None => None,
            Some(old) => match pool.schema().await {
                Ok(schema) => Some(self.binding(schema, old.cache.clone()).await?),
                Err(e) => {
                    tracing::warn!(app = %self.name, "the new connector version's schema is unavailable ({e}); the SCIM mapping stays as it was");
                    None
                }
            },
        };
        self.pool.store(Some(Arc::new(pool)));
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Some(bound) = rebound {
            self.bound.store(Some(Arc::new(bound)));
        }
        Ok(())
    }

    /// Why the app is not ready, if it is not.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_error(&self, error: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Binds the app: asks the connector for its schema (falling back to the schema
    /// saved by the last run, so a restart serves from the cache even while the target
    /// is down), builds the mapping and opens the cache.
    pub async fn bind(&self) -> anyhow::Result<Arc<Bound>> {
        if let Some(bound) = self.bound() {
            return Ok(bound);
        }
        let _binding = self.bind_lock.lock().await;
        if let Some(bound) = self.bound() {
            return Ok(bound);
        }
        let result = self.bind_once().await.map(Arc::new);
        self.set_error(result.as_ref().err().map(|e| format!("{e:#}")));
        let bound = result?;
        self.bound.store(Some(bound.clone()));
        Ok(bound)
    }

    async fn bind_once(&self) -> anyhow::Result<Bound> {
        let saved = Self::saved_schema(&self.cache_path);
        let schema = match self.pool()?.schema().await {
            Ok(schema) => schema,
            Err(e) => match saved {
                Some(schema) => {
                    tracing::warn!(app = %self.name, "the connector's schema is unavailable ({e}); using the schema saved by the last run");
                    schema
                }
                None => anyhow::bail!("cannot read the connector's schema: {e}"),
            },
        };
        let users = self.users_mapping(&schema)?;
        let groups = self.groups_binding(&schema, &users)?;
        let indexed = self.lookups(&users, groups.as_ref())?;
        let memberships = groups.iter().map(|g| g.membership()).collect();
        // Off the runtime's threads: opening may rebuild the lookups or convert an older
        // cache's objects, seconds for a large cache (100,000 users converted in 0.94 s).
        let path = self.cache_path.clone();
        let cache = tokio::task::spawn_blocking(move || Cache::open(&path, indexed, memberships))
            .await
            .map_err(|e| anyhow::anyhow!("opening the cache: {e}"))??;
        self.binding(schema, Arc::new(cache)).await
    }

    /// The binding of `schema` to the app's SCIM mapping over `cache`; the schema is
    /// saved in the cache so a restart can serve while the target is down.
    async fn binding(&self, schema: Schema, cache: Arc<Cache>) -> anyhow::Result<Bound> {
        let mut schema = schema;
        let users = self.users_mapping(&schema)?;
        // What the mapping makes secret (a password column) is secret for the cache too.
        if let Some(t) = schema
            .object_types
            .iter_mut()
            .find(|t| t.name == users.object_type)
        {
            for a in t.attributes.iter_mut() {
                a.secret |= users.secret_attributes().any(|s| s == a.name);
            }
        }
        let groups = self.groups_binding(&schema, &users)?;
        if let Some(groups) = &groups
            && !cache.is_membership(&groups.mapping.object_type, &groups.members)
        {
            anyhow::bail!(
                "the connector's groups changed shape (members in '{}'); restart Ferry to adopt it",
                groups.members
            );
        }
        cache
            .set_state("schema", &serde_json::to_string(&schema)?)
            .await?;
        Ok(Bound {
            schema,
            users,
            groups,
            cache,
        })
    }

    /// The schema stored in the cache by an earlier run, read without opening the cache
    /// for writing.
    fn saved_schema(path: &Path) -> Option<Schema> {
        let conn =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        let text: String = conn
            .query_row("SELECT value FROM state WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The SCIM Groups of a connector schema, if it has groups.
    pub fn groups_binding(
        &self,
        schema: &Schema,
        users: &Mapping,
    ) -> anyhow::Result<Option<groups::GroupBinding>> {
        groups::bind(schema, self.groups_config.as_ref(), &users.object_type)
            .map_err(|e| anyhow::anyhow!("[apps.{}.groups] {e}", self.name))
    }

    /// The (object type, connector attribute) pairs the cache keeps lookups for: those
    /// IdPs match on and the configured `lookups` (see [`Mapping::lookups`]); `ferry
    /// check` verifies them too.
    pub fn lookups(
        &self,
        users: &Mapping,
        groups: Option<&groups::GroupBinding>,
    ) -> anyhow::Result<BTreeSet<(String, String)>> {
        let of = |mapping: &Mapping, extra: &[String], section: &str| {
            let names = mapping
                .lookups(extra)
                .map_err(|e| anyhow::anyhow!("[apps.{}.{section}] {e}", self.name))?;
            Ok::<_, anyhow::Error>(
                names
                    .into_iter()
                    .map(|a| (mapping.object_type.clone(), a))
                    .collect::<Vec<_>>(),
            )
        };
        let mut indexed: BTreeSet<(String, String)> =
            of(users, &self.users_config.lookups, "users")?
                .into_iter()
                .collect();
        if let Some(groups) = groups {
            let extra = self.groups_config.as_ref().map_or(&[][..], |g| &g.lookups);
            indexed.extend(of(&groups.mapping, extra, "groups")?);
        }
        Ok(indexed)
    }

    /// The mapping of SCIM Users for a connector schema (what `ferry check` verifies
    /// without touching the cache).
    pub fn users_mapping(&self, schema: &Schema) -> anyhow::Result<Mapping> {
        let object_type = pick_object_type(schema, self.users_config.object_type.as_deref())?;
        Mapping::build(
            user_resource(None),
            object_type,
            &self.users_config.attributes,
            self.users_config.default_mapping,
        )
        .map_err(|e| anyhow::anyhow!("[apps.{}.users] {e}", self.name))
    }

    /// Exports one change and, once the connector confirms it, records the result in
    /// the cache; gives back the object as cached (`None` after a delete). Runs to
    /// completion in its own task even if the client goes away, so a change that reached
    /// the target is never missing from the cache.
    pub async fn export(
        self: &Arc<Self>,
        change: Change,
    ) -> Result<Option<CachedObject>, ExportError> {
        let app = self.clone();
        tokio::spawn(async move { app.export_now(change).await })
            .await
            .unwrap_or_else(|e| {
                Err(ExportError::Refused {
                    kind: ErrorKind::Internal,
                    message: format!("the export task failed: {e}"),
                })
            })
    }

    async fn export_now(&self, change: Change) -> Result<Option<CachedObject>, ExportError> {
        let bound = self.bound();
        let outgoing = match &bound {
            Some(b) => translate::change_to_target(b.cache.anchors(), &b.schema, &change),
            None => change.clone(),
        };
        let results = self
            .pool()
            .map_err(ExportError::Call)?
            .export(vec![outgoing])
            .await
            .map_err(|e| match e {
                CallError::Connector(e) => ExportError::Refused {
                    kind: e.kind,
                    message: connector_message(&e.message),
                },
                other => ExportError::Call(other),
            })?;
        let result = results
            .into_iter()
            .next()
            .expect("the pool checks one result per change");
        let returned = match result {
            Ok(returned) => returned,
            Err(e) => {
                if let (ErrorKind::NotFound, Some(bound), Some(target)) =
                    (e.kind, &bound, changed_object(&change))
                {
                    // The target no longer has it (deleted there directly): neither
                    // should the cache.
                    if let Err(err) = bound.cache.delete(vec![target.clone()]).await {
                        tracing::warn!(app = %self.name, "could not drop a vanished object from the cache: {err:#}");
                    }
                }
                return Err(ExportError::Refused {
                    kind: e.kind,
                    message: connector_message(&e.message),
                });
            }
        };
        let Some(bound) = bound else {
            // Only the SCIM endpoints export, and they answer 503 until the app is bound.
            return Err(ExportError::Refused {
                kind: ErrorKind::Internal,
                message: "the change was made, but the app's cache was not open to record it"
                    .into(),
            });
        };
        let recorded = async {
            let returned = match returned {
                Some(object) => Some(
                    translate::object_to_host(
                        &bound.cache,
                        &bound.schema,
                        object,
                        changed_object(&change).map(|r| r.anchor.as_str()),
                    )
                    .await?,
                ),
                None => None,
            };
            apply::record(&bound, &change, returned).await
        }
        .await;
        match recorded {
            Ok(object) => Ok(object),
            Err(e) => {
                // The target has the change; only the cache lags. Say so loudly; the next
                // import repairs it.
                tracing::error!(app = %self.name, "the change was made in the target but could not be cached: {e:#}");
                Err(ExportError::Refused {
                    kind: ErrorKind::Internal,
                    message: format!(
                        "the change was made but Ferry's cache could not record it: {e:#}"
                    ),
                })
            }
        }
    }

    /// The cached object of a SCIM id's anchor.
    pub async fn cached(
        &self,
        object_type: &str,
        anchor: &str,
    ) -> anyhow::Result<Option<CachedObject>> {
        match self.bound() {
            Some(b) => b.cache.get(object_type, anchor).await,
            None => Ok(None),
        }
    }

    /// The object `anchor` names: from the cache, or — when the cache does not hold it
    /// (it was made in the target after the last import) — read from the target through
    /// the connector and cached. `None` when neither has it, or when the connector
    /// cannot read single objects.
    pub async fn lookup(
        &self,
        bound: &Bound,
        object_type: &str,
        anchor: &str,
    ) -> Result<Option<CachedObject>, LookupError> {
        if let Some(cached) = bound.cache.get(object_type, anchor).await? {
            return Ok(Some(cached));
        }
        let target = Self::object_ref(
            object_type,
            &bound.cache.anchors().target(object_type, anchor),
        );
        let read = match self.pool()?.read(&target).await {
            Ok(read) => read,
            Err(CallError::Connector(e)) if e.kind == ErrorKind::Unsupported => None,
            Err(CallError::Connector(e)) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(LookupError::Connector(e)),
        };
        // The object the target has under that anchor may be another one than the host
        // knows by it (when anchors moved): then the host has no object `anchor`.
        let Some(object) = read.filter(|o| {
            o.object_type == object_type
                && o.anchor == target.anchor
                && bound
                    .cache
                    .anchors()
                    .known_host(object_type, &o.anchor)
                    .as_deref()
                    == Some(anchor)
        }) else {
            return Ok(None);
        };
        let object =
            translate::object_to_host(&bound.cache, &bound.schema, object, Some(anchor)).await?;
        tracing::debug!(app = %self.name, object_type, anchor, "read through to the target");
        bound
            .cache
            .upsert(vec![apply::without_secrets(&bound.schema, object)])
            .await?;
        Ok(bound.cache.get(object_type, anchor).await?)
    }

    /// A reference to an object of this app.
    pub fn object_ref(object_type: &str, anchor: &str) -> ObjectRef {
        ObjectRef {
            object_type: object_type.to_string(),
            anchor: anchor.to_string(),
        }
    }
}

/// The existing object a change is about (none for an add).
fn changed_object(change: &Change) -> Option<&ObjectRef> {
    match change {
        Change::Add(_) => None,
        Change::Update(u) => Some(&u.target),
        Change::Delete(r) => Some(r),
        Change::Rename(r) => Some(&r.target),
    }
}

/// The object type SCIM Users map to: the configured one, else "user", else the first.
fn pick_object_type<'s>(
    schema: &'s Schema,
    wanted: Option<&str>,
) -> anyhow::Result<&'s ObjectTypeSchema> {
    let names = || {
        schema
            .object_types
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(w) => schema
            .object_types
            .iter()
            .find(|t| t.name == w)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the connector has no object type '{w}' (it has: {})",
                    names()
                )
            }),
        None => schema
            .object_types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case("user"))
            .or_else(|| schema.object_types.first())
            .ok_or_else(|| anyhow::anyhow!("the connector reports no object types")),
    }
}
