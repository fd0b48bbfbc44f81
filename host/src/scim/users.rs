//! The `/Users` endpoint: reads from the app's cache, writes as synchronous exports
//! through its connector. A write is answered only after the connector confirmed it (or
//! refused it), so the IdP never sees success for a change the target did not take.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ScimError;
use super::id;
use super::list::{ListQuery, list};
use super::mapping::Mapping;
use super::mapping::render::Meta;
use super::patch::{apply_patch, parse_patch};
use super::projection::Projection;
use super::references;
use super::request::{AuthorizedApp, ScimJson, scim_response};
use crate::app::{App, Bound, ExportError, LookupError};
use crate::runtime::bindings::types::{AddChange, Change, ErrorKind, UpdateChange};
use crate::runtime::instance::FailureKind;
use crate::runtime::pool::CallError;
use crate::store::cache::CachedObject;

/// Seconds an IdP should wait before retrying after a retryable failure.
pub(crate) const RETRY_AFTER_SECONDS: u32 = 30;

/// The app's binding, or a 503 while it has none yet or is stopped.
pub(crate) fn bound(app: &App) -> Result<Arc<Bound>, ScimError> {
    if let Some(reason) = app.stopped() {
        return Err(ScimError::unavailable(
            format!("the app is stopped: {reason}"),
            RETRY_AFTER_SECONDS,
        ));
    }
    app.bound().ok_or_else(|| {
        ScimError::unavailable(
            format!(
                "the app is starting: {}",
                app.last_error()
                    .unwrap_or_else(|| "connecting to its connector".into())
            ),
            RETRY_AFTER_SECONDS,
        )
    })
}

/// Reads are answered only once a full import has filled the cache: answering "no such
/// user" from an empty cache would make the IdP create users that exist.
pub(crate) fn ready_for_reads(bound: &Bound) -> Result<(), ScimError> {
    if bound.cache.is_complete() {
        return Ok(());
    }
    Err(ScimError::unavailable(
        "the first import from the target is still running",
        RETRY_AFTER_SECONDS,
    ))
}

/// The SCIM error for a failed export.
pub fn export_error(e: ExportError) -> ScimError {
    match e {
        ExportError::Refused { kind, message } => match kind {
            ErrorKind::InvalidInput => ScimError::invalid_value(message),
            ErrorKind::NotFound => ScimError::not_found(message),
            ErrorKind::AlreadyExists => ScimError::conflict(message),
            ErrorKind::PermissionDenied => ScimError::new(StatusCode::FORBIDDEN, None, message),
            ErrorKind::Unavailable => ScimError::unavailable(message, RETRY_AFTER_SECONDS),
            ErrorKind::Unsupported => ScimError::new(StatusCode::NOT_IMPLEMENTED, None, message),
            ErrorKind::Internal => ScimError::internal(message),
        },
        ExportError::Call(CallError::Busy(_)) => ScimError::unavailable(e.to_string(), 5),
        ExportError::Call(CallError::Stopped(_)) => {
            ScimError::unavailable(e.to_string(), RETRY_AFTER_SECONDS)
        }
        ExportError::Call(CallError::Failed(f)) if f.kind == FailureKind::Timeout => {
            ScimError::unavailable(f.message, RETRY_AFTER_SECONDS)
        }
        ExportError::Call(CallError::Connector(c)) => export_error(ExportError::Refused {
            kind: c.kind,
            message: c.message,
        }),
        ExportError::Call(other) => ScimError::internal(other.to_string()),
    }
}

fn render(bound: &Bound, cached: &CachedObject, endpoint: &str) -> Value {
    bound.users.render(
        &cached.object,
        &Meta {
            created: cached.created,
            modified: cached.modified,
            endpoint,
        },
    )
}

fn endpoint(auth: &AuthorizedApp) -> String {
    format!("{}/Users", auth.base_url)
}

/// The object of type `object_type` (a `noun` to SCIM clients) with a SCIM id — cached,
/// or read through from the target when it was made there after the last import — or a
/// 404.
pub(crate) async fn find_object(
    app: &App,
    bound: &Bound,
    (object_type, noun): (&str, &str),
    scim_id: &str,
) -> Result<CachedObject, ScimError> {
    let not_found = || ScimError::not_found(format!("there is no {noun} with id '{scim_id}'"));
    let anchor = id::decode(scim_id).ok_or_else(not_found)?;
    match app.lookup(bound, object_type, &anchor).await {
        Ok(found) => found.ok_or_else(not_found),
        Err(LookupError::Cache(e)) => Err(ScimError::internal(format!(
            "reading the cache failed: {e:#}"
        ))),
        Err(LookupError::Connector(e)) => Err(ScimError::unavailable(
            format!("{noun} '{scim_id}' is not cached and the target cannot be asked: {e}"),
            RETRY_AFTER_SECONDS,
        )),
    }
}

/// The user of a SCIM id (cached or read through), or a 404.
async fn find_user(
    auth: &AuthorizedApp,
    bound: &Bound,
    scim_id: &str,
) -> Result<CachedObject, ScimError> {
    find_object(
        &auth.app,
        bound,
        (&bound.users.object_type, "user"),
        scim_id,
    )
    .await
}

/// The object an export wrote, as the cache now holds it; a connector that confirmed a
/// write without returning the object broke the contract.
pub(crate) fn written(object: Option<CachedObject>) -> Result<CachedObject, ScimError> {
    object.ok_or_else(|| ScimError::internal("the connector returned no object"))
}

/// `GET /Users`.
pub async fn list_users(
    auth: AuthorizedApp,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let query = ListQuery::parse(&params)?;
    ready_for_reads(bound)?;
    let body = list(&bound.cache, &bound.users, &query, &endpoint(&auth)).await?;
    Ok(scim_response(StatusCode::OK, &body))
}

/// `GET /Users/{id}`.
pub async fn get_user(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let projection = Projection::parse(
        query.get("attributes").map(String::as_str),
        query.get("excludedAttributes").map(String::as_str),
    )?;
    ready_for_reads(bound)?;
    let cached = find_user(&auth, bound, &params["id"]).await?;
    let mut resource = render(bound, &cached, &endpoint(&auth));
    if projection.includes("groups") {
        super::groups::add_user_groups(&auth, bound, &cached.object.anchor, &mut resource).await?;
    }
    let resource = projection.apply(resource, &bound.users.schema);
    Ok(scim_response(StatusCode::OK, &resource))
}

/// `POST /Users`.
pub async fn create_user(
    auth: AuthorizedApp,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    refuse_taken(
        bound,
        &bound.users,
        ("userName", "user"),
        &body,
        &endpoint(&auth),
    )
    .await?;
    let attributes = bound.users.attributes_for_add(&body)?;
    references::require_all(&auth.app, bound, &bound.users.attributes, &attributes).await?;
    let change = Change::Add(AddChange {
        object_type: bound.users.object_type.clone(),
        attributes,
    });
    let object = auth.app.export(change).await.map_err(export_error)?;
    let cached = written(object)?;
    tracing::info!(app = %auth.app.name, id = %id::encode(&cached.object.anchor), "user created");
    Ok(scim_response(
        StatusCode::CREATED,
        &render(bound, &cached, &endpoint(&auth)),
    ))
}

/// A 409 when the cache already holds a resource of `mapping` whose unique SCIM
/// attribute `attribute` (a user's `userName`, a group's `displayName`) has the value
/// `body` gives, compared without case as the attribute's `caseExact: false` says. The
/// target's own unique constraint is the final word; this check answers Entra ID's
/// expectation even for targets without one.
pub(crate) async fn refuse_taken(
    bound: &Bound,
    mapping: &Mapping,
    (attribute, noun): (&str, &str),
    body: &Value,
    endpoint: &str,
) -> Result<(), ScimError> {
    let Some(name) = body
        .as_object()
        .and_then(|o| crate::scim::attr_json::get(o, attribute))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    if !bound.cache.is_complete() {
        return Ok(());
    }
    let filter = super::filter::parse_filter(&format!("{attribute} eq {}", Value::from(name)))?;
    let query = ListQuery {
        filter: Some(filter),
        start_index: 1,
        count: 0,
        projection: Projection::default(),
    };
    let found = list(&bound.cache, mapping, &query, endpoint).await?;
    if found["totalResults"].as_u64().unwrap_or(0) > 0 {
        return Err(ScimError::conflict(format!(
            "a {noun} with {attribute} '{name}' already exists"
        )));
    }
    Ok(())
}

/// Exports the difference between the cached user and `after`, and answers with the
/// user as it now is.
async fn update(
    auth: &AuthorizedApp,
    bound: &Bound,
    cached: CachedObject,
    before: Value,
    after: Value,
) -> Result<Response, ScimError> {
    let changes = bound
        .users
        .changes(&before, &after, &cached.object.attributes)?;
    if changes.is_empty() {
        return Ok(scim_response(StatusCode::OK, &before));
    }
    references::require_all(
        &auth.app,
        bound,
        &bound.users.attributes,
        references::written(&changes),
    )
    .await?;
    let change = Change::Update(UpdateChange {
        target: App::object_ref(&cached.object.object_type, &cached.object.anchor),
        changes,
    });
    let object = auth.app.export(change).await.map_err(export_error)?;
    let cached = written(object)?;
    Ok(scim_response(
        StatusCode::OK,
        &render(bound, &cached, &endpoint(auth)),
    ))
}

/// `PUT /Users/{id}`: the body replaces the user's attributes.
pub async fn replace_user(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    ready_for_reads(bound)?;
    let cached = find_user(&auth, bound, &params["id"]).await?;
    let before = render(bound, &cached, &endpoint(&auth));
    update(&auth, bound, cached, before, body).await
}

/// `PATCH /Users/{id}`.
pub async fn patch_user(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    let operations = parse_patch(&body)?;
    ready_for_reads(bound)?;
    let cached = find_user(&auth, bound, &params["id"]).await?;
    let before = render(bound, &cached, &endpoint(&auth));
    let mut after = before.clone();
    apply_patch(&mut after, &operations, &bound.users.schema)?;
    update(&auth, bound, cached, before, after).await
}

/// `DELETE /Users/{id}`.
pub async fn delete_user(
    auth: AuthorizedApp,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let bound = &*bound(&auth.app)?;
    ready_for_reads(bound)?;
    let cached = find_user(&auth, bound, &params["id"]).await?;
    let change = Change::Delete(App::object_ref(
        &cached.object.object_type,
        &cached.object.anchor,
    ));
    auth.app.export(change).await.map_err(export_error)?;
    tracing::info!(app = %auth.app.name, id = %params["id"], "user deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
