//! What the suite writes, chosen from the connector's schema: the object type, the
//! attribute that names an object, the required attributes, and one attribute of each
//! value kind (string, integer, boolean, datetime, binary) plus a multi-valued one to
//! exercise. The few things a schema cannot say come from [`Hints`].
//!
//! The suite writes one attribute per kind, not every attribute: a schema gives types,
//! not syntaxes, and a directory refuses a made-up value for a telephone number or a DN.
//! Optional single-valued attributes are preferred (they can be replaced and cleared
//! freely), then optional multi-valued ones, then required ones.

use crate::runtime::bindings::types::{
    Attribute, AttributeSchema, ObjectTypeSchema, Schema, Value, ValueType,
};

use super::values::sample;

/// What the operator tells the suite that the schema cannot.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// The object type to test; default "user", else the schema's first type.
    pub object_type: Option<String>,
    /// The attribute that names an object (unique in the target; a change of it is a
    /// rename); default the first required, writable string attribute.
    pub name_attribute: Option<String>,
    /// Attributes to leave alone (a syntax the suite's values do not fit, a column a
    /// trigger owns).
    pub skip: Vec<String>,
}

/// The value kinds the suite writes, in the order it reports them.
pub const KINDS: [ValueType; 5] = [
    ValueType::String,
    ValueType::Integer,
    ValueType::Boolean,
    ValueType::Datetime,
    ValueType::Binary,
];

/// The contract's name of a value kind.
pub fn kind_name(kind: ValueType) -> &'static str {
    match kind {
        ValueType::String => "string",
        ValueType::Integer => "integer",
        ValueType::Boolean => "boolean",
        ValueType::Binary => "binary",
        ValueType::Datetime => "datetime",
        ValueType::Reference => "reference",
    }
}

/// The attributes the suite exercises, and the values it builds objects from.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The object type under test.
    pub object_type: String,
    /// Its schema, which every object read is checked against.
    pub schema: ObjectTypeSchema,
    /// The attributes the anchor is built from (never written by the suite).
    pub anchor_attributes: Vec<String>,
    /// The attribute that names an object.
    pub name: AttributeSchema,
    /// The other required attributes, filled on every add.
    pub required: Vec<AttributeSchema>,
    /// One attribute per value kind found, in [`KINDS`] order.
    pub kinds: Vec<AttributeSchema>,
    /// A multi-valued attribute for add-values and remove-values, if there is one.
    pub multi: Option<AttributeSchema>,
    /// What every value the suite writes starts with, unique to this run, so leftovers
    /// of a crashed run are recognisable and never mistaken for real objects.
    pub run: String,
}

impl Plan {
    /// Chooses what to exercise in `schema`, following `hints`.
    pub fn new(schema: &Schema, hints: &Hints, run: String) -> Result<Plan, String> {
        let object_type = choose_type(schema, hints.object_type.as_deref())?;
        for skipped in &hints.skip {
            attribute(object_type, skipped)?;
        }
        let is_anchor = |a: &AttributeSchema| object_type.anchor_attributes.contains(&a.name);
        let skipped = |a: &AttributeSchema| hints.skip.iter().any(|s| s == &a.name);
        let name = match &hints.name_attribute {
            Some(name) => {
                let found = attribute(object_type, name)?;
                if found.read_only || found.secret || found.value_type != ValueType::String {
                    return Err(format!(
                        "the name attribute '{name}' must be a writable, non-secret string \
                         attribute"
                    ));
                }
                found
            }
            None => object_type
                .attributes
                .iter()
                .find(|a| {
                    a.required
                        && !a.read_only
                        && !a.secret
                        && a.value_type == ValueType::String
                        && !is_anchor(a)
                        && !skipped(a)
                })
                .ok_or_else(|| {
                    format!(
                        "object type '{}' has no required, writable string attribute to \
                         name objects by: give one with --name-attribute",
                        object_type.name
                    )
                })?,
        }
        .clone();
        let writable = |a: &&AttributeSchema| {
            !a.read_only && !is_anchor(a) && a.name != name.name && !skipped(a)
        };
        let mut required = Vec::new();
        for a in object_type.attributes.iter().filter(writable) {
            if !a.required {
                continue;
            }
            if a.value_type == ValueType::Reference {
                return Err(format!(
                    "attribute '{}' is a required reference: the suite cannot make the \
                     object it points to",
                    a.name
                ));
            }
            required.push(a.clone());
        }
        let candidates: Vec<&AttributeSchema> = object_type
            .attributes
            .iter()
            .filter(writable)
            .filter(|a| !a.secret)
            .collect();
        let preference = |a: &&&AttributeSchema| (a.required, a.multi_valued);
        let kinds: Vec<AttributeSchema> = KINDS
            .iter()
            .filter_map(|kind| {
                candidates
                    .iter()
                    .filter(|a| a.value_type == *kind)
                    .min_by_key(preference)
                    .map(|a| (*a).clone())
            })
            .collect();
        let multi = candidates
            .iter()
            .filter(|a| a.multi_valued && !a.required && a.value_type != ValueType::Reference)
            .filter(|a| !kinds.iter().any(|k| k.name == a.name))
            .min_by_key(|a| a.value_type != ValueType::String)
            .map(|a| (*a).clone());
        Ok(Plan {
            object_type: object_type.name.clone(),
            schema: object_type.clone(),
            anchor_attributes: object_type.anchor_attributes.clone(),
            name,
            required,
            kinds,
            multi,
            run,
        })
    }

    /// One line saying what the suite exercises, for the report.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("type '{}'", self.object_type),
            format!("anchor {}", self.anchor_attributes.join("+")),
            format!("name '{}'", self.name.name),
        ];
        if !self.required.is_empty() {
            let names: Vec<&str> = self.required.iter().map(|a| a.name.as_str()).collect();
            parts.push(format!("required {}", names.join(", ")));
        }
        for a in &self.kinds {
            parts.push(format!("{} '{}'", kind_name(a.value_type), a.name));
        }
        if let Some(multi) = &self.multi {
            parts.push(format!("multi-valued '{}'", multi.name));
        }
        parts.join("; ")
    }

    /// The name of object `seq` of this run.
    pub fn name_value(&self, seq: u32) -> String {
        format!("{}-{seq:02}", self.run)
    }

    /// The attribute of `kind` the suite writes, if the schema has one.
    pub fn of_kind(&self, kind: ValueType) -> Option<&AttributeSchema> {
        self.kinds.iter().find(|a| a.value_type == kind)
    }

    /// The string attribute for text checks (Unicode, large values, delta changes).
    pub fn text(&self) -> Option<&AttributeSchema> {
        self.of_kind(ValueType::String)
    }

    /// The attribute the clear check empties: the first optional one exercised (booleans
    /// last: a cleared flag may read back as its default).
    pub fn clearable(&self) -> Option<&AttributeSchema> {
        let order = [
            ValueType::String,
            ValueType::Integer,
            ValueType::Datetime,
            ValueType::Binary,
            ValueType::Boolean,
        ];
        order
            .iter()
            .filter_map(|kind| self.of_kind(*kind))
            .find(|a| !a.required)
    }

    /// Variant `variant` of `attribute`'s sample value for object `seq`.
    pub fn value(&self, attribute: &AttributeSchema, seq: u32, variant: u32) -> Value {
        sample(attribute.value_type, &self.run, seq, variant)
            .expect("the plan holds no reference attributes")
    }

    /// Object `seq` with only its name and the required attributes.
    pub fn minimal(&self, seq: u32) -> Vec<Attribute> {
        let mut attributes = vec![Attribute {
            name: self.name.name.clone(),
            values: vec![Value::String(self.name_value(seq))],
        }];
        attributes.extend(self.required.iter().map(|a| Attribute {
            name: a.name.clone(),
            values: vec![self.value(a, seq, 0)],
        }));
        attributes
    }

    /// Object `seq` with its name, the required attributes, a value of every kind and
    /// two values of the multi-valued attribute.
    pub fn full(&self, seq: u32) -> Vec<Attribute> {
        let mut attributes = self.minimal(seq);
        for a in &self.kinds {
            if !attributes.iter().any(|given| given.name == a.name) {
                attributes.push(Attribute {
                    name: a.name.clone(),
                    values: vec![self.value(a, seq, 0)],
                });
            }
        }
        if let Some(multi) = &self.multi {
            attributes.push(Attribute {
                name: multi.name.clone(),
                values: vec![self.value(multi, seq, 2), self.value(multi, seq, 3)],
            });
        }
        attributes
    }

    /// The attributes of `attributes` whose values can be read back (not secret).
    pub fn readable(&self, attributes: &[Attribute]) -> Vec<Attribute> {
        attributes
            .iter()
            .filter(|given| {
                !self
                    .required
                    .iter()
                    .any(|a| a.name == given.name && a.secret)
            })
            .cloned()
            .collect()
    }
}

/// The object type named by the hint, else "user", else the first.
fn choose_type<'s>(schema: &'s Schema, hint: Option<&str>) -> Result<&'s ObjectTypeSchema, String> {
    let named = |name: &str| schema.object_types.iter().find(|t| t.name == name);
    match hint {
        Some(name) => named(name).ok_or_else(|| {
            let known: Vec<&str> = schema
                .object_types
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            format!(
                "the schema has no object type '{name}' (it has: {})",
                known.join(", ")
            )
        }),
        None => named("user")
            .or_else(|| schema.object_types.first())
            .ok_or_else(|| "the schema has no object types".to_string()),
    }
}

/// The attribute `name` of `object_type`.
fn attribute<'t>(
    object_type: &'t ObjectTypeSchema,
    name: &str,
) -> Result<&'t AttributeSchema, String> {
    object_type
        .attributes
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| {
            format!(
                "object type '{}' has no attribute '{name}'",
                object_type.name
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, kind: ValueType) -> AttributeSchema {
        AttributeSchema {
            name: name.into(),
            value_type: kind,
            multi_valued: false,
            required: false,
            read_only: false,
            secret: false,
            reference_types: vec![],
            description: None,
        }
    }

    fn schema() -> Schema {
        let mut id = attr("id", ValueType::Integer);
        id.read_only = true;
        let mut login = attr("login", ValueType::String);
        login.required = true;
        let mut tags = attr("tags", ValueType::String);
        tags.multi_valued = true;
        let mut password = attr("password", ValueType::String);
        password.secret = true;
        Schema {
            object_types: vec![ObjectTypeSchema {
                name: "user".into(),
                anchor_attributes: vec!["id".into()],
                attributes: vec![
                    id,
                    login,
                    tags,
                    attr("mail", ValueType::String),
                    attr("age", ValueType::Integer),
                    attr("photo", ValueType::Binary),
                    password,
                ],
            }],
        }
    }

    #[test]
    fn discovers_the_name_and_one_attribute_per_kind() {
        let plan = Plan::new(&schema(), &Hints::default(), "run".into()).unwrap();
        assert_eq!(plan.object_type, "user");
        assert_eq!(plan.name.name, "login");
        let kinds: Vec<&str> = plan.kinds.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(kinds, ["mail", "age", "photo"], "single-valued first");
        assert_eq!(plan.multi.as_ref().unwrap().name, "tags");
        assert_eq!(plan.clearable().unwrap().name, "mail");
        let full = plan.full(3);
        assert_eq!(full[0].values, [Value::String("run-03".into())]);
        assert_eq!(full.len(), 5);
        assert!(!full.iter().any(|a| a.name == "id" || a.name == "password"));
    }

    #[test]
    fn follows_the_hints_and_refuses_unknown_names() {
        let hints = Hints {
            object_type: Some("user".into()),
            name_attribute: Some("mail".into()),
            skip: vec!["photo".into()],
        };
        let plan = Plan::new(&schema(), &hints, "run".into()).unwrap();
        assert_eq!(plan.name.name, "mail");
        assert!(plan.of_kind(ValueType::Binary).is_none());
        assert_eq!(plan.required[0].name, "login");
        for bad in [
            Hints {
                object_type: Some("group".into()),
                ..Hints::default()
            },
            Hints {
                skip: vec!["nope".into()],
                ..Hints::default()
            },
            Hints {
                name_attribute: Some("id".into()),
                ..Hints::default()
            },
        ] {
            assert!(Plan::new(&schema(), &bad, "run".into()).is_err(), "{bad:?}");
        }
    }
}
