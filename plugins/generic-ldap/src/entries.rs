//! Directory entries as the connector reads them: attribute lookup by any spelling, the
//! conversion of a user or group entry into the contract's object (typed by its schema,
//! the anchor taken from `entryUUID` or the DN, `active` computed from the lock, DNs of
//! the objects references point to as their anchors), and finding an object by its anchor within its type's base
//! and filter.

use ldap3_proto::proto::{LdapFilter, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope};

use crate::config::Anchor;
use crate::directory::{Directory, search_request};
use crate::disable::ACTIVE;
use crate::dn::Dn;
use crate::filter;
use crate::schema::{AttributeInfo, DN, ENTRY_UUID};
use crate::session::{Context, Kind};
use crate::values::from_ldap;
use ferry_connector::types::{Attribute, Error, ErrorKind, Object, Value, ValueType};

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
            .find(|(given, _)| base_name(given).eq_ignore_ascii_case(name))
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

    /// The entry as an object of `kind`: the anchor, `dn`, `active` when users can be
    /// disabled, and every attribute the type's schema knows, typed by it; reference
    /// values are the anchors of the objects whose DNs the entry holds (DNs of no object
    /// of the attribute's reference types are left out). A value that does not fit its
    /// type is left out and logged, so that one odd value does not stop an import. Text
    /// values are moved, not copied: an import converts every value it reads.
    pub fn into_object(self, context: &Context, kind: Kind) -> Result<Object, Error> {
        let schema = kind.schema;
        let anchor = self.anchor(context.config.anchor)?;
        let mut attributes = Vec::with_capacity(self.attributes.len() + 2);
        attributes.push(Attribute {
            name: DN.to_owned(),
            values: Vec::new(),
        });
        attributes.extend(schema.disabling().map(|disabling| Attribute {
            name: ACTIVE.to_owned(),
            values: vec![Value::Boolean(disabling.is_active(&self))],
        }));
        let Entry {
            dn,
            attributes: raw,
        } = self;
        for (given, raw) in raw {
            let Some(info) = schema.attribute(base_name(&given)) else {
                continue;
            };
            if info.secret || attributes.iter().any(|known| known.name == info.name) {
                continue;
            }
            let values = if info.value_type == ValueType::Reference {
                references(context, &dn, info, raw)?
            } else {
                typed(context, &dn, info, raw)
            };
            attributes.push(Attribute {
                // Servers mostly spell a name as their schema does: no copy then.
                name: if given == info.name {
                    given
                } else {
                    info.name.clone()
                },
                values,
            });
        }
        attributes[0].values.push(Value::String(dn));
        Ok(Object {
            object_type: schema.name().to_owned(),
            anchor,
            attributes,
        })
    }
}

/// An attribute description without its options (`userCertificate;binary` →
/// `userCertificate`). A plain scan: names are a few bytes, and this runs several times
/// per attribute of every imported entry.
fn base_name(description: &str) -> &str {
    match description.bytes().position(|byte| byte == b';') {
        Some(end) => &description[..end],
        None => description,
    }
}

/// The values of `info` in the entry `dn`, typed by the schema.
fn typed(context: &Context, dn: &str, info: &AttributeInfo, raw: Vec<Vec<u8>>) -> Vec<Value> {
    let mut values = Vec::with_capacity(raw.len());
    for bytes in raw {
        match from_ldap(bytes, info.value_type) {
            Ok(value) => values.push(value),
            Err(why) => context.directory.log().warn(&format!(
                "'{dn}': a value of '{}' was left out: {why}",
                info.name
            )),
        }
    }
    values
}

/// The anchors of the objects whose DNs `info` holds in the entry `entry_dn`; at most one
/// when it is single-valued.
fn references(
    context: &Context,
    entry_dn: &str,
    info: &AttributeInfo,
    raw: Vec<Vec<u8>>,
) -> Result<Vec<Value>, Error> {
    let mut values = Vec::with_capacity(raw.len());
    for bytes in &raw {
        let Ok(dn) = std::str::from_utf8(bytes) else {
            continue;
        };
        match context
            .references
            .anchor_of(context, dn, &info.reference_types)?
        {
            Some(anchor) => values.push(Value::Reference(anchor)),
            None => context.directory.log().debug(&format!(
                "'{entry_dn}': '{}' holds '{dn}', which is no {}; left out",
                info.name,
                info.reference_types.join(" or ")
            )),
        }
        if !info.multi_valued && !values.is_empty() {
            break;
        }
    }
    Ok(values)
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

/// Finds the object of `kind` with this anchor within its base DN and filter, with
/// `attributes`; none when there is no such object (or it is out of scope).
pub fn find(
    context: &Context,
    kind: Kind,
    anchor: &str,
    attributes: &[&str],
) -> Result<Option<Entry>, Error> {
    let scope = kind.scope;
    match context.config.anchor {
        Anchor::EntryUuid => search_one(
            context.directory,
            kind,
            anchor,
            search_request(
                &scope.base_dn.to_string(),
                LdapSearchScope::Subtree,
                filter::and(
                    &scope.filter,
                    LdapFilter::Equality(ENTRY_UUID.to_owned(), anchor.to_owned()),
                ),
                attributes,
            ),
        ),
        Anchor::Dn => find_at(context, kind, anchor, attributes),
    }
}

/// The object of `kind` at `dn` with `attributes`, if that DN is under its base and its
/// entry matches its filter.
pub fn find_at(
    context: &Context,
    kind: Kind,
    dn: &str,
    attributes: &[&str],
) -> Result<Option<Entry>, Error> {
    let scope = kind.scope;
    if !Dn::parse(dn).is_ok_and(|parsed| parsed.is_within(&scope.base_dn)) {
        return Ok(None);
    }
    search_one(
        context.directory,
        kind,
        dn,
        search_request(dn, LdapSearchScope::Base, scope.filter.clone(), attributes),
    )
}

/// The one entry a search finds; none when it finds none or its base does not exist.
fn search_one(
    directory: &Directory,
    kind: Kind,
    anchor: &str,
    request: LdapSearchRequest,
) -> Result<Option<Entry>, Error> {
    let context = format!(
        "reading {} '{anchor}' ({} under '{}')",
        kind.scope.object_type,
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
