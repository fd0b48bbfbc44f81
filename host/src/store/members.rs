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

/// Forgets an object: its own member lists, and its place in every group's.
pub fn forget(c: &Connection, object_type: &str, anchor: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM members WHERE object_type = ?1 AND anchor = ?2")?
        .execute(params![object_type, anchor])?;
    c.prepare_cached("DELETE FROM members WHERE member_type = ?1 AND member = ?2")?
        .execute(params![object_type, anchor])?;
    Ok(())
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
