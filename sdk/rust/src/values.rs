//! Building and reading values, attributes and objects without matching on the
//! contract's variants at every turn: `Attribute::strings("mail", ["a@x.org"])`,
//! `attribute.first_string()`, `object.attribute("mail")`.

use crate::types::{Attribute, Datetime, Object, Value, ValueType};

impl Value {
    /// The text of a `string` value; `None` for any other variant.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(text) => Some(text),
            _ => None,
        }
    }

    /// The number of an `integer` value; `None` for any other variant.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(number) => Some(*number),
            _ => None,
        }
    }

    /// The truth of a `boolean` value; `None` for any other variant.
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Self::Boolean(flag) => Some(*flag),
            _ => None,
        }
    }

    /// The type this value has, to check it against the type the schema declares for
    /// its attribute before writing it.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::String(_) => ValueType::String,
            Self::Integer(_) => ValueType::Integer,
            Self::Boolean(_) => ValueType::Boolean,
            Self::Binary(_) => ValueType::Binary,
            Self::Datetime(_) => ValueType::Datetime,
            Self::Reference(_) => ValueType::Reference,
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Self::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Self::String(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Self::Integer(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Self::Boolean(flag)
    }
}

impl From<Datetime> for Value {
    fn from(at: Datetime) -> Self {
        Self::Datetime(at)
    }
}

impl Attribute {
    /// An attribute with these values.
    pub fn new(name: impl Into<String>, values: Vec<Value>) -> Self {
        Self {
            name: name.into(),
            values,
        }
    }

    /// An attribute of `string` values, the most common kind.
    pub fn strings<S: Into<String>>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        Self::new(
            name,
            values
                .into_iter()
                .map(|value| Value::String(value.into()))
                .collect(),
        )
    }

    /// The first value, when it is a string: how a single-valued text attribute is read.
    pub fn first_string(&self) -> Option<&str> {
        self.values.first().and_then(Value::as_str)
    }

    /// The first value, when it is an integer.
    pub fn first_integer(&self) -> Option<i64> {
        self.values.first().and_then(Value::as_integer)
    }

    /// The first value, when it is a boolean.
    pub fn first_boolean(&self) -> Option<bool> {
        self.values.first().and_then(Value::as_boolean)
    }
}

impl Object {
    /// The attribute called `name`, if the object has it.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find_attribute(&self.attributes, name)
    }
}

/// The attribute called `name` in a list of attributes (an add's, an object's). Names
/// are compared exactly: the contract's names are the schema's, spelled one way.
pub fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes.iter().find(|attribute| attribute.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_reads_attributes() {
        let mail = Attribute::strings("mail", ["a@x.org", "b@x.org"]);
        assert_eq!(
            mail.values,
            [Value::from("a@x.org"), Value::from("b@x.org")]
        );
        assert_eq!(mail.first_string(), Some("a@x.org"));
        assert_eq!(mail.first_integer(), None);
        let count = Attribute::new("count", vec![7.into()]);
        assert_eq!(count.first_integer(), Some(7));
        let active = Attribute::new("active", vec![false.into()]);
        assert_eq!(active.first_boolean(), Some(false));
        assert_eq!(Attribute::new("none", vec![]).first_string(), None);
    }

    #[test]
    fn finds_attributes_by_their_exact_name() {
        let object = Object {
            object_type: "user".into(),
            anchor: "1".into(),
            attributes: vec![Attribute::strings("mail", ["a@x.org"])],
        };
        assert_eq!(
            object.attribute("mail").and_then(Attribute::first_string),
            Some("a@x.org")
        );
        assert!(object.attribute("Mail").is_none());
        assert!(find_attribute(&object.attributes, "cn").is_none());
    }

    #[test]
    fn knows_the_type_of_every_value() {
        let at = Datetime {
            seconds: 0,
            nanoseconds: 0,
        };
        let cases = [
            (Value::from("x"), ValueType::String),
            (Value::from(1), ValueType::Integer),
            (Value::from(true), ValueType::Boolean),
            (Value::Binary(vec![0]), ValueType::Binary),
            (Value::from(at), ValueType::Datetime),
            (Value::Reference("1".into()), ValueType::Reference),
        ];
        for (value, value_type) in cases {
            assert_eq!(value.value_type(), value_type, "{value:?}");
        }
        assert_eq!(Value::Reference("1".into()).as_str(), None);
    }
}
