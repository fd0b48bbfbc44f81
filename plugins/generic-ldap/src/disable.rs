//! Disabling and enabling users. LDAP has no standard attribute for it, so the `disable`
//! setting names a lock: an attribute and the value it holds while the user is disabled
//! (OpenLDAP's password policy lock, or one the operator chooses). The user type then has a
//! synthetic boolean `active`, which SCIM's `active` maps to: it is computed from the lock
//! on every read and turned into writes of the lock, and never sent to the server itself.
//!
//! * Reading: a user is disabled when the lock attribute holds the value (compared without
//!   regard to case). Other values do not count: a `pwdAccountLockedTime` that ppolicy set
//!   after failed binds is a temporary lockout, not an administrator's decision, and is
//!   neither reported as `active = false` nor lifted by enabling.
//! * Disabling: a single-valued lock attribute is replaced by the value; a multi-valued one
//!   gets it added beside its other values.
//! * Enabling: a single-valued lock attribute is removed; from a multi-valued one, the
//!   values that mark the user disabled are removed.
//! * Writing the state the user is already in changes nothing.

use ldap3_proto::proto::{LdapAttribute, LdapModify, LdapModifyType, LdapPartialAttribute};

use crate::entries::Entry;
use crate::schema::AttributeInfo;
use crate::subschema::Subschema;
use ferry_connector::types::{Error, Value, ValueType};

/// The synthetic attribute: true unless the user is disabled.
pub const ACTIVE: &str = "active";

/// The operational attribute OpenLDAP's ppolicy overlay locks accounts with.
const PASSWORD_POLICY_LOCK: &str = "pwdAccountLockedTime";

/// The `pwdAccountLockedTime` of a permanent lock: only an administrator lifts it.
const PERMANENT_LOCK: &str = "000001010000Z";

/// How the settings say a disabled user is marked.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    /// The attribute holding the mark.
    pub attribute: String,
    /// The value it holds while the user is disabled.
    pub value: String,
    /// The setting that chose the attribute, named in errors about it.
    pub setting: &'static str,
}

impl Lock {
    /// OpenLDAP's password policy lock: `pwdAccountLockedTime: 000001010000Z`.
    pub fn password_policy() -> Self {
        Self {
            attribute: PASSWORD_POLICY_LOCK.to_owned(),
            value: PERMANENT_LOCK.to_owned(),
            setting: "disable",
        }
    }
}

/// The lock as this server's schema knows it: how users are disabled and enabled here.
#[derive(Debug)]
pub struct Disabling {
    attribute: String,
    value: String,
    single_valued: bool,
}

impl Disabling {
    /// Checks `lock` against the server's schema; the lock attribute must exist there.
    pub fn new(lock: &Lock, subschema: &Subschema) -> Result<Self, Error> {
        let definition = subschema.attribute(&lock.attribute).ok_or_else(|| {
            let hint = if lock.attribute == PASSWORD_POLICY_LOCK {
                " (is the ppolicy overlay loaded?)"
            } else {
                ""
            };
            Error::invalid_input(format!(
                "'{}': the server's schema has no attribute type '{}'{hint}",
                lock.setting, lock.attribute
            ))
        })?;
        Ok(Self {
            attribute: definition.names.first().unwrap_or(&definition.oid).clone(),
            value: lock.value.clone(),
            single_valued: definition.single_value,
        })
    }

    /// The lock attribute, which user searches must ask for by name: it may be
    /// operational, as `pwdAccountLockedTime` is.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// The schema entry of the synthetic `active`.
    pub fn active_attribute(&self) -> AttributeInfo {
        AttributeInfo {
            name: ACTIVE.to_owned(),
            value_type: ValueType::Boolean,
            multi_valued: false,
            required: false,
            read_only: false,
            secret: false,
            reference_types: Vec::new(),
            description: Some(format!(
                "Whether the user is enabled: false while '{}' holds '{}'. Computed by the \
                 connector from that attribute and written as it; not an LDAP attribute.",
                self.attribute, self.value
            )),
        }
    }

    /// Whether `entry` is enabled: its lock attribute does not hold the value.
    pub fn is_active(&self, entry: &Entry) -> bool {
        self.marks(entry).next().is_none()
    }

    /// The stored values of `entry` that mark it disabled.
    fn marks<'e>(&self, entry: &'e Entry) -> impl Iterator<Item = &'e Vec<u8>> {
        entry
            .values(&self.attribute)
            .iter()
            .filter(|stored| self.is_mark(stored))
    }

    /// Whether a value of the lock attribute is the one that marks a disabled user.
    fn is_mark(&self, value: &[u8]) -> bool {
        std::str::from_utf8(value)
            .is_ok_and(|text| text.to_lowercase() == self.value.to_lowercase())
    }

    /// Marks a new entry's attributes disabled, whatever they give the lock attribute.
    pub fn disable_new(&self, attributes: &mut Vec<LdapAttribute>) {
        let mark = self.value.as_bytes().to_vec();
        match attributes
            .iter_mut()
            .find(|given| given.atype.eq_ignore_ascii_case(&self.attribute))
        {
            Some(given) if self.single_valued => given.vals = vec![mark],
            Some(given) => {
                if !given.vals.iter().any(|value| self.is_mark(value)) {
                    given.vals.push(mark);
                }
            }
            None => attributes.push(LdapAttribute {
                atype: self.attribute.clone(),
                vals: vec![mark],
            }),
        }
    }

    /// The modification that makes `entry` enabled (`active`) or disabled; none when it
    /// already is.
    pub fn modification(&self, entry: &Entry, active: bool) -> Option<LdapModify> {
        if self.is_active(entry) == active {
            return None;
        }
        let (operation, vals) = match (active, self.single_valued) {
            (false, true) => (
                LdapModifyType::Replace,
                vec![self.value.as_bytes().to_vec()],
            ),
            (false, false) => (LdapModifyType::Add, vec![self.value.as_bytes().to_vec()]),
            (true, true) => (LdapModifyType::Replace, Vec::new()),
            (true, false) => (LdapModifyType::Delete, self.marks(entry).cloned().collect()),
        };
        Some(LdapModify {
            operation,
            modification: LdapPartialAttribute {
                atype: self.attribute.clone(),
                vals,
            },
        })
    }
}

/// The state `active` values given on an add or in a replace ask for: none (no value)
/// leaves the user enabled.
pub fn wanted(values: &[Value]) -> Result<bool, Error> {
    match values {
        [] => Ok(true),
        [Value::Boolean(active)] => Ok(*active),
        _ => Err(
            Error::invalid_input(format!("'{ACTIVE}' takes one value, true or false"))
                .attribute(ACTIVE),
        ),
    }
}

/// The state of a user that was `active` after one modification of `active`. Adding no
/// values changes nothing; a user whose `active` has no value is enabled, so removing the
/// value it has enables it.
pub fn after(operation: &LdapModifyType, values: &[Value], active: bool) -> Result<bool, Error> {
    match operation {
        LdapModifyType::Add if values.is_empty() => Ok(active),
        LdapModifyType::Delete => Ok(active || values.contains(&Value::Boolean(active))),
        _ => wanted(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subschema::tests::sample;

    fn entry(attribute: &str, values: &[&str]) -> Entry {
        Entry {
            dn: "uid=a,dc=example,dc=org".into(),
            attributes: vec![(
                attribute.to_owned(),
                values
                    .iter()
                    .map(|value| value.as_bytes().to_vec())
                    .collect(),
            )],
        }
    }

    fn lock(attribute: &str, value: &str) -> Disabling {
        Disabling::new(
            &Lock {
                attribute: attribute.into(),
                value: value.into(),
                setting: "disable-attribute",
            },
            &sample(),
        )
        .unwrap()
    }

    fn modify(operation: LdapModifyType, attribute: &str, values: &[&str]) -> LdapModify {
        LdapModify {
            operation,
            modification: LdapPartialAttribute {
                atype: attribute.into(),
                vals: values
                    .iter()
                    .map(|value| value.as_bytes().to_vec())
                    .collect(),
            },
        }
    }

    #[test]
    fn the_password_policy_lock_is_the_permanent_one() {
        let ppolicy = Disabling::new(&Lock::password_policy(), &sample()).unwrap();
        assert_eq!(ppolicy.attribute(), "pwdAccountLockedTime");
        let locked = entry("pwdAccountLockedTime", &["000001010000Z"]);
        assert!(!ppolicy.is_active(&locked));
        // A lockout after failed binds is not a disable.
        assert!(ppolicy.is_active(&entry("pwdAccountLockedTime", &["20240501120000Z"])));
        assert!(ppolicy.is_active(&entry("cn", &["x"])));
        assert_eq!(
            ppolicy.modification(&entry("cn", &["x"]), false),
            Some(modify(
                LdapModifyType::Replace,
                "pwdAccountLockedTime",
                &["000001010000Z"]
            ))
        );
        assert_eq!(
            ppolicy.modification(&locked, true),
            Some(modify(LdapModifyType::Replace, "pwdAccountLockedTime", &[]))
        );
        assert_eq!(ppolicy.modification(&locked, false), None);
        assert_eq!(ppolicy.modification(&entry("cn", &["x"]), true), None);
        let info = ppolicy.active_attribute();
        assert_eq!(
            (info.name.as_str(), info.value_type),
            ("active", ValueType::Boolean)
        );
        assert!(!info.multi_valued && !info.read_only && !info.required && !info.secret);
    }

    #[test]
    fn a_multi_valued_lock_adds_and_removes_only_its_value() {
        let marked = lock("employeeType", "Disabled");
        assert_eq!(marked.attribute(), "employeeType");
        let disabled = entry("employeeType", &["staff", "DISABLED"]);
        assert!(!marked.is_active(&disabled));
        assert_eq!(
            marked.modification(&disabled, true),
            Some(modify(
                LdapModifyType::Delete,
                "employeeType",
                &["DISABLED"]
            ))
        );
        assert_eq!(
            marked.modification(&entry("employeeType", &["staff"]), false),
            Some(modify(LdapModifyType::Add, "employeeType", &["Disabled"]))
        );

        let mut given = vec![LdapAttribute {
            atype: "employeeType".into(),
            vals: vec![b"staff".to_vec()],
        }];
        marked.disable_new(&mut given);
        marked.disable_new(&mut given);
        assert_eq!(given[0].vals, [b"staff".to_vec(), b"Disabled".to_vec()]);
        let single = lock("displayName", "off");
        let mut given = vec![LdapAttribute {
            atype: "displayName".into(),
            vals: vec![b"on".to_vec()],
        }];
        single.disable_new(&mut given);
        assert_eq!(given[0].vals, [b"off".to_vec()]);
        let mut none = Vec::new();
        single.disable_new(&mut none);
        assert_eq!(none[0].atype, "displayName");
    }

    #[test]
    fn an_attribute_the_server_does_not_know_is_refused_naming_the_setting() {
        let failure = Disabling::new(
            &Lock {
                attribute: "nsAccountLock".into(),
                value: "TRUE".into(),
                setting: "disable-attribute",
            },
            &sample(),
        )
        .unwrap_err();
        assert!(
            failure.message.starts_with("'disable-attribute'"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn changes_of_active_end_in_a_state() {
        const YES: Value = Value::Boolean(true);
        const NO: Value = Value::Boolean(false);
        assert_eq!(wanted(&[]), Ok(true));
        assert_eq!(wanted(&[NO]), Ok(false));
        assert!(wanted(&[Value::String("False".into())]).is_err());
        assert!(wanted(&[NO, YES]).is_err());
        use LdapModifyType::{Add, Delete, Replace};
        assert_eq!(after(&Replace, &[NO], true), Ok(false));
        assert_eq!(after(&Replace, &[], false), Ok(true));
        assert_eq!(after(&Add, &[], false), Ok(false));
        assert_eq!(after(&Add, &[NO], true), Ok(false));
        assert_eq!(after(&Delete, &[NO], false), Ok(true));
        assert_eq!(after(&Delete, &[YES], false), Ok(false));
        assert_eq!(after(&Delete, &[YES], true), Ok(true));
    }
}
