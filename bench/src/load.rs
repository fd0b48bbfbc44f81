//! A closed-loop HTTP load generator: `concurrency` workers each send a request, wait
//! for the whole answer, and send the next, for a fixed time. The same generator drives
//! Ferry and the reference, so its own cost weighs on both alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

/// What one measurement saw.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Requests answered 200 per second.
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// GETs `urls` round-robin (each worker starting at its own offset) with a bearer
/// `token`, for `duration`; fails on any answer other than 200.
pub async fn closed_loop(
    http: &reqwest::Client,
    urls: Arc<Vec<String>>,
    token: &'static str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (http, urls) = (http.clone(), urls.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut next = worker * urls.len() / concurrency;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let response = http
                    .get(&urls[next % urls.len()])
                    .bearer_auth(token)
                    .send()
                    .await?;
                let status = response.status();
                let body = response.bytes().await?;
                if status != 200 {
                    bail!("GET answered {status}: {}", String::from_utf8_lossy(&body));
                }
                latencies.push(sent.elapsed());
                next += 1;
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    Ok(Load {
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    })
}
