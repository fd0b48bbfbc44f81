//! A session: the checked configuration and the database it reads and writes, with one
//! method per call of the contract's `session` resource.

use ferry_connector::sql::Database;
use ferry_connector::types::{
    AddChange, DeltaPage, Error, ImportPage, Object, ObjectRef, RenameChange, Schema, UpdateChange,
};
use ferry_connector::{Session, Settings};

use crate::config;
use crate::delta::delta_import;
use crate::errors::from_sql;
use crate::export;
use crate::import::full_import;
use crate::mapping::{DeltaSource, TypeMapping};
use crate::statements;

/// An open session over database `D`.
pub struct SqlSession<D: Database> {
    db: D,
    types: Vec<TypeMapping>,
}

impl<D: Database> SqlSession<D> {
    /// Reads the settings, checks them against the tables the database has, and keeps the
    /// resulting mappings for the session's life.
    pub fn open(db: D, settings: &Settings) -> Result<Self, Error> {
        let configs = config::parse(settings)?;
        let types = configs
            .iter()
            .enumerate()
            .map(|(index, config)| TypeMapping::build(&db, index, config))
            .collect::<Result<_, _>>()?;
        Ok(Self { db, types })
    }
}

impl<D: Database + 'static> Session for SqlSession<D> {
    /// Proves the connection works and that every table the session uses still answers
    /// with the columns it uses, reading no rows.
    fn test_connection(&self) -> Result<(), Error> {
        self.db
            .query(&statements::select_one())
            .map_err(|failure| from_sql("connecting to the database", failure))?;
        for mapping in &self.types {
            let columns = mapping.columns.iter().map(|column| column.quoted.as_str());
            let soft_delete = mapping
                .soft_delete
                .iter()
                .map(|soft_delete| soft_delete.quoted.as_str());
            let mut probes = vec![(
                &mapping.table,
                columns.chain(soft_delete).collect::<Vec<_>>(),
            )];
            if let Some(DeltaSource::ChangeTable {
                table,
                sequence,
                anchor,
            }) = &mapping.delta
            {
                let mut columns = vec![sequence.as_str()];
                columns.extend(anchor.iter().map(String::as_str));
                probes.push((table, columns));
            }
            for child in &mapping.multi_valued {
                let mut columns: Vec<&str> = child.key.iter().map(String::as_str).collect();
                columns.push(child.value.as_str());
                columns.extend(child.type_column.as_deref());
                probes.push((&child.table, columns));
            }
            for (table, columns) in probes {
                self.db
                    .query(&statements::probe(table, &columns))
                    .map_err(|failure| {
                        from_sql(&format!("checking table '{}'", table.display), failure)
                    })?;
            }
        }
        Ok(())
    }

    /// The object types and their attributes, as discovered at `open`.
    fn schema(&self) -> Result<Schema, Error> {
        Ok(Schema {
            object_types: self.types.iter().map(TypeMapping::schema).collect(),
        })
    }

    /// One page of a full import.
    fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error> {
        full_import(&self.db, &self.types, cursor, page_size)
    }

    /// One page of a delta import.
    fn delta_import(&self, watermark: &str, page_size: u32) -> Result<DeltaPage, Error> {
        delta_import(&self.db, &self.types, watermark, page_size)
    }

    /// One object, read by its anchor.
    fn read(&self, target: &ObjectRef) -> Result<Option<Object>, Error> {
        crate::objects::read(&self.db, &self.types, target)
    }

    /// Creates an object, in its own transaction.
    fn add(&self, change: AddChange) -> Result<Object, Error> {
        export::add(&self.db, &self.types, change)
    }

    /// Changes an object, in its own transaction.
    fn update(&self, change: UpdateChange) -> Result<Option<Object>, Error> {
        export::update(&self.db, &self.types, change)
    }

    /// Deletes an object, in its own transaction.
    fn delete(&self, target: ObjectRef) -> Result<(), Error> {
        export::delete(&self.db, &self.types, &target)
    }

    /// Moves an object to a new key (`new-name` is the new anchor), in its own
    /// transaction; returns it as read back, with its new anchor.
    fn rename(&self, change: RenameChange) -> Result<Option<Object>, Error> {
        export::rename(&self.db, &self.types, change)
    }
}
