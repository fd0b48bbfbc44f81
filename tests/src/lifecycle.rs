//! One Entra ID-like lifecycle of users and groups, run through SCIM against any target
//! and checked in the target itself after every step: passwords set and changed, a
//! manager set, changed and removed, e-mail addresses added and removed one by one, a
//! group's members in every shape Entra sends, a group inside a group where the target
//! nests them, a rename (the SCIM id stays; the group and the manager reference follow),
//! and deletes. Each target supplies an [`Inspect`] that reads its own storage (rows,
//! entries, a bind).

use serde_json::{Value, json};

use crate::scim::{ENTERPRISE, ScimClient, entra_user, patch_op};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// What the lifecycle checks in the target, by user name and group display name.
// Only implemented and called with concrete types in these tests, so the futures'
// missing `Send` bound (what the lint is about) never matters.
#[allow(async_fn_in_trait)]
pub trait Inspect {
    /// Whether the target holds a user named `user_name`.
    async fn has_user(&self, user_name: &str) -> bool;
    /// The user's e-mail addresses, lower-cased and sorted.
    async fn emails(&self, user_name: &str) -> Vec<String>;
    /// The user name of the user's manager.
    async fn manager(&self, user_name: &str) -> Option<String>;
    /// Whether `password` is the user's password (a bind, or the statement's effect).
    async fn password_is(&self, user_name: &str, password: &str) -> bool;
    /// The group's members: user names, and display names of groups in it; lower-cased
    /// and sorted.
    async fn members(&self, group: &str) -> Vec<String>;
    /// Whether groups may be members of groups in this target.
    fn nests_groups(&self) -> bool;
}

fn names(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|n| n.to_lowercase()).collect();
    list.sort();
    list
}

/// Waits until the target shows `expected` for `what` (the directory's referential
/// integrity runs just after the operation that needs it).
async fn settles<T, F, Fut>(what: &str, expected: T, mut read: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut last = None;
    let shown = format!("{what} to be {expected:?}");
    let found = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let now = read().await;
            if now == expected {
                return;
            }
            last = Some(now);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "gave up waiting for {shown}; last {last:?}");
}

async fn patch(scim: &ScimClient, path: &str, operations: Value, status: u16) -> Value {
    let (got, body) = scim.patch(path, &patch_op(operations)).await.unwrap();
    assert_eq!(got, status, "PATCH {path}: {body}");
    body
}

async fn create_user(scim: &ScimClient, name: &str, password: &str) -> String {
    let mut user = entra_user(name, &format!("ext-{name}"));
    user["emails"] =
        json!([{"primary": true, "type": "work", "value": format!("{name}@work.example")}]);
    user["password"] = json!(password);
    let (status, body) = scim.post("/Users", &user).await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert!(body.get("password").is_none(), "never returned: {body}");
    body["id"].as_str().unwrap().to_string()
}

/// Runs the lifecycle on `scim` (an app whose users' `userName` names them in the
/// target, whose `emails` are multi-valued and whose `password` is written) and checks
/// every step with `target`.
pub async fn entra_lifecycle(scim: &ScimClient, target: &impl Inspect) {
    // Users with initial passwords.
    let ann = create_user(scim, "ann", "First-Pa55!").await;
    let ben = create_user(scim, "ben", "Ben-Pa55!").await;
    let cat = create_user(scim, "cat", "Cat-Pa55!").await;
    for name in ["ann", "ben", "cat"] {
        assert!(target.has_user(name).await, "{name} is in the target");
    }
    assert!(target.password_is("ann", "First-Pa55!").await);

    // The manager as Entra sends it: a bare id, then a value object, then removed.
    let manager = format!("{ENTERPRISE}:manager");
    let user = |id: &str| format!("/Users/{id}");
    patch(
        scim,
        &user(&ann),
        json!([{"op": "Add", "path": manager, "value": ben}]),
        200,
    )
    .await;
    assert_eq!(target.manager("ann").await.as_deref(), Some("ben"));
    let body = patch(
        scim,
        &user(&ann),
        json!([{"op": "Replace", "path": manager, "value": {"value": cat}}]),
        200,
    )
    .await;
    assert_eq!(body[ENTERPRISE]["manager"]["value"], cat.as_str(), "{body}");
    assert_eq!(target.manager("ann").await.as_deref(), Some("cat"));
    patch(
        scim,
        &user(&ann),
        json!([{"op": "Remove", "path": manager}]),
        200,
    )
    .await;
    assert_eq!(target.manager("ann").await, None);
    // A manager not provisioned yet: retryable, nothing written.
    patch(
        scim,
        &user(&ann),
        json!([{"op": "Add", "path": manager, "value": "not-provisioned-yet"}]),
        503,
    )
    .await;
    assert_eq!(target.manager("ann").await, None);

    // E-mail addresses, one value at a time.
    patch(
        scim,
        &user(&ann),
        json!([{"op": "add", "path": "emails", "value": [{"type": "home", "value": "ann@home.example"}]}]),
        200,
    )
    .await;
    assert_eq!(
        target.emails("ann").await,
        names(&["ann@work.example", "ann@home.example"])
    );
    patch(
        scim,
        &user(&ann),
        json!([{"op": "remove", "path": "emails[value eq \"ann@home.example\"]"}]),
        200,
    )
    .await;
    assert_eq!(target.emails("ann").await, names(&["ann@work.example"]));

    // A new password, by path and as Entra sends it (no path): only the newest works.
    patch(
        scim,
        &user(&ann),
        json!([{"op": "replace", "path": "password", "value": "Second-Pa55!"}]),
        200,
    )
    .await;
    assert!(target.password_is("ann", "Second-Pa55!").await);
    assert!(!target.password_is("ann", "First-Pa55!").await);
    let body = patch(
        scim,
        &user(&ann),
        json!([{"op": "Replace", "value": {"password": "Third-Pa55!"}}]),
        200,
    )
    .await;
    assert!(body.get("password").is_none(), "{body}");
    assert!(target.password_is("ann", "Third-Pa55!").await);
    assert!(!target.password_is("ann", "Second-Pa55!").await);

    // A group and its members in every shape Entra sends.
    let (status, created) = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "Eng", "members": [{"value": ann}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{created}");
    let eng = created["id"].as_str().unwrap().to_string();
    let group = format!("/Groups/{eng}");
    assert_eq!(target.members("Eng").await, names(&["ann"]));
    patch(
        scim,
        &group,
        json!([{"op": "Add", "path": "members", "value": [{"value": ben}, {"value": cat}]}]),
        204,
    )
    .await;
    assert_eq!(target.members("Eng").await, names(&["ann", "ben", "cat"]));
    patch(
        scim,
        &group,
        json!([{"op": "Remove", "path": "members", "value": [{"value": ann}]}]),
        204,
    )
    .await;
    assert_eq!(target.members("Eng").await, names(&["ben", "cat"]));
    patch(
        scim,
        &group,
        json!([{"op": "remove", "path": format!("members[value eq \"{cat}\"]")}]),
        204,
    )
    .await;
    assert_eq!(target.members("Eng").await, names(&["ben"]));
    patch(
        scim,
        &group,
        json!([{"op": "Replace", "path": "members", "value": [{"value": ann}, {"value": cat}]}]),
        204,
    )
    .await;
    assert_eq!(target.members("Eng").await, names(&["ann", "cat"]));

    // A group in a group, where the target nests them; refused where it does not.
    let (status, all) = scim
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "All", "members": [{"value": ben}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{all}");
    let all = all["id"].as_str().unwrap().to_string();
    let add_eng = json!([{"op": "Add", "path": "members", "value": [{"value": eng}]}]);
    if target.nests_groups() {
        patch(scim, &format!("/Groups/{all}"), add_eng, 204).await;
        assert_eq!(target.members("All").await, names(&["ben", "eng"]));
        let (_, got) = scim.get(&format!("/Groups/{all}")).await.unwrap();
        let eng_member = got["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["value"] == eng.as_str())
            .cloned();
        assert_eq!(
            eng_member.map(|m| m["type"].clone()),
            Some(json!("Group")),
            "{got}"
        );
        // Ann is in All through Eng.
        let (_, got) = scim.get(&user(&ann)).await.unwrap();
        let kinds: Vec<(String, String)> = got["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["value"].as_str().unwrap().to_string(),
                    g["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(kinds.contains(&(eng.clone(), "direct".into())), "{got}");
        assert!(kinds.contains(&(all.clone(), "indirect".into())), "{got}");
    } else {
        let body = patch(scim, &format!("/Groups/{all}"), add_eng, 400).await;
        assert_eq!(body["scimType"], "invalidValue", "{body}");
        assert_eq!(target.members("All").await, names(&["ben"]));
    }

    // A rename: the SCIM id stays; the group and ben's manager reference follow.
    patch(
        scim,
        &user(&ben),
        json!([{"op": "Add", "path": manager, "value": ann}]),
        200,
    )
    .await;
    assert_eq!(target.manager("ben").await.as_deref(), Some("ann"));
    let body = patch(
        scim,
        &user(&ann),
        json!([{"op": "Replace", "path": "userName", "value": "anna"}]),
        200,
    )
    .await;
    assert_eq!(body["id"], ann.as_str(), "the id stays: {body}");
    assert_eq!(body["userName"], "anna");
    assert!(target.has_user("anna").await && !target.has_user("ann").await);
    settles("Eng's members", names(&["anna", "cat"]), || {
        target.members("Eng")
    })
    .await;
    settles("ben's manager", Some("anna".to_string()), || {
        target.manager("ben")
    })
    .await;
    assert!(target.password_is("anna", "Third-Pa55!").await);
    let (status, got) = scim.get(&user(&ann)).await.unwrap();
    assert_eq!(
        (status, got["userName"].clone()),
        (200, json!("anna")),
        "{got}"
    );
    let (_, got) = scim.get(&group).await.unwrap();
    let listed: Vec<&str> = got["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&ann.as_str()),
        "the renamed member keeps its id: {got}"
    );
    // The renamed user's old name is free again: a new "ann" is another user.
    let new_ann = create_user(scim, "ann", "New-Ann-Pa55!").await;
    assert_ne!(new_ann, ann);
    let (_, got) = scim.get(&user(&ann)).await.unwrap();
    assert_eq!(got["userName"], "anna", "{got}");
    let (_, got) = scim.get(&user(&new_ann)).await.unwrap();
    assert_eq!(got["userName"], "ann", "{got}");

    // Deletes: a deleted user leaves its groups; deleted groups are gone.
    let (status, _) = scim.delete(&user(&cat)).await.unwrap();
    assert_eq!(status, 204);
    assert!(!target.has_user("cat").await);
    settles("Eng's members", names(&["anna"]), || target.members("Eng")).await;
    for id in [&all, &eng] {
        let (status, _) = scim.delete(&format!("/Groups/{id}")).await.unwrap();
        assert_eq!(status, 204);
        assert_eq!(scim.get(&format!("/Groups/{id}")).await.unwrap().0, 404);
    }
    let (_, got) = scim.get(&user(&ann)).await.unwrap();
    assert!(got.get("groups").is_none(), "{got}");
}
