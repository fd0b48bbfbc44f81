//! Ferry: a sandboxed WebAssembly connector host for identity provisioning.
//!
//! An identity provider sends SCIM 2.0 requests to [`scim`]; each configured [`app`]
//! turns them into calls on a connector component run by [`runtime`], answering reads
//! from its cache in [`store`]. [`server`] assembles it all from a [`config`], and
//! [`cli`] is the `ferry` command.

#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod reload;
pub mod runtime;
pub mod scim;
pub mod server;
pub mod store;
pub mod tls;
