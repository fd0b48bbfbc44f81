//! Every statement the connector generates, as pure functions of the mapping and the
//! values: identifiers come pre-quoted from the mapping (the host quoted them at `open`),
//! values are always bound through the dialect's placeholders.

use crate::mapping::{MultiValuedMapping, SoftDelete, SoftDeleteFilter, Table, TypeMapping};
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

/// A page of a full import: the objects after `after` in anchor order, soft-deleted ones
/// left out. The columns are those of `select_list`.
pub fn objects_after(
    dialect: Dialect,
    mapping: &TypeMapping,
    after: Option<SqlValue>,
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
    statement.push(&format!(" ORDER BY {anchor} LIMIT "));
    statement.bind(SqlValue::Integer(i64::from(limit)));
    statement.finish()
}

/// The rows of the objects with these anchors, soft-deleted ones included (the callers
/// decide what a soft-deleted row means). The columns are those of `select_list`.
pub fn objects_by_anchor(
    dialect: Dialect,
    mapping: &TypeMapping,
    anchors: Vec<SqlValue>,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {} FROM {} WHERE {} IN (",
        select_list(mapping),
        mapping.table.quoted,
        anchor_of(mapping)
    ));
    statement.bind_list(anchors);
    statement.push(")");
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
    after_anchor: Option<SqlValue>,
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
            statement.push(&format!(" AND {anchor} > "));
            statement.bind(after_anchor);
            statement.push(")");
        }
        (Some(last), None) => {
            statement.push(&format!(" AND {watermark} >= "));
            statement.bind(last);
        }
        (None, _) => {}
    }
    statement.push(&format!(" ORDER BY {watermark}, {anchor} LIMIT "));
    statement.bind(SqlValue::Integer(i64::from(limit)));
    statement.finish()
}

/// The changes recorded after sequence `after`, in order: the sequence as stored, and the
/// changed object's anchor. Rows without a sequence value are never read: no position
/// could be kept past them.
pub fn changes_after(
    dialect: Dialect,
    table: &Table,
    sequence: &str,
    anchor: &str,
    after: Option<SqlValue>,
    limit: u32,
) -> Statement {
    let sequence = qualified(table, sequence);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {}, {} FROM {}",
        stored_form(dialect, &sequence),
        qualified(table, anchor),
        table.quoted
    ));
    let mut conditions = vec![Condition::Text(format!("{sequence} IS NOT NULL"))];
    conditions.extend(after.map(|after| Condition::Compare(sequence.clone(), ">", after)));
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

/// The values of a multi-valued attribute for several owners at once: key, value.
pub fn values_of(dialect: Dialect, child: &MultiValuedMapping, keys: Vec<SqlValue>) -> Statement {
    let key = qualified(&child.table, &child.key);
    let value = qualified(&child.table, &child.value);
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "SELECT {key}, {value} FROM {} WHERE {key} IN (",
        child.table.quoted
    ));
    statement.bind_list(keys);
    statement.push(&format!(") ORDER BY {key}, {value}"));
    statement.finish()
}

/// Inserts a row with the given (quoted column, value) pairs and returns its anchor.
/// With no values the database fills every column (`DEFAULT VALUES`).
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
    statement.push(&format!(" RETURNING {}", mapping.anchor_column().quoted));
    statement.finish()
}

/// Sets the given (quoted column, value) pairs of one row; NULL clears.
pub fn update_row(
    dialect: Dialect,
    mapping: &TypeMapping,
    values: Vec<(&str, SqlValue)>,
    anchor: SqlValue,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("UPDATE {} SET ", mapping.table.quoted));
    for (index, (column, value)) in values.into_iter().enumerate() {
        if index > 0 {
            statement.push(", ");
        }
        statement.push(&format!("{column} = "));
        statement.bind(value);
    }
    statement.conditions([Condition::Compare(anchor_of(mapping), "=", anchor)]);
    statement.finish()
}

/// Deletes one row.
pub fn delete_row(dialect: Dialect, mapping: &TypeMapping, anchor: SqlValue) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", mapping.table.quoted));
    statement.conditions([Condition::Compare(anchor_of(mapping), "=", anchor)]);
    statement.finish()
}

/// Adds one value of a multi-valued attribute.
pub fn insert_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: SqlValue,
    value: SqlValue,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "INSERT INTO {} ({}, {}) VALUES (",
        child.table.quoted, child.key, child.value
    ));
    statement.bind_list([key, value]);
    statement.push(")");
    statement.finish()
}

/// Adds one value of a multi-valued attribute unless the owner already has it, so that
/// adding a member twice is harmless even without a unique constraint on the table.
pub fn insert_missing_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: SqlValue,
    value: SqlValue,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!(
        "INSERT INTO {table} ({k}, {v}) SELECT ",
        table = child.table.quoted,
        k = child.key,
        v = child.value
    ));
    statement.bind_list([key.clone(), value.clone()]);
    statement.push(&format!(
        " WHERE NOT EXISTS (SELECT 1 FROM {}",
        child.table.quoted
    ));
    statement.conditions([
        Condition::Compare(qualified(&child.table, &child.key), "=", key),
        Condition::Compare(qualified(&child.table, &child.value), "=", value),
    ]);
    statement.push(")");
    statement.finish()
}

/// Whether the object with this anchor exists (soft-deleted ones count as absent).
pub fn exists(dialect: Dialect, mapping: &TypeMapping, anchor: SqlValue) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("SELECT 1 FROM {}", mapping.table.quoted));
    let mut conditions = vec![Condition::Compare(anchor_of(mapping), "=", anchor)];
    if let Some(soft_delete) = &mapping.soft_delete {
        conditions.push(Condition::Text(not_deleted(&mapping.table, soft_delete)));
    }
    statement.conditions(conditions);
    statement.finish()
}

/// Removes one value of a multi-valued attribute.
pub fn delete_value(
    dialect: Dialect,
    child: &MultiValuedMapping,
    key: SqlValue,
    value: SqlValue,
) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", child.table.quoted));
    statement.conditions([
        Condition::Compare(qualified(&child.table, &child.key), "=", key),
        Condition::Compare(qualified(&child.table, &child.value), "=", value),
    ]);
    statement.finish()
}

/// Removes every value of a multi-valued attribute of one owner.
pub fn delete_values(dialect: Dialect, child: &MultiValuedMapping, key: SqlValue) -> Statement {
    let mut statement = Builder::new(dialect);
    statement.push(&format!("DELETE FROM {}", child.table.quoted));
    statement.conditions([Condition::Compare(
        qualified(&child.table, &child.key),
        "=",
        key,
    )]);
    statement.finish()
}

/// The columns every object read selects: the exposed columns in mapping order, then the
/// soft-delete column when there is one (`objects::decode_row` reads them in that order).
fn select_list(mapping: &TypeMapping) -> String {
    let columns = mapping.columns.iter().map(|column| column.quoted.as_str());
    let soft_delete = mapping
        .soft_delete
        .iter()
        .map(|soft_delete| soft_delete.quoted.as_str());
    columns
        .chain(soft_delete)
        .map(|column| qualified(&mapping.table, column))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column reference qualified by its table. SQLite reads an unqualified "name" that is
/// no column as a string literal (its double-quoted-string quirk), so a column dropped
/// after `open` would silently read as its own name; a qualified one is an error.
fn qualified(table: &Table, quoted_column: &str) -> String {
    format!("{}.{quoted_column}", table.quoted)
}

/// The qualified anchor column.
fn anchor_of(mapping: &TypeMapping) -> String {
    qualified(&mapping.table, &mapping.anchor_column().quoted)
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
    /// `column op ?`.
    Compare(String, &'static str, SqlValue),
    /// A condition with no value.
    Text(String),
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

    /// Appends ` WHERE a AND b …`, or nothing when there are no conditions.
    fn conditions(&mut self, conditions: impl IntoIterator<Item = Condition>) {
        for (index, condition) in conditions.into_iter().enumerate() {
            self.push(if index == 0 { " WHERE " } else { " AND " });
            match condition {
                Condition::Compare(column, operator, value) => {
                    self.push(&format!("{column} {operator} "));
                    self.bind(value);
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
            anchor: 0,
            soft_delete: Some(SoftDelete {
                quoted: "\"deleted\"".into(),
                filter: SoftDeleteFilter::IsNotTrue,
            }),
            delta: Some(DeltaSource::Watermark("\"updated\"".into())),
            multi_valued: vec![emails()],
            statements: OperatorStatements::default(),
        }
    }

    fn emails() -> MultiValuedMapping {
        MultiValuedMapping {
            attribute: "emails".into(),
            table: Table {
                quoted: "\"user_emails\"".into(),
                display: "user_emails".into(),
            },
            key: "\"user_id\"".into(),
            value: "\"email\"".into(),
            value_type: ValueType::String,
            stored_type: ValueType::String,
            reference: None,
            read_only: false,
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
            Some(SqlValue::Integer(7)),
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
            Some(SqlValue::Integer(4)),
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
            "\"uid\"",
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
        let rows = objects_by_anchor(Dialect::Postgres, &users(), anchors.clone());
        assert!(rows.text.ends_with(&format!(
            "FROM \"hr\".\"users\" WHERE {} IN ($1, $2)",
            u("id")
        )));
        let values = values_of(Dialect::Sqlite, &emails(), anchors.clone());
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
        assert_eq!(
            insert.text,
            "INSERT INTO \"hr\".\"users\" (\"login\") VALUES ($1) RETURNING \"id\""
        );
        assert_eq!(insert.params, std::slice::from_ref(&hostile));
        assert_eq!(
            insert_row(Dialect::Sqlite, &users(), Vec::new()).text,
            "INSERT INTO \"hr\".\"users\" DEFAULT VALUES RETURNING \"id\""
        );
        let update = update_row(
            Dialect::Postgres,
            &users(),
            vec![("\"login\"", hostile.clone()), ("\"mail\"", SqlValue::Null)],
            SqlValue::Integer(3),
        );
        assert_eq!(
            update.text,
            format!(
                "UPDATE \"hr\".\"users\" SET \"login\" = $1, \"mail\" = $2 WHERE {} = $3",
                u("id")
            )
        );
        assert_eq!(
            update.params,
            [hostile, SqlValue::Null, SqlValue::Integer(3)]
        );
        assert_eq!(
            delete_row(Dialect::Sqlite, &users(), SqlValue::Integer(3)).text,
            format!("DELETE FROM \"hr\".\"users\" WHERE {} = ?", u("id"))
        );
    }

    #[test]
    fn writes_child_rows() {
        let key = SqlValue::Integer(3);
        let value = text("a@example.com");
        assert_eq!(
            insert_value(Dialect::Postgres, &emails(), key.clone(), value.clone()).text,
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

    #[test]
    fn describes_tables_with_names_quoted_or_bound() {
        assert_eq!(
            sqlite_table_info(Some("\"aux\""), "\"user\"\"s\"").text,
            "PRAGMA \"aux\".table_info(\"user\"\"s\")"
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
