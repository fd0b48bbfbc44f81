//! Rust bindings for the current contract, the `ferry:connector@0.2.0` world, generated
//! from `wit/`. Older released versions have their adapters in `adapters/`.
//!
//! Every import is async (the host does I/O for the guest) and trappable (a host failure
//! that is not the guest's fault, such as a lost resource, stops the call instead of
//! being reported as a guest-visible error).

#![allow(
    missing_docs,
    reason = "generated from the WIT, which carries the documentation"
)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "ferry:connector/plugin",
    imports: { default: async | trappable },
    exports: { default: async },
    // The cache stores objects as JSON, and tests compare them.
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    with: {
        "ferry:connector/net.connection": crate::runtime::net::NetConnection,
    },
});

pub use self::exports::ferry::connector::connector as guest;
pub use self::ferry::connector::{log, net, sql, types};
