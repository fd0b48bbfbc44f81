//! Directory entries as the connector reads them: attribute lookup by any spelling, the
//! conversion of a user entry into the contract's object (typed by the user schema, the
//! anchor taken from `entryUUID` or the DN, `active` computed from the lock), and finding
//! a user by its anchor within the configured base and filter.

use ldap3_proto::proto::{LdapFilter, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope};

use crate::config::Anchor;
use crate::directory::{Directory, search_request};
use crate::disable::ACTIVE;
use crate::dn::Dn;
use crate::filter;
use crate::schema::{DN, ENTRY_UUID, USER};
use crate::session::Context;
use crate::values::from_ldap;
use ferry_connector::types::{Attribute, Error, ErrorKind, Object, Value};

/// One entry a search returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its DN, as the server wrote it.
    pub dn: String,
    /// Its attributes, as the server named them.
    pub attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl From<LdapSearchResultEntry> for Entry {
    fn from(entry: LdapSearchResultEntry) -> Self {
        Self {
            dn: entry.dn,
            attributes: entry
                .attributes
                .into_iter()
                .map(|attribute| (attribute.atype, attribute.vals))
                .collect(),
        }
    }
}

impl Entry {
    /// The values of `name` (compared without regard to case; options such as
    /// `;binary` ignored).
    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attributes
            .iter()
            .find(|(given, _)| {
                given
                    .split(';')
                    .next()
                    .is_some_and(|base| base.eq_ignore_ascii_case(name))
            })
            .map(|(_, values)| values.as_slice())
            .unwrap_or_default()
    }

    /// The first value of `name` as text, if it has one.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values(name)
            .first()
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// The entry's anchor under `anchor`.
    pub fn anchor(&self, anchor: Anchor) -> Result<String, Error> {
        match anchor {
            Anchor::EntryUuid => self.text(ENTRY_UUID).map(str::to_owned).ok_or_else(|| {
                Error::internal(format!(
                    "the entry '{}' has no entryUUID: the server must support RFC 4530, or \
                     use anchor = \"dn\"",
                    self.dn
                ))
            }),
            Anchor::Dn => canonical_dn(&self.dn),
        }
    }

    /// The entry as a user object: the anchor, `dn`, `active` when users can be disabled,
    /// and every attribute the user schema knows, typed by it. A value that does not fit
    /// its type is left out and logged, so that one odd value does not stop an import.
    pub fn to_object(&self, context: &Context) -> Result<Object, Error> {
        let Context {
            directory, schema, ..
        } = *context;
        let mut attributes = vec![Attribute {
            name: DN.to_owned(),
            values: vec![Value::String(self.dn.clone())],
        }];
        attributes.extend(schema.disabling().map(|disabling| Attribute {
            name: ACTIVE.to_owned(),
            values: vec![Value::Boolean(disabling.is_active(self))],
        }));
        for (name, raw) in &self.attributes {
            let Some(info) = schema.attribute(name.split(';').next().unwrap_or_default()) else {
                continue;
            };
            if info.secret || attributes.iter().any(|known| known.name == info.name) {
                continue;
            }
            let mut values = Vec::with_capacity(raw.len());
            for bytes in raw {
                match from_ldap(bytes, info.value_type) {
                    Ok(value) => values.push(value),
                    Err(why) => directory.log().warn(&format!(
                        "'{}': a value of '{}' was left out: {why}",
                        self.dn, info.name
                    )),
                }
            }
            attributes.push(Attribute {
                name: info.name.clone(),
                values,
            });
        }
        Ok(Object {
            object_type: USER.to_owned(),
            anchor: self.anchor(context.config.anchor)?,
            attributes,
        })
    }
}

/// A DN in one spelling (spaces dropped, values escaped alike), so that DN anchors from
/// searches and from the accesslog compare equal.
pub fn canonical_dn(dn: &str) -> Result<String, Error> {
    Dn::parse(dn)
        .map(|parsed| parsed.to_string())
        .map_err(|why| {
            Error::internal(format!(
                "the server sent a DN that does not parse: '{dn}': {why}"
            ))
        })
}

/// Finds the user with this anchor within the base DN and the user filter; none when
/// there is no such user (or it is out of scope).
pub fn find_user(context: &Context, anchor: &str) -> Result<Option<Entry>, Error> {
    let config = context.config;
    match config.anchor {
        Anchor::EntryUuid => search_one(
            context.directory,
            anchor,
            search_request(
                &config.base_dn.to_string(),
                LdapSearchScope::Subtree,
                filter::and(
                    &config.user_filter,
                    LdapFilter::Equality(ENTRY_UUID.to_owned(), anchor.to_owned()),
                ),
                &context.schema.requested(),
            ),
        ),
        Anchor::Dn => find_user_at(context, anchor),
    }
}

/// The user at `dn`, if that DN is under the base and its entry matches the user filter.
pub fn find_user_at(context: &Context, dn: &str) -> Result<Option<Entry>, Error> {
    let config = context.config;
    if !Dn::parse(dn).is_ok_and(|parsed| parsed.is_within(&config.base_dn)) {
        return Ok(None);
    }
    search_one(
        context.directory,
        dn,
        search_request(
            dn,
            LdapSearchScope::Base,
            config.user_filter.clone(),
            &context.schema.requested(),
        ),
    )
}

/// The one entry a search finds; none when it finds none or its base does not exist.
fn search_one(
    directory: &Directory,
    anchor: &str,
    request: LdapSearchRequest,
) -> Result<Option<Entry>, Error> {
    let context = format!(
        "reading user '{anchor}' ({} under '{}')",
        filter::render(&request.filter),
        request.base
    );
    match directory.search(&context, &request) {
        Ok(mut entries) => Ok(entries.pop()),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            dn: "uid=a,ou=people,dc=example,dc=org".into(),
            attributes: vec![
                ("objectClass".into(), vec![b"inetOrgPerson".to_vec()]),
                (
                    "entryUUID".into(),
                    vec![b"5d1c2f4e-0000-1000-8000-000000000001".to_vec()],
                ),
                ("userCertificate;binary".into(), vec![vec![0x30, 0x82]]),
            ],
        }
    }

    #[test]
    fn finds_attributes_by_any_case_and_without_options() {
        let entry = entry();
        assert_eq!(entry.values("OBJECTCLASS"), [b"inetOrgPerson".to_vec()]);
        assert_eq!(entry.values("userCertificate"), [vec![0x30, 0x82]]);
        assert!(entry.values("mail").is_empty());
        assert_eq!(
            entry.text("entryuuid"),
            Some("5d1c2f4e-0000-1000-8000-000000000001")
        );
    }

    #[test]
    fn takes_the_anchor_from_the_uuid_or_the_dn() {
        let entry = entry();
        assert_eq!(
            entry.anchor(Anchor::EntryUuid).unwrap(),
            "5d1c2f4e-0000-1000-8000-000000000001"
        );
        let spaced = Entry {
            dn: "uid=a, ou=people, dc=example, dc=org".into(),
            ..entry.clone()
        };
        assert_eq!(
            spaced.anchor(Anchor::Dn).unwrap(),
            "uid=a,ou=people,dc=example,dc=org"
        );
        let bare = Entry {
            attributes: vec![],
            ..entry
        };
        assert!(
            bare.anchor(Anchor::EntryUuid)
                .unwrap_err()
                .message
                .contains("RFC 4530")
        );
    }
}
