//! The object types as the session uses them: the configuration checked against the
//! discovered columns, with every identifier quoted once (by the host's
//! `quote-identifier`) and every attribute's type decided. Statements are generated from
//! this, never from the raw configuration.

use crate::anchor::{self, Key};
use crate::config::ObjectTypeConfig;
use crate::discovery::{DiscoveredColumn, columns_of, returning_works};
use crate::named_params::{NamedStatement, translate};
use crate::statements::display_name;
use crate::values::{stored, value_type_of};
use ferry_connector::sql::{Database, Dialect, SqlValue};
use ferry_connector::types::{AttributeSchema, Error, ObjectTypeSchema, Value, ValueType};

/// One object type mapped onto its table.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeMapping {
    /// The object type's name.
    pub name: String,
    /// The table or view.
    pub table: Table,
    /// The exposed columns (all but excluded and soft-delete ones), in table order; each is
    /// a single-valued attribute of the same name.
    pub columns: Vec<ColumnMapping>,
    /// The indexes in `columns` of the anchor columns, in anchor order: one, or several
    /// for a composite anchor.
    pub anchor: Vec<usize>,
    /// How deleted rows are marked, when they are.
    pub soft_delete: Option<SoftDelete>,
    /// Where delta imports see changes, when they can.
    pub delta: Option<DeltaSource>,
    /// Attributes kept in child tables.
    pub multi_valued: Vec<MultiValuedMapping>,
    /// The operator's statements, translated for the dialect.
    pub statements: OperatorStatements,
    /// How the generated INSERT and UPDATE name the columns of the row they wrote, to
    /// return it (`RETURNING`) instead of reading it back: the table's quoted name without
    /// its schema (SQLite's RETURNING takes none). `None` for a view (or a SQLite virtual
    /// table), whose rows are read back: see [`returning_works`].
    pub returned_as: Option<String>,
}

/// A table as statements name it and as messages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Quoted, schema-qualified when configured: `"hr"."users"`.
    pub quoted: String,
    /// For messages: `hr.users`.
    pub display: String,
}

/// An exposed column: one single-valued attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMapping {
    /// The column's (and attribute's) name.
    pub name: String,
    /// The quoted name.
    pub quoted: String,
    /// The attribute's type: from the declared type, or `reference` for a foreign key
    /// configured in `references`.
    pub value_type: ValueType,
    /// The column's own type, which references are written as.
    pub stored_type: ValueType,
    /// The object type a foreign key column points to.
    pub reference: Option<String>,
    /// NOT NULL without a default (never an anchor column, which the database may
    /// generate).
    pub required: bool,
    /// Configured read-only, the watermark column, or a generated column.
    pub read_only: bool,
}

impl ColumnMapping {
    /// `value` as this column stores it.
    pub fn stored(&self, value: &Value) -> Result<SqlValue, Error> {
        stored(self.stored_type, &self.name, value)
    }
}

/// A soft-delete column and the filter that keeps its deleted rows out of full imports.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftDelete {
    /// The quoted column.
    pub quoted: String,
    /// Which form of filter suits the column's type.
    pub filter: SoftDeleteFilter,
}

/// How a statement keeps rows that are not soft-deleted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SoftDeleteFilter {
    /// `col IS NOT TRUE`: a PostgreSQL boolean, which cannot be compared with 0.
    IsNotTrue,
    /// `COALESCE(col, 0) = 0`: integers, and SQLite's 0/1 booleans.
    ZeroOrNull,
}

/// Where a delta import finds what changed.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaSource {
    /// A change table kept by a trigger: sees hard deletes.
    ChangeTable {
        /// The change table.
        table: Table,
        /// Its quoted sequence column.
        sequence: String,
        /// Its quoted columns holding the changed object's key, in anchor order.
        anchor: Vec<String>,
    },
    /// A column that grows with every change: the quoted watermark column.
    Watermark(String),
}

/// A multi-valued attribute kept in a child table.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiValuedMapping {
    /// The attribute's name.
    pub attribute: String,
    /// The child table.
    pub table: Table,
    /// The quoted columns holding the owner's key, in anchor order.
    pub key: Vec<String>,
    /// The quoted column holding one value.
    pub value: String,
    /// The values' type: from the value column's declared type, or `reference` for a
    /// link to another object type.
    pub value_type: ValueType,
    /// The value column's own type, which references are written as.
    pub stored_type: ValueType,
    /// The object types the values point to, for a link table; empty for plain values.
    pub reference: Vec<String>,
    /// The quoted column naming each row's object type, for a link table whose values
    /// point to several types (`reference` listed them).
    pub type_column: Option<String>,
    /// Configured read-only.
    pub read_only: bool,
}

impl MultiValuedMapping {
    /// `value` as the value column stores it.
    pub fn stored(&self, value: &Value) -> Result<SqlValue, Error> {
        stored(self.stored_type, &self.attribute, value)
    }

    /// Whether this is a link table whose values may point at objects of `object_type`.
    pub fn links_to(&self, object_type: &str) -> bool {
        self.reference.iter().any(|name| name == object_type)
    }
}

/// One value of a multi-valued attribute as its child row stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    /// The value column's value.
    pub value: SqlValue,
    /// The type column's value: the object type the value points to, for a link table
    /// listing several.
    pub object_type: Option<String>,
}

/// The operator's statements that replace the generated ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperatorStatements {
    /// Replaces the generated INSERT.
    pub insert: Option<NamedStatement>,
    /// Replaces the generated UPDATE of single-valued attributes.
    pub update: Option<NamedStatement>,
    /// Replaces the generated DELETE (child rows included).
    pub delete: Option<NamedStatement>,
    /// Sets the password: see [`PASSWORD`].
    pub password: Option<NamedStatement>,
}

/// The write-only attribute an object type has when the operator gives a password
/// statement.
pub const PASSWORD: &str = "password";

/// An attribute of an object type, found by name.
#[derive(Debug, Clone, Copy)]
pub enum AttributeRef<'a> {
    /// A column of the table (its index in `columns`, and the column).
    Column(usize, &'a ColumnMapping),
    /// A child table.
    MultiValued(&'a MultiValuedMapping),
}

impl<'a> AttributeRef<'a> {
    /// The attribute's name.
    pub fn name(self) -> &'a str {
        match self {
            Self::Column(_, column) => &column.name,
            Self::MultiValued(child) => &child.attribute,
        }
    }

    /// The attribute's value type.
    pub fn value_type(self) -> ValueType {
        match self {
            Self::Column(_, column) => column.value_type,
            Self::MultiValued(child) => child.value_type,
        }
    }

    /// Whether exports may write it.
    pub fn read_only(self) -> bool {
        match self {
            Self::Column(_, column) => column.read_only,
            Self::MultiValued(child) => child.read_only,
        }
    }
}

impl TypeMapping {
    /// Checks entry `index` of the configuration against the database's tables and builds
    /// its mapping. Every error is `invalid-input` naming the entry and key, except a
    /// database that cannot be reached (`unavailable`).
    pub fn build(
        db: &dyn Database,
        index: usize,
        config: &ObjectTypeConfig,
    ) -> Result<Self, Error> {
        let label = config.label(index);
        let schema = config.schema.as_deref();
        let table_of = |name: &str| Table {
            quoted: match schema {
                Some(schema) => format!(
                    "{}.{}",
                    db.quote_identifier(schema),
                    db.quote_identifier(name)
                ),
                None => db.quote_identifier(name),
            },
            display: display_name(schema, name),
        };
        let table = table_of(&config.table);
        let discovered = columns_of(db, &label, schema, &config.table)?;
        let returned_as = returning_works(db, &label, schema, &config.table)?
            .then(|| db.quote_identifier(&config.table));
        for (key, name) in config.anchor.keyed("anchor") {
            find_column(&discovered, &label, &table, &key, name)?;
        }
        let anchor_names = config.anchor.names();
        let named = [
            ("watermark", &config.watermark),
            ("soft-delete", &config.soft_delete),
        ];
        for (key, name) in named
            .iter()
            .filter_map(|(key, name)| Some((key, name.as_deref()?)))
        {
            find_column(&discovered, &label, &table, key, name)?;
        }
        for (position, name) in config.exclude.iter().enumerate() {
            find_column(
                &discovered,
                &label,
                &table,
                &format!("exclude[{position}]"),
                name,
            )?;
        }
        let columns: Vec<ColumnMapping> = discovered
            .iter()
            .filter(|column| {
                !config.exclude.contains(&column.name)
                    && config.soft_delete.as_ref() != Some(&column.name)
            })
            .map(|column| ColumnMapping {
                name: column.name.clone(),
                quoted: db.quote_identifier(&column.name),
                value_type: match config.references.get(&column.name) {
                    Some(_) => ValueType::Reference,
                    None => value_type_of(&column.type_name),
                },
                stored_type: value_type_of(&column.type_name),
                reference: config.references.get(&column.name).cloned(),
                required: column.not_null
                    && !column.has_default
                    && !column.generated
                    && !anchor_names.contains(&column.name),
                read_only: column.generated
                    || config.read_only.contains(&column.name)
                    || config.watermark.as_ref() == Some(&column.name),
            })
            .collect();
        let anchor = anchor_names
            .iter()
            .map(|name| {
                columns
                    .iter()
                    .position(|column| column.name == *name)
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "{label}: the anchor column '{name}' is the soft-delete column"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let soft_delete = config.soft_delete.as_ref().map(|name| {
            let is_boolean = discovered.iter().any(|column| {
                column.name == *name && value_type_of(&column.type_name) == ValueType::Boolean
            });
            SoftDelete {
                quoted: db.quote_identifier(name),
                filter: if is_boolean && db.dialect() == Dialect::Postgres {
                    SoftDeleteFilter::IsNotTrue
                } else {
                    SoftDeleteFilter::ZeroOrNull
                },
            }
        });

        let delta = match (&config.change_table, &config.watermark) {
            (Some(change), _) => {
                let change_table = table_of(&change.table);
                let change_columns = columns_of(db, &label, schema, &change.table)?;
                find_column(
                    &change_columns,
                    &label,
                    &change_table,
                    "change-table.sequence",
                    &change.sequence,
                )?;
                for (key, name) in change.anchor.keyed("change-table.anchor") {
                    find_column(&change_columns, &label, &change_table, &key, name)?;
                }
                Some(DeltaSource::ChangeTable {
                    table: change_table,
                    sequence: db.quote_identifier(&change.sequence),
                    anchor: quote_all(db, change.anchor.names()),
                })
            }
            (None, Some(watermark)) => Some(DeltaSource::Watermark(db.quote_identifier(watermark))),
            (None, None) => None,
        };

        let mut multi_valued = Vec::with_capacity(config.multi_valued.len());
        for (position, child) in config.multi_valued.iter().enumerate() {
            let key_prefix = format!("multi-valued[{position}]");
            if discovered
                .iter()
                .any(|column| column.name == child.attribute)
            {
                return Err(Error::invalid_input(format!(
                    "{label}: {key_prefix}.attribute: '{}' is already a column of table '{}'",
                    child.attribute, table.display
                )));
            }
            let child_table = table_of(&child.table);
            let child_columns = columns_of(db, &label, schema, &child.table)?;
            for (key, name) in child.key.keyed(&format!("{key_prefix}.key")) {
                find_column(&child_columns, &label, &child_table, &key, name)?;
            }
            let value = find_column(
                &child_columns,
                &label,
                &child_table,
                &format!("{key_prefix}.value"),
                &child.value,
            )?;
            let type_column = child
                .reference_type_column
                .as_deref()
                .map(|name| {
                    let key = format!("{key_prefix}.reference-type-column");
                    find_column(&child_columns, &label, &child_table, &key, name)
                        .map(|_| db.quote_identifier(name))
                })
                .transpose()?;
            let stored_type = value_type_of(&value.type_name);
            multi_valued.push(MultiValuedMapping {
                attribute: child.attribute.clone(),
                table: child_table,
                key: quote_all(db, child.key.names()),
                value: db.quote_identifier(&child.value),
                value_type: match child.reference {
                    Some(_) => ValueType::Reference,
                    None => stored_type,
                },
                stored_type,
                reference: child.reference_types().to_vec(),
                type_column,
                read_only: config.read_only.contains(&child.attribute),
            });
        }

        for (position, name) in config.read_only.iter().enumerate() {
            let known = discovered.iter().any(|column| column.name == *name)
                || multi_valued.iter().any(|child| child.attribute == *name);
            if !known {
                return Err(Error::invalid_input(format!(
                    "{label}: read-only[{position}]: '{name}' is neither a column of table '{}' \
                     nor a multi-valued attribute",
                    table.display
                )));
            }
        }

        let mut mapping = Self {
            name: config.name.clone(),
            table,
            columns,
            anchor,
            soft_delete,
            delta,
            multi_valued,
            statements: OperatorStatements::default(),
            returned_as,
        };
        mapping.statements = mapping.operator_statements(&label, config, db.dialect())?;
        Ok(mapping)
    }

    /// The anchor columns, in anchor order.
    pub fn anchor_columns(&self) -> impl Iterator<Item = &ColumnMapping> {
        self.anchor.iter().map(|&index| &self.columns[index])
    }

    /// The anchor columns, quoted, in anchor order.
    pub fn anchor_quoted(&self) -> Vec<String> {
        self.anchor_columns()
            .map(|column| column.quoted.clone())
            .collect()
    }

    /// The part of `key` for the anchor column called `name`; NULL for any other name
    /// (the operator's statements bound with a key were checked to name only anchor
    /// columns, and the password).
    pub fn key_part(&self, key: &Key, name: &str) -> SqlValue {
        self.anchor_columns()
            .position(|column| column.name == name)
            .and_then(|position| key.get(position).cloned())
            .unwrap_or(SqlValue::Null)
    }

    /// The key `anchor` names, each part typed like its column; `None` when it cannot
    /// name an object of this type (see [`anchor::decode`]).
    pub fn key_of(&self, anchor: &str) -> Option<Key> {
        let types: Vec<ValueType> = self
            .anchor_columns()
            .map(|column| column.stored_type)
            .collect();
        anchor::decode(anchor, &types)
    }

    /// The attribute called `name`, if the object type exposes one.
    pub fn attribute(&self, name: &str) -> Option<AttributeRef<'_>> {
        if let Some((index, column)) = self
            .columns
            .iter()
            .enumerate()
            .find(|(_, column)| column.name == name)
        {
            return Some(AttributeRef::Column(index, column));
        }
        self.multi_valued
            .iter()
            .find(|child| child.attribute == name)
            .map(AttributeRef::MultiValued)
    }

    /// The object type as the contract's schema describes it.
    pub fn schema(&self) -> ObjectTypeSchema {
        let attribute =
            |name: &str, value_type, multi_valued, required, read_only| AttributeSchema {
                name: name.to_owned(),
                value_type,
                multi_valued,
                required,
                read_only,
                secret: false,
                reference_types: Vec::new(),
                description: None,
            };
        let columns = self.columns.iter().map(|column| AttributeSchema {
            reference_types: column.reference.iter().cloned().collect(),
            ..attribute(
                &column.name,
                column.value_type,
                false,
                column.required,
                column.read_only,
            )
        });
        let children = self.multi_valued.iter().map(|child| AttributeSchema {
            reference_types: child.reference.clone(),
            ..attribute(
                &child.attribute,
                child.value_type,
                true,
                false,
                child.read_only,
            )
        });
        let password = self.statements.password.iter().map(|_| AttributeSchema {
            secret: true,
            description: Some("Write-only: set through the operator's password statement".into()),
            ..attribute(PASSWORD, ValueType::String, false, false, false)
        });
        ObjectTypeSchema {
            name: self.name.clone(),
            anchor_attributes: self
                .anchor_columns()
                .map(|column| column.name.clone())
                .collect(),
            attributes: columns.chain(children).chain(password).collect(),
        }
    }

    /// Translates the operator's statements and checks that they name only parameters
    /// they will be given: the single-valued attributes for insert and update, the anchor
    /// columns for delete, and those and the password for the password statement.
    fn operator_statements(
        &self,
        label: &str,
        config: &ObjectTypeConfig,
        dialect: Dialect,
    ) -> Result<OperatorStatements, Error> {
        let attributes: Vec<&str> = self
            .columns
            .iter()
            .map(|column| column.name.as_str())
            .collect();
        let anchor: Vec<&str> = self
            .anchor_columns()
            .map(|column| column.name.as_str())
            .collect();
        let prepare = |key: &str,
                       text: &Option<String>,
                       allowed: &[&str]|
         -> Result<Option<NamedStatement>, Error> {
            let Some(text) = text else { return Ok(None) };
            let statement = translate(text, dialect).map_err(|reason| {
                Error::invalid_input(format!("{label}: statements.{key}: {reason}"))
            })?;
            if let Some(unknown) = statement
                .names
                .iter()
                .find(|name| !allowed.contains(&name.as_str()))
            {
                return Err(Error::invalid_input(format!(
                    "{label}: statements.{key}: unknown parameter ':{unknown}' (it may use {})",
                    allowed
                        .iter()
                        .map(|name| format!(":{name}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Ok(Some(statement))
        };
        let statements = &config.statements;
        if statements.password.is_some() && attributes.contains(&PASSWORD) {
            return Err(Error::invalid_input(format!(
                "{label}: statements.password: the table has a column '{PASSWORD}', which \
                 the write-only attribute would hide; exclude the column"
            )));
        }
        let password_names: Vec<&str> = anchor.iter().copied().chain([PASSWORD]).collect();
        Ok(OperatorStatements {
            insert: prepare("insert", &statements.insert, &attributes)?,
            update: prepare("update", &statements.update, &attributes)?,
            delete: prepare("delete", &statements.delete, &anchor)?,
            password: prepare("password", &statements.password, &password_names)?,
        })
    }
}

/// The names, each quoted for the database.
fn quote_all(db: &dyn Database, names: &[String]) -> Vec<String> {
    names.iter().map(|name| db.quote_identifier(name)).collect()
}

/// The discovered column `name`, which configuration key `key` of entry `label` names; an
/// error listing the table's columns when there is none.
fn find_column<'a>(
    columns: &'a [DiscoveredColumn],
    label: &str,
    table: &Table,
    key: &str,
    name: &str,
) -> Result<&'a DiscoveredColumn, Error> {
    columns
        .iter()
        .find(|column| column.name == name)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "{label}: {key}: the table '{}' has no column '{name}' (its columns: {})",
                table.display,
                columns
                    .iter()
                    .map(|column| column.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
