//! Startup: the time from spawning `ferry serve` on a data folder whose cache holds every
//! user to its first answers, asked in turn: `GET /ServiceProviderConfig` (the listener
//! is up), a filtered read (the cache serves), and `GET /Users?count=0` (issue 7's
//! figure, which counts the users). Absolute figures: a restart has no reference doing
//! the same work.

use std::time::Duration;

use serde_json::json;

use crate::ferry::Ferry;
use crate::import::millis;
use crate::report::Figure;
use crate::{Options, median, read};

/// Issue 7's ceiling, in milliseconds.
const CEILING_MS: f64 = 2000.0;

/// How often a starting Ferry is asked: fine enough not to weigh on a figure of
/// hundreds of milliseconds.
const POLL: Duration = Duration::from_millis(5);

/// Restarts `ferry` (whose cache holds `users`) `options.runs` times, timing each.
pub async fn startup(
    options: &Options,
    ferry: &mut Ferry,
    users: u64,
) -> anyhow::Result<Vec<Figure>> {
    let probe = read::filter_query(users / 2 + 1);
    let (mut listening, mut filtered, mut counted) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=options.runs {
        ferry.restart(options)?;
        listening.push(millis(ferry.answers("/ServiceProviderConfig", POLL).await?));
        filtered.push(millis(ferry.answers(&probe, POLL).await?));
        counted.push(millis(ferry.answers("/Users?count=0", POLL).await?));
        eprintln!(
            "ferry-bench: startup run {run}, {users} users cached: listening after {:.0} ms, \
             a filtered read answered after {:.0} ms, GET /Users?count=0 after {:.0} ms",
            listening[run - 1],
            filtered[run - 1],
            counted[run - 1]
        );
    }
    // Untimed: the filtered read found the user, so the figures are of a working cache.
    read::find_one(ferry, users / 2 + 1).await?;
    let count_alone: Vec<f64> = counted.iter().zip(&filtered).map(|(c, f)| c - f).collect();
    let figure = |case: &str, values: Vec<f64>, ceiling: Option<f64>| Figure {
        scenario: "startup".into(),
        case: format!("{users} users cached, spawn to {case}"),
        unit: "ms",
        values,
        what: "wall time from spawning ferry serve on the existing data folder, the \
               previous answers included (they are asked in turn)"
            .into(),
        ceiling,
        extra: json!({"users_cached": users, "transport": "HTTPS", "poll_ms": millis(POLL)}),
    };
    Ok(vec![
        figure("GET /ServiceProviderConfig answering 200", listening, None),
        figure("a filtered read answered", filtered, Some(CEILING_MS)),
        Figure {
            extra: json!({
                "users_cached": users,
                "transport": "HTTPS",
                "poll_ms": millis(POLL),
                "count_request_alone_ms": count_alone,
                "count_request_alone_median_ms": median(&count_alone),
            }),
            ..figure(
                "GET /Users?count=0 answering 200",
                counted,
                Some(CEILING_MS),
            )
        },
    ])
}
