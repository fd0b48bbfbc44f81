//! What the Python and JavaScript builds share: asking a tool its version, and the
//! digest that decides whether a component must be rebuilt.

use std::collections::hash_map::DefaultHasher;
use std::ffi::OsStr;
use std::hash::Hasher;
use std::process::Command;

/// What `TOOL --version` prints, trimmed; `None` when it does not run.
pub fn version_of(tool: impl AsRef<OsStr>) -> Option<String> {
    let output = Command::new(tool).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A digest of named contents. It only decides whether to rebuild or reinstall on this
/// machine, so std's hasher (stable within one toolchain) is enough: another toolchain
/// merely rebuilds once.
pub fn fingerprint(inputs: &[(impl AsRef<str>, Vec<u8>)]) -> String {
    let mut hasher = DefaultHasher::new();
    for (name, content) in inputs {
        let name = name.as_ref();
        hasher.write_usize(name.len());
        hasher.write(name.as_bytes());
        hasher.write_usize(content.len());
        hasher.write(content);
    }
    format!("{:016x}", hasher.finish())
}
