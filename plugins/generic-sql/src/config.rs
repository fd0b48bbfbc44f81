//! The connector's one setting, `object-types`: which tables hold which object types. It
//! arrives as JSON text (the host converts the operator's TOML); this module reads it into
//! types and checks everything that can be checked without the database, naming the
//! object type and key in every error so the operator can find the line to fix.

use std::fmt;

use ferry_connector::settings::from_json_value;
use ferry_connector::{Error, Settings};
use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

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
    /// The key column(s) whose values are the anchor; the database generates them when an
    /// add does not supply them.
    pub anchor: Names,
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
    /// Its column(s) holding the changed object's key, one per anchor column.
    pub anchor: Names,
}

/// A multi-valued attribute: one child row per value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MultiValuedConfig {
    /// The attribute's name in the contract.
    pub attribute: String,
    /// The child table's name (in the object type's schema).
    pub table: String,
    /// The child column(s) holding the owner's key, one per anchor column.
    pub key: Names,
    /// The child column holding one value.
    pub value: String,
    /// The object type(s) the values point to, when the child table links objects (a
    /// membership table: group → user): the values are then references to their anchors,
    /// written as the value column's type. A list (group → user or group: nested groups)
    /// needs `reference-type-column`, since one value column then holds anchors of
    /// several types.
    #[serde(default, deserialize_with = "object_types")]
    pub reference: Option<Names>,
    /// The child column holding each row's object type name, when `reference` is a list.
    pub reference_type_column: Option<String>,
}

impl MultiValuedConfig {
    /// The object types the values may point to (none for plain values).
    pub fn reference_types(&self) -> &[String] {
        self.reference.as_ref().map_or(&[], Names::names)
    }
}

/// Reads `reference`: one object type, or a list of them.
fn object_types<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Names>, D::Error> {
    deserializer
        .deserialize_any(NamesVisitor("an object type or a list of object types"))
        .map(Some)
}

/// One name or a list of names: a key of one column (`"id"`) or several (`["tenant",
/// "login"]`), as `anchor`, `change-table.anchor` and a multi-valued attribute's `key`
/// name it, or the object type(s) a link table's `reference` names. Remembers which form
/// was written, so errors name the key as the operator wrote it (and a list of one object
/// type still asks for a type column).
#[derive(Debug, Clone, PartialEq)]
pub enum Names {
    /// One name, written as a string.
    One(String),
    /// Names written as a list (a list of one is a one-column key too).
    List(Vec<String>),
}

impl Names {
    /// The names, in the order written.
    pub fn names(&self) -> &[String] {
        match self {
            Self::One(name) => std::slice::from_ref(name),
            Self::List(names) => names,
        }
    }

    /// Each name with the configuration key that names it: `key` for a string, `key[i]`
    /// for the entries of a list.
    pub fn keyed(&self, key: &str) -> Vec<(String, &str)> {
        match self {
            Self::One(name) => vec![(key.to_owned(), name.as_str())],
            Self::List(names) => names
                .iter()
                .enumerate()
                .map(|(index, name)| (format!("{key}[{index}]"), name.as_str()))
                .collect(),
        }
    }

    /// The first name that an earlier one repeats, with its position.
    pub fn repeated(&self) -> Option<(usize, &str)> {
        let names = self.names();
        names
            .iter()
            .enumerate()
            .find(|(index, name)| names[..*index].contains(name))
            .map(|(index, name)| (index, name.as_str()))
    }

    /// The names for messages: `id` or `tenant, login`.
    pub fn display(&self) -> String {
        self.names().join(", ")
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NamesVisitor("a column name or a list of column names"))
    }
}

/// Reads a string or a list of strings, saying what it expected (its text) when it is
/// neither.
struct NamesVisitor(&'static str);

impl<'de> Visitor<'de> for NamesVisitor {
    type Value = Names;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Names, E> {
        Ok(Names::One(name.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut list: A) -> Result<Names, A::Error> {
        let mut names = Vec::new();
        while let Some(name) = list.next_element::<String>()? {
            names.push(name);
        }
        Ok(Names::List(names))
    }
}

/// Operator-written statements with `:name` parameters.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StatementsConfig {
    /// Replaces the generated INSERT; may return the new key as its first column(s), in
    /// anchor order.
    pub insert: Option<String>,
    /// Replaces the generated UPDATE; bound with the object's whole new state.
    pub update: Option<String>,
    /// Replaces the generated DELETE (e.g. to soft-delete); bound with the anchor
    /// column(s).
    pub delete: Option<String>,
    /// Sets a password (e.g. calls a procedure that hashes it); bound with `:password`
    /// and the anchor column(s). With it the object type has a write-only, secret
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
        ];
        keys.extend(self.anchor.keyed("anchor"));
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
            keys.extend(change.anchor.keyed("change-table.anchor"));
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
            keys.extend(entry.key.keyed(&format!("multi-valued[{index}].key")));
            keys.push((format!("multi-valued[{index}].value"), &entry.value));
            if let Some(reference) = &entry.reference {
                keys.extend(reference.keyed(&format!("multi-valued[{index}].reference")));
            }
            if let Some(column) = &entry.reference_type_column {
                keys.push((
                    format!("multi-valued[{index}].reference-type-column"),
                    column,
                ));
            }
        }
        keys
    }

    /// The keys of one or several columns, with the configuration key that names each.
    fn column_lists(&self) -> Vec<(String, &Names)> {
        let mut lists = vec![("anchor".to_owned(), &self.anchor)];
        lists.extend(
            self.change_table
                .iter()
                .map(|change| ("change-table.anchor".to_owned(), &change.anchor)),
        );
        lists.extend(
            self.multi_valued
                .iter()
                .enumerate()
                .map(|(index, entry)| (format!("multi-valued[{index}].key"), &entry.key)),
        );
        lists
    }

    /// The checks that need no database: no empty names, the anchor not excluded, every
    /// key as long as the anchor and naming no column twice, no multi-valued attribute
    /// named twice, a type column exactly for a list of object types.
    fn check(&self, label: &str) -> Result<(), Error> {
        for (index, entry) in self.multi_valued.iter().enumerate() {
            check_link(&format!("{label}: multi-valued[{index}]"), entry)?;
        }
        for (key, list) in self.column_lists() {
            if list.names().is_empty() {
                return Err(Error::invalid_input(format!("{label}: '{key}' is empty")));
            }
        }
        if let Some((key, _)) = self
            .named_keys()
            .into_iter()
            .find(|(_, value)| value.trim().is_empty())
        {
            return Err(Error::invalid_input(format!("{label}: '{key}' is empty")));
        }
        let width = self.anchor.names().len();
        for (key, list) in self.column_lists() {
            let names = list.names();
            if let Some((index, name)) = list.repeated() {
                return Err(Error::invalid_input(format!(
                    "{label}: {key}[{index}]: the column '{name}' is named twice"
                )));
            }
            if names.len() != width {
                return Err(Error::invalid_input(format!(
                    "{label}: {key}: names {} column(s) ({}), but the anchor has {width} ({})",
                    names.len(),
                    list.display(),
                    self.anchor.display()
                )));
            }
        }
        if let Some(name) = self
            .anchor
            .names()
            .iter()
            .find(|name| self.exclude.contains(name))
        {
            return Err(Error::invalid_input(format!(
                "{label}: the anchor column '{name}' cannot be excluded"
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

/// Checks a multi-valued attribute's `reference` and `reference-type-column` (`label`
/// names the entry): a list names object types, each once, and needs a type column
/// that is neither the value nor a key column; a single type needs none.
fn check_link(label: &str, entry: &MultiValuedConfig) -> Result<(), Error> {
    let column = entry.reference_type_column.as_deref();
    let Some(reference @ Names::List(types)) = &entry.reference else {
        return match column {
            Some(_) => Err(Error::invalid_input(format!(
                "{label}.reference-type-column: only a link table whose 'reference' is a \
                 list of object types has a type column"
            ))),
            None => Ok(()),
        };
    };
    if types.is_empty() {
        return Err(Error::invalid_input(format!(
            "{label}: 'reference' is empty"
        )));
    }
    if let Some((index, name)) = reference.repeated() {
        return Err(Error::invalid_input(format!(
            "{label}.reference[{index}]: the object type '{name}' is named twice"
        )));
    }
    let Some(column) = column else {
        return Err(Error::invalid_input(format!(
            "{label}: 'reference' lists object types, so 'reference-type-column' must \
             name the column holding each row's object type"
        )));
    };
    if column == entry.value || entry.key.names().iter().any(|key| key == column) {
        return Err(Error::invalid_input(format!(
            "{label}.reference-type-column: '{column}' is already the value or a key column"
        )));
    }
    Ok(())
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
        let children = config.multi_valued.iter().enumerate().flat_map(|(i, c)| {
            c.reference
                .iter()
                .flat_map(move |reference| reference.keyed(&format!("multi-valued[{i}].reference")))
        });
        let columns = config
            .references
            .iter()
            .map(|(column, target)| (format!("references.{column}"), target.as_str()));
        for (key, target) in children.chain(columns) {
            let label = label(index, Some(&config.name));
            let Some(pointed) = types.iter().find(|t| t.name == target) else {
                return Err(Error::invalid_input(format!(
                    "{label}: {key}: there is no object type '{target}'"
                )));
            };
            if pointed.anchor.names().len() > 1 {
                return Err(Error::invalid_input(format!(
                    "{label}: {key}: object type '{target}' has a composite anchor ({}); \
                     a reference is one column, so it can only point to a one-column anchor",
                    pointed.anchor.display()
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
        assert_eq!(
            user.change_table.as_ref().unwrap().anchor,
            Names::One("user_id".into())
        );
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
            "object-types[0] (user): anchor: invalid type: integer `5`, \
             expected a column name or a list of column names"
        );
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users", "anchor": ["tenant", 5]}]"#),
            "object-types[0] (user): anchor[1]: invalid type: integer `5`, expected a string"
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
    fn reads_composite_keys_of_the_same_length_as_the_anchor() {
        let types = read_json(
            r#"[{
                "name": "account", "table": "accounts", "anchor": ["tenant", "login"],
                "change-table": {"table": "c", "sequence": "seq", "anchor": ["t", "l"]},
                "multi-valued": [{"attribute": "roles", "table": "r", "key": ["t", "l"], "value": "role"}]
            }, {"name": "user", "table": "users", "anchor": ["id"]}]"#,
        )
        .unwrap();
        assert_eq!(types[0].anchor.names(), ["tenant", "login"]);
        assert_eq!(types[0].multi_valued[0].key.names(), ["t", "l"]);
        assert_eq!(types[1].anchor.names(), ["id"]);
        let composite = r#""name": "account", "table": "accounts", "anchor": ["tenant", "login"]"#;
        assert_eq!(
            failure(&format!(
                r#"[{{{composite}, "change-table": {{"table": "c", "sequence": "s", "anchor": "id"}}}}]"#
            )),
            "object-types[0] (account): change-table.anchor: names 1 column(s) (id), but the \
             anchor has 2 (tenant, login)"
        );
        assert_eq!(
            failure(&format!(
                r#"[{{{composite}, "multi-valued": [{{"attribute": "a", "table": "t", "key": ["k", "k"], "value": "v"}}]}}]"#
            )),
            "object-types[0] (account): multi-valued[0].key[1]: the column 'k' is named twice"
        );
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users", "anchor": []}]"#),
            "object-types[0] (user): 'anchor' is empty"
        );
        assert_eq!(
            failure(r#"[{"name": "user", "table": "users", "anchor": ["a", " "]}]"#),
            "object-types[0] (user): 'anchor[1]' is empty"
        );
        assert_eq!(
            failure(&format!(r#"[{{{composite}, "exclude": ["login"]}}]"#)),
            "object-types[0] (account): the anchor column 'login' cannot be excluded"
        );
    }

    #[test]
    fn refuses_references_to_a_composite_anchor() {
        let account = r#"{"name": "account", "table": "accounts", "anchor": ["tenant", "login"]}"#;
        assert_eq!(
            failure(&format!(
                r#"[{account}, {{"name": "user", "table": "users", "anchor": "id",
                    "references": {{"owner": "account"}}}}]"#
            )),
            "object-types[1] (user): references.owner: object type 'account' has a composite \
             anchor (tenant, login); a reference is one column, so it can only point to a \
             one-column anchor"
        );
        let link = failure(&format!(
            r#"[{account}, {{"name": "group", "table": "groups", "anchor": "id",
                "multi-valued": [{{"attribute": "members", "table": "m", "key": "g", "value": "a", "reference": "account"}}]}}]"#
        ));
        assert!(
            link.starts_with(
                "object-types[1] (group): multi-valued[0].reference: object type 'account' \
                 has a composite anchor"
            ),
            "{link}"
        );
    }

    /// A user type, a team type, and `team`'s members as `link` (JSON) describes them.
    fn with_members(link: &str) -> String {
        format!(
            r#"[{{"name": "user", "table": "users", "anchor": "login"}},
                {{"name": "account", "table": "accounts", "anchor": ["tenant", "login"]}},
                {{"name": "team", "table": "teams", "anchor": "id", "multi-valued": [
                    {{"attribute": "members", "table": "m", "key": "team", "value": "member", {link}}}]}}]"#
        )
    }

    #[test]
    fn reads_a_link_to_several_object_types_with_its_type_column() {
        let types = read_json(&with_members(
            r#""reference": ["user", "team"], "reference-type-column": "kind""#,
        ))
        .unwrap();
        let members = &types[2].multi_valued[0];
        assert_eq!(members.reference_types(), ["user", "team"]);
        assert_eq!(members.reference_type_column.as_deref(), Some("kind"));
        let single = read_json(&with_members(r#""reference": "user""#)).unwrap();
        assert_eq!(single[2].multi_valued[0].reference_types(), ["user"]);
        assert_eq!(single[2].multi_valued[0].reference_type_column, None);
    }

    #[test]
    fn names_the_entry_and_key_of_a_wrong_link_to_several_types() {
        let label = "object-types[2] (team): multi-valued[0]";
        let cases = [
            (
                r#""reference": [], "reference-type-column": "kind""#,
                format!("{label}: 'reference' is empty"),
            ),
            (
                r#""reference": ["user", "team"]"#,
                format!(
                    "{label}: 'reference' lists object types, so 'reference-type-column' must \
                     name the column holding each row's object type"
                ),
            ),
            (
                r#""reference": "user", "reference-type-column": "kind""#,
                format!(
                    "{label}.reference-type-column: only a link table whose 'reference' is a \
                     list of object types has a type column"
                ),
            ),
            (
                r#""reference-type-column": "kind""#,
                format!(
                    "{label}.reference-type-column: only a link table whose 'reference' is a \
                     list of object types has a type column"
                ),
            ),
            (
                r#""reference": ["user", "user"], "reference-type-column": "kind""#,
                format!("{label}.reference[1]: the object type 'user' is named twice"),
            ),
            (
                r#""reference": ["user", "team"], "reference-type-column": "member""#,
                format!(
                    "{label}.reference-type-column: 'member' is already the value or a key column"
                ),
            ),
            (
                r#""reference": ["user", " "], "reference-type-column": "kind""#,
                "object-types[2] (team): 'multi-valued[0].reference[1]' is empty".to_owned(),
            ),
            (
                r#""reference": ["user", "team"], "reference-type-column": "" "#,
                "object-types[2] (team): 'multi-valued[0].reference-type-column' is empty"
                    .to_owned(),
            ),
            (
                r#""reference": ["user", "robot"], "reference-type-column": "kind""#,
                format!("{label}.reference[1]: there is no object type 'robot'"),
            ),
            (
                r#""reference": 5"#,
                "object-types[2] (team): multi-valued[0].reference: invalid type: integer `5`, \
                 expected an object type or a list of object types"
                    .to_owned(),
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(failure(&with_members(link)), expected, "{link}");
        }
        let composite = failure(&with_members(
            r#""reference": ["user", "account"], "reference-type-column": "kind""#,
        ));
        assert!(
            composite.starts_with(
                "object-types[2] (team): multi-valued[0].reference[1]: object type 'account' \
                 has a composite anchor"
            ),
            "{composite}"
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
