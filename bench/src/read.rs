//! Cached reads: `GET /Users?filter=userName eq "…"` against Ferry with every seeded user
//! in its cache, against a bare hyper server answering Ferry's own answer as a fixed
//! body, with the same load generator at the same concurrency. Both over plain HTTP on
//! loopback, so the ratio is Ferry's routing, authentication, filter and cache lookup.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ferry_test_support::TempPostgres;
use serde_json::json;

use crate::ferry::{Ferry, Scheme, TOKEN};
use crate::load::{Load, closed_loop};
use crate::report::{Better, Comparison};
use crate::{Options, median, target};

/// The concurrencies measured.
const CONCURRENCIES: [usize; 2] = [1, 8];

/// How many distinct users the requests cycle through.
const DISTINCT_USERS: u64 = 1_000;

/// Runs the scenario on the seeded database.
pub async fn cached_read(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
) -> anyhow::Result<Vec<Comparison>> {
    let rows = options.rows();
    let mut ferry = Ferry::start(
        options,
        &work.join("read"),
        &postgres.url(database),
        Scheme::Http,
    )?;
    ferry.ready().await?;
    let base = ferry.base.clone();
    let step = (rows / DISTINCT_USERS).max(1);
    let queries: Vec<String> = (1..=rows)
        .step_by(step as usize)
        .map(|i| {
            format!(
                "/Users?filter=userName%20eq%20%22{}%22",
                target::seeded_user_name(i).replace('@', "%40")
            )
        })
        .collect();
    let ferry_urls = Arc::new(
        queries
            .iter()
            .map(|q| format!("{base}{q}"))
            .collect::<Vec<_>>(),
    );
    // The reference answers with a real answer of Ferry's, so both send the same bytes.
    let body = ferry
        .http
        .get(&ferry_urls[0])
        .bearer_auth(TOKEN)
        .send()
        .await?
        .bytes()
        .await?;
    let found: serde_json::Value = serde_json::from_slice(&body).context("Ferry's answer")?;
    if found["totalResults"] != 1 {
        bail!(
            "Ferry did not find a seeded user: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let body_file = work.join("read-body.json");
    std::fs::write(&body_file, &body)?;
    let reference = FixedServer::start(&body_file).await?;
    let reference_urls = Arc::new(
        queries
            .iter()
            .map(|q| format!("http://127.0.0.1:{}/apps/hr/scim/v2{q}", reference.port))
            .collect::<Vec<_>>(),
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let duration = Duration::from_secs_f64(options.read_seconds);
    let warm_up = Duration::from_millis(500);
    let mut comparisons = Vec::new();
    for concurrency in CONCURRENCIES {
        closed_loop(&http, ferry_urls.clone(), TOKEN, concurrency, warm_up).await?;
        closed_loop(&http, reference_urls.clone(), TOKEN, concurrency, warm_up).await?;
        let (mut ferry_runs, mut reference_runs) = (Vec::new(), Vec::new());
        for run in 1..=options.runs {
            let measure_ferry =
                || closed_loop(&http, ferry_urls.clone(), TOKEN, concurrency, duration);
            let measure_reference =
                || closed_loop(&http, reference_urls.clone(), TOKEN, concurrency, duration);
            // Alternate the order so a slow spell on the machine hits both sides.
            if run % 2 == 1 {
                ferry_runs.push(measure_ferry().await?);
                reference_runs.push(measure_reference().await?);
            } else {
                reference_runs.push(measure_reference().await?);
                ferry_runs.push(measure_ferry().await?);
            }
            let (f, r) = (ferry_runs[run - 1], reference_runs[run - 1]);
            eprintln!(
                "ferry-bench: cached-read run {run}, concurrency {concurrency}: ferry {:.0} req/s (p99 {:.2} ms), hyper {:.0} req/s (p99 {:.2} ms)",
                f.per_second, f.p99_ms, r.per_second, r.p99_ms
            );
        }
        let rates = |runs: &[Load]| runs.iter().map(|l| l.per_second).collect::<Vec<_>>();
        let p99 = |runs: &[Load]| median(&runs.iter().map(|l| l.p99_ms).collect::<Vec<_>>());
        let p50 = |runs: &[Load]| median(&runs.iter().map(|l| l.p50_ms).collect::<Vec<_>>());
        comparisons.push(Comparison {
            scenario: "cached-read".into(),
            case: format!("{rows} users cached, concurrency {concurrency}, HTTP"),
            unit: "req/s",
            better: Better::Higher,
            ferry: rates(&ferry_runs),
            reference: rates(&reference_runs),
            reference_name: "a bare hyper 1 HTTP/1.1 server answering the same body".into(),
            target: Some(0.7),
            extra: json!({
                "users_cached": rows,
                "concurrency": concurrency,
                "seconds_per_measurement": options.read_seconds,
                "distinct_users_asked": queries.len(),
                "ferry_p50_ms": p50(&ferry_runs),
                "ferry_p99_ms": p99(&ferry_runs),
                "reference_p50_ms": p50(&reference_runs),
                "reference_p99_ms": p99(&reference_runs),
                "answer_bytes": body.len(),
            }),
        });
    }
    Ok(comparisons)
}

/// The reference server process (this binary's `fixed-server`), killed when dropped.
struct FixedServer {
    child: Child,
    port: u16,
}

impl FixedServer {
    async fn start(body_file: &Path) -> anyhow::Result<FixedServer> {
        let port = ferry_test_support::free_port();
        let child = Command::new(std::env::current_exe()?)
            .arg("fixed-server")
            .arg(port.to_string())
            .arg(body_file)
            .stdin(Stdio::null())
            .spawn()
            .context("starting the reference server")?;
        let server = FixedServer { child, port };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the reference server did not listen on {port}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }
}

impl Drop for FixedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
