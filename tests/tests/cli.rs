//! The `ferry` command line: `check` names the file, line and app of every problem and
//! exits non-zero; `plugins inspect` describes a component; `cert` writes a usable pair.

use ferry_e2e::targets::{Target, config};
use ferry_e2e::{ferry_command, plugin_dir, sql_plugin_folder};

fn write_config(dir: &std::path::Path, text: &str) {
    std::fs::write(dir.join("ferry.toml"), text.replace("{port}", "18999")).unwrap();
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    std::fs::write(dir.join("token"), ferry_e2e::TOKEN).unwrap();
    let (ok, out) = ferry_command(&["cert", "--out", "tls"], dir);
    assert!(ok, "{out}");
}

#[test]
fn check_passes_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    write_config(
        dir.path(),
        &config(&sql_plugin_folder(dir.path()), &target, ""),
    );
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(ok, "{out}");
    assert!(out.contains("app 'hr': ok"), "{out}");
}

#[test]
fn check_names_file_line_and_app() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let plugins = sql_plugin_folder(dir.path());
    let good = config(&plugins, &target, "");

    // An unknown key: the line of the key.
    let text = good.replace("[apps.hr.import]", "[apps.hr.import]\ncolour = \"blue\"");
    write_config(dir.path(), &text);
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(
        out.contains(&format!("ferry.toml:{line}:")) && out.contains("colour"),
        "{out}"
    );

    // A setting the connector does not take: the app and the line.
    let text = good.replace("anchor = \"id\"", "anchor = \"id\"\nanchr = \"id\"");
    write_config(dir.path(), &text);
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(out.contains("app 'hr'") && out.contains("anchr"), "{out}");
    assert!(out.contains("ferry.toml:"), "{out}");

    // A connector that cannot open its table: test-connection fails, naming the app.
    let text = good.replace("table = \"users\"", "table = \"no_such_table\"");
    write_config(dir.path(), &text);
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(
        out.contains("app 'hr'") && out.contains("no_such_table"),
        "{out}"
    );

    // A filter lookup on a path the mapping does not have: the section and the path.
    write_config(
        dir.path(),
        &config(
            &plugins,
            &target,
            "[apps.hr.users]\nlookups = [\"name.givenName\", \"nickName\"]\n",
        ),
    );
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(
        out.contains("[apps.hr.users] lookups: 'nickName'") && !out.contains("givenName"),
        "{out}"
    );

    // An unknown plugin: the app, and what is loaded.
    write_config(
        dir.path(),
        &good.replace("plugin = \"generic-sql\"", "plugin = \"generic-ldap\""),
    );
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(
        out.contains("no plugin named 'generic-ldap'") && out.contains("loaded: generic-sql"),
        "{out}"
    );

    // A missing token file.
    write_config(dir.path(), &good);
    std::fs::remove_file(dir.path().join("token")).unwrap();
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok);
    assert!(out.contains("app 'hr'") && out.contains("token"), "{out}");
}

#[test]
fn check_refuses_a_bad_plugin_file_but_still_loads_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let plugins = sql_plugin_folder(dir.path());
    std::fs::write(plugins.join("broken.wasm"), b"\0asm\x01\0\0\0").unwrap();
    write_config(dir.path(), &config(&plugins, &target, ""));
    let (ok, out) = ferry_command(&["check", "--config", "ferry.toml"], dir.path());
    assert!(!ok, "a refused plugin is a problem");
    assert!(
        out.contains("broken.wasm") && out.contains("core WebAssembly module"),
        "{out}"
    );
    assert!(
        out.contains("app 'hr': ok"),
        "the good plugin still serves its app: {out}"
    );
}

#[test]
fn inspect_describes_the_connector() {
    let dir = tempfile::tempdir().unwrap();
    let file = plugin_dir().join("generic-sql.wasm");
    let (ok, out) = ferry_command(&["plugins", "inspect", file.to_str().unwrap()], dir.path());
    assert!(ok, "{out}");
    for expected in [
        "name:        generic-sql",
        "contract:    ferry:connector@0.2.0",
        "object-types (structured, required)",
        "delta-import=true",
        "ferry:connector/sql@0.2.0",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let (ok, out) = ferry_command(&["plugins", "inspect", "nope.wasm"], dir.path());
    assert!(!ok && out.contains("nope.wasm"), "{out}");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let text = config(&sql_plugin_folder(dir.path()), &target, "");
    let mut first = ferry_e2e::Ferry::start(dir.path(), &text);
    first.client("hr").await;

    let second_port = ferry_test_support::free_port().to_string();
    std::fs::write(
        dir.path().join("second.toml"),
        text.replace("{port}", &second_port),
    )
    .unwrap();
    let mut second = std::process::Command::new(ferry_e2e::ferry_bin())
        .args(["serve", "--config", "second.toml"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while second.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            second.kill().unwrap();
            panic!("a second ferry serve on the same data folder kept running");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let output = second.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{out}");
    assert!(
        out.contains("is in use by another ferry serve") && out.contains(&first.pid().to_string()),
        "{out}"
    );

    // Once the first has stopped, the folder is free again.
    first.stop();
    let mut again = ferry_e2e::Ferry::start(dir.path(), &text);
    again.ready("hr").await;
}
