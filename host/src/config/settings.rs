//! Checks an app's `[apps.NAME.settings]` against the parameters its connector declares
//! and turns them into the typed settings `session.open` receives: unknown keys, wrong
//! types, missing required values and secrets written in the file are errors naming the
//! key; defaults are filled in.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::secret::SecretSource;
use crate::runtime::bindings::types::{Parameter, ParameterType, Setting, SettingValue};

/// A settings error: the key and, when known, the byte offset of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// Offset in the configuration text, for the line number.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Builds the settings for `session.open`. `allow_inline` accepts `{ value = ... }` for
/// secret parameters.
pub fn build(
    parameters: &[Parameter],
    given: &BTreeMap<String, Spanned<toml::Value>>,
    base_dir: &Path,
    allow_inline: bool,
) -> Result<Vec<Setting>, SettingsError> {
    if let Some((key, value)) = given
        .iter()
        .find(|(k, _)| !parameters.iter().any(|p| &p.name == *k))
    {
        let known: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        return Err(SettingsError {
            offset: Some(value.span().start),
            message: format!(
                "settings: unknown parameter '{key}' (this connector takes: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        });
    }
    let mut settings = Vec::new();
    for p in parameters {
        let value = match given.get(&p.name) {
            Some(v) => {
                let at = |message: String| SettingsError {
                    offset: Some(v.span().start),
                    message: format!("settings: '{}': {message}", p.name),
                };
                if p.secret {
                    secret_value(v.get_ref(), base_dir, allow_inline).map_err(at)?
                } else {
                    convert(p.parameter_type, v.get_ref()).map_err(at)?
                }
            }
            None => match &p.default {
                Some(default) => default_value(p, default)?,
                None if p.required => {
                    return Err(SettingsError {
                        offset: None,
                        message: format!(
                            "settings: the required parameter '{}' is missing ({})",
                            p.name, p.description
                        ),
                    });
                }
                None => continue,
            },
        };
        settings.push(Setting {
            name: p.name.clone(),
            value,
        });
    }
    Ok(settings)
}

/// A secret parameter's value: from an env var or file, never from the file's text
/// unless allowed.
fn secret_value(
    value: &toml::Value,
    base_dir: &Path,
    allow_inline: bool,
) -> Result<SettingValue, String> {
    let source: SecretSource = value.clone().try_into().map_err(|_| {
        "this parameter is secret: give it as { env = \"VAR\" } or { file = \"path\" }".to_string()
    })?;
    let secret = source.resolve(base_dir, allow_inline)?;
    Ok(SettingValue::String(secret.expose().to_string()))
}

fn default_value(p: &Parameter, default: &str) -> Result<SettingValue, SettingsError> {
    let bad = |message: String| SettingsError {
        offset: None,
        message: format!(
            "the connector's default for '{}' is unusable: {message}",
            p.name
        ),
    };
    // Defaults are written as TOML values; a bare word is taken as a string.
    let value = toml::from_str::<BTreeMap<String, toml::Value>>(&format!("v = {default}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(default.to_string()));
    convert(p.parameter_type, &value).map_err(bad)
}

fn type_name(t: ParameterType) -> &'static str {
    match t {
        ParameterType::String => "a string",
        ParameterType::Integer => "an integer",
        ParameterType::Boolean => "true or false",
        ParameterType::StringList => "a list of strings",
        ParameterType::Structured => "a table or array",
    }
}

/// Converts a TOML value to the declared type.
fn convert(t: ParameterType, value: &toml::Value) -> Result<SettingValue, String> {
    let wrong = || format!("expected {}, found {}", type_name(t), value.type_str());
    Ok(match (t, value) {
        (ParameterType::String, toml::Value::String(s)) => SettingValue::String(s.clone()),
        (ParameterType::Integer, toml::Value::Integer(i)) => SettingValue::Integer(*i),
        (ParameterType::Boolean, toml::Value::Boolean(b)) => SettingValue::Boolean(*b),
        (ParameterType::StringList, toml::Value::Array(items)) => SettingValue::StringList(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string).ok_or_else(wrong))
                .collect::<Result<_, _>>()?,
        ),
        (ParameterType::Structured, toml::Value::Table(_) | toml::Value::Array(_)) => {
            SettingValue::Structured(serde_json::to_string(value).map_err(|e| e.to_string())?)
        }
        _ => return Err(wrong()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(
        name: &str,
        t: ParameterType,
        required: bool,
        secret: bool,
        default: Option<&str>,
    ) -> Parameter {
        Parameter {
            name: name.into(),
            description: format!("the {name}"),
            parameter_type: t,
            required,
            secret,
            default: default.map(Into::into),
        }
    }

    fn given(text: &str) -> BTreeMap<String, Spanned<toml::Value>> {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn converts_types_and_fills_defaults() {
        let params = [
            param("tables", ParameterType::Structured, true, false, None),
            param("page", ParameterType::Integer, false, false, Some("100")),
            param("mode", ParameterType::String, false, false, Some("fast")),
            param("tags", ParameterType::StringList, false, false, None),
        ];
        let s = build(
            &params,
            &given("tables = [{ name = \"user\" }]\ntags = [\"a\"]"),
            Path::new("."),
            false,
        )
        .unwrap();
        assert_eq!(s.len(), 4);
        assert!(matches!(&s[0].value, SettingValue::Structured(j) if j == r#"[{"name":"user"}]"#));
        assert!(matches!(s[1].value, SettingValue::Integer(100)));
        assert!(matches!(&s[2].value, SettingValue::String(m) if m == "fast"));
        assert!(matches!(&s[3].value, SettingValue::StringList(t) if t == &["a".to_string()]));
    }

    #[test]
    fn names_unknown_missing_and_mistyped_keys() {
        let params = [param("page", ParameterType::Integer, true, false, None)];
        let e = build(&params, &given("pgae = 3"), Path::new("."), false).unwrap_err();
        assert!(
            e.message.contains("'pgae'") && e.message.contains("page"),
            "{e:?}"
        );
        assert!(e.offset.is_some());
        let e = build(&params, &given(""), Path::new("."), false).unwrap_err();
        assert!(e.message.contains("required parameter 'page'"), "{e:?}");
        let e = build(&params, &given("page = \"3\""), Path::new("."), false).unwrap_err();
        assert!(
            e.message.contains("expected an integer, found string"),
            "{e:?}"
        );
    }

    #[test]
    fn secrets_must_come_from_outside_the_file() {
        let params = [param("password", ParameterType::String, true, true, None)];
        let e = build(
            &params,
            &given("password = \"hunter2hunter2\""),
            Path::new("."),
            false,
        )
        .unwrap_err();
        assert!(
            e.message.contains("secret") && !e.message.contains("hunter2"),
            "{e:?}"
        );
        let e = build(
            &params,
            &given("password = { value = \"hunter2hunter2\" }"),
            Path::new("."),
            false,
        )
        .unwrap_err();
        assert!(!e.message.contains("hunter2"), "{e:?}");
        let s = build(
            &params,
            &given("password = { value = \"hunter2hunter2\" }"),
            Path::new("."),
            true,
        )
        .unwrap();
        assert!(matches!(&s[0].value, SettingValue::String(p) if p == "hunter2hunter2"));
    }
}
