//! The PostgreSQL side: the users table Ferry's tests use, filled server-side, and the
//! references that touch it with nothing in between (`psql` COPY, native INSERTs).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ferry_test_support::TempPostgres;

/// The user name of seeded row `i` (1-based), as the read scenario asks for it.
pub fn seeded_user_name(i: u64) -> String {
    format!("user{i:07}@example.org")
}

/// A database name on `postgres` holding the users table and nothing else.
pub async fn empty_database(postgres: &TempPostgres) -> anyhow::Result<String> {
    let name = postgres.unique_database();
    connect(&postgres.url(&name))
        .await?
        .batch_execute(ferry_test_support::POSTGRES_USERS_TABLE)
        .await
        .context("creating the users table")?;
    Ok(name)
}

/// A database whose users table holds `rows` users with every column filled, made by
/// the server itself (generate_series) so seeding costs seconds, not minutes.
pub async fn seeded_database(postgres: &TempPostgres, rows: u64) -> anyhow::Result<String> {
    eprintln!("ferry-bench: seeding {rows} users");
    let name = empty_database(postgres).await?;
    let client = connect(&postgres.url(&name)).await?;
    let fill = format!(
        "INSERT INTO users (user_name, external_id, active, display_name, given_name, \
         family_name, email, employee_number, department) \
         SELECT 'user' || lpad(i::text, 7, '0') || '@example.org', md5(i::text), i % 10 <> 0, \
         'User ' || i, 'Given' || i, 'Family' || i, 'user' || i || '@mail.example.org', \
         (100000 + i)::text, 'Department ' || (i % 50) \
         FROM generate_series(1, {rows}) AS i;
         TRUNCATE user_changes;"
    );
    client.batch_execute(&fill).await.context("seeding users")?;
    // On its own: several statements in one message run as one transaction, and VACUUM
    // refuses to run inside one.
    client
        .batch_execute("VACUUM ANALYZE users")
        .await
        .context("vacuuming users")?;
    Ok(name)
}

/// Connects with tokio-postgres (no TLS: the server listens on loopback only).
pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Fails early, saying what to install, when `psql` (the COPY reference) is missing.
pub fn check_psql() -> anyhow::Result<()> {
    match Command::new("psql").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => bail!(
            "psql is not installed: the SQL import reference needs it (Debian package \
             postgresql-client, which postgresql pulls in: `sudo apt-get install -y postgresql`)"
        ),
    }
}

/// The reference for a full import: `psql` copies every row the connector reads (all
/// columns, in anchor order) to /dev/null, with nothing decoded or stored. Returns the
/// wall time, including psql's start and connection as Ferry's figure includes its
/// session's.
pub fn copy_to_dev_null(postgres: &TempPostgres, database: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["-p", &postgres.port().to_string(), "-d", database])
        .args(["-c", "COPY (SELECT * FROM users ORDER BY id) TO STDOUT"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run psql")?;
    let took = started.elapsed();
    if !output.status.success() {
        bail!(
            "psql COPY failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(took)
}

/// The columns a SCIM create with the bench's user body fills, in the order
/// [`insert_natively`] binds them.
const INSERT: &str = "INSERT INTO users (user_name, external_id, active, display_name, \
    given_name, family_name, email) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// The reference for SCIM creates: the same rows inserted by `concurrency` native
/// connections, each with a prepared INSERT … RETURNING, one statement per user as
/// Ferry's synchronous exports are. Returns the wall time of the inserts alone.
pub async fn insert_natively(
    url: &str,
    users: &[crate::create::User],
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let client = connect(url).await?;
        let statement = client.prepare(INSERT).await?;
        clients.push((client, statement));
    }
    let users = std::sync::Arc::new(users.to_vec());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (worker, (client, statement)) in clients.into_iter().enumerate() {
        let users = users.clone();
        tasks.spawn(async move {
            for user in crate::create::share(users.as_slice(), worker, concurrency) {
                client
                    .query_one(
                        &statement,
                        &[
                            &user.user_name,
                            &user.external_id,
                            &true,
                            &user.display_name,
                            &user.given_name,
                            &user.family_name,
                            &user.email,
                        ],
                    )
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed())
}
