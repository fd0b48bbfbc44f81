//! Declaring a schema in a few lines, and checking writes against it: the host already
//! refuses values of the wrong type, but an unknown, read-only or repeated attribute, a
//! second value for a single-valued one or a missing required one is best refused by the
//! connector with an error naming the attribute, before the target sees it.
//!
//! ```
//! # use ferry_connector::types::{Attribute, AttributeSchema, ObjectTypeSchema, ValueType};
//! let user = ObjectTypeSchema::new("user", "id", vec![
//!     AttributeSchema::new("id", ValueType::String).read_only(),
//!     AttributeSchema::new("userName", ValueType::String).required(),
//!     AttributeSchema::new("emails", ValueType::String).multi_valued(),
//! ]);
//! let add = [Attribute::strings("userName", ["ada"])];
//! assert!(user.check_writes(&add).is_ok() && user.check_required(&add).is_ok());
//! assert!(user.check_writes(&[Attribute::strings("id", ["7"])]).is_err());
//! ```

use crate::types::{Attribute, AttributeSchema, Error, ObjectTypeSchema, ValueType};

impl AttributeSchema {
    /// A single-valued, optional, writable, not secret attribute of `value_type`.
    pub fn new(name: impl Into<String>, value_type: ValueType) -> Self {
        Self {
            name: name.into(),
            value_type,
            multi_valued: false,
            required: false,
            read_only: false,
            secret: false,
            reference_types: Vec::new(),
            description: None,
        }
    }

    /// It holds any number of values.
    #[must_use]
    pub fn multi_valued(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    /// The target refuses an object without it.
    #[must_use]
    pub fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    /// The target sets it; exports must not write it.
    #[must_use]
    pub fn read_only(self) -> Self {
        Self {
            read_only: true,
            ..self
        }
    }

    /// Write-only and sensitive (a password): the host never caches, returns or logs it.
    #[must_use]
    pub fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
        }
    }

    /// Text shown to operators and in the SCIM schema extension.
    #[must_use]
    pub fn with_description(self, description: impl Into<String>) -> Self {
        Self {
            description: Some(description.into()),
            ..self
        }
    }
}

impl ObjectTypeSchema {
    /// An object type whose anchor is the one attribute `anchor`.
    pub fn new(
        name: impl Into<String>,
        anchor: impl Into<String>,
        attributes: Vec<AttributeSchema>,
    ) -> Self {
        Self {
            name: name.into(),
            anchor_attributes: vec![anchor.into()],
            attributes,
        }
    }

    /// The attribute called `name`, if the type has one.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    /// Checks what an add or update writes: every attribute is one of the type's, not
    /// read-only, given once, with values of its type and at most one value when
    /// single-valued. The error is `invalid-input` naming the attribute.
    pub fn check_writes(&self, attributes: &[Attribute]) -> Result<(), Error> {
        for (position, attribute) in attributes.iter().enumerate() {
            let name = attribute.name.as_str();
            let refuse = |why: String| Err(Error::invalid_input(why).attribute(name));
            let Some(declared) = self.attribute(name) else {
                return refuse(format!(
                    "object type '{}' has no attribute '{name}'",
                    self.name
                ));
            };
            if declared.read_only {
                return refuse(format!("attribute '{name}' is read-only"));
            }
            if attributes[..position]
                .iter()
                .any(|earlier| earlier.name == name)
            {
                return refuse(format!("attribute '{name}' is given twice"));
            }
            if let Some(value) = attribute
                .values
                .iter()
                .find(|value| value.value_type() != declared.value_type)
            {
                return refuse(format!(
                    "attribute '{name}' takes {} values, not {}",
                    type_name(declared.value_type),
                    type_name(value.value_type())
                ));
            }
            if !declared.multi_valued && attribute.values.len() > 1 {
                return refuse(format!(
                    "attribute '{name}' is single-valued; {} values were given",
                    attribute.values.len()
                ));
            }
        }
        Ok(())
    }

    /// Checks that an object's attributes hold a value for every required attribute
    /// (other than the anchor, which the target may set).
    pub fn check_required(&self, attributes: &[Attribute]) -> Result<(), Error> {
        let missing = self.attributes.iter().find(|declared| {
            declared.required
                && !self.anchor_attributes.contains(&declared.name)
                && !attributes
                    .iter()
                    .any(|given| given.name == declared.name && !given.values.is_empty())
        });
        match missing {
            Some(declared) => Err(Error::invalid_input(format!(
                "object type '{}' needs attribute '{}'",
                self.name, declared.name
            ))
            .attribute(&declared.name)),
            None => Ok(()),
        }
    }
}

/// A value type as messages name it.
fn type_name(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::String => "string",
        ValueType::Integer => "integer",
        ValueType::Boolean => "boolean",
        ValueType::Binary => "binary",
        ValueType::Datetime => "datetime",
        ValueType::Reference => "reference",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ErrorKind, Value};

    fn user() -> ObjectTypeSchema {
        ObjectTypeSchema::new(
            "user",
            "id",
            vec![
                AttributeSchema::new("id", ValueType::Integer)
                    .read_only()
                    .required(),
                AttributeSchema::new("userName", ValueType::String).required(),
                AttributeSchema::new("emails", ValueType::String).multi_valued(),
                AttributeSchema::new("password", ValueType::String)
                    .secret()
                    .with_description("Write-only."),
            ],
        )
    }

    fn refused(attributes: &[Attribute]) -> (ErrorKind, Option<String>, String) {
        let error = user().check_writes(attributes).unwrap_err();
        (error.kind, error.attribute, error.message)
    }

    #[test]
    fn builds_attribute_declarations() {
        let user = user();
        assert_eq!(user.anchor_attributes, ["id"]);
        let id = user.attribute("id").unwrap();
        assert!(id.read_only && id.required && !id.multi_valued && !id.secret);
        let password = user.attribute("password").unwrap();
        assert!(password.secret && password.description.as_deref() == Some("Write-only."));
        assert!(user.attribute("emails").unwrap().multi_valued);
        assert!(user.attribute("mail").is_none());
    }

    #[test]
    fn refuses_writes_the_schema_does_not_allow() {
        let name = |attribute: &str| Some(attribute.to_owned());
        let cases = [
            (
                vec![Attribute::strings("mail", ["x"])],
                "mail",
                "has no attribute",
            ),
            (
                vec![Attribute::new("id", vec![Value::from(7)])],
                "id",
                "read-only",
            ),
            (
                vec![
                    Attribute::strings("userName", ["a"]),
                    Attribute::strings("userName", ["b"]),
                ],
                "userName",
                "given twice",
            ),
            (
                vec![Attribute::new("userName", vec![Value::from(1)])],
                "userName",
                "takes string values, not integer",
            ),
            (
                vec![Attribute::strings("userName", ["a", "b"])],
                "userName",
                "single-valued; 2 values",
            ),
        ];
        for (attributes, attribute, reason) in cases {
            let (kind, named, message) = refused(&attributes);
            assert_eq!(kind, ErrorKind::InvalidInput);
            assert_eq!(named, name(attribute));
            assert!(message.contains(reason), "{message}");
        }
        let fine = [
            Attribute::strings("userName", ["a"]),
            Attribute::strings("emails", ["a@x.org", "b@x.org"]),
            Attribute::new("password", vec![]),
        ];
        assert!(user().check_writes(&fine).is_ok());
    }

    #[test]
    fn requires_required_attributes_but_not_the_anchor() {
        let user = user();
        assert!(
            user.check_required(&[Attribute::strings("userName", ["a"])])
                .is_ok()
        );
        let missing = user
            .check_required(&[Attribute::new("userName", vec![])])
            .unwrap_err();
        assert_eq!(missing.attribute.as_deref(), Some("userName"));
        assert_eq!(
            missing.message,
            "object type 'user' needs attribute 'userName'"
        );
    }
}
