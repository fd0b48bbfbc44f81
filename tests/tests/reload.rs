//! Hot reload under load: while SCIM clients create and read users without pause, the
//! connector file is replaced by a new version, then by a broken file, then removed and
//! put back. Every request made while a working version is loaded must succeed; the new
//! version must take over; the broken file must be refused with the old version still
//! serving; removal must stop the app with a clear 503, and the file's return restart it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_e2e::scim::entra_user;
use ferry_e2e::targets::{Target, config};
use ferry_e2e::{Ferry, ScimClient, eventually, sql_plugin_folder};

/// Clients running at once during the swaps.
const CLIENTS: usize = 4;

/// Puts `bytes` in place of `file` the way operators are told to: written beside it,
/// then renamed over it, so the watcher never sees half a file.
fn replace(file: &Path, bytes: &[u8]) {
    let staged = file.with_extension("staged");
    std::fs::write(&staged, bytes).unwrap();
    std::fs::rename(&staged, file).unwrap();
}

/// `component` with a custom section appended: a different file (and hash) with the
/// same behaviour, as a rebuilt connector would be.
fn new_version(component: &[u8], tag: &str) -> Vec<u8> {
    let name = b"ferry-test-version";
    let payload = tag.as_bytes();
    let body_len = 1 + name.len() + payload.len();
    assert!(body_len < 128 && name.len() < 128, "one-byte LEB128 sizes");
    let mut out = component.to_vec();
    out.push(0); // custom section id
    out.push(body_len as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(payload);
    out
}

/// Creates and reads back users until `stop`; returns every failure seen.
async fn load(scim: ScimClient, client: usize, stop: Arc<AtomicBool>) -> (usize, Vec<String>) {
    let mut done = 0;
    let mut failures = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let user = format!("load-{client}-{done}@reload.example");
        let (status, body) = match scim
            .post("/Users", &entra_user(&user, &format!("x{client}-{done}")))
            .await
        {
            Ok(reply) => reply,
            Err(e) => {
                failures.push(format!("POST {user}: {e}"));
                continue;
            }
        };
        if status != 201 {
            failures.push(format!("POST {user}: {status} {body}"));
            continue;
        }
        let id = body["id"].as_str().unwrap_or_default();
        match scim.get(&format!("/Users/{id}")).await {
            Ok((200, got)) if got["userName"] == user.as_str() => {}
            Ok((status, got)) => failures.push(format!("GET {user}: {status} {got}")),
            Err(e) => failures.push(format!("GET {user}: {e}")),
        }
        done += 1;
    }
    (done, failures)
}

/// How many times the log says `line`.
fn count(ferry: &Ferry, line: &str) -> usize {
    ferry.log().matches(line).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn connectors_are_replaced_refused_removed_and_restored_while_serving() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let target = Target::sqlite(dir);
    let plugins = sql_plugin_folder(dir);
    let file = plugins.join("generic-sql.wasm");
    let original = std::fs::read(&file).unwrap();
    let text =
        config(&plugins, &target, "").replace("[server]\n", "[server]\nplugin-poll-seconds = 1\n");
    let mut ferry = Ferry::start(dir, &text);
    let scim = ferry.ready("hr").await;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(load(scim.clone(), c, stop.clone())))
        .collect();

    // A new version takes over while the clients run.
    replace(&file, &new_version(&original, "2"));
    eventually("the new version to take over", || async {
        (count(&ferry, "app now runs the new version") == 1).then_some(())
    })
    .await;

    // A broken file is refused; the version loaded before keeps serving.
    replace(&file, &original[..original.len() / 2]);
    eventually("the broken file to be refused", || async {
        (count(
            &ferry,
            "the version loaded before keeps serving (generic-sql)",
        ) == 1)
            .then_some(())
    })
    .await;

    // And a further good version is taken again.
    replace(&file, &new_version(&original, "3"));
    eventually("the third version to take over", || async {
        (count(&ferry, "app now runs the new version") == 2).then_some(())
    })
    .await;

    stop.store(true, Ordering::Relaxed);
    let mut served = 0;
    for client in clients {
        let (done, failures) = client.await.unwrap();
        assert!(
            failures.is_empty(),
            "requests failed during reloads: {failures:#?}"
        );
        served += done;
    }
    assert!(served > 0, "the clients made no requests");
    eprintln!("{served} create+read pairs served across three reloads");
    assert_eq!(target.count().await, served as i64);

    // Removal stops the app: a clear 503 that names why.
    std::fs::remove_file(&file).unwrap();
    let (status, body) = eventually("the app to stop", || async {
        let reply = scim.get("/Users?count=1").await.unwrap();
        (reply.0 == 503).then_some(reply)
    })
    .await;
    assert_eq!(status, 503);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("stopped") && detail.contains("generic-sql.wasm was removed"),
        "{body}"
    );
    let (status, body) = scim
        .post("/Users", &entra_user("while-stopped@reload.example", "s1"))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(target.row("while-stopped@reload.example").await.is_none());

    // The file's return restarts it.
    replace(&file, &original);
    eventually("the app to serve again", || async {
        let (status, _) = scim.get("/Users?count=1").await.unwrap();
        (status == 200).then_some(())
    })
    .await;
    let (status, body) = scim
        .post("/Users", &entra_user("after@reload.example", "a1"))
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    assert!(target.row("after@reload.example").await.is_some());
    assert!(
        !ferry.log().contains("panicked"),
        "the log shows a panic:\n{}",
        ferry.log()
    );
}
