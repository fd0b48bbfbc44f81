//! Property tests (proptest) for everything a client or an operator feeds the host: the
//! SCIM filter parser, PATCH parsing and application, the JSON → target mapping, SCIM
//! ids, and the configuration parser. Whatever the input, no panic, client mistakes are
//! 4xx errors, and a failed PATCH leaves the resource as it was.
//!
//! CI runs the default number of cases; for a long run while developing:
//! `PROPTEST_CASES=200000 cargo test -p ferry --test integration properties`.

use std::collections::BTreeMap;
use std::path::Path;

use ferry::config::LoadedConfig;
use ferry::runtime::bindings::types::{AttributeSchema, ObjectTypeSchema, ValueType};
use ferry::scim::filter::parse_filter;
use ferry::scim::id;
use ferry::scim::mapping::Mapping;
use ferry::scim::patch::{apply_patch, parse_patch};
use ferry::scim::schema::user_resource;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Attribute names, URNs, operators and words SCIM requests are made of, so that random
/// input reaches deep into the parsers instead of failing at the first character.
const WORDS: &[&str] = &[
    "userName",
    "name",
    "givenName",
    "familyName",
    "emails",
    "value",
    "type",
    "primary",
    "active",
    "displayName",
    "externalId",
    "id",
    "meta",
    "members",
    "manager",
    "password",
    "schemas",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:ferry:2.0:User",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "true",
    "false",
    "null",
    "work",
    "op",
    "path",
    "Operations",
    "add",
    "Replace",
    "remove",
    "user_name",
    "email",
    "nicknames",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_string),
        "[ -~]{0,6}",
        "\\PC{0,4}",
    ]
}

/// Text made of SCIM words, punctuation and noise.
fn scimish_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        word(),
        prop::sample::select(vec![
            "(", ")", "[", "]", "\"", ".", ":", " ", "\\", "\\\"", "\\u00e9", "\\ud83d"
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

/// Arbitrary JSON, biased towards SCIM shapes.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A PATCH body with random operations over real paths and random values.
fn patch_body() -> impl Strategy<Value = Value> {
    let path = prop_oneof![
        prop::sample::select(vec![
            "active",
            "userName",
            "name.givenName",
            "emails",
            "emails[type eq \"work\"].value",
            "displayName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:ferry:2.0:User:nicknames",
            "id",
            "members[value eq \"x\"]",
        ])
        .prop_map(|p| Some(p.to_string())),
        scimish_text().prop_map(Some),
        Just(None),
    ];
    let op = prop::sample::select(vec!["add", "Replace", "remove", "REMOVE", "copy"]);
    let operation = (op, path, prop::option::of(json_value())).prop_map(|(op, path, value)| {
        let mut o = Map::new();
        o.insert("op".into(), json!(op));
        if let Some(p) = path {
            o.insert("path".into(), json!(p));
        }
        if let Some(v) = value {
            o.insert("value".into(), v);
        }
        Value::Object(o)
    });
    prop::collection::vec(operation, 0..6).prop_map(|ops| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
    })
}

fn attr(name: &str, value_type: ValueType, multi: bool) -> AttributeSchema {
    AttributeSchema {
        name: name.into(),
        value_type,
        multi_valued: multi,
        required: false,
        read_only: false,
        secret: false,
        reference_types: vec![],
        description: None,
    }
}

fn mapping() -> Mapping {
    let object_type = ObjectTypeSchema {
        name: "user".into(),
        anchor_attributes: vec!["id".into()],
        attributes: vec![
            attr("id", ValueType::Integer, false),
            attr("user_name", ValueType::String, false),
            attr("active", ValueType::Boolean, false),
            attr("email", ValueType::String, false),
            attr("given_name", ValueType::String, false),
            attr("employee_number", ValueType::Integer, false),
            attr("manager", ValueType::Reference, false),
            attr("updated", ValueType::Datetime, false),
            attr("photo", ValueType::Binary, false),
            attr("nicknames", ValueType::String, true),
        ],
    };
    Mapping::build(user_resource(None), &object_type, &BTreeMap::new(), true).unwrap()
}

fn resource() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1", "userName": "ann", "active": true,
        "name": {"givenName": "Ann"},
        "emails": [{"type": "work", "value": "ann@example.org", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:ferry:2.0:User": {"nicknames": ["a", "an"]}
    })
}

proptest! {
    #[test]
    fn filters_never_panic_and_errors_are_invalid_filter(text in scimish_text()) {
        match parse_filter(&text) {
            Ok(filter) => {
                let schema = user_resource(None);
                let _ = filter.matches(&resource(), &schema);
                let _ = filter.required_equalities();
            }
            Err(e) => {
                prop_assert_eq!(e.status.as_u16(), 400);
                let body = e.body();
                prop_assert_eq!(body["scimType"].as_str(), Some("invalidFilter"));
            }
        }
    }

    #[test]
    fn filters_match_any_json_without_panicking(text in scimish_text(), doc in json_value()) {
        if let Ok(filter) = parse_filter(&text) {
            let _ = filter.matches(&doc, &user_resource(None));
        }
    }

    #[test]
    fn patches_never_panic_and_failures_change_nothing(body in prop_oneof![patch_body(), json_value()]) {
        let m = mapping();
        if let Ok(ops) = parse_patch(&body) {
            let original = resource();
            let mut patched = original.clone();
            match apply_patch(&mut patched, &ops, &m.schema) {
                Ok(()) => {
                    // What a PATCH produced must turn into target changes or a 400.
                    if let Err(e) = m.changes(&original, &patched, &[]) {
                        prop_assert_eq!(e.status.as_u16(), 400);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e.status.as_u16(), 400);
                    prop_assert_eq!(patched, original);
                }
            }
        }
    }

    #[test]
    fn any_post_body_maps_or_is_a_400(body in json_value()) {
        if let Err(e) = mapping().attributes_for_add(&body) {
            prop_assert_eq!(e.status.as_u16(), 400);
        }
    }

    #[test]
    fn ids_round_trip_and_are_url_safe(anchor in "\\PC{1,40}") {
        let encoded = id::encode(&anchor);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        prop_assert_eq!(id::decode(&encoded), Some(anchor));
    }

    #[test]
    fn configuration_errors_name_a_line_of_the_file(text in prop_oneof![
        "[ -~\n]{0,200}",
        prop::collection::vec(prop::sample::select(vec![
            "[server]\n", "[apps.a]\n", "listen = \"127.0.0.1:1\"\n", "insecure-http = true\n",
            "plugin = \"p\"\n", "token = { env = \"T\" }\n", "[apps.a.limits]\n", "instances = 0\n",
            "memory-mib = 99999\n", "[apps.a.network]\n", "allow = [\"x\"]\n", "colour = 1\n", "= \n", "[[apps]]\n",
        ]), 0..12).prop_map(|l| l.concat()),
    ]) {
        let lines = text.lines().count().max(1);
        if let Err(e) = LoadedConfig::parse(Path::new("/etc/ferry.toml"), text.clone()) {
            prop_assert!(e.line >= 1 && e.line <= lines + 1, "line {} of {}: {}", e.line, lines, e);
            prop_assert!(e.to_string().starts_with("/etc/ferry.toml:"));
        }
    }
}
