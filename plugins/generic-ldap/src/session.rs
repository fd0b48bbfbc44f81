//! A session: the checked configuration, the one connection to the directory, the
//! object types read from the server's schema on first need, and the index of DNs that
//! reference values are translated through, with one method per call of the
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

use crate::config::{self, Config, DeltaSource, Scope};
use crate::delta::delta_import;
use crate::directory::{Directory, present, search_request};
use crate::disable::Disabling;
use crate::entries::Entry;
use crate::export;
use crate::import::full_import;
use crate::references::ReferenceIndex;
use crate::schema::{
    DN_SYNTAX, GROUP, MANAGER, NAME_AND_OPTIONAL_UID_SYNTAX, NO_ATTRIBUTES, Schemas, TypeSchema,
    USER,
};
use crate::subschema::Subschema;

/// What the import, delta and export code works with.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The connection.
    pub directory: &'a Directory,
    /// The settings.
    pub config: &'a Config,
    /// The object types.
    pub schemas: &'a Schemas,
    /// The DNs and anchors of the objects references point to.
    pub references: &'a ReferenceIndex,
}

/// One object type: where its entries live and what they hold.
#[derive(Clone, Copy)]
pub struct Kind<'a> {
    /// Its base, filter, classes and DN template.
    pub scope: &'a Scope,
    /// Its attributes.
    pub schema: &'a TypeSchema,
}

impl<'a> Context<'a> {
    /// Users.
    pub fn user_kind(&self) -> Kind<'a> {
        Kind {
            scope: &self.config.users,
            schema: &self.schemas.user,
        }
    }

    /// Groups, when configured.
    pub fn group_kind(&self) -> Option<Kind<'a>> {
        let groups = self.config.groups.as_ref()?;
        Some(Kind {
            scope: &groups.scope,
            schema: self.schemas.group.as_ref()?,
        })
    }

    /// The object types references may point to: users, and groups when groups nest.
    pub fn reference_kinds(&self) -> Vec<Kind<'a>> {
        let mut kinds = vec![self.user_kind()];
        kinds.extend(self.group_kind().filter(|_| {
            self.config
                .groups
                .as_ref()
                .is_some_and(|groups| groups.nested)
        }));
        kinds
    }

    /// Every object type, users first.
    pub fn kinds(&self) -> Vec<Kind<'a>> {
        let mut kinds = vec![self.user_kind()];
        kinds.extend(self.group_kind());
        kinds
    }

    /// The object type a change or read names; `invalid-input` for one this
    /// configuration does not have.
    pub fn kind(&self, object_type: &str) -> Result<Kind<'a>, Error> {
        self.kinds()
            .into_iter()
            .find(|kind| kind.scope.object_type == object_type)
            .ok_or_else(|| {
                let hint = if object_type == GROUP {
                    " (set groups = true to provision groups)"
                } else {
                    ""
                };
                Error::invalid_input(format!(
                    "generic-ldap has no object type '{object_type}' here{hint}"
                ))
            })
    }
}

/// An open session.
pub struct LdapSession {
    config: Config,
    directory: Directory,
    schemas: RefCell<Option<Rc<Schemas>>>,
    references: ReferenceIndex,
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
            schemas: RefCell::new(None),
            references: ReferenceIndex::default(),
        })
    }

    fn context<'a>(&'a self, schemas: &'a Schemas) -> Context<'a> {
        Context {
            directory: &self.directory,
            config: &self.config,
            schemas,
            references: &self.references,
        }
    }

    /// The object types, read once per session.
    fn schemas(&self) -> Result<Rc<Schemas>, Error> {
        if let Some(schemas) = self.schemas.borrow().as_ref() {
            return Ok(Rc::clone(schemas));
        }
        self.load_schema()
    }

    /// Reads the subschema entry the root DSE names and builds the object types from it.
    fn load_schema(&self) -> Result<Rc<Schemas>, Error> {
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
        let mut user = TypeSchema::build(USER, &subschema, &self.config.users.object_classes)
            .map_err(|why| Error::invalid_input(format!("'user-object-classes': {why}")))?;
        if let Some(lock) = &self.config.disable {
            user.add_active(Disabling::new(lock, &subschema)?)?;
        }
        let manager_is_dn = subschema
            .attribute(MANAGER)
            .is_some_and(|definition| subschema.syntax_of(definition) == Some(DN_SYNTAX));
        if manager_is_dn {
            user.make_reference(MANAGER, false, &[USER]);
        }
        let group = match &self.config.groups {
            None => None,
            Some(groups) => {
                let mut group = TypeSchema::build(GROUP, &subschema, &groups.scope.object_classes)
                    .map_err(|why| Error::invalid_input(format!("'group-object-class': {why}")))?;
                let members: &[&'static str] = if groups.nested {
                    &[USER, GROUP]
                } else {
                    &[USER]
                };
                group.set_members(&groups.member, members).map_err(|why| {
                    Error::invalid_input(format!("'group-member-attribute': {why}"))
                })?;
                let holds_dns = subschema
                    .attribute(&groups.member)
                    .is_some_and(|definition| {
                        matches!(
                            subschema.syntax_of(definition),
                            Some(DN_SYNTAX | NAME_AND_OPTIONAL_UID_SYNTAX)
                        )
                    });
                if !holds_dns {
                    return Err(Error::invalid_input(format!(
                        "'group-member-attribute': '{}' does not hold DNs",
                        groups.member
                    )));
                }
                Some(group)
            }
        };
        let schemas = Rc::new(Schemas { user, group });
        *self.schemas.borrow_mut() = Some(Rc::clone(&schemas));
        Ok(schemas)
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
        let request = search_request(
            dn,
            LdapSearchScope::Base,
            present("objectClass"),
            &[NO_ATTRIBUTES],
        );
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
    /// DSE, and checks that the base DN, the group base DN when groups are configured, and
    /// the accesslog, when deltas read it, exist.
    fn test_connection(&self) -> Result<(), Error> {
        self.root_dse()?;
        self.must_exist(&self.config.base_dn.to_string(), "base-dn")?;
        if let Some(groups) = &self.config.groups {
            self.must_exist(&groups.scope.base_dn.to_string(), "group-base-dn")?;
        }
        if let DeltaSource::Accesslog(log) = &self.config.delta {
            self.must_exist(&log.to_string(), "accesslog-base")?;
        }
        Ok(())
    }

    /// The object types, read afresh from the server's subschema.
    fn schema(&self) -> Result<Schema, Error> {
        let schemas = self.load_schema()?;
        let mut object_types = vec![schemas.user.object_type(self.config.anchor)];
        object_types.extend(
            schemas
                .group
                .as_ref()
                .map(|group| group.object_type(self.config.anchor)),
        );
        Ok(Schema { object_types })
    }

    /// One page of a full import.
    fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error> {
        let schemas = self.schemas()?;
        full_import(&self.context(&schemas), cursor, page_size)
    }

    /// One page of a delta import.
    fn delta_import(&self, watermark: &str, page_size: u32) -> Result<DeltaPage, Error> {
        let schemas = self.schemas()?;
        delta_import(&self.context(&schemas), watermark, page_size)
    }

    /// The changes, in order; one result per change. The object types are read and a
    /// connection kept from an earlier call is checked first, once for all of them:
    /// when either fails, every change fails alike.
    fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        let ready = self.schemas().and_then(|_| self.directory.check_alive());
        if let Err(error) = ready {
            return changes.iter().map(|_| Err(error.clone())).collect();
        }
        changes
            .into_iter()
            .map(|change| self.apply(change))
            .collect()
    }

    /// One user or group, found by its anchor.
    fn read(&self, target: &ObjectRef) -> Result<Option<Object>, Error> {
        let schemas = self.schemas()?;
        export::read(&self.context(&schemas), target)
    }

    /// Adds a user or group.
    fn add(&self, change: AddChange) -> Result<Object, Error> {
        let schemas = self.schemas()?;
        export::add(&self.context(&schemas), &change)
    }

    /// Modifies (and, when its RDN changes, renames) a user or group; `None` for a change
    /// of a group's members alone, which the host applies to its copy itself.
    fn update(&self, change: UpdateChange) -> Result<Option<Object>, Error> {
        let schemas = self.schemas()?;
        export::update(&self.context(&schemas), &change)
    }

    /// Deletes a user or group.
    fn delete(&self, target: ObjectRef) -> Result<(), Error> {
        let schemas = self.schemas()?;
        export::delete(&self.context(&schemas), &target)
    }

    /// Renames or moves a user or group.
    fn rename(&self, change: RenameChange) -> Result<Option<Object>, Error> {
        let schemas = self.schemas()?;
        export::rename(&self.context(&schemas), &change).map(Some)
    }
}
