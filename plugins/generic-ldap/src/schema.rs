//! The object types as the connector exposes them (`user`, and `group` when configured):
//! the MUST and MAY attributes of the configured object classes and their superclasses,
//! each typed from its LDAP syntax, plus the read-only `entryUUID` and `dn`, and the
//! synthetic `active` when users can be disabled (see `disable.rs`). Attributes holding
//! DNs of other objects (a group's members, a user's `manager`) are `reference`s, to
//! `user` (and to `group` too for the members of nested groups): their values are
//! anchors, translated to and from DNs by `references.rs`. The same table
//! types every value read and written, so imports and exports agree with what `schema`
//! tells the host.

use crate::config::Anchor;
use crate::disable::{ACTIVE, Disabling};
use crate::subschema::Subschema;
use ferry_connector::types::{AttributeSchema, Error, ObjectTypeSchema, ValueType};

/// The object type of users.
pub const USER: &str = "user";

/// The object type of groups, when configured.
pub const GROUP: &str = "group";

/// The user attribute holding the DN of the user's manager: a reference to a user.
pub const MANAGER: &str = "manager";

/// The pseudo-attribute holding an entry's DN.
pub const DN: &str = "dn";

/// The operational attribute holding an entry's UUID (RFC 4530).
pub const ENTRY_UUID: &str = "entryUUID";

/// The attribute list that asks a search for no attributes (RFC 4511).
pub const NO_ATTRIBUTES: &str = "1.1";

/// The attribute listing an entry's object classes.
pub const OBJECT_CLASS: &str = "objectClass";

/// The LDAP syntax of distinguished names (RFC 4517).
pub const DN_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.12";

/// The LDAP syntax of `uniqueMember` values: a DN, optionally with a `#'…'B` suffix.
pub const NAME_AND_OPTIONAL_UID_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.34";

/// The object types of one configuration.
#[derive(Debug)]
pub struct Schemas {
    /// Users.
    pub user: TypeSchema,
    /// Groups, when configured.
    pub group: Option<TypeSchema>,
}

/// The password attribute: written as given, never read back into the host's cache.
const USER_PASSWORD: &str = "userPassword";

/// One attribute of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeInfo {
    /// The name the server writes (the type's first NAME).
    pub name: String,
    /// The contract type of its values.
    pub value_type: ValueType,
    /// False for SINGLE-VALUE.
    pub multi_valued: bool,
    /// In a MUST list of the configured classes.
    pub required: bool,
    /// Set by the server or the connector; exports may not write it.
    pub read_only: bool,
    /// A password: never cached or logged by the host.
    pub secret: bool,
    /// For references: the object types a value may point to.
    pub reference_types: Vec<&'static str>,
    /// The type's DESC.
    pub description: Option<String>,
}

/// A group's member attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Members {
    /// Its name as the server writes it.
    pub name: String,
    /// In a MUST list of the group class: a group cannot be without members.
    pub required: bool,
}

/// One object type's attributes, found by any name or OID of their type.
#[derive(Debug, Default)]
pub struct TypeSchema {
    name: &'static str,
    attributes: Vec<AttributeInfo>,
    index: rustc_hash::FxHashMap<String, usize>,
    disabling: Option<Disabling>,
    members: Option<Members>,
}

impl TypeSchema {
    /// Builds the object type `name` from the server's subschema and the configured
    /// classes.
    pub fn build(
        name: &'static str,
        subschema: &Subschema,
        classes: &[String],
    ) -> Result<Self, String> {
        let mut schema = TypeSchema {
            name,
            ..TypeSchema::default()
        };
        let mut seen_classes = Vec::new();
        for configured in classes {
            for class in subschema.with_superclasses(configured)? {
                if seen_classes.contains(&&class.oid) {
                    continue;
                }
                seen_classes.push(&class.oid);
                for (names, required) in [(&class.must, true), (&class.may, false)] {
                    for name in names {
                        schema.add(subschema, name, required);
                    }
                }
            }
        }
        schema.add(subschema, ENTRY_UUID, false);
        schema.insert(
            AttributeInfo {
                name: DN.to_owned(),
                value_type: ValueType::String,
                multi_valued: false,
                required: false,
                read_only: true,
                secret: false,
                reference_types: Vec::new(),
                description: Some("The entry's distinguished name.".to_owned()),
            },
            &[],
        );
        Ok(schema)
    }

    /// Adds the attribute type `name` (once; a MUST anywhere makes it required).
    fn add(&mut self, subschema: &Subschema, name: &str, required: bool) {
        if let Some(known) = self.position(name) {
            self.attributes[known].required |= required;
            return;
        }
        let Some(definition) = subschema.attribute(name) else {
            // A class naming a type the server does not publish: keep it as text.
            self.insert(
                AttributeInfo {
                    name: name.to_owned(),
                    value_type: ValueType::String,
                    multi_valued: true,
                    required,
                    read_only: false,
                    secret: false,
                    reference_types: Vec::new(),
                    description: None,
                },
                &[],
            );
            return;
        };
        let canonical = definition.names.first().unwrap_or(&definition.oid).clone();
        let secret = canonical.eq_ignore_ascii_case(USER_PASSWORD);
        let managed = canonical.eq_ignore_ascii_case(OBJECT_CLASS);
        let value_type = if secret {
            // Passwords arrive as text from the IdP, whatever the Octet String syntax says.
            ValueType::String
        } else {
            value_type_of(subschema.syntax_of(definition))
        };
        let aliases: Vec<String> = definition
            .names
            .iter()
            .chain([&definition.oid])
            .cloned()
            .collect();
        self.insert(
            AttributeInfo {
                name: canonical,
                value_type,
                // A password is one value the IdP sets: the host never holds the secret's
                // current values, so for a multi-valued attribute it would add the new
                // password beside the old one instead of replacing it.
                multi_valued: !definition.single_value && !secret,
                // objectClass is written by the connector from the configuration.
                required: required && !managed,
                read_only: definition.no_user_modification || definition.operational || managed,
                secret,
                reference_types: Vec::new(),
                description: definition.description.clone(),
            },
            &aliases,
        );
    }

    /// Makes the attribute `name`, when the type has it, a reference to objects of
    /// `types` (its values are their DNs in the directory, their anchors in the contract),
    /// single-valued unless `multi_valued`. Returns it as it was before; none when the
    /// type has no such attribute.
    pub fn make_reference(
        &mut self,
        name: &str,
        multi_valued: bool,
        types: &[&'static str],
    ) -> Option<AttributeInfo> {
        let index = self.position(name)?;
        let info = &mut self.attributes[index];
        let before = info.clone();
        info.value_type = ValueType::Reference;
        info.multi_valued = multi_valued;
        info.reference_types = types.to_vec();
        Some(before)
    }

    /// Makes `name` the group's member attribute: a multi-valued reference to objects of
    /// `types` (users; groups too when groups nest), not required of an add (an empty
    /// group gets the placeholder member or is refused).
    pub fn set_members(&mut self, name: &str, types: &[&'static str]) -> Result<(), String> {
        let before = self
            .make_reference(name, true, types)
            .ok_or_else(|| format!("'{name}' is not an attribute of the group object class"))?;
        if let Some(index) = self.position(name) {
            self.attributes[index].required = false;
        }
        self.members = Some(Members {
            name: before.name,
            required: before.required,
        });
        Ok(())
    }

    /// The member attribute, for groups.
    pub fn members(&self) -> Option<&Members> {
        self.members.as_ref()
    }

    /// Whether `name` is the member attribute.
    pub fn is_members(&self, name: &str) -> bool {
        self.members
            .as_ref()
            .is_some_and(|members| members.name.eq_ignore_ascii_case(name))
    }

    /// The object type's name in the contract.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Adds the synthetic `active`, computed and written through `disabling`.
    pub fn add_active(&mut self, disabling: Disabling) -> Result<(), Error> {
        if let Some(taken) = self.attribute(ACTIVE) {
            return Err(Error::invalid_input(format!(
                "'disable': the user object classes have an attribute '{}' already, so the \
                 connector cannot add its own",
                taken.name
            )));
        }
        self.insert(disabling.active_attribute(), &[]);
        self.disabling = Some(disabling);
        Ok(())
    }

    /// How users are disabled, when they can be.
    pub fn disabling(&self) -> Option<&Disabling> {
        self.disabling.as_ref()
    }

    /// How users are disabled, when `name` is the synthetic `active`: writes of it become
    /// writes of the lock attribute.
    pub fn active(&self, name: &str) -> Option<&Disabling> {
        self.disabling
            .as_ref()
            .filter(|_| name.eq_ignore_ascii_case(ACTIVE))
    }

    /// The attributes every search of this type asks for: all user attributes, the anchor, and
    /// the lock attribute `active` is computed from (it may be operational, as
    /// `pwdAccountLockedTime` is, and then only comes when asked for by name).
    pub fn requested(&self) -> Vec<&str> {
        let mut names = vec!["*", ENTRY_UUID];
        names.extend(self.disabling.as_ref().map(Disabling::attribute));
        names
    }

    /// The attributes to read of an entry about to change: those of `requested`, except
    /// that a group's members are never read to change it (a large group's list would
    /// come whole): a change of members alone needs no attribute at all, and other
    /// changes need the others, asked for by name.
    pub fn requested_for_change(&self, members_only: bool) -> Vec<&str> {
        match &self.members {
            None => self.requested(),
            Some(_) if members_only => vec![NO_ATTRIBUTES],
            Some(members) => self
                .attributes
                .iter()
                .map(|info| info.name.as_str())
                .filter(|name| *name != members.name && *name != DN)
                .chain([ENTRY_UUID])
                .collect(),
        }
    }

    fn insert(&mut self, info: AttributeInfo, aliases: &[String]) {
        let index = self.attributes.len();
        for key in aliases.iter().chain([&info.name]) {
            self.index.insert(key.to_lowercase(), index);
        }
        self.attributes.push(info);
    }

    /// The attribute with this name, alias or OID, compared without regard to case.
    pub fn attribute(&self, name: &str) -> Option<&AttributeInfo> {
        Some(&self.attributes[self.position(name)?])
    }

    /// Where the attribute with this name, alias or OID is kept. Called for every
    /// attribute of every imported entry: names are ASCII (RFC 4512 §1.4), so they are
    /// lowered on the stack, not in a new `String` each.
    fn position(&self, name: &str) -> Option<usize> {
        let mut lowered = [0u8; 64];
        let Some(lowered) = lowered.get_mut(..name.len()).filter(|_| name.is_ascii()) else {
            return self.index.get(&name.to_lowercase()).copied();
        };
        lowered.copy_from_slice(name.as_bytes());
        lowered.make_ascii_lowercase();
        let lowered = std::str::from_utf8(lowered).ok()?;
        self.index.get(lowered).copied()
    }

    /// The object type as the contract describes it.
    pub fn object_type(&self, anchor: Anchor) -> ObjectTypeSchema {
        ObjectTypeSchema {
            name: self.name.to_owned(),
            anchor_attributes: vec![
                match anchor {
                    Anchor::EntryUuid => ENTRY_UUID,
                    Anchor::Dn => DN,
                }
                .to_owned(),
            ],
            attributes: self
                .attributes
                .iter()
                .map(|info| AttributeSchema {
                    name: info.name.clone(),
                    value_type: info.value_type,
                    multi_valued: info.multi_valued,
                    required: info.required,
                    read_only: info.read_only,
                    secret: info.secret,
                    reference_types: info
                        .reference_types
                        .iter()
                        .map(|name| (*name).to_owned())
                        .collect(),
                    description: info.description.clone(),
                })
                .collect(),
        }
    }
}

/// The contract type for an LDAP syntax OID (RFC 4517 and the X.509 syntaxes): numbers,
/// truth values and times get their own types, byte syntaxes are binary, and everything
/// else (directory strings, DNs, telephone numbers, OIDs, UUIDs, …) is text.
pub fn value_type_of(syntax: Option<&str>) -> ValueType {
    const PREFIX: &str = "1.3.6.1.4.1.1466.115.121.1.";
    match syntax.and_then(|oid| oid.strip_prefix(PREFIX)) {
        Some("27") => ValueType::Integer,
        Some("7") => ValueType::Boolean,
        Some("24") => ValueType::Datetime,
        // Audio, Binary, Certificate, Certificate List, Certificate Pair, Fax, JPEG,
        // Octet String, Supported Algorithm.
        Some("4" | "5" | "8" | "9" | "10" | "23" | "28" | "40" | "49") => ValueType::Binary,
        _ => ValueType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disable::Lock;
    use crate::subschema::tests::sample;

    fn build(classes: &[&str]) -> TypeSchema {
        let classes: Vec<String> = classes.iter().map(|class| class.to_string()).collect();
        TypeSchema::build(USER, &sample(), &classes).unwrap()
    }

    #[test]
    fn maps_syntaxes_to_value_types() {
        let oid = |suffix: &str| format!("1.3.6.1.4.1.1466.115.121.1.{suffix}");
        let expected = [
            ("27", ValueType::Integer),
            ("7", ValueType::Boolean),
            ("24", ValueType::Datetime),
            ("40", ValueType::Binary),
            ("28", ValueType::Binary),
            ("8", ValueType::Binary),
            ("5", ValueType::Binary),
            ("15", ValueType::String),
            ("12", ValueType::String),
            ("26", ValueType::String),
            ("50", ValueType::String),
            ("38", ValueType::String),
        ];
        for (suffix, value_type) in expected {
            assert_eq!(value_type_of(Some(&oid(suffix))), value_type, "{suffix}");
        }
        assert_eq!(value_type_of(Some("1.3.6.1.1.16.1")), ValueType::String);
        assert_eq!(value_type_of(None), ValueType::String);
    }

    #[test]
    fn finds_an_attribute_by_any_spelling_of_any_name() {
        let schema = build(&["inetOrgPerson"]);
        for spelling in ["cn", "CN", "commonName", "COMMONNAME", "2.5.4.3"] {
            assert_eq!(schema.attribute(spelling).unwrap().name, "cn", "{spelling}");
        }
        // Past the stack buffer, and not ASCII: looked up all the same (and not found).
        assert!(schema.attribute(&"x".repeat(65)).is_none());
        assert!(schema.attribute("cń").is_none());
        assert!(schema.attribute("").is_none());
    }

    #[test]
    fn takes_must_and_may_of_the_classes_and_their_superclasses() {
        let schema = build(&["inetOrgPerson"]);
        let cn = schema.attribute("commonName").unwrap();
        assert_eq!(cn.name, "cn");
        assert!(cn.required && cn.multi_valued && !cn.read_only);
        assert_eq!(cn.value_type, ValueType::String);
        assert!(schema.attribute("SN").unwrap().required);
        let uid = schema.attribute("userid").unwrap();
        assert!(!uid.required && uid.multi_valued);
        assert!(!schema.attribute("displayName").unwrap().multi_valued);
        assert_eq!(
            schema.attribute("jpegPhoto").unwrap().value_type,
            ValueType::Binary
        );
        let password = schema.attribute("userPassword").unwrap();
        assert!(password.secret && !password.read_only && !password.multi_valued);
        assert_eq!(password.value_type, ValueType::String);
        let classes = schema.attribute("objectClass").unwrap();
        assert!(classes.read_only && !classes.required);
        let uuid = schema.attribute("entryuuid").unwrap();
        assert!(uuid.read_only && !uuid.multi_valued);
        let dn = schema.attribute("dn").unwrap();
        assert!(dn.read_only && !dn.multi_valued);
        assert!(schema.attribute("uidNumber").is_none());
        let described = schema.object_type(Anchor::EntryUuid);
        assert_eq!(
            described
                .attributes
                .iter()
                .filter(|a| a.name.eq_ignore_ascii_case("telephoneNumber"))
                .count(),
            1
        );
    }

    #[test]
    fn auxiliary_classes_add_their_attributes_and_musts() {
        let schema = build(&["inetOrgPerson", "posixAccount"]);
        let number = schema.attribute("uidNumber").unwrap();
        assert_eq!(number.value_type, ValueType::Integer);
        assert!(number.required && !number.multi_valued);
        assert!(schema.attribute("uid").unwrap().required);
        // Not published by the sample schema: kept as multi-valued text.
        let home = schema.attribute("homeDirectory").unwrap();
        assert_eq!(home.value_type, ValueType::String);
    }

    #[test]
    fn describes_the_object_type_with_its_anchor() {
        let schema = build(&["inetOrgPerson"]);
        let by_uuid = schema.object_type(Anchor::EntryUuid);
        assert_eq!(by_uuid.name, "user");
        assert_eq!(by_uuid.anchor_attributes, ["entryUUID"]);
        assert_eq!(by_uuid.attributes.len(), schema.attributes.len());
        assert_eq!(schema.object_type(Anchor::Dn).anchor_attributes, ["dn"]);
        assert!(TypeSchema::build(USER, &sample(), &["nothing".to_string()]).is_err());
    }

    #[test]
    fn active_is_there_only_when_users_can_be_disabled() {
        let mut schema = build(&["inetOrgPerson"]);
        assert!(schema.attribute("active").is_none());
        assert!(schema.disabling().is_none() && schema.active("active").is_none());
        assert_eq!(schema.requested(), ["*", "entryUUID"]);

        let disabling = Disabling::new(&Lock::password_policy(), &sample()).unwrap();
        schema.add_active(disabling).unwrap();
        let active = schema.attribute("Active").unwrap();
        assert_eq!(active.value_type, ValueType::Boolean);
        assert!(!active.multi_valued && !active.read_only && !active.required);
        assert!(
            active
                .description
                .as_deref()
                .unwrap()
                .contains("pwdAccountLockedTime")
        );
        assert!(schema.active("ACTIVE").is_some());
        assert!(schema.active("cn").is_none());
        assert_eq!(
            schema.requested(),
            ["*", "entryUUID", "pwdAccountLockedTime"]
        );
        let described = schema.object_type(Anchor::EntryUuid);
        assert_eq!(
            described
                .attributes
                .iter()
                .filter(|attribute| attribute.name == "active")
                .count(),
            1
        );

        let again = Disabling::new(&Lock::password_policy(), &sample()).unwrap();
        let taken = schema.add_active(again).unwrap_err();
        assert!(taken.message.starts_with("'disable'"), "{}", taken.message);
    }
}
