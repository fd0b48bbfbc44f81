//! What the connector tells the host before any configuration: its name, its one
//! parameter, and what it supports.

use crate::config::OBJECT_TYPES;
use ferry_connector::Parameter;
use ferry_connector::types::{ConnectorInfo, Features};

/// The parameters: one structured setting, read by `config::parse`.
pub fn parameters() -> Vec<Parameter> {
    vec![
        Parameter::structured(
            OBJECT_TYPES,
            "One entry per object type: name, table, anchor (a key column, or a list of \
             them), and optionally schema, watermark, soft-delete, change-table, read-only, \
             exclude, multi-valued, references and statements.",
        )
        .required(),
    ]
}

/// The answer to `describe`; it touches no database.
pub fn connector_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "generic-sql".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description:
            "Maps object types onto tables of the app's SQL database (SQLite or PostgreSQL): \
                      one row per object, child tables for multi-valued attributes, delta imports \
                      by watermark column or change table."
                .to_owned(),
        parameters: parameters(),
        features: Features {
            delta_import: true,
            groups: false,
            passwords: false,
            rename: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_connector::types::ParameterType;

    #[test]
    fn describes_the_one_structured_parameter_and_the_features() {
        let info = connector_info();
        assert_eq!(info.name, "generic-sql");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.parameters.len(), 1);
        let parameter = &info.parameters[0];
        assert_eq!(parameter.name, "object-types");
        assert_eq!(parameter.parameter_type, ParameterType::Structured);
        assert!(parameter.required && !parameter.secret && parameter.default.is_none());
        assert_eq!(
            info.features,
            Features {
                delta_import: true,
                groups: false,
                passwords: false,
                rename: true,
            }
        );
    }
}
