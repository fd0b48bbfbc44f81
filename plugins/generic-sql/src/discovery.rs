//! Which columns a table has, asked of the database at `open`: the configuration is
//! checked against them, and their declared types decide the attributes' types. Also
//! whether the table is a plain one, whose written rows a RETURNING clause can return.

use ferry_connector::sql::{Database, Dialect, RowSet, SqlError, SqlErrorKind, SqlValue};
use ferry_connector::{Error, ErrorKind};

use crate::statements;

/// A column as the database describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredColumn {
    /// The column's name, exactly as the database spells it.
    pub name: String,
    /// The declared type (SQLite) or `udt_name` (PostgreSQL).
    pub type_name: String,
    /// NOT NULL.
    pub not_null: bool,
    /// The database fills it when an insert leaves it out (a default, an identity).
    pub has_default: bool,
    /// Computed by the database; it cannot be written.
    pub generated: bool,
}

/// The columns of `schema.table` in table order. A table that does not exist has no
/// columns (SQLite's PRAGMA and `information_schema` both answer with no rows), and is
/// reported as not found. `label` names the configuration entry in errors.
pub fn columns_of(
    db: &dyn Database,
    label: &str,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<DiscoveredColumn>, Error> {
    let display = statements::display_name(schema, table);
    let statement = match db.dialect() {
        Dialect::Sqlite => statements::sqlite_table_info(
            schema.map(|name| db.quote_identifier(name)).as_deref(),
            &db.quote_identifier(table),
        ),
        Dialect::Postgres => statements::postgres_columns(schema, table),
        Dialect::Mysql => {
            return Err(Error::unsupported(
                "generic-sql supports SQLite and PostgreSQL databases; this app's is MySQL",
            ));
        }
    };
    let rows = db.query(&statement).map_err(|failure| {
        refused(
            &format!("{label}: cannot read the columns of table '{display}'"),
            failure,
        )
    })?;
    let columns = match db.dialect() {
        Dialect::Postgres => read_postgres(rows),
        _ => read_sqlite(rows),
    }
    .map_err(|reason| {
        Error::internal(format!(
            "{label}: unexpected description of table '{display}': {reason}"
        ))
    })?;
    if columns.is_empty() {
        return Err(Error::invalid_input(format!(
            "{label}: the table '{display}' does not exist \
             (or the app's database user cannot see it)"
        )));
    }
    Ok(columns)
}

/// Whether a write's RETURNING clause gives the row as `schema.table` (known to exist:
/// its columns were read) then holds it: not for a view (an INSTEAD OF trigger's NEW row
/// lacks the defaults; a row the view's condition hides still comes back), nor for a
/// SQLite virtual table (its UPDATE takes no RETURNING). In SQLite, without a schema, a
/// view of that name in any attached database counts: the answer only decides whether
/// written rows are read back, which is right for a table too, just slower.
pub fn returning_works(
    db: &dyn Database,
    label: &str,
    schema: Option<&str>,
    table: &str,
) -> Result<bool, Error> {
    let statement = match db.dialect() {
        Dialect::Postgres => statements::postgres_view(schema, table),
        _ => statements::sqlite_table_list(
            schema.map(|name| db.quote_identifier(name)).as_deref(),
            &db.quote_identifier(table),
        ),
    };
    let display = statements::display_name(schema, table);
    let rows = db.query(&statement).map_err(|failure| {
        refused(
            &format!("{label}: cannot tell whether '{display}' is a table or a view"),
            failure,
        )
    })?;
    Ok(match db.dialect() {
        Dialect::Postgres => rows.rows.is_empty(),
        _ => {
            let kind = index_of(&rows, "type").map_err(|reason| {
                Error::internal(format!(
                    "{label}: unexpected description of '{display}': {reason}"
                ))
            })?;
            !rows.rows.iter().any(|row| {
                matches!(row.get(kind), Some(SqlValue::Text(kind)) if kind == "view" || kind == "virtual")
            })
        }
    })
}

/// A failed question about the database's tables: `unavailable` when the database could
/// not answer, else the configuration's mistake (`invalid-input`).
fn refused(context: &str, failure: SqlError) -> Error {
    let kind = match failure.kind {
        SqlErrorKind::Unavailable | SqlErrorKind::Timeout => ErrorKind::Unavailable,
        _ => ErrorKind::InvalidInput,
    };
    Error::new(kind, format!("{context}: {}", failure.message))
}

/// Reads `PRAGMA table_info` rows: cid, name, type, notnull, dflt_value, pk.
fn read_sqlite(rows: RowSet) -> Result<Vec<DiscoveredColumn>, String> {
    if rows.rows.is_empty() {
        return Ok(Vec::new());
    }
    let [name, type_name, not_null, default] = [
        index_of(&rows, "name")?,
        index_of(&rows, "type")?,
        index_of(&rows, "notnull")?,
        index_of(&rows, "dflt_value")?,
    ];
    rows.rows
        .into_iter()
        .map(|row| {
            Ok(DiscoveredColumn {
                name: text_at(&row, name)?,
                type_name: text_at(&row, type_name).unwrap_or_default(),
                not_null: flag_at(&row, not_null)?,
                has_default: !matches!(row.get(default), None | Some(SqlValue::Null)),
                generated: false,
            })
        })
        .collect()
}

/// Reads the rows of `statements::postgres_columns`: name, type_name, not_null,
/// has_default, generated.
fn read_postgres(rows: RowSet) -> Result<Vec<DiscoveredColumn>, String> {
    if rows.rows.is_empty() {
        return Ok(Vec::new());
    }
    let [name, type_name, not_null, has_default, generated] = [
        index_of(&rows, "name")?,
        index_of(&rows, "type_name")?,
        index_of(&rows, "not_null")?,
        index_of(&rows, "has_default")?,
        index_of(&rows, "generated")?,
    ];
    rows.rows
        .into_iter()
        .map(|row| {
            Ok(DiscoveredColumn {
                name: text_at(&row, name)?,
                type_name: text_at(&row, type_name)?,
                not_null: flag_at(&row, not_null)?,
                has_default: flag_at(&row, has_default)?,
                generated: flag_at(&row, generated)?,
            })
        })
        .collect()
}

/// The position of a result column, found by name so the order of the answer's columns
/// does not matter.
fn index_of(rows: &RowSet, name: &str) -> Result<usize, String> {
    rows.columns
        .iter()
        .position(|column| column.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("no column '{name}' in the answer"))
}

fn text_at(row: &[SqlValue], index: usize) -> Result<String, String> {
    match row.get(index) {
        Some(SqlValue::Text(text)) => Ok(text.clone()),
        other => Err(format!("expected text, got {other:?}")),
    }
}

fn flag_at(row: &[SqlValue], index: usize) -> Result<bool, String> {
    match row.get(index) {
        Some(SqlValue::Boolean(flag)) => Ok(*flag),
        Some(SqlValue::Integer(number)) => Ok(*number != 0),
        Some(SqlValue::Null) => Ok(false),
        other => Err(format!("expected a flag, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_connector::sql::Column;

    fn answer(columns: &[&str], rows: Vec<Vec<SqlValue>>) -> RowSet {
        RowSet {
            columns: columns
                .iter()
                .map(|name| Column {
                    name: name.to_string(),
                    type_name: String::new(),
                })
                .collect(),
            rows,
        }
    }

    fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.into())
    }

    #[test]
    fn reads_sqlite_table_info() {
        let rows = answer(
            &["cid", "name", "type", "notnull", "dflt_value", "pk"],
            vec![
                vec![
                    SqlValue::Integer(0),
                    text("id"),
                    text("INTEGER"),
                    SqlValue::Integer(0),
                    SqlValue::Null,
                    SqlValue::Integer(1),
                ],
                vec![
                    SqlValue::Integer(1),
                    text("login"),
                    text("TEXT"),
                    SqlValue::Integer(1),
                    SqlValue::Null,
                    SqlValue::Integer(0),
                ],
                vec![
                    SqlValue::Integer(2),
                    text("active"),
                    text(""),
                    SqlValue::Integer(1),
                    text("1"),
                    SqlValue::Integer(0),
                ],
            ],
        );
        let columns = read_sqlite(rows).unwrap();
        assert_eq!(
            columns[1],
            DiscoveredColumn {
                name: "login".into(),
                type_name: "TEXT".into(),
                not_null: true,
                has_default: false,
                generated: false,
            }
        );
        assert!(columns[2].has_default);
        assert!(!columns[0].not_null);
    }

    #[test]
    fn reads_postgres_columns_in_any_column_order() {
        let rows = answer(
            &["generated", "has_default", "not_null", "type_name", "name"],
            vec![vec![
                SqlValue::Boolean(true),
                SqlValue::Boolean(true),
                SqlValue::Boolean(false),
                text("int4"),
                text("total"),
            ]],
        );
        let columns = read_postgres(rows).unwrap();
        assert_eq!(columns[0].name, "total");
        assert_eq!(columns[0].type_name, "int4");
        assert!(columns[0].generated && columns[0].has_default && !columns[0].not_null);
    }

    #[test]
    fn says_what_is_wrong_with_an_unexpected_answer() {
        let failure = read_postgres(answer(&["name"], vec![vec![text("x")]])).unwrap_err();
        assert_eq!(failure, "no column 'type_name' in the answer");
    }
}
