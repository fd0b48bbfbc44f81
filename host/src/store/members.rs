//! Group membership in the cache: the values of membership attributes (a group's
//! `members`, references to users) live in their own table, one row per member, instead
//! of inside the group's stored attributes. Adding or removing one member of a group of
//! 50,000 is then one row written, and "which groups is this user in" one index probe;
//! nothing reads or rewrites the whole list.

use std::collections::BTreeSet;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::runtime::bindings::types::{Attribute, Object, Value};

/// A membership attribute: `attribute` of objects of `object_type` holds references to
/// objects of `member_type`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Membership {
    /// The group's object type.
    pub object_type: String,
    /// The attribute holding the references.
    pub attribute: String,
    /// The object type the references point to.
    pub member_type: String,
    /// Whether members may also be objects of `object_type` itself (nested groups). Their
    /// rows are stored like the others' (under `member_type`); which members are groups
    /// is read from the cache when the list is shown. Anchors of the two types must not
    /// collide, as entryUUIDs never do.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nested: bool,
}

/// One member as a group lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's anchor.
    pub anchor: String,
    /// Whether the member is a group itself (nested), not a `member_type` object.
    pub group: bool,
}

/// One group an object is in, directly or through nested groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Belonging {
    /// The group's anchor.
    pub anchor: String,
    /// Whether the object is a member of it itself, not only of a group inside it.
    pub direct: bool,
}

/// The membership table.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS members (
    object_type TEXT NOT NULL,
    anchor TEXT NOT NULL,
    attribute TEXT NOT NULL,
    member_type TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (object_type, anchor, attribute, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_member ON members (member_type, member);
";

/// The membership of `attribute` on `object_type`, if it is one.
pub fn find<'m>(
    memberships: &'m BTreeSet<Membership>,
    object_type: &str,
    attribute: &str,
) -> Option<&'m Membership> {
    memberships
        .iter()
        .find(|m| m.object_type == object_type && m.attribute == attribute)
}

/// Splits the membership attributes off `object`: the object to store without them, and
/// each membership with the member anchors it lists (an attribute the object does not
/// carry lists none). Moves the attributes rather than copying the object: imports pass
/// every object through here.
pub fn split(
    mut object: Object,
    memberships: &BTreeSet<Membership>,
) -> (Object, Vec<(Membership, Vec<String>)>) {
    let (listed, kept): (Vec<Attribute>, Vec<Attribute>) = std::mem::take(&mut object.attributes)
        .into_iter()
        .partition(|a| find(memberships, &object.object_type, &a.name).is_some());
    object.attributes = kept;
    let lists = memberships
        .iter()
        .filter(|m| m.object_type == object.object_type)
        .map(|m| {
            let anchors = listed
                .iter()
                .filter(|a| a.name == m.attribute)
                .flat_map(|a| a.values.iter().filter_map(reference))
                .collect();
            (m.clone(), anchors)
        })
        .collect();
    (object, lists)
}

/// The anchor a membership value points to.
pub fn reference(value: &Value) -> Option<String> {
    match value {
        Value::Reference(anchor) | Value::String(anchor) => Some(anchor.clone()),
        Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Replaces every member of one group's membership attribute.
pub fn replace(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
    members: &[String],
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "DELETE FROM members WHERE object_type = ?1 AND anchor = ?2 AND attribute = ?3",
    )?
    .execute(params![
        membership.object_type,
        anchor,
        membership.attribute
    ])?;
    add(c, membership, anchor, members)
}

/// Adds members (those already there stay as they are).
pub fn add(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
    members: &[String],
) -> rusqlite::Result<()> {
    let mut insert = c.prepare_cached(
        "INSERT OR IGNORE INTO members (object_type, anchor, attribute, member_type, member) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for member in members {
        insert.execute(params![
            membership.object_type,
            anchor,
            membership.attribute,
            membership.member_type,
            member
        ])?;
    }
    Ok(())
}

/// Removes members (absent ones are ignored).
pub fn remove(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
    members: &[String],
) -> rusqlite::Result<()> {
    let mut delete = c.prepare_cached(
        "DELETE FROM members WHERE object_type = ?1 AND anchor = ?2 AND attribute = ?3 AND member = ?4",
    )?;
    for member in members {
        delete.execute(params![
            membership.object_type,
            anchor,
            membership.attribute,
            member
        ])?;
    }
    Ok(())
}

/// Forgets an object: its own member lists, and its place in every group's (as a
/// nested group too).
pub fn forget(
    c: &Connection,
    memberships: &BTreeSet<Membership>,
    object_type: &str,
    anchor: &str,
) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM members WHERE object_type = ?1 AND anchor = ?2")?
        .execute(params![object_type, anchor])?;
    c.prepare_cached("DELETE FROM members WHERE member_type = ?1 AND member = ?2")?
        .execute(params![object_type, anchor])?;
    for nested in memberships
        .iter()
        .filter(|m| m.nested && m.object_type == object_type)
    {
        c.prepare_cached(
            "DELETE FROM members WHERE object_type = ?1 AND attribute = ?2 AND member = ?3",
        )?
        .execute(params![nested.object_type, nested.attribute, anchor])?;
    }
    Ok(())
}

/// Drops the nested-group members that a full import found gone (objects of the group
/// type left from older generations); other members of gone objects are dropped by the
/// caller's general rule, which matches on `member_type`.
pub fn forget_gone_nested(
    c: &Connection,
    memberships: &BTreeSet<Membership>,
    generation: i64,
) -> rusqlite::Result<()> {
    for nested in memberships.iter().filter(|m| m.nested) {
        c.execute(
            "DELETE FROM members WHERE object_type = ?1 AND attribute = ?2 AND member IN \
             (SELECT anchor FROM objects WHERE object_type = ?1 AND generation < ?3)",
            params![nested.object_type, nested.attribute, generation],
        )?;
    }
    Ok(())
}

/// The members of one group's membership attribute in anchor order, each marked as a
/// group or not (never a group unless the membership is nested).
pub fn list_kinds(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
) -> rusqlite::Result<Vec<Member>> {
    if !membership.nested {
        return Ok(list(c, membership, anchor)?
            .into_iter()
            .map(|anchor| Member {
                anchor,
                group: false,
            })
            .collect());
    }
    let mut stmt = c.prepare_cached(
        "SELECT m.member, EXISTS (SELECT 1 FROM objects o \
           WHERE o.object_type = m.object_type AND o.anchor = m.member) \
         FROM members m WHERE m.object_type = ?1 AND m.anchor = ?2 AND m.attribute = ?3 \
         ORDER BY m.member",
    )?;
    let rows = stmt.query_map(
        params![membership.object_type, anchor, membership.attribute],
        |r| {
            Ok(Member {
                anchor: r.get(0)?,
                group: r.get(1)?,
            })
        },
    )?;
    rows.collect()
}

/// Every group `member` is in: directly, and — for a nested membership — through the
/// groups that contain those, at any depth (a cycle ends where it closes). In anchor
/// order.
pub fn belongings(
    c: &Connection,
    membership: &Membership,
    member: &str,
) -> rusqlite::Result<Vec<Belonging>> {
    let direct = groups_of(c, membership, member)?;
    let mut found: Vec<Belonging> = direct
        .iter()
        .map(|anchor| Belonging {
            anchor: anchor.clone(),
            direct: true,
        })
        .collect();
    if membership.nested {
        let mut seen: BTreeSet<String> = direct.iter().cloned().collect();
        let mut frontier = direct;
        while let Some(group) = frontier.pop() {
            for outer in groups_of(c, membership, &group)? {
                if seen.insert(outer.clone()) {
                    found.push(Belonging {
                        anchor: outer.clone(),
                        direct: false,
                    });
                    frontier.push(outer);
                }
            }
        }
        found.sort_by(|a, b| a.anchor.cmp(&b.anchor));
    }
    Ok(found)
}

/// The members of one group's membership attribute, in anchor order.
pub fn list(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT member FROM members WHERE object_type = ?1 AND anchor = ?2 AND attribute = ?3 \
         ORDER BY member",
    )?;
    let rows = stmt.query_map(
        params![membership.object_type, anchor, membership.attribute],
        |r| r.get(0),
    )?;
    rows.collect()
}

/// Whether `member` is in one group's membership attribute.
pub fn contains(
    c: &Connection,
    membership: &Membership,
    anchor: &str,
    member: &str,
) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT 1 FROM members WHERE object_type = ?1 AND anchor = ?2 AND attribute = ?3 \
         AND member = ?4",
    )?
    .exists(params![
        membership.object_type,
        anchor,
        membership.attribute,
        member
    ])
}

/// The anchors of the groups whose membership attribute lists `member`, in anchor order.
pub fn groups_of(
    c: &Connection,
    membership: &Membership,
    member: &str,
) -> rusqlite::Result<Vec<String>> {
    // Sorted here rather than by ORDER BY, which could tempt SQLite to walk the primary
    // key in anchor order instead of probing the member index.
    let mut stmt = c.prepare_cached(
        "SELECT anchor FROM members WHERE member_type = ?1 AND member = ?2 \
         AND object_type = ?3 AND attribute = ?4",
    )?;
    let rows = stmt.query_map(
        params![
            membership.member_type,
            member,
            membership.object_type,
            membership.attribute
        ],
        |r| r.get(0),
    )?;
    let mut anchors: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
    anchors.sort();
    Ok(anchors)
}
