//! Reference values between the directory and the contract. The directory stores users'
//! DNs (a group's `member`, a user's `manager`); the contract carries user anchors. With
//! `anchor = "dn"` the two are one; with entryUUID anchors they are translated:
//!
//! * anchors to DNs (writes): one search of the users per batch of anchors,
//!   `(&(user-filter)(|(entryUUID=a)(entryUUID=b)…))`;
//! * DNs to anchors (reads): through an index of every user's DN, built by one paged
//!   search of the users when first needed after a full import begins, and kept by the
//!   session: a group of 50,000 members costs no search per member. A DN the index does
//!   not know (a user added since) is looked up on its own and remembered; a DN that is
//!   no user (a placeholder member, a nested group, a user deleted without the group
//!   being told) translates to nothing and is left out.
//!
//! The session keeps the index current with what it sees: its own adds, renames and
//! deletes of users, and those delta imports report.

use std::cell::RefCell;
use std::collections::HashMap;

use ldap3_proto::proto::{LdapFilter, LdapSearchScope};

use ferry_connector::types::Error;

use crate::config::Anchor;
use crate::directory::search_request;
use crate::dn::Dn;
use crate::entries::find_at;
use crate::filter;
use crate::schema::ENTRY_UUID;
use crate::session::Context;

/// How many anchors one search resolves.
const BATCH: usize = 200;

/// User DNs and the anchors of the users at them.
#[derive(Default)]
pub struct UserIndex {
    /// By the DN's key; `None` for a DN known to be no user. Not built yet: `None`.
    known: RefCell<Option<HashMap<String, Option<String>>>>,
}

/// The form DNs are compared in: parsed, written canonically, without regard to case
/// (the naming attributes of users, uid and cn, match without regard to case).
fn key(dn: &str) -> Option<String> {
    Dn::parse(dn).ok().map(|dn| dn.to_string().to_lowercase())
}

impl UserIndex {
    /// Forgets every DN: the next translation reads the users afresh. A full import
    /// calls this as it begins, so each import translates against the directory as it is.
    pub fn reset(&self) {
        *self.known.borrow_mut() = None;
    }

    /// Records that the user `anchor` is at `dn` (after an add, a rename, a read).
    pub fn note(&self, dn: &str, anchor: &str) {
        if let (Some(known), Some(key)) = (self.known.borrow_mut().as_mut(), key(dn)) {
            known.insert(key, Some(anchor.to_owned()));
        }
    }

    /// Forgets what is at `dn` (after a delete or a rename away from it).
    pub fn forget(&self, dn: &str) {
        if let (Some(known), Some(key)) = (self.known.borrow_mut().as_mut(), key(dn)) {
            known.remove(&key);
        }
    }

    /// The anchor of the user at `dn`; none when no user is there.
    pub fn anchor_of(&self, context: &Context, dn: &str) -> Result<Option<String>, Error> {
        let Some(key) = key(dn) else {
            return Ok(None);
        };
        if self.known.borrow().is_none() {
            self.load(context)?;
        }
        if let Some(found) = self
            .known
            .borrow()
            .as_ref()
            .and_then(|known| known.get(&key))
        {
            return Ok(found.clone());
        }
        let found = find_at(context, context.user_kind(), dn, &[ENTRY_UUID])?
            .map(|entry| entry.anchor(context.config.anchor))
            .transpose()?;
        if let Some(known) = self.known.borrow_mut().as_mut() {
            known.insert(key, found.clone());
        }
        Ok(found)
    }

    /// Reads every user's DN and anchor: one paged search.
    fn load(&self, context: &Context) -> Result<(), Error> {
        let users = context.user_kind().scope;
        let request = search_request(
            &users.base_dn.to_string(),
            LdapSearchScope::Subtree,
            users.filter.clone(),
            &[ENTRY_UUID],
        );
        let description = format!(
            "indexing users by DN ({} under '{}')",
            filter::render(&request.filter),
            request.base
        );
        let mut known = HashMap::new();
        for entry in context.directory.search_all(&description, &request)? {
            if let (Some(key), Ok(anchor)) = (key(&entry.dn), entry.anchor(context.config.anchor)) {
                known.insert(key, Some(anchor));
            }
        }
        *self.known.borrow_mut() = Some(known);
        Ok(())
    }

    /// The DNs of the users with these anchors, by anchor; an anchor of no user under the
    /// base DN matching the user filter is missing from the answer.
    pub fn dns_of(
        &self,
        context: &Context,
        anchors: &[&str],
    ) -> Result<HashMap<String, String>, Error> {
        let mut found = HashMap::new();
        match context.config.anchor {
            Anchor::Dn => {
                let users = &context.user_kind().scope.base_dn;
                for anchor in anchors {
                    if Dn::parse(anchor).is_ok_and(|dn| dn.is_within(users)) {
                        found.insert((*anchor).to_owned(), (*anchor).to_owned());
                    }
                }
            }
            Anchor::EntryUuid => {
                let users = context.user_kind().scope;
                for batch in anchors.chunks(BATCH) {
                    let wanted = LdapFilter::Or(
                        batch
                            .iter()
                            .map(|anchor| {
                                LdapFilter::Equality(ENTRY_UUID.to_owned(), (*anchor).to_owned())
                            })
                            .collect(),
                    );
                    let request = search_request(
                        &users.base_dn.to_string(),
                        LdapSearchScope::Subtree,
                        filter::and(&users.filter, wanted),
                        &[ENTRY_UUID],
                    );
                    let description = format!(
                        "finding users by entryUUID ({} under '{}')",
                        filter::render(&request.filter),
                        request.base
                    );
                    for entry in context.directory.search_all(&description, &request)? {
                        let anchor = entry.anchor(Anchor::EntryUuid)?;
                        self.note(&entry.dn, &anchor);
                        found.insert(anchor, entry.dn);
                    }
                }
            }
        }
        Ok(found)
    }
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
    fn notes_and_forgets_only_once_built() {
        let index = UserIndex::default();
        index.note("uid=a,dc=x", "1");
        assert!(
            index.known.borrow().is_none(),
            "nothing to keep current yet"
        );
        *index.known.borrow_mut() = Some(HashMap::new());
        index.note("uid=a,dc=x", "1");
        assert_eq!(
            index.known.borrow().as_ref().unwrap().get("uid=a,dc=x"),
            Some(&Some("1".to_owned()))
        );
        index.forget("UID=A, DC=X");
        assert!(index.known.borrow().as_ref().unwrap().is_empty());
        index.reset();
        assert!(index.known.borrow().is_none());
    }
}
