//! SCIM create → target add: users POSTed to Ferry over HTTPS (each answered only once
//! the connector wrote them) against the same users written with nothing in between, at
//! the same concurrency: rows inserted by a native tokio-postgres client
//! (`scim-create-sql`), entries added by `ldapadd` (`scim-create-ldap`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use ferry_test_support::{TempPostgres, TempSlapd};
use serde_json::{Value, json};

use crate::ferry::{Ferry, Scheme, TOKEN};
use crate::report::{Better, Comparison};
use crate::{Options, ldap, target};

/// The concurrencies measured: one client at a time, and an IdP's parallel workers.
const CONCURRENCIES: [usize; 2] = [1, 8];

/// One user as both sides write it.
#[derive(Debug, Clone)]
pub struct User {
    /// SCIM userName, the user_name column.
    pub user_name: String,
    /// SCIM externalId.
    pub external_id: String,
    /// SCIM displayName.
    pub display_name: String,
    /// SCIM name.givenName.
    pub given_name: String,
    /// SCIM name.familyName.
    pub family_name: String,
    /// The work email.
    pub email: String,
}

impl User {
    /// User `i` of `batch`: names unique across batches, every field filled.
    pub fn new(batch: &str, i: usize) -> User {
        User {
            user_name: format!("{batch}.{i:06}@example.org"),
            external_id: format!("{batch}-{i:06}"),
            display_name: format!("Bench User {i}"),
            given_name: format!("Bench{i}"),
            family_name: format!("User{i}"),
            email: format!("{batch}.{i:06}@mail.example.org"),
        }
    }

    /// The SCIM body an IdP sends for this user.
    fn scim(&self) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": self.user_name,
            "externalId": self.external_id,
            "active": true,
            "displayName": self.display_name,
            "name": {
                "givenName": self.given_name,
                "familyName": self.family_name,
                "formatted": self.display_name,
            },
            "emails": [{"type": "work", "value": self.email, "primary": true}],
        })
    }
}

/// What Ferry's creates are compared with.
struct Reference {
    /// How the progress lines call it.
    short: &'static str,
    /// What it is exactly, at a concurrency, for the results.
    what: fn(usize) -> String,
}

/// SCIM creates → SQL inserts, against prepared INSERTs on native connections.
pub async fn scim_create_sql(
    options: &Options,
    postgres: &TempPostgres,
    work: &Path,
) -> anyhow::Result<Vec<Comparison>> {
    let dir = work.join("create");
    let reference = Reference {
        short: "native INSERT",
        what: |concurrency| {
            format!(
                "the same INSERT … RETURNING id, prepared, on {concurrency} native tokio-postgres connection(s)"
            )
        },
    };
    compare(
        options,
        "scim-create-sql",
        reference,
        async || {
            let database = target::empty_database(postgres).await?;
            let ferry = Ferry::start(
                options,
                &dir,
                &postgres.url(&database),
                Scheme::Https,
                false,
            )?;
            let reference = postgres.url(&target::empty_database(postgres).await?);
            Ok((ferry, reference))
        },
        async |url: &String, users: &[User], concurrency| {
            target::insert_natively(url, users, concurrency).await
        },
    )
    .await
}

/// SCIM creates → LDAP adds, against `ldapadd` processes adding the same entries.
pub async fn scim_create_ldap(
    options: &Options,
    slapd: &TempSlapd,
    work: &Path,
) -> anyhow::Result<Vec<Comparison>> {
    let dir = work.join("create");
    let reference = Reference {
        short: "ldapadd",
        what: |concurrency| {
            format!(
                "the same entries added by ldapadd: {concurrency} process(es) at once, each \
                 adding its share over a connection of its own"
            )
        },
    };
    compare(
        options,
        "scim-create-ldap",
        reference,
        async || {
            let ferry = Ferry::start_ldap(
                options,
                &dir,
                slapd,
                &slapd.unique_ou(),
                Scheme::Https,
                false,
            )?;
            Ok((ferry, slapd.unique_ou()))
        },
        async |ou: &String, users: &[User], concurrency| {
            ldap::add_natively(slapd, ou, users, concurrency, work)
        },
    )
    .await
}

/// Runs a create scenario. Per run, `fresh` starts Ferry on an empty target and makes
/// another empty one for the reference; then every concurrency in turn adds its users
/// through Ferry and through `add` on those (so both grow the same way), the side that
/// goes first alternating between runs.
async fn compare<T>(
    options: &Options,
    scenario: &str,
    reference: Reference,
    mut fresh: impl AsyncFnMut() -> anyhow::Result<(Ferry, T)>,
    add: impl AsyncFn(&T, &[User], usize) -> anyhow::Result<Duration>,
) -> anyhow::Result<Vec<Comparison>> {
    let count = options.users() as usize;
    let mut ferry_rates = vec![Vec::new(); CONCURRENCIES.len()];
    let mut reference_rates = vec![Vec::new(); CONCURRENCIES.len()];
    let rate = |took: Duration| count as f64 / took.as_secs_f64();
    for run in 1..=options.runs {
        let (mut ferry, target) = fresh().await?;
        ferry.ready().await?;
        let ferry_first = run % 2 == 1;
        for (k, &concurrency) in CONCURRENCIES.iter().enumerate() {
            let users: Vec<User> = (0..count)
                .map(|i| User::new(&format!("c{concurrency}"), i))
                .collect();
            if !ferry_first {
                reference_rates[k].push(rate(add(&target, &users, concurrency).await?));
            }
            ferry_rates[k].push(rate(post_all(&ferry, &users, concurrency).await?));
            if ferry_first {
                reference_rates[k].push(rate(add(&target, &users, concurrency).await?));
            }
            eprintln!(
                "ferry-bench: {scenario} run {run}, concurrency {concurrency}: ferry {:.0} users/s, {} {:.0} users/s",
                ferry_rates[k][run - 1],
                reference.short,
                reference_rates[k][run - 1]
            );
        }
    }
    Ok(CONCURRENCIES
        .iter()
        .zip(ferry_rates.into_iter().zip(reference_rates))
        .map(|(&concurrency, (ferry, reference_runs))| Comparison {
            scenario: scenario.into(),
            case: format!("{count} users, concurrency {concurrency}"),
            unit: "users/s",
            better: Better::Higher,
            ferry,
            reference: reference_runs,
            reference_name: (reference.what)(concurrency),
            target: Some(0.8),
            extra: json!({"users": count, "concurrency": concurrency, "transport": "HTTPS"}),
        })
        .collect())
}

/// The share of `items` worker `worker` of `workers` handles: every `workers`-th item
/// from its own offset, so the shares are disjoint, cover everything and differ in size
/// by one at most.
pub fn share<T>(items: &[T], worker: usize, workers: usize) -> impl Iterator<Item = &T> {
    items.iter().skip(worker).step_by(workers)
}

/// POSTs every user to Ferry with `concurrency` workers sharing one keep-alive client,
/// failing on the first answer that is not 201. Returns the wall time.
pub async fn post_all(
    ferry: &Ferry,
    users: &[User],
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        users
            .iter()
            .map(|u| serde_json::to_vec(&u.scim()))
            .collect::<Result<_, _>>()?,
    );
    let url = Arc::new(format!("{}/Users", ferry.base));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (http, bodies, url) = (ferry.http.clone(), bodies.clone(), url.clone());
        tasks.spawn(async move {
            for body in share(bodies.as_slice(), worker, concurrency) {
                let response = http
                    .post(url.as_str())
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/scim+json")
                    .body(body.clone())
                    .send()
                    .await?;
                let status = response.status();
                if status != 201 {
                    bail!("POST /Users answered {status}: {}", response.text().await?);
                }
                response.bytes().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_item_once() {
        let items: Vec<usize> = (0..21).collect();
        let mut seen: Vec<usize> = (0..8).flat_map(|w| share(&items, w, 8)).copied().collect();
        let sizes: Vec<usize> = (0..8).map(|w| share(&items, w, 8).count()).collect();
        seen.sort();
        assert_eq!(seen, items);
        assert_eq!(sizes, [3, 3, 3, 3, 3, 2, 2, 2]);
        assert_eq!(share(&items, 0, 1).count(), 21);
    }
}
