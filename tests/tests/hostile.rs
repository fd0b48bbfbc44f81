//! Hostile connectors through the real `ferry serve` over HTTPS: an app on the misbehave
//! fixture is told, through SCIM, to panic, loop, exhaust its memory, recurse, wait
//! forever and hand back results far too large or malformed, while a healthy app
//! (generic-sql on SQLite) in the same process serves a steady stream of concurrent
//! requests. Every hostile POST gets a SCIM 5xx and leaves nothing in the app's cache;
//! the hostile app serves again right after; every healthy answer is correct; and a
//! plugin whose `describe` never returns is refused at start without stalling it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ferry_e2e::scim::encode;
use ferry_e2e::targets::{Target, config};
use ferry_e2e::{Ferry, ScimClient, plugin_dir, sql_plugin_folder};
use reqwest::Method;
use serde_json::{Value, json};

/// The hostile app: the misbehave fixture, its `thing` objects as SCIM Users (userName is
/// the order it obeys), under tight limits.
const HOSTILE_APP: &str = r#"
[apps.bad]
plugin = "misbehave"
token = { file = "token" }

[apps.bad.limits]
memory-mib = 64
cpu-ms-per-call = 500
call-timeout-seconds = 2
instances = 2

[apps.bad.users]
object-type = "thing"
default-mapping = false
[apps.bad.users.attributes]
"userName" = "name"
"#;

fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
    })
}

/// The ids of the users whose userName is `user_name`, as the app's cache answers.
async fn found(scim: &ScimClient, user_name: &str) -> Vec<String> {
    let filter = encode(&format!("userName eq \"{user_name}\""));
    let (status, body) = scim.get(&format!("/Users?filter={filter}")).await.unwrap();
    assert_eq!(status, 200, "{user_name}: {body}");
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Concurrent clients of the healthy app.
const HEALTHY_CLIENTS: usize = 4;

/// The healthy app's clients: each creates users and reads them back by filter and by
/// id, checking every answer, until stopped.
struct Healthy {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    clients: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl Healthy {
    fn start(ferry: &Ferry) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let cert = ferry.dir.join("tls/cert.pem");
        let clients = (0..HEALTHY_CLIENTS)
            .map(|client| {
                let scim = ScimClient::new(&cert, ferry.port, "hr", ferry_e2e::TOKEN);
                let (stop, served) = (stop.clone(), served.clone());
                tokio::spawn(async move {
                    let mut wrong = Vec::new();
                    let mut round = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("steady-{client}-{round}@example.org");
                        round += 1;
                        match Self::round_trip(&scim, &name).await {
                            Ok(()) => {
                                served.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => wrong.push(e),
                        }
                    }
                    wrong
                })
            })
            .collect();
        Self {
            stop,
            served,
            clients,
        }
    }

    /// Creates `name`, then finds it by filter and reads it by id.
    async fn round_trip(scim: &ScimClient, name: &str) -> Result<(), String> {
        let (status, created) = scim
            .post("/Users", &user(name))
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        if status != 201 || created["userName"] != name {
            return Err(format!("{name}: POST {status} {created}"));
        }
        let id = created["id"].as_str().unwrap_or_default();
        if found(scim, name).await != [id] {
            return Err(format!("{name}: the filter did not find exactly {id}"));
        }
        let (status, read) = scim
            .get(&format!("/Users/{id}"))
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        if status != 200 || read["userName"] != name {
            return Err(format!("{name}: GET {status} {read}"));
        }
        Ok(())
    }

    /// Waits (bounded) until a few more round trips succeeded: the app serves now.
    async fn still_serving(&self) {
        let before = self.served.load(Ordering::Relaxed);
        let more = async {
            while self.served.load(Ordering::Relaxed) < before + HEALTHY_CLIENTS {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), more)
            .await
            .expect("the healthy app stopped answering");
    }

    /// Stops the clients; asserts every answer was correct; the round trips made.
    async fn finish(self) -> usize {
        self.still_serving().await;
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            let wrong = client.await.unwrap();
            assert!(
                wrong.is_empty(),
                "the healthy app answered wrongly: {wrong:#?}"
            );
        }
        self.served.load(Ordering::Relaxed)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_connectors_fail_alone_and_the_healthy_app_serves_throughout() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let plugins = sql_plugin_folder(dir.path());
    for file in ["fixture-misbehave.wasm", "fixture-describe-sleep.wasm"] {
        std::fs::copy(plugin_dir().join(file), plugins.join(file)).unwrap();
    }
    let mut ferry = Ferry::start(dir.path(), &config(&plugins, &target, HOSTILE_APP));
    let bad = ferry.ready("bad").await;
    ferry.ready("hr").await;
    assert!(
        ferry.log().contains(
            "fixture-describe-sleep.wasm: describe() failed: the connector call took longer \
             than 15 s"
        ),
        "the stuck plugin is refused by name:\n{}",
        ferry.log()
    );
    let healthy = Healthy::start(&ferry);
    healthy.still_serving().await;

    for (order, status, says) in [
        ("panic", 500, "misbehave was asked to panic"),
        ("loop", 500, "CPU limit of 500 ms"),
        ("grow", 500, "memory limit of 64 MiB"),
        ("recurse", 500, "the connector trapped"),
        ("sleep", 503, "longer than 2 s"),
        ("alias|1048576|100000", 500, "more than 64 MiB at once"),
        ("lie|3221225472", 500, "out of bounds of memory"),
    ] {
        let body = serde_json::to_vec(&user(order)).unwrap();
        let reply = bad
            .send(Method::POST, "/Users", Some(body), "application/scim+json")
            .await
            .unwrap();
        assert_eq!(reply.status.as_u16(), status, "{order}: {}", reply.body);
        assert_eq!(
            reply.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{order}"
        );
        assert_eq!(reply.body["status"], status.to_string(), "{order}");
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{order}: {detail}");
        if status == 503 {
            assert!(reply.headers.contains_key("retry-after"), "{order}");
        }
        assert!(found(&bad, order).await.is_empty(), "{order} was cached");

        // The instance went; the next one serves.
        let fine = format!("fine-after-{}", order.split('|').next().unwrap());
        let (status, created) = bad.post("/Users", &user(&fine)).await.unwrap();
        assert_eq!(status, 201, "{fine}: {created}");
        assert_eq!(found(&bad, &fine).await.len(), 1, "{fine}");
        healthy.still_serving().await;
    }

    let (status, all) = bad.get("/Users?count=1000").await.unwrap();
    assert_eq!(status, 200);
    let names: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        12,
        "5 imported, 7 fine, nothing hostile: {names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("thing-") || n.starts_with("fine-after-"))
    );

    let served = healthy.finish().await;
    eprintln!("the healthy app made {served} correct round trips meanwhile");
    let log = ferry.log();
    // A guest's panic message is quoted inside the failure logged for it; a panic of
    // the host itself would be a line of its own.
    assert!(
        !log.lines().any(|l| l.starts_with("thread '")),
        "the host itself never panics:\n{log}"
    );
    assert_eq!(
        log.matches("connector instance discarded").count(),
        7,
        "one discarded instance per hostile order:\n{log}"
    );
}
