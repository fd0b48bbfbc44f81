//! A session: the checked configuration, the one connection to the directory, and the
//! user schema read from the server on first need, with one method per call of the
//! contract's `session` resource.

use std::cell::RefCell;
use std::rc::Rc;

use ferry_connector::log::Log;
use ferry_connector::net::Network;
use ferry_connector::types::{
    AddChange, Change, ChangeResult, DeltaPage, Error, ImportPage, Object, ObjectRef, RenameChange,
    Schema, UpdateChange,
};
use ferry_connector::{Session, Settings};
use ldap3_proto::proto::LdapSearchScope;

use crate::config::{self, Config, DeltaSource};
use crate::delta::delta_import;
use crate::directory::{Directory, present, search_request};
use crate::disable::Disabling;
use crate::entries::Entry;
use crate::export;
use crate::import::full_import;
use crate::schema::UserSchema;
use crate::subschema::Subschema;

/// What the import, delta and export code works with.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The connection.
    pub directory: &'a Directory,
    /// The settings.
    pub config: &'a Config,
    /// The user type.
    pub schema: &'a UserSchema,
}

/// An open session.
pub struct LdapSession {
    config: Config,
    directory: Directory,
    schema: RefCell<Option<Rc<UserSchema>>>,
}

impl LdapSession {
    /// Checks the settings; the connection is made on first use, through `network`.
    pub fn open(
        network: Box<dyn Network>,
        log: Box<dyn Log>,
        settings: &Settings,
    ) -> Result<Self, Error> {
        let config = config::parse(settings)?;
        let directory = Directory::new(network, log, &config);
        Ok(Self {
            config,
            directory,
            schema: RefCell::new(None),
        })
    }

    fn context<'a>(&'a self, schema: &'a UserSchema) -> Context<'a> {
        Context {
            directory: &self.directory,
            config: &self.config,
            schema,
        }
    }

    /// The user schema, read once per session.
    fn user_schema(&self) -> Result<Rc<UserSchema>, Error> {
        if let Some(schema) = self.schema.borrow().as_ref() {
            return Ok(Rc::clone(schema));
        }
        self.load_schema()
    }

    /// Reads the subschema entry the root DSE names and builds the user type from it.
    fn load_schema(&self) -> Result<Rc<UserSchema>, Error> {
        let root = self.root_dse()?;
        let subschema_dn = root.text("subschemaSubentry").unwrap_or("cn=Subschema");
        let request = search_request(
            subschema_dn,
            LdapSearchScope::Base,
            present("objectClass"),
            &["attributeTypes", "objectClasses"],
        );
        let entry = self
            .directory
            .search(&format!("reading the schema at '{subschema_dn}'"), &request)?
            .pop()
            .ok_or_else(|| {
                Error::not_found(format!("the subschema entry '{subschema_dn}' is empty"))
            })?;
        let texts = |name: &str| -> Vec<String> {
            entry
                .values(name)
                .iter()
                .map(|value| String::from_utf8_lossy(value).into_owned())
                .collect()
        };
        let subschema = Subschema::parse(&texts("attributeTypes"), &texts("objectClasses"))
            .map_err(|why| Error::internal(format!("the server's schema does not parse: {why}")))?;
        let mut schema = UserSchema::build(&subschema, &self.config.user_object_classes)
            .map_err(|why| Error::invalid_input(format!("'user-object-classes': {why}")))?;
        if let Some(lock) = &self.config.disable {
            schema.add_active(Disabling::new(lock, &subschema)?)?;
        }
        let schema = Rc::new(schema);
        *self.schema.borrow_mut() = Some(Rc::clone(&schema));
        Ok(schema)
    }

    /// The root DSE, with the attributes the connector uses.
    fn root_dse(&self) -> Result<Entry, Error> {
        let request = search_request(
            "",
            LdapSearchScope::Base,
            present("objectClass"),
            &["subschemaSubentry", "namingContexts", "supportedControl"],
        );
        self.directory
            .search("reading the root DSE", &request)?
            .pop()
            .ok_or_else(|| Error::not_found("the server returned no root DSE"))
    }

    /// Fails with `not-found` naming `parameter` when the entry `dn` does not exist.
    fn must_exist(&self, dn: &str, parameter: &str) -> Result<(), Error> {
        let request = search_request(dn, LdapSearchScope::Base, present("objectClass"), &["1.1"]);
        let found = self
            .directory
            .search(&format!("reading '{dn}' ({parameter})"), &request)?;
        if found.is_empty() {
            return Err(Error::not_found(format!(
                "'{parameter}': '{dn}' does not exist"
            )));
        }
        Ok(())
    }
}

impl Session for LdapSession {
    /// Connects and binds (or proves the kept connection still works), reads the root
    /// DSE, and checks that the base DN (and the accesslog, when deltas read it) exists.
    fn test_connection(&self) -> Result<(), Error> {
        self.root_dse()?;
        self.must_exist(&self.config.base_dn.to_string(), "base-dn")?;
        if let DeltaSource::Accesslog(log) = &self.config.delta {
            self.must_exist(&log.to_string(), "accesslog-base")?;
        }
        Ok(())
    }

    /// The user type, read afresh from the server's subschema.
    fn schema(&self) -> Result<Schema, Error> {
        let schema = self.load_schema()?;
        Ok(Schema {
            object_types: vec![schema.object_type(self.config.anchor)],
        })
    }

    /// One page of a full import.
    fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error> {
        let schema = self.user_schema()?;
        full_import(&self.context(&schema), cursor, page_size)
    }

    /// One page of a delta import.
    fn delta_import(&self, watermark: &str, page_size: u32) -> Result<DeltaPage, Error> {
        let schema = self.user_schema()?;
        delta_import(&self.context(&schema), watermark, page_size)
    }

    /// The changes, in order; one result per change. The user schema is read and a
    /// connection kept from an earlier call is checked first, once for all of them:
    /// when either fails, every change fails alike.
    fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        let ready = self
            .user_schema()
            .and_then(|_| self.directory.check_alive());
        if let Err(error) = ready {
            return changes.iter().map(|_| Err(error.clone())).collect();
        }
        changes
            .into_iter()
            .map(|change| self.apply(change))
            .collect()
    }

    /// One user, found by its anchor.
    fn read(&self, target: &ObjectRef) -> Result<Option<Object>, Error> {
        let schema = self.user_schema()?;
        export::read(&self.context(&schema), target)
    }

    /// Adds a user.
    fn add(&self, change: AddChange) -> Result<Object, Error> {
        let schema = self.user_schema()?;
        export::add(&self.context(&schema), &change)
    }

    /// Modifies (and, when its RDN changes, renames) a user.
    fn update(&self, change: UpdateChange) -> Result<Option<Object>, Error> {
        let schema = self.user_schema()?;
        export::update(&self.context(&schema), &change).map(Some)
    }

    /// Deletes a user.
    fn delete(&self, target: ObjectRef) -> Result<(), Error> {
        let schema = self.user_schema()?;
        export::delete(&self.context(&schema), &target)
    }

    /// Renames or moves a user.
    fn rename(&self, change: RenameChange) -> Result<Option<Object>, Error> {
        let schema = self.user_schema()?;
        export::rename(&self.context(&schema), &change).map(Some)
    }
}
