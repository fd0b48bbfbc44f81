//! The cache of what an app's target holds (ECMA's "connector space"), persisted in an
//! embedded SQLite file in the data folder so that a restart serves reads at once.
//!
//! Objects are stored as the connector returned them (secret attributes left out, encoded
//! as [`attributes`] describes), keyed by object type and anchor. Values of the attributes
//! an IdP matches on are kept in a lookup table (lower-cased), so `userName eq "x"` is an
//! index probe, not a scan.
//!
//! Full imports mark every object they see with a new generation and, when complete,
//! delete the objects of older generations: objects removed from the target disappear
//! without the cache ever being empty in between.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use time::OffsetDateTime;

use super::anchors::{self, Anchors};
use super::attributes;
use super::members::{self, Belonging, Member, Membership};
use super::writer::{Weight, Writer};
use crate::runtime::bindings::types::{Attribute, AttributeChange, Object, ObjectRef, Value};

/// The longest prefix of a value kept in the lookup table. Longer values still match:
/// the probe is cut the same way and the filter is evaluated on the full object.
const LOOKUP_PREFIX_CHARS: usize = 256;

/// The objects with a lookup value. CROSS JOIN fixes the join order: the index probe on
/// `lookups` first, then each object by its key. With a plain JOIN, SQLite (which keeps no
/// statistics here) may walk every object in anchor order instead: measured 22 ms against
/// 0.06 ms for one probe among 20,000 users.
const FIND: &str = "SELECT o.anchor, o.attributes, o.created, o.modified FROM lookups l \
     CROSS JOIN objects o ON o.object_type = ?1 AND o.anchor = l.anchor \
     WHERE l.kind = ?2 AND l.value = ?3 ORDER BY l.anchor";

/// The state key holding the indexed (object type, attribute) pairs the lookups were
/// written for, in order: a pair's position is its lookups' `kind`.
const KINDS_KEY: &str = "lookup-kinds";

/// The state key recording when a full import last completed.
const COMPLETED: &str = "full-import-completed";

/// The writer's page cache, as SQLite's `cache_size` takes it (negative: KiB): 64 MiB.
const WRITER_CACHE_KIB: i64 = -65_536;

/// How large the WAL grows before it is copied into the file: 64 MiB (SQLite's default
/// is 1,000 pages, 8 MiB here). Each checkpoint writes every page the WAL holds and
/// syncs; checkpointing less often lets a page an import changes in several batches
/// reach the file once. The WAL is cut back to this size afterwards.
const WAL_CHECKPOINT_BYTES: i64 = 64 << 20;

/// The page size [`SCHEMA`] gives a new cache file.
const PAGE_BYTES: i64 = 8192;

/// [`WAL_CHECKPOINT_BYTES`] in WAL frames (one page each).
const CHECKPOINT_FRAMES: i32 = (WAL_CHECKPOINT_BYTES / PAGE_BYTES) as i32;

/// SQLite's "unix-excl" VFS: the process holds an exclusive lock on the cache file, so
/// no second Ferry can write the same cache, and the WAL index lives in the heap: a read
/// transaction takes its locks in memory instead of two `fcntl` calls on the `-shm`
/// file, which perf showed among the costs of every cached read.
const VFS: &str = "unix-excl";

/// Read connections: SQLite in WAL mode serves readers in parallel with the writer.
const READERS: usize = 4;

/// Each reader's page cache, as SQLite's `cache_size` takes it (negative: KiB): 32 MiB,
/// filled only as pages are read. With SQLite's default 2 MB, the inner pages of the
/// lookup and object B-trees of 1M users (about 2.4 MB) did not stay cached. Measured
/// on `cached-read` with 1M users, 4 alternating runs each: Ferry/hyper at concurrency
/// 8 rose from 0.477 to 0.499 (HTTP) and 0.484 to 0.513 (HTTPS); concurrency 1 did not
/// change. It costs up to 4 × 32 MiB of memory on a server that reads a large cache.
const READER_CACHE_KIB: i64 = -32_768;

/// One cached object with the times Ferry first and last saw it change.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedObject {
    /// The object as the connector reported it.
    pub object: Object,
    /// When the cache first held it.
    pub created: OffsetDateTime,
    /// When its attributes last changed in the cache.
    pub modified: OffsetDateTime,
}

/// The cache of one app.
pub struct Cache {
    writer: Arc<Writer>,
    readers: Arc<Vec<Mutex<Connection>>>,
    /// Which reader a read waits for when none is free (see [`Cache::reader`]).
    next_reader: AtomicUsize,
    indexed: Arc<BTreeSet<(String, String)>>,
    memberships: Arc<BTreeSet<Membership>>,
    write_generation: Arc<AtomicI64>,
    anchors: Arc<Anchors>,
    /// Whether a full import ever completed: asked on every SCIM read, so kept in
    /// memory (it only ever turns true while the cache is open).
    complete: Arc<AtomicBool>,
    /// The file, to name the app in warnings.
    path: std::path::PathBuf,
    /// The (object type, attribute) pairs whose scans were reported (see
    /// [`Cache::report_scan`]).
    scans_reported: Mutex<BTreeSet<(String, String)>>,
}

/// Objects a filter must scan before Ferry warns that a lookup would answer it: below
/// this, a scan costs about as much as an index probe does.
pub const SCAN_WARNING_OBJECTS: usize = 10_000;

/// The normalised form of a value in the lookup table; `None` for values never matched
/// by text (binary).
pub fn lookup_key(value: &Value) -> Option<String> {
    let mut text = match value {
        Value::String(s) | Value::Reference(s) => s.to_lowercase(),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(_) | Value::Binary(_) => return None,
    };
    let kept = lookup_prefix(&text).len();
    text.truncate(kept);
    Some(text)
}

/// The part of a lower-cased key or probe the lookup table keeps: its first
/// [`LOOKUP_PREFIX_CHARS`] characters. Borrowed, so neither a stored key nor a probe is
/// copied to cut it.
pub fn lookup_prefix(text: &str) -> &str {
    // No character is shorter than a byte: most keys need no counting.
    if text.len() <= LOOKUP_PREFIX_CHARS {
        return text;
    }
    match text.char_indices().nth(LOOKUP_PREFIX_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The schema. A new cache file gets 8 KiB pages (SQLite's default is 4 KiB; a file keeps
/// the size it was made with). Larger pages hold more of the objects stored whole in
/// the table's B-tree, so imports split and rebalance fewer pages; but every commit
/// writes each page it changed whole, so single writes pay for them. Measured on a
/// 100,000-row `sql-import` and 20,000 single-object upserts at concurrency 8 (2 cores):
/// 4 KiB 1.66 s and 15,000 writes/s; 8 KiB 1.49 s and 12,000/s; 16 KiB 1.30 s and
/// 8,000/s.
const SCHEMA: &str = "
PRAGMA page_size = 8192;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS objects (
    object_type TEXT NOT NULL,
    anchor TEXT NOT NULL,
    attributes BLOB NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (object_type, anchor)
) WITHOUT ROWID;
-- `kind` is the position of the (object type, attribute) pair in the cache's indexed
-- pairs (see `KINDS_KEY`): one integer instead of two strings in every row and every
-- key compare. Inserting 300,000 sorted rows took 1.97 µs a row with the two strings,
-- 1.6 µs with an integer.
CREATE TABLE IF NOT EXISTS lookups (
    kind INTEGER NOT NULL,
    value TEXT NOT NULL,
    anchor TEXT NOT NULL,
    PRIMARY KEY (kind, value, anchor)
) WITHOUT ROWID;
-- The lookups of earlier versions, which spelt the pair out: rebuilt as `lookups` from
-- the objects when the cache opens (see `Cache::open`).
DROP TABLE IF EXISTS lookup;
-- Indexes of earlier versions: each cost every import and every write a B-tree update
-- (see `delete_lookups` and `Cache::finish_full_import` for what replaced them).
DROP INDEX IF EXISTS objects_generation;
DROP INDEX IF EXISTS lookup_anchor;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

fn now_nanos() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn from_nanos(nanos: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(nanos.into()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Cache {
    /// Opens (or creates) the cache file. `indexed` lists the (object type, attribute)
    /// pairs to keep lookups for; when it differs from the last run, the lookup table is
    /// rebuilt from the stored objects. `memberships` lists the attributes whose values
    /// are kept one row per member (see [`members`]); when it differs from the last run,
    /// the stored objects no longer fit it and the cache starts empty, to be filled by a
    /// full import.
    pub fn open(
        path: &Path,
        indexed: BTreeSet<(String, String)>,
        memberships: BTreeSet<Membership>,
    ) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let open = || -> anyhow::Result<Connection> {
            let c = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), VFS)
                .with_context(|| format!("opening the cache {}", path.display()))?;
            c.busy_timeout(std::time::Duration::from_secs(30))?;
            c.execute_batch(SCHEMA)
                .and_then(|()| c.execute_batch(members::SCHEMA))
                .and_then(|()| c.execute_batch(anchors::SCHEMA))
                .context("preparing the cache tables")?;
            Ok(c)
        };
        let writer = open()?;
        // Imports write every object and its lookups through this one connection; with
        // SQLite's default 2 MiB page cache the indexes of 100,000 users no longer fit,
        // and every insert reads pages back from the file.
        writer.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        writer.pragma_update(None, "journal_size_limit", WAL_CHECKPOINT_BYTES)?;
        let generation: i64 = read_state(&writer, "generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        let memberships_text = serde_json::to_string(&memberships)?;
        // A cache written before memberships existed kept none: it fits an app without
        // groups as it is, so upgrading does not throw it away.
        let stored = read_state(&writer, "memberships")?;
        if stored.as_deref().unwrap_or("[]") != memberships_text {
            forget_objects(&writer)?;
        }
        if stored.as_deref() != Some(memberships_text.as_str()) {
            write_state(&writer, "memberships", &memberships_text)?;
        }
        settle_format(&writer, path)?;
        let indexed_text = serde_json::to_string(&indexed)?;
        if read_state(&writer, KINDS_KEY)?.as_deref() != Some(indexed_text.as_str()) {
            rebuild_lookup(&writer, &indexed)?;
            write_state(&writer, KINDS_KEY, &indexed_text)?;
            // What earlier versions recorded their lookups under (a cache from before
            // kinds has no `KINDS_KEY`, so it comes here).
            writer.execute("DELETE FROM state WHERE key = 'indexed'", [])?;
        }
        let anchors = Anchors::load(&writer).context("reading the moved anchors")?;
        let complete = read_state(&writer, COMPLETED)?.is_some();
        let readers = (0..READERS)
            .map(|_| {
                let reader = open()?;
                reader.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
                Ok(Mutex::new(reader))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            writer: Writer::new(writer, open()?, CHECKPOINT_FRAMES),
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
            indexed: Arc::new(indexed),
            memberships: Arc::new(memberships),
            write_generation: Arc::new(AtomicI64::new(generation)),
            anchors: Arc::new(anchors),
            complete: Arc::new(AtomicBool::new(complete)),
            path: path.to_path_buf(),
            scans_reported: Mutex::new(BTreeSet::new()),
        })
    }

    /// Warns, once per attribute while the cache is open, that a filter requiring an
    /// equality on `attribute` (SCIM path `scim_path`) had to scan `scanned` objects
    /// because no lookup covers it; returns whether it warned. The lookup defaults cover
    /// what IdPs match on; an operator whose IdP matches on something else learns here
    /// which `lookups` entry would answer it from an index.
    pub fn report_scan(
        &self,
        object_type: &str,
        attribute: &str,
        scim_path: &str,
        scanned: usize,
    ) -> bool {
        if scanned < SCAN_WARNING_OBJECTS {
            return false;
        }
        let first = self
            .scans_reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((object_type.to_owned(), attribute.to_owned()));
        if first {
            tracing::warn!(
                cache = %self.path.display(),
                object_type,
                attribute,
                scanned,
                "a filter on '{scim_path}' scanned every cached {object_type}: no lookup \
                 covers it; add \"{scim_path}\" to the app's `lookups` (in [apps.NAME.users] \
                 or [apps.NAME.groups]) to answer it from an index"
            );
        }
        first
    }

    /// Runs `f` on a reader connection (see [`Cache::reader`]), right here on the
    /// calling task. A read is one index probe or a bounded batch ([`Cache::scan`]): tens
    /// of microseconds, less than handing it to another thread (`spawn_blocking`,
    /// `block_in_place`) and waking back up costs, which perf showed dominating the SCIM
    /// read path.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        f(&self.reader())
    }

    /// The first reader connection that is free, or, when every one is busy, the next in
    /// turn once it is (a caller waits for a connection as it would for a blocking-pool
    /// thread).
    ///
    /// The first free one, not the next in turn: SQLite empties a connection's page cache
    /// when its next read finds the database changed since its last one, so every write
    /// costs each reader that is used afterwards a refill. Reads kept on as few readers
    /// as the load needs refill fewer caches. Timed over the cache alone, release build
    /// (100,000 users; one object stored after every fourth lookup by `userName`, 2 ×
    /// 4,000 lookups per run): 19.0–25.2 µs per lookup with the readers taken in turn (2
    /// runs), 13.3–17.5 µs with the first free one (3 runs); without writes 3.9–4.5
    /// against 3.7–3.8 µs.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in self.readers.iter() {
            match reader.try_lock() {
                Ok(conn) => return conn,
                Err(TryLockError::Poisoned(e)) => return e.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a transaction on the write connection, grouped with the writes
    /// arriving beside it, or on this task when it is small and the connection is free
    /// (see [`Writer`]).
    async fn write<T: Send + 'static>(
        &self,
        weight: Weight,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.writer.run(weight, f).await
    }

    /// The object with this anchor.
    pub async fn get(
        &self,
        object_type: &str,
        anchor: &str,
    ) -> anyhow::Result<Option<CachedObject>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT anchor, attributes, created, modified FROM objects WHERE object_type = ?1 AND anchor = ?2",
            )?
            .query_row(params![object_type, anchor], |row| {
                row_to_object(object_type, row)
            })
            .optional()?
            .transpose()
        })
    }

    /// Whether lookups are kept for this attribute.
    pub fn is_indexed(&self, object_type: &str, attribute: &str) -> bool {
        kind(&self.indexed, object_type, attribute).is_some()
    }

    /// The objects whose `attribute` has a value whose lookup key is `key` (see
    /// [`lookup_key`]); a superset of the exact matches when values are long.
    pub async fn find(
        &self,
        object_type: &str,
        attribute: &str,
        key: &str,
    ) -> anyhow::Result<Vec<CachedObject>> {
        let Some(kind) = kind(&self.indexed, object_type, attribute) else {
            return Ok(Vec::new());
        };
        let key = lookup_prefix(key);
        self.read(|c| query_objects(c, FIND, params![object_type, kind, key], object_type))
    }

    /// Up to `limit` objects of a type in anchor order, after `after` (for scans in
    /// batches).
    pub async fn scan(
        &self,
        object_type: &str,
        after: Option<String>,
        limit: usize,
    ) -> anyhow::Result<Vec<CachedObject>> {
        self.read(|c| {
            query_objects(
                c,
                "SELECT anchor, attributes, created, modified FROM objects \
                 WHERE object_type = ?1 AND anchor > ?2 ORDER BY anchor LIMIT ?3",
                params![object_type, after.unwrap_or_default(), limit as i64],
                object_type,
            )
        })
    }

    /// Up to `limit` objects of a type in anchor order, skipping the first `offset` (a
    /// page of an unfiltered list).
    pub async fn page(
        &self,
        object_type: &str,
        offset: usize,
        limit: usize,
    ) -> anyhow::Result<Vec<CachedObject>> {
        self.read(|c| {
            query_objects(
                c,
                "SELECT anchor, attributes, created, modified FROM objects \
                 WHERE object_type = ?1 ORDER BY anchor LIMIT ?2 OFFSET ?3",
                params![object_type, limit as i64, offset as i64],
                object_type,
            )
        })
    }

    /// How many objects of a type are cached.
    pub async fn count(&self, object_type: &str) -> anyhow::Result<u64> {
        self.read(|c| {
            let n: i64 = c.query_row(
                "SELECT count(*) FROM objects WHERE object_type = ?1",
                [object_type],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    /// Stores complete objects (new or changed), in one transaction: their membership
    /// attributes replace the members stored before. Objects are written in key order and
    /// their lookups after them, sorted: a batch then walks each B-tree once from left to
    /// right instead of hopping between pages, which matters once the cache outgrows the
    /// page cache (see [`write_lookups`]).
    pub async fn upsert(&self, objects: Vec<Object>) -> anyhow::Result<()> {
        self.write_objects(objects, |_, _| Ok(())).await
    }

    /// Stores one object an export confirmed, as [`Cache::upsert`] does, and gives it
    /// back as the cache now holds it (its memberships kept apart, its timestamps), so
    /// the SCIM answer needs no second read of what was just written.
    pub async fn store(&self, object: Object) -> anyhow::Result<CachedObject> {
        self.write_objects(vec![object], |c, mut kept| {
            stamped(c, kept.pop().context("the stored object")?)
        })
        .await
    }

    /// Writes `objects` as [`Cache::upsert`] describes, then hands them, as the objects
    /// table now holds them (member lists apart), in key order, to `finish`, within the
    /// same transaction.
    async fn write_objects<T: Send + 'static>(
        &self,
        mut objects: Vec<Object>,
        finish: impl FnOnce(&Connection, Vec<Object>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        // A batch may list one object twice (a delta page with two changes of it): only
        // the later version is written, or the lookups of both would be.
        objects.reverse();
        // Stable: of two versions of one object, the later (now first) stays first.
        objects.sort_by(|a, b| (&a.object_type, &a.anchor).cmp(&(&b.object_type, &b.anchor)));
        objects.dedup_by(|a, b| a.object_type == b.object_type && a.anchor == b.anchor);
        let (indexed, memberships) = (self.indexed.clone(), self.memberships.clone());
        let generation = self.write_generation.load(Ordering::SeqCst);
        let fresh = !self.is_complete();
        let weight = self.weight(&objects, &[]);
        self.write(weight, move |c| {
            let now = now_nanos();
            let mut kept = Vec::with_capacity(objects.len());
            for object in objects {
                kept.push(upsert_with_members(
                    c,
                    object,
                    &memberships,
                    &indexed,
                    generation,
                    now,
                    fresh,
                )?);
            }
            write_lookups(
                c,
                kept.iter().filter(|(_, relook)| *relook).map(|(o, _)| o),
                &indexed,
            )?;
            finish(c, kept.into_iter().map(|(o, _)| o).collect())
        })
        .await
    }

    /// Stores an object changed by an export, in one transaction: `object` holds its
    /// attributes other than memberships, and `changes` are the edits to its membership
    /// attributes, applied member by member (the lists are neither read nor rewritten).
    /// Gives the object back as the cache now holds it.
    pub async fn update(
        &self,
        object: Object,
        changes: Vec<AttributeChange>,
    ) -> anyhow::Result<CachedObject> {
        let (indexed, memberships) = (self.indexed.clone(), self.memberships.clone());
        let generation = self.write_generation.load(Ordering::SeqCst);
        let weight = self.weight(std::slice::from_ref(&object), &changes);
        self.write(weight, move |c| {
            let (kept, _) = members::split(object, &memberships);
            if upsert_one(c, &kept, &indexed, generation, now_nanos(), false)? {
                write_lookups(c, std::slice::from_ref(&kept), &indexed)?;
            }
            for change in &changes {
                let name = change.name();
                let Some(membership) = members::find(&memberships, &kept.object_type, name) else {
                    anyhow::bail!("'{name}' is not a membership attribute");
                };
                let anchors: Vec<String> = change
                    .values()
                    .iter()
                    .filter_map(members::reference)
                    .collect();
                match change {
                    AttributeChange::Clear(_) | AttributeChange::Replace(_) => {
                        members::replace(c, membership, &kept.anchor, &anchors)?
                    }
                    AttributeChange::AddValues(_) => {
                        members::add(c, membership, &kept.anchor, &anchors)?
                    }
                    AttributeChange::RemoveValues(_) => {
                        members::remove(c, membership, &kept.anchor, &anchors)?
                    }
                }
            }
            stamped(c, kept)
        })
        .await
    }

    /// What writing `objects` and the membership `changes` costs: bulk when it may
    /// replace a member list (the rows it deletes are not counted here) or holds many
    /// values.
    fn weight(&self, objects: &[Object], changes: &[AttributeChange]) -> Weight {
        let replaces_members = objects.iter().any(|o| {
            o.attributes
                .iter()
                .any(|a| self.is_membership(&o.object_type, &a.name))
        }) || changes
            .iter()
            .any(|c| matches!(c, AttributeChange::Clear(_) | AttributeChange::Replace(_)));
        if replaces_members {
            return Weight::Bulk;
        }
        let values = objects
            .iter()
            .flat_map(|o| &o.attributes)
            .map(|a| a.values.len())
            .chain(changes.iter().map(|c| c.values().len()))
            .sum();
        Weight::of_values(values)
    }

    /// Whether `attribute` of `object_type` is kept one row per member.
    pub fn is_membership(&self, object_type: &str, attribute: &str) -> bool {
        members::find(&self.memberships, object_type, attribute).is_some()
    }

    /// The members listed in `attribute` of one object, in anchor order.
    pub async fn members(
        &self,
        object_type: &str,
        anchor: &str,
        attribute: &str,
    ) -> anyhow::Result<Vec<String>> {
        let kinds = self.member_kinds(object_type, anchor, attribute).await?;
        Ok(kinds.into_iter().map(|member| member.anchor).collect())
    }

    /// The members listed in `attribute` of one object, in anchor order, each marked as
    /// a nested group or not.
    pub async fn member_kinds(
        &self,
        object_type: &str,
        anchor: &str,
        attribute: &str,
    ) -> anyhow::Result<Vec<Member>> {
        let membership = self.membership(object_type, attribute)?;
        self.read(|c| Ok(members::list_kinds(c, membership, anchor)?))
    }

    /// The objects of `object_type` whose `attribute` lists `member`, directly or through
    /// nested groups, in anchor order.
    pub async fn belongings(
        &self,
        object_type: &str,
        attribute: &str,
        member: &str,
    ) -> anyhow::Result<Vec<Belonging>> {
        let membership = self.membership(object_type, attribute)?;
        self.read(|c| Ok(members::belongings(c, membership, member)?))
    }

    /// Whether `attribute` of one object lists `member`.
    pub async fn has_member(
        &self,
        object_type: &str,
        anchor: &str,
        attribute: &str,
        member: &str,
    ) -> anyhow::Result<bool> {
        let membership = self.membership(object_type, attribute)?;
        self.read(|c| Ok(members::contains(c, membership, anchor, member)?))
    }

    /// The anchors of the objects of `object_type` whose `attribute` lists `member`.
    pub async fn groups_of(
        &self,
        object_type: &str,
        attribute: &str,
        member: &str,
    ) -> anyhow::Result<Vec<String>> {
        let membership = self.membership(object_type, attribute)?;
        self.read(|c| Ok(members::groups_of(c, membership, member)?))
    }

    fn membership(&self, object_type: &str, attribute: &str) -> anyhow::Result<&Membership> {
        members::find(&self.memberships, object_type, attribute)
            .with_context(|| format!("'{attribute}' of '{object_type}' is not a membership"))
    }

    /// Removes objects, in one transaction.
    pub async fn delete(&self, refs: Vec<ObjectRef>) -> anyhow::Result<()> {
        let (anchors, memberships) = (self.anchors.clone(), self.memberships.clone());
        let indexed = self.indexed.clone();
        // Deleting a group deletes its member rows, as many as it has.
        self.write(Weight::Bulk, move |c| {
            for r in &refs {
                delete_lookups(c, &r.object_type, &r.anchor, &indexed)?;
                c.execute(
                    "DELETE FROM objects WHERE object_type = ?1 AND anchor = ?2",
                    params![r.object_type, r.anchor],
                )?;
                members::forget(c, &memberships, &r.object_type, &r.anchor)?;
                anchors.forget(c, &r.object_type, &r.anchor)?;
            }
            Ok(())
        })
        .await
    }

    /// Starts a full import: every object stored from now on belongs to a new
    /// generation. Returns it, for [`Cache::finish_full_import`].
    pub async fn begin_full_import(&self) -> anyhow::Result<i64> {
        let generation = self.write_generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.set_state("generation", &generation.to_string())
            .await?;
        Ok(generation)
    }

    /// Completes a full import: objects it did not see (older generations) are removed.
    /// Returns how many. Without an index on generations, this is one pass over the
    /// objects (and one over the lookups) per full import, instead of an index update
    /// for every object every import moves to the new generation.
    pub async fn finish_full_import(&self, generation: i64) -> anyhow::Result<u64> {
        let (anchors, memberships) = (self.anchors.clone(), self.memberships.clone());
        let indexed = self.indexed.clone();
        let removed = self
            .write(Weight::Bulk, move |c| {
                // One pass to learn whether anything is gone (nothing is, after a first
                // import): the deletes take one pass over the objects each.
                let stale: bool = c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE generation < ?1)",
                    [generation],
                    |r| r.get(0),
                )?;
                let removed = if stale {
                    drop_stale(c, &indexed, &memberships, generation)?
                } else {
                    0
                };
                write_state(c, COMPLETED, &now_nanos().to_string())?;
                anchors.prune(c)?;
                Ok(removed)
            })
            .await?;
        self.complete.store(true, Ordering::SeqCst);
        Ok(removed)
    }

    /// The anchors that moved in the target (see [`anchors`]), for translating what
    /// goes to and comes from the connector.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// The host's anchor of an object the target knows as `target`, given a new one when
    /// needed (see [`Anchors::adopt`]).
    pub async fn adopt(&self, object_type: &str, target: &str) -> anyhow::Result<String> {
        if let Some(host) = self.anchors.known_host(object_type, target) {
            return Ok(host);
        }
        let (anchors, t, target) = (
            self.anchors.clone(),
            object_type.to_string(),
            target.to_string(),
        );
        self.write(Weight::Small, move |c| Ok(anchors.adopt(c, &t, &target)?))
            .await
    }

    /// Records that the object the host knows as `host` moved to `target` in the target.
    pub async fn moved(&self, object_type: &str, host: &str, target: &str) -> anyhow::Result<()> {
        let (anchors, t, host, target) = (
            self.anchors.clone(),
            object_type.to_string(),
            host.to_string(),
            target.to_string(),
        );
        self.write(Weight::Small, move |c| {
            Ok(anchors.record(c, &t, &host, &target)?)
        })
        .await
    }

    /// Whether a full import has ever completed, so reads reflect the target.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::SeqCst)
    }

    /// A value Ferry keeps for the app (a watermark, the schema).
    pub async fn state(&self, key: &str) -> anyhow::Result<Option<String>> {
        self.read(|c| read_state(c, key))
    }

    /// Stores a value for the app.
    pub async fn set_state(&self, key: &str, value: &str) -> anyhow::Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(Weight::Small, move |c| write_state(c, &key, &value))
            .await
    }
}

/// Deletes the objects of generations before `generation`, with their lookups and
/// memberships (as groups and as members). Returns how many objects.
fn drop_stale(
    tx: &Connection,
    indexed: &BTreeSet<(String, String)>,
    memberships: &BTreeSet<Membership>,
    generation: i64,
) -> anyhow::Result<u64> {
    let mut lookups = tx.prepare(
        "DELETE FROM lookups WHERE kind = ?1 AND anchor IN \
         (SELECT anchor FROM objects WHERE object_type = ?2 AND generation < ?3)",
    )?;
    for (kind, object_type, _) in kinds(indexed) {
        lookups.execute(params![kind, object_type, generation])?;
    }
    tx.execute(
        "DELETE FROM members WHERE (object_type, anchor) IN \
         (SELECT object_type, anchor FROM objects WHERE generation < ?1) \
         OR (member_type, member) IN \
         (SELECT object_type, anchor FROM objects WHERE generation < ?1)",
        [generation],
    )?;
    members::forget_gone_nested(tx, memberships, generation)?;
    let removed = tx.execute("DELETE FROM objects WHERE generation < ?1", [generation])?;
    Ok(removed as u64)
}

/// Empties the cache of objects, their lookups and members, so that a full import fills
/// it again (the anchors that moved are the target's, and stay).
fn forget_objects(c: &Connection) -> anyhow::Result<()> {
    c.execute_batch(
        "DELETE FROM objects; DELETE FROM lookups; DELETE FROM members; \
         DELETE FROM state WHERE key IN ('full-import-completed', 'lookup-kinds');",
    )?;
    Ok(())
}

/// Brings the stored attributes to [`attributes::FORMAT`]: converts the JSON rows of a
/// cache from before it, and forgets the objects of one written in a format this Ferry
/// does not know (a newer one), to be imported again.
fn settle_format(c: &Connection, path: &Path) -> anyhow::Result<()> {
    match read_state(c, attributes::FORMAT_KEY)?.as_deref() {
        Some(attributes::FORMAT) => return Ok(()),
        None => {
            let converted = attributes::convert_json_rows(c)
                .with_context(|| format!("converting the cache {}", path.display()))?;
            if converted.rows + converted.unreadable > 0 {
                tracing::info!(
                    cache = %path.display(),
                    rows = converted.rows,
                    unreadable = converted.unreadable,
                    "converted the cache's objects to the compact format"
                );
            }
        }
        Some(other) => {
            tracing::warn!(
                cache = %path.display(),
                format = other,
                "the cache holds objects in a format this Ferry does not know; they are \
                 dropped and the next full import fills the cache again"
            );
            forget_objects(c)?;
        }
    }
    write_state(c, attributes::FORMAT_KEY, attributes::FORMAT)
}

fn read_state(c: &Connection, key: &str) -> anyhow::Result<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

fn write_state(c: &Connection, key: &str, value: &str) -> anyhow::Result<()> {
    c.execute(
        "INSERT INTO state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The objects of `object_type` a query returns; it selects anchor, attributes, created
/// and modified, in that order.
fn query_objects(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    object_type: &str,
) -> anyhow::Result<Vec<CachedObject>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| row_to_object(object_type, row))?;
    rows.map(|r| r?).collect()
}

fn row_to_object(
    object_type: &str,
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<anyhow::Result<CachedObject>> {
    let anchor: String = row.get(0)?;
    let (created, modified): (i64, i64) = (row.get(2)?, row.get(3)?);
    Ok(attributes::decode(row.get_ref(1)?)
        .with_context(|| format!("cached object {object_type}/{anchor} is unreadable"))
        .map(|attributes| CachedObject {
            object: Object {
                object_type: object_type.to_string(),
                anchor,
                attributes,
            },
            created: from_nanos(created),
            modified: from_nanos(modified),
        }))
}

/// Stores one object with its member lists; returns it without them (as the objects
/// table holds it), and whether its lookups must be written.
fn upsert_with_members(
    c: &Connection,
    object: Object,
    memberships: &BTreeSet<Membership>,
    indexed: &BTreeSet<(String, String)>,
    generation: i64,
    now: i64,
    fresh: bool,
) -> anyhow::Result<(Object, bool)> {
    let (kept, lists) = members::split(object, memberships);
    let relook = upsert_one(c, &kept, indexed, generation, now, fresh)?;
    for (membership, anchors) in lists {
        members::replace(c, &membership, &kept.anchor, &anchors)?;
    }
    Ok((kept, relook))
}

/// `object`, just stored, with the timestamps the objects table holds for it.
fn stamped(c: &Connection, object: Object) -> anyhow::Result<CachedObject> {
    let (created, modified): (i64, i64) = c
        .prepare_cached(
            "SELECT created, modified FROM objects WHERE object_type = ?1 AND anchor = ?2",
        )?
        .query_row(params![object.object_type, object.anchor], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .with_context(|| {
            format!(
                "the stored object {}/{} is missing",
                object.object_type, object.anchor
            )
        })?;
    Ok(CachedObject {
        object,
        created: from_nanos(created),
        modified: from_nanos(modified),
    })
}

/// Stores one object; returns whether its lookups must be written (it is new or its
/// attributes changed, and its old lookups, if any, are gone). `fresh` says most objects
/// are likely new (no full import completed yet): the insert is then tried first, which
/// saves a miss on every object of a first import; otherwise an unchanged object (the
/// common case of a periodic import) is tried first. Either order is correct.
fn upsert_one(
    tx: &Connection,
    object: &Object,
    indexed: &BTreeSet<(String, String)>,
    generation: i64,
    now: i64,
    fresh: bool,
) -> anyhow::Result<bool> {
    let attributes = attributes::encode(&object.attributes)?;
    let insert = || -> rusqlite::Result<usize> {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO objects \
             (object_type, anchor, attributes, created, modified, generation) \
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        )?
        .execute(params![
            object.object_type,
            object.anchor,
            attributes,
            now,
            generation
        ])
    };
    // An object found as it was only needs its generation moved on: its row and lookups
    // stay as they are.
    let keep = || -> rusqlite::Result<usize> {
        tx.prepare_cached(
            "UPDATE objects SET generation = ?3 \
             WHERE object_type = ?1 AND anchor = ?2 AND attributes = ?4",
        )?
        .execute(params![
            object.object_type,
            object.anchor,
            generation,
            attributes
        ])
    };
    if fresh && insert()? == 1 {
        return Ok(true);
    }
    if keep()? == 1 {
        return Ok(false);
    }
    if !fresh && insert()? == 1 {
        return Ok(true);
    }
    delete_lookups(tx, &object.object_type, &object.anchor, indexed)?;
    tx.prepare_cached(
        "UPDATE objects SET modified = ?3, attributes = ?4, generation = ?5 \
         WHERE object_type = ?1 AND anchor = ?2",
    )?
    .execute(params![
        object.object_type,
        object.anchor,
        now,
        attributes,
        generation
    ])?;
    Ok(true)
}

/// Each indexed (object type, attribute) pair with the `kind` its lookups carry: its
/// position in `indexed`. The one place that numbering is made.
fn kinds(indexed: &BTreeSet<(String, String)>) -> impl Iterator<Item = (i64, &str, &str)> {
    indexed
        .iter()
        .enumerate()
        .map(|(kind, (t, a))| (kind as i64, t.as_str(), a.as_str()))
}

/// The `kind` of the lookups of (`object_type`, `attribute`); none when it is not
/// indexed. Compared in place: a set of owned pairs can only be probed with owned
/// strings, two allocations per attribute of every object an import stores, and the set
/// holds a handful of pairs.
fn kind(indexed: &BTreeSet<(String, String)>, object_type: &str, attribute: &str) -> Option<i64> {
    kinds(indexed)
        .find(|&(_, t, a)| t == object_type && a == attribute)
        .map(|(kind, _, _)| kind)
}

/// The (kind, lookup key) rows `object` has in the lookup table.
fn lookup_rows<'o>(
    object: &'o Object,
    indexed: &'o BTreeSet<(String, String)>,
) -> impl Iterator<Item = (i64, String)> + 'o {
    object.attributes.iter().flat_map(move |a| {
        let kind = kind(indexed, &object.object_type, &a.name);
        kind.into_iter().flat_map(move |kind| {
            a.values
                .iter()
                .filter_map(lookup_key)
                .map(move |key| (kind, key))
        })
    })
}

/// Writes the lookups of `objects`, in the lookup table's key order: inserting a batch's
/// keys sorted touches each page of the B-tree once, where their natural order (random:
/// user names) jumps across all of it.
fn write_lookups<'a>(
    tx: &Connection,
    objects: impl IntoIterator<Item = &'a Object>,
    indexed: &BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    let mut rows: Vec<(i64, String, &str)> = objects
        .into_iter()
        .flat_map(|o| lookup_rows(o, indexed).map(|(kind, key)| (kind, key, o.anchor.as_str())))
        .collect();
    rows.sort_unstable();
    let mut chunks = rows.chunks_exact(LOOKUPS_PER_INSERT);
    let mut many = tx.prepare_cached(&INSERT_LOOKUPS)?;
    for chunk in &mut chunks {
        insert_lookups(&mut many, chunk)?;
    }
    let mut one = tx.prepare_cached(&insert_lookups_sql(1))?;
    for row in chunks.remainder() {
        insert_lookups(&mut one, std::slice::from_ref(row))?;
    }
    Ok(())
}

/// Lookup rows inserted by one statement. Each statement costs its own run of SQLite's
/// virtual machine and its own binding round: 20,000 sorted rows into the lookup table
/// took 41 ms one row per statement and 33 ms 64 per statement; with 32 per statement, a
/// 100,000-row `sql-import` went from 1,247 / 1,457 / 1,144 ms to 1,070 / 1,096 / 1,049
/// (alternating runs).
const LOOKUPS_PER_INSERT: usize = 32;

/// The statement inserting [`LOOKUPS_PER_INSERT`] rows.
static INSERT_LOOKUPS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_lookups_sql(LOOKUPS_PER_INSERT));

/// An insert of `rows` lookup rows, an existing one left as it is.
fn insert_lookups_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?)"; rows].join(", ");
    format!("INSERT OR IGNORE INTO lookups (kind, value, anchor) VALUES {values}")
}

/// Runs `insert` (made by [`insert_lookups_sql`] for as many rows) on `rows`.
fn insert_lookups(
    insert: &mut rusqlite::CachedStatement<'_>,
    rows: &[(i64, String, &str)],
) -> rusqlite::Result<()> {
    for (i, (kind, key, anchor)) in rows.iter().enumerate() {
        insert.raw_bind_parameter(3 * i + 1, kind)?;
        insert.raw_bind_parameter(3 * i + 2, key)?;
        insert.raw_bind_parameter(3 * i + 3, anchor)?;
    }
    insert.raw_execute().map(drop)
}

/// Deletes the lookups of the stored object `anchor`, found from its stored attributes
/// by the lookup table's own key: the table needs no second index by anchor, which every
/// write would otherwise have to update. An unreadable stored object falls back to a
/// scan.
fn delete_lookups(
    tx: &Connection,
    object_type: &str,
    anchor: &str,
    indexed: &BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    let stored: Option<anyhow::Result<Vec<Attribute>>> = tx
        .prepare_cached("SELECT attributes FROM objects WHERE object_type = ?1 AND anchor = ?2")?
        .query_row(params![object_type, anchor], |r| {
            Ok(attributes::decode(r.get_ref(0)?))
        })
        .optional()?;
    let Some(stored) = stored else {
        return Ok(());
    };
    let Ok(attributes) = stored else {
        let mut delete =
            tx.prepare_cached("DELETE FROM lookups WHERE kind = ?1 AND anchor = ?2")?;
        for (kind, _, _) in kinds(indexed).filter(|&(_, t, _)| t == object_type) {
            delete.execute(params![kind, anchor])?;
        }
        return Ok(());
    };
    let old = Object {
        object_type: object_type.to_string(),
        anchor: anchor.to_string(),
        attributes,
    };
    let mut delete =
        tx.prepare_cached("DELETE FROM lookups WHERE kind = ?1 AND value = ?2 AND anchor = ?3")?;
    for (kind, key) in lookup_rows(&old, indexed) {
        delete.execute(params![kind, key, anchor])?;
    }
    Ok(())
}

fn rebuild_lookup(c: &Connection, indexed: &BTreeSet<(String, String)>) -> anyhow::Result<()> {
    /// Objects whose lookups are sorted and written together.
    const BATCH: usize = 10_000;
    c.execute("DELETE FROM lookups", [])?;
    let mut stmt = c.prepare("SELECT object_type, anchor, attributes FROM objects")?;
    let mut rows = stmt.query([])?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next()? {
        let (object_type, anchor): (String, String) = (row.get(0)?, row.get(1)?);
        let Ok(attributes) = attributes::decode(row.get_ref(2)?) else {
            // Unreadable: it has no lookups to give (reading it is an error already).
            continue;
        };
        batch.push(Object {
            object_type,
            anchor,
            attributes,
        });
        if batch.len() == BATCH {
            write_lookups(c, &batch, indexed)?;
            batch.clear();
        }
    }
    write_lookups(c, &batch, indexed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(anchor: &str, name: &str) -> Object {
        Object {
            object_type: "user".into(),
            anchor: anchor.into(),
            attributes: vec![
                Attribute {
                    name: "user_name".into(),
                    values: vec![Value::String(name.into())],
                },
                Attribute {
                    name: "active".into(),
                    values: vec![Value::Boolean(true)],
                },
            ],
        }
    }

    /// How many users `cache` finds by the user name `name`.
    async fn named(cache: &Cache, name: &str) -> usize {
        cache.find("user", "user_name", name).await.unwrap().len()
    }

    /// Runs a complete full import of `objects` into `cache`.
    async fn full_import(cache: &Cache, objects: Vec<Object>) {
        let generation = cache.begin_full_import().await.unwrap();
        cache.upsert(objects).await.unwrap();
        cache.finish_full_import(generation).await.unwrap();
    }

    fn indexed() -> BTreeSet<(String, String)> {
        [("user".to_string(), "user_name".to_string())].into()
    }

    #[test]
    fn reads_take_the_first_free_reader() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        let first: *const Connection = {
            let reader = cache.readers[0].lock().unwrap();
            &*reader
        };
        // One after the other, reads stay on the first reader (taken in turn, the second
        // would be another)...
        assert!(std::ptr::eq(&*cache.reader(), first));
        assert!(std::ptr::eq(&*cache.reader(), first));
        // ...and a read beside a running one takes the next free reader.
        let running = cache.reader();
        let beside = cache.reader();
        assert!(std::ptr::eq(&*running, first));
        assert!(!std::ptr::eq(&*beside, first));
    }

    #[test]
    fn a_large_scan_is_reported_once_per_attribute() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        let report =
            |attribute: &str, scanned: usize| cache.report_scan("user", attribute, "path", scanned);
        assert!(
            !report("email", SCAN_WARNING_OBJECTS - 1),
            "a small scan is fine"
        );
        assert!(report("email", SCAN_WARNING_OBJECTS));
        assert!(
            !report("email", 10 * SCAN_WARNING_OBJECTS),
            "once per attribute"
        );
        assert!(report("given_name", SCAN_WARNING_OBJECTS));
    }

    #[tokio::test]
    async fn stores_finds_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        cache
            .upsert(vec![user("1", "Alice"), user("2", "bob")])
            .await
            .unwrap();
        let found = cache.find("user", "user_name", "alice").await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object, user("1", "Alice"));
        assert_eq!(cache.count("user").await.unwrap(), 2);
        let second = cache.page("user", 1, 5).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].object, user("2", "bob"));
        // A changed value moves its lookup; a deleted object takes its lookups along.
        cache.upsert(vec![user("1", "Alicia")]).await.unwrap();
        assert_eq!(named(&cache, "alice").await, 0);
        assert_eq!(named(&cache, "alicia").await, 1);
        let gone = ObjectRef {
            object_type: "user".into(),
            anchor: "1".into(),
        };
        cache.delete(vec![gone]).await.unwrap();
        assert_eq!(named(&cache, "alicia").await, 0);
        cache.upsert(vec![user("1", "Alice")]).await.unwrap();
        drop(cache);
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(
            cache.get("user", "2").await.unwrap().unwrap().object,
            user("2", "bob")
        );
        assert!(cache.get("user", "3").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn full_import_removes_unseen_objects_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        cache
            .upsert(vec![user("1", "a"), user("2", "b")])
            .await
            .unwrap();
        assert!(!cache.is_complete());
        let generation = cache.begin_full_import().await.unwrap();
        cache.upsert(vec![user("1", "a")]).await.unwrap();
        assert_eq!(
            cache.count("user").await.unwrap(),
            2,
            "nothing removed mid-import"
        );
        assert_eq!(cache.finish_full_import(generation).await.unwrap(), 1);
        assert!(cache.get("user", "2").await.unwrap().is_none());
        assert_eq!(named(&cache, "b").await, 0);
        assert!(cache.is_complete());
    }

    #[tokio::test]
    async fn modified_changes_only_when_attributes_do() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        cache.upsert(vec![user("1", "a")]).await.unwrap();
        let first = cache.get("user", "1").await.unwrap().unwrap();
        cache.upsert(vec![user("1", "a")]).await.unwrap();
        assert_eq!(
            cache.get("user", "1").await.unwrap().unwrap().modified,
            first.modified
        );
        cache.upsert(vec![user("1", "A2")]).await.unwrap();
        let changed = cache.get("user", "1").await.unwrap().unwrap();
        assert!(changed.modified > first.modified);
        assert_eq!(changed.created, first.created);
    }

    #[tokio::test]
    async fn rebuilds_lookups_when_the_indexed_set_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, BTreeSet::new(), BTreeSet::new()).unwrap();
        cache.upsert(vec![user("1", "Zed")]).await.unwrap();
        assert_eq!(named(&cache, "zed").await, 0);
        drop(cache);
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(named(&cache, "zed").await, 1);
    }

    #[tokio::test]
    async fn long_values_match_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        let long = "x".repeat(10_000);
        cache.upsert(vec![user("1", &long)]).await.unwrap();
        assert_eq!(
            cache.find("user", "user_name", &long).await.unwrap().len(),
            1
        );
    }

    #[test]
    fn keys_are_cut_after_256_characters_not_bytes() {
        let short = "é".repeat(200);
        assert_eq!(
            lookup_prefix(&short),
            short,
            "400 bytes, 200 characters: kept"
        );
        let long = format!("{}{}", "é".repeat(256), "tail");
        assert_eq!(lookup_prefix(&long), "é".repeat(256));
        assert_eq!(
            lookup_key(&Value::String(format!("{}TAIL", "É".repeat(256)))),
            Some("é".repeat(256))
        );
        assert_eq!(lookup_key(&Value::Integer(-7)), Some("-7".into()));
    }

    fn group(anchor: &str, members: &[&str]) -> Object {
        Object {
            object_type: "group".into(),
            anchor: anchor.into(),
            attributes: vec![
                Attribute {
                    name: "name".into(),
                    values: vec![Value::String(format!("group {anchor}"))],
                },
                Attribute {
                    name: "members".into(),
                    values: members
                        .iter()
                        .map(|m| Value::Reference(m.to_string()))
                        .collect(),
                },
            ],
        }
    }

    fn memberships() -> BTreeSet<Membership> {
        [Membership {
            object_type: "group".into(),
            attribute: "members".into(),
            member_type: "user".into(),
            nested: false,
        }]
        .into()
    }

    #[tokio::test]
    async fn members_are_rows_changed_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), memberships()).unwrap();
        cache
            .upsert(vec![
                user("1", "a"),
                user("2", "b"),
                group("g", &["1", "2"]),
            ])
            .await
            .unwrap();
        let stored = cache.get("group", "g").await.unwrap().unwrap().object;
        assert!(
            stored.attributes.iter().all(|a| a.name != "members"),
            "members are not kept in the object: {stored:?}"
        );
        assert_eq!(
            cache.members("group", "g", "members").await.unwrap(),
            ["1", "2"]
        );
        assert_eq!(
            cache.groups_of("group", "members", "2").await.unwrap(),
            ["g"]
        );

        let reference = |m: &str| Attribute {
            name: "members".into(),
            values: vec![Value::Reference(m.into())],
        };
        cache
            .update(
                stored.clone(),
                vec![
                    AttributeChange::AddValues(reference("3")),
                    AttributeChange::RemoveValues(reference("1")),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            cache.members("group", "g", "members").await.unwrap(),
            ["2", "3"]
        );
        assert!(
            cache
                .has_member("group", "g", "members", "3")
                .await
                .unwrap()
        );
        assert!(
            !cache
                .has_member("group", "g", "members", "1")
                .await
                .unwrap()
        );

        // A deleted user leaves every group; a re-imported group replaces its list.
        cache
            .delete(vec![ObjectRef {
                object_type: "user".into(),
                anchor: "2".into(),
            }])
            .await
            .unwrap();
        assert_eq!(cache.members("group", "g", "members").await.unwrap(), ["3"]);
        cache.upsert(vec![group("g", &["1"])]).await.unwrap();
        assert_eq!(cache.members("group", "g", "members").await.unwrap(), ["1"]);
        assert!(
            cache
                .update(stored, vec![AttributeChange::Clear("name".into())])
                .await
                .is_err(),
            "only membership attributes are edited member by member"
        );

        // Another membership layout cannot reuse the stored objects: the cache restarts
        // empty and waits for a full import. (A cache from before memberships existed,
        // opened for an app without groups, is kept: see the test below.)
        drop(cache);
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(cache.count("group").await.unwrap(), 0);
        assert!(!cache.is_complete());
    }

    #[tokio::test]
    async fn a_stored_object_comes_back_as_a_read_would_give_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), memberships()).unwrap();
        let read = |anchor: &'static str, object_type: &'static str| {
            let cache = &cache;
            async move { cache.get(object_type, anchor).await.unwrap().unwrap() }
        };
        let stored = cache.store(user("1", "Alice")).await.unwrap();
        let got = read("1", "user").await;
        assert_eq!(stored.object, got.object);
        assert_eq!(
            (stored.created, stored.modified),
            (got.created, got.modified)
        );
        assert_eq!(named(&cache, "alice").await, 1, "its lookups are written");

        // Stored again unchanged, it keeps its timestamps; changed, only `modified` moves.
        let again = cache.store(user("1", "Alice")).await.unwrap();
        assert_eq!((again.created, again.modified), (got.created, got.modified));
        let changed = cache.store(user("1", "Alicia")).await.unwrap();
        assert_eq!(changed.created, got.created);
        assert!(changed.modified > got.modified);
        assert_eq!(changed.modified, read("1", "user").await.modified);

        // A group comes back without its member list, which the cache keeps as rows.
        let group = cache.store(group("g", &["1"])).await.unwrap();
        assert_eq!(group.object, read("g", "group").await.object);
        assert!(group.object.attributes.iter().all(|a| a.name != "members"));
        assert_eq!(cache.members("group", "g", "members").await.unwrap(), ["1"]);
        let updated = cache
            .update(
                group.object.clone(),
                vec![AttributeChange::AddValues(Attribute {
                    name: "members".into(),
                    values: vec![Value::Reference("2".into())],
                })],
            )
            .await
            .unwrap();
        assert_eq!(updated.object, group.object);
        assert_eq!(updated.created, group.created);
        assert_eq!(
            cache.members("group", "g", "members").await.unwrap(),
            ["1", "2"]
        );
    }

    #[tokio::test]
    async fn nested_groups_show_as_groups_and_give_indirect_belongings() {
        let dir = tempfile::tempdir().unwrap();
        let mut nested = memberships().pop_first().unwrap();
        nested.nested = true;
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), [nested].into()).unwrap();
        let generation = cache.begin_full_import().await.unwrap();
        // outer ⊃ inner ⊃ user 1; a cycle inner ⊃ outer must not loop.
        cache
            .upsert(vec![
                user("1", "a"),
                group("outer", &["inner"]),
                group("inner", &["1", "outer"]),
                group("lone", &["1"]),
            ])
            .await
            .unwrap();
        cache.finish_full_import(generation).await.unwrap();
        let kinds = cache
            .member_kinds("group", "inner", "members")
            .await
            .unwrap();
        assert_eq!(
            kinds,
            [
                Member {
                    anchor: "1".into(),
                    group: false
                },
                Member {
                    anchor: "outer".into(),
                    group: true
                },
            ]
        );
        let belongings = cache.belongings("group", "members", "1").await.unwrap();
        let shown: Vec<(&str, bool)> = belongings
            .iter()
            .map(|b| (b.anchor.as_str(), b.direct))
            .collect();
        assert_eq!(shown, [("inner", true), ("lone", true), ("outer", false)]);

        // A deleted group leaves the groups it was in.
        cache
            .delete(vec![ObjectRef {
                object_type: "group".into(),
                anchor: "outer".into(),
            }])
            .await
            .unwrap();
        assert_eq!(
            cache.members("group", "inner", "members").await.unwrap(),
            ["1"]
        );
        // And so does one a full import no longer finds.
        let generation = cache.begin_full_import().await.unwrap();
        cache
            .upsert(vec![user("1", "a"), group("lone", &["1", "inner"])])
            .await
            .unwrap();
        assert_eq!(
            cache.members("group", "lone", "members").await.unwrap(),
            ["1", "inner"]
        );
        cache.finish_full_import(generation).await.unwrap();
        assert_eq!(
            cache.members("group", "lone", "members").await.unwrap(),
            ["1"]
        );
    }

    #[tokio::test]
    async fn moved_anchors_outlive_a_wiped_cache_and_go_with_their_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        cache.upsert(vec![user("ann", "ann")]).await.unwrap();
        cache.moved("user", "ann", "anna").await.unwrap();
        assert_eq!(cache.adopt("user", "anna").await.unwrap(), "ann");
        assert_eq!(cache.adopt("user", "ann").await.unwrap(), "ann~1");
        drop(cache);
        // Another memberships layout empties the cache, not the ids the IdP holds.
        let cache = Cache::open(&path, indexed(), memberships()).unwrap();
        assert_eq!(cache.anchors().target("user", "ann"), "anna");
        cache.upsert(vec![user("ann", "anna")]).await.unwrap();
        cache
            .delete(vec![ObjectRef {
                object_type: "user".into(),
                anchor: "ann".into(),
            }])
            .await
            .unwrap();
        assert_eq!(cache.anchors().target("user", "ann"), "ann");
        // A full import that no longer finds a moved object drops its translation.
        let generation = cache.begin_full_import().await.unwrap();
        cache.finish_full_import(generation).await.unwrap();
        assert!(!cache.anchors().any_moved());
    }

    #[test]
    fn a_lookup_probes_the_index_before_reading_objects() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        let reader = cache.readers[0].lock().unwrap();
        let plan: Vec<String> = reader
            .prepare(&format!("EXPLAIN QUERY PLAN {FIND}"))
            .unwrap()
            .query_map(params!["user", 0, "x"], |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan[0].starts_with("SEARCH l USING PRIMARY KEY"),
            "the lookup table must drive the join: {plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")),
            "{plan:?}"
        );
    }

    #[tokio::test]
    async fn lookups_of_an_earlier_cache_are_rebuilt_with_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        full_import(&cache, vec![user("1", "Ann"), user("2", "Bob")]).await;
        drop(cache);
        // As an earlier Ferry left it: the lookups in `lookup`, the pair spelt out in each
        // row, recorded under the state key 'indexed'.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "DROP TABLE lookups;
                 CREATE TABLE lookup (object_type TEXT NOT NULL, attribute TEXT NOT NULL,
                     value TEXT NOT NULL, anchor TEXT NOT NULL,
                     PRIMARY KEY (object_type, attribute, value, anchor)) WITHOUT ROWID;
                 INSERT INTO lookup VALUES ('user', 'user_name', 'ann', '1'),
                     ('user', 'user_name', 'bob', '2');
                 UPDATE state SET key = 'indexed' WHERE key = 'lookup-kinds';",
            )
            .unwrap();
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert!(cache.is_complete());
        assert_eq!(named(&cache, "ann").await, 1);
        assert_eq!(named(&cache, "bob").await, 1);
        let count = |sql: &str| -> i64 {
            cache
                .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
                .unwrap()
        };
        assert_eq!(count("SELECT count(*) FROM lookups"), 2);
        assert_eq!(
            count("SELECT count(*) FROM sqlite_master WHERE name = 'lookup'"),
            0,
            "the old table is dropped"
        );
        assert_eq!(count("SELECT count(*) FROM state WHERE key = 'indexed'"), 0);
    }

    #[tokio::test]
    async fn a_cache_from_before_memberships_is_kept_for_an_app_without_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        full_import(&cache, vec![user("1", "a")]).await;
        cache
            .write(Weight::Small, |c| {
                Ok(c.execute("DELETE FROM state WHERE key = 'memberships'", [])?)
            })
            .await
            .unwrap();
        drop(cache);
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(cache.count("user").await.unwrap(), 1);
        assert!(cache.is_complete());
        drop(cache);
        let cache = Cache::open(&path, indexed(), memberships()).unwrap();
        assert_eq!(
            cache.count("user").await.unwrap(),
            0,
            "groups need a fresh import"
        );
    }

    #[tokio::test]
    async fn of_an_object_listed_twice_in_a_batch_the_later_version_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        cache
            .upsert(vec![
                user("1", "first"),
                user("2", "other"),
                user("1", "second"),
            ])
            .await
            .unwrap();
        let kept = cache.get("user", "1").await.unwrap().unwrap();
        assert_eq!(kept.object, user("1", "second"));
        assert_eq!(named(&cache, "first").await, 0);
        assert_eq!(named(&cache, "second").await, 1);
        assert_eq!(cache.count("user").await.unwrap(), 2);
    }

    #[tokio::test]
    async fn every_lookup_of_a_large_batch_is_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        // Two full statements of rows and a remainder; one object lists a value twice
        // (the same lookup key, differently cased).
        let count = 2 * LOOKUPS_PER_INSERT + 5;
        let mut users: Vec<Object> = (0..count)
            .map(|i| user(&i.to_string(), &format!("u{i}")))
            .collect();
        users[0].attributes[0]
            .values
            .push(Value::String("U0".into()));
        cache.upsert(users).await.unwrap();
        for i in 0..count {
            let found = cache
                .find("user", "user_name", &format!("u{i}"))
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "u{i}");
            assert_eq!(found[0].object.anchor, i.to_string());
        }
        let rows: usize = cache
            .read(|c| Ok(c.query_row("SELECT count(*) FROM lookups", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(rows, count);
    }

    /// Turns the cache at `path` into one as an older Ferry left it: its objects' attributes
    /// as JSON text and no format recorded; or, with `format`, one recorded as that.
    async fn as_written_by(cache: Cache, format: Option<&'static str>) {
        cache
            .write(Weight::Bulk, move |c| {
                let rows: Vec<(String, String, Vec<u8>)> = c
                    .prepare("SELECT object_type, anchor, attributes FROM objects")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (object_type, anchor, stored) in rows {
                    let attributes = attributes::decode(rusqlite::types::ValueRef::Blob(&stored))?;
                    c.execute(
                        "UPDATE objects SET attributes = ?3 WHERE object_type = ?1 AND anchor = ?2",
                        params![object_type, anchor, serde_json::to_string(&attributes)?],
                    )?;
                }
                match format {
                    Some(f) => write_state(c, attributes::FORMAT_KEY, f),
                    None => Ok(c
                        .execute("DELETE FROM state WHERE key = ?1", [attributes::FORMAT_KEY])
                        .map(drop)?),
                }
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_cache_of_json_objects_is_converted_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        full_import(&cache, vec![user("1", "Alice"), user("2", "bob")]).await;
        let before = cache.get("user", "1").await.unwrap().unwrap();
        as_written_by(cache, None).await;
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(cache.get("user", "1").await.unwrap().unwrap(), before);
        assert_eq!(named(&cache, "bob").await, 1);
        assert!(
            cache.is_complete(),
            "converting keeps the import's completion"
        );
        let (blobs, format) = cache
            .read(|c| {
                let blobs: u64 = c.query_row(
                    "SELECT count(*) FROM objects WHERE typeof(attributes) = 'blob'",
                    [],
                    |r| r.get(0),
                )?;
                Ok((blobs, read_state(c, attributes::FORMAT_KEY)?))
            })
            .unwrap();
        assert_eq!((blobs, format.as_deref()), (2, Some(attributes::FORMAT)));
    }

    #[tokio::test]
    async fn a_cache_in_an_unknown_format_is_emptied_for_a_new_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        full_import(&cache, vec![user("1", "Alice")]).await;
        as_written_by(cache, Some("from-the-future")).await;
        let cache = Cache::open(&path, indexed(), BTreeSet::new()).unwrap();
        assert_eq!(cache.count("user").await.unwrap(), 0);
        assert!(!cache.is_complete());
        assert_eq!(named(&cache, "alice").await, 0);
    }

    #[tokio::test]
    async fn an_unchanged_object_keeps_its_lookups_through_a_full_import() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db"), indexed(), BTreeSet::new()).unwrap();
        cache
            .upsert(vec![user("1", "Kept"), user("2", "Changed")])
            .await
            .unwrap();
        let generation = cache.begin_full_import().await.unwrap();
        cache
            .upsert(vec![user("1", "Kept"), user("2", "Renamed")])
            .await
            .unwrap();
        assert_eq!(cache.finish_full_import(generation).await.unwrap(), 0);
        assert_eq!(named(&cache, "kept").await, 1);
        assert_eq!(named(&cache, "renamed").await, 1);
        assert_eq!(named(&cache, "changed").await, 0);
        assert_eq!(cache.count("user").await.unwrap(), 2);
    }
}
