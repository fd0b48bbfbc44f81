//! The scenarios on a large cache (1M users at scale 1): `memory` and `startup` share one
//! full import into one Ferry, since the import is what takes long (of the table
//! `cached-read` reads too).

use std::path::Path;

use ferry_test_support::TempPostgres;

use crate::ferry::{Ferry, Scheme};
use crate::report::Figure;
use crate::{Options, memory, startup};

/// Fills Ferry's cache from `database` (seeded with [`Options::cached_users`] users),
/// then measures what `options` asks for.
pub async fn cached_scenarios(
    options: &Options,
    postgres: &TempPostgres,
    database: &str,
    work: &Path,
) -> anyhow::Result<Vec<Figure>> {
    let users = options.cached_users();
    let mut ferry = Ferry::start(
        options,
        &work.join("large"),
        &postgres.url(database),
        Scheme::Https,
        false,
    )?;
    let serving = ferry.ready().await?;
    eprintln!("ferry-bench: {users} users cached, serving {serving:?} after start");
    let mut figures = Vec::new();
    if options.wants("memory") {
        figures.extend(memory::cache(options, &mut ferry, users).await?);
    }
    if options.wants("startup") {
        figures.extend(startup::startup(options, &mut ferry, users).await?);
    }
    Ok(figures)
}
