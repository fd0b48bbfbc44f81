//! Evaluating a parsed [`Filter`] against a resource's JSON (RFC 7644 §3.4.2.2), with the
//! schema deciding what the RFC leaves to attribute definitions: which strings compare
//! case-exactly, which are date-times, and where extension attributes are stored.
//!
//! Rules, in one place:
//! * A multi-valued attribute matches when any of its values does; `ne` is the negation of
//!   `eq`, so `emails ne "x"` means no email is "x", and holds when the attribute is absent.
//! * An object compared with a literal stands for its `value` sub-attribute
//!   (`emails eq "x"`, `manager eq "id"`).
//! * Strings compare without case unless the attribute is `caseExact`; unknown attributes
//!   compare without case. `gt`/`ge`/`lt`/`le` order strings lexicographically, numbers
//!   numerically, dateTime attributes by instant; booleans have no order.
//! * A string literal "true"/"false" (any case) equals the stored boolean (Entra ID quotes).
//! * `eq null` holds when the attribute is not present; `pr` when it has a value other
//!   than null, "", [] or {}.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::attr_json::{extension_key, get, is_empty, parse_bool, parse_instant, value_of};
use super::filter::{CompareOp, Filter, qualify};
use super::path::AttrPath;
use super::schema::{AttrDef, AttrType, ResourceSchema};

impl Filter {
    /// True when the resource matches, so the cache can answer `GET /Users?filter=…`
    /// without asking the target.
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        self.eval(resource, None, schema)
    }

    /// True when one element of the multi-valued attribute `parent` matches; this filter's
    /// paths name sub-attributes. PATCH uses it to pick the elements a filtered path
    /// (`members[value eq "x"]`) targets.
    pub(crate) fn matches_element(
        &self,
        element: &Value,
        parent: &AttrPath,
        schema: &ResourceSchema,
    ) -> bool {
        self.eval(element, Some(parent), schema)
    }

    fn eval(&self, node: &Value, parent: Option<&AttrPath>, schema: &ResourceSchema) -> bool {
        match self {
            Filter::And(a, b) => a.eval(node, parent, schema) && b.eval(node, parent, schema),
            Filter::Or(a, b) => a.eval(node, parent, schema) || b.eval(node, parent, schema),
            Filter::Not(f) => !f.eval(node, parent, schema),
            Filter::Present(path) => values_in(node, parent, path, schema)
                .into_iter()
                .any(|v| !is_empty(v)),
            Filter::Compare { path, op, value } => {
                let def = comparison_def(&qualify(parent, path), schema);
                compare(&values_in(node, parent, path, schema), *op, value, def)
            }
            Filter::ValuePath { path, filter } => values_in(node, parent, path, schema)
                .into_iter()
                .any(|element| filter.eval(element, Some(path), schema)),
        }
    }
}

/// The values a comparison on `path` looks at in a resource: every element of a
/// multi-valued attribute, the sub-attribute when the path names one, and an object's
/// `value` sub-attribute in place of the object. A cache index built from these agrees
/// with [`Filter::matches`] and [`Filter::required_equalities`].
pub fn compared_values<'v>(
    resource: &'v Value,
    path: &AttrPath,
    schema: &ResourceSchema,
) -> Vec<&'v Value> {
    values_in(resource, None, path, schema)
        .into_iter()
        .filter_map(value_of)
        .collect()
}

/// The raw values at `path`: arrays flattened, the sub-attribute taken from each element.
/// `node` is the resource, or with a `parent` one element of that attribute.
fn values_in<'v>(
    node: &'v Value,
    parent: Option<&AttrPath>,
    path: &AttrPath,
    schema: &ResourceSchema,
) -> Vec<&'v Value> {
    let holder = match parent {
        Some(_) => node.as_object(),
        None => node
            .as_object()
            .and_then(|root| match extension_key(path, schema) {
                Some(urn) => get(root, urn).and_then(Value::as_object),
                None => Some(root),
            }),
    };
    let attribute = holder.and_then(|h| get(h, &path.name));
    let elements = match attribute {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
        None => Vec::new(),
    };
    match &path.sub {
        Some(sub) => elements
            .into_iter()
            .filter_map(|e| e.as_object().and_then(|o| get(o, sub)))
            .collect(),
        None => elements,
    }
}

/// The definition whose type and case rule govern a comparison on `path`: the
/// sub-attribute, or for a complex attribute its `value` sub-attribute.
fn comparison_def<'s>(path: &AttrPath, schema: &'s ResourceSchema) -> Option<&'s AttrDef> {
    let resolved = schema.resolve(path)?;
    match resolved.sub {
        Some(sub) => Some(sub),
        None if resolved.attr.ty == AttrType::Complex => resolved.attr.sub("value"),
        None => Some(resolved.attr),
    }
}

fn compare(values: &[&Value], op: CompareOp, literal: &Value, def: Option<&AttrDef>) -> bool {
    if literal.is_null() {
        let present = values.iter().any(|v| !is_empty(v));
        return match op {
            CompareOp::Eq => !present,
            CompareOp::Ne => present,
            _ => false,
        };
    }
    let mut candidates = values.iter().filter_map(|v| value_of(v));
    let order = |v: &Value| ordering(v, literal, def);
    match op {
        CompareOp::Eq => candidates.any(|v| equal(v, literal, def)),
        CompareOp::Ne => !candidates.any(|v| equal(v, literal, def)),
        CompareOp::Co => candidates.any(|v| text_test(v, literal, def, |a, b| a.contains(b))),
        CompareOp::Sw => candidates.any(|v| text_test(v, literal, def, |a, b| a.starts_with(b))),
        CompareOp::Ew => candidates.any(|v| text_test(v, literal, def, |a, b| a.ends_with(b))),
        CompareOp::Gt => candidates.any(|v| order(v) == Some(Ordering::Greater)),
        CompareOp::Ge => {
            candidates.any(|v| matches!(order(v), Some(Ordering::Greater | Ordering::Equal)))
        }
        CompareOp::Lt => candidates.any(|v| order(v) == Some(Ordering::Less)),
        CompareOp::Le => {
            candidates.any(|v| matches!(order(v), Some(Ordering::Less | Ordering::Equal)))
        }
    }
}

fn equal(stored: &Value, literal: &Value, def: Option<&AttrDef>) -> bool {
    match (stored, literal) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(a), Value::String(b)) => parse_bool(b) == Some(*a),
        _ => ordering(stored, literal, def) == Some(Ordering::Equal),
    }
}

/// How a stored value orders against the literal; `None` when they do not compare.
fn ordering(stored: &Value, literal: &Value, def: Option<&AttrDef>) -> Option<Ordering> {
    match (stored, literal) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
        (Value::String(a), Value::String(b)) => {
            let is_date = def.is_some_and(|d| d.ty == AttrType::DateTime);
            match (is_date, parse_instant(a), parse_instant(b)) {
                (true, Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => Some(fold(a, def).cmp(&fold(b, def))),
            }
        }
        _ => None,
    }
}

fn text_test(
    stored: &Value,
    literal: &Value,
    def: Option<&AttrDef>,
    test: fn(&str, &str) -> bool,
) -> bool {
    match (stored, literal) {
        (Value::String(a), Value::String(b)) => test(&fold(a, def), &fold(b, def)),
        _ => false,
    }
}

/// The string as compared: itself for `caseExact` attributes, lower-cased otherwise.
fn fold<'s>(text: &'s str, def: Option<&AttrDef>) -> Cow<'s, str> {
    if def.is_some_and(|d| d.case_exact) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse_filter;
    use crate::scim::schema::{GROUP_SCHEMA, group_schema, user_resource};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Ext-1",
            "userName": "Bjensen@Example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "title": "",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "roles": [],
            "meta": {"created": "2024-01-01T10:00:00Z", "lastModified": "2024-03-01T12:00:00+01:00"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            },
            "urn:ferry:test:ext": {"level": 7, "ratio": 0.5}
        })
    }

    fn is_match(filter: &str) -> bool {
        parse_filter(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&user(), &user_resource(None))
    }

    fn check(filters: &[(&str, bool)]) {
        for (filter, expected) in filters {
            assert_eq!(is_match(filter), *expected, "{filter}");
        }
    }

    #[test]
    fn string_operators() {
        check(&[
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"userName eq "bjensen""#, false),
            (r#"userName ne "bjensen""#, true),
            (r#"userName ne "BJENSEN@example.com""#, false),
            (r#"userName co "JENSEN@""#, true),
            (r#"userName co "xyz""#, false),
            (r#"userName sw "bj""#, true),
            (r#"userName sw "jensen""#, false),
            (r#"userName ew ".COM""#, true),
            (r#"userName ew "org""#, false),
            (r#"userName gt "a""#, true),
            (r#"userName gt "c""#, false),
            (r#"userName ge "bjensen@example.com""#, true),
            (r#"userName lt "c""#, true),
            (r#"userName lt "bjensen@example.com""#, false),
            (r#"userName le "BJENSEN@EXAMPLE.COM""#, true),
            (r#"nickName eq "x""#, false),
            (r#"nickName ne "x""#, true),
            (r#"nickName co "x""#, false),
        ]);
    }

    #[test]
    fn case_exact_attributes_respect_case() {
        check(&[
            (r#"externalId eq "Ext-1""#, true),
            (r#"externalId eq "ext-1""#, false),
            (r#"externalId sw "ext""#, false),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            // attribute names themselves are never case-sensitive
            (r#"EXTERNALID eq "Ext-1""#, true),
            (r#"NAME.GIVENNAME eq "barbara""#, true),
        ]);
    }

    #[test]
    fn entras_guid_probe_finds_nothing() {
        check(&[(
            r#"userName eq "8d7d0c0a-6b61-4bd6-9a1c-2d8f7c4c9e10""#,
            false,
        )]);
    }

    #[test]
    fn presence() {
        check(&[
            ("userName pr", true),
            ("title pr", false),
            ("roles pr", false),
            ("nickName pr", false),
            ("name pr", true),
            ("name.middleName pr", false),
            ("emails pr", true),
            ("emails.type pr", true),
            ("manager pr", true),
            ("urn:ferry:test:ext:level pr", true),
            ("manager eq null", false),
            ("nickName eq null", true),
            ("title eq null", true),
            ("nickName ne null", false),
            ("userName ne null", true),
            ("userName gt null", false),
        ]);
    }

    #[test]
    fn booleans_numbers_and_dates() {
        check(&[
            ("active eq true", true),
            ("active eq FALSE", false),
            ("active ne false", true),
            (r#"active eq "True""#, true),
            (r#"active eq "false""#, false),
            ("active gt false", false),
            ("active le true", false),
            ("urn:ferry:test:ext:level eq 7", true),
            ("urn:ferry:test:ext:level eq 7.0", true),
            ("urn:ferry:test:ext:level gt 6.5", true),
            ("urn:ferry:test:ext:level lt 7", false),
            ("urn:ferry:test:ext:level le 7", true),
            ("urn:ferry:test:ext:ratio ge 0.5", true),
            (r#"urn:ferry:test:ext:level eq "7""#, false),
            (r#"employeeNumber eq 701984"#, false),
            (r#"meta.created gt "2024-01-01T09:00:00-02:00""#, false),
            (r#"meta.created lt "2024-01-01T09:00:00-02:00""#, true),
            (r#"meta.created eq "2024-01-01T11:00:00+01:00""#, true),
            (r#"meta.lastModified ge "2024-03-01T11:00:00Z""#, true),
            (r#"meta.lastModified gt "2024-03-01T11:00:00Z""#, false),
            (r#"meta.created sw "2024-01""#, true),
        ]);
    }

    #[test]
    fn multi_valued_and_value_paths() {
        check(&[
            (r#"emails eq "babs@jensen.org""#, true),
            (r#"emails co "@example""#, true),
            (r#"emails ne "babs@jensen.org""#, false),
            (r#"emails.value ew ".org""#, true),
            (r#"emails.type eq "home""#, true),
            (
                r#"emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "work" and value co "@jensen.org"]"#,
                false,
            ),
            (
                r#"emails[type eq "work"].value eq "bjensen@example.com""#,
                true,
            ),
            (
                r#"emails[type eq "home"].value eq "bjensen@example.com""#,
                false,
            ),
            (r#"emails[primary eq true].value sw "bjensen""#, true),
            (r#"emails[primary eq "True" and type eq "home"]"#, false),
            (r#"emails[not (type eq "work")]"#, true),
            (r#"emails[value pr and primary pr]"#, true),
            (r#"emails[display pr]"#, false),
            (r#"roles[value eq "x"]"#, false),
            (r#"emails[type eq "work"] and userName sw "b""#, true),
        ]);
    }

    #[test]
    fn extension_attributes_by_urn_and_short_name() {
        check(&[
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (r#"employeeNumber eq "701984""#, true),
            (r#"manager eq "26118915-6090-4610-87e4-49D8CA9F808D""#, true),
            (
                r#"manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:employeeNumber pr"#,
                false,
            ),
        ]);
    }

    #[test]
    fn logic() {
        check(&[
            (r#"userName sw "b" and active eq true"#, true),
            (r#"userName sw "x" and active eq true"#, false),
            (r#"userName sw "x" or active eq true"#, true),
            (r#"userName sw "x" or active eq false"#, false),
            (r#"not (userName sw "x")"#, true),
            (r#"not (userName sw "b") or title pr"#, false),
            (
                r#"userName sw "x" and active eq true or title eq null"#,
                true,
            ),
            (
                r#"userName sw "x" and (active eq true or title eq null)"#,
                false,
            ),
        ]);
    }

    #[test]
    fn group_members() {
        let groups = ResourceSchema {
            resource_type: "Group".into(),
            endpoint: "/Groups".into(),
            core: group_schema(),
            extensions: vec![],
        };
        let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "Admins",
                           "members": [{"value": "u1"}, {"value": "u2", "type": "User"}]});
        let is = |f: &str| parse_filter(f).unwrap().matches(&group, &groups);
        assert!(is(r#"displayName eq "admins""#));
        assert!(is(r#"members[value eq "u2"]"#));
        assert!(is(r#"members eq "u1""#));
        assert!(!is(r#"members[value eq "u3"]"#));
        assert!(!is(r#"members[type eq "User" and value eq "u1"]"#));
    }

    /// `required_equalities` is sound: every pair of a matching filter is among the
    /// values the index sees, under the attribute's case rule.
    #[test]
    fn required_equalities_hold_on_every_match() {
        let users = user_resource(None);
        let user = user();
        for text in [
            r#"userName eq "BJENSEN@example.com""#,
            r#"externalId eq "Ext-1" and active eq "True""#,
            r#"emails[type eq "WORK"].value eq "bjensen@example.com""#,
            r#"emails eq "babs@jensen.org" and name.givenName eq "barbara""#,
            r#"employeeNumber eq "701984" and manager eq "26118915-6090-4610-87E4-49d8ca9f808d""#,
            r#"meta.created eq "2024-01-01T11:00:00+01:00" and title eq null"#,
        ] {
            let filter = parse_filter(text).unwrap();
            assert!(filter.matches(&user, &users), "{text}");
            for (path, wanted) in filter.required_equalities() {
                let def = comparison_def(&path, &users);
                let found = compared_values(&user, &path, &users).into_iter().any(|v| {
                    v.as_str()
                        .is_some_and(|s| fold(s, def) == fold(&wanted, def))
                });
                assert!(
                    found,
                    "{text}: ({path}, {wanted}) not among the indexed values"
                );
            }
        }
    }

    #[test]
    fn odd_resources_do_not_match_anything_unexpected() {
        let users = user_resource(None);
        let filter =
            parse_filter(r#"emails[type eq "work"] or userName eq "x" or manager pr"#).unwrap();
        for odd in [
            json!(null),
            json!([1, 2]),
            json!("text"),
            json!({"emails": "x", "manager": null}),
            json!({"emails": [1, null, [2]], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": 3}),
        ] {
            assert!(!filter.matches(&odd, &users), "{odd}");
        }
    }
}
