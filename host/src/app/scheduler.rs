//! Each app's import schedule: bind to the connector (retrying while the target is
//! down), fill the cache with a full import when it has never been filled, then run
//! delta imports and periodic full imports at the configured intervals. Failures are
//! logged and retried with backoff; they never stop the app from serving its cache.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::App;
use super::import::ImportError;

/// The first wait after a failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait between retries: a target that comes back is noticed within this.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Runs `app`'s schedule until the task is dropped.
pub async fn run(app: Arc<App>) {
    let mut backoff = FIRST_BACKOFF;
    let mut deltas = app.import.delta_interval_seconds > 0;
    let full_every = (app.import.full_interval_minutes > 0)
        .then(|| Duration::from_secs(u64::from(app.import.full_interval_minutes) * 60));
    let delta_every = Duration::from_secs(u64::from(app.import.delta_interval_seconds.max(1)));
    let mut next_full: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let step = match app.bind().await {
            Err(e) => Err(format!("binding to the connector failed: {e:#}")),
            Ok(bound) => {
                let complete = bound.cache.is_complete();
                if !complete || next_full.is_some_and(|t| t <= now) {
                    app.full_import().await.map(|_| {
                        next_full = full_every.map(|d| now + d);
                    })
                } else if deltas {
                    match app.delta_import().await {
                        Err(ImportError::DeltaUnsupported(why)) => {
                            tracing::info!(app = %app.name, "delta imports are off: {why}");
                            deltas = false;
                            Ok(())
                        }
                        other => other.map(drop),
                    }
                } else {
                    Ok(())
                }
                .map_err(|e| e.to_string())
            }
        };
        let wait = match step {
            Ok(()) => {
                backoff = FIRST_BACKOFF;
                let mut wake = next_full.unwrap_or(now + Duration::from_secs(86_400));
                if deltas {
                    wake = wake.min(now + delta_every);
                }
                wake
            }
            Err(e) => {
                tracing::warn!(app = %app.name, retry_in_s = backoff.as_secs(), "import failed: {e}");
                let wake = now + backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wake
            }
        };
        if next_full.is_none()
            && let Some(d) = full_every
        {
            next_full = Some(now + d);
        }
        sleep_until(wait).await;
    }
}
