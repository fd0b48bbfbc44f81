//! The default mapping: which connector attribute names are taken, without
//! configuration, for the SCIM attributes identity providers send. Names are compared
//! lower-cased with `_` and `-` removed, so `user_name`, `userName` and `USERNAME` all
//! match `username`.

/// The defaults of a resource type.
pub fn for_resource(resource_type: &str) -> &'static [(&'static str, &'static [&'static str])] {
    if resource_type == "Group" {
        GROUP_DEFAULTS
    } else {
        DEFAULTS
    }
}

/// The Group attributes and the connector attribute names that fill them by default.
pub const GROUP_DEFAULTS: &[(&str, &[&str])] = &[
    (
        "displayName",
        &["displayname", "name", "groupname", "cn", "title"],
    ),
    ("externalId", &["externalid", "objectid"]),
];

/// SCIM User attribute paths and the connector attribute names that fill them by
/// default, in order of preference.
pub const DEFAULTS: &[(&str, &[&str])] = &[
    (
        "userName",
        &[
            "username",
            "login",
            "uid",
            "samaccountname",
            "userprincipalname",
        ],
    ),
    ("externalId", &["externalid", "immutableid", "objectid"]),
    ("active", &["active", "enabled", "isactive"]),
    ("displayName", &["displayname"]),
    ("nickName", &["nickname"]),
    ("title", &["title", "jobtitle"]),
    ("userType", &["usertype", "employeetype"]),
    ("preferredLanguage", &["preferredlanguage"]),
    ("locale", &["locale"]),
    ("timezone", &["timezone"]),
    ("password", &["password", "userpassword"]),
    ("name.givenName", &["givenname", "firstname"]),
    (
        "name.familyName",
        &["familyname", "lastname", "surname", "sn"],
    ),
    ("name.formatted", &["formattedname", "fullname", "cn"]),
    ("name.middleName", &["middlename"]),
    (
        "emails[type eq \"work\"].value",
        &["email", "mail", "workemail", "emailaddress"],
    ),
    (
        "phoneNumbers[type eq \"work\"].value",
        &["phone", "telephonenumber", "workphone", "phonenumber"],
    ),
    (
        "phoneNumbers[type eq \"mobile\"].value",
        &["mobile", "mobilephone"],
    ),
    (
        "addresses[type eq \"work\"].streetAddress",
        &["streetaddress", "street"],
    ),
    (
        "addresses[type eq \"work\"].locality",
        &["locality", "city", "l"],
    ),
    (
        "addresses[type eq \"work\"].region",
        &["region", "state", "st"],
    ),
    (
        "addresses[type eq \"work\"].postalCode",
        &["postalcode", "zip"],
    ),
    ("addresses[type eq \"work\"].country", &["country", "c"]),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        &["employeenumber", "employeeid"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        &["department", "departmentnumber"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
        &["costcenter"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
        &["organization", "organisation", "o"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
        &["division"],
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        &["manager", "managerid"],
    ),
];

/// The comparison form of an attribute name.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_spellings() {
        assert_eq!(normalise("user_name"), "username");
        assert_eq!(normalise("User-Name"), "username");
        assert_eq!(normalise("employeeNumber"), "employeenumber");
    }

    #[test]
    fn candidates_are_already_normalised() {
        for (_, names) in DEFAULTS {
            for n in *names {
                assert_eq!(normalise(n), *n);
            }
        }
    }
}
