//! The bindings wit-bindgen generates for the contract, once for every connector. The
//! items are documented in the WIT files; connectors reach them through the friendly
//! modules (`types`, `log`, `net`, `sql`) and the `export!` macro, never here.

#![allow(missing_docs)]

wit_bindgen::generate!({
    path: "../../wit",
    world: "plugin",
    // Connectors compare values, attributes and errors, in their logic and their tests.
    additional_derives: [PartialEq],
    // The export macro is used by connector crates, not by this one: it must be
    // reachable from other crates, under a name that leaves `export!` to the crate root
    // (which passes `$crate::bindings` itself, so a renamed dependency works too; the
    // default module serves the generated macro's own one-argument form).
    pub_export_macro: true,
    export_macro_name: "export_guest",
    default_bindings_module: "::ferry_connector::bindings",
});
