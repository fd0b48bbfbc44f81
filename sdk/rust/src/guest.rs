//! The bridge from [`Connector`] and [`Session`] to the traits wit-bindgen generated for
//! the contract's exports, so that `export!` can export any `Connector`: settings are
//! checked against the declared parameters before `open`, and owned arguments become the
//! borrowed ones the traits take.

use crate::bindings::exports::ferry::connector::connector::{self as exports, Guest, GuestSession};
use crate::connector::{Connector, Session};
use crate::settings::Settings;
use crate::types::{
    Change, ChangeResult, ConnectorInfo, DeltaPage, Error, ImportPage, Object, ObjectRef, Schema,
    Setting,
};

impl<C: Connector> Guest for C {
    type Session = Hosted<C>;

    fn describe() -> ConnectorInfo {
        C::describe()
    }
}

/// A session of connector `C`, as the component model holds it.
pub struct Hosted<C: Connector>(C::Session);

impl<C: Connector> GuestSession for Hosted<C> {
    fn open(settings: Vec<Setting>) -> Result<exports::Session, Error> {
        let settings = Settings::parse(settings, &C::describe().parameters)?;
        C::open(&settings).map(|session| exports::Session::new(Self(session)))
    }

    fn test_connection(&self) -> Result<(), Error> {
        self.0.test_connection()
    }

    fn schema(&self) -> Result<Schema, Error> {
        self.0.schema()
    }

    fn full_import(&self, cursor: Option<String>, page_size: u32) -> Result<ImportPage, Error> {
        self.0.full_import(cursor.as_deref(), page_size)
    }

    fn delta_import(&self, watermark: String, page_size: u32) -> Result<DeltaPage, Error> {
        self.0.delta_import(&watermark, page_size)
    }

    fn read(&self, target: ObjectRef) -> Result<Option<Object>, Error> {
        self.0.read(&target)
    }

    fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        self.0.export(changes)
    }
}
