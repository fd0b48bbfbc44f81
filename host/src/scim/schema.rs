//! SCIM schema definitions (RFC 7643 §7): the core User and Group schemas, the enterprise
//! User extension, and the per-app extension that exposes the target's own attributes.
//!
//! One description drives the `/Schemas` endpoint, PATCH (whether a path is multi-valued,
//! what type a value must be coerced to: Entra ID sends `"False"` for a boolean), filter
//! evaluation (which strings compare case-exactly), and request validation.

use serde_json::{Value, json};

use super::path::AttrPath;

/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The PATCH request message URN.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The list response message URN.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The URN of the extension that exposes the target's own attributes on a resource type
/// ("User", "Group"). It follows the form Entra ID accepts for custom extensions
/// (`urn:ietf:params:scim:schemas:extension:NAME:2.0:User`), so an administrator can map
/// to `urn:ietf:params:scim:schemas:extension:ferry:2.0:User:<attribute>` directly.
pub fn target_schema_urn(resource_type: &str) -> String {
    format!("urn:ietf:params:scim:schemas:extension:ferry:2.0:{resource_type}")
}

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// Text.
    String,
    /// `true` / `false` (Entra ID also sends `"True"` / `"False"`).
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An xsd:dateTime.
    DateTime,
    /// Base64-encoded bytes.
    Binary,
    /// A URI or the id of another resource.
    Reference,
    /// An attribute with sub-attributes.
    Complex,
}

impl AttrType {
    fn keyword(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Whether and how a client may change an attribute (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set and changed by the client.
    ReadWrite,
    /// Set by the service provider only.
    ReadOnly,
    /// Set by the client, never returned (a password).
    WriteOnly,
    /// Set once on creation.
    Immutable,
}

/// One attribute of a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDef {
    /// The attribute's name, as the RFC spells it.
    pub name: String,
    /// Its data type.
    pub ty: AttrType,
    /// True for attributes holding a list of values.
    pub multi_valued: bool,
    /// The service provider requires it.
    pub required: bool,
    /// String comparisons respect case.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// `userName` and group `displayName` are unique on the server.
    pub unique: bool,
    /// The sub-attributes of a complex attribute.
    pub sub_attributes: Vec<AttrDef>,
    /// Shown to administrators in the IdP's mapping editor.
    pub description: String,
}

impl AttrDef {
    /// A single-valued, optional, read-write, case-insensitive attribute.
    pub fn new(name: &str, ty: AttrType, description: &str) -> Self {
        Self {
            name: name.to_string(),
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            unique: false,
            sub_attributes: Vec::new(),
            description: description.to_string(),
        }
    }

    /// A complex attribute with these sub-attributes.
    pub fn complex(name: &str, description: &str, subs: Vec<AttrDef>) -> Self {
        Self {
            sub_attributes: subs,
            ..Self::new(name, AttrType::Complex, description)
        }
    }

    /// Marks the attribute multi-valued.
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Marks the attribute required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks string comparisons case-exact.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Marks the attribute unique on the server.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// The sub-attribute of this name, compared without case.
    pub fn sub(&self, name: &str) -> Option<&AttrDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.ty.keyword(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadWrite => "readWrite",
                Mutability::ReadOnly => "readOnly",
                Mutability::WriteOnly => "writeOnly",
                Mutability::Immutable => "immutable",
            },
            "returned": if self.mutability == Mutability::WriteOnly { "never" } else { "default" },
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.sub_attributes.is_empty() {
            v["subAttributes"] =
                Value::Array(self.sub_attributes.iter().map(AttrDef::to_json).collect());
        }
        v
    }
}

/// One schema: a URN, a name and its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    /// The schema URN.
    pub id: String,
    /// A short name.
    pub name: String,
    /// What the schema is for.
    pub description: String,
    /// The schema's attributes.
    pub attributes: Vec<AttrDef>,
}

impl SchemaDef {
    /// The attribute of this name, compared without case.
    pub fn attr(&self, name: &str) -> Option<&AttrDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The schema as the `/Schemas` endpoint returns it.
    pub fn to_json(&self, location: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttrDef::to_json).collect::<Vec<_>>(),
            "meta": { "resourceType": "Schema", "location": format!("{location}/Schemas/{}", self.id) },
        })
    }
}

/// Where an attribute path lands in a resource: which schema holds it and its definition.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The schema that defines the attribute.
    pub schema: &'a SchemaDef,
    /// True when the schema is the resource's core schema (attributes at the top level of
    /// the JSON); false for an extension (attributes under the URN key).
    pub is_core: bool,
    /// The attribute.
    pub attr: &'a AttrDef,
    /// The sub-attribute, when the path names one.
    pub sub: Option<&'a AttrDef>,
}

/// A resource type's schemas: its core schema and its extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    /// "User" or "Group".
    pub resource_type: String,
    /// The endpoint, e.g. "/Users".
    pub endpoint: String,
    /// The core schema.
    pub core: SchemaDef,
    /// Extension schemas.
    pub extensions: Vec<SchemaDef>,
}

/// Attributes every resource has (RFC 7643 §3.1); they belong to no schema's list.
fn common_attributes() -> Vec<AttrDef> {
    vec![
        AttrDef::new(
            "id",
            AttrType::String,
            "Ferry's identifier: the target's anchor",
        )
        .case_exact()
        .mutability(Mutability::ReadOnly),
        AttrDef::new("externalId", AttrType::String, "The IdP's identifier").case_exact(),
        AttrDef::complex(
            "meta",
            "Resource metadata",
            vec![
                AttrDef::new("resourceType", AttrType::String, "").case_exact(),
                AttrDef::new("created", AttrType::DateTime, ""),
                AttrDef::new("lastModified", AttrType::DateTime, ""),
                AttrDef::new("location", AttrType::Reference, "").case_exact(),
                AttrDef::new("version", AttrType::String, "").case_exact(),
            ],
        )
        .mutability(Mutability::ReadOnly),
    ]
}

impl ResourceSchema {
    /// Finds the attribute a path names. A path with a URN must name one of this
    /// resource's schemas; a path without one is looked up in the core schema, then the
    /// common attributes, then the extensions (RFC 7644 §3.10 allows the short form when
    /// unambiguous).
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'_>> {
        let schemas =
            std::iter::once((&self.core, true)).chain(self.extensions.iter().map(|e| (e, false)));
        let found = match &path.schema {
            Some(urn) => schemas
                .filter(|(s, _)| s.id.eq_ignore_ascii_case(urn))
                .find_map(|(s, core)| s.attr(&path.name).map(|a| (s, core, a)))
                .or_else(|| {
                    // `urn:…:core:2.0:User:externalId`: the common attributes belong to
                    // the core schema's namespace too.
                    (urn.eq_ignore_ascii_case(&self.core.id))
                        .then(|| common().attr(&path.name).map(|a| (common(), true, a)))
                        .flatten()
                }),
            None => schemas
                .take(1)
                .find_map(|(s, core)| s.attr(&path.name).map(|a| (s, core, a)))
                .or_else(|| common().attr(&path.name).map(|a| (common(), true, a)))
                .or_else(|| {
                    self.extensions
                        .iter()
                        .find_map(|s| s.attr(&path.name).map(|a| (s, false, a)))
                }),
        }?;
        let (schema, is_core, attr) = found;
        let sub = match &path.sub {
            Some(name) => Some(attr.sub(name)?),
            None => None,
        };
        Some(Resolved {
            schema,
            is_core,
            attr,
            sub,
        })
    }

    /// The extension schema with this URN.
    pub fn extension(&self, urn: &str) -> Option<&SchemaDef> {
        self.extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The URNs a resource of this type lists in `schemas`.
    pub fn urns(&self) -> Vec<&str> {
        std::iter::once(self.core.id.as_str())
            .chain(self.extensions.iter().map(|s| s.id.as_str()))
            .collect()
    }
}

/// The pseudo-schema of the common attributes (id, externalId, meta).
pub fn common() -> &'static SchemaDef {
    static COMMON: std::sync::OnceLock<SchemaDef> = std::sync::OnceLock::new();
    COMMON.get_or_init(|| SchemaDef {
        id: String::new(),
        name: "Common".into(),
        description: "Attributes of every resource".into(),
        attributes: common_attributes(),
    })
}

fn multi_valued_typed(name: &str, description: &str, value_ty: AttrType) -> AttrDef {
    AttrDef::complex(
        name,
        description,
        vec![
            AttrDef::new("value", value_ty, "The value"),
            AttrDef::new("display", AttrType::String, "A human-readable name"),
            AttrDef::new("type", AttrType::String, "A label such as work or home"),
            AttrDef::new("primary", AttrType::Boolean, "The preferred value"),
        ],
    )
    .multi()
}

/// The core User schema (RFC 7643 §4.1).
pub fn user_schema() -> SchemaDef {
    use AttrType::*;
    let s = |n: &str, d: &str| AttrDef::new(n, String, d);
    SchemaDef {
        id: USER_SCHEMA.into(),
        name: "User".into(),
        description: "User Account".into(),
        attributes: vec![
            s(
                "userName",
                "Unique identifier for the user, typically used to sign in",
            )
            .required()
            .unique(),
            AttrDef::complex(
                "name",
                "The components of the user's real name",
                vec![
                    s("formatted", "The full name, formatted for display"),
                    s("familyName", "The family name"),
                    s("givenName", "The given name"),
                    s("middleName", "The middle name(s)"),
                    s("honorificPrefix", "e.g. Ms."),
                    s("honorificSuffix", "e.g. III"),
                ],
            ),
            s("displayName", "The name shown to end users"),
            s("nickName", "The casual name"),
            AttrDef::new("profileUrl", Reference, "A URL of the user's profile"),
            s("title", "The user's title, such as Vice President"),
            s(
                "userType",
                "The relationship to the organisation, e.g. Employee",
            ),
            s("preferredLanguage", "Preferred written or spoken language"),
            s("locale", "Default location for localisation"),
            s("timezone", "Time zone in Olson format"),
            AttrDef::new("active", Boolean, "The user's administrative status"),
            AttrDef::new("password", String, "The user's clear-text password")
                .mutability(Mutability::WriteOnly),
            multi_valued_typed("emails", "Email addresses", String),
            multi_valued_typed("phoneNumbers", "Phone numbers", String),
            multi_valued_typed("ims", "Instant messaging addresses", String),
            multi_valued_typed("photos", "URLs of photos", Reference),
            AttrDef::complex(
                "addresses",
                "Physical mailing addresses",
                vec![
                    s("formatted", "The full address"),
                    s("streetAddress", "Street and house number"),
                    s("locality", "City"),
                    s("region", "State or region"),
                    s("postalCode", "Zip or postal code"),
                    s("country", "Country (ISO 3166-1 alpha-2)"),
                    s("type", "work, home or other"),
                    AttrDef::new("primary", Boolean, "The preferred address"),
                ],
            )
            .multi(),
            AttrDef::complex(
                "groups",
                "Groups the user belongs to (maintained by the server)",
                vec![
                    s("value", "The group's id").mutability(Mutability::ReadOnly),
                    AttrDef::new("$ref", Reference, "The group's URI")
                        .mutability(Mutability::ReadOnly),
                    s("display", "The group's displayName").mutability(Mutability::ReadOnly),
                    s("type", "direct or indirect").mutability(Mutability::ReadOnly),
                ],
            )
            .multi()
            .mutability(Mutability::ReadOnly),
            multi_valued_typed("entitlements", "Entitlements", String),
            multi_valued_typed("roles", "Roles", String),
            multi_valued_typed("x509Certificates", "Certificates", Binary),
        ],
    }
}

/// The enterprise User extension (RFC 7643 §4.3).
pub fn enterprise_user_schema() -> SchemaDef {
    let s = |n: &str, d: &str| AttrDef::new(n, AttrType::String, d);
    SchemaDef {
        id: ENTERPRISE_USER_SCHEMA.into(),
        name: "EnterpriseUser".into(),
        description: "Enterprise User".into(),
        attributes: vec![
            s(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned by the organisation",
            ),
            s("costCenter", "Cost center"),
            s("organization", "Organisation"),
            s("division", "Division"),
            s("department", "Department"),
            AttrDef::complex(
                "manager",
                "The user's manager",
                vec![
                    s("value", "The manager's id"),
                    AttrDef::new("$ref", AttrType::Reference, "The manager's URI"),
                    s("displayName", "The manager's displayName").mutability(Mutability::ReadOnly),
                ],
            ),
        ],
    }
}

/// The core Group schema (RFC 7643 §4.2).
pub fn group_schema() -> SchemaDef {
    SchemaDef {
        id: GROUP_SCHEMA.into(),
        name: "Group".into(),
        description: "Group".into(),
        attributes: vec![
            AttrDef::new("displayName", AttrType::String, "The group's name")
                .required()
                .unique(),
            AttrDef::complex(
                "members",
                "Members of the group",
                vec![
                    AttrDef::new("value", AttrType::String, "The member's id")
                        .mutability(Mutability::Immutable),
                    AttrDef::new("$ref", AttrType::Reference, "The member's URI")
                        .mutability(Mutability::Immutable),
                    AttrDef::new("type", AttrType::String, "User or Group")
                        .mutability(Mutability::Immutable),
                    AttrDef::new("display", AttrType::String, "The member's name")
                        .mutability(Mutability::ReadOnly),
                ],
            )
            .multi(),
        ],
    }
}

/// The User resource type with the enterprise extension and, when given, the app's
/// target extension.
pub fn user_resource(target: Option<SchemaDef>) -> ResourceSchema {
    ResourceSchema {
        resource_type: "User".into(),
        endpoint: "/Users".into(),
        core: user_schema(),
        extensions: std::iter::once(enterprise_user_schema())
            .chain(target)
            .collect(),
    }
}

/// The Group resource type; the app's target extension is added by its mapping.
pub fn group_resource() -> ResourceSchema {
    ResourceSchema {
        resource_type: "Group".into(),
        endpoint: "/Groups".into(),
        core: group_schema(),
        extensions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_core_common_and_extension_paths() {
        let users = user_resource(None);
        let r = users
            .resolve(&AttrPath::parse("name.givenName").unwrap())
            .unwrap();
        assert!(r.is_core);
        assert_eq!(r.sub.unwrap().name, "givenName");
        let r = users
            .resolve(&AttrPath::parse("EXTERNALID").unwrap())
            .unwrap();
        assert!(r.attr.case_exact);
        let r = users
            .resolve(&AttrPath::parse(&format!("{ENTERPRISE_USER_SCHEMA}:employeeNumber")).unwrap())
            .unwrap();
        assert!(!r.is_core);
        // the short form of an extension attribute, when no core attribute has the name
        let r = users
            .resolve(&AttrPath::parse("department").unwrap())
            .unwrap();
        assert_eq!(r.schema.id, ENTERPRISE_USER_SCHEMA);
        assert!(users.resolve(&AttrPath::parse("nosuch").unwrap()).is_none());
        assert!(
            users
                .resolve(&AttrPath::parse("name.nosuch").unwrap())
                .is_none()
        );
        let r = users
            .resolve(&AttrPath::parse(&format!("{USER_SCHEMA}:externalId")).unwrap())
            .unwrap();
        assert_eq!(r.attr.name, "externalId");
        let wrong_urn = AttrPath::parse(&format!("{USER_SCHEMA}:employeeNumber")).unwrap();
        assert!(users.resolve(&wrong_urn).is_none());
    }
}
