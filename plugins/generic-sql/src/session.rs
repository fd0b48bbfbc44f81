//! A session: the checked configuration and the database it reads and writes, with one
//! method per call of the contract's `session` resource.

use crate::config;
use crate::database::Database;
use crate::delta::delta_import;
use crate::errors::from_sql;
use crate::export::export;
use crate::ferry::connector::types::{
    Change, ChangeResult, DeltaPage, Error, ImportPage, Schema, Setting,
};
use crate::import::full_import;
use crate::mapping::{DeltaSource, TypeMapping};
use crate::statements;

/// An open session over database `D`.
pub struct Connector<D: Database> {
    db: D,
    types: Vec<TypeMapping>,
}

impl<D: Database> Connector<D> {
    /// Reads the settings, checks them against the tables the database has, and keeps the
    /// resulting mappings for the session's life.
    pub fn open(db: D, settings: &[Setting]) -> Result<Self, Error> {
        let configs = config::parse(settings)?;
        let types = configs
            .iter()
            .enumerate()
            .map(|(index, config)| TypeMapping::build(&db, index, config))
            .collect::<Result<_, _>>()?;
        Ok(Self { db, types })
    }

    /// Proves the connection works and that every table the session uses still answers
    /// with the columns it uses, reading no rows.
    pub fn test_connection(&self) -> Result<(), Error> {
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
                probes.push((table, vec![sequence.as_str(), anchor.as_str()]));
            }
            for child in &mapping.multi_valued {
                probes.push((&child.table, vec![child.key.as_str(), child.value.as_str()]));
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
    pub fn schema(&self) -> Schema {
        Schema {
            object_types: self.types.iter().map(TypeMapping::schema).collect(),
        }
    }

    /// One page of a full import.
    pub fn full_import(&self, cursor: Option<&str>, page_size: u32) -> Result<ImportPage, Error> {
        full_import(&self.db, &self.types, cursor, page_size)
    }

    /// One page of a delta import.
    pub fn delta_import(&self, watermark: &str, page_size: u32) -> Result<DeltaPage, Error> {
        delta_import(&self.db, &self.types, watermark, page_size)
    }

    /// The changes, each in its own transaction; one result per change, in order.
    pub fn export(&self, changes: Vec<Change>) -> Vec<ChangeResult> {
        export(&self.db, &self.types, changes)
    }
}
