//! The settings `open` receives, checked against the parameters the connector declares
//! and read back typed. The host already refuses unknown, mistyped and missing settings
//! and fills in defaults; doing the same here makes a session opened natively in a test
//! see exactly what it would see in Ferry, and turns a connector's own slip (reading a
//! parameter as the wrong type) into an error naming the parameter instead of a panic.
//!
//! ```
//! # use ferry_connector::{Parameter, Settings};
//! # use ferry_connector::types::Setting;
//! let declared = [
//!     Parameter::string("host", "The host.").required(),
//!     Parameter::integer("port", "The port.").with_default(389),
//! ];
//! let settings = Settings::parse(vec![Setting::new("host", "ldap.example.org")], &declared)?;
//! assert_eq!(settings.string("host")?, "ldap.example.org");
//! assert_eq!(settings.integer("port")?, 389);
//! # Ok::<(), ferry_connector::Error>(())
//! ```

use std::fmt;

use serde::de::DeserializeOwned;

use crate::types::{Error, Parameter, ParameterType, Setting, SettingValue};

/// An app's settings, each of a declared parameter and of its declared type, defaults
/// included.
pub struct Settings {
    values: Vec<Checked>,
}

/// One setting and whether it is secret (kept out of `Debug`).
struct Checked {
    name: String,
    value: SettingValue,
    secret: bool,
}

impl Settings {
    /// Checks `given` against `declared`: every setting must be declared and of its
    /// parameter's type, and every required parameter set; parameters not given get
    /// their default. Errors are `invalid-input` naming the setting.
    pub fn parse(given: Vec<Setting>, declared: &[Parameter]) -> Result<Self, Error> {
        let mut values: Vec<Checked> = Vec::with_capacity(declared.len());
        for Setting { name, value } in given {
            let parameter = declared
                .iter()
                .find(|parameter| parameter.name == name)
                .ok_or_else(|| Error::invalid_input(format!("unknown setting '{name}'")))?;
            if values.iter().any(|earlier| earlier.name == name) {
                return Err(Error::invalid_input(format!("'{name}' is given twice")));
            }
            if !fits(parameter.parameter_type, &value) {
                return Err(mistyped(&name, parameter.parameter_type));
            }
            values.push(Checked {
                name,
                value,
                secret: parameter.secret,
            });
        }
        for parameter in declared {
            if values.iter().any(|given| given.name == parameter.name) {
                continue;
            }
            let value = match &parameter.default {
                Some(text) => default_value(parameter, text)?,
                None if parameter.required => {
                    return Err(Error::invalid_input(format!(
                        "'{}' is missing",
                        parameter.name
                    )));
                }
                None => continue,
            };
            values.push(Checked {
                name: parameter.name.clone(),
                value,
                secret: parameter.secret,
            });
        }
        Ok(Self { values })
    }

    /// Whether the setting has a value, given or default.
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string setting; `invalid-input` when it has no value.
    pub fn string(&self, name: &str) -> Result<&str, Error> {
        present(name, self.optional_string(name)?)
    }

    /// A string setting, when it has a value.
    pub fn optional_string(&self, name: &str) -> Result<Option<&str>, Error> {
        self.typed(name, ParameterType::String, |value| match value {
            SettingValue::String(text) => Some(text.as_str()),
            _ => None,
        })
    }

    /// An integer setting; `invalid-input` when it has no value.
    pub fn integer(&self, name: &str) -> Result<i64, Error> {
        present(name, self.optional_integer(name)?)
    }

    /// An integer setting, when it has a value.
    pub fn optional_integer(&self, name: &str) -> Result<Option<i64>, Error> {
        self.typed(name, ParameterType::Integer, |value| match value {
            SettingValue::Integer(number) => Some(*number),
            _ => None,
        })
    }

    /// A boolean setting; `invalid-input` when it has no value.
    pub fn boolean(&self, name: &str) -> Result<bool, Error> {
        present(name, self.optional_boolean(name)?)
    }

    /// A boolean setting, when it has a value.
    pub fn optional_boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        self.typed(name, ParameterType::Boolean, |value| match value {
            SettingValue::Boolean(flag) => Some(*flag),
            _ => None,
        })
    }

    /// A list-of-strings setting; `invalid-input` when it has no value.
    pub fn string_list(&self, name: &str) -> Result<&[String], Error> {
        present(name, self.optional_string_list(name)?)
    }

    /// A list-of-strings setting, when it has a value.
    pub fn optional_string_list(&self, name: &str) -> Result<Option<&[String]>, Error> {
        self.typed(name, ParameterType::StringList, |value| match value {
            SettingValue::StringList(list) => Some(list.as_slice()),
            _ => None,
        })
    }

    /// A structured setting read into `T`; `invalid-input` naming the setting and the
    /// exact key when it does not fit `T`, or when it has no value.
    pub fn structured<T: DeserializeOwned>(&self, name: &str) -> Result<T, Error> {
        present(name, self.optional_structured(name)?)
    }

    /// A structured setting read into `T`, when it has a value.
    pub fn optional_structured<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, Error> {
        let Some(json) = self.typed(name, ParameterType::Structured, |value| match value {
            SettingValue::Structured(json) => Some(json.as_str()),
            _ => None,
        })?
        else {
            return Ok(None);
        };
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|failure| Error::invalid_input(format!("'{name}' is not JSON: {failure}")))?;
        from_json_value(value)
            .map(Some)
            .map_err(|reason| Error::invalid_input(format!("'{name}': {reason}")))
    }

    /// The value of `name`, given or default.
    fn get(&self, name: &str) -> Option<&SettingValue> {
        self.values
            .iter()
            .find(|checked| checked.name == name)
            .map(|checked| &checked.value)
    }

    /// The value of `name` read by `read`, which answers `None` for another type.
    fn typed<'a, T>(
        &'a self,
        name: &str,
        expected: ParameterType,
        read: impl FnOnce(&'a SettingValue) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => read(value)
                .map(Some)
                .ok_or_else(|| mistyped(name, expected)),
        }
    }
}

/// Lists the settings with secret values hidden, so a session can be printed in a test
/// or a log line without leaking a password.
impl fmt::Debug for Settings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = formatter.debug_map();
        for checked in &self.values {
            if checked.secret {
                map.entry(&checked.name, &"<secret>");
            } else {
                map.entry(&checked.name, &checked.value);
            }
        }
        map.finish()
    }
}

/// Reads a JSON value into `T`; on failure, the path to the offending key and the reason
/// (`multi-valued[1]: unknown field `vaule``, `'anchor' is missing`), for an error that
/// lets the operator find the line to fix. For structured settings read piece by piece.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|failure| describe(&failure))
}

/// A deserialisation failure as `path: reason`, with serde's "missing field `x`" said as
/// "'x' is missing". An unknown field's path ends with the field itself, which the reason
/// already names, so the path stops at its parent.
fn describe(failure: &serde_path_to_error::Error<serde_json::Error>) -> String {
    use serde_path_to_error::Segment;
    let reason = failure.inner().to_string();
    let mut segments: Vec<&Segment> = failure.path().iter().collect();
    if reason.starts_with("unknown field") {
        segments.pop();
    }
    let reason = match reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(field) => format!("'{field}' is missing"),
        None => reason,
    };
    let mut path = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            Segment::Map { key } if path.is_empty() => path.push_str(key),
            Segment::Map { key } => path.push_str(&format!(".{key}")),
            Segment::Enum { variant } => path.push_str(&format!(".{variant}")),
            Segment::Unknown => path.push_str(".?"),
        }
    }
    if path.is_empty() {
        reason
    } else {
        format!("{path}: {reason}")
    }
}

/// A parameter's default, written as TOML text in the declaration, as the value the host
/// would hand over. JSON reads every form the builder writes; as for the host, text that
/// is not a value (a bare word) is taken as a string.
fn default_value(parameter: &Parameter, text: &str) -> Result<SettingValue, Error> {
    use serde_json::Value as Json;
    let json = serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_owned()));
    let value = match (parameter.parameter_type, json) {
        (ParameterType::String, Json::String(text)) => Some(SettingValue::String(text)),
        (ParameterType::Integer, Json::Number(number)) => {
            number.as_i64().map(SettingValue::Integer)
        }
        (ParameterType::Boolean, Json::Bool(flag)) => Some(SettingValue::Boolean(flag)),
        (ParameterType::StringList, Json::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Json::String(text) => Some(text),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(SettingValue::StringList),
        (ParameterType::Structured, json @ (Json::Array(_) | Json::Object(_))) => {
            Some(SettingValue::Structured(json.to_string()))
        }
        _ => None,
    };
    value.ok_or_else(|| {
        Error::internal(format!(
            "the connector declares the default {text} for '{}', which is not {}",
            parameter.name,
            type_name(parameter.parameter_type)
        ))
    })
}

/// Whether a value has the parameter's type.
fn fits(parameter_type: ParameterType, value: &SettingValue) -> bool {
    matches!(
        (parameter_type, value),
        (ParameterType::String, SettingValue::String(_))
            | (ParameterType::Integer, SettingValue::Integer(_))
            | (ParameterType::Boolean, SettingValue::Boolean(_))
            | (ParameterType::StringList, SettingValue::StringList(_))
            | (ParameterType::Structured, SettingValue::Structured(_))
    )
}

/// The error for a setting that is not of its parameter's type.
fn mistyped(name: &str, expected: ParameterType) -> Error {
    Error::invalid_input(format!("'{name}' must be {}", type_name(expected)))
}

/// A parameter type as messages name it, in the words of the host's own errors.
fn type_name(parameter_type: ParameterType) -> &'static str {
    match parameter_type {
        ParameterType::String => "a string",
        ParameterType::Integer => "an integer",
        ParameterType::Boolean => "true or false",
        ParameterType::StringList => "a list of strings",
        ParameterType::Structured => "a table or an array",
    }
}

/// The value of a setting that must have one.
fn present<T>(name: &str, value: Option<T>) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid_input(format!("'{name}' is missing")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::types::ErrorKind;

    fn declared() -> Vec<Parameter> {
        vec![
            Parameter::string("host", "").required(),
            Parameter::integer("port", ""),
            Parameter::string("security", "").with_default("ldaps"),
            Parameter::boolean("verbose", "").with_default(false),
            Parameter::string_list("classes", "").with_default(["inetOrgPerson"]),
            Parameter::string("password", "").secret(),
            Parameter::structured("types", ""),
        ]
    }

    fn parse(given: Vec<Setting>) -> Result<Settings, Error> {
        Settings::parse(given, &declared())
    }

    fn refusal(given: Vec<Setting>) -> String {
        let error = parse(given).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        error.message
    }

    #[test]
    fn reads_given_values_and_fills_in_defaults() {
        let settings = parse(vec![
            Setting::new("host", "h"),
            Setting::new("port", 636),
            Setting::new("verbose", true),
        ])
        .unwrap();
        assert_eq!(settings.string("host").unwrap(), "h");
        assert_eq!(settings.integer("port").unwrap(), 636);
        assert_eq!(settings.optional_integer("port").unwrap(), Some(636));
        assert!(settings.boolean("verbose").unwrap());
        assert_eq!(settings.string("security").unwrap(), "ldaps");
        assert_eq!(settings.string_list("classes").unwrap(), ["inetOrgPerson"]);
        assert_eq!(settings.optional_string("password").unwrap(), None);
        assert!(settings.is_set("security") && !settings.is_set("password"));
        assert_eq!(
            settings.string("password").unwrap_err().message,
            "'password' is missing"
        );
    }

    #[test]
    fn refuses_unknown_repeated_mistyped_and_missing_settings() {
        assert_eq!(
            refusal(vec![Setting::new("host", "h"), Setting::new("dsn", "x")]),
            "unknown setting 'dsn'"
        );
        assert_eq!(
            refusal(vec![Setting::new("host", "h"), Setting::new("host", "i")]),
            "'host' is given twice"
        );
        assert_eq!(
            refusal(vec![Setting::new("host", "h"), Setting::new("port", "636")]),
            "'port' must be an integer"
        );
        assert_eq!(refusal(vec![]), "'host' is missing");
    }

    #[test]
    fn reading_a_setting_as_another_type_names_it() {
        let settings = parse(vec![Setting::new("host", "h")]).unwrap();
        let error = settings.integer("host").unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.message, "'host' must be an integer");
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Type {
        name: String,
        #[serde(default)]
        columns: Vec<Column>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Column {
        name: String,
    }

    fn types(json: &str) -> Result<Vec<Type>, Error> {
        parse(vec![
            Setting::new("host", "h"),
            Setting::new("types", SettingValue::Structured(json.into())),
        ])
        .unwrap()
        .structured("types")
    }

    #[test]
    fn reads_structured_settings_naming_the_key_that_is_wrong() {
        assert_eq!(
            types(r#"[{"name": "user", "columns": [{"name": "id"}]}]"#).unwrap(),
            [Type {
                name: "user".into(),
                columns: vec![Column { name: "id".into() }]
            }]
        );
        assert_eq!(
            types(r#"[{"columns": []}]"#).unwrap_err().message,
            "'types': [0]: 'name' is missing"
        );
        assert_eq!(
            types(r#"[{"name": "u", "columns": [{"name": "a"}, {"nmae": "b"}]}]"#)
                .unwrap_err()
                .message,
            "'types': [0].columns[1]: unknown field `nmae`, expected `name`"
        );
        assert_eq!(
            types(r#"[{"name": 5}]"#).unwrap_err().message,
            "'types': [0].name: invalid type: integer `5`, expected a string"
        );
        assert!(
            types("{")
                .unwrap_err()
                .message
                .starts_with("'types' is not JSON"),
            "the host always sends JSON; anything else is named, not a panic"
        );
    }

    #[test]
    fn a_default_of_the_wrong_type_is_the_connectors_mistake() {
        let declared = [Parameter::integer("port", "").with_default("many")];
        let error = Settings::parse(vec![], &declared).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Internal);
        assert!(error.message.contains("'port'"), "{}", error.message);
        let bare = [Parameter {
            default: Some("plain".into()),
            ..Parameter::string("mode", "")
        }];
        let settings = Settings::parse(vec![], &bare).unwrap();
        assert_eq!(settings.string("mode").unwrap(), "plain");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let settings = parse(vec![
            Setting::new("host", "h"),
            Setting::new("password", "hunter2"),
        ])
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("<secret>") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("\"host\""), "{shown}");
    }
}
