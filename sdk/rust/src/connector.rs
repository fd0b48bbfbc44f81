//! The contract's exports as two traits: [`Connector`] for what needs no configuration
//! (`describe`) and opens sessions, [`Session`] for the calls on an open session. Every
//! call a connector may not support has a default that says so with `unsupported`, so a
//! minimal connector writes `describe`, `open`, `schema`, `full_import` and its writes.

use crate::settings::Settings;
use crate::types::{
    AddChange, Change, ChangeResult, ConnectorInfo, DeltaPage, Error, ImportPage, Object,
    ObjectRef, RenameChange, Schema, UpdateChange,
};

/// A connector: exported with [`export!`](crate::export).
pub trait Connector: 'static {
    /// An open session.
    type Session: Session;

    /// Who the connector is, the parameters it takes and what it supports. Called when
    /// the host loads the component: it must not touch the network or the database.
    fn describe() -> ConnectorInfo;

    /// Opens a session with an app's settings, already checked against
    /// `describe().parameters` and with defaults filled in. A bad setting is reported
    /// here as `invalid-input`; connecting may happen here or on first use.
    fn open(settings: &Settings) -> Result<Self::Session, Error>;
}

/// An open session: the host keeps it for many calls, one at a time, so it may hold a
/// connection and caches.
pub trait Session: 'static {
    /// Checks that the target is reachable and the credentials work. By default it reads
    /// the schema, which reaches the target for any connector that discovers its schema;
    /// a connector whose schema is fixed should check its target here.
    fn test_connection(&self) -> Result<(), Error> {
        self.schema().map(drop)
    }

    /// The object types and attributes of the target under this configuration.
    fn schema(&self) -> Result<Schema, Error>;

    /// One page of a full import: at most `page_size` objects from where `cursor` (none
    /// for the first page, then the previous page's `next_cursor`) left off. The last
    /// page has no `next_cursor` and carries the watermark delta imports start from.
    fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error>;

    /// The changes since `watermark`, at most `page_size` entries. By default
    /// `unsupported`: the host then relies on full imports.
    fn delta_import(&self, watermark: &str, page_size: u32) -> Result<DeltaPage, Error> {
        let _ = (watermark, page_size);
        Err(Error::unsupported("this connector does not import changes"))
    }

    /// One object as the target holds it now, or `None` if there is no such object.
    /// The host reads through with it when an IdP asks for an object made in the target
    /// after the last import. By default `unsupported`.
    fn read(&self, target: &ObjectRef) -> Result<Option<Object>, Error> {
        Err(unsupported("read single", &target.object_type))
    }

    /// Makes the changes in order, one result per change. By default each change goes
    /// to [`apply`](Self::apply) on its own; a connector that must do something around
    /// all of them (check its connection once) overrides this and still calls `apply`.
    fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        changes
            .into_iter()
            .map(|change| self.apply(change))
            .collect()
    }

    /// Makes one change, by handing it to [`add`](Self::add), [`update`](Self::update),
    /// [`delete`](Self::delete) or [`rename`](Self::rename).
    fn apply(&self, change: Change) -> ChangeResult {
        match change {
            Change::Add(add) => self.add(add).map(Some),
            Change::Update(update) => self.update(update),
            Change::Delete(target) => self.delete(target).map(|()| None),
            Change::Rename(rename) => self.rename(rename),
        }
    }

    /// Creates an object and returns it as the target now holds it (the host learns its
    /// anchor from it). By default `unsupported`.
    fn add(&self, change: AddChange) -> Result<Object, Error> {
        Err(unsupported("create", &change.object_type))
    }

    /// Changes some attributes of an object; returns it as the target now holds it, or
    /// `None` to let the host apply the change to its cached copy. By default
    /// `unsupported`.
    fn update(&self, change: UpdateChange) -> Result<Option<Object>, Error> {
        Err(unsupported("change", &change.target.object_type))
    }

    /// Deletes an object. By default `unsupported`.
    fn delete(&self, target: ObjectRef) -> Result<(), Error> {
        Err(unsupported("delete", &target.object_type))
    }

    /// Gives an object a new name (its anchor stays); returns it as the target now holds
    /// it, or `None`. By default `unsupported`, matching `features.rename = false`.
    fn rename(&self, change: RenameChange) -> Result<Option<Object>, Error> {
        Err(unsupported("rename", &change.target.object_type))
    }
}

/// The error of a write a connector does not make.
fn unsupported(verb: &str, object_type: &str) -> Error {
    Error::unsupported(format!(
        "this connector does not {verb} objects of type '{object_type}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ErrorKind, ObjectTypeSchema};

    /// A session that only reads: everything else is the traits' defaults.
    struct ReadOnly;

    impl Session for ReadOnly {
        fn schema(&self) -> Result<Schema, Error> {
            Ok(Schema {
                object_types: vec![ObjectTypeSchema {
                    name: "user".into(),
                    anchor_attributes: vec!["id".into()],
                    attributes: vec![],
                }],
            })
        }

        fn full_import(&self, _: Option<&str>, _: u32) -> Result<ImportPage, Error> {
            Ok(ImportPage {
                objects: vec![],
                next_cursor: None,
                watermark: None,
            })
        }
    }

    fn target() -> ObjectRef {
        ObjectRef {
            object_type: "user".into(),
            anchor: "1".into(),
        }
    }

    #[test]
    fn what_a_connector_does_not_write_is_unsupported() {
        let session = ReadOnly;
        session.test_connection().unwrap();
        assert_eq!(
            session.delta_import("w", 10).unwrap_err().kind,
            ErrorKind::Unsupported
        );
        let results = session.export(vec![
            Change::Add(AddChange {
                object_type: "user".into(),
                attributes: vec![],
            }),
            Change::Update(UpdateChange {
                target: target(),
                changes: vec![],
            }),
            Change::Delete(target()),
            Change::Rename(RenameChange {
                target: target(),
                new_name: "x".into(),
            }),
        ]);
        assert_eq!(results.len(), 4);
        for result in results {
            let error = result.unwrap_err();
            assert_eq!(error.kind, ErrorKind::Unsupported);
            assert!(error.message.contains("'user'"), "{}", error.message);
        }
    }
}
