//! A small, real HTTP/JSON users API for the JavaScript connector's tests: the remote
//! system it provisions into, the way PostgreSQL and slapd stand in for the others.
//!
//! It runs in the test process (axum on its own tokio runtime, on a free loopback port)
//! and is stopped when dropped. What it speaks, all JSON, every request with
//! `Authorization: Bearer TOKEN`:
//!
//! | request | answer |
//! |---|---|
//! | `GET /api/users?limit=N&after=ID` | `{"users": [...], "next": ID or null, "latest": SEQ}`: users ordered by id, after `ID`; `next` while more remain; `latest` the change feed's position |
//! | `GET /api/users/{id}` | the user, or 404 |
//! | `POST /api/users` | 201 and the new user; 409 when the `userName` is taken (case-insensitively); 400 for an unknown field or a wrong type; 422 for a missing or invalid value |
//! | `PATCH /api/users/{id}` | `{"set": {FIELD: VALUE or null}, "add": {"roles": [...]}, "remove": {"roles": [...]}}`, applied in that order: 200 and the user; 404, 409, 400, 422 as above |
//! | `DELETE /api/users/{id}` | 204, or 404 |
//! | `GET /api/changes?since=SEQ&limit=N` | `{"changes": [{"seq", "type": "upsert", "user"} or {"seq", "type": "delete", "id"}], "latest": SEQ}`: what changed after `SEQ`, oldest first |
//!
//! A wrong or missing token gets 401. A user is
//! `{id, userName, displayName?, givenName?, familyName?, email?, active, employeeNumber?,
//! department?, level?, roles, updatedAt}`; `roles` is a set of strings, `level` an
//! integer from 0 to 99, `updatedAt` an RFC 3339 time set by the server.
//!
//! Tests change the API directly ([`TestApi::create_user`], [`TestApi::delete_user`]) as
//! another client would: those changes go into the change feed like any other. They can
//! also make it misbehave: answer the next requests with an error status
//! ([`TestApi::fail_next`]) or close every connection after its response
//! ([`TestApi::close_connections`]).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

/// The most users or changes one page holds.
const MAX_PAGE: usize = 500;

/// The type of a user field's value.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Flag,
    Number,
    TextList,
}

/// The fields a client may write, with their types.
const FIELDS: &[(&str, Kind)] = &[
    ("userName", Kind::Text),
    ("displayName", Kind::Text),
    ("givenName", Kind::Text),
    ("familyName", Kind::Text),
    ("email", Kind::Text),
    ("active", Kind::Flag),
    ("employeeNumber", Kind::Text),
    ("department", Kind::Text),
    ("level", Kind::Number),
    ("roles", Kind::TextList),
];

/// The fields the server sets.
const SERVER_FIELDS: &[&str] = &["id", "updatedAt"];

/// A refusal: the status and the message of the `{"error": ...}` body.
type Refusal = (StatusCode, String);

/// The users API, running until dropped.
pub struct TestApi {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the handlers and the test share.
struct Shared {
    token: String,
    store: Mutex<Store>,
}

/// The API's state.
#[derive(Default)]
struct Store {
    /// Users by id; ids sort in creation order.
    users: BTreeMap<String, Map<String, Value>>,
    next_id: u64,
    /// The change feed, oldest first; an entry's `seq` is its position (from 1).
    feed: Vec<Value>,
    /// The next this many requests answer `failure.1`.
    failure: (usize, u16),
    close_connections: bool,
    requests: usize,
    /// The client addresses seen: one per TCP connection.
    peers: HashSet<SocketAddr>,
}

impl TestApi {
    /// Starts the API on a free port of 127.0.0.1, with no users.
    ///
    /// # Panics
    /// When no loopback port can be bound or the runtime cannot start.
    pub fn start() -> TestApi {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .expect("cannot bind a free port on 127.0.0.1 for the test API");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let salt = format!("{}-{port}", std::process::id());
        let shared = Arc::new(Shared {
            token: format!("api-token-{salt}-9f2c4e"),
            store: Mutex::new(Store::default()),
        });
        let app = Router::new()
            .route("/api/users", get(list_users).post(create_user))
            .route(
                "/api/users/{id}",
                get(get_user).patch(patch_user).delete(delete_user),
            )
            .route("/api/changes", get(list_changes))
            .layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot start the test API's runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let service = app.into_make_service_with_connect_info::<SocketAddr>();
                tokio::select! {
                    served = axum::serve(listener, service) => served.unwrap(),
                    _ = stopped => {}
                }
            });
            // Open keep-alive connections are cut, not waited for.
            runtime.shutdown_background();
        });
        TestApi {
            port,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bearer token that may read and write.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Every user, ordered by id: what the API holds now.
    pub fn users(&self) -> Vec<Value> {
        self.store()
            .users
            .values()
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// The user whose `userName` is `user_name` (case-insensitively), if any.
    pub fn user_named(&self, user_name: &str) -> Option<Value> {
        let store = self.store();
        store
            .find_name(user_name)
            .map(|id| Value::Object(store.users[&id].clone()))
    }

    /// Creates a user directly, as another client of the API would: it enters the
    /// change feed. Returns the user, or the API's refusal.
    pub fn create_user(&self, user: Value) -> Result<Value, (u16, String)> {
        self.store()
            .create(&user)
            .map_err(|(status, message)| (status.as_u16(), message))
    }

    /// Deletes a user directly, as another client would; false when there is none.
    pub fn delete_user(&self, id: &str) -> bool {
        self.store().delete(id).is_ok()
    }

    /// The next `count` requests (from any client) answer `status` with an error body
    /// (and `Retry-After: 1` for 429 and 503) without being carried out.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.store().failure = (count, status);
    }

    /// With `true`, every response says `Connection: close` and its connection is closed
    /// after it, so a client must reconnect for each request.
    pub fn close_connections(&self, close: bool) {
        self.store().close_connections = close;
    }

    /// How many requests arrived so far.
    pub fn requests(&self) -> usize {
        self.store().requests
    }

    /// How many TCP connections requests arrived on so far.
    pub fn connections(&self) -> usize {
        self.store().peers.len()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store()
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        // A panicking handler must not take every later request down with it.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store {
    fn latest(&self) -> u64 {
        self.feed.len() as u64
    }

    fn find_name(&self, user_name: &str) -> Option<String> {
        self.users
            .iter()
            .find(|(_, user)| {
                user.get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.eq_ignore_ascii_case(user_name))
            })
            .map(|(id, _)| id.clone())
    }

    fn create(&mut self, body: &Value) -> Result<Value, Refusal> {
        let given = body
            .as_object()
            .ok_or_else(|| bad_request("the body must be a JSON object"))?;
        let mut user = Map::new();
        user.insert("active".into(), Value::Bool(true));
        user.insert("roles".into(), json!([]));
        for (field, value) in given {
            set_field(&mut user, field, value)?;
        }
        if !user.contains_key("userName") {
            return Err(unprocessable("'userName' is required"));
        }
        self.check_unique(&user, None)?;
        self.next_id += 1;
        let id = format!("usr_{:06}", self.next_id);
        user.insert("id".into(), Value::String(id.clone()));
        Ok(self.save(id, user))
    }

    fn patch(&mut self, id: &str, body: &Value) -> Result<Value, Refusal> {
        let mut user = self.users.get(id).cloned().ok_or_else(|| not_found(id))?;
        let before = user.clone();
        let patch = body
            .as_object()
            .ok_or_else(|| bad_request("the body must be a JSON object"))?;
        if let Some(unknown) = patch
            .keys()
            .find(|k| !["set", "add", "remove"].contains(&k.as_str()))
        {
            return Err(bad_request(&format!(
                "unknown operation '{unknown}' (use set, add, remove)"
            )));
        }
        // Sets first, then additions, then removals, whatever the order in the body.
        for operation in ["set", "add", "remove"] {
            let Some(fields) = patch.get(operation) else {
                continue;
            };
            let fields = fields.as_object().ok_or_else(|| {
                bad_request(&format!("'{operation}' must be an object of fields"))
            })?;
            for (field, value) in fields {
                match operation {
                    "set" => set_field(&mut user, field, value)?,
                    _ => edit_list(&mut user, field, value, operation == "add")?,
                }
            }
        }
        if !user.contains_key("userName") {
            return Err(unprocessable("'userName' cannot be cleared"));
        }
        self.check_unique(&user, Some(id))?;
        if user == before {
            return Ok(Value::Object(user));
        }
        Ok(self.save(id.to_string(), user))
    }

    fn delete(&mut self, id: &str) -> Result<(), Refusal> {
        self.users.remove(id).ok_or_else(|| not_found(id))?;
        let seq = self.latest() + 1;
        self.feed
            .push(json!({"seq": seq, "type": "delete", "id": id}));
        Ok(())
    }

    /// Stores `user` under `id` with a new `updatedAt`, records it in the feed, and
    /// returns it.
    fn save(&mut self, id: String, mut user: Map<String, Value>) -> Value {
        user.insert("updatedAt".into(), Value::String(now()));
        let user = Value::Object(user);
        let seq = self.latest() + 1;
        self.feed
            .push(json!({"seq": seq, "type": "upsert", "user": user.clone()}));
        if let Value::Object(map) = &user {
            self.users.insert(id, map.clone());
        }
        user
    }

    fn check_unique(&self, user: &Map<String, Value>, id: Option<&str>) -> Result<(), Refusal> {
        let name = user["userName"].as_str().unwrap_or_default();
        match self.find_name(name) {
            Some(other) if Some(other.as_str()) != id => Err((
                StatusCode::CONFLICT,
                format!("userName '{name}' is taken by {other}"),
            )),
            _ => Ok(()),
        }
    }
}

/// Sets (or, with `null`, clears) one field, checking its name, type and value.
fn set_field(user: &mut Map<String, Value>, field: &str, value: &Value) -> Result<(), Refusal> {
    let kind = writable(field)?;
    if value.is_null() {
        return match kind {
            Kind::Flag => Err(unprocessable(&format!("'{field}' takes true or false"))),
            Kind::TextList => {
                user.insert(field.into(), json!([]));
                Ok(())
            }
            _ => {
                user.remove(field);
                Ok(())
            }
        };
    }
    let value = match kind {
        Kind::Text => {
            let text = value
                .as_str()
                .ok_or_else(|| bad_request(&format!("'{field}' must be a string")))?;
            if text.is_empty() {
                return Err(unprocessable(&format!("'{field}' must not be empty")));
            }
            if field == "email" && !text.contains('@') {
                return Err(unprocessable(&format!("'{text}' is not an email address")));
            }
            value.clone()
        }
        Kind::Flag => {
            if !value.is_boolean() {
                return Err(bad_request(&format!("'{field}' must be a boolean")));
            }
            value.clone()
        }
        Kind::Number => {
            let number = value
                .as_i64()
                .ok_or_else(|| bad_request(&format!("'{field}' must be an integer")))?;
            if !(0..=99).contains(&number) {
                return Err(unprocessable(&format!(
                    "'{field}' must be from 0 to 99, not {number}"
                )));
            }
            value.clone()
        }
        Kind::TextList => Value::Array(
            distinct(text_list(field, value)?)
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
    };
    user.insert(field.into(), value);
    Ok(())
}

/// Adds values to, or removes them from, a list field.
fn edit_list(
    user: &mut Map<String, Value>,
    field: &str,
    value: &Value,
    add: bool,
) -> Result<(), Refusal> {
    if writable(field)? != Kind::TextList {
        return Err(bad_request(&format!(
            "'{field}' is not a list: use set for it"
        )));
    }
    let given = text_list(field, value)?;
    let mut values: Vec<String> = user
        .get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if add {
        values.extend(given);
        values = distinct(values);
    } else {
        values.retain(|v| !given.contains(v));
    }
    user.insert(
        field.into(),
        Value::Array(values.into_iter().map(Value::String).collect()),
    );
    Ok(())
}

fn writable(field: &str) -> Result<Kind, Refusal> {
    if SERVER_FIELDS.contains(&field) {
        return Err(bad_request(&format!("'{field}' is set by the server")));
    }
    FIELDS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| bad_request(&format!("unknown field '{field}'")))
}

fn text_list(field: &str, value: &Value) -> Result<Vec<String>, Refusal> {
    let wrong = || bad_request(&format!("'{field}' must be a list of strings"));
    let items = value.as_array().ok_or_else(wrong)?;
    let mut texts = Vec::new();
    for item in items {
        let text = item.as_str().ok_or_else(wrong)?;
        if text.is_empty() {
            return Err(unprocessable(&format!(
                "'{field}' must not hold an empty string"
            )));
        }
        texts.push(text.to_string());
    }
    Ok(texts)
}

fn distinct(values: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for value in values {
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    kept
}

/// The time now, RFC 3339 with milliseconds, UTC.
fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_millisecond(now.millisecond())
        .expect("a millisecond of this time is valid");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

fn bad_request(message: &str) -> Refusal {
    (StatusCode::BAD_REQUEST, message.to_string())
}

fn unprocessable(message: &str) -> Refusal {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_string())
}

fn not_found(id: &str) -> Refusal {
    (StatusCode::NOT_FOUND, format!("no user '{id}'"))
}

fn refusal((status, message): Refusal) -> Response {
    let mut response = (status, axum::Json(json!({ "error": message }))).into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn answer(result: Result<(StatusCode, Value), Refusal>) -> Response {
    match result {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(refused) => refusal(refused),
    }
}

/// Before every request: count it and its connection, apply a planned failure, check the
/// token; after it: ask for the connection to be closed when the test wants that.
async fn gate(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let (failure, close) = {
        let mut store = shared.store();
        store.requests += 1;
        store.peers.insert(peer);
        let failure = match store.failure {
            (0, _) => None,
            (count, status) => {
                store.failure = (count - 1, status);
                Some(status)
            }
        };
        (failure, store.close_connections)
    };
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let mut response = if let Some(status) = failure {
        // Read the request first: a server that answers before reading it must close the
        // connection, and a planned failure should not test reconnecting as well.
        let _ = axum::body::to_bytes(request.into_body(), 1 << 20).await;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        refusal((status, format!("planned failure: {status}")))
    } else if bearer == Some(shared.token.as_str()) {
        next.run(request).await
    } else {
        let mut response = refusal((
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token".to_string(),
        ));
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    };
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A page size from the query: 1 to [`MAX_PAGE`], 100 when not given.
fn page_size(query: &BTreeMap<String, String>) -> Result<usize, Refusal> {
    match query.get("limit") {
        None => Ok(100),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| bad_request(&format!("'limit' must be from 1 to {MAX_PAGE}"))),
    }
}

async fn list_users(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    answer((|| {
        let limit = page_size(&query)?;
        let store = shared.store();
        let after = query.get("after").cloned().unwrap_or_default();
        let mut rest = store
            .users
            .range::<String, _>((
                std::ops::Bound::Excluded(&after),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, user)| Value::Object(user.clone()));
        let users: Vec<Value> = rest.by_ref().take(limit).collect();
        let next = match rest.next() {
            Some(_) => users.last().map(|u| u["id"].clone()),
            None => None,
        };
        Ok((
            StatusCode::OK,
            json!({"users": users, "next": next, "latest": store.latest()}),
        ))
    })())
}

async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let store = shared.store();
    answer(match store.users.get(&id) {
        Some(user) => Ok((StatusCode::OK, Value::Object(user.clone()))),
        None => Err(not_found(&id)),
    })
}

/// The JSON of a request body, or a 400.
fn parse(body: &Bytes) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("the body is not JSON: {e}")))
}

async fn create_user(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    answer(
        parse(&body)
            .and_then(|body| shared.store().create(&body))
            .map(|user| (StatusCode::CREATED, user)),
    )
}

async fn patch_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    answer(
        parse(&body)
            .and_then(|body| shared.store().patch(&id, &body))
            .map(|user| (StatusCode::OK, user)),
    )
}

async fn delete_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.store().delete(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => refusal(refused),
    }
}

async fn list_changes(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    answer((|| {
        let limit = page_size(&query)?;
        let store = shared.store();
        let since = match query.get("since") {
            None => 0,
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| bad_request("'since' must be a change number"))?,
        };
        if since > store.latest() {
            return Err(bad_request(&format!(
                "'since' is {since}, but the feed ends at {}",
                store.latest()
            )));
        }
        let changes: Vec<Value> = store
            .feed
            .iter()
            .skip(since as usize)
            .take(limit)
            .cloned()
            .collect();
        Ok((
            StatusCode::OK,
            json!({"changes": changes, "latest": store.latest()}),
        ))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(names: &[&str]) -> Store {
        let mut store = Store::default();
        for name in names {
            store.create(&json!({"userName": name})).unwrap();
        }
        store
    }

    #[test]
    fn creates_check_names_types_and_uniqueness() {
        let mut store = store_with(&["ada"]);
        let refused = |store: &mut Store, body: Value| store.create(&body).unwrap_err().0;
        assert_eq!(refused(&mut store, json!({"userName": "ADA"})), 409);
        assert_eq!(refused(&mut store, json!({"displayName": "x"})), 422);
        assert_eq!(refused(&mut store, json!({"userName": "b", "x": 1})), 400);
        assert_eq!(
            refused(&mut store, json!({"userName": "b", "id": "1"})),
            400
        );
        assert_eq!(
            refused(&mut store, json!({"userName": "b", "active": "yes"})),
            400
        );
        assert_eq!(
            refused(&mut store, json!({"userName": "b", "level": 100})),
            422
        );
        assert_eq!(
            refused(&mut store, json!({"userName": "b", "email": "no"})),
            422
        );
        let user = store
            .create(&json!({"userName": "b", "roles": ["x", "x", "y"], "level": 3}))
            .unwrap();
        assert_eq!(user["roles"], json!(["x", "y"]));
        assert_eq!(user["active"], true);
        assert_eq!(user["id"], "usr_000002");
        assert_eq!(store.latest(), 2);
    }

    #[test]
    fn patches_set_clear_add_and_remove_and_feed_the_changes() {
        let mut store = store_with(&["ada", "bob"]);
        let user = store
            .patch(
                "usr_000001",
                &json!({"set": {"email": "a@x.org"}, "add": {"roles": ["r1", "r2"]}}),
            )
            .unwrap();
        assert_eq!(user["email"], "a@x.org");
        assert_eq!(user["roles"], json!(["r1", "r2"]));
        let user = store
            .patch(
                "usr_000001",
                &json!({"set": {"email": null}, "remove": {"roles": ["r1"]}}),
            )
            .unwrap();
        assert!(user.get("email").is_none());
        assert_eq!(user["roles"], json!(["r2"]));
        let refused =
            |store: &mut Store, id: &str, body: Value| store.patch(id, &body).unwrap_err().0;
        assert_eq!(refused(&mut store, "usr_000009", json!({})), 404);
        assert_eq!(
            refused(
                &mut store,
                "usr_000001",
                json!({"set": {"userName": "BOB"}})
            ),
            409
        );
        assert_eq!(
            refused(&mut store, "usr_000001", json!({"set": {"userName": null}})),
            422
        );
        assert_eq!(
            refused(&mut store, "usr_000001", json!({"add": {"email": ["x"]}})),
            400
        );
        assert_eq!(refused(&mut store, "usr_000001", json!({"merge": {}})), 400);
        let latest = store.latest();
        store
            .patch("usr_000001", &json!({"set": {"level": null}}))
            .unwrap();
        assert_eq!(
            store.latest(),
            latest,
            "a patch changing nothing is not a change"
        );
        store.delete("usr_000002").unwrap();
        assert_eq!(store.delete("usr_000002").unwrap_err().0, 404);
        assert_eq!(store.feed.last().unwrap()["type"], "delete");
        assert_eq!(store.feed.last().unwrap()["seq"], store.latest());
    }
}
