//! Python connectors: the example in `plugins/examples/python-json/` and the SDK's
//! template in `sdk/python/template/`, built into components with componentize-py.
//!
//! componentize-py comes from PyPI at one pinned version, into a virtual environment of
//! its own under the target folder (`target/tools/python`), so nothing is installed for
//! the machine's Python and every machine builds with the same tool. A component is
//! rebuilt only when its sources, the contract (`wit/`) or the tool changed: a build
//! takes seconds of CPU per connector, and the tests only need the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use super::tools::{fingerprint, version_of};
use super::{is_root, root, run, target_dir};

/// The componentize-py release the Python connectors are built and documented with.
const COMPONENTIZE_PY: &str = "0.25.1";

/// The Python connectors: (source folder in the repository, file name in target/plugins).
/// Each folder holds a module `connector` defining `Connector` and `Session`.
const PYTHON_COMPONENTS: &[(&str, &str)] = &[
    ("plugins/examples/python-json", "python-json.wasm"),
    ("sdk/python/template", "python-template.wasm"),
];

/// Builds every Python connector into `out` (the folder of all components), installing
/// componentize-py first if it is missing. Called by `build_components`.
pub fn build_python_components(out: &Path) -> anyhow::Result<()> {
    let tool = componentize_py()?;
    let tool_version = version_of(&tool).unwrap_or_default();
    for (source, file) in PYTHON_COMPONENTS {
        build_one(&tool, &tool_version, &root().join(source), &out.join(file))?;
    }
    Ok(())
}

/// The componentize-py command of the tools' virtual environment, set up on first use.
fn componentize_py() -> anyhow::Result<PathBuf> {
    let venv = target_dir().join("tools/python");
    let tool = venv.join("bin/componentize-py");
    let wanted = format!("componentize-py {COMPONENTIZE_PY}");
    if version_of(&tool).as_deref() == Some(wanted.as_str()) {
        return Ok(tool);
    }
    let python = find_python()?;
    if !venv.join("bin/python").exists() {
        eprintln!("xtask: creating a Python environment in {}", venv.display());
        let mut create = Command::new(&python);
        create.args(["-m", "venv"]).arg(&venv);
        run(create)?;
    }
    eprintln!("xtask: installing componentize-py {COMPONENTIZE_PY} from PyPI");
    let mut install = Command::new(venv.join("bin/python"));
    install.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("componentize-py=={COMPONENTIZE_PY}"),
    ]);
    run(install).context("installing componentize-py (is PyPI reachable?)")?;
    match version_of(&tool) {
        Some(found) if found == wanted => Ok(tool),
        found => bail!(
            "{} reports {found:?} after installing, not {wanted:?}",
            tool.display()
        ),
    }
}

/// A Python 3 that can make virtual environments; on Debian as root, installed with apt
/// when missing (as `cargo xtask test` installs the test servers).
fn find_python() -> anyhow::Result<PathBuf> {
    let usable = || {
        Command::new("python3")
            .args([
                "-c",
                "import sys, venv, ensurepip; assert sys.version_info >= (3, 8)",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if usable() {
        return Ok(PathBuf::from("python3"));
    }
    if is_root() && Path::new("/usr/bin/apt-get").exists() {
        eprintln!("xtask: the Python connectors need python3 and python3-venv");
        crate::apt_install(&["python3", "python3-venv"])?;
        if usable() {
            return Ok(PathBuf::from("python3"));
        }
    }
    bail!(
        "the Python connectors need python3 (3.8 or later) with its venv and ensurepip \
         modules on the PATH, to install componentize-py {COMPONENTIZE_PY}: on Debian, \
         `sudo apt-get install -y python3 python3-venv`"
    )
}

/// Builds the connector in `source` into `wasm`, unless the same sources, contract and
/// tool built the file there already.
fn build_one(tool: &Path, tool_version: &str, source: &Path, wasm: &Path) -> anyhow::Result<()> {
    let wit = root().join("wit");
    let sources = files_in(source, "py")?;
    if sources.is_empty() {
        bail!("{} holds no Python files", source.display());
    }
    let mut inputs = files_in(&wit, "wit")?;
    inputs.extend(sources.iter().cloned());
    let mut named = vec![(
        "componentize-py".to_string(),
        tool_version.as_bytes().to_vec(),
    )];
    for input in &inputs {
        named.push((input.to_string_lossy().into_owned(), std::fs::read(input)?));
    }
    let fingerprint = fingerprint(&named);
    let name = wasm
        .file_stem()
        .and_then(|n| n.to_str())
        .context("a component's file name")?;
    let work = target_dir().join("tools/python-build").join(name);
    let stamp = work.join("fingerprint");
    if wasm.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&fingerprint) {
        return Ok(());
    }
    // Built from a copy: componentize-py compiles the modules and would leave
    // __pycache__ folders in the repository. The copy and the output are this process's
    // own, and the component lands in `wasm` by a rename: engineers and CI may run xtask
    // at the same time, and a test may be loading the file.
    let process = std::process::id();
    let copy = work.join(format!("src-{process}"));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy)?;
    for file in &sources {
        std::fs::copy(file, copy.join(file.file_name().expect("a file")))?;
    }
    eprintln!("xtask: building {} with componentize-py", source.display());
    let built = work.join(format!("{name}-{process}.wasm"));
    let mut build = Command::new(tool);
    build
        .arg("-d")
        .arg(&wit)
        .args(["-w", "plugin", "componentize", "connector", "-o"])
        .arg(&built)
        .current_dir(&copy);
    let result = run(build).with_context(|| format!("building {}", source.display()));
    std::fs::remove_dir_all(&copy)?;
    if result.is_err() {
        let _ = std::fs::remove_file(&built);
    }
    result?;
    std::fs::rename(&built, wasm)
        .with_context(|| format!("moving {} to {}", built.display(), wasm.display()))?;
    std::fs::write(&stamp, fingerprint)?;
    Ok(())
}

/// The files with extension `ext` directly in `folder`, sorted.
fn files_in(folder: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("reading {}", folder.display()))?
    {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
