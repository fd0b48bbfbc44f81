//! Reference values between the directory and the contract. The directory stores DNs
//! (a group's `member`, a user's `manager`); the contract carries anchors. With
//! `anchor = "dn"` the two are one; with entryUUID anchors they are translated:
//!
//! * anchors to DNs (writes): one search per batch of anchors and object type,
//!   `(&(filter)(|(entryUUID=a)(entryUUID=b)…))`;
//! * DNs to anchors (reads): through an index of the DN of every object a reference may
//!   point to, built by one paged search per object type when first needed after a full
//!   import begins, and kept by the session: a group of 50,000 members costs no search
//!   per member. A DN the index does not know (an object added since) is looked up on
//!   its own and remembered; a DN that is none of them (a placeholder member, a user
//!   deleted without the group being told, a group when groups do not nest) translates
//!   to nothing and is left out.
//!
//! References point to users, and to groups too when groups nest (`nested-groups`): the
//! index holds each DN with its object's type, and each attribute takes only the types
//! its schema names (a manager is a user, a member may be a group).
//!
//! The session keeps the index current with what it sees: its own adds, renames and
//! deletes, and those delta imports report.

use std::cell::RefCell;
use std::collections::HashMap;

use ldap3_proto::proto::{LdapFilter, LdapSearchScope};

use ferry_connector::types::Error;

use crate::config::Anchor;
use crate::directory::search_request;
use crate::dn::Dn;
use crate::entries::{Entry, find_at};
use crate::filter;
use crate::schema::ENTRY_UUID;
use crate::session::{Context, Kind};

/// How many anchors one search resolves.
const BATCH: usize = 200;

/// The object at a DN: its type and anchor.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    object_type: &'static str,
    anchor: String,
}

/// The DNs of the objects references may point to, and their anchors.
#[derive(Default)]
pub struct ReferenceIndex {
    /// By the DN's key; `None` for a DN known to be no such object. Not built yet: `None`.
    known: RefCell<Option<HashMap<String, Option<Target>>>>,
}

/// The form DNs are compared in: parsed, written canonically, without regard to case
/// (the naming attributes of users and groups, uid and cn, match without regard to case).
fn key(dn: &str) -> Option<String> {
    Dn::parse(dn).ok().map(|dn| dn.to_string().to_lowercase())
}

/// The object types references may point to among `types`.
fn kinds_of<'a>(context: &Context<'a>, types: &[&str]) -> Vec<Kind<'a>> {
    context
        .reference_kinds()
        .into_iter()
        .filter(|kind| types.contains(&kind.scope.object_type))
        .collect()
}

impl ReferenceIndex {
    /// Forgets every DN: the next translation reads the directory afresh. A full import
    /// calls this as it begins, so each import translates against the directory as it is.
    pub fn reset(&self) {
        *self.known.borrow_mut() = None;
    }

    /// Records that the object `anchor` of `kind` is at `dn` (after an add, a rename, a
    /// read); nothing for a type references cannot point to.
    pub fn note(&self, context: &Context, kind: Kind, dn: &str, anchor: &str) {
        let Some(kind) = context
            .reference_kinds()
            .into_iter()
            .find(|target| target.scope.object_type == kind.scope.object_type)
        else {
            return;
        };
        self.insert(dn, kind, anchor);
    }

    fn insert(&self, dn: &str, kind: Kind, anchor: &str) {
        if let (Some(known), Some(key)) = (self.known.borrow_mut().as_mut(), key(dn)) {
            known.insert(
                key,
                Some(Target {
                    object_type: kind.scope.object_type,
                    anchor: anchor.to_owned(),
                }),
            );
        }
    }

    /// Forgets what is at `dn` (after a delete or a rename away from it).
    pub fn forget(&self, dn: &str) {
        if let (Some(known), Some(key)) = (self.known.borrow_mut().as_mut(), key(dn)) {
            known.remove(&key);
        }
    }

    /// The anchor of the object at `dn` when it is of one of `types`; none otherwise.
    pub fn anchor_of(
        &self,
        context: &Context,
        dn: &str,
        types: &[&str],
    ) -> Result<Option<String>, Error> {
        let Some(key) = key(dn) else {
            return Ok(None);
        };
        if self.known.borrow().is_none() {
            self.load(context)?;
        }
        let cached = self
            .known
            .borrow()
            .as_ref()
            .and_then(|known| known.get(&key).cloned());
        let found = match cached {
            Some(found) => found,
            None => {
                let found = self.look_up(context, dn)?;
                if let Some(known) = self.known.borrow_mut().as_mut() {
                    known.insert(key, found.clone());
                }
                found
            }
        };
        Ok(found
            .filter(|target| types.contains(&target.object_type))
            .map(|target| target.anchor))
    }

    /// The object at `dn`, read on its own: the first type it is one of.
    fn look_up(&self, context: &Context, dn: &str) -> Result<Option<Target>, Error> {
        for kind in context.reference_kinds() {
            if let Some(entry) = find_at(context, kind, dn, &[ENTRY_UUID])? {
                return Ok(Some(Target {
                    object_type: kind.scope.object_type,
                    anchor: entry.anchor(context.config.anchor)?,
                }));
            }
        }
        Ok(None)
    }

    /// Reads the DN and anchor of every object references may point to: one paged search
    /// per type.
    fn load(&self, context: &Context) -> Result<(), Error> {
        let mut known = HashMap::new();
        for kind in context.reference_kinds() {
            let scope = kind.scope;
            for entry in search(
                context,
                kind,
                scope.filter.clone(),
                &format!("indexing {}s by DN", scope.object_type),
            )? {
                if let (Some(key), Ok(anchor)) =
                    (key(&entry.dn), entry.anchor(context.config.anchor))
                {
                    known.entry(key).or_insert(Some(Target {
                        object_type: scope.object_type,
                        anchor,
                    }));
                }
            }
        }
        *self.known.borrow_mut() = Some(known);
        Ok(())
    }

    /// The DNs of the objects of `types` with these anchors, by anchor; an anchor of no
    /// such object under its type's base DN matching its filter is missing from the
    /// answer.
    pub fn dns_of(
        &self,
        context: &Context,
        anchors: &[&str],
        types: &[&str],
    ) -> Result<HashMap<String, String>, Error> {
        let mut found = HashMap::new();
        let kinds = kinds_of(context, types);
        match context.config.anchor {
            Anchor::Dn => {
                for anchor in anchors {
                    if Dn::parse(anchor)
                        .is_ok_and(|dn| kinds.iter().any(|kind| dn.is_within(&kind.scope.base_dn)))
                    {
                        found.insert((*anchor).to_owned(), (*anchor).to_owned());
                    }
                }
            }
            Anchor::EntryUuid => {
                for kind in kinds {
                    let missing: Vec<&str> = anchors
                        .iter()
                        .copied()
                        .filter(|anchor| !found.contains_key(*anchor))
                        .collect();
                    for batch in missing.chunks(BATCH) {
                        for (dn, anchor) in self.search_batch(context, kind, batch)? {
                            found.insert(anchor, dn);
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// The DNs and anchors of the objects of `kind` with these entryUUIDs, noted.
    fn search_batch(
        &self,
        context: &Context,
        kind: Kind,
        batch: &[&str],
    ) -> Result<Vec<(String, String)>, Error> {
        let wanted = LdapFilter::Or(
            batch
                .iter()
                .map(|anchor| LdapFilter::Equality(ENTRY_UUID.to_owned(), (*anchor).to_owned()))
                .collect(),
        );
        let mut found = Vec::new();
        let wanted = filter::and(&kind.scope.filter, wanted);
        for entry in search(
            context,
            kind,
            wanted,
            &format!("finding {}s by entryUUID", kind.scope.object_type),
        )? {
            let anchor = entry.anchor(Anchor::EntryUuid)?;
            self.insert(&entry.dn, kind, &anchor);
            found.push((entry.dn, anchor));
        }
        Ok(found)
    }
}

/// The entries of `kind` under its base DN matching `wanted`, with their entryUUIDs:
/// one paged search, described as `purpose` in errors.
fn search(
    context: &Context,
    kind: Kind,
    wanted: LdapFilter,
    purpose: &str,
) -> Result<Vec<Entry>, Error> {
    let request = search_request(
        &kind.scope.base_dn.to_string(),
        LdapSearchScope::Subtree,
        wanted,
        &[ENTRY_UUID],
    );
    let description = format!(
        "{purpose} ({} under '{}')",
        filter::render(&request.filter),
        request.base
    );
    context.directory.search_all(&description, &request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_dns_without_regard_to_spelling() {
        assert_eq!(
            key("UID=Alice, OU=People,dc=Example,dc=org"),
            key("uid=alice,ou=people,dc=example,dc=org")
        );
        assert_ne!(
            key("uid=alice,ou=people,dc=example,dc=org"),
            key("uid=alice,ou=groups,dc=example,dc=org")
        );
        assert_eq!(key("not a dn"), None);
    }

    #[test]
    fn forgets_only_once_built() {
        let index = ReferenceIndex::default();
        index.forget("uid=a,dc=x");
        assert!(
            index.known.borrow().is_none(),
            "nothing to keep current yet"
        );
        let target = Target {
            object_type: "user",
            anchor: "1".to_owned(),
        };
        *index.known.borrow_mut() = Some(HashMap::from([(
            "uid=a,dc=x".to_owned(),
            Some(target.clone()),
        )]));
        index.forget("UID=B, DC=X");
        assert_eq!(
            index.known.borrow().as_ref().unwrap().get("uid=a,dc=x"),
            Some(&Some(target))
        );
        index.forget("UID=A, DC=X");
        assert!(index.known.borrow().as_ref().unwrap().is_empty());
        index.reset();
        assert!(index.known.borrow().is_none());
    }
}
