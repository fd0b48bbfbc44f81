//! Checks a file before it is compiled: it must be a component (not a core module), it
//! must export the connector interface of a contract version this host supports, and it
//! may import only the host's capabilities and the WASI interfaces a language runtime
//! needs. Everything else is refused with a message naming the offending item.

use wasmparser::{Encoding, Parser, Payload};

/// The contract versions this host can run.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0", "0.2.0"];

/// The contract's package name.
const CONTRACT_PACKAGE: &str = "ferry:connector";

/// The interfaces of the contract a component may import.
const CONTRACT_IMPORTS: &[&str] = &["types", "log", "sql", "net"];

/// WASI packages a component may import (version 0.2.x). The host provides them empty:
/// no environment, arguments, directories or sockets unless the app grants them.
const WASI_PACKAGES: &[&str] = &[
    "wasi:cli",
    "wasi:io",
    "wasi:clocks",
    "wasi:random",
    "wasi:filesystem",
    "wasi:sockets",
];

/// The top-level imports and exports of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    /// Import names, e.g. `wasi:io/streams@0.2.6`.
    pub imports: Vec<String>,
    /// Export names, e.g. `ferry:connector/connector@0.1.0`.
    pub exports: Vec<String>,
}

/// Reads the top-level imports and exports without compiling anything.
pub fn surface(bytes: &[u8]) -> Result<Surface, String> {
    let mut surface = Surface {
        imports: Vec::new(),
        exports: Vec::new(),
    };
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| format!("not a valid WebAssembly file: {e}"))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding == Encoding::Module {
                    return Err(
                        "this is a core WebAssembly module, not a component: build it \
                                for wasm32-wasip2, or wrap it with `wasm-tools component new`"
                            .into(),
                    );
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| format!("unreadable import section: {e}"))?;
                    surface.imports.push(import.name.0.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| format!("unreadable export section: {e}"))?;
                    surface.exports.push(export.name.0.to_string());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("the file is truncated".into());
    }
    Ok(surface)
}

/// Splits `pkg:name/interface@version` into (`pkg:name`, `interface`, `version`).
fn split_name(name: &str) -> Option<(&str, &str, &str)> {
    let (path, version) = name.split_once('@')?;
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

/// Checks the surface against the contract; returns the contract version the component
/// was built against.
pub fn check(surface: &Surface) -> Result<String, String> {
    let contract = surface
        .exports
        .iter()
        .filter_map(|e| split_name(e))
        .find(|(package, interface, _)| *package == CONTRACT_PACKAGE && *interface == "connector")
        .map(|(_, _, version)| version.to_string())
        .ok_or_else(|| {
            format!(
                "it does not export {CONTRACT_PACKAGE}/connector (it exports: {}); build it \
                 against the world {CONTRACT_PACKAGE}/plugin in Ferry's wit/ folder",
                list_or_nothing(&surface.exports)
            )
        })?;
    if !SUPPORTED_CONTRACTS.contains(&contract.as_str()) {
        return Err(format!(
            "it was built against contract {CONTRACT_PACKAGE}@{contract}; this Ferry supports {}",
            SUPPORTED_CONTRACTS.join(", ")
        ));
    }
    for import in &surface.imports {
        if !import_allowed(import, &contract) {
            return Err(format!(
                "it imports `{import}`, which Ferry does not provide to connectors (allowed: \
                 {CONTRACT_PACKAGE}/{{{}}}@{contract} and {} at 0.2.x)",
                CONTRACT_IMPORTS.join(","),
                WASI_PACKAGES.join(", ")
            ));
        }
    }
    Ok(contract)
}

fn import_allowed(import: &str, contract: &str) -> bool {
    let Some((package, interface, version)) = split_name(import) else {
        return false;
    };
    if package == CONTRACT_PACKAGE {
        return version == contract && CONTRACT_IMPORTS.contains(&interface);
    }
    WASI_PACKAGES.contains(&package) && version.starts_with("0.2.")
}

fn list_or_nothing(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface_of(imports: &[&str], exports: &[&str]) -> Surface {
        Surface {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_the_contract_and_wasi() {
        let s = surface_of(
            &[
                "wasi:io/streams@0.2.6",
                "ferry:connector/sql@0.1.0",
                "ferry:connector/types@0.1.0",
            ],
            &["ferry:connector/connector@0.1.0"],
        );
        assert_eq!(check(&s).unwrap(), "0.1.0");
    }

    #[test]
    fn refuses_foreign_imports_naming_them() {
        for bad in [
            "wasi:http/outgoing-handler@0.2.0",
            "evil:x/y@1.0.0",
            "ferry:connector/secrets@0.1.0",
            "ferry:connector/sql@0.2.0",
            "wasi:io/streams@0.3.0",
            "plain-name",
        ] {
            let s = surface_of(&[bad], &["ferry:connector/connector@0.1.0"]);
            let e = check(&s).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn refuses_unknown_contract_versions_and_missing_exports() {
        let s = surface_of(&[], &["ferry:connector/connector@0.9.0"]);
        assert!(check(&s).unwrap_err().contains("ferry:connector@0.9.0"));
        let s = surface_of(&[], &["wasi:cli/run@0.2.0"]);
        assert!(check(&s).unwrap_err().contains("does not export"));
    }

    #[test]
    fn reads_modules_and_garbage_as_errors() {
        let module = b"\0asm\x01\0\0\0";
        assert!(
            surface(module)
                .unwrap_err()
                .contains("core WebAssembly module")
        );
        assert!(surface(b"hello").unwrap_err().contains("not a valid"));
        let component_header = b"\0asm\x0d\0\x01\0";
        assert_eq!(surface(component_header).unwrap(), surface_of(&[], &[]));
    }
}
