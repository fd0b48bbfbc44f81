//! Declaring parameters in one expression each, for `describe`:
//!
//! ```
//! # use ferry_connector::Parameter;
//! let port = Parameter::integer("port", "The server's port.").with_default(389);
//! let password = Parameter::string("password", "The bind password.").secret();
//! let host = Parameter::string("host", "The server's host name.").required();
//! # assert_eq!(port.default.as_deref(), Some("389"));
//! ```
//!
//! The declaration is the single source of a parameter's type and default: the host
//! checks an app's settings against it, and [`Settings`](crate::Settings) reads them
//! back by it.

use crate::types::{Parameter, ParameterType, Setting, SettingValue};

impl Parameter {
    /// An optional parameter of `parameter_type`, not secret, without a default.
    pub fn new(
        name: impl Into<String>,
        parameter_type: ParameterType,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            parameter_type,
            required: false,
            secret: false,
            default: None,
        }
    }

    /// A string parameter.
    pub fn string(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParameterType::String, description)
    }

    /// An integer parameter.
    pub fn integer(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParameterType::Integer, description)
    }

    /// A boolean parameter.
    pub fn boolean(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParameterType::Boolean, description)
    }

    /// A list-of-strings parameter (a TOML array of strings).
    pub fn string_list(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParameterType::StringList, description)
    }

    /// A structured parameter: a TOML table or array, handed over as JSON and read with
    /// [`Settings::structured`](crate::Settings::structured).
    pub fn structured(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParameterType::Structured, description)
    }

    /// The host refuses an app that does not set it.
    #[must_use]
    pub fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    /// A password or key: the operator must give it from an environment variable or a
    /// file, and the host never logs or shows it.
    #[must_use]
    pub fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
        }
    }

    /// The value an app that does not set the parameter gets. It is written as the TOML
    /// text the contract asks for (`"ldaps"`, `389`, `true`, `["inetOrgPerson"]`);
    /// a structured default is JSON text, which the host reads as TOML, so only arrays
    /// of strings and numbers make sense there.
    #[must_use]
    pub fn with_default(self, value: impl Into<SettingValue>) -> Self {
        let text = match value.into() {
            SettingValue::String(text) => json_text(&text),
            SettingValue::Integer(number) => number.to_string(),
            SettingValue::Boolean(flag) => flag.to_string(),
            SettingValue::StringList(list) => json_text(&list),
            SettingValue::Structured(json) => json,
        };
        Self {
            default: Some(text),
            ..self
        }
    }
}

/// A string or list of strings as JSON, which for these is also valid TOML (a basic
/// string, an array of basic strings).
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("strings always serialise")
}

impl Setting {
    /// A setting, as the host hands one to `open`; for tests, which build settings by
    /// hand: `Setting::new("port", 389)`.
    pub fn new(name: impl Into<String>, value: impl Into<SettingValue>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl From<&str> for SettingValue {
    fn from(text: &str) -> Self {
        Self::String(text.to_owned())
    }
}

impl From<String> for SettingValue {
    fn from(text: String) -> Self {
        Self::String(text)
    }
}

impl From<i64> for SettingValue {
    fn from(number: i64) -> Self {
        Self::Integer(number)
    }
}

impl From<bool> for SettingValue {
    fn from(flag: bool) -> Self {
        Self::Boolean(flag)
    }
}

impl From<&[&str]> for SettingValue {
    fn from(list: &[&str]) -> Self {
        Self::StringList(list.iter().map(|item| (*item).to_owned()).collect())
    }
}

impl<const N: usize> From<[&str; N]> for SettingValue {
    fn from(list: [&str; N]) -> Self {
        Self::from(&list[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_each_kind_of_declaration() {
        let host = Parameter::string("host", "The host.").required();
        assert_eq!(host.parameter_type, ParameterType::String);
        assert!(host.required && !host.secret && host.default.is_none());
        let password = Parameter::string("password", "The password.").secret();
        assert!(password.secret && !password.required);
        assert_eq!(
            Parameter::integer("port", "").parameter_type,
            ParameterType::Integer
        );
        assert_eq!(
            Parameter::boolean("tls", "").parameter_type,
            ParameterType::Boolean
        );
        assert_eq!(
            Parameter::string_list("classes", "").parameter_type,
            ParameterType::StringList
        );
        assert_eq!(
            Parameter::structured("types", "").parameter_type,
            ParameterType::Structured
        );
    }

    #[test]
    fn writes_defaults_as_toml_text() {
        let default = |parameter: Parameter, value: SettingValue| {
            parameter.with_default(value).default.unwrap()
        };
        assert_eq!(
            default(Parameter::string("s", ""), "ldaps".into()),
            "\"ldaps\""
        );
        assert_eq!(
            default(Parameter::string("s", ""), "say \"hi\"\\".into()),
            r#""say \"hi\"\\""#
        );
        assert_eq!(default(Parameter::integer("i", ""), 389.into()), "389");
        assert_eq!(default(Parameter::boolean("b", ""), false.into()), "false");
        assert_eq!(
            default(Parameter::string_list("l", ""), ["inetOrgPerson"].into()),
            "[\"inetOrgPerson\"]"
        );
    }

    #[test]
    fn builds_settings_by_hand() {
        assert_eq!(
            Setting::new("port", 389),
            Setting {
                name: "port".into(),
                value: SettingValue::Integer(389)
            }
        );
        assert_eq!(
            Setting::new("classes", ["a", "b"]).value,
            SettingValue::StringList(vec!["a".into(), "b".into()])
        );
    }
}
