//! One sandboxed connector instance: a store with its limits and an instantiated
//! component. Every call into the guest goes through [`Instance::guarded`], which arms
//! the CPU budget, so no guest code runs without a limit.

use std::sync::Arc;

use wasmtime::component::ResourceAny;
use wasmtime::{Store, UpdateDeadline};

use super::bindings::types;
use super::exports::{Bindings, Guest, Pre};
use super::limits::Limits;
use super::ops;
use super::state::{Grants, MemoryLimitExceeded, StoreState, TableLimitExceeded};

/// The error a call ends with when it used up its CPU budget.
#[derive(Debug, thiserror::Error)]
#[error("the connector exceeded its CPU limit of {limit_ms} ms per call")]
pub struct CpuLimitExceeded {
    /// The app's limit.
    pub limit_ms: u32,
}

/// Why an instance failed; it is discarded after any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest trapped (a panic, an unreachable, a bad memory access).
    Trap,
    /// The guest ran past its CPU budget.
    CpuLimit,
    /// The guest grew its memory or tables past the limit.
    MemoryLimit,
    /// The guest handed the host more data in one go (a call's result, or the
    /// arguments of a call to the host) than the host copies out of a connector.
    DataLimit,
    /// The call took longer than the wall-clock limit.
    Timeout,
}

/// A failed instance: what kind of failure, and a message for the operator that includes
/// the guest's last output (a panic message) when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InstanceFailure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The operator-facing description.
    pub message: String,
}

/// The end of wasmtime's message when a lift runs out of hostcall fuel, i.e. the guest
/// handed over more data than `Store::set_hostcall_fuel` allows. The error's type is
/// private to wasmtime, so its text is what identifies it.
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

impl InstanceFailure {
    /// The failure `error` describes, in `store` (for its limits and the guest's last
    /// output).
    fn from_error(error: wasmtime::Error, store: &Store<StoreState>) -> Self {
        let kind = if error.downcast_ref::<CpuLimitExceeded>().is_some() {
            FailureKind::CpuLimit
        } else if error.downcast_ref::<MemoryLimitExceeded>().is_some()
            || error.downcast_ref::<TableLimitExceeded>().is_some()
        {
            FailureKind::MemoryLimit
        } else if error
            .chain()
            .any(|e| e.to_string().ends_with(HOSTCALL_FUEL_EXHAUSTED))
        {
            FailureKind::DataLimit
        } else {
            FailureKind::Trap
        };
        let mut message = match kind {
            FailureKind::Trap => format!("the connector trapped: {}", root_message(&error)),
            FailureKind::DataLimit => format!(
                "the connector handed the host more than {} MiB at once (a result, or the \
                 arguments of a call to the host): Ferry copies no more than the app's \
                 memory-mib, and at most {} MiB, out of a connector",
                store.hostcall_fuel() >> 20,
                Limits::MAX_COPY_MIB
            ),
            _ => root_message(&error),
        };
        let guest_output = store.data().output.tail();
        if !guest_output.is_empty() {
            message.push_str(&format!(" (connector output: {guest_output})"));
        }
        Self { kind, message }
    }

    /// The failure of a call that ran past its wall-clock limit.
    pub fn timeout(seconds: u32) -> Self {
        Self {
            kind: FailureKind::Timeout,
            message: format!("the connector call took longer than {seconds} s and was stopped"),
        }
    }
}

/// The innermost cause of an error chain, with a trap's description when there is one.
fn root_message(error: &wasmtime::Error) -> String {
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        return trap.to_string();
    }
    error.root_cause().to_string()
}

/// A live instance and the store it lives in.
pub struct Instance {
    store: Store<StoreState>,
    bindings: Bindings,
}

impl Instance {
    /// Instantiates `pre` in a fresh store under `grants`.
    pub async fn new(pre: &Pre, grants: &Grants) -> Result<Self, InstanceFailure> {
        let state = StoreState::new(grants).map_err(|e| InstanceFailure {
            kind: FailureKind::Trap,
            message: format!("the app's grants cannot be set up: {e:#}"),
        })?;
        let mut store = Store::new(pre.engine(), state);
        store.limiter(|s| &mut s.limiter);
        // Caps what wasmtime copies out of the guest per lift (its default is 128 MiB,
        // whatever the guest's own memory limit).
        store.set_hostcall_fuel(grants.limits.copy_bytes());
        ops::fill(&mut store);
        let limit_ms = grants.limits.cpu_ms_per_call;
        store.epoch_deadline_callback(move |mut ctx| {
            let state = ctx.data_mut();
            state.ticks_used += 1;
            if state.ticks_used > state.ticks_allowed {
                return Err(CpuLimitExceeded { limit_ms }.into());
            }
            // Yield to the executor at every tick so one busy guest never holds a worker
            // thread that other apps' requests need.
            Ok(UpdateDeadline::Yield(1))
        });
        arm(&mut store);
        let bindings = pre
            .instantiate(&mut store)
            .await
            .map_err(|e| InstanceFailure::from_error(e, &store))?;
        Ok(Self { store, bindings })
    }

    /// Runs one guest call under a fresh CPU budget; a trap or limit becomes an
    /// [`InstanceFailure`] (and the caller must drop the instance).
    pub async fn guarded<T>(
        &mut self,
        call: impl AsyncFnOnce(&Guest<'_>, &mut Store<StoreState>) -> wasmtime::Result<T>,
    ) -> Result<T, InstanceFailure> {
        arm(&mut self.store);
        let guest = self.bindings.guest();
        let fuel = ops::fuel(&self.store);
        let result = call(&guest, &mut self.store).await;
        ops::note_since(&self.store, fuel);
        result.map_err(|e| InstanceFailure::from_error(e, &self.store))
    }

    /// `describe()`.
    pub async fn describe(&mut self) -> Result<types::ConnectorInfo, InstanceFailure> {
        self.guarded(async |g, s| g.describe(s).await).await
    }

    /// `session.open(settings)`; the connector's error is the inner result.
    pub async fn open(
        &mut self,
        settings: &[types::Setting],
    ) -> Result<Result<ResourceAny, types::Error>, InstanceFailure> {
        self.guarded(async |g, s| g.open(s, settings).await).await
    }

    /// Rolls back a database transaction the last call left open.
    pub async fn rollback_abandoned(&mut self) -> bool {
        self.store.data_mut().sql.rollback_abandoned().await
    }

    /// The app this instance serves.
    pub fn app(&self) -> Arc<str> {
        self.store.data().app.clone()
    }
}

/// Resets the CPU budget and arms the epoch deadline for the next call.
fn arm(store: &mut Store<StoreState>) {
    let state = store.data_mut();
    state.ticks_used = 0;
    state.output.clear();
    store.set_epoch_deadline(1);
}
