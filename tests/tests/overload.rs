//! A flood of 1,000 concurrent clients (each its own TLS connection) against one app:
//! every request is answered — 200 with the right user, or 429 with `Retry-After` once
//! the app's in-flight limit is reached — and never with a 5xx. The counts and the time
//! taken are printed (run with `--nocapture`); no timing is asserted.

use std::time::Instant;

use ferry_e2e::scim::encode;
use ferry_e2e::targets::{Target, config};
use ferry_e2e::{Ferry, ScimClient, TOKEN, sql_plugin_folder};
use serde_json::json;

const CLIENTS: usize = 1000;
const REQUESTS_PER_CLIENT: usize = 3;

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_clients_get_answers_and_never_a_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::sqlite(dir.path());
    let limits = "\n[apps.hr.limits]\nmax-requests-in-flight = 64\n";
    let mut ferry = Ferry::start(
        dir.path(),
        &config(&sql_plugin_folder(dir.path()), &target, limits),
    );
    let scim = ferry.ready("hr").await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "flood@example.org"});
    assert_eq!(scim.post("/Users", &user).await.unwrap().0, 201);

    let cert = dir.path().join("tls/cert.pem");
    let path = format!(
        "/Users?filter={}",
        encode("userName eq \"flood@example.org\"")
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let client = ScimClient::new(&cert, ferry.port, "hr", TOKEN);
            let path = path.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for _ in 0..REQUESTS_PER_CLIENT {
                    let reply = client.send(reqwest::Method::GET, &path, None, "").await;
                    outcomes.push(reply.map(|r| {
                        let ok = match r.status.as_u16() {
                            200 => r.body["Resources"][0]["userName"] == "flood@example.org",
                            429 => {
                                r.headers.contains_key("retry-after") && r.body["status"] == "429"
                            }
                            _ => false,
                        };
                        (r.status.as_u16(), ok)
                    }));
                }
                outcomes
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    let mut transport_errors = 0;
    for task in tasks {
        for outcome in task.await.unwrap() {
            match outcome {
                Ok((status, ok)) => {
                    assert!(ok, "a {status} answer was not what it should be");
                    *counts.entry(status).or_default() += 1;
                }
                Err(_) => transport_errors += 1,
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{CLIENTS} clients × {REQUESTS_PER_CLIENT} requests in {elapsed:?}: {counts:?}, transport errors {transport_errors}"
    );
    assert!(
        counts.keys().all(|s| *s == 200 || *s == 429),
        "only 200 and 429: {counts:?}"
    );
    assert_eq!(transport_errors, 0, "every request got an answer");
    assert!(
        counts.get(&200).copied().unwrap_or(0) > 0,
        "the app served: {counts:?}"
    );
    // The host is still fine afterwards.
    assert_eq!(scim.get(&path).await.unwrap().0, 200);
    assert!(!ferry.log().contains("panicked"));
}
