//! The `net` capability. Until an app's configuration can grant network access, every
//! connect is denied: the interface exists so that connectors can be written against it,
//! and so that a connector that tries to reach the network learns why it may not.

use wasmtime::component::Resource;

use super::bindings::net::{Host, HostConnection, NetError, Security};
use super::state::StoreState;

/// An open connection handed to a guest. None can be created yet: the type exists so the
/// resource has a host representation.
#[derive(Debug)]
pub struct NetConnection {
    _private: (),
}

impl Host for StoreState {
    async fn connect(
        &mut self,
        host: String,
        port: u16,
        _security: Security,
    ) -> wasmtime::Result<Result<Resource<NetConnection>, NetError>> {
        tracing::warn!(
            app = %self.app,
            host = %host,
            port,
            reason = "this app's network allow-list is empty",
            "network connect refused"
        );
        Ok(Err(NetError::Denied(format!(
            "{host}:{port} is not on this app's network allow-list (the list is empty)"
        ))))
    }
}

impl HostConnection for StoreState {
    async fn read(
        &mut self,
        _connection: Resource<NetConnection>,
        _max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, NetError>> {
        Ok(Err(NetError::Closed))
    }

    async fn write(
        &mut self,
        _connection: Resource<NetConnection>,
        _data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), NetError>> {
        Ok(Err(NetError::Closed))
    }

    async fn start_tls(
        &mut self,
        _connection: Resource<NetConnection>,
    ) -> wasmtime::Result<Result<(), NetError>> {
        Ok(Err(NetError::Closed))
    }

    async fn drop(&mut self, connection: Resource<NetConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
