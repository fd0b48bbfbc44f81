//! The SCIM routes of every app, under `/apps/<app>/scim/v2`. Unknown paths and methods
//! get SCIM error bodies too.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use super::error::ScimError;
use super::request::{AuthorizedApp, ScimState, scim_response};
use super::schema::ResourceSchema;
use super::users::{self, bound};
use super::{discovery, groups};
use crate::app::Bound;

/// The router for all apps.
pub fn router(state: Arc<ScimState>) -> Router {
    let scim = Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{urn}", get(schema))
        .route("/Users", get(users::list_users).post(users::create_user))
        .route(
            "/Users/{id}",
            get(users::get_user)
                .put(users::replace_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route(
            "/Groups",
            get(groups::list_groups).post(groups::create_group),
        )
        .route(
            "/Groups/{id}",
            get(groups::get_group)
                .put(groups::replace_group)
                .patch(groups::patch_group)
                .delete(groups::delete_group),
        )
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/apps/{app}/scim/v2", scim)
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: Uri) -> ScimError {
    ScimError::not_found(format!("no SCIM endpoint at {}", uri.path()))
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "this method is not allowed here",
    )
}

async fn service_provider_config(auth: AuthorizedApp) -> Response {
    scim_response(
        StatusCode::OK,
        &discovery::service_provider_config(&auth.base_url),
    )
}

async fn resource_types(auth: AuthorizedApp) -> Result<Response, ScimError> {
    let bound = bound(&auth.app)?;
    Ok(scim_response(
        StatusCode::OK,
        &discovery::resource_types(&resources(&bound), &auth.base_url),
    ))
}

async fn resource_type(
    auth: AuthorizedApp,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    let bound = bound(&auth.app)?;
    Ok(scim_response(
        StatusCode::OK,
        &discovery::one_resource_type(&resources(&bound), &name, &auth.base_url)?,
    ))
}

async fn schemas(auth: AuthorizedApp) -> Result<Response, ScimError> {
    let bound = bound(&auth.app)?;
    Ok(scim_response(
        StatusCode::OK,
        &discovery::schemas(&resources(&bound), &auth.base_url),
    ))
}

async fn schema(
    auth: AuthorizedApp,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    let bound = bound(&auth.app)?;
    Ok(scim_response(
        StatusCode::OK,
        &discovery::one_schema(&resources(&bound), &urn, &auth.base_url)?,
    ))
}

/// The resource types an app serves: Users, and Groups when its connector has them.
fn resources(bound: &Bound) -> Vec<&ResourceSchema> {
    std::iter::once(&bound.users.schema)
        .chain(bound.groups.as_ref().map(|g| &g.mapping.schema))
        .collect()
}
