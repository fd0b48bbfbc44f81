//! The cache's one write connection, with group commit: writes that arrive while another
//! group is being written wait in a queue, and the next group runs them all in one
//! transaction. Each write still succeeds or fails alone (it runs in a savepoint of its
//! own), and none is reported done before the commit that holds it.
//!
//! A commit is what a write costs most: SQLite appends every page the transaction
//! changed to the WAL. Writes that arrive together, each committed alone, write the same
//! few hot pages (the newest leaf of the objects table, the lookup pages) once each;
//! grouped, once in all. Measured on 20,000 single-object upserts through the cache at
//! concurrency 8: 8–9% more writes per second. SCIM creates end to end gained nothing
//! measurable on 2 cores, where the commit is not what they wait for.
//!
//! A [`Weight::Small`] write (one exported object, a state value) that finds the
//! connection free runs right on the calling task instead: handing it to a blocking-pool
//! thread (30–35 µs) and waking the caller back up (53–64 µs) cost more than half of
//! what the write itself took (120–160 µs), in a SCIM create of 760 µs (timed per step,
//! `scim-create-sql` at concurrency 1).
//! So that no write ever waits for a checkpoint (tens to hundreds of milliseconds with
//! its syncs), the write connection never checkpoints: the commit that grows the WAL
//! past [`Writer::new`]'s limit has a second connection checkpoint it, on the blocking
//! pool, while writes go on (SQLite's PASSIVE checkpoint copies what was committed
//! before it started and never blocks a writer). Timed in a 100,000-row `sql-import`,
//! the batch whose commit was followed by a checkpoint on the write connection waited
//! about 160 ms longer than the others.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

use anyhow::Context;
use rusqlite::Connection;
use rusqlite::hooks::Wal;

/// What a write does once its group's commit is known: tells its caller.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A queued write: runs on the connection, inside the group's transaction, in a
/// savepoint of its own when the group has others (`true`); gives back what to do once
/// the commit is known, and whether the write succeeded.
type Job = Box<dyn FnOnce(&Connection, bool) -> (Done, bool) + Send>;

/// How much a write does, which decides where it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    /// A few rows (one exported object, a state value): tens of microseconds, cheaper
    /// to run on the calling task than to hand to another thread.
    Small,
    /// Anything that may touch many rows (an import batch, a group's members): always on
    /// the blocking pool, so no runtime thread stalls on it.
    Bulk,
}

impl Weight {
    /// The weight of a write of `values` attribute values (members included).
    pub fn of_values(values: usize) -> Self {
        if values <= SMALL_VALUES {
            Self::Small
        } else {
            Self::Bulk
        }
    }
}

/// The most attribute values a [`Weight::Small`] write holds.
const SMALL_VALUES: usize = 256;

thread_local! {
    /// The WAL's length in frames after the last commit on this thread, as SQLite's WAL
    /// hook reports it (the hook is a plain function: it cannot capture the writer).
    static WAL_FRAMES: Cell<i32> = const { Cell::new(0) };
}

/// The write connection and the writes waiting for it.
pub struct Writer {
    connection: Mutex<Connection>,
    queue: Mutex<Vec<Job>>,
    /// A second connection to the same file: checkpoints run on it.
    checkpointer: Mutex<Connection>,
    checkpoint_frames: i32,
    /// Whether a checkpoint waits to start: the commits past the limit meanwhile queue no
    /// other (it copies what they wrote).
    checkpoint_queued: AtomicBool,
    /// Checkpoints run so far, for the log (and for tests to wait on).
    checkpoints: AtomicU64,
}

impl Writer {
    /// Takes over the connection every write goes through, and a second one to the same
    /// file that checkpoints the WAL, on the blocking pool, once it holds
    /// `checkpoint_frames` frames (pages).
    pub fn new(
        connection: Connection,
        checkpointer: Connection,
        checkpoint_frames: i32,
    ) -> Arc<Self> {
        // Replaces SQLite's own checkpoint on commit (`wal_autocheckpoint` is a WAL hook).
        connection.wal_hook(Some(note_wal_frames));
        Arc::new(Self {
            connection: Mutex::new(connection),
            queue: Mutex::new(Vec::new()),
            checkpointer: Mutex::new(checkpointer),
            checkpoint_frames,
            checkpoint_queued: AtomicBool::new(false),
            checkpoints: AtomicU64::new(0),
        })
    }

    /// Runs `f` in a transaction, alone or with the writes queued beside it, and returns
    /// its result once that transaction is committed. An error from `f` undoes only what
    /// `f` wrote. A [`Weight::Small`] write that finds the connection free runs here, on
    /// the calling task; any other waits its turn on the blocking pool.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        weight: Weight,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (send, receive) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |c, shared| {
            let result = if shared { in_savepoint(c, f) } else { f(c) };
            let ok = result.is_ok();
            let done: Done = Box::new(move |committed| {
                let _ = send.send(match committed {
                    Err(e) if ok => Err(anyhow::anyhow!("committing to the cache: {e}")),
                    _ => result,
                });
            });
            (done, ok)
        });
        match (weight, self.free_connection()) {
            (Weight::Small, Some(connection)) => {
                let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    write_jobs(&connection, vec![job])
                }));
                drop(connection);
                if written.is_ok_and(|frames| self.queue_checkpoint(frames)) {
                    let writer = self.clone();
                    tokio::task::spawn_blocking(move || writer.checkpoint());
                }
            }
            _ => {
                lock(&self.queue).push(job);
                let writer = self.clone();
                tokio::task::spawn_blocking(move || writer.write_group());
            }
        }
        receive
            .await
            .context("the cache writer stopped before finishing the write")?
    }

    /// The connection, when no one holds it.
    fn free_connection(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        match self.connection.try_lock() {
            Ok(connection) => Some(connection),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Writes every queued job in one transaction (nothing, when an earlier group took
    /// them all while this one waited for the connection), and checkpoints when that
    /// grew the WAL past its limit.
    fn write_group(&self) {
        let connection = lock(&self.connection);
        let jobs = std::mem::take(&mut *lock(&self.queue));
        if jobs.is_empty() {
            return;
        }
        let frames = write_jobs(&connection, jobs);
        drop(connection);
        // This thread is free for it: the group's callers have their answers.
        if self.queue_checkpoint(frames) {
            self.checkpoint();
        }
    }

    /// Whether a commit that left `frames` in the WAL should start a checkpoint (none is
    /// waiting to start already); marks one as waiting if so.
    fn queue_checkpoint(&self, frames: i32) -> bool {
        frames >= self.checkpoint_frames && !self.checkpoint_queued.swap(true, Ordering::SeqCst)
    }

    /// Copies the WAL into the database file, as far as no reader still needs it, without
    /// waiting for anyone (SQLite's own checkpoint on commit does the same). The WAL
    /// restarts at the next write once it is all copied.
    fn checkpoint(&self) {
        let connection = lock(&self.checkpointer);
        // From here on, a commit past the limit queues the next checkpoint: this one may
        // not copy what it writes.
        self.checkpoint_queued.store(false, Ordering::SeqCst);
        match connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            Ok(()) => {
                let checkpoints = self.checkpoints.fetch_add(1, Ordering::SeqCst) + 1;
                tracing::debug!(checkpoints, "checkpointed the cache's WAL");
            }
            Err(e) => tracing::warn!(
                "checkpointing the cache's WAL failed (retried at the next commit): {e}"
            ),
        }
    }
}

/// SQLite's WAL hook: notes the WAL's length after a commit.
fn note_wal_frames(_: &Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(frames));
    Ok(())
}

/// Writes `jobs` in one transaction and tells each how it ended; returns the WAL's
/// length in frames afterwards.
fn write_jobs(connection: &Connection, jobs: Vec<Job>) -> i32 {
    WAL_FRAMES.with(|f| f.set(0));
    // A job that panicked left its group's transaction open; nothing of it was
    // reported done.
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    // A job alone needs no savepoint: its failure rolls the transaction back. (And
    // without the outer transaction, each job's savepoint commits on its own.)
    let grouped = connection.execute_batch("BEGIN").is_ok();
    let shared = jobs.len() > 1 || !grouped;
    let mut failed = false;
    let done: Vec<Done> = jobs
        .into_iter()
        .map(|job| {
            let (tell, ok) = job(connection, shared);
            failed |= !ok;
            tell
        })
        .collect();
    let committed = if !grouped {
        Ok(())
    } else if failed && !shared {
        connection
            .execute_batch("ROLLBACK")
            .map_err(|e| e.to_string())
    } else {
        connection.execute_batch("COMMIT").map_err(|e| {
            let _ = connection.execute_batch("ROLLBACK");
            e.to_string()
        })
    };
    for tell in done {
        tell(committed.clone());
    }
    WAL_FRAMES.with(Cell::get)
}

/// Runs `f` in a savepoint: kept when it succeeds, undone when it fails.
fn in_savepoint<T>(
    c: &Connection,
    f: impl FnOnce(&Connection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    c.execute_batch("SAVEPOINT write")?;
    let result = f(c);
    let end = if result.is_ok() {
        "RELEASE write"
    } else {
        "ROLLBACK TO write; RELEASE write"
    };
    c.execute_batch(end)?;
    result
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a new file in `dir` with one table `t`, checkpointing at
    /// `checkpoint_frames`.
    fn writer_in(dir: &std::path::Path, checkpoint_frames: i32) -> Arc<Writer> {
        let path = dir.join("w.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY);")
            .unwrap();
        Writer::new(c, Connection::open(&path).unwrap(), checkpoint_frames)
    }

    fn writer() -> (tempfile::TempDir, Arc<Writer>) {
        let dir = tempfile::tempdir().unwrap();
        let w = writer_in(dir.path(), i32::MAX);
        (dir, w)
    }

    fn rows(w: &Writer) -> Vec<String> {
        let c = lock(&w.connection);
        let mut stmt = c.prepare("SELECT k FROM t ORDER BY k").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_each_succeed_or_fail_alone() {
        let (_dir, w) = writer();
        let writes = (0..32).map(|i| {
            let w = w.clone();
            // Half run on the calling task when the connection is free, half never do.
            let weight = if i % 2 == 0 {
                Weight::Small
            } else {
                Weight::Bulk
            };
            tokio::spawn(async move {
                w.run(weight, move |c| {
                    c.execute("INSERT INTO t (k) VALUES (?1)", [format!("k{i:02}")])?;
                    if i % 4 == 0 {
                        anyhow::bail!("write {i} fails after inserting");
                    }
                    Ok(i)
                })
                .await
            })
        });
        let results: Vec<_> = futures_util::future::join_all(writes).await;
        for (i, result) in results.into_iter().enumerate() {
            match result.unwrap() {
                Ok(n) => assert_eq!(n, i),
                Err(e) => {
                    assert_eq!(i % 4, 0, "{e}");
                    assert!(e.to_string().contains("fails after inserting"), "{e}");
                }
            }
        }
        let expected: Vec<String> = (0..32)
            .filter(|i| i % 4 != 0)
            .map(|i| format!("k{i:02}"))
            .collect();
        assert_eq!(rows(&w), expected);
    }

    #[tokio::test]
    async fn a_write_is_visible_to_other_connections_when_it_returns() {
        let (dir, w) = writer();
        w.run(Weight::Small, |c| {
            Ok(c.execute("INSERT INTO t (k) VALUES ('a')", [])?)
        })
        .await
        .unwrap();
        let reader = Connection::open(dir.path().join("w.db")).unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test]
    async fn a_failing_write_alone_leaves_nothing_behind() {
        let (_dir, w) = writer();
        let failed = w
            .run(Weight::Small, |c| -> anyhow::Result<()> {
                c.execute("INSERT INTO t (k) VALUES ('half')", [])?;
                anyhow::bail!("the second statement fails")
            })
            .await
            .unwrap_err();
        assert!(failed.to_string().contains("second statement"), "{failed}");
        w.run(Weight::Small, |c| {
            Ok(c.execute("INSERT INTO t (k) VALUES ('next')", [])?)
        })
        .await
        .unwrap();
        assert_eq!(rows(&w), ["next"]);
    }

    #[tokio::test]
    async fn a_panicking_write_leaves_the_writer_usable() {
        // A small write runs on this task, a bulk one on the blocking pool.
        for weight in [Weight::Small, Weight::Bulk] {
            let (_dir, w) = writer();
            let failed = w
                .run(weight, |c| -> anyhow::Result<()> {
                    c.execute("INSERT INTO t (k) VALUES ('lost')", [])?;
                    panic!("a bug in a write");
                })
                .await;
            assert!(failed.is_err(), "{weight:?}");
            w.run(weight, |c| {
                Ok(c.execute("INSERT INTO t (k) VALUES ('kept')", [])?)
            })
            .await
            .unwrap();
            assert_eq!(rows(&w), ["kept"], "{weight:?}");
        }
    }

    /// Waits until `w` has run `checkpoints` checkpoints (they run on the blocking pool
    /// after the write that called for them has returned).
    async fn checkpointed(w: &Writer, checkpoints: u64) {
        for _ in 0..1_000 {
            if w.checkpoints.load(Ordering::SeqCst) >= checkpoints {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no checkpoint number {checkpoints} within 10 s");
    }

    /// The WAL file's length after 20 writes of `weight`, one after the other, on a
    /// writer that checkpoints at `checkpoint_frames`, each write's checkpoint (if it
    /// calls for one) finished before the next write.
    async fn wal_bytes_after_writes(weight: Weight, checkpoint_frames: i32) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let w = writer_in(dir.path(), checkpoint_frames);
        let checkpointing = checkpoint_frames == 1;
        for i in 0..20 {
            w.run(weight, move |c| {
                Ok(c.execute("INSERT INTO t (k) VALUES (?1)", [format!("k{i:02}")])?)
            })
            .await
            .unwrap();
            if checkpointing {
                checkpointed(&w, i + 1).await;
            }
        }
        let checkpoints = w.checkpoints.load(Ordering::SeqCst);
        assert_eq!(checkpoints, if checkpointing { 20 } else { 0 });
        std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_checkpoint_the_wal_past_its_limit_and_only_then() {
        for weight in [Weight::Small, Weight::Bulk] {
            // Each write appends at least one 4 KiB page to the WAL.
            let never = wal_bytes_after_writes(weight, i32::MAX).await;
            assert!(
                never >= 20 * 4096,
                "{weight:?}: without checkpoints the WAL grows: {never}"
            );
            let every = wal_bytes_after_writes(weight, 1).await;
            assert!(
                every < never / 2,
                "{weight:?}: checkpointed after every commit, the WAL restarts: {every} bytes \
                 against {never}"
            );
        }
    }

    // Holding the checkpointer's lock across the writes is the point: a checkpoint that
    // cannot finish.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_go_on_while_a_checkpoint_runs() {
        for weight in [Weight::Small, Weight::Bulk] {
            let dir = tempfile::tempdir().unwrap();
            let w = writer_in(dir.path(), 1);
            // A checkpoint that cannot finish: it waits for its connection.
            let held = lock(&w.checkpointer);
            for i in 0..3 {
                let write = w.run(weight, move |c| {
                    Ok(c.execute("INSERT INTO t (k) VALUES (?1)", [format!("k{i}")])?)
                });
                tokio::time::timeout(std::time::Duration::from_secs(10), write)
                    .await
                    .expect("a write waited for the checkpoint")
                    .unwrap();
            }
            assert_eq!(rows(&w), ["k0", "k1", "k2"], "{weight:?}");
            drop(held);
            // The three commits past the limit queued one checkpoint, not three.
            checkpointed(&w, 1).await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            assert_eq!(w.checkpoints.load(Ordering::SeqCst), 1, "{weight:?}");
        }
    }
}
