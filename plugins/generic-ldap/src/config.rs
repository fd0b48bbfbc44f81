//! The connector's settings: their names, defaults and meaning (which `describe` also
//! publishes), and the checks that need no server, so a bad setting fails at `open` with
//! an `invalid-input` error naming the parameter instead of at the first import.

use ferry_connector::net::Security;
use ferry_connector::{Error, Parameter, Settings};
use ldap3_proto::proto::LdapFilter;

use crate::client::Credentials;
use crate::disable::Lock;
use crate::dn::{Dn, is_attribute_type};
use crate::filter;
use crate::schema::{GROUP, USER};
use crate::template::DnTemplate;

/// Every parameter the connector takes, in the order `describe` lists them; the defaults
/// here are the ones `parse` sees (the host, and natively `Settings::parse`, fill them in).
pub fn parameters() -> Vec<Parameter> {
    vec![
        Parameter::string(
            "host",
            "The directory server's host name; the app's network allow-list must grant it.",
        )
        .required(),
        Parameter::integer(
            "port",
            "The server's port; 636 with security = \"ldaps\", 389 otherwise.",
        ),
        Parameter::string(
            "security",
            "\"ldaps\" (TLS from the first byte), \"starttls\" (LDAP then the StartTLS \
             operation) or \"plain\" (no TLS: only for tests and trusted networks). The host \
             does the TLS and checks the server's certificate.",
        )
        .with_default("ldaps"),
        Parameter::string(
            "bind-dn",
            "The DN of the account the connector binds as (simple bind); with bind-password.",
        ),
        Parameter::string("bind-password", "The password of bind-dn.").secret(),
        Parameter::boolean(
            "sasl-external",
            "Bind with SASL EXTERNAL as the identity of the client certificate the host \
             presents, instead of bind-dn; needs ldaps or starttls.",
        )
        .with_default(false),
        Parameter::string(
            "base-dn",
            "The DN under which users are searched, e.g. \"dc=example,dc=org\".",
        )
        .required(),
        Parameter::string_list(
            "user-object-classes",
            "The object classes of a user, written on every add: one structural class and any \
             auxiliary ones. Their MUST and MAY attributes make the user schema.",
        )
        .with_default(["inetOrgPerson"]),
        Parameter::string(
            "user-filter",
            "The RFC 4515 filter that selects users under base-dn.",
        )
        .with_default("(objectClass=inetOrgPerson)"),
        Parameter::string(
            "user-dn-template",
            "The DN of a user: {attribute} is replaced by that attribute's value (escaped per \
             RFC 4514, one RDN value), {base-dn} by base-dn. Placeholders may stand in the \
             RDN (uid={uid}, uid={uid}+employeeNumber={employeeNumber}, cn={givenName} {sn}) \
             and in the parent (ou={departmentNumber}); an update changing one renames or \
             moves the user.",
        )
        .with_default("uid={uid},ou=people,{base-dn}"),
        Parameter::string(
            "anchor",
            "What identifies a user: \"entryUUID\" (stable across renames) or \"dn\" (renames \
             then change the identity and are refused).",
        )
        .with_default("entryUUID"),
        Parameter::boolean(
            "groups",
            "Provision SCIM Groups as the object type \"group\": entries of group-object-class \
             under group-base-dn, their members in group-member-attribute. Off by default, so \
             a configuration without it keeps its one \"user\" type.",
        )
        .with_default(false),
        Parameter::string(
            "group-base-dn",
            "The DN under which groups are searched and made; default base-dn. Needs groups = true.",
        ),
        Parameter::string(
            "group-object-class",
            "The structural object class of groups, written on every add: \"groupOfNames\" or \
             \"groupOfUniqueNames\" (or another class, naming group-member-attribute).",
        )
        .with_default("groupOfNames"),
        Parameter::string(
            "group-member-attribute",
            "The attribute of a group holding its members' DNs; default \"member\" for \
             groupOfNames, \"uniqueMember\" for groupOfUniqueNames. Needs groups = true.",
        ),
        Parameter::string(
            "group-filter",
            "The RFC 4515 filter that selects groups under group-base-dn; default \
             (objectClass=<group-object-class>). Needs groups = true.",
        ),
        Parameter::string(
            "group-naming-attribute",
            "The attribute that names a group (its RDN and SCIM displayName), required on add.",
        )
        .with_default("cn"),
        Parameter::string(
            "group-dn-template",
            "The DN of a group: {attribute} is replaced by that attribute's value (escaped per \
             RFC 4514, one RDN value), {base-dn} by group-base-dn; it must use \
             {<group-naming-attribute>}, and as user-dn-template an update changing a \
             placeholder's attribute renames or moves the group. Default \"<naming>={<naming>},{base-dn}\". Needs \
             groups = true.",
        ),
        Parameter::string(
            "group-placeholder-member",
            "A DN written as the only member of a group that would otherwise have none, when \
             the group class requires a member (groupOfNames does); it never shows as a member. \
             Without it, an empty group and removing a group's last member are refused. Needs \
             groups = true.",
        ),
        Parameter::boolean(
            "nested-groups",
            "Let groups be members of groups: the member attribute then refers to users and \
             groups, a member DN that is a group's reads as that group's anchor, and a group \
             is added to or removed from a group value by value as a user is. Needs groups = \
             true.",
        )
        .with_default(false),
        Parameter::string(
            "delta",
            "How delta imports find changes: \"accesslog\" (OpenLDAP's slapo-accesslog: adds, \
             modifies, renames and deletes), \"modify-timestamp\" (modifyTimestamp: cannot see \
             deletes) or \"none\".",
        )
        .with_default("accesslog"),
        Parameter::string(
            "accesslog-base",
            "The suffix of the accesslog database, for delta = \"accesslog\".",
        )
        .with_default("cn=accesslog"),
        Parameter::string(
            "disable",
            "How users are disabled and enabled (SCIM's active): \"none\" (users have no \
             active attribute), \"ppolicy\" (OpenLDAP's password policy overlay: a disabled \
             user has pwdAccountLockedTime 000001010000Z, a permanent lock; the overlay must \
             apply a policy with pwdLockout TRUE) or \"attribute\" (disable-attribute holds \
             disabled-value). Otherwise users get a boolean attribute \"active\", computed \
             from that attribute, which the bind account must be able to read and write.",
        )
        .with_default("none"),
        Parameter::string(
            "disable-attribute",
            "For disable = \"attribute\": the attribute that marks a disabled user, e.g. \
             \"nsAccountLock\" (389 DS) or \"employeeType\". Enabling removes the mark.",
        ),
        Parameter::string(
            "disabled-value",
            "For disable = \"attribute\": the value of disable-attribute that marks a disabled \
             user, e.g. \"TRUE\"; compared without regard to case.",
        ),
    ]
}

/// What identifies an object for the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    /// The entry's `entryUUID` (RFC 4530): survives renames and moves.
    EntryUuid,
    /// The entry's DN, written canonically.
    Dn,
}

/// Where delta imports read changes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaSource {
    /// OpenLDAP's accesslog database under this DN.
    Accesslog(Dn),
    /// Entries whose `modifyTimestamp` moved; deletes stay invisible.
    ModifyTimestamp,
    /// No delta imports.
    None,
}

/// Where the entries of one object type live and how new ones are made.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The object type's name in the contract.
    pub object_type: &'static str,
    /// The subtree searched.
    pub base_dn: Dn,
    /// Which entries in it are of this type.
    pub filter: LdapFilter,
    /// The classes written on add, structural first as configured.
    pub object_classes: Vec<String>,
    /// The DN of new entries; `{base-dn}` is `base_dn`.
    pub dn_template: DnTemplate,
}

/// How groups are provisioned, when they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// Where groups live.
    pub scope: Scope,
    /// The attribute holding the members' DNs, as configured.
    pub member: String,
    /// The DN written as the only member of an otherwise empty group.
    pub placeholder: Option<String>,
    /// Groups may be members of groups.
    pub nested: bool,
}

/// The checked settings.
pub struct Config {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the stream is secured.
    pub security: Security,
    /// How the connector binds.
    pub credentials: Credentials,
    /// The configured base DN (users live there).
    pub base_dn: Dn,
    /// Where users live and how new ones are made.
    pub users: Scope,
    /// Groups, when configured.
    pub groups: Option<Groups>,
    /// What identifies an object.
    pub anchor: Anchor,
    /// Where delta imports look.
    pub delta: DeltaSource,
    /// How disabled users are marked; none without an `active` attribute.
    pub disable: Option<Lock>,
}

/// Reads and checks the settings `session.open` received (already checked against
/// `parameters`, defaults filled in).
pub fn parse(settings: &Settings) -> Result<Config, Error> {
    let host = settings.string("host")?;
    if host.trim().is_empty() {
        return Err(Error::invalid_input("'host' is missing or empty"));
    }
    let security = match settings.string("security")? {
        "ldaps" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            return Err(Error::invalid_input(format!(
                "'security' must be \"ldaps\", \"starttls\" or \"plain\", not \"{other}\""
            )));
        }
    };
    let port = match settings.optional_integer("port")? {
        None => match security {
            Security::Tls => 636,
            _ => 389,
        },
        Some(port) => u16::try_from(port)
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| {
                Error::invalid_input(format!("'port' must be 1 to 65535, not {port}"))
            })?,
    };

    let bind_dn = settings.optional_string("bind-dn")?;
    let bind_password = settings.optional_string("bind-password")?;
    let external = settings.boolean("sasl-external")?;
    let credentials = match (bind_dn, bind_password, external) {
        (None, None, false) => Credentials::Anonymous,
        (Some(dn), Some(password), false) => {
            Dn::parse(dn)
                .map_err(|why| Error::invalid_input(format!("'bind-dn' is not a DN: {why}")))?;
            if password.is_empty() {
                return Err(Error::invalid_input(
                    "'bind-password' is empty: an empty password makes an unauthenticated bind",
                ));
            }
            Credentials::Simple {
                dn: dn.to_owned(),
                password: password.to_owned(),
            }
        }
        (Some(_), None, false) => {
            return Err(Error::invalid_input("'bind-dn' needs 'bind-password'"));
        }
        (None, Some(_), false) => {
            return Err(Error::invalid_input("'bind-password' needs 'bind-dn'"));
        }
        (None, None, true) => Credentials::External,
        (_, _, true) => {
            return Err(Error::invalid_input(
                "'sasl-external' binds as the client certificate: leave 'bind-dn' and \
                 'bind-password' out",
            ));
        }
    };
    if credentials == Credentials::External && security == Security::Plain {
        return Err(Error::invalid_input(
            "'sasl-external' needs security = \"ldaps\" or \"starttls\": the identity is the \
             TLS client certificate",
        ));
    }

    let base_dn = dn_setting(settings.string("base-dn")?, "base-dn")?;
    if base_dn.rdns.is_empty() {
        return Err(Error::invalid_input("'base-dn' is missing or empty"));
    }

    let user_object_classes = settings.string_list("user-object-classes")?.to_vec();
    if user_object_classes.is_empty() {
        return Err(Error::invalid_input(
            "'user-object-classes' is empty: name at least the structural class",
        ));
    }
    for class in &user_object_classes {
        if !is_attribute_type(class) {
            return Err(Error::invalid_input(format!(
                "'user-object-classes': \"{class}\" is not an object class name"
            )));
        }
    }

    let user_filter = filter::parse(settings.string("user-filter")?).map_err(|why| {
        Error::invalid_input(format!("'user-filter' is not an RFC 4515 filter: {why}"))
    })?;

    let user_dn_template = DnTemplate::parse(settings.string("user-dn-template")?, &base_dn)
        .map_err(|why| Error::invalid_input(format!("'user-dn-template': {why}")))?;

    let anchor = match settings.string("anchor")? {
        name if name.eq_ignore_ascii_case("entryUUID") => Anchor::EntryUuid,
        name if name.eq_ignore_ascii_case("dn") => Anchor::Dn,
        other => {
            return Err(Error::invalid_input(format!(
                "'anchor' must be \"entryUUID\" or \"dn\", not \"{other}\""
            )));
        }
    };

    let groups = groups_setting(settings, &base_dn)?;

    let delta = match settings.string("delta")? {
        "accesslog" => DeltaSource::Accesslog(dn_setting(
            settings.string("accesslog-base")?,
            "accesslog-base",
        )?),
        "modify-timestamp" => DeltaSource::ModifyTimestamp,
        "none" => DeltaSource::None,
        other => {
            return Err(Error::invalid_input(format!(
                "'delta' must be \"accesslog\", \"modify-timestamp\" or \"none\", not \"{other}\""
            )));
        }
    };

    let disable = disable_setting(settings)?;

    Ok(Config {
        host: host.to_owned(),
        port,
        security,
        credentials,
        users: Scope {
            object_type: USER,
            base_dn: base_dn.clone(),
            filter: user_filter,
            object_classes: user_object_classes,
            dn_template: user_dn_template,
        },
        base_dn,
        groups,
        anchor,
        delta,
        disable,
    })
}

/// The lock `disable` chooses; `disable-attribute` and `disabled-value` belong to
/// disable = "attribute" alone, which needs both.
fn disable_setting(settings: &Settings) -> Result<Option<Lock>, Error> {
    let mode = settings.string("disable")?;
    let attribute = settings.optional_string("disable-attribute")?;
    let value = settings.optional_string("disabled-value")?;
    for (name, given) in [("disable-attribute", attribute), ("disabled-value", value)] {
        if given.is_some() && mode != "attribute" {
            return Err(Error::invalid_input(format!(
                "'{name}' is only for disable = \"attribute\" (disable is \"{mode}\")"
            )));
        }
    }
    match mode {
        "none" => Ok(None),
        "ppolicy" => Ok(Some(Lock::password_policy())),
        "attribute" => {
            let attribute = attribute.ok_or_else(|| {
                Error::invalid_input(
                    "'disable-attribute' is missing: disable = \"attribute\" needs the \
                     attribute that marks a disabled user",
                )
            })?;
            if !is_attribute_type(attribute) {
                return Err(Error::invalid_input(format!(
                    "'disable-attribute': \"{attribute}\" is not an attribute name"
                )));
            }
            let value = value.ok_or_else(|| {
                Error::invalid_input(
                    "'disabled-value' is missing: disable = \"attribute\" needs the value \
                     that marks a disabled user",
                )
            })?;
            if value.is_empty() {
                return Err(Error::invalid_input("'disabled-value' is empty"));
            }
            Ok(Some(Lock {
                attribute: attribute.to_owned(),
                value: value.to_owned(),
                setting: "disable-attribute",
            }))
        }
        other => Err(Error::invalid_input(format!(
            "'disable' must be \"none\", \"ppolicy\" or \"attribute\", not \"{other}\""
        ))),
    }
}

/// A DN setting, parsed.
fn dn_setting(text: &str, name: &str) -> Result<Dn, Error> {
    Dn::parse(text).map_err(|why| Error::invalid_input(format!("'{name}' is not a DN: {why}")))
}

/// An attribute or class name setting.
fn name_setting<'a>(settings: &'a Settings, name: &str) -> Result<&'a str, Error> {
    let value = settings.string(name)?;
    if is_attribute_type(value) {
        Ok(value)
    } else {
        Err(Error::invalid_input(format!(
            "'{name}': \"{value}\" is not a name"
        )))
    }
}

/// The group settings without a default: given only with groups = true.
const GROUP_ONLY: [&str; 5] = [
    "group-base-dn",
    "group-member-attribute",
    "group-filter",
    "group-dn-template",
    "group-placeholder-member",
];

/// The groups `groups` and the group-* settings describe; none unless groups = true.
fn groups_setting(settings: &Settings, base_dn: &Dn) -> Result<Option<Groups>, Error> {
    // The names are checked either way, so a mistake shows before groups are turned on.
    let class = name_setting(settings, "group-object-class")?;
    let naming = name_setting(settings, "group-naming-attribute")?;
    let nested = settings.boolean("nested-groups")?;
    if !settings.boolean("groups")? {
        let given = GROUP_ONLY
            .iter()
            .find(|name| settings.is_set(name))
            .or(nested.then_some(&"nested-groups"));
        return match given {
            Some(name) => Err(Error::invalid_input(format!(
                "'{name}' is only used with groups = true"
            ))),
            None => Ok(None),
        };
    }
    let base = match settings.optional_string("group-base-dn")? {
        Some(text) => dn_setting(text, "group-base-dn")?,
        None => base_dn.clone(),
    };
    let member = match settings.optional_string("group-member-attribute")? {
        Some(_) => name_setting(settings, "group-member-attribute")?.to_owned(),
        None if class.eq_ignore_ascii_case("groupOfNames") => "member".to_owned(),
        None if class.eq_ignore_ascii_case("groupOfUniqueNames") => "uniqueMember".to_owned(),
        None => {
            return Err(Error::invalid_input(format!(
                "'group-member-attribute' is missing: say which attribute of '{class}' holds \
                 the members"
            )));
        }
    };
    let filter = match settings.optional_string("group-filter")? {
        Some(text) => filter::parse(text).map_err(|why| {
            Error::invalid_input(format!("'group-filter' is not an RFC 4515 filter: {why}"))
        })?,
        None => LdapFilter::Equality("objectClass".to_owned(), class.to_owned()),
    };
    let template = settings.optional_string("group-dn-template")?.map_or_else(
        || format!("{naming}={{{naming}}},{{base-dn}}"),
        str::to_owned,
    );
    let dn_template = DnTemplate::parse(&template, &base)
        .map_err(|why| Error::invalid_input(format!("'group-dn-template': {why}")))?;
    if !dn_template
        .attributes()
        .any(|used| used.eq_ignore_ascii_case(naming))
    {
        return Err(Error::invalid_input(format!(
            "'group-dn-template' must take the group's name from {{{naming}}} \
             (group-naming-attribute)"
        )));
    }
    let placeholder = settings
        .optional_string("group-placeholder-member")?
        .map(|text| dn_setting(text, "group-placeholder-member").map(|dn| dn.to_string()))
        .transpose()?;
    Ok(Some(Groups {
        scope: Scope {
            object_type: GROUP,
            base_dn: base,
            filter,
            object_classes: vec![class.to_owned()],
            dn_template,
        },
        member,
        placeholder,
        nested,
    }))
}

#[cfg(test)]
mod tests {
    use ferry_connector::ErrorKind;
    use ferry_connector::types::{Setting, SettingValue};

    use super::*;

    /// A setting as the host hands it over.
    fn setting(name: &str, value: SettingValue) -> Setting {
        Setting::new(name, value)
    }

    /// A string setting.
    fn text(name: &str, value: &str) -> Setting {
        Setting::new(name, value)
    }

    /// The settings as `open` reads them: checked against `parameters`, then parsed.
    fn read(given: &[Setting]) -> Result<Config, Error> {
        parse(&Settings::parse(given.to_vec(), &parameters())?)
    }

    fn minimal() -> Vec<Setting> {
        vec![
            text("host", "ldap.example.org"),
            text("base-dn", "dc=example,dc=org"),
        ]
    }

    fn failure(extra: Vec<Setting>) -> String {
        let mut settings = minimal();
        settings.retain(|kept| !extra.iter().any(|given| given.name == kept.name));
        settings.extend(extra);
        let Err(error) = read(&settings) else {
            panic!("accepted");
        };
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        error.message
    }

    #[test]
    fn fills_in_every_default() {
        let config = read(&minimal()).unwrap();
        assert_eq!(config.host, "ldap.example.org");
        assert_eq!(config.port, 636);
        assert_eq!(config.security, Security::Tls);
        assert!(config.credentials == Credentials::Anonymous);
        assert_eq!(config.base_dn.to_string(), "dc=example,dc=org");
        assert_eq!(config.users.object_type, "user");
        assert_eq!(config.users.base_dn, config.base_dn);
        assert_eq!(config.users.object_classes, ["inetOrgPerson"]);
        assert_eq!(
            filter::render(&config.users.filter),
            "(objectClass=inetOrgPerson)"
        );
        assert_eq!(
            config.users.dn_template.attributes().collect::<Vec<_>>(),
            ["uid"]
        );
        assert_eq!(config.groups, None, "groups only when asked for");
        assert_eq!(config.anchor, Anchor::EntryUuid);
        assert_eq!(
            config.delta,
            DeltaSource::Accesslog(Dn::parse("cn=accesslog").unwrap())
        );
        assert_eq!(config.disable, None);
    }

    #[test]
    fn reads_a_full_configuration() {
        let mut settings = minimal();
        settings.extend([
            setting("port", SettingValue::Integer(1389)),
            text("security", "starttls"),
            text("bind-dn", "cn=admin,dc=example,dc=org"),
            text("bind-password", "secret"),
            setting(
                "user-object-classes",
                SettingValue::StringList(vec!["inetOrgPerson".into(), "posixAccount".into()]),
            ),
            text("user-filter", "(&(objectClass=person)(!(uid=svc-*)))"),
            text("user-dn-template", "cn={cn},{base-dn}"),
            text("anchor", "dn"),
            text("delta", "modify-timestamp"),
            text("disable", "attribute"),
            text("disable-attribute", "nsAccountLock"),
            text("disabled-value", "TRUE"),
        ]);
        let config = read(&settings).unwrap();
        assert_eq!(config.port, 1389);
        assert_eq!(config.security, Security::StartTls);
        assert!(
            config.credentials
                == Credentials::Simple {
                    dn: "cn=admin,dc=example,dc=org".into(),
                    password: "secret".into()
                }
        );
        assert_eq!(config.anchor, Anchor::Dn);
        assert_eq!(config.delta, DeltaSource::ModifyTimestamp);
        assert_eq!(
            config.disable,
            Some(Lock {
                attribute: "nsAccountLock".into(),
                value: "TRUE".into(),
                setting: "disable-attribute",
            })
        );
        let plain = read(&[minimal(), vec![text("security", "plain")]].concat()).unwrap();
        assert_eq!(plain.port, 389);
    }

    #[test]
    fn names_the_parameter_that_is_wrong() {
        let cases: Vec<(Vec<Setting>, &str)> = vec![
            (vec![text("host", " ")], "'host' is missing"),
            (vec![text("security", "tls")], "'security' must be"),
            (
                vec![setting("port", SettingValue::Integer(0))],
                "'port' must be 1 to 65535",
            ),
            (
                vec![setting("port", SettingValue::Integer(70000))],
                "'port'",
            ),
            (
                vec![setting("port", SettingValue::String("389".into()))],
                "'port' must be an integer",
            ),
            (
                vec![text("bind-dn", "cn=admin")],
                "'bind-dn' needs 'bind-password'",
            ),
            (
                vec![text("bind-password", "x")],
                "'bind-password' needs 'bind-dn'",
            ),
            (
                vec![text("bind-dn", "not a dn"), text("bind-password", "x")],
                "'bind-dn' is not a DN",
            ),
            (
                vec![text("bind-dn", "cn=admin"), text("bind-password", "")],
                "'bind-password' is empty",
            ),
            (
                vec![
                    setting("sasl-external", SettingValue::Boolean(true)),
                    text("bind-dn", "cn=admin"),
                ],
                "leave 'bind-dn'",
            ),
            (
                vec![
                    setting("sasl-external", SettingValue::Boolean(true)),
                    text("security", "plain"),
                ],
                "'sasl-external' needs",
            ),
            (vec![text("base-dn", "")], "'base-dn' is missing"),
            (vec![text("base-dn", "dc=a,,dc=b")], "'base-dn' is not a DN"),
            (
                vec![setting(
                    "user-object-classes",
                    SettingValue::StringList(vec![]),
                )],
                "'user-object-classes' is empty",
            ),
            (
                vec![setting(
                    "user-object-classes",
                    SettingValue::StringList(vec!["inet OrgPerson".into()]),
                )],
                "'user-object-classes'",
            ),
            (
                vec![text("user-filter", "objectClass=person")],
                "'user-filter'",
            ),
            (
                vec![text("user-dn-template", "uid={uid},dc=other")],
                "'user-dn-template'",
            ),
            (vec![text("anchor", "uid")], "'anchor' must be"),
            (
                vec![text("group-object-class", "group of names")],
                "'group-object-class'",
            ),
            (
                vec![text("group-naming-attribute", "c n")],
                "'group-naming-attribute'",
            ),
            (
                vec![text("group-base-dn", "ou=groups,dc=example,dc=org")],
                "'group-base-dn' is only used with groups = true",
            ),
            (
                vec![text("group-placeholder-member", "cn=nobody")],
                "'group-placeholder-member' is only used with groups = true",
            ),
            (
                vec![setting("nested-groups", SettingValue::Boolean(true))],
                "'nested-groups' is only used with groups = true",
            ),
            (
                vec![text("user-dn-template", "{uid}=x,{base-dn}")],
                "must stand in an attribute value",
            ),
            (
                vec![groups_on(), text("group-member-attribute", "")],
                "'group-member-attribute'",
            ),
            (
                vec![groups_on(), text("group-object-class", "posixGroup")],
                "'group-member-attribute' is missing",
            ),
            (
                vec![groups_on(), text("group-base-dn", "ou=a,,")],
                "'group-base-dn' is not a DN",
            ),
            (
                vec![groups_on(), text("group-filter", "objectClass=x")],
                "'group-filter' is not an RFC 4515 filter",
            ),
            (
                vec![
                    groups_on(),
                    text("group-base-dn", "ou=groups,dc=example,dc=org"),
                    text("group-dn-template", "cn={cn},ou=people,dc=example,dc=org"),
                ],
                "'group-dn-template': its DNs are not below the base DN",
            ),
            (
                vec![
                    groups_on(),
                    text("group-dn-template", "ou={description},{base-dn}"),
                ],
                "'group-dn-template' must take the group's name from {cn}",
            ),
            (
                vec![groups_on(), text("group-placeholder-member", "nobody")],
                "'group-placeholder-member' is not a DN",
            ),
            (vec![text("delta", "syncrepl")], "'delta' must be"),
            (vec![text("accesslog-base", "cn=a,,")], "'accesslog-base'"),
            (vec![text("disable", "lock")], "'disable' must be"),
            (
                vec![text("disable", "attribute"), text("disabled-value", "TRUE")],
                "'disable-attribute' is missing",
            ),
            (
                vec![
                    text("disable", "attribute"),
                    text("disable-attribute", "ns Account Lock"),
                    text("disabled-value", "TRUE"),
                ],
                "'disable-attribute': \"ns Account Lock\" is not an attribute name",
            ),
            (
                vec![
                    text("disable", "attribute"),
                    text("disable-attribute", "nsAccountLock"),
                ],
                "'disabled-value' is missing",
            ),
            (
                vec![
                    text("disable", "attribute"),
                    text("disable-attribute", "nsAccountLock"),
                    text("disabled-value", ""),
                ],
                "'disabled-value' is empty",
            ),
            (
                vec![text("disable-attribute", "nsAccountLock")],
                "'disable-attribute' is only for disable = \"attribute\"",
            ),
            (
                vec![text("disable", "ppolicy"), text("disabled-value", "TRUE")],
                "'disabled-value' is only for disable = \"attribute\"",
            ),
            (vec![text("colour", "blue")], "unknown setting 'colour'"),
        ];
        for (extra, expected) in cases {
            let message = failure(extra.clone());
            assert!(
                message.contains(expected),
                "{:?}: {message}",
                extra.iter().map(|s| &s.name).collect::<Vec<_>>()
            );
        }
    }

    fn groups_on() -> Setting {
        setting("groups", SettingValue::Boolean(true))
    }

    #[test]
    fn groups_take_their_defaults_from_the_base_and_the_class() {
        let config = read(&[minimal(), vec![groups_on()]].concat()).unwrap();
        let groups = config.groups.unwrap();
        assert_eq!(groups.scope.object_type, "group");
        assert_eq!(groups.scope.base_dn.to_string(), "dc=example,dc=org");
        assert_eq!(groups.scope.object_classes, ["groupOfNames"]);
        assert_eq!(
            filter::render(&groups.scope.filter),
            "(objectClass=groupOfNames)"
        );
        assert_eq!(groups.member, "member");
        assert_eq!(groups.placeholder, None);
        assert!(!groups.nested, "groups hold users only unless asked");
        assert_eq!(
            groups
                .scope
                .dn_template
                .expand("ou=g,dc=example,dc=org", |_| Some("a,b".into()))
                .unwrap(),
            "cn=a\\,b,ou=g,dc=example,dc=org"
        );

        let unique = read(
            &[
                minimal(),
                vec![
                    groups_on(),
                    text("group-object-class", "groupOfUniqueNames"),
                    text("group-base-dn", "ou=groups,dc=example,dc=org"),
                    text(
                        "group-filter",
                        "(&(objectClass=groupOfUniqueNames)(ou=staff))",
                    ),
                    text("group-naming-attribute", "ou"),
                    text("group-dn-template", "ou={ou},{base-dn}"),
                    text("group-placeholder-member", "cn=nobody, dc=example,dc=org"),
                    setting("nested-groups", SettingValue::Boolean(true)),
                ],
            ]
            .concat(),
        )
        .unwrap()
        .groups
        .unwrap();
        assert_eq!(unique.member, "uniqueMember");
        assert!(unique.nested);
        assert_eq!(
            unique.scope.base_dn.to_string(),
            "ou=groups,dc=example,dc=org"
        );
        assert_eq!(
            unique.placeholder.as_deref(),
            Some("cn=nobody,dc=example,dc=org")
        );
        assert_eq!(
            unique.scope.dn_template.attributes().collect::<Vec<_>>(),
            ["ou"]
        );
    }

    #[test]
    fn ppolicy_disables_with_the_permanent_lock() {
        let settings = [minimal(), vec![text("disable", "ppolicy")]].concat();
        assert_eq!(
            read(&settings).unwrap().disable,
            Some(Lock::password_policy())
        );
    }

    #[test]
    fn sasl_external_binds_over_tls() {
        let settings = [
            minimal(),
            vec![setting("sasl-external", SettingValue::Boolean(true))],
        ]
        .concat();
        assert!(read(&settings).unwrap().credentials == Credentials::External);
    }
}
