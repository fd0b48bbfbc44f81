//! Host anchors and target anchors. A SCIM id is the host's anchor of an object and must
//! never change: the IdP stores it. Most connectors' anchors never change either (an
//! entryUUID, a generated key), and then the two are the same. But when an object's
//! anchor is a key the IdP may change (an SQL table keyed by login name), the connector
//! moves the object to a new key and reports the new anchor. The host then keeps the old
//! one — the SCIM id — and remembers which target anchor it stands for.
//!
//! Only moved objects have a row here, so an app whose anchors never move pays nothing:
//! the maps are empty and every translation is the identity. The rows live in the cache
//! file, but are not cache: they are kept when the cached objects are thrown away (a
//! changed memberships layout), because the IdP still holds the ids. They go when their
//! object is deleted or when a full import no longer finds it.
//!
//! Once host anchor `ann` stands for target anchor `anna`, a new object with target
//! anchor `ann` cannot have the host anchor `ann`: it gets `ann~1` (the first free
//! suffix), recorded here like a move.

use std::collections::HashMap;
use std::sync::RwLock;

use rusqlite::{Connection, OptionalExtension, params};

/// The table of moved anchors.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS anchors (
    object_type TEXT NOT NULL,
    host TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (object_type, host)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS anchors_target ON anchors (object_type, target);
";

/// (object type, anchor).
type Key = (String, String);

/// The moved anchors of one cache, in memory (loaded at open, written through).
#[derive(Debug, Default)]
pub struct Anchors {
    maps: RwLock<Maps>,
}

#[derive(Debug, Default)]
struct Maps {
    to_target: HashMap<Key, String>,
    to_host: HashMap<Key, String>,
}

impl Maps {
    fn insert(&mut self, object_type: &str, host: &str, target: &str) {
        self.remove_host(object_type, host);
        if host != target {
            self.to_target
                .insert((object_type.into(), host.into()), target.into());
            self.to_host
                .insert((object_type.into(), target.into()), host.into());
        }
    }

    fn remove_host(&mut self, object_type: &str, host: &str) {
        if let Some(target) = self.to_target.remove(&(object_type.into(), host.into())) {
            self.to_host.remove(&(object_type.into(), target));
        }
    }
}

fn key(object_type: &str, anchor: &str) -> Key {
    (object_type.to_string(), anchor.to_string())
}

impl Anchors {
    /// The moved anchors stored in the cache file.
    pub fn load(c: &Connection) -> rusqlite::Result<Self> {
        let mut maps = Maps::default();
        let mut stmt = c.prepare("SELECT object_type, host, target FROM anchors")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (t, host, target): (String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            maps.insert(&t, &host, &target);
        }
        Ok(Self {
            maps: RwLock::new(maps),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any anchor ever moved: when not, every translation is the identity and
    /// callers can skip it (imports of many objects do).
    pub fn any_moved(&self) -> bool {
        !self.read().to_target.is_empty()
    }

    /// The target's anchor of the object the host knows as `host`.
    pub fn target(&self, object_type: &str, host: &str) -> String {
        self.read()
            .to_target
            .get(&key(object_type, host))
            .cloned()
            .unwrap_or_else(|| host.to_string())
    }

    /// The host's anchor of the object the target knows as `target`, if it is known
    /// (`None` only when `target` would need a new suffixed anchor, see [`Anchors::adopt`]).
    pub fn known_host(&self, object_type: &str, target: &str) -> Option<String> {
        let maps = self.read();
        if let Some(host) = maps.to_host.get(&key(object_type, target)) {
            return Some(host.clone());
        }
        (!maps.to_target.contains_key(&key(object_type, target))).then(|| target.to_string())
    }

    /// The host's anchor of `target`, giving it a suffixed one (recorded in `c`) when
    /// its own text is the host anchor of a moved object.
    pub fn adopt(
        &self,
        c: &Connection,
        object_type: &str,
        target: &str,
    ) -> rusqlite::Result<String> {
        if let Some(host) = self.known_host(object_type, target) {
            return Ok(host);
        }
        let free = |candidate: &str| -> rusqlite::Result<bool> {
            let taken_in_map = self
                .read()
                .to_target
                .contains_key(&key(object_type, candidate));
            let taken_in_cache = c
                .query_row(
                    "SELECT 1 FROM objects WHERE object_type = ?1 AND anchor = ?2",
                    params![object_type, candidate],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            Ok(!taken_in_map && !taken_in_cache)
        };
        let mut n = 1u64;
        let host = loop {
            let candidate = format!("{target}~{n}");
            if free(&candidate)? {
                break candidate;
            }
            n += 1;
        };
        self.record(c, object_type, &host, target)?;
        Ok(host)
    }

    /// Records that the object the host knows as `host` is now `target` in the target.
    pub fn record(
        &self,
        c: &Connection,
        object_type: &str,
        host: &str,
        target: &str,
    ) -> rusqlite::Result<()> {
        c.execute(
            "DELETE FROM anchors WHERE object_type = ?1 AND (host = ?2 OR target = ?3)",
            params![object_type, host, target],
        )?;
        if host != target {
            c.execute(
                "INSERT INTO anchors (object_type, host, target) VALUES (?1, ?2, ?3)",
                params![object_type, host, target],
            )?;
        }
        let mut maps = self.write();
        if let Some(previous) = maps.to_host.get(&key(object_type, target)).cloned() {
            maps.remove_host(object_type, &previous);
        }
        maps.insert(object_type, host, target);
        Ok(())
    }

    /// Forgets the object the host knows as `host` (deleted).
    pub fn forget(&self, c: &Connection, object_type: &str, host: &str) -> rusqlite::Result<()> {
        if !self.read().to_target.contains_key(&key(object_type, host)) {
            return Ok(());
        }
        c.execute(
            "DELETE FROM anchors WHERE object_type = ?1 AND host = ?2",
            params![object_type, host],
        )?;
        self.write().remove_host(object_type, host);
        Ok(())
    }

    /// Forgets the moved objects the cache no longer holds (after a full import dropped
    /// them).
    pub fn prune(&self, c: &Connection) -> rusqlite::Result<()> {
        if !self.any_moved() {
            return Ok(());
        }
        c.execute(
            "DELETE FROM anchors WHERE NOT EXISTS (SELECT 1 FROM objects o \
             WHERE o.object_type = anchors.object_type AND o.anchor = anchors.host)",
            [],
        )?;
        *self.write() = Self::load(c)?
            .maps
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c.execute_batch(
            "CREATE TABLE objects (object_type TEXT, anchor TEXT, PRIMARY KEY (object_type, anchor));",
        )
        .unwrap();
        c
    }

    #[test]
    fn unmoved_anchors_are_their_own_translation() {
        let c = connection();
        let anchors = Anchors::load(&c).unwrap();
        assert!(!anchors.any_moved());
        assert_eq!(anchors.target("user", "ann"), "ann");
        assert_eq!(anchors.known_host("user", "ann").as_deref(), Some("ann"));
        assert_eq!(anchors.adopt(&c, "user", "ann").unwrap(), "ann");
    }

    #[test]
    fn a_moved_anchor_keeps_its_host_name_and_survives_reloading() {
        let c = connection();
        let anchors = Anchors::load(&c).unwrap();
        anchors.record(&c, "user", "ann", "anna").unwrap();
        assert!(anchors.any_moved());
        assert_eq!(anchors.target("user", "ann"), "anna");
        assert_eq!(anchors.known_host("user", "anna").as_deref(), Some("ann"));
        // Other types are not affected.
        assert_eq!(anchors.target("group", "ann"), "ann");
        let reloaded = Anchors::load(&c).unwrap();
        assert_eq!(reloaded.target("user", "ann"), "anna");
        // Moved again, and back home: no row is left.
        anchors.record(&c, "user", "ann", "annie").unwrap();
        assert_eq!(anchors.known_host("user", "annie").as_deref(), Some("ann"));
        assert_eq!(anchors.known_host("user", "anna").as_deref(), Some("anna"));
        anchors.record(&c, "user", "ann", "ann").unwrap();
        assert!(!anchors.any_moved());
        assert!(!Anchors::load(&c).unwrap().any_moved());
    }

    #[test]
    fn a_new_object_on_a_moved_objects_old_anchor_gets_a_suffix() {
        let c = connection();
        let anchors = Anchors::load(&c).unwrap();
        anchors.record(&c, "user", "ann", "anna").unwrap();
        // The target's new "ann" is not the moved object.
        assert_eq!(anchors.known_host("user", "ann"), None);
        c.execute("INSERT INTO objects VALUES ('user', 'ann~1')", [])
            .unwrap();
        let host = anchors.adopt(&c, "user", "ann").unwrap();
        assert_eq!(host, "ann~2", "ann~1 is some other object's anchor");
        assert_eq!(anchors.target("user", "ann~2"), "ann");
        assert_eq!(anchors.known_host("user", "ann").as_deref(), Some("ann~2"));
        assert_eq!(anchors.adopt(&c, "user", "ann").unwrap(), "ann~2");
    }

    #[test]
    fn forgetting_and_pruning_drop_rows() {
        let c = connection();
        let anchors = Anchors::load(&c).unwrap();
        anchors.record(&c, "user", "a", "a2").unwrap();
        anchors.record(&c, "user", "b", "b2").unwrap();
        anchors.forget(&c, "user", "a").unwrap();
        assert_eq!(anchors.target("user", "a"), "a");
        c.execute("INSERT INTO objects VALUES ('user', 'c')", [])
            .unwrap();
        anchors.record(&c, "user", "c", "c2").unwrap();
        anchors.prune(&c).unwrap();
        assert_eq!(anchors.target("user", "b"), "b", "b is not cached");
        assert_eq!(anchors.target("user", "c"), "c2");
    }
}
