//! A Ferry connector that keeps users in memory: a starting point made by
//! `cargo xtask new-connector`. It builds, passes `ferry plugins inspect` and serves SCIM
//! as it is; replace the `BTreeMap` with calls to your target.
//!
//! What is kept in memory lives as long as the session's instance, and each pooled
//! instance has its own: for trying Ferry and the SDK out, not for production.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use ferry_connector::changes::apply_changes;
use ferry_connector::cursor::Format;
use ferry_connector::prelude::*;
use serde::{Deserialize, Serialize};

/// How full-import cursors are written; bump the version when their meaning changes.
const CURSORS: Format = Format::new(env!("CARGO_PKG_NAME"), 1);

/// The connector, exported below.
pub struct Memory;

impl Connector for Memory {
    type Session = MemorySession;

    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Keeps users in memory (a template to start a connector from).".to_owned(),
            parameters: vec![
                Parameter::string("id-prefix", "What the id of every new user starts with.")
                    .with_default("user-"),
            ],
            features: Features {
                delta_import: false,
                groups: false,
                passwords: false,
                rename: false,
            },
        }
    }

    fn open(settings: &Settings) -> Result<MemorySession, Error> {
        Ok(MemorySession {
            prefix: settings.string("id-prefix")?.to_owned(),
            users: RefCell::default(),
            made: Cell::new(0),
        })
    }
}

ferry_connector::export!(Memory);

/// The one object type. `userName`, `displayName`, `mail` and `active` are the names
/// Ferry's default SCIM mapping looks for.
fn user_type() -> ObjectTypeSchema {
    ObjectTypeSchema::new(
        "user",
        "id",
        vec![
            AttributeSchema::new("id", ValueType::String).read_only(),
            AttributeSchema::new("userName", ValueType::String).required(),
            AttributeSchema::new("displayName", ValueType::String),
            AttributeSchema::new("mail", ValueType::String),
            AttributeSchema::new("active", ValueType::Boolean),
        ],
    )
}

/// An open session, the users it keeps by id, and how many ids it handed out.
pub struct MemorySession {
    prefix: String,
    users: RefCell<BTreeMap<String, Vec<Attribute>>>,
    made: Cell<u64>,
}

/// Where a full import stands: after this id.
#[derive(Serialize, Deserialize)]
struct Cursor {
    after: String,
}

impl Session for MemorySession {
    fn schema(&self) -> Result<Schema, Error> {
        Ok(Schema {
            object_types: vec![user_type()],
        })
    }

    fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error> {
        let after = match cursor {
            Some(text) => CURSORS.decode::<Cursor>(text, "cursor")?.after,
            None => String::new(),
        };
        let users = self.users.borrow();
        let mut rest = users.iter().filter(|(id, _)| **id > after);
        let objects: Vec<Object> = rest
            .by_ref()
            .take(page_size.max(1) as usize)
            .map(|(id, attributes)| user(id, attributes))
            .collect();
        let next_cursor = match (rest.next(), objects.last()) {
            (Some(_), Some(last)) => Some(CURSORS.encode(&Cursor {
                after: last.anchor.clone(),
            })),
            _ => None,
        };
        Ok(ImportPage {
            objects,
            next_cursor,
            watermark: None,
        })
    }

    fn add(&self, change: AddChange) -> Result<Object, Error> {
        let schema = of_type(&change.object_type)?;
        schema.check_writes(&change.attributes)?;
        schema.check_required(&change.attributes)?;
        let name = user_name(&change.attributes);
        let mut users = self.users.borrow_mut();
        if users.values().any(|other| user_name(other) == name) {
            return Err(Error::already_exists(format!(
                "a user named {name:?} exists"
            )));
        }
        self.made.set(self.made.get() + 1);
        let id = format!("{}{}", self.prefix, self.made.get());
        let attributes: Vec<Attribute> = change
            .attributes
            .into_iter()
            .filter(|attribute| !attribute.values.is_empty())
            .collect();
        let added = user(&id, &attributes);
        users.insert(id, attributes);
        Ok(added)
    }

    fn update(&self, change: UpdateChange) -> Result<Option<Object>, Error> {
        let schema = of_type(&change.target.object_type)?;
        let mut users = self.users.borrow_mut();
        let id = &change.target.anchor;
        let stored = users.get_mut(id).ok_or_else(|| missing(id))?;
        let mut attributes = stored.clone();
        apply_changes(&mut attributes, &change.changes);
        schema.check_writes(&attributes)?;
        schema.check_required(&attributes)?;
        *stored = attributes;
        Ok(Some(user(id, stored)))
    }

    fn delete(&self, target: ObjectRef) -> Result<(), Error> {
        of_type(&target.object_type)?;
        let removed = self.users.borrow_mut().remove(&target.anchor);
        removed.map(drop).ok_or_else(|| missing(&target.anchor))
    }
}

/// The user `id` as an object: its id among its attributes.
fn user(id: &str, attributes: &[Attribute]) -> Object {
    let mut all = vec![Attribute::strings("id", [id])];
    all.extend_from_slice(attributes);
    Object {
        object_type: "user".to_owned(),
        anchor: id.to_owned(),
        attributes: all,
    }
}

/// The schema of `object_type`, which must be `user`.
fn of_type(object_type: &str) -> Result<ObjectTypeSchema, Error> {
    let schema = user_type();
    if object_type != schema.name {
        return Err(Error::invalid_input(format!(
            "there is no object type '{object_type}'"
        )));
    }
    Ok(schema)
}

/// The `userName` among `attributes`, which no two users share.
fn user_name(attributes: &[Attribute]) -> Option<&str> {
    find_attribute(attributes, "userName").and_then(Attribute::first_string)
}

/// The error for an id no user has.
fn missing(id: &str) -> Error {
    Error::not_found(format!("there is no user '{id}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session opened the way Ferry opens one: settings checked, defaults filled in.
    fn open(given: Vec<Setting>) -> MemorySession {
        let settings = Settings::parse(given, &Memory::describe().parameters).unwrap();
        Memory::open(&settings).unwrap()
    }

    fn add(session: &MemorySession, name: &str) -> Result<Object, Error> {
        session.add(AddChange {
            object_type: "user".to_owned(),
            attributes: vec![Attribute::strings("userName", [name])],
        })
    }

    fn update(session: &MemorySession, id: &str, change: AttributeChange) -> ChangeResult {
        session.update(UpdateChange {
            target: target(id),
            changes: vec![change],
        })
    }

    fn target(id: &str) -> ObjectRef {
        ObjectRef {
            object_type: "user".to_owned(),
            anchor: id.to_owned(),
        }
    }

    #[test]
    fn adds_updates_and_deletes_users() {
        let session = open(vec![Setting::new("id-prefix", "u")]);
        session.test_connection().unwrap();
        assert_eq!(add(&session, "ada").unwrap().anchor, "u1");
        let taken = add(&session, "ada").unwrap_err();
        assert_eq!(taken.kind, ErrorKind::AlreadyExists);

        let mail = AttributeChange::Replace(Attribute::strings("mail", ["ada@x.org"]));
        let updated = update(&session, "u1", mail).unwrap().unwrap();
        let mail = updated.attribute("mail").and_then(Attribute::first_string);
        assert_eq!(mail, Some("ada@x.org"));

        session.delete(target("u1")).unwrap();
        let gone = session.delete(target("u1")).unwrap_err();
        assert_eq!(gone.kind, ErrorKind::NotFound);
    }

    #[test]
    fn refuses_what_the_schema_does_not_allow() {
        let session = open(vec![]);
        let id = add(&session, "ada").unwrap().anchor;
        assert_eq!(id, "user-1");
        for change in [
            AttributeChange::Replace(Attribute::strings("id", ["other"])),
            AttributeChange::Replace(Attribute::strings("active", ["yes"])),
            AttributeChange::Replace(Attribute::strings("displayName", ["A", "B"])),
            AttributeChange::Clear("userName".into()),
        ] {
            let refused = update(&session, &id, change).unwrap_err();
            assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");
        }
        let rename = RenameChange {
            target: target(&id),
            new_name: "x".into(),
        };
        assert_eq!(
            session.rename(rename).unwrap_err().kind,
            ErrorKind::Unsupported
        );
    }

    #[test]
    fn imports_every_user_page_by_page() {
        let session = open(vec![]);
        for name in ["ada", "bob", "cy"] {
            add(&session, name).unwrap();
        }
        let mut cursor: Option<String> = None;
        let mut ids = Vec::new();
        loop {
            let page = session.full_import(cursor.as_deref(), 2).unwrap();
            assert!(page.objects.len() <= 2);
            ids.extend(page.objects.into_iter().map(|user| user.anchor));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(ids, ["user-1", "user-2", "user-3"]);
        let refused = session.full_import(Some("not a cursor"), 2).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::InvalidInput);
    }
}
