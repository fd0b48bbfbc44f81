//! Compiled components kept in the data folder, so a restart does not recompile: each
//! artifact is named by the component's content hash and the engine's compatibility key,
//! and carries a checksum that is verified before the artifact is loaded. A missing,
//! stale, corrupt or tampered artifact is recompiled, never run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::engine::compatibility_key;

/// The folder of compiled artifacts and the engine they belong to.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl CompileCache {
    /// A cache in `dir` (created when needed) for `engine`.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> Self {
        Self {
            dir: dir.into(),
            engine_key: compatibility_key(engine),
        }
    }

    fn artifact_path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled component for `wasm` (whose hash is `wasm_sha256`), from the cache
    /// when a verified artifact is there, else compiled now and stored.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        wasm_sha256: &str,
    ) -> anyhow::Result<Component> {
        let path = self.artifact_path(wasm_sha256);
        match read_verified(&path) {
            Ok(Some(bytes)) => {
                // SAFETY: the bytes were produced by `precompile_component` of an engine
                // with the same compatibility key, and their checksum matches the one
                // written beside them, so they are what this process compiled.
                match unsafe { Component::deserialize(engine, &bytes) } {
                    Ok(component) => return Ok(component),
                    Err(e) => {
                        tracing::warn!(artifact = %path.display(), "cached artifact refused, recompiling: {e:#}")
                    }
                }
            }
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(artifact = %path.display(), "cached artifact not used, recompiling: {reason}")
            }
        }
        let compiled = engine
            .precompile_component(wasm)
            .map_err(anyhow::Error::from)
            .context("compiling the component")?;
        if let Err(e) = write_atomically(&path, &compiled) {
            tracing::warn!(artifact = %path.display(), "could not cache the compiled component: {e:#}");
        }
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(engine, &compiled) }
            .map_err(anyhow::Error::from)
            .context("loading the freshly compiled component")
    }
}

fn checksum_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("cwasm.sha256")
}

/// The artifact's bytes if it exists and matches its checksum; `Ok(None)` if absent.
fn read_verified(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("unreadable: {e}")),
    };
    let expected = std::fs::read_to_string(checksum_path(path))
        .map_err(|e| format!("its checksum file is unreadable: {e}"))?;
    if expected.trim() != sha256_hex(&bytes) {
        return Err("its checksum does not match: the file was changed or corrupted".into());
    }
    Ok(Some(bytes))
}

/// Writes the artifact and its checksum through temporary files and renames, so a crash
/// never leaves a half-written artifact that looks valid.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("artifact path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    let mut sum = tempfile_in(dir)?;
    sum.1.write_all(sha256_hex(bytes).as_bytes())?;
    sum.1.sync_all()?;
    // The checksum goes first: an artifact without a matching checksum is never used.
    std::fs::rename(&sum.0, checksum_path(path))?;
    std::fs::rename(&tmp.0, path)?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> anyhow::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok((path, file))
}
