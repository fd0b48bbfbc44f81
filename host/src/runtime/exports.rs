//! A connector's exports, whatever released contract version it was built against: the
//! host calls these and never the generated bindings of one version. A version's
//! bindings share the current data types (see `adapters`), so dispatching is all there
//! is to do, plus answering for what an old version lacks.

use wasmtime::Store;
use wasmtime::component::{InstancePre, ResourceAny};

use super::adapters::v0_1_0;
use super::bindings::types::{
    ChangeResult, ConnectorInfo, DeltaPage, Error, ErrorKind, ImportPage, Object, ObjectRef,
    Schema, Setting,
};
use super::bindings::{Plugin, PluginPre};
use super::state::StoreState;

/// A linked component ready to instantiate, in the bindings of its contract version.
pub enum Pre {
    /// Built against the current contract.
    Current(PluginPre<StoreState>),
    /// Built against 0.1.0.
    V0_1_0(v0_1_0::PluginPre<StoreState>),
}

impl Pre {
    /// The bindings of `contract` (a version `validate::check` accepted) over `pre`.
    pub fn new(contract: &str, pre: InstancePre<StoreState>) -> wasmtime::Result<Self> {
        match contract {
            "0.1.0" => v0_1_0::PluginPre::new(pre).map(Self::V0_1_0),
            _ => PluginPre::new(pre).map(Self::Current),
        }
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &wasmtime::Engine {
        match self {
            Self::Current(p) => p.engine(),
            Self::V0_1_0(p) => p.engine(),
        }
    }

    /// A new instance in `store`.
    pub async fn instantiate(&self, store: &mut Store<StoreState>) -> wasmtime::Result<Bindings> {
        Ok(match self {
            Self::Current(p) => Bindings::Current(p.instantiate_async(store).await?),
            Self::V0_1_0(p) => Bindings::V0_1_0(p.instantiate_async(store).await?),
        })
    }
}

/// A live instance's exports.
pub enum Bindings {
    /// The current contract.
    Current(Plugin),
    /// 0.1.0.
    V0_1_0(v0_1_0::Plugin),
}

impl Bindings {
    /// The `connector` export.
    pub fn guest(&self) -> Guest<'_> {
        match self {
            Self::Current(b) => Guest::Current(b.ferry_connector_connector()),
            Self::V0_1_0(b) => Guest::V0_1_0(b.ferry_connector_connector()),
        }
    }
}

/// The `connector` export of one instance.
pub enum Guest<'a> {
    /// The current contract.
    Current(&'a super::bindings::guest::Guest),
    /// 0.1.0.
    V0_1_0(&'a v0_1_0::guest::Guest),
}

/// The same call on whichever version's bindings.
macro_rules! dispatch {
    ($self:ident, $g:ident => $call:expr) => {
        match $self {
            Guest::Current($g) => $call,
            Guest::V0_1_0($g) => $call,
        }
    };
}

/// The result of a `session` call: the instance-level outcome around the connector's.
type Answer<T> = wasmtime::Result<Result<T, Error>>;

impl Guest<'_> {
    /// `describe()`.
    pub async fn describe(&self, s: &mut Store<StoreState>) -> wasmtime::Result<ConnectorInfo> {
        dispatch!(self, g => g.call_describe(s).await)
    }

    /// `session.open(settings)`.
    pub async fn open(
        &self,
        s: &mut Store<StoreState>,
        settings: &[Setting],
    ) -> Answer<ResourceAny> {
        dispatch!(self, g => g.session().call_open(s, settings).await)
    }

    /// `session.test-connection()`.
    pub async fn test_connection(&self, s: &mut Store<StoreState>, h: ResourceAny) -> Answer<()> {
        dispatch!(self, g => g.session().call_test_connection(s, h).await)
    }

    /// `session.schema()`.
    pub async fn schema(&self, s: &mut Store<StoreState>, h: ResourceAny) -> Answer<Schema> {
        dispatch!(self, g => g.session().call_schema(s, h).await)
    }

    /// `session.full-import(cursor, page-size)`.
    pub async fn full_import(
        &self,
        s: &mut Store<StoreState>,
        h: ResourceAny,
        cursor: Option<&str>,
        page_size: u32,
    ) -> Answer<ImportPage> {
        dispatch!(self, g => g.session().call_full_import(s, h, cursor, page_size).await)
    }

    /// `session.delta-import(watermark, page-size)`.
    pub async fn delta_import(
        &self,
        s: &mut Store<StoreState>,
        h: ResourceAny,
        watermark: &str,
        page_size: u32,
    ) -> Answer<DeltaPage> {
        dispatch!(self, g => g.session().call_delta_import(s, h, watermark, page_size).await)
    }

    /// `session.export(changes)`.
    pub async fn export(
        &self,
        s: &mut Store<StoreState>,
        h: ResourceAny,
        changes: &[super::bindings::types::Change],
    ) -> wasmtime::Result<Vec<ChangeResult>> {
        dispatch!(self, g => g.session().call_export(s, h, changes).await)
    }

    /// `session.read(target)`, since 0.2.0; 0.1.0 components answer `unsupported`
    /// through the host.
    pub async fn read(
        &self,
        s: &mut Store<StoreState>,
        h: ResourceAny,
        target: &ObjectRef,
    ) -> Answer<Option<Object>> {
        match self {
            Guest::Current(g) => g.session().call_read(s, h, target).await,
            Guest::V0_1_0(_) => Ok(Err(Error {
                kind: ErrorKind::Unsupported,
                message: "the connector was built against contract 0.1.0, which has no read; \
                          rebuild it against 0.2.0 to add one"
                    .into(),
                attribute: None,
            })),
        }
    }
}
