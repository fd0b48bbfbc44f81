//! JavaScript connectors: the example in `plugins/examples/js-http/` and the SDK's
//! template in `sdk/js/template/`, built into components with componentize-js.
//!
//! The tools (jco and componentize-js) are pinned by `sdk/js/package.json` and its
//! `package-lock.json`, and installed with `npm ci` into `sdk/js/node_modules` (git
//! ignored) only when that folder does not match the lock file, so every machine builds
//! with the same versions. A component is rebuilt only when its sources, the contract
//! (`wit/`) or the lock file changed: a build takes several seconds of CPU per
//! connector, and the tests only need the file.
//!
//! The example has several modules, so it is built with `componentize-js` itself (which
//! reads the modules from the folder); the template is one file and is built with
//! `jco componentize`, exactly as the JavaScript guide (`sdk/js/README.md`) tells
//! authors to.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use super::tools::{fingerprint, version_of};
use super::{root, run, target_dir};

/// The oldest Node.js the pinned jco runs on (it uses `util.styleText`).
const NODE_AT_LEAST: (u32, u32) = (20, 12);

/// WASI features of the JavaScript engine a connector must not import: Ferry offers no
/// HTTP to connectors (they reach the network through `ferry:connector/net`).
const DISABLED_FEATURES: &[&str] = &["http", "fetch-event"];

/// How a JavaScript connector is built.
enum Builder {
    /// `componentize-js ENTRY`: modules are read from the connector's folder.
    ComponentizeJs,
    /// `jco componentize ENTRY`: one self-contained file, the guide's command.
    Jco,
}

/// The JavaScript connectors: (folder in the repository, entry module in it, builder,
/// file name in target/plugins).
const JS_COMPONENTS: &[(&str, &str, Builder, &str)] = &[
    (
        "plugins/examples/js-http",
        "src/connector.js",
        Builder::ComponentizeJs,
        "js-http.wasm",
    ),
    (
        "sdk/js/template",
        "connector.js",
        Builder::Jco,
        "js-template.wasm",
    ),
];

/// Builds every JavaScript connector into `out` (the folder of all components),
/// installing the pinned tools first if they are missing or outdated. Called by
/// `build_components`.
pub fn build_js_components(out: &Path) -> anyhow::Result<()> {
    let tools = install_tools()?;
    let lock = std::fs::read(tools.join("package-lock.json"))?;
    for (folder, entry, builder, file) in JS_COMPONENTS {
        build_one(
            &tools,
            &lock,
            &root().join(folder),
            entry,
            builder,
            &out.join(file),
        )?;
    }
    Ok(())
}

/// Checks Node.js and npm, and runs `npm ci` in `sdk/js` unless its `node_modules`
/// already holds what the lock file pins. Returns the `sdk/js` folder.
fn install_tools() -> anyhow::Result<PathBuf> {
    check_node()?;
    let tools = root().join("sdk/js");
    let lock = std::fs::read(tools.join("package-lock.json"))
        .context("reading sdk/js/package-lock.json")?;
    let stamp = tools.join("node_modules/.ferry-lock-fingerprint");
    let wanted = fingerprint(&[("package-lock.json", lock)]);
    let installed = tools.join("node_modules/.bin/componentize-js").exists()
        && tools.join("node_modules/.bin/jco").exists();
    if installed && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(tools);
    }
    eprintln!("xtask: installing jco and componentize-js into sdk/js/node_modules (npm ci)");
    let mut install = Command::new("npm");
    install
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&tools);
    run(install).context("installing the JavaScript tools (is the npm registry reachable?)")?;
    std::fs::write(&stamp, wanted)?;
    Ok(tools)
}

/// Fails with a message naming what is missing unless `node` (new enough) and `npm` run.
fn check_node() -> anyhow::Result<()> {
    let install = "install Node.js 20.12 or later with npm (e.g. from nodejs.org or your \
                   distribution's nodejs and npm packages)";
    let node = version_of("node").with_context(|| {
        format!("`node` was not found: the JavaScript connectors need it; {install}")
    })?;
    let numbers: Vec<u32> = node
        .trim_start_matches('v')
        .split('.')
        .map_while(|n| n.parse().ok())
        .collect();
    let found = (
        numbers.first().copied().unwrap_or(0),
        numbers.get(1).copied().unwrap_or(0),
    );
    if found < NODE_AT_LEAST {
        bail!("`node` is {node}, too old for the JavaScript connectors' tools; {install}");
    }
    version_of("npm").with_context(|| {
        format!("`npm` was not found (node {node} is there): the JavaScript connectors need it; {install}")
    })?;
    Ok(())
}

/// Builds the connector in `folder` (entry module `entry`) into `wasm`, unless the same
/// sources, contract and tools built the file there already.
fn build_one(
    tools: &Path,
    lock: &[u8],
    folder: &Path,
    entry: &str,
    builder: &Builder,
    wasm: &Path,
) -> anyhow::Result<()> {
    let wit = root().join("wit");
    let mut inputs = vec![("package-lock.json".to_string(), lock.to_vec())];
    for file in files_under(folder, "js")?
        .into_iter()
        .chain(files_under(&wit, "wit")?)
    {
        inputs.push((file.to_string_lossy().into_owned(), std::fs::read(&file)?));
    }
    let fingerprint = fingerprint(&inputs);
    let name = wasm
        .file_stem()
        .and_then(|n| n.to_str())
        .context("a component's file name")?;
    let work = target_dir().join("tools/js-build").join(name);
    let stamp = work.join("fingerprint");
    if wasm.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&fingerprint) {
        return Ok(());
    }
    std::fs::create_dir_all(&work)?;
    eprintln!(
        "xtask: building {} from {}",
        wasm.display(),
        folder.display()
    );
    let built = work.join(format!("{name}.wasm"));
    let bin = tools.join("node_modules/.bin");
    let mut build = match builder {
        Builder::ComponentizeJs => Command::new(bin.join("componentize-js")),
        Builder::Jco => {
            let mut jco = Command::new(bin.join("jco"));
            jco.arg("componentize");
            jco
        }
    };
    // Run from the connector's folder: paths in the component (and its stack traces)
    // are then relative to it.
    build
        .arg(entry)
        .arg("--wit")
        .arg(&wit)
        .args(["--world-name", "plugin", "--disable"])
        .args(DISABLED_FEATURES)
        .arg("--out")
        .arg(&built)
        .current_dir(folder);
    run(build).with_context(|| format!("building {}", folder.display()))?;
    std::fs::copy(&built, wasm).with_context(|| format!("copying {}", built.display()))?;
    std::fs::write(&stamp, fingerprint)?;
    Ok(())
}

/// The files with extension `ext` in `folder` and its subfolders (but not
/// `node_modules`), sorted.
fn files_under(folder: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(current) = folders.pop() {
        for item in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = item?.path();
            if path.is_dir() && !path.ends_with("node_modules") {
                folders.push(path);
            } else if path.is_file() && path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
