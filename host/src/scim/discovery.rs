//! The discovery endpoints (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and
//! `Schemas`. Entra ID reads `/Schemas` when an administrator saves the app, which is how
//! the target's own attributes (the ferry extension) appear in its mapping editor.

use serde_json::{Value, json};

use super::error::ScimError;
use super::list::MAX_COUNT;
use super::schema::{LIST_RESPONSE, ResourceSchema, SchemaDef};

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/ferry-host/ferry",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": true },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the app's secret token (Authorization: Bearer <token>)",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

/// A resource type's description.
fn resource_type(schema: &ResourceSchema, base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": schema.resource_type,
        "name": schema.resource_type,
        "endpoint": schema.endpoint,
        "description": format!("{} resources", schema.resource_type),
        "schema": schema.core.id,
        "schemaExtensions": schema.extensions.iter().map(|e| json!({"schema": e.id, "required": false})).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{}", schema.resource_type),
        },
    })
}

fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `GET /ResourceTypes`.
pub fn resource_types(types: &[&ResourceSchema], base_url: &str) -> Value {
    list_response(types.iter().map(|t| resource_type(t, base_url)).collect())
}

/// `GET /ResourceTypes/{name}`.
pub fn one_resource_type(
    types: &[&ResourceSchema],
    name: &str,
    base_url: &str,
) -> Result<Value, ScimError> {
    types
        .iter()
        .find(|t| t.resource_type.eq_ignore_ascii_case(name))
        .map(|t| resource_type(t, base_url))
        .ok_or_else(|| ScimError::not_found(format!("there is no resource type '{name}'")))
}

fn all_schemas<'a>(types: &[&'a ResourceSchema]) -> Vec<&'a SchemaDef> {
    let mut schemas: Vec<&SchemaDef> = Vec::new();
    for t in types {
        for s in std::iter::once(&t.core).chain(&t.extensions) {
            if !schemas.iter().any(|k| k.id == s.id) {
                schemas.push(s);
            }
        }
    }
    schemas
}

/// `GET /Schemas`.
pub fn schemas(types: &[&ResourceSchema], base_url: &str) -> Value {
    list_response(
        all_schemas(types)
            .into_iter()
            .map(|s| s.to_json(base_url))
            .collect(),
    )
}

/// `GET /Schemas/{urn}`.
pub fn one_schema(
    types: &[&ResourceSchema],
    urn: &str,
    base_url: &str,
) -> Result<Value, ScimError> {
    all_schemas(types)
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
        .map(|s| s.to_json(base_url))
        .ok_or_else(|| ScimError::not_found(format!("there is no schema '{urn}'")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA, user_resource};

    #[test]
    fn lists_user_with_its_extensions() {
        let users = user_resource(None);
        let types = resource_types(&[&users], "https://h/apps/a/scim/v2");
        assert_eq!(types["totalResults"], 1);
        assert_eq!(
            types["Resources"][0]["schemaExtensions"][0]["schema"],
            ENTERPRISE_USER_SCHEMA
        );
        let schemas = schemas(&[&users], "https://h");
        assert_eq!(schemas["totalResults"], 2);
        let user = one_schema(&[&users], USER_SCHEMA, "https://h").unwrap();
        assert!(
            user["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == "userName")
        );
        assert_eq!(
            one_schema(&[&users], "urn:nope", "https://h")
                .unwrap_err()
                .status
                .as_u16(),
            404
        );
        assert!(one_resource_type(&[&users], "user", "https://h").is_ok());
    }
}
