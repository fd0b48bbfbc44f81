//! Imports fill and refresh an app's cache from its target: a full import pages through
//! everything and then drops what it did not see; a delta import applies what changed
//! since the last watermark. Each run's outcome is kept in the cache's state, so
//! operators (and `ferry check`) can see when the cache was last refreshed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::App;
use super::apply::without_secrets;
use super::translate;
use crate::runtime::bindings::types::{DeltaEntry, ErrorKind};
use crate::runtime::ops;
use crate::runtime::pool::CallError;

/// The state key of the watermark where the next delta import starts.
const WATERMARK: &str = "watermark";

/// How many objects a full import gathers, over as many pages as it takes, before it
/// writes them to the cache in one transaction. Every commit writes each cache page the
/// batch touched; with objects arriving in random anchor order a 500-object page touches
/// almost every page, so committing per connector page wrote the whole cache again and
/// again (perf: commits and WAL checkpoints were a third of a 100,000-row import). A
/// SCIM write waits for at most one batch.
const WRITE_BATCH: usize = 10_000;

/// What one import run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// "full" or "delta".
    pub kind: String,
    /// Objects added or changed in the cache.
    pub upserted: u64,
    /// Objects removed from the cache.
    pub removed: u64,
    /// Connector calls made.
    pub pages: u64,
    /// When the run started (RFC 3339).
    pub started: String,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The app has no mapping and cache yet.
    #[error("the app is not bound to its connector yet: {0}")]
    NotBound(String),
    /// The connector said it cannot do delta imports under this configuration.
    #[error("the connector does not support delta imports here: {0}")]
    DeltaUnsupported(String),
    /// A connector call failed.
    #[error("the connector failed: {0}")]
    Connector(#[from] CallError),
    /// The cache could not be written.
    #[error("the cache failed: {0:#}")]
    Cache(#[from] anyhow::Error),
}

struct Run {
    report: ImportReport,
    clock: std::time::Instant,
}

impl Run {
    fn start(kind: &str) -> Self {
        let started = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self {
            report: ImportReport {
                kind: kind.into(),
                upserted: 0,
                removed: 0,
                pages: 0,
                started,
                millis: 0,
            },
            clock: std::time::Instant::now(),
        }
    }

    fn finish(mut self) -> ImportReport {
        self.report.millis = self.clock.elapsed().as_millis() as u64;
        self.report
    }
}

/// Waits for the page being written to the cache, if any.
async fn finish_writing(
    writing: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
) -> anyhow::Result<()> {
    match writing {
        Some(task) => task
            .await
            .map_err(|e| anyhow::anyhow!("the cache writer task failed: {e}"))?,
        None => Ok(()),
    }
}

impl App {
    /// Runs a full import. Reads keep being served from the cache while it runs.
    pub async fn full_import(&self) -> Result<ImportReport, ImportError> {
        let bound = self
            .bind()
            .await
            .map_err(|e| ImportError::NotBound(format!("{e:#}")))?;
        let _running = self.import_lock.lock().await;
        let mut run = Run::start("full");
        let ops_before = ops::executed();
        let generation = bound.cache.begin_full_import().await?;
        let mut cursor = None;
        // Every page on one session: connectors may keep per-connection paging state.
        let pool = self.pool()?;
        let mut session = pool.reserve().await?;
        // The cache writes one batch while the connector reads the next: on two cores
        // the two halves of an import overlap instead of taking turns. Batches are still
        // written one at a time, in order.
        let mut writing: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
        let mut batch = Vec::new();
        let watermark = loop {
            let page = session
                .full_import(cursor.take(), self.import.page_size)
                .await?;
            run.report.pages += 1;
            run.report.upserted += page.objects.len() as u64;
            batch.extend(
                page.objects
                    .into_iter()
                    .map(|o| without_secrets(&bound.schema, o)),
            );
            if batch.len() >= WRITE_BATCH || page.next_cursor.is_none() {
                finish_writing(writing.take()).await?;
                let (bound, objects) = (bound.clone(), std::mem::take(&mut batch));
                writing = Some(tokio::spawn(async move {
                    let objects =
                        translate::objects_to_host(&bound.cache, &bound.schema, objects).await?;
                    bound.cache.upsert(objects).await
                }));
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break page.watermark,
            }
        };
        finish_writing(writing.take()).await?;
        run.report.removed = bound.cache.finish_full_import(generation).await?;
        match watermark {
            Some(w) => bound.cache.set_state(WATERMARK, &w).await?,
            None => bound.cache.set_state(WATERMARK, "").await?,
        }
        let report = run.finish();
        bound
            .cache
            .set_state(
                "last-full-import",
                &serde_json::to_string(&report).unwrap_or_default(),
            )
            .await?;
        tracing::info!(app = %self.name, objects = report.upserted, removed = report.removed, millis = report.millis, "full import done");
        if let (Some(before), Some(after)) = (ops_before, ops::executed()) {
            let wasm_ops = after - before;
            let per_object = wasm_ops / report.upserted.max(1);
            tracing::info!(app = %self.name, wasm_ops, per_object, "full import counted ({})", ops::ENV);
        }
        Ok(report)
    }

    /// Runs a delta import from the last watermark. Without one (no full import yet, or
    /// a connector that gave none), nothing happens.
    pub async fn delta_import(&self) -> Result<ImportReport, ImportError> {
        let bound = self
            .bind()
            .await
            .map_err(|e| ImportError::NotBound(format!("{e:#}")))?;
        let _running = self.import_lock.lock().await;
        let mut run = Run::start("delta");
        let Some(mut watermark) = bound
            .cache
            .state(WATERMARK)
            .await?
            .filter(|w| !w.is_empty())
        else {
            return Ok(run.finish());
        };
        let pool = self.pool()?;
        loop {
            let page = match pool
                .delta_import(watermark.clone(), self.import.page_size)
                .await
            {
                Err(CallError::Connector(e)) if e.kind == ErrorKind::Unsupported => {
                    return Err(ImportError::DeltaUnsupported(e.message));
                }
                other => other?,
            };
            run.report.pages += 1;
            let mut upserts = Vec::new();
            let mut deletes = Vec::new();
            for entry in page.entries {
                match entry {
                    DeltaEntry::Upsert(o) => upserts.push(without_secrets(&bound.schema, o)),
                    DeltaEntry::Delete(r) => {
                        deletes.extend(translate::ref_to_host(bound.cache.anchors(), r))
                    }
                }
            }
            let upserts = translate::objects_to_host(&bound.cache, &bound.schema, upserts).await?;
            run.report.upserted += upserts.len() as u64;
            run.report.removed += deletes.len() as u64;
            bound.cache.upsert(upserts).await?;
            bound.cache.delete(deletes).await?;
            watermark = page.watermark;
            bound.cache.set_state(WATERMARK, &watermark).await?;
            if !page.more {
                break;
            }
        }
        let report = run.finish();
        if report.upserted + report.removed > 0 {
            tracing::info!(app = %self.name, changed = report.upserted, removed = report.removed, "delta import done");
        }
        bound
            .cache
            .set_state(
                "last-delta-import",
                &serde_json::to_string(&report).unwrap_or_default(),
            )
            .await?;
        Ok(report)
    }
}
