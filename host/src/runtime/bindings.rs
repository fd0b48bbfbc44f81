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

impl types::AttributeChange {
    /// The attribute the change is about.
    pub fn name(&self) -> &str {
        match self {
            Self::Clear(name) => name,
            Self::Replace(a) | Self::AddValues(a) | Self::RemoveValues(a) => &a.name,
        }
    }

    /// The values it carries (none for a clear).
    pub fn values(&self) -> &[types::Value] {
        match self {
            Self::Clear(_) => &[],
            Self::Replace(a) | Self::AddValues(a) | Self::RemoveValues(a) => &a.values,
        }
    }
}
