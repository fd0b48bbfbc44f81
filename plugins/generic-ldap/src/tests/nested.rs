//! Nested groups (nested-groups = true): a group's member attribute refers to users and
//! groups, a member that is a group is written as its DN and read as its anchor, added
//! and removed value by value, and reported by imports and accesslog deltas.

use ferry_connector::Session;
use ferry_connector::testing;
use ferry_connector::types::{AttributeChange, DeltaEntry, ErrorKind, Object, SettingValue};

use super::groups::{
    add_group, add_members, add_user, anchors, group, groups_on, last_member_modification, lower,
    member_dns, references, remove_members, sorted,
};
use super::{Fixture, export_one, full_import_watermark, update};
use crate::session::LdapSession;

fn nested_on() -> (&'static str, SettingValue) {
    ("nested-groups", SettingValue::Boolean(true))
}

/// Adds the group `cn` with `members`; its anchor and DN.
fn add_nested(
    connector: &LdapSession,
    fixture: &Fixture,
    cn: &str,
    members: &[&str],
) -> (String, String) {
    let created = export_one(connector, add_group(cn, members))
        .unwrap()
        .unwrap();
    (created.anchor, format!("cn={cn},{}", fixture.ou))
}

#[test]
fn the_member_attribute_refers_to_users_and_groups_only_when_asked() {
    let fixture = Fixture::new();
    let member_types = |connector: LdapSession| {
        let schema = connector.schema().unwrap();
        schema.object_types[1]
            .attributes
            .iter()
            .find(|attribute| attribute.name == "member")
            .unwrap()
            .reference_types
            .clone()
    };
    assert_eq!(member_types(fixture.open(&[groups_on()])), ["user"]);
    assert_eq!(
        member_types(fixture.open(&[groups_on(), nested_on()])),
        ["user", "group"]
    );
    let schema = fixture.open(&[groups_on(), nested_on()]).schema().unwrap();
    let manager = schema.object_types[0]
        .attributes
        .iter()
        .find(|attribute| attribute.name == "manager")
        .unwrap();
    assert_eq!(manager.reference_types, ["user"], "a manager is a user");
}

#[test]
fn groups_are_members_written_as_dns_and_read_as_anchors() {
    let fixture = Fixture::new();
    let connector = fixture.open(&[groups_on(), nested_on()]);
    let (ann, ann_dn) = add_user(&connector, &fixture, "ann");
    let (inner, inner_dn) = add_nested(&connector, &fixture, "Inner", &[&ann]);
    let (other, other_dn) = add_nested(&connector, &fixture, "Other", &[&ann]);

    // Added with a group among its members.
    let outer = export_one(&connector, add_group("Outer", &[&ann, &inner]))
        .unwrap()
        .unwrap();
    let outer_dn = format!("cn=Outer,{}", fixture.ou);
    assert_eq!(anchors(&outer, "member"), sorted(&[&ann, &inner]));
    assert_eq!(
        member_dns(&fixture, &outer_dn),
        lower(&[&ann_dn, &inner_dn])
    );

    // A group added and removed as a member: one value each, idempotently.
    assert_eq!(
        export_one(&connector, add_members(&outer.anchor, &[&other])),
        Ok(None)
    );
    assert_eq!(
        last_member_modification(&fixture, &outer_dn),
        [format!("member:+ {other_dn}")]
    );
    assert_eq!(
        export_one(&connector, add_members(&outer.anchor, &[&other])),
        Ok(None)
    );
    assert_eq!(
        export_one(&connector, remove_members(&outer.anchor, &[&inner])),
        Ok(None)
    );
    assert_eq!(
        last_member_modification(&fixture, &outer_dn),
        [format!("member:- {inner_dn}")]
    );
    assert_eq!(
        member_dns(&fixture, &outer_dn),
        lower(&[&ann_dn, &other_dn])
    );
    let read = connector.read(&group(&outer.anchor)).unwrap().unwrap();
    assert_eq!(anchors(&read, "member"), sorted(&[&ann, &other]));

    // A manager is still a user: a group's anchor is refused there.
    let (bob, _) = add_user(&connector, &fixture, "bob");
    let refused = export_one(
        &connector,
        update(
            &bob,
            vec![AttributeChange::Replace(references("manager", &[&inner]))],
        ),
    )
    .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");

    // Without nested-groups, a group is no member: refused on write, left out on read.
    let flat = fixture.open(&[groups_on()]);
    let refused = export_one(&flat, add_members(&outer.anchor, &[&inner])).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");
    assert_eq!(refused.attribute.as_deref(), Some("member"));
    let read = flat.read(&group(&outer.anchor)).unwrap().unwrap();
    assert_eq!(anchors(&read, "member"), [ann.as_str()]);
}

#[test]
fn imports_and_accesslog_deltas_report_group_members() {
    let fixture = Fixture::new();
    let u1 = fixture.ldapadd_user("u1");
    let uuid = |dn: &str| fixture.read(dn, "entryUUID").unwrap().remove(0);
    let inner = format!("cn=Inner,{}", fixture.ou);
    let outer = format!("cn=Outer,{}", fixture.ou);
    fixture.slapd.ldapadd(&format!(
        "dn: {inner}\nobjectClass: groupOfNames\ncn: Inner\nmember: {u1}\n\n\
         dn: {outer}\nobjectClass: groupOfNames\ncn: Outer\nmember: {inner}\n"
    ));
    let (u1_uuid, inner_uuid, outer_uuid) = (uuid(&u1), uuid(&inner), uuid(&outer));
    let connector = fixture.open(&[groups_on(), nested_on()]);

    let (objects, _) = testing::import_all(&connector, 1);
    let imported = |anchor: &str| -> Object {
        objects
            .iter()
            .find(|object| object.anchor == anchor)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        anchors(&imported(&outer_uuid), "member"),
        [inner_uuid.as_str()]
    );
    assert_eq!(
        anchors(&imported(&inner_uuid), "member"),
        [u1_uuid.as_str()]
    );

    // A group made and nested directly in the directory comes back through the log.
    let watermark = full_import_watermark(&connector);
    let late = format!("cn=Late,{}", fixture.ou);
    fixture.slapd.ldapadd(&format!(
        "dn: {late}\nobjectClass: groupOfNames\ncn: Late\nmember: {u1}\n"
    ));
    fixture.slapd.ldapmodify(&format!(
        "dn: {outer}\nchangetype: modify\nadd: member\nmember: {late}\n"
    ));
    let late_uuid = uuid(&late);
    let (entries, _) = testing::delta_all(&connector, &watermark, 100);
    let outer_now = entries
        .iter()
        .find_map(|entry| match entry {
            DeltaEntry::Upsert(object) if object.anchor == outer_uuid => Some(object),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert_eq!(
        anchors(outer_now, "member"),
        sorted(&[&inner_uuid, &late_uuid])
    );
}
