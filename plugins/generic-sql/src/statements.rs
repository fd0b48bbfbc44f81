//! Every statement the connector generates, as pure functions of the mapping and the
//! values: identifiers come pre-quoted from the mapping (the host quoted them at `open`),
//! values are always bound through the dialect's placeholders.

use crate::anchor::Key;
use crate::mapping::{
    ChildRow, MultiValuedMapping, SoftDelete, SoftDeleteFilter, Table, TypeMapping,
};
use ferry_connector::sql::Statement;
use ferry_connector::sql::{Dialect, SqlValue};

/// A table's name for messages: `schema.table` or `table`.
pub fn display_name(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{table}"),
        None => table.to_owned(),
    }
}

/// SQLite's description of a table's columns. PRAGMA takes the table as an identifier,
/// not a value, so the quoted name goes into the text.
pub fn sqlite_table_info(quoted_schema: Option<&str>, quoted_table: &str) -> Statement {
    let prefix = quoted_schema
        .map(|schema| format!("{schema}."))
        .unwrap_or_default();
    Statement {
        text: format!("PRAGMA {prefix}table_info({quoted_table})"),
        params: Vec::new(),
    }
}

/// One row per relation named `table` that SQLite finds (in that schema, or in any when
/// none is given), with its type (`table`, `view`, …). PRAGMA takes the name as an
/// identifier, as [`sqlite_table_info`] does.
pub fn sqlite_table_list(quoted_schema: Option<&str>, quoted_table: &str) -> Statement {
    let prefix = quoted_schema
        .map(|schema| format!("{schema}."))
        .unwrap_or_default();
    Statement {
        text: format!("PRAGMA {prefix}table_list({quoted_table})"),
        params: Vec::new(),
    }
}

/// A row when PostgreSQL's `schema.table` is a view (without a schema, in the search
/// path's first one, as [`postgres_columns`] looks), with the names bound.
pub fn postgres_view(schema: Option<&str>, table: &str) -> Statement {
    let mut statement = Builder::new(Dialect::Postgres);
    statement.push("SELECT 1 FROM information_schema.views WHERE CAST(table_name AS text) = ");
    statement.bind(SqlValue::Text(table.to_owned()));
    statement.push(" AND CAST(table_schema AS text) = ");
    match schema {
        Some(schema) => statement.bind(SqlValue::Text(schema.to_owned())),
        None => statement.push("current_schema()"),
    };
    statement.finish()
}

/// PostgreSQL's description of a table's or view's columns, with the names bound. The
/// catalog's columns are cast to plain types so the host's driver needs to know no
/// `information_schema` domains; without a schema the search path's first one is used.
pub fn postgres_columns(schema: Option<&str>, table: &str) -> Statement {
    let mut statement = Builder::new(Dialect::Postgres);
    statement.push(
        "SELECT CAST(column_name AS text) AS name, CAST(udt_name AS text) AS type_name, \
         is_nullable = 'NO' AS not_null, \
         (column_default IS NOT NULL OR is_identity = 'YES' OR is_generated = 'ALWAYS') \
         AS has_default, \
         is_generated = 'ALWAYS' AS generated \
         FROM information_schema.columns WHERE CAST(table_name AS text) = ",
    );
    statement.bind(SqlValue::Text(table.to_owned()));
    statement.push(" AND CAST(table_schema AS text) = ");
    match schema {
        Some(schema) => statement.bind(SqlValue::Text(schema.to_owned())),
        None => statement.push("current_schema()"),
    };
    statement.push(" ORDER BY ordinal_position");
    statement.finish()
}

/// The cheapest statement that proves the connection works.
pub fn select_one() -> Statement {
    Statement {
        text: "SELECT 1".to_owned(),
        params: Vec::new(),
    }
}

/// Proves that a table still answers with the columns the session uses, reading no row.
pub fn probe(table: &Table, quoted_columns: &[&str]) -> Statement {
    let columns: Vec<String> = quoted_columns
        .iter()
        .map(|column| qualified(table, column))
        .collect();
    Statement {
        text: format!(
            "SELECT {} FROM {} WHERE 1 = 0",
            columns.join(", "),
            table.quoted
        ),
        params: Vec::new(),
    }
}

/// A page of a full import: the objects after key `after` in key order (a row-value
/// comparison `(a, b) > (?, ?)` for a composite key), soft-deleted ones left out. The
/// columns are those of `select_list`.
pub fn objects_after(
    dialect: Dialect,
    mapping: &TypeMapping,
    after: Option<Key>,
    limit: u32,
) -> Statement {
    let anchor = anchor_of(mapping);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {} FROM {}",
        select_list(mapping),
        mapping.table.quoted
    ));
    let mut conditions = Vec::new();
    if let Some(after) = after {
        conditions.push(Condition::Compare(anchor.clone(), ">", after));
    }
    if let Some(soft_delete) = &mapping.soft_delete {
        conditions.push(Condition::Text(not_deleted(&mapping.table, soft_delete)));
    }
    statement.conditions(conditions);
    statement.push(&format!(" ORDER BY {} LIMIT ", anchor.join(", ")));
    statement.bind(SqlValue::Integer(i64::from(limit)));
    statement.finish()
}

/// The rows of the objects with these keys, soft-deleted ones included (the callers
/// decide what a soft-deleted row means). The columns are those of `select_list`.
pub fn objects_by_anchor(dialect: Dialect, mapping: &TypeMapping, keys: Vec<Key>) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {} FROM {} WHERE ",
        select_list(mapping),
        mapping.table.quoted,
    ));
    statement.key_in(&anchor_of(mapping), keys);
    statement.finish()
}

/// The rows of changes after `last` in a watermark column, in (watermark, anchor) order,
/// soft-deleted rows included: the columns of `select_list`, then the watermark as the
/// database stores it. With no anchor yet (the position a full import hands over), rows
/// at `last` itself are included, since some of them may have changed after the import
/// read them.
pub fn changed_since(
    dialect: Dialect,
    mapping: &TypeMapping,
    watermark: &str,
    last: Option<SqlValue>,
    after_anchor: Option<Key>,
    limit: u32,
) -> Statement {
    let anchor = anchor_of(mapping);
    let watermark = qualified(&mapping.table, watermark);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {}, {} FROM {} WHERE {watermark} IS NOT NULL",
        select_list(mapping),
        stored_form(dialect, &watermark),
        mapping.table.quoted
    ));
    match (last, after_anchor) {
        (Some(last), Some(after_anchor)) => {
            statement.push(&format!(" AND ({watermark} > "));
            statement.bind(last.clone());
            statement.push(&format!(" OR {watermark} = "));
            statement.bind(last);
            statement.push(" AND ");
            statement.compare(&anchor, ">", after_anchor);
            statement.push(")");
        }
        (Some(last), None) => {
            statement.push(&format!(" AND {watermark} >= "));
            statement.bind(last);
        }
        (None, _) => {}
    }
    statement.push(&format!(
        " ORDER BY {watermark}, {} LIMIT ",
        anchor.join(", ")
    ));
    statement.bind(SqlValue::Integer(i64::from(limit)));
    statement.finish()
}

/// The changes recorded after sequence `after`, in order: the sequence as stored, and the
/// changed object's key columns. Rows without a sequence value are never read: no
/// position could be kept past them.
pub fn changes_after(
    dialect: Dialect,
    table: &Table,
    sequence: &str,
    anchor: &[String],
    after: Option<SqlValue>,
    limit: u32,
) -> Statement {
    let sequence = qualified(table, sequence);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {}, {} FROM {}",
        stored_form(dialect, &sequence),
        qualified_all(table, anchor).join(", "),
        table.quoted
    ));
    let mut conditions = vec![Condition::Text(format!("{sequence} IS NOT NULL"))];
    conditions.extend(after.map(|after| Condition::single(&sequence, ">", after)));
    statement.conditions(conditions);
    statement.push(&format!(" ORDER BY {sequence} LIMIT "));
    statement.bind(SqlValue::Integer(i64::from(limit)));
    statement.finish()
}

/// The largest value of a column as stored: where delta imports start after a full
/// import. (An aggregate carries no declared type, so SQLite hands back the stored text.)
pub fn maximum(table: &Table, quoted_column: &str) -> Statement {
    Statement {
        text: format!(
            "SELECT MAX({}) FROM {}",
            qualified(table, quoted_column),
            table.quoted
        ),
        params: Vec::new(),
    }
}

/// The values of a multi-valued attribute for several owners at once: the key columns,
/// then the value.
pub fn values_of(dialect: Dialect, child: &MultiValuedMapping, keys: Vec<Key>) -> Statement {
    let key = qualified_all(&child.table, &child.key).join(", ");
    let value = qualified(&child.table, &child.value);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {key}, {value} FROM {} WHERE ",
        child.table.quoted
    ));
    statement.key_in(&qualified_all(&child.table, &child.key), keys);
    statement.push(&format!(" ORDER BY {key}, {value}"));
    statement.finish()
}

/// Inserts a row with the given (quoted column, value) pairs and returns it: the columns
/// of `select_list` when the table can name them ([`TypeMapping::returned_as`]), so that
/// nothing needs reading back, else (a view) its key columns. With no values the database
/// fills every column (`DEFAULT VALUES`).
pub fn insert_row(
    dialect: Dialect,
    mapping: &TypeMapping,
    values: Vec<(&str, SqlValue)>,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("INSERT INTO {} ", mapping.table.quoted));
    if values.is_empty() {
        statement.push("DEFAULT VALUES");
    } else {
        let (columns, values): (Vec<&str>, Vec<SqlValue>) = values.into_iter().unzip();
        statement.push(&format!("({}) VALUES (", columns.join(", ")));
        statement.bind_list(values);
        statement.push(")");
    }
    let returned = match &mapping.returned_as {
        Some(name) => row_columns(mapping, name),
        None => mapping.anchor_quoted().join(", "),
    };
    statement.push(&format!(" RETURNING {returned}"));
    statement.finish()
}

/// Sets the given (quoted column, value) pairs of one row; NULL clears. Returns the row
/// (the columns of `select_list`) when the table can name them
/// ([`TypeMapping::returned_as`]), so that nothing needs reading back; else nothing.
pub fn update_row(
    dialect: Dialect,
    mapping: &TypeMapping,
    values: Vec<(&str, SqlValue)>,
    key: Key,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("UPDATE {} SET ", mapping.table.quoted));
    statement.assignments(values);
    statement.conditions([Condition::Compare(anchor_of(mapping), "=", key)]);
    if let Some(name) = &mapping.returned_as {
        statement.push(&format!(" RETURNING {}", row_columns(mapping, name)));
    }
    statement.finish()
}

/// Sets `columns` of `table` to `new` in every row where they hold `old` (and, when
/// `only` gives one, where that quoted column holds that value): how a key move carries
/// an object's key into its own row, its child rows, and the link tables and foreign key
/// columns that point at it (in a link table listing several object types, only the rows
/// whose type column names the moved object's type).
pub fn replace_values(
    dialect: Dialect,
    table: &Table,
    columns: &[String],
    old: Key,
    new: Key,
    only: Option<(&str, SqlValue)>,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("UPDATE {} SET ", table.quoted));
    statement.assignments(columns.iter().map(String::as_str).zip(new).collect());
    let only = only.map(|(column, value)| Condition::single(&qualified(table, column), "=", value));
    statement.conditions(
        [Condition::Compare(qualified_all(table, columns), "=", old)]
            .into_iter()
            .chain(only),
    );
    statement.finish()
}

/// Lets the rest of the transaction break foreign keys until it commits, where the
/// database allows it: SQLite defers every foreign key check, PostgreSQL those declared
/// DEFERRABLE. A key move needs it when a child row's constraint does not cascade: the
/// row and its children cannot both hold the new key in one statement.
pub fn defer_constraints(dialect: Dialect) -> Statement {
    Statement {
        text: match dialect {
            Dialect::Sqlite => "PRAGMA defer_foreign_keys = ON",
            Dialect::Postgres | Dialect::Mysql => "SET CONSTRAINTS ALL DEFERRED",
        }
        .to_owned(),
        params: Vec::new(),
    }
}

/// Deletes one row.
pub fn delete_row(dialect: Dialect, mapping: &TypeMapping, key: Key) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", mapping.table.quoted));
    statement.conditions([Condition::Compare(anchor_of(mapping), "=", key)]);
    statement.finish()
}

/// Adds one value of a multi-valued attribute.
pub fn insert_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: Key,
    row: ChildRow,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "INSERT INTO {} ({}) VALUES (",
        child.table.quoted,
        child_columns(child)
    ));
    statement.bind_list(child_cells(key, row));
    statement.push(")");
    statement.finish()
}

/// Adds one value of a multi-valued attribute unless the owner already has it (whatever
/// object type a link row names), so that adding a member twice is harmless even without
/// a unique constraint on the table.
pub fn insert_missing_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: Key,
    row: ChildRow,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "INSERT INTO {} ({}) SELECT ",
        child.table.quoted,
        child_columns(child)
    ));
    let value = row.value.clone();
    statement.bind_list(child_cells(key.clone(), row));
    statement.push(&format!(
        " WHERE NOT EXISTS (SELECT 1 FROM {}",
        child.table.quoted
    ));
    statement.conditions(child_value(child, key, value));
    statement.push(")");
    statement.finish()
}

/// The quoted columns a child row is written to: the key, the value, and the type column
/// of a link table listing several object types.
fn child_columns(child: &MultiValuedMapping) -> String {
    let columns = child
        .key
        .iter()
        .chain([&child.value])
        .chain(&child.type_column);
    columns.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// The values of [`child_columns`], in order.
fn child_cells(key: Key, row: ChildRow) -> impl Iterator<Item = SqlValue> {
    let object_type = row.object_type.map(SqlValue::Text);
    key.into_iter().chain([row.value]).chain(object_type)
}

/// Deletes the rows of a link table listing several object types that point at one
/// object: `value` in the value column and `object_type` in the type column. A deleted
/// object leaves the groups it was in, as a foreign key's cascade does where a link
/// points at one type (a column holding anchors of several types can have none).
pub fn delete_links(
    dialect: Dialect,
    child: &MultiValuedMapping,
    type_column: &str,
    value: SqlValue,
    object_type: &str,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", child.table.quoted));
    statement.conditions([
        Condition::single(&qualified(&child.table, &child.value), "=", value),
        Condition::single(
            &qualified(&child.table, type_column),
            "=",
            SqlValue::Text(object_type.to_owned()),
        ),
    ]);
    statement.finish()
}

/// How many live rows (not soft-deleted) hold each (object type, key) pair: one row, one
/// count per pair, in order; one round trip however many pairs. How a link table listing
/// several object types learns which of them a value names.
pub fn count_holders(dialect: Dialect, candidates: Vec<(&TypeMapping, Key)>) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push("SELECT ");
    for (index, (mapping, key)) in candidates.into_iter().enumerate() {
        if index > 0 {
            statement.push(", ");
        }
        statement.push(&format!("(SELECT COUNT(*) FROM {}", mapping.table.quoted));
        statement.conditions(live_key(mapping, key));
        statement.push(")");
    }
    statement.finish()
}

/// Whether the object with this key exists (soft-deleted ones count as absent).
pub fn exists(dialect: Dialect, mapping: &TypeMapping, key: Key) -> Statement {
    rows_with(dialect, mapping, live_key(mapping, key))
}

/// Whether any row holds this key, soft-deleted ones included: a key move must not take
/// a key a row still has.
pub fn key_taken(dialect: Dialect, mapping: &TypeMapping, key: Key) -> Statement {
    rows_with(
        dialect,
        mapping,
        [Condition::Compare(anchor_of(mapping), "=", key)],
    )
}

/// `SELECT 1` from the rows meeting `conditions`.
fn rows_with(
    dialect: Dialect,
    mapping: &TypeMapping,
    conditions: impl IntoIterator<Item = Condition>,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("SELECT 1 FROM {}", mapping.table.quoted));
    statement.conditions(conditions);
    statement.finish()
}

/// The conditions that pick the live (not soft-deleted) row holding `key`.
fn live_key(mapping: &TypeMapping, key: Key) -> Vec<Condition> {
    let live = mapping
        .soft_delete
        .as_ref()
        .map(|soft_delete| Condition::Text(not_deleted(&mapping.table, soft_delete)));
    [Condition::Compare(anchor_of(mapping), "=", key)]
        .into_iter()
        .chain(live)
        .collect()
}

/// Removes one value of a multi-valued attribute.
pub fn delete_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: Key,
    value: SqlValue,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", child.table.quoted));
    statement.conditions(child_value(child, key, value));
    statement.finish()
}

/// Removes every value of a multi-valued attribute of one owner.
pub fn delete_values(dialect: Dialect, child: &MultiValuedMapping, key: Key) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", child.table.quoted));
    statement.conditions([Condition::Compare(
        qualified_all(&child.table, &child.key),
        "=",
        key,
    )]);
    statement.finish()
}

/// The conditions that pick one owner's child row holding `value`.
fn child_value(child: &MultiValuedMapping, key: Key, value: SqlValue) -> [Condition; 2] {
    [
        Condition::Compare(qualified_all(&child.table, &child.key), "=", key),
        Condition::single(&qualified(&child.table, &child.value), "=", value),
    ]
}

/// The columns every object read selects: the exposed columns in mapping order, then the
/// soft-delete column when there is one (`objects::decode_row` reads them in that order).
fn select_list(mapping: &TypeMapping) -> String {
    row_columns(mapping, &mapping.table.quoted)
}

/// The columns of [`select_list`], each qualified by `table`: the table as a query names
/// it, or its own name in a RETURNING clause (which takes no schema in SQLite).
fn row_columns(mapping: &TypeMapping, table: &str) -> String {
    let columns = mapping.columns.iter().map(|column| column.quoted.as_str());
    let soft_delete = mapping
        .soft_delete
        .iter()
        .map(|soft_delete| soft_delete.quoted.as_str());
    columns
        .chain(soft_delete)
        .map(|column| format!("{table}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column reference qualified by its table. SQLite reads an unqualified "name" that is
/// no column as a string literal (its double-quoted-string quirk), so a column dropped
/// after `open` would silently read as its own name; a qualified one is an error.
fn qualified(table: &Table, quoted_column: &str) -> String {
    format!("{}.{quoted_column}", table.quoted)
}

/// Each column qualified by its table.
fn qualified_all(table: &Table, quoted_columns: &[String]) -> Vec<String> {
    quoted_columns
        .iter()
        .map(|column| qualified(table, column))
        .collect()
}

/// The qualified anchor columns, in anchor order.
fn anchor_of(mapping: &TypeMapping) -> Vec<String> {
    qualified_all(&mapping.table, &mapping.anchor_quoted())
}

/// A column as the database stores it. SQLite's host driver may convert a column's value
/// by its declared type (TIMESTAMP text into a timestamp); written back in the driver's
/// own form it would no longer compare correctly with the stored text. `+col` is SQLite's
/// no-op operator: the same value, without a declared type.
fn stored_form(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("+{column}"),
        Dialect::Postgres | Dialect::Mysql => column.to_owned(),
    }
}

/// The condition that keeps rows not soft-deleted.
fn not_deleted(table: &Table, soft_delete: &SoftDelete) -> String {
    let column = qualified(table, &soft_delete.quoted);
    match soft_delete.filter {
        SoftDeleteFilter::IsNotTrue => format!("{column} IS NOT TRUE"),
        SoftDeleteFilter::ZeroOrNull => format!("COALESCE({column}, 0) = 0"),
    }
}

/// One condition of a WHERE clause.
enum Condition {
    /// `column op ?`, or `(a, b) op (?, ?)` for several columns: a row-value comparison,
    /// which PostgreSQL and SQLite (3.15 and later) order column by column.
    Compare(Vec<String>, &'static str, Vec<SqlValue>),
    /// A condition with no value.
    Text(String),
}

impl Condition {
    /// `column op ?` for one column and one value.
    fn single(column: &str, operator: &'static str, value: SqlValue) -> Self {
        Self::Compare(vec![column.to_owned()], operator, vec![value])
    }
}

/// Builds a statement's text and parameters together, so placeholders and values cannot
/// get out of step.
struct Builder {
    dialect: Dialect,
    text: String,
    params: Vec<SqlValue>,
}

impl Builder {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::new(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a placeholder for `value`.
    fn bind(&mut self, value: SqlValue) {
        self.params.push(value);
        match self.dialect {
            Dialect::Postgres => {
                let number = self.params.len();
                self.text.push_str(&format!("${number}"));
            }
            Dialect::Sqlite | Dialect::Mysql => self.text.push('?'),
        }
    }

    /// Appends placeholders for `values`, separated by commas.
    fn bind_list(&mut self, values: impl IntoIterator<Item = SqlValue>) {
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
    }

    /// Appends `a = ?, b = ?` for the (quoted column, value) pairs.
    fn assignments(&mut self, values: Vec<(&str, SqlValue)>) {
        for (index, (column, value)) in values.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.push(&format!("{column} = "));
            self.bind(value);
        }
    }

    /// Appends `column op ?`, or `(a, b) op (?, ?)` for several columns.
    fn compare(&mut self, columns: &[String], operator: &str, values: Vec<SqlValue>) {
        if let [column] = columns {
            self.push(&format!("{column} {operator} "));
            self.bind_list(values);
        } else {
            self.push(&format!("({}) {operator} (", columns.join(", ")));
            self.bind_list(values);
            self.push(")");
        }
    }

    /// Appends the condition that the columns hold one of `keys`: `a IN (?, ?)` for one
    /// column, `((a, b) = (?, ?) OR (a, b) = (?, ?))` for several (SQLite has no list
    /// of row values after IN).
    fn key_in(&mut self, columns: &[String], keys: Vec<Key>) {
        if let [column] = columns {
            self.push(&format!("{column} IN ("));
            self.bind_list(keys.into_iter().flatten());
            self.push(")");
            return;
        }
        self.push("(");
        for (index, key) in keys.into_iter().enumerate() {
            if index > 0 {
                self.push(" OR ");
            }
            self.compare(columns, "=", key);
        }
        self.push(")");
    }

    /// Appends ` WHERE a AND b …`, or nothing when there are no conditions.
    fn conditions(&mut self, conditions: impl IntoIterator<Item = Condition>) {
        for (index, condition) in conditions.into_iter().enumerate() {
            self.push(if index == 0 { " WHERE " } else { " AND " });
            match condition {
                Condition::Compare(columns, operator, values) => {
                    self.compare(&columns, operator, values);
                }
                Condition::Text(text) => self.push(&text),
            }
        }
    }

    fn finish(self) -> Statement {
        Statement {
            text: self.text,
            params: self.params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{ColumnMapping, DeltaSource, OperatorStatements};
    use ferry_connector::types::ValueType;

    fn column(name: &str, value_type: ValueType) -> ColumnMapping {
        ColumnMapping {
            name: name.into(),
            quoted: format!("\"{name}\""),
            value_type,
            stored_type: value_type,
            reference: None,
            required: false,
            read_only: false,
        }
    }

    fn users() -> TypeMapping {
        TypeMapping {
            name: "user".into(),
            table: Table {
                quoted: "\"hr\".\"users\"".into(),
                display: "hr.users".into(),
            },
            columns: vec![
                column("id", ValueType::Integer),
                column("login", ValueType::String),
            ],
            anchor: vec![0],
            soft_delete: Some(SoftDelete {
                quoted: "\"deleted\"".into(),
                filter: SoftDeleteFilter::IsNotTrue,
            }),
            delta: Some(DeltaSource::Watermark("\"updated\"".into())),
            multi_valued: vec![emails()],
            statements: OperatorStatements::default(),
            returned_as: Some("\"users\"".into()),
        }
    }

    fn emails() -> MultiValuedMapping {
        MultiValuedMapping {
            attribute: "emails".into(),
            table: Table {
                quoted: "\"user_emails\"".into(),
                display: "user_emails".into(),
            },
            key: vec!["\"user_id\"".into()],
            value: "\"email\"".into(),
            value_type: ValueType::String,
            stored_type: ValueType::String,
            reference: Vec::new(),
            type_column: None,
            read_only: false,
        }
    }

    fn row(value: SqlValue) -> ChildRow {
        ChildRow {
            value,
            object_type: None,
        }
    }

    fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.into())
    }

    /// The qualified form of a column of `"hr"."users"`.
    fn u(column: &str) -> String {
        format!("\"hr\".\"users\".\"{column}\"")
    }

    #[test]
    fn pages_by_anchor_without_soft_deleted_rows() {
        let first = objects_after(Dialect::Postgres, &users(), None, 100);
        assert_eq!(
            first.text,
            format!(
                "SELECT {}, {}, {} FROM \"hr\".\"users\" WHERE {} IS NOT TRUE ORDER BY {} LIMIT $1",
                u("id"),
                u("login"),
                u("deleted"),
                u("deleted"),
                u("id")
            )
        );
        assert_eq!(first.params, [SqlValue::Integer(100)]);
        let mut integer_flag = users();
        integer_flag.soft_delete.as_mut().unwrap().filter = SoftDeleteFilter::ZeroOrNull;
        let next = objects_after(
            Dialect::Sqlite,
            &integer_flag,
            Some(vec![SqlValue::Integer(7)]),
            2,
        );
        assert!(
            next.text.ends_with(&format!(
                "WHERE {} > ? AND COALESCE({}, 0) = 0 ORDER BY {} LIMIT ?",
                u("id"),
                u("deleted"),
                u("id")
            )),
            "{}",
            next.text
        );
        assert_eq!(next.params, [SqlValue::Integer(7), SqlValue::Integer(2)]);
    }

    #[test]
    fn reads_changes_after_a_watermark_and_anchor() {
        let statement = changed_since(
            Dialect::Postgres,
            &users(),
            "\"updated\"",
            Some(text("t1")),
            Some(vec![SqlValue::Integer(4)]),
            10,
        );
        let (id, updated) = (u("id"), u("updated"));
        assert_eq!(
            statement.text,
            format!(
                "SELECT {}, {}, {}, {updated} FROM \"hr\".\"users\" WHERE {updated} IS NOT NULL \
                 AND ({updated} > $1 OR {updated} = $2 AND {id} > $3) ORDER BY {updated}, {id} LIMIT $4",
                u("id"),
                u("login"),
                u("deleted")
            )
        );
        assert_eq!(
            statement.params,
            [
                text("t1"),
                text("t1"),
                SqlValue::Integer(4),
                SqlValue::Integer(10)
            ]
        );
        let handed_over = changed_since(
            Dialect::Sqlite,
            &users(),
            "\"updated\"",
            Some(text("t1")),
            None,
            10,
        );
        assert!(
            handed_over.text.ends_with(&format!(
                ", +{updated} FROM \"hr\".\"users\" WHERE {updated} IS NOT NULL AND {updated} >= ? \
                 ORDER BY {updated}, {id} LIMIT ?"
            )),
            "{}",
            handed_over.text
        );
        let from_start = changed_since(Dialect::Sqlite, &users(), "\"updated\"", None, None, 10);
        assert_eq!(from_start.params, [SqlValue::Integer(10)]);
    }

    #[test]
    fn reads_a_change_table_in_sequence_order() {
        let table = Table {
            quoted: "\"changes\"".into(),
            display: "changes".into(),
        };
        let statement = changes_after(
            Dialect::Sqlite,
            &table,
            "\"seq\"",
            &["\"uid\"".into()],
            Some(SqlValue::Integer(9)),
            5,
        );
        assert_eq!(
            statement.text,
            "SELECT +\"changes\".\"seq\", \"changes\".\"uid\" FROM \"changes\" \
             WHERE \"changes\".\"seq\" IS NOT NULL AND \"changes\".\"seq\" > ? \
             ORDER BY \"changes\".\"seq\" LIMIT ?"
        );
        assert_eq!(
            statement.params,
            [SqlValue::Integer(9), SqlValue::Integer(5)]
        );
        assert_eq!(
            maximum(&table, "\"seq\"").text,
            "SELECT MAX(\"changes\".\"seq\") FROM \"changes\""
        );
    }

    #[test]
    fn reads_objects_and_child_values_by_anchor_lists() {
        let anchors = vec![SqlValue::Integer(1), SqlValue::Integer(2)];
        let keys: Vec<Key> = anchors.iter().map(|anchor| vec![anchor.clone()]).collect();
        let rows = objects_by_anchor(Dialect::Postgres, &users(), keys.clone());
        assert!(rows.text.ends_with(&format!(
            "FROM \"hr\".\"users\" WHERE {} IN ($1, $2)",
            u("id")
        )));
        let values = values_of(Dialect::Sqlite, &emails(), keys);
        assert_eq!(
            values.text,
            "SELECT \"user_emails\".\"user_id\", \"user_emails\".\"email\" FROM \"user_emails\" \
             WHERE \"user_emails\".\"user_id\" IN (?, ?) ORDER BY \"user_emails\".\"user_id\", \"user_emails\".\"email\""
        );
        assert_eq!(values.params, anchors);
    }

    #[test]
    fn writes_rows_with_every_value_bound() {
        let hostile = text("x'); DROP TABLE users; --");
        let insert = insert_row(
            Dialect::Postgres,
            &users(),
            vec![("\"login\"", hostile.clone())],
        );
        // The whole row, named as RETURNING can in both dialects: by the table's own name.
        let returned = "RETURNING \"users\".\"id\", \"users\".\"login\", \"users\".\"deleted\"";
        assert_eq!(
            insert.text,
            format!("INSERT INTO \"hr\".\"users\" (\"login\") VALUES ($1) {returned}")
        );
        assert_eq!(insert.params, std::slice::from_ref(&hostile));
        // A view's insert returns only the key: its row is read back.
        let mut view = users();
        view.returned_as = None;
        assert_eq!(
            insert_row(Dialect::Sqlite, &view, Vec::new()).text,
            "INSERT INTO \"hr\".\"users\" DEFAULT VALUES RETURNING \"id\""
        );
        let update = update_row(
            Dialect::Postgres,
            &users(),
            vec![("\"login\"", hostile.clone()), ("\"mail\"", SqlValue::Null)],
            vec![SqlValue::Integer(3)],
        );
        assert_eq!(
            update.text,
            format!(
                "UPDATE \"hr\".\"users\" SET \"login\" = $1, \"mail\" = $2 WHERE {} = $3 {returned}",
                u("id")
            )
        );
        assert!(
            update_row(
                Dialect::Sqlite,
                &view,
                Vec::new(),
                vec![SqlValue::Integer(3)]
            )
            .text
            .ends_with(&format!("WHERE {} = ?", u("id")))
        );
        assert_eq!(
            update.params,
            [hostile, SqlValue::Null, SqlValue::Integer(3)]
        );
        assert_eq!(
            delete_row(Dialect::Sqlite, &users(), vec![SqlValue::Integer(3)]).text,
            format!("DELETE FROM \"hr\".\"users\" WHERE {} = ?", u("id"))
        );
    }

    #[test]
    fn writes_child_rows() {
        let key = vec![SqlValue::Integer(3)];
        let value = text("a@example.com");
        assert_eq!(
            insert_value(
                Dialect::Postgres,
                &emails(),
                key.clone(),
                row(value.clone())
            )
            .text,
            "INSERT INTO \"user_emails\" (\"user_id\", \"email\") VALUES ($1, $2)"
        );
        assert_eq!(
            delete_value(Dialect::Postgres, &emails(), key.clone(), value).text,
            "DELETE FROM \"user_emails\" WHERE \"user_emails\".\"user_id\" = $1 AND \"user_emails\".\"email\" = $2"
        );
        assert_eq!(
            delete_values(Dialect::Sqlite, &emails(), key).text,
            "DELETE FROM \"user_emails\" WHERE \"user_emails\".\"user_id\" = ?"
        );
    }

    /// Accounts keyed by (tenant, login), with roles in a child table keyed by both.
    fn accounts() -> TypeMapping {
        let mut accounts = users();
        accounts.table = Table {
            quoted: "\"accounts\"".into(),
            display: "accounts".into(),
        };
        accounts.columns = ["tenant", "mail", "login"]
            .map(|name| column(name, ValueType::String))
            .into();
        accounts.anchor = vec![0, 2];
        accounts.soft_delete = None;
        accounts.returned_as = Some("\"accounts\"".into());
        accounts.multi_valued[0].key = vec!["\"t\"".into(), "\"l\"".into()];
        accounts
    }

    #[test]
    fn compares_composite_keys_as_row_values() {
        let (tenant, login) = ("\"accounts\".\"tenant\"", "\"accounts\".\"login\"");
        let key = vec![text("acme"), text("ann")];
        let page = objects_after(Dialect::Postgres, &accounts(), Some(key.clone()), 2);
        assert!(
            page.text.ends_with(&format!(
                "WHERE ({tenant}, {login}) > ($1, $2) ORDER BY {tenant}, {login} LIMIT $3"
            )),
            "{}",
            page.text
        );
        let rows = objects_by_anchor(
            Dialect::Sqlite,
            &accounts(),
            vec![key.clone(), vec![text("acme"), text("bob")]],
        );
        assert!(
            rows.text.ends_with(&format!(
                "WHERE (({tenant}, {login}) = (?, ?) OR ({tenant}, {login}) = (?, ?))"
            )),
            "{}",
            rows.text
        );
        assert_eq!(rows.params.len(), 4);
        let changed = changed_since(
            Dialect::Postgres,
            &accounts(),
            "\"updated\"",
            Some(text("t1")),
            Some(key.clone()),
            10,
        );
        assert!(
            changed.text.contains(&format!(
                "OR \"accounts\".\"updated\" = $2 AND ({tenant}, {login}) > ($3, $4)) \
                 ORDER BY \"accounts\".\"updated\", {tenant}, {login} LIMIT $5"
            )),
            "{}",
            changed.text
        );
        assert_eq!(
            insert_row(Dialect::Sqlite, &accounts(), Vec::new()).text,
            "INSERT INTO \"accounts\" DEFAULT VALUES \
             RETURNING \"accounts\".\"tenant\", \"accounts\".\"mail\", \"accounts\".\"login\""
        );
        assert_eq!(
            delete_row(Dialect::Sqlite, &accounts(), key.clone()).text,
            format!("DELETE FROM \"accounts\" WHERE ({tenant}, {login}) = (?, ?)")
        );
        let roles = &accounts().multi_valued[0];
        let (t, l) = ("\"user_emails\".\"t\"", "\"user_emails\".\"l\"");
        let insert = insert_missing_value(Dialect::Postgres, roles, key.clone(), row(text("x")));
        assert_eq!(
            insert.text,
            format!(
                "INSERT INTO \"user_emails\" (\"t\", \"l\", \"email\") SELECT $1, $2, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM \"user_emails\" WHERE ({t}, {l}) = ($4, $5) \
                 AND \"user_emails\".\"email\" = $6)"
            )
        );
        assert_eq!(
            values_of(Dialect::Sqlite, roles, vec![key]).text,
            format!(
                "SELECT {t}, {l}, \"user_emails\".\"email\" FROM \"user_emails\" \
                 WHERE (({t}, {l}) = (?, ?)) ORDER BY {t}, {l}, \"user_emails\".\"email\""
            )
        );
    }

    #[test]
    fn moves_keys_with_every_value_bound() {
        let moved = replace_values(
            Dialect::Postgres,
            &accounts().table,
            &["\"tenant\"".into(), "\"login\"".into()],
            vec![text("acme"), text("ann")],
            vec![text("acme"), text("anne")],
            None,
        );
        assert_eq!(
            moved.text,
            "UPDATE \"accounts\" SET \"tenant\" = $1, \"login\" = $2 \
             WHERE (\"accounts\".\"tenant\", \"accounts\".\"login\") = ($3, $4)"
        );
        assert_eq!(
            moved.params,
            [text("acme"), text("anne"), text("acme"), text("ann")]
        );
        assert_eq!(
            key_taken(Dialect::Sqlite, &users(), vec![SqlValue::Integer(2)]).text,
            format!("SELECT 1 FROM \"hr\".\"users\" WHERE {} = ?", u("id"))
        );
        assert_eq!(
            exists(Dialect::Sqlite, &users(), vec![SqlValue::Integer(2)]).text,
            format!(
                "SELECT 1 FROM \"hr\".\"users\" WHERE {} = ? AND {} IS NOT TRUE",
                u("id"),
                u("deleted")
            )
        );
    }

    /// Group members that are users or groups: `kind` names each row's object type.
    fn members() -> MultiValuedMapping {
        MultiValuedMapping {
            attribute: "members".into(),
            table: Table {
                quoted: "\"m\"".into(),
                display: "m".into(),
            },
            key: vec!["\"team\"".into()],
            value: "\"member\"".into(),
            value_type: ValueType::Reference,
            stored_type: ValueType::String,
            reference: vec!["user".into(), "group".into()],
            type_column: Some("\"kind\"".into()),
            read_only: false,
        }
    }

    #[test]
    fn writes_link_rows_with_their_object_type_bound() {
        let key = vec![text("ops")];
        let member = ChildRow {
            value: text("ann"),
            object_type: Some("user".into()),
        };
        let insert = insert_missing_value(Dialect::Postgres, &members(), key.clone(), member);
        assert_eq!(
            insert.text,
            "INSERT INTO \"m\" (\"team\", \"member\", \"kind\") SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM \"m\" WHERE \"m\".\"team\" = $4 AND \"m\".\"member\" = $5)"
        );
        assert_eq!(
            insert.params,
            [
                text("ops"),
                text("ann"),
                text("user"),
                text("ops"),
                text("ann")
            ]
        );
        let gone = delete_links(Dialect::Sqlite, &members(), "\"kind\"", text("ann"), "user");
        assert_eq!(
            gone.text,
            "DELETE FROM \"m\" WHERE \"m\".\"member\" = ? AND \"m\".\"kind\" = ?"
        );
        assert_eq!(gone.params, [text("ann"), text("user")]);
        let moved = replace_values(
            Dialect::Sqlite,
            &members().table,
            &["\"member\"".into()],
            vec![text("ann")],
            vec![text("anna")],
            Some(("\"kind\"", text("user"))),
        );
        assert_eq!(
            moved.text,
            "UPDATE \"m\" SET \"member\" = ? WHERE \"m\".\"member\" = ? AND \"m\".\"kind\" = ?"
        );
        assert_eq!(moved.params, [text("anna"), text("ann"), text("user")]);
    }

    #[test]
    fn counts_the_holders_of_several_keys_in_one_statement() {
        let statement = count_holders(
            Dialect::Postgres,
            vec![
                (&users(), vec![SqlValue::Integer(7)]),
                (&accounts(), vec![text("acme"), text("ann")]),
            ],
        );
        assert_eq!(
            statement.text,
            format!(
                "SELECT (SELECT COUNT(*) FROM \"hr\".\"users\" WHERE {} = $1 AND {} IS NOT TRUE), \
                 (SELECT COUNT(*) FROM \"accounts\" WHERE (\"accounts\".\"tenant\", \"accounts\".\"login\") = ($2, $3))",
                u("id"),
                u("deleted")
            )
        );
        assert_eq!(
            statement.params,
            [SqlValue::Integer(7), text("acme"), text("ann")]
        );
    }

    #[test]
    fn describes_tables_with_names_quoted_or_bound() {
        assert_eq!(
            sqlite_table_info(Some("\"aux\""), "\"user\"\"s\"").text,
            "PRAGMA \"aux\".table_info(\"user\"\"s\")"
        );
        assert_eq!(
            sqlite_table_list(Some("\"aux\""), "\"users\"").text,
            "PRAGMA \"aux\".table_list(\"users\")"
        );
        let view = postgres_view(Some("hr"), "users");
        assert_eq!(
            view.text,
            "SELECT 1 FROM information_schema.views \
             WHERE CAST(table_name AS text) = $1 AND CAST(table_schema AS text) = $2"
        );
        assert_eq!(view.params, [text("users"), text("hr")]);
        assert!(
            postgres_view(None, "users")
                .text
                .ends_with("CAST(table_schema AS text) = current_schema()")
        );
        let with_schema = postgres_columns(Some("hr"), "users");
        assert!(
            with_schema
                .text
                .contains("CAST(table_name AS text) = $1 AND CAST(table_schema AS text) = $2")
        );
        assert_eq!(with_schema.params, [text("users"), text("hr")]);
        let default_schema = postgres_columns(None, "users");
        assert!(
            default_schema
                .text
                .contains("CAST(table_schema AS text) = current_schema() ORDER BY")
        );
        assert_eq!(default_schema.params, [text("users")]);
        assert_eq!(
            probe(&users().table, &["\"id\"", "\"login\""]).text,
            format!(
                "SELECT {}, {} FROM \"hr\".\"users\" WHERE 1 = 0",
                u("id"),
                u("login")
            )
        );
    }
}
