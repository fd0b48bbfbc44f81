//! What the host's integration tests share: where the built components are, and the
//! test fixture's requests.

use std::path::{Path, PathBuf};

use ferry::runtime::bindings::types::{AddChange, Attribute, Change, Value};

/// The folder of built components (`FERRY_PLUGIN_DIR`, else `target/plugins`); fails
/// with advice when `file` is not there.
pub fn component(file: &str) -> PathBuf {
    let dir = std::env::var_os("FERRY_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins"));
    let path = dir.join(file);
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (or `cargo xtask plugins` first)",
        path.display()
    );
    path
}

/// An add of a `thing` named `name`: the misbehave fixture's way of taking orders.
pub fn add_thing(name: &str) -> Change {
    Change::Add(AddChange {
        object_type: "thing".into(),
        attributes: vec![Attribute {
            name: "name".into(),
            values: vec![Value::String(name.into())],
        }],
    })
}
