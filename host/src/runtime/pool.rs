//! Each app's pool of connector sessions: long-lived instances that each hold an open
//! `session` (and so their connections to the target). A call borrows an idle session or
//! opens a new one, up to the app's instance limit; a session whose call trapped, hit a
//! limit or timed out is dropped, and the next call opens a fresh one.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use wasmtime::component::ResourceAny;

use super::bindings::types::{self, Change, ChangeResult, DeltaPage, ImportPage, Schema, Setting};
use super::instance::{Instance, InstanceFailure};
use super::plugin::LoadedPlugin;
use super::state::Grants;

/// Why a call on a pool failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The connector answered with an error of its own (the call itself ran fine).
    #[error("{}", .0.message)]
    Connector(types::Error),
    /// The instance failed (trap, limit, timeout) and was discarded.
    #[error(transparent)]
    Failed(#[from] InstanceFailure),
    /// No session became free within the app's queue timeout.
    #[error("all {0} connector instances are busy")]
    Busy(u32),
    /// The app has no connector to call: its file was removed from the plugins folder.
    #[error("the app is stopped: {0}")]
    Stopped(String),
}

/// An instance with an open session.
struct Session {
    instance: Instance,
    handle: ResourceAny,
}

/// The sessions of one app.
pub struct SessionPool {
    plugin: Arc<LoadedPlugin>,
    grants: Grants,
    settings: Vec<Setting>,
    idle: Mutex<Vec<Session>>,
    permits: Arc<Semaphore>,
}

impl SessionPool {
    /// A pool for `plugin` under `grants`, opening sessions with `settings`. No session
    /// is opened until the first call.
    pub fn new(plugin: Arc<LoadedPlugin>, grants: Grants, settings: Vec<Setting>) -> Self {
        let permits = Arc::new(Semaphore::new(grants.limits.instances as usize));
        Self {
            plugin,
            grants,
            settings,
            idle: Mutex::new(Vec::new()),
            permits,
        }
    }

    /// The limits the pool's instances run under.
    pub fn limits(&self) -> &super::limits::Limits {
        &self.grants.limits
    }

    /// The plugin the pool runs.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    /// `test-connection`.
    pub async fn test_connection(&self) -> Result<(), CallError> {
        self.call(async |i, h| i.guarded(async |g, s| g.test_connection(s, h).await).await)
            .await
    }

    /// `schema`.
    pub async fn schema(&self) -> Result<Schema, CallError> {
        self.call(async |i, h| i.guarded(async |g, s| g.schema(s, h).await).await)
            .await
    }

    /// A session reserved for a run of calls, such as every page of one full import:
    /// connectors may keep per-connection state (an LDAP paged-results cookie, a
    /// database cursor) between them. The session goes back to the pool when the
    /// reservation is dropped.
    pub async fn reserve(&self) -> Result<Reserved<'_>, CallError> {
        let limits = &self.grants.limits;
        let permit = tokio::time::timeout(limits.queue_timeout(), self.permits.acquire())
            .await
            .map_err(|_| CallError::Busy(limits.instances))?
            .expect("the pool's semaphore is never closed");
        Ok(Reserved {
            pool: self,
            _permit: permit,
            session: None,
        })
    }

    /// One page of a delta import.
    pub async fn delta_import(
        &self,
        watermark: String,
        page_size: u32,
    ) -> Result<DeltaPage, CallError> {
        self.call(async |i, h| {
            i.guarded(async |g, s| g.delta_import(s, h, &watermark, page_size).await)
                .await
        })
        .await
    }

    /// `read`: one object as the target holds it now (`unsupported` from connectors
    /// that cannot, including every 0.1.0 one).
    pub async fn read(
        &self,
        target: &types::ObjectRef,
    ) -> Result<Option<types::Object>, CallError> {
        self.call(async |i, h| i.guarded(async |g, s| g.read(s, h, target).await).await)
            .await
    }

    /// Exports `changes`; one result per change.
    pub async fn export(&self, changes: Vec<Change>) -> Result<Vec<ChangeResult>, CallError> {
        let results = self
            .call(async |i, h| {
                i.guarded(async |g, s| g.export(s, h, &changes).await)
                    .await
                    .map(Ok)
            })
            .await?;
        if results.len() != changes.len() {
            return Err(CallError::Failed(InstanceFailure {
                kind: super::instance::FailureKind::Trap,
                message: format!(
                    "the connector returned {} results for {} changes",
                    results.len(),
                    changes.len()
                ),
            }));
        }
        Ok(results)
    }

    /// Runs `f` on a session reserved for this one call.
    async fn call<T>(
        &self,
        f: impl AsyncFnOnce(
            &mut Instance,
            ResourceAny,
        ) -> Result<Result<T, types::Error>, InstanceFailure>,
    ) -> Result<T, CallError> {
        self.reserve().await?.run(f).await
    }

    /// Instantiates and opens a session, both under the call's wall-clock limit (a
    /// component could block in its start function as well as in `open`).
    async fn open_session(&self) -> Result<Session, CallError> {
        let limits = &self.grants.limits;
        let open = async {
            let mut instance = Instance::new(&self.plugin.pre, &self.grants).await?;
            let opened = instance.open(&self.settings).await?;
            Ok::<_, InstanceFailure>(opened.map(|handle| Session { instance, handle }))
        };
        tokio::time::timeout(limits.call_timeout(), open)
            .await
            .unwrap_or_else(|_| Err(InstanceFailure::timeout(limits.call_timeout_seconds)))?
            .map_err(CallError::Connector)
    }
}

/// A session held for a run of calls (see [`SessionPool::reserve`]).
pub struct Reserved<'p> {
    pool: &'p SessionPool,
    _permit: tokio::sync::SemaphorePermit<'p>,
    session: Option<Session>,
}

impl Reserved<'_> {
    /// One page of a full import, on the reserved session.
    pub async fn full_import(
        &mut self,
        cursor: Option<String>,
        page_size: u32,
    ) -> Result<ImportPage, CallError> {
        self.run(async |i, h| {
            i.guarded(async |g, s| g.full_import(s, h, cursor.as_deref(), page_size).await)
                .await
        })
        .await
    }

    /// Runs `f` on the reserved session (taken from the idle list or newly opened on
    /// first use). After a failure the session is dropped, and the next call opens a
    /// fresh one. `f` returns the instance-level outcome wrapping the connector's own
    /// result.
    async fn run<T>(
        &mut self,
        f: impl AsyncFnOnce(
            &mut Instance,
            ResourceAny,
        ) -> Result<Result<T, types::Error>, InstanceFailure>,
    ) -> Result<T, CallError> {
        let pool = self.pool;
        let limits = &pool.grants.limits;
        let idle = match self.session.take() {
            Some(s) => Some(s),
            None => pool.idle.lock().unwrap_or_else(|e| e.into_inner()).pop(),
        };
        let mut session = match idle {
            Some(s) => s,
            None => pool.open_session().await?,
        };
        let outcome = tokio::time::timeout(
            limits.call_timeout(),
            f(&mut session.instance, session.handle),
        )
        .await
        .unwrap_or_else(|_| Err(InstanceFailure::timeout(limits.call_timeout_seconds)));
        match outcome {
            Ok(result) => {
                if session.instance.rollback_abandoned().await {
                    tracing::warn!(app = %pool.grants.app, "the connector left a transaction open; it was rolled back");
                }
                self.session = Some(session);
                result.map_err(CallError::Connector)
            }
            Err(failure) => {
                tracing::error!(app = %pool.grants.app, plugin = %pool.grants.plugin, "connector instance discarded: {failure}");
                Err(CallError::Failed(failure))
            }
        }
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(session);
        }
    }
}
