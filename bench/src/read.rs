//! Cached reads: `GET /Users?filter=userName eq "…"` against Ferry with every seeded user
//! in its cache, against a bare hyper server answering Ferry's own answer as a fixed
//! body, with the same load generator at the same concurrency. Over plain HTTP on
//! loopback, the ratio is Ferry's routing, authentication, filter and cache lookup; over
//! HTTPS (both sides on rustls with the same certificate), it is that as deployed.

use std::path::{Path, PathBuf};
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

/// The transports measured, each on a Ferry of its own.
const SCHEMES: [Scheme; 2] = [Scheme::Http, Scheme::Https];

/// How many distinct users the requests cycle through.
const DISTINCT_USERS: u64 = 1_000;

/// Runs the scenario on the seeded database, over each transport in turn.
pub async fn cached_read(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
) -> anyhow::Result<Vec<Comparison>> {
    let mut comparisons = Vec::new();
    for scheme in SCHEMES {
        comparisons.extend(over(options, postgres, database, work, scheme).await?);
    }
    Ok(comparisons)
}

/// The URL scheme and the name the results give a transport.
fn names(scheme: Scheme) -> (&'static str, &'static str) {
    match scheme {
        Scheme::Http => ("http", "HTTP"),
        Scheme::Https => ("https", "HTTPS"),
    }
}

/// Every concurrency over one transport: keep-alive connections on both sides, so a
/// TLS handshake happens per connection (in the warm-up), not per request.
async fn over(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
    scheme: Scheme,
) -> anyhow::Result<Vec<Comparison>> {
    let rows = options.cached_users();
    let (url_scheme, transport) = names(scheme);
    let mut ferry = Ferry::start(
        options,
        &work.join(format!("read-{url_scheme}")),
        &postgres.url(database),
        scheme,
        false,
    )?;
    ferry.ready().await?;
    let base = ferry.base.clone();
    let step = (rows / DISTINCT_USERS).max(1);
    let queries: Vec<String> = (1..=rows)
        .step_by(step as usize)
        .map(filter_query)
        .collect();
    let ferry_urls = Arc::new(
        queries
            .iter()
            .map(|q| format!("{base}{q}"))
            .collect::<Vec<_>>(),
    );
    // The reference answers with a real answer of Ferry's, so both send the same bytes.
    let body = find_one(&ferry, 1).await?;
    let body_file = work.join("read-body.json");
    std::fs::write(&body_file, &body)?;
    let tls = (scheme == Scheme::Https).then(|| ferry.tls_files());
    let reference = FixedServer::start(&body_file, tls).await?;
    let reference_urls = Arc::new(
        queries
            .iter()
            .map(|q| {
                format!(
                    "{url_scheme}://127.0.0.1:{}/apps/hr/scim/v2{q}",
                    reference.port
                )
            })
            .collect::<Vec<_>>(),
    );
    // One client for both sides: it trusts Ferry's certificate, which both present.
    let http = ferry.http.clone();
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
                "ferry-bench: cached-read run {run}, concurrency {concurrency}, {transport}: ferry {:.0} req/s (p99 {:.2} ms), hyper {:.0} req/s (p99 {:.2} ms)",
                f.per_second, f.p99_ms, r.per_second, r.p99_ms
            );
        }
        let rates = |runs: &[Load]| runs.iter().map(|l| l.per_second).collect::<Vec<_>>();
        let p99 = |runs: &[Load]| median(&runs.iter().map(|l| l.p99_ms).collect::<Vec<_>>());
        let p50 = |runs: &[Load]| median(&runs.iter().map(|l| l.p50_ms).collect::<Vec<_>>());
        comparisons.push(Comparison {
            scenario: "cached-read".into(),
            case: format!("{rows} users cached, concurrency {concurrency}, {transport}"),
            unit: "req/s",
            better: Better::Higher,
            ferry: rates(&ferry_runs),
            reference: rates(&reference_runs),
            reference_name: match scheme {
                Scheme::Http => "a bare hyper 1 HTTP/1.1 server answering the same body".into(),
                Scheme::Https => "a bare hyper 1 HTTP/1.1 server answering the same body over \
                    tokio-rustls (ring), with Ferry's certificate"
                    .into(),
            },
            target: Some(0.7),
            extra: json!({
                "users_cached": rows,
                "concurrency": concurrency,
                "transport": transport,
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

/// `/Users?filter=userName eq "…"` for seeded user `i`, URL-encoded.
pub fn filter_query(i: u64) -> String {
    format!(
        "/Users?filter=userName%20eq%20%22{}%22",
        target::seeded_user_name(i).replace('@', "%40")
    )
}

/// Asks Ferry for seeded user `i` by userName and returns the answer, failing unless it
/// found exactly that user.
pub async fn find_one(ferry: &Ferry, i: u64) -> anyhow::Result<bytes::Bytes> {
    let body = ferry
        .http
        .get(format!("{}{}", ferry.base, filter_query(i)))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .bytes()
        .await?;
    let found: serde_json::Value = serde_json::from_slice(&body).context("Ferry's answer")?;
    if found["totalResults"] != 1 {
        bail!(
            "Ferry did not find seeded user {i}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}

/// The reference server process (this binary's `fixed-server`), killed when dropped.
struct FixedServer {
    child: Child,
    port: u16,
}

impl FixedServer {
    /// Starts it on a free port, over TLS when given a certificate and key.
    async fn start(
        body_file: &Path,
        tls: Option<(PathBuf, PathBuf)>,
    ) -> anyhow::Result<FixedServer> {
        let port = ferry_test_support::free_port();
        let child = Command::new(std::env::current_exe()?)
            .arg("fixed-server")
            .arg(port.to_string())
            .arg(body_file)
            .args(tls.into_iter().flat_map(|(cert, key)| [cert, key]))
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
