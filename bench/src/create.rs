//! SCIM create → SQL insert: users POSTed to Ferry over HTTPS (each answered only once
//! the connector inserted the row) against the same rows inserted by a native
//! tokio-postgres client, at the same concurrency.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use ferry_test_support::TempPostgres;
use serde_json::{Value, json};

use crate::ferry::{Ferry, Scheme, TOKEN};
use crate::report::{Better, Comparison};
use crate::{Options, target};

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
    fn new(batch: &str, i: usize) -> User {
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
            "name": {"givenName": self.given_name, "familyName": self.family_name},
            "emails": [{"type": "work", "value": self.email, "primary": true}],
        })
    }
}

/// Runs the scenario: per run, a fresh database for each side, then every concurrency in
/// turn on it (so both tables grow the same way).
pub async fn scim_create(
    options: &Options,
    postgres: &TempPostgres,
    work: &Path,
) -> anyhow::Result<Vec<Comparison>> {
    let count = options.users() as usize;
    let mut ferry_rates = vec![Vec::new(); CONCURRENCIES.len()];
    let mut native_rates = vec![Vec::new(); CONCURRENCIES.len()];
    for run in 1..=options.runs {
        let database = target::empty_database(postgres).await?;
        let mut ferry = Ferry::start(
            options,
            &work.join("create"),
            &postgres.url(&database),
            Scheme::Https,
        )?;
        ferry.ready().await?;
        let reference = target::empty_database(postgres).await?;
        for (k, &concurrency) in CONCURRENCIES.iter().enumerate() {
            let users: Vec<User> = (0..count)
                .map(|i| User::new(&format!("c{concurrency}"), i))
                .collect();
            let took = post_all(&ferry, &users, concurrency).await?;
            let native =
                target::insert_natively(&postgres.url(&reference), &users, concurrency).await?;
            ferry_rates[k].push(count as f64 / took.as_secs_f64());
            native_rates[k].push(count as f64 / native.as_secs_f64());
            eprintln!(
                "ferry-bench: scim-create-sql run {run}, concurrency {concurrency}: ferry {:.0} users/s, native INSERT {:.0} users/s",
                ferry_rates[k][run - 1],
                native_rates[k][run - 1]
            );
        }
    }
    Ok(CONCURRENCIES
        .iter()
        .zip(ferry_rates.into_iter().zip(native_rates))
        .map(|(concurrency, (ferry, reference))| Comparison {
            scenario: "scim-create-sql".into(),
            case: format!("{count} users, concurrency {concurrency}"),
            unit: "users/s",
            better: Better::Higher,
            ferry,
            reference,
            reference_name: format!(
                "the same INSERT … RETURNING id, prepared, on {concurrency} native tokio-postgres connection(s)"
            ),
            target: Some(0.8),
            extra: json!({"users": count, "concurrency": concurrency, "transport": "HTTPS"}),
        })
        .collect())
}

/// POSTs every user to Ferry with `concurrency` workers sharing one keep-alive client,
/// failing on the first answer that is not 201. Returns the wall time.
async fn post_all(ferry: &Ferry, users: &[User], concurrency: usize) -> anyhow::Result<Duration> {
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
            for body in bodies.iter().skip(worker).step_by(concurrency) {
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
