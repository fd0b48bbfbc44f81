//! The connector's one setting, `object-types`: which tables hold which object types. It
//! arrives as JSON text (the host converts the operator's TOML); this module reads it into
//! types and checks everything that can be checked without the database, naming the
//! object type and key in every error so the operator can find the line to fix.

use ferry_connector::settings::from_json_value;
use ferry_connector::{Error, Settings};
use serde::Deserialize;

/// The name of the setting, as declared by `describe`.
pub const OBJECT_TYPES: &str = "object-types";

/// One object type mapped onto a table or view.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ObjectTypeConfig {
    /// The object type's name in the contract ("user").
    pub name: String,
    /// The table or view holding one row per object.
    pub table: String,
    /// The schema (PostgreSQL) or attached database (SQLite) of the table and of the
    /// change and child tables; the connection's default when absent.
    pub schema: Option<String>,
    /// The key column whose value is the anchor; the database generates it when an add
    /// does not supply it.
    pub anchor: String,
    /// A column that grows on every change (a timestamp or counter), for delta imports.
    pub watermark: Option<String>,
    /// A boolean or integer column; true / non-zero rows count as deleted.
    pub soft_delete: Option<String>,
    /// A change table kept by a trigger, for delta imports that also see hard deletes.
    pub change_table: Option<ChangeTableConfig>,
    /// Columns exports must not write.
    #[serde(default)]
    pub read_only: Vec<String>,
    /// Columns not exposed at all.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Multi-valued attributes kept in child tables.
    #[serde(default)]
    pub multi_valued: Vec<MultiValuedConfig>,
    /// Foreign key columns and the object type each points to (`manager_id = "user"`):
    /// their values are references to that type's anchors.
    #[serde(default)]
    pub references: std::collections::BTreeMap<String, String>,
    /// Statements the operator wrote to replace the generated insert, update or delete.
    #[serde(default)]
    pub statements: StatementsConfig,
}

/// A change table: one row per change of an object, in sequence order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChangeTableConfig {
    /// The change table's name (in the object type's schema).
    pub table: String,
    /// Its increasing sequence column.
    pub sequence: String,
    /// Its column holding the changed object's anchor.
    pub anchor: String,
}

/// A multi-valued attribute: one child row per value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MultiValuedConfig {
    /// The attribute's name in the contract.
    pub attribute: String,
    /// The child table's name (in the object type's schema).
    pub table: String,
    /// The child column holding the owner's anchor.
    pub key: String,
    /// The child column holding one value.
    pub value: String,
    /// The object type the values point to, when the child table links objects (a
    /// membership table: group → user): the values are then references to that type's
    /// anchors, written as the value column's type.
    #[serde(default)]
    pub reference: Option<String>,
}

/// Operator-written statements with `:name` parameters.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StatementsConfig {
    /// Replaces the generated INSERT; may return the new anchor as its first column.
    pub insert: Option<String>,
    /// Replaces the generated UPDATE; bound with the object's whole new state.
    pub update: Option<String>,
    /// Replaces the generated DELETE (e.g. to soft-delete); bound with the anchor.
    pub delete: Option<String>,
    /// Sets a password (e.g. calls a procedure that hashes it); bound with `:password`
    /// and the anchor column. With it the object type has a write-only, secret
    /// `password` attribute, written on add and on update and never read.
    pub password: Option<String>,
}

impl ObjectTypeConfig {
    /// How errors name this entry: `object-types[0] (user)`.
    pub fn label(&self, index: usize) -> String {
        label(index, Some(&self.name))
    }

    /// Every name of a column or attribute this entry uses, with the key that names it,
    /// so that each can be checked for emptiness here and for existence at `open`.
    fn named_keys(&self) -> Vec<(String, &str)> {
        let mut keys = vec![
            ("name".to_owned(), self.name.as_str()),
            ("table".to_owned(), self.table.as_str()),
            ("anchor".to_owned(), self.anchor.as_str()),
        ];
        let optional = [
            ("schema", &self.schema),
            ("watermark", &self.watermark),
            ("soft-delete", &self.soft_delete),
            ("statements.insert", &self.statements.insert),
            ("statements.update", &self.statements.update),
            ("statements.delete", &self.statements.delete),
        ];
        keys.extend(
            optional
                .into_iter()
                .filter_map(|(key, value)| Some((key.to_owned(), value.as_deref()?))),
        );
        if let Some(change) = &self.change_table {
            keys.push(("change-table.table".to_owned(), &change.table));
            keys.push(("change-table.sequence".to_owned(), &change.sequence));
            keys.push(("change-table.anchor".to_owned(), &change.anchor));
        }
        for (index, column) in self.read_only.iter().enumerate() {
            keys.push((format!("read-only[{index}]"), column));
        }
        for (index, column) in self.exclude.iter().enumerate() {
            keys.push((format!("exclude[{index}]"), column));
        }
        for (column, target) in &self.references {
            keys.push((format!("references.{column}"), target));
        }
        for (index, entry) in self.multi_valued.iter().enumerate() {
            keys.push((format!("multi-valued[{index}].attribute"), &entry.attribute));
            keys.push((format!("multi-valued[{index}].table"), &entry.table));
            keys.push((format!("multi-valued[{index}].key"), &entry.key));
            keys.push((format!("multi-valued[{index}].value"), &entry.value));
        }
        keys
    }

    /// The checks that need no database: no empty names, the anchor not excluded, no
    /// multi-valued attribute named twice.
    fn check(&self, label: &str) -> Result<(), Error> {
        if let Some((key, _)) = self
            .named_keys()
            .into_iter()
            .find(|(_, value)| value.trim().is_empty())
        {
            return Err(Error::invalid_input(format!("{label}: '{key}' is empty")));
        }
        if self.exclude.contains(&self.anchor) {
            return Err(Error::invalid_input(format!(
                "{label}: the anchor column '{}' cannot be excluded",
                self.anchor
            )));
        }
        for (index, entry) in self.multi_valued.iter().enumerate() {
            if self.multi_valued[..index]
                .iter()
                .any(|earlier| earlier.attribute == entry.attribute)
            {
                return Err(Error::invalid_input(format!(
                    "{label}: multi-valued[{index}]: the attribute '{}' is defined twice",
                    entry.attribute
                )));
            }
        }
        Ok(())
    }
}

/// Reads and checks the one setting.
pub fn parse(settings: &Settings) -> Result<Vec<ObjectTypeConfig>, Error> {
    let serde_json::Value::Array(entries) = settings.structured(OBJECT_TYPES)? else {
        return Err(Error::invalid_input(format!(
            "'{OBJECT_TYPES}' must be an array of tables ([[…object-types]] in TOML)"
        )));
    };
    if entries.is_empty() {
        return Err(Error::invalid_input(format!(
            "'{OBJECT_TYPES}' names no object type"
        )));
    }
    let mut types: Vec<ObjectTypeConfig> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let label = label(index, entry.get("name").and_then(serde_json::Value::as_str));
        let config: ObjectTypeConfig = from_json_value(entry)
            .map_err(|reason| Error::invalid_input(format!("{label}: {reason}")))?;
        config.check(&label)?;
        if types.iter().any(|earlier| earlier.name == config.name) {
            return Err(Error::invalid_input(format!(
                "{label}: another object type is already named '{}'",
                config.name
            )));
        }
        types.push(config);
    }
    for (index, config) in types.iter().enumerate() {
        let children = config.multi_valued.iter().enumerate().filter_map(|(i, c)| {
            Some((
                format!("multi-valued[{i}].reference"),
                c.reference.as_ref()?,
            ))
        });
        let columns = config
            .references
            .iter()
            .map(|(column, target)| (format!("references.{column}"), target));
        for (key, target) in children.chain(columns) {
            if !types.iter().any(|t| &t.name == target) {
                return Err(Error::invalid_input(format!(
                    "{}: {key}: there is no object type '{target}'",
                    label(index, Some(&config.name))
                )));
            }
        }
    }
    Ok(types)
}

/// `object-types[i] (name)`, or without the name when the entry has none.
fn label(index: usize, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{OBJECT_TYPES}[{index}] ({name})"),
        None => format!("{OBJECT_TYPES}[{index}]"),
    }
}

#[cfg(test)]
mod tests {
    use ferry_connector::ErrorKind;
    use ferry_connector::types::{Setting, SettingValue};

    use super::*;
    use crate::describe::parameters;

    /// The settings as `open` reads them: checked against the declaration, then parsed.
    fn read(given: Vec<Setting>) -> Result<Vec<ObjectTypeConfig>, Error> {
        parse(&Settings::parse(given, &parameters())?)
    }

    fn read_json(json: &str) -> Result<Vec<ObjectTypeConfig>, Error> {
        read(vec![Setting::new(
            OBJECT_TYPES,
            SettingValue::Structured(json.into()),
        )])
    }

    fn failure(json: &str) -> String {
        let error = read_json(json).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        error.message
    }

    #[test]
    fn reads_the_full_format() {
        let types = read_json(
            r#"[{
                "name": "user", "table": "users", "schema": "hr", "anchor": "id",
                "watermark": "updated_at", "soft-delete": "deleted",
                "change-table": {"table": "user_changes", "sequence": "seq", "anchor": "user_id"},
                "read-only": ["created_at"], "exclude": ["internal_notes"],
                "multi-valued": [{"attribute": "emails", "table": "user_emails", "key": "user_id", "value": "email"}],
                "statements": {"insert": "INSERT INTO people (login) VALUES (:login)"}
            }, {"name": "group", "table": "groups", "anchor": "gid"}]"#,
        )
        .unwrap();
        assert_eq!(types.len(), 2);
        let user = &types[0];
        assert_eq!(user.schema.as_deref(), Some("hr"));
        assert_eq!(user.soft_delete.as_deref(), Some("deleted"));
        assert_eq!(user.change_table.as_ref().unwrap().anchor, "user_id");
        assert_eq!(user.multi_valued[0].value, "email");
        assert_eq!(user.read_only, ["created_at"]);
        assert_eq!(user.statements.update, None);
        assert_eq!(types[1].label(1), "object-types[1] (group)");
        assert_eq!(types[1].statements, StatementsConfig::default());
    }

    #[test]
    fn names_the_entry_and_key_that_is_wrong() {
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users"}]"#),
            "object-types[0] (user): 'anchor' is missing"
        );
        assert_eq!(
            failure(r#"[{"table": "users", "anchor": "id"}]"#),
            "object-types[0]: 'name' is missing"
        );
        let unknown =
            failure(r#"[{"name": "user", "table": "users", "anchor": "id", "tabel": "x"}]"#);
        assert!(
            unknown.starts_with("object-types[0] (user): unknown field `tabel`"),
            "{unknown}"
        );
        let nested = failure(
            r#"[{"name": "user", "table": "users", "anchor": "id",
                 "multi-valued": [{"attribute": "a", "table": "t", "key": "k", "value": "v"},
                                  {"attribute": "b", "table": "t", "key": "k", "vaule": "v"}]}]"#,
        );
        assert!(
            nested.starts_with("object-types[0] (user): multi-valued[1]: unknown field `vaule`"),
            "{nested}"
        );
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users", "anchor": 5}]"#),
            "object-types[0] (user): anchor: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            failure(
                r#"[{"name": "user", "table": "users", "anchor": "id", "change-table": {"table": "c", "sequence": "s"}}]"#
            ),
            "object-types[0] (user): change-table: 'anchor' is missing"
        );
    }

    #[test]
    fn refuses_empty_names_and_contradictions() {
        assert_eq!(
            failure(r#"[{"name": "user", "table": " ", "anchor": "id"}]"#),
            "object-types[0] (user): 'table' is empty"
        );
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users", "anchor": "id", "exclude": ["id"]}]"#),
            "object-types[0] (user): the anchor column 'id' cannot be excluded"
        );
        assert_eq!(
            failure(
                r#"[{"name": "user", "table": "users", "anchor": "id", "multi-valued": [
                    {"attribute": "a", "table": "t", "key": "k", "value": "v"},
                    {"attribute": "a", "table": "u", "key": "k", "value": "v"}]}]"#
            ),
            "object-types[0] (user): multi-valued[1]: the attribute 'a' is defined twice"
        );
        assert_eq!(
            failure(
                r#"[{"name": "user", "table": "users", "anchor": "id"},
                    {"name": "user", "table": "people", "anchor": "id"}]"#
            ),
            "object-types[1] (user): another object type is already named 'user'"
        );
    }

    #[test]
    fn refuses_a_missing_empty_or_unknown_setting() {
        assert_eq!(
            read(vec![]).unwrap_err().message,
            "'object-types' is missing"
        );
        assert_eq!(failure("[]"), "'object-types' names no object type");
        assert!(failure(r#"{"name": "user"}"#).starts_with("'object-types' must be an array"));
        assert_eq!(
            read(vec![Setting::new("dsn", "x")]).unwrap_err().message,
            "unknown setting 'dsn'"
        );
    }
}
