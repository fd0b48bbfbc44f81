//! The `net` capability: outbound TCP and TLS for connectors, only to what their app's
//! `[network]` allow-list grants. The host resolves names, checks every address, does
//! TLS itself and caps the connections an app holds; this module only turns the WIT
//! calls into those steps (see [`connect`] for the order of checks).

mod address;
mod allow_list;
mod connect;
mod peer;
mod policy;
mod stream;
mod tls;

use wasmtime::component::Resource;

pub use self::policy::{NetConfigError, NetPolicy};
pub use self::stream::NetConnection;
use super::bindings::net::{Host, HostConnection, NetError, Security};
use super::state::StoreState;

impl Host for StoreState {
    async fn connect(
        &mut self,
        host: String,
        port: u16,
        security: Security,
    ) -> wasmtime::Result<Result<Resource<NetConnection>, NetError>> {
        let app = self.app.clone();
        match connect::open(app, self.network.as_ref(), &host, port, security).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e)),
        }
    }
}

impl HostConnection for StoreState {
    async fn read(
        &mut self,
        connection: Resource<NetConnection>,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, NetError>> {
        Ok(self.table.get_mut(&connection)?.read(max).await)
    }

    async fn write(
        &mut self,
        connection: Resource<NetConnection>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), NetError>> {
        Ok(self.table.get_mut(&connection)?.write(&data).await)
    }

    async fn start_tls(
        &mut self,
        connection: Resource<NetConnection>,
    ) -> wasmtime::Result<Result<(), NetError>> {
        Ok(self.table.get_mut(&connection)?.start_tls().await)
    }

    async fn drop(&mut self, connection: Resource<NetConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}
