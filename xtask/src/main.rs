//! `cargo xtask`: the project's own automation.
//!
//! * `cargo xtask demo [-- ARGS]` — build the connectors and run `ferry demo`; with
//!   `-- --ldap`, against a throwaway OpenLDAP directory it starts and stops itself.
//! * `cargo xtask test` — check or install what the tests need, build the components
//!   once, then run formatting and lint checks and every test (among them one run of the
//!   benchmarks at tiny sizes, bench/tests/smoke.rs, which judges no figure).
//! * `cargo xtask plugins` — build the connectors and test components into
//!   `target/plugins/`.
//! * `cargo xtask bench [-- --scale F --runs R --only NAME]` — Ferry against the
//!   physical limit, each figure a ratio to a reference measured in the same run
//!   (BENCHMARKS.md).
//! * `cargo xtask new-connector NAME` — a new Rust connector in `plugins/NAME/`, from the
//!   SDK's template (`sdk/rust/template/`), added to the workspace.

mod bench;
mod js;
mod python;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// The components built for wasm32-wasip2: (package, file name in target/plugins).
const COMPONENTS: &[(&str, &str)] = &[
    ("generic-sql", "generic-sql.wasm"),
    ("generic-ldap", "generic-ldap.wasm"),
    ("fixture-misbehave", "fixture-misbehave.wasm"),
    ("fixture-contract-v0-1", "fixture-contract-v0-1.wasm"),
    ("fixture-describe-loop", "fixture-describe-loop.wasm"),
    ("fixture-describe-sleep", "fixture-describe-sleep.wasm"),
];

/// The Debian packages holding the test servers, and a file each installs.
const SERVER_PACKAGES: &[(&str, &str)] = &[
    ("postgresql", "/usr/lib/postgresql"),
    ("slapd", "/usr/sbin/slapd"),
    ("ldap-utils", "/usr/bin/ldapsearch"),
    // The TLS-version test drives a real client that can still offer TLS 1.0 and 1.1.
    ("openssl", "/usr/bin/openssl"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("plugins") => build_components().map(drop),
        Some("bench") => bench::bench(&args[1..]),
        Some("new-connector") => new_connector(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask demo [-- [--ldap] --listen ADDR --data DIR --token TOKEN]\n       cargo xtask test [-- CARGO TEST ARGS]\n       cargo xtask plugins\n       cargo xtask bench [-- --scale F --runs R --only NAME --read-seconds S]\n       cargo xtask new-connector NAME"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut command: Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// Makes sure the wasm32-wasip2 target is installed (rust-toolchain.toml names it, and
/// rustup installs it on first use; this covers toolchains set up otherwise).
fn ensure_wasm_target() -> anyhow::Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output();
    match output {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-wasip2") =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("xtask: installing the wasm32-wasip2 target");
            let mut c = Command::new("rustup");
            c.args(["target", "add", "wasm32-wasip2"])
                .current_dir(root());
            run(c)
        }
        Err(_) => bail!(
            "rustup is not installed: install Rust with rustup, then `rustup target add wasm32-wasip2`"
        ),
    }
}

/// Builds every component once, for wasm32-wasip2, and copies them to target/plugins.
fn build_components() -> anyhow::Result<PathBuf> {
    ensure_wasm_target()?;
    let mut build = cargo();
    build.args(["build", "--profile", "plugin", "--target", "wasm32-wasip2"]);
    for (package, _) in COMPONENTS {
        build.args(["-p", package]);
    }
    run(build)?;
    let out = target_dir().join("plugins");
    std::fs::create_dir_all(&out)?;
    for (package, file) in COMPONENTS {
        let built = target_dir()
            .join("wasm32-wasip2/plugin")
            .join(format!("{}.wasm", package.replace('-', "_")));
        std::fs::copy(&built, out.join(file))
            .with_context(|| format!("copying {}", built.display()))?;
    }
    python::build_python_components(&out)?;
    js::build_js_components(&out)?;
    Ok(out)
}

fn demo(args: &[String]) -> anyhow::Result<()> {
    let plugins = build_components()?;
    let mut args: Vec<String> = args.iter().filter(|a| *a != "--").cloned().collect();
    let ldap = args.iter().any(|a| a == "--ldap");
    args.retain(|a| a != "--ldap");
    // Only the connectors: the demo folder must not offer test components.
    let demo_plugins = target_dir().join("demo-plugins");
    std::fs::create_dir_all(&demo_plugins)?;
    for file in ["generic-sql.wasm", "generic-ldap.wasm"] {
        std::fs::copy(plugins.join(file), demo_plugins.join(file))?;
    }
    let mut c = cargo();
    c.args(["run", "--quiet", "-p", "ferry", "--", "demo", "--plugins"])
        .arg(&demo_plugins);
    // Kept alive until ferry exits; its watchdog stops it even if xtask is killed.
    let _directory = if ldap {
        let directory = ldap_demo_directory(&mut c, &mut args)?;
        Some(directory)
    } else {
        None
    };
    c.args(&args);
    run(c)
}

/// Starts a throwaway OpenLDAP for `demo --ldap` and passes its coordinates to `ferry demo`.
/// The directory is new each time, so the demo's cache is too.
fn ldap_demo_directory(
    c: &mut Command,
    args: &mut Vec<String>,
) -> anyhow::Result<ferry_test_support::TempSlapd> {
    ensure_servers()?;
    if !args.iter().any(|a| a == "--data") {
        args.extend(["--data".to_string(), "ferry-demo-ldap".to_string()]);
    }
    let data = args
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(root().join(&data).join("apps"));
    eprintln!("xtask: starting a throwaway OpenLDAP directory");
    let directory = ferry_test_support::TempSlapd::start();
    let password_file = directory.folder().join("admin.password");
    write_private(&password_file, directory.admin_password())?;
    c.args([
        "--ldap-url",
        &directory.url(),
        "--ldap-base-dn",
        directory.base_dn(),
        "--ldap-bind-dn",
        directory.admin_dn(),
    ])
    .arg("--ldap-password-file")
    .arg(&password_file)
    .arg("--ldap-ca")
    .arg(directory.ca_pem_path());
    Ok(directory)
}

/// Writes a file only its owner can read (ldapsearch -y refuses others).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Checks the test servers are installed; installs them with apt when run as root.
fn ensure_servers() -> anyhow::Result<()> {
    let missing: Vec<&str> = SERVER_PACKAGES
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let have_apt = Path::new("/usr/bin/apt-get").exists();
    if !(is_root() && have_apt) {
        bail!(
            "the tests need real servers from these Debian packages: {0}. Install them with \
             `sudo apt-get install -y {0}` (run as root, cargo xtask test installs them itself)",
            missing.join(" ")
        );
    }
    apt_install(&missing)
}

/// Installs Debian packages (the caller checked it runs as root on Debian).
fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask: installing {}", packages.join(" "));
    let mut update = Command::new("apt-get");
    update
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

fn test(args: &[String]) -> anyhow::Result<()> {
    ensure_servers()?;
    let plugins = build_components()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    let mut wasm_clippy = cargo();
    wasm_clippy.args(["clippy", "--target", "wasm32-wasip2", "--profile", "plugin"]);
    for (package, _) in COMPONENTS {
        wasm_clippy.args(["-p", package]);
    }
    wasm_clippy.args(["--", "-D", "warnings"]);
    run(wasm_clippy)?;
    // `cargo test` builds the `ferry` binary itself (the host's integration tests need
    // it), with the same feature resolution as the tests: building it separately first
    // would compile the host twice.
    let mut tests = cargo();
    tests
        .args(["test", "--workspace"])
        .args(args.iter().filter(|a| *a != "--"))
        .env("FERRY_PLUGIN_DIR", &plugins)
        .env("FERRY_BIN", target_dir().join("debug/ferry"))
        .env("LDAPNOINIT", "1");
    run(tests)
}

/// `cargo xtask new-connector NAME`: writes `plugins/NAME/` from the SDK's template and
/// adds it to the workspace, so `cargo build -p NAME` and clippy see it at once.
fn new_connector(args: &[String]) -> anyhow::Result<()> {
    let [name] = args else {
        bail!("usage: cargo xtask new-connector NAME");
    };
    write_connector(&root().join("plugins").join(name), name, "../../sdk/rust")?;
    add_workspace_member(&format!("plugins/{name}"))?;
    eprintln!(
        "xtask: wrote plugins/{name}/ (Cargo.toml, src/lib.rs); next:\n  \
         cargo test -p {name}\n  \
         cargo build -p {name} --target wasm32-wasip2 --profile plugin\n  \
         cargo run -p ferry -- plugins inspect target/wasm32-wasip2/plugin/{}.wasm",
        name.replace('-', "_")
    );
    Ok(())
}

/// Writes a connector crate called `name` into `folder` (which must not exist yet) from
/// the template, depending on the SDK at `sdk` (a path as Cargo.toml writes it).
fn write_connector(folder: &Path, name: &str, sdk: &str) -> anyhow::Result<()> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!(
            "'{name}' cannot name a connector: use lowercase letters, digits and hyphens, \
             starting with a letter"
        );
    }
    if folder.exists() {
        bail!("{} exists already", folder.display());
    }
    let template = root().join("sdk/rust/template");
    let manifest = std::fs::read_to_string(template.join("Cargo.toml.template"))?
        .replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{sdk}}", sdk);
    std::fs::create_dir_all(folder.join("src"))?;
    std::fs::write(folder.join("Cargo.toml"), manifest)?;
    std::fs::copy(template.join("src/lib.rs"), folder.join("src/lib.rs"))?;
    Ok(())
}

/// Adds `member` to the `members = [...]` line of the workspace's Cargo.toml.
fn add_workspace_member(member: &str) -> anyhow::Result<()> {
    let path = root().join("Cargo.toml");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, with_member(&text, member)?)?;
    Ok(())
}

/// The workspace manifest `text` with `member` added to its one-line `members` list.
fn with_member(text: &str, member: &str) -> anyhow::Result<String> {
    let line = text
        .lines()
        .find(|line| line.starts_with("members = [") && line.ends_with(']'))
        .with_context(|| {
            format!("no one-line `members = [...]` in Cargo.toml: add \"{member}\" to it")
        })?;
    let added = format!("{}, \"{member}\"]", line.trim_end_matches(']'));
    Ok(text.replacen(line, &added, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connector made from the template in a folder of its own, the way an author
    /// outside this repository starts one, passes its own tests, builds as a component,
    /// and `ferry plugins inspect` reads its name and contract.
    #[test]
    fn a_new_connector_builds_and_is_inspected() {
        let ferry = std::env::var_os("FERRY_BIN")
            .map_or_else(|| target_dir().join("debug/ferry"), PathBuf::from);
        assert!(
            ferry.exists(),
            "{} does not exist: run the tests with `cargo xtask test`",
            ferry.display()
        );
        let scratch =
            std::env::temp_dir().join(format!("ferry-new-connector-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let folder = scratch.join("hello-ferry");
        let sdk = root().join("sdk/rust");
        write_connector(&folder, "hello-ferry", sdk.to_str().unwrap()).unwrap();
        assert!(
            write_connector(&folder, "hello-ferry", "x").is_err(),
            "never overwrites"
        );
        assert!(write_connector(&scratch.join("x"), "Hello", "x").is_err());
        // The same toolchain (with its wasm32-wasip2 target) and dependency versions as
        // this workspace; a target folder kept between runs, apart from the workspace's
        // (which the running `cargo test` holds locked).
        for file in ["rust-toolchain.toml", "Cargo.lock"] {
            std::fs::copy(root().join(file), folder.join(file)).unwrap();
        }
        let cargo = |args: &[&str]| {
            let mut command =
                Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            command
                .args(args)
                .current_dir(&folder)
                .env("CARGO_TARGET_DIR", target_dir().join("new-connector"));
            run(command).unwrap();
        };
        cargo(&["test", "--release", "--quiet"]);
        cargo(&["build", "--release", "--quiet", "--target", "wasm32-wasip2"]);
        let wasm = target_dir().join("new-connector/wasm32-wasip2/release/hello_ferry.wasm");
        let output = Command::new(&ferry)
            .args(["plugins", "inspect"])
            .arg(&wasm)
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{shown}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(shown.contains("name:        hello-ferry"), "{shown}");
        assert!(
            shown.contains("contract:    ferry:connector@0.2.0"),
            "{shown}"
        );
        assert!(shown.contains("id-prefix"), "{shown}");
        std::fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn adds_a_workspace_member() {
        let manifest =
            "[workspace]\nmembers = [\"host\", \"xtask\"]\ndefault-members = [\"host\"]\n";
        assert_eq!(
            with_member(manifest, "plugins/hello").unwrap(),
            "[workspace]\nmembers = [\"host\", \"xtask\", \"plugins/hello\"]\ndefault-members = [\"host\"]\n"
        );
        assert!(with_member("[workspace]\nmembers = [\n  \"host\",\n]\n", "x").is_err());
    }
}
