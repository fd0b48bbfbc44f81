//! Attribute changes applied to a list of attributes, as a target applies them: what an
//! update leaves of an object, computed before writing it (to build a whole-row UPDATE,
//! to diff a child table) or after (a connector that keeps objects itself).
//!
//! The rules: a replace sets the attribute to its values, an add-values adds those it
//! lacks, a remove-values takes those it names away, a clear removes the attribute. Each
//! value is kept once, in the order first given; an attribute keeps its place in the
//! list, a new one goes at the end, and one left without values is removed (an attribute
//! without values and no attribute are the same thing in the contract).

use crate::types::{Attribute, AttributeChange, Value};

impl AttributeChange {
    /// The name of the attribute the change edits.
    pub fn name(&self) -> &str {
        match self {
            Self::Replace(attribute)
            | Self::AddValues(attribute)
            | Self::RemoveValues(attribute) => &attribute.name,
            Self::Clear(name) => name,
        }
    }

    /// The values the change gives; none for a clear.
    pub fn values(&self) -> &[Value] {
        match self {
            Self::Replace(attribute)
            | Self::AddValues(attribute)
            | Self::RemoveValues(attribute) => &attribute.values,
            Self::Clear(_) => &[],
        }
    }
}

/// Applies `changes` to `attributes`, in order.
pub fn apply_changes(attributes: &mut Vec<Attribute>, changes: &[AttributeChange]) {
    for change in changes {
        apply_change(attributes, change);
    }
}

/// Applies one change to `attributes`.
pub fn apply_change(attributes: &mut Vec<Attribute>, change: &AttributeChange) {
    let name = change.name();
    let position = match attributes
        .iter()
        .position(|attribute| attribute.name == name)
    {
        Some(position) => position,
        None => {
            attributes.push(Attribute::new(name, Vec::new()));
            attributes.len() - 1
        }
    };
    let values = &mut attributes[position].values;
    match change {
        AttributeChange::Replace(given) => {
            values.clear();
            add_missing(values, &given.values);
        }
        AttributeChange::AddValues(given) => add_missing(values, &given.values),
        AttributeChange::RemoveValues(given) => {
            values.retain(|value| !given.values.contains(value))
        }
        AttributeChange::Clear(_) => values.clear(),
    }
    if values.is_empty() {
        attributes.remove(position);
    }
}

/// Adds each of `given` that `values` does not hold yet.
fn add_missing(values: &mut Vec<Value>, given: &[Value]) {
    for value in given {
        if !values.contains(value) {
            values.push(value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, values: &[&str]) -> Attribute {
        Attribute::strings(name, values.iter().copied())
    }

    #[test]
    fn applies_every_kind_of_change() {
        let mut attributes = vec![
            attribute("a", &["1"]),
            attribute("m", &["x", "y"]),
            attribute("gone", &["z"]),
        ];
        apply_changes(
            &mut attributes,
            &[
                AttributeChange::Replace(attribute("a", &["2", "2"])),
                AttributeChange::AddValues(attribute("m", &["y", "w", "w"])),
                AttributeChange::RemoveValues(attribute("m", &["x"])),
                AttributeChange::Clear("gone".into()),
                AttributeChange::AddValues(attribute("new", &["n"])),
            ],
        );
        assert_eq!(
            attributes,
            [
                attribute("a", &["2"]),
                attribute("m", &["y", "w"]),
                attribute("new", &["n"])
            ]
        );
        apply_changes(
            &mut attributes,
            &[
                AttributeChange::RemoveValues(attribute("new", &["n"])),
                AttributeChange::Replace(attribute("a", &[])),
                AttributeChange::Clear("never-there".into()),
                AttributeChange::RemoveValues(attribute("never-there", &["x"])),
            ],
        );
        assert_eq!(attributes, [attribute("m", &["y", "w"])]);
    }

    #[test]
    fn names_the_attribute_and_values_of_a_change() {
        let replace = AttributeChange::Replace(attribute("mail", &["a@x.org"]));
        assert_eq!(replace.name(), "mail");
        assert_eq!(replace.values(), [Value::from("a@x.org")]);
        let clear = AttributeChange::Clear("mail".into());
        assert_eq!(clear.name(), "mail");
        assert!(clear.values().is_empty());
    }
}
