//! What the connector tells the host before any configuration: its name, its parameters
//! (from the same table `config` reads them by) and what it supports.

use ferry_connector::types::{ConnectorInfo, Features};

use crate::config::parameters;

/// The answer to `describe`; it touches no network.
pub fn connector_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "generic-ldap".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: "Users of any LDAPv3 directory (OpenLDAP, 389 DS, …) over the host's \
                      network capability: schema from the server's subschema, paged full \
                      imports, delta imports from OpenLDAP's accesslog or modifyTimestamp, \
                      adds, modifies, renames and deletes, and disabling users through \
                      OpenLDAP's password policy lock or an attribute of your choice; groups \
                      (groupOfNames, groupOfUniqueNames, nested when configured) changed \
                      member by member, and managers, as references."
            .to_owned(),
        parameters: parameters(),
        features: Features {
            delta_import: true,
            groups: true,
            passwords: true,
            rename: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_connector::types::ParameterType;

    #[test]
    fn describes_every_parameter_and_the_features() {
        let info = connector_info();
        assert_eq!(info.name, "generic-ldap");
        let names: Vec<_> = info.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "port",
                "security",
                "bind-dn",
                "bind-password",
                "sasl-external",
                "base-dn",
                "user-object-classes",
                "user-filter",
                "user-dn-template",
                "anchor",
                "groups",
                "group-base-dn",
                "group-object-class",
                "group-member-attribute",
                "group-filter",
                "group-naming-attribute",
                "group-dn-template",
                "group-placeholder-member",
                "nested-groups",
                "delta",
                "accesslog-base",
                "disable",
                "disable-attribute",
                "disabled-value",
            ]
        );
        let secret: Vec<_> = info.parameters.iter().filter(|p| p.secret).collect();
        assert_eq!(secret.len(), 1);
        assert_eq!(secret[0].name, "bind-password");
        let required: Vec<_> = info
            .parameters
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(required, ["host", "base-dn"]);
        let classes = &info.parameters[7];
        assert_eq!(classes.parameter_type, ParameterType::StringList);
        assert_eq!(classes.default.as_deref(), Some("[\"inetOrgPerson\"]"));
        assert!(info.features.delta_import && info.features.passwords && info.features.rename);
        assert!(info.features.groups);
    }
}
