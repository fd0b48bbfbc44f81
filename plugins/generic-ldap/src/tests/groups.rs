//! Groups and managers: reference values that are user anchors in the contract and user
//! DNs in the directory. Every membership change is checked with ldapsearch, and in the
//! accesslog: a member added or removed is one `member` value written, never the list.

use std::time::Instant;

use ferry_connector::Session;
use ferry_connector::testing;
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Change, DeltaEntry, ErrorKind, Object, ObjectRef,
    RenameChange, SettingValue, UpdateChange, Value, ValueType,
};

use ferry_test_support::TempSlapd;

use super::{Fixture, add, attribute, export_one, full_import_watermark, texts, update};
use crate::cursor::{ImportCursor, Phase};
use crate::session::LdapSession;

pub(super) fn groups_on() -> (&'static str, SettingValue) {
    ("groups", SettingValue::Boolean(true))
}

fn placeholder(fixture: &Fixture) -> (&'static str, SettingValue) {
    (
        "group-placeholder-member",
        SettingValue::String(format!("cn=nobody,{}", fixture.ou)),
    )
}

/// References to these anchors.
pub(super) fn references(name: &str, anchors: &[&str]) -> Attribute {
    Attribute {
        name: name.to_owned(),
        values: anchors
            .iter()
            .map(|anchor| Value::Reference((*anchor).to_owned()))
            .collect(),
    }
}

/// The anchors an object's reference attribute holds, sorted.
pub(super) fn anchors(object: &Object, name: &str) -> Vec<String> {
    let mut found: Vec<String> = object
        .attribute(name)
        .map(|attribute| {
            attribute
                .values
                .iter()
                .map(|value| match value {
                    Value::Reference(anchor) => anchor.clone(),
                    other => panic!("'{name}' holds {other:?}, not a reference"),
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

pub(super) fn sorted(values: &[&str]) -> Vec<String> {
    let mut values: Vec<String> = values.iter().map(|value| value.to_string()).collect();
    values.sort();
    values
}

/// DNs lower-cased and sorted, as `member_dns` gives them.
pub(super) fn lower(dns: &[&str]) -> Vec<String> {
    let mut dns: Vec<String> = dns.iter().map(|dn| dn.to_lowercase()).collect();
    dns.sort();
    dns
}

pub(super) fn group(anchor: &str) -> ObjectRef {
    ObjectRef {
        object_type: "group".into(),
        anchor: anchor.into(),
    }
}

pub(super) fn add_group(cn: &str, members: &[&str]) -> Change {
    let mut attributes = vec![attribute("cn", &[cn])];
    if !members.is_empty() {
        attributes.push(references("member", members));
    }
    Change::Add(AddChange {
        object_type: "group".into(),
        attributes,
    })
}

pub(super) fn update_group(anchor: &str, changes: Vec<AttributeChange>) -> Change {
    Change::Update(UpdateChange {
        target: group(anchor),
        changes,
    })
}

pub(super) fn add_members(anchor: &str, members: &[&str]) -> Change {
    update_group(
        anchor,
        vec![AttributeChange::AddValues(references("member", members))],
    )
}

pub(super) fn remove_members(anchor: &str, members: &[&str]) -> Change {
    update_group(
        anchor,
        vec![AttributeChange::RemoveValues(references("member", members))],
    )
}

/// Adds a user through the connector; its anchor and DN.
pub(super) fn add_user(connector: &LdapSession, fixture: &Fixture, uid: &str) -> (String, String) {
    let user = export_one(
        connector,
        add(&[("uid", &[uid]), ("cn", &[uid]), ("sn", &[uid])]),
    )
    .unwrap()
    .unwrap();
    (user.anchor, format!("uid={uid},{}", fixture.ou))
}

/// The member DNs of the entry at `dn`, lower-cased and sorted.
pub(super) fn member_dns(fixture: &Fixture, dn: &str) -> Vec<String> {
    let mut members: Vec<String> = fixture
        .read(dn, "member")
        .expect("the group exists")
        .into_iter()
        .map(|member| member.to_lowercase())
        .collect();
    members.sort();
    members
}

/// The `member` modifications of the last modify of `dn` the accesslog recorded, e.g.
/// `["member:+ uid=a,…"]`.
pub(super) fn last_member_modification(fixture: &Fixture, dn: &str) -> Vec<String> {
    let ldif = fixture.slapd.ldapsearch(
        "cn=accesslog",
        &format!("(&(reqType=modify)(reqDN={dn}))"),
        &["reqStart", "reqMod"],
    );
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for line in ldif.lines() {
        if let Some(start) = line.strip_prefix("reqStart: ") {
            entries.push((start.to_owned(), Vec::new()));
        } else if let Some(modification) = line.strip_prefix("reqMod: ")
            && modification.to_lowercase().starts_with("member:")
        {
            entries
                .last_mut()
                .expect("reqStart comes first")
                .1
                .push(modification.to_owned());
        }
    }
    entries.sort();
    entries.pop().map(|(_, mods)| mods).unwrap_or_default()
}

#[test]
fn groups_are_a_second_type_with_a_member_reference() {
    let fixture = Fixture::new();
    let plain = fixture.connector().schema().unwrap();
    assert_eq!(plain.object_types.len(), 1, "no groups unless configured");

    let schema = fixture.open(&[groups_on()]).schema().unwrap();
    let names: Vec<&str> = schema
        .object_types
        .iter()
        .map(|object_type| object_type.name.as_str())
        .collect();
    assert_eq!(names, ["user", "group"]);
    let group = &schema.object_types[1];
    assert_eq!(group.anchor_attributes, ["entryUUID"]);
    let find = |name: &str| {
        group
            .attributes
            .iter()
            .find(|attribute| attribute.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let member = find("member");
    assert_eq!(member.value_type, ValueType::Reference);
    assert_eq!(member.reference_types, ["user"]);
    assert!(member.multi_valued && !member.required && !member.read_only);
    assert!(find("cn").required);
    assert_eq!(find("description").value_type, ValueType::String);
    assert!(find("dn").read_only && find("entryUUID").read_only);

    let unique = fixture
        .open(&[
            groups_on(),
            (
                "group-object-class",
                SettingValue::String("groupOfUniqueNames".into()),
            ),
        ])
        .schema()
        .unwrap();
    assert!(
        unique.object_types[1]
            .attributes
            .iter()
            .any(|attribute| attribute.name == "uniqueMember"
                && attribute.value_type == ValueType::Reference)
    );

    for (class, member, reason) in [
        (
            "groupOfNames",
            "uniqueMember",
            "not an attribute of the group object class",
        ),
        ("organizationalUnit", "description", "does not hold DNs"),
        ("noSuchClass", "member", "'group-object-class'"),
    ] {
        let wrong = fixture
            .open(&[
                groups_on(),
                ("group-object-class", SettingValue::String(class.into())),
                (
                    "group-member-attribute",
                    SettingValue::String(member.into()),
                ),
            ])
            .schema()
            .unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::InvalidInput);
        assert!(
            wrong.message.contains(reason),
            "{class}/{member}: {wrong:?}"
        );
    }
    let missing = fixture
        .open(&[
            groups_on(),
            (
                "group-base-dn",
                SettingValue::String(format!("ou=missing,{}", fixture.ou)),
            ),
        ])
        .test_connection()
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(missing.message.contains("group-base-dn"), "{missing:?}");
}

#[test]
fn members_change_one_value_at_a_time_and_idempotently() {
    let fixture = Fixture::new();
    let connector = fixture.open(&[groups_on()]);
    let (alice, alice_dn) = add_user(&connector, &fixture, "alice");
    let (bob, bob_dn) = add_user(&connector, &fixture, "bob");
    let (carol, carol_dn) = add_user(&connector, &fixture, "carol");

    // Add with a member: the DN is written, the anchor comes back.
    let created = export_one(&connector, add_group("Engineers", &[&alice]))
        .unwrap()
        .unwrap();
    assert_eq!(created.object_type, "group");
    let dn = format!("cn=Engineers,{}", fixture.ou);
    assert_eq!(texts(&created, "dn"), [dn.as_str()]);
    assert_eq!(
        created.anchor,
        fixture.read(&dn, "entryUUID").unwrap().remove(0)
    );
    assert_eq!(anchors(&created, "member"), [alice.as_str()]);
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn]));
    let gid = created.anchor.clone();

    // One member added: one value written, nothing returned.
    assert_eq!(export_one(&connector, add_members(&gid, &[&bob])), Ok(None));
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn, &bob_dn]));
    assert_eq!(
        last_member_modification(&fixture, &dn),
        [format!("member:+ {bob_dn}")]
    );
    // Again: no error, no change.
    assert_eq!(export_one(&connector, add_members(&gid, &[&bob])), Ok(None));
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn, &bob_dn]));
    // Several, one of them there already.
    assert_eq!(
        export_one(&connector, add_members(&gid, &[&bob, &carol])),
        Ok(None)
    );
    assert_eq!(
        member_dns(&fixture, &dn),
        lower(&[&alice_dn, &bob_dn, &carol_dn])
    );

    // One member removed: one value deleted; again, no error.
    assert_eq!(
        export_one(&connector, remove_members(&gid, &[&alice])),
        Ok(None)
    );
    assert_eq!(member_dns(&fixture, &dn), lower(&[&bob_dn, &carol_dn]));
    assert_eq!(
        last_member_modification(&fixture, &dn),
        [format!("member:- {alice_dn}")]
    );
    assert_eq!(
        export_one(&connector, remove_members(&gid, &[&alice])),
        Ok(None)
    );
    assert_eq!(member_dns(&fixture, &dn), lower(&[&bob_dn, &carol_dn]));

    // A member that is no user is refused, and changes nothing.
    let unknown = export_one(
        &connector,
        add_members(&gid, &["00000000-0000-0000-0000-000000000000"]),
    )
    .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::InvalidInput, "{unknown:?}");
    assert_eq!(unknown.attribute.as_deref(), Some("member"));
    assert_eq!(member_dns(&fixture, &dn), lower(&[&bob_dn, &carol_dn]));

    // Replace the list.
    let replaced = export_one(
        &connector,
        update_group(
            &gid,
            vec![AttributeChange::Replace(references("member", &[&alice]))],
        ),
    );
    assert_eq!(replaced, Ok(None));
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn]));

    // The last member cannot go: groupOfNames needs one, and no placeholder is set.
    let last = export_one(&connector, remove_members(&gid, &[&alice])).unwrap_err();
    assert_eq!(last.kind, ErrorKind::InvalidInput, "{last:?}");
    assert!(
        last.message.contains("group-placeholder-member"),
        "{last:?}"
    );
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn]));
    let empty = export_one(&connector, add_group("Empty", &[])).unwrap_err();
    assert_eq!(empty.kind, ErrorKind::InvalidInput, "{empty:?}");

    // Plain attributes and a rename by cn: the group comes back, members and all.
    let changed = export_one(
        &connector,
        update_group(
            &gid,
            vec![
                AttributeChange::Replace(attribute("cn", &["Platform"])),
                AttributeChange::Replace(attribute("description", &["Builds things"])),
                AttributeChange::AddValues(references("member", &[&bob])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    let renamed_dn = format!("cn=Platform,{}", fixture.ou);
    assert_eq!(changed.anchor, gid);
    assert_eq!(texts(&changed, "dn"), [renamed_dn.as_str()]);
    assert_eq!(texts(&changed, "description"), ["Builds things"]);
    assert_eq!(anchors(&changed, "member"), sorted(&[&alice, &bob]));
    assert!(fixture.slapd.entry(&dn).is_none());
    assert_eq!(
        member_dns(&fixture, &renamed_dn),
        lower(&[&alice_dn, &bob_dn])
    );

    // Rename by a rename change; read; delete.
    let moved = export_one(
        &connector,
        Change::Rename(RenameChange {
            target: group(&gid),
            new_name: "cn=Moved".into(),
        }),
    )
    .unwrap()
    .unwrap();
    let moved_dn = format!("cn=Moved,{}", fixture.ou);
    assert_eq!(texts(&moved, "dn"), [moved_dn.as_str()]);
    let read = connector.read(&group(&gid)).unwrap().unwrap();
    assert_eq!(read.object_type, "group");
    assert_eq!(anchors(&read, "member"), sorted(&[&alice, &bob]));
    assert_eq!(
        connector.read(&super::user(&gid)).unwrap(),
        None,
        "a group is no user"
    );
    assert_eq!(
        export_one(&connector, Change::Delete(group(&gid))),
        Ok(None)
    );
    assert!(fixture.slapd.entry(&moved_dn).is_none());
    assert_eq!(connector.read(&group(&gid)).unwrap(), None);
    let gone = export_one(&connector, Change::Delete(group(&gid))).unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);

    // Without groups configured, the type does not exist.
    let plain = fixture.connector();
    let refused = export_one(&plain, add_group("X", &[&alice])).unwrap_err();
    assert!(refused.message.contains("groups = true"), "{refused:?}");
}

#[test]
fn the_placeholder_keeps_an_empty_group_and_never_shows() {
    let fixture = Fixture::new();
    let connector = fixture.open(&[groups_on(), placeholder(&fixture)]);
    let nobody = format!("cn=nobody,{}", fixture.ou).to_lowercase();
    let (alice, alice_dn) = add_user(&connector, &fixture, "alice");

    let created = export_one(&connector, add_group("Empty", &[]))
        .unwrap()
        .unwrap();
    let dn = format!("cn=Empty,{}", fixture.ou);
    assert!(anchors(&created, "member").is_empty());
    assert_eq!(member_dns(&fixture, &dn), [nobody.as_str()]);

    assert_eq!(
        export_one(&connector, add_members(&created.anchor, &[&alice])),
        Ok(None)
    );
    assert_eq!(member_dns(&fixture, &dn), [alice_dn.to_lowercase()]);
    assert_eq!(
        export_one(&connector, remove_members(&created.anchor, &[&alice])),
        Ok(None)
    );
    assert_eq!(member_dns(&fixture, &dn), [nobody.as_str()]);
    export_one(&connector, add_members(&created.anchor, &[&alice])).unwrap();
    assert_eq!(
        export_one(
            &connector,
            update_group(
                &created.anchor,
                vec![AttributeChange::Clear("member".into())]
            )
        ),
        Ok(None)
    );
    assert_eq!(member_dns(&fixture, &dn), [nobody]);
    let read = connector.read(&group(&created.anchor)).unwrap().unwrap();
    assert!(anchors(&read, "member").is_empty(), "{read:?}");
}

#[test]
fn imports_translate_member_dns_and_deltas_see_direct_membership_changes() {
    let fixture = Fixture::new();
    let u1 = fixture.ldapadd_user("u1");
    let u2 = fixture.ldapadd_user("u2");
    let uuid = |dn: &str| fixture.read(dn, "entryUUID").unwrap().remove(0);
    let (u1_uuid, u2_uuid) = (uuid(&u1), uuid(&u2));
    let staff = format!("cn=Staff,{}", fixture.ou);
    // A member that is no user (a nested group's DN) is left out.
    fixture.slapd.ldapadd(&format!(
        "dn: {staff}\nobjectClass: groupOfNames\ncn: Staff\nmember: {u1}\n\
         member: cn=elsewhere,{}\n",
        fixture.ou
    ));
    let staff_uuid = uuid(&staff);

    let connector = fixture.open(&[groups_on()]);
    // Users first, then groups, one object a page.
    let mut cursor = None;
    let mut phases = Vec::new();
    let mut objects = Vec::new();
    loop {
        let page = connector.full_import(cursor.as_deref(), 1).unwrap();
        objects.extend(page.objects);
        match page.next_cursor {
            Some(next) => {
                phases.push(ImportCursor::decode(&next).unwrap().phase);
                cursor = Some(next);
            }
            None => {
                assert!(page.watermark.is_some());
                break;
            }
        }
    }
    assert!(phases.contains(&Phase::Users) && phases.contains(&Phase::Groups));
    let types: Vec<&str> = objects.iter().map(|o| o.object_type.as_str()).collect();
    assert_eq!(types, ["user", "user", "group"]);
    let imported = &objects[2];
    assert_eq!(imported.anchor, staff_uuid);
    assert_eq!(anchors(imported, "member"), [u1_uuid.as_str()]);

    // A member added with ldapmodify: the group comes back with all its members.
    let watermark = full_import_watermark(&connector);
    fixture.slapd.ldapmodify(&format!(
        "dn: {staff}\nchangetype: modify\nadd: member\nmember: {u2}\n"
    ));
    let (entries, _) = testing::delta_all(&connector, &watermark, 100);
    let groups: Vec<&Object> = entries
        .iter()
        .filter_map(|entry| match entry {
            DeltaEntry::Upsert(object) if object.object_type == "group" => Some(object),
            _ => None,
        })
        .collect();
    assert_eq!(groups.len(), 1, "{entries:?}");
    assert_eq!(groups[0].anchor, staff_uuid);
    assert_eq!(anchors(groups[0], "member"), sorted(&[&u1_uuid, &u2_uuid]));

    // A user added after the index was built is found as a member too; a deleted
    // group is a delete.
    let u3 = fixture.ldapadd_user("u3");
    let u3_uuid = uuid(&u3);
    fixture.slapd.ldapmodify(&format!(
        "dn: {staff}\nchangetype: modify\nadd: member\nmember: {u3}\n"
    ));
    let read = connector.read(&group(&staff_uuid)).unwrap().unwrap();
    assert_eq!(
        anchors(&read, "member"),
        sorted(&[&u1_uuid, &u2_uuid, &u3_uuid])
    );
    let watermark = full_import_watermark(&connector);
    fixture
        .slapd
        .ldapmodify(&format!("dn: {staff}\nchangetype: delete\n"));
    let (entries, _) = testing::delta_all(&connector, &watermark, 100);
    assert!(
        entries.iter().any(|entry| matches!(entry,
            DeltaEntry::Delete(target) if target.object_type == "group"
                && target.anchor == staff_uuid)),
        "{entries:?}"
    );
}

#[test]
fn dn_anchors_are_the_member_values_themselves() {
    let fixture = Fixture::new();
    let connector = fixture.open(&[groups_on(), ("anchor", SettingValue::String("dn".into()))]);
    let (alice, alice_dn) = add_user(&connector, &fixture, "alice");
    assert_eq!(alice.to_lowercase(), alice_dn.to_lowercase());
    let created = export_one(&connector, add_group("ByDn", &[&alice]))
        .unwrap()
        .unwrap();
    assert_eq!(anchors(&created, "member"), [alice.as_str()]);
    let (bob, bob_dn) = add_user(&connector, &fixture, "bob");
    assert_eq!(
        export_one(&connector, add_members(&created.anchor, &[&bob])),
        Ok(None)
    );
    let dn = format!("cn=ByDn,{}", fixture.ou);
    assert_eq!(member_dns(&fixture, &dn), lower(&[&alice_dn, &bob_dn]));
}

#[test]
fn manager_is_a_reference_set_changed_and_cleared() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    let (alice, alice_dn) = add_user(&connector, &fixture, "alice");
    let (carol, carol_dn) = add_user(&connector, &fixture, "carol");
    let bob = export_one(
        &connector,
        Change::Add(AddChange {
            object_type: "user".into(),
            attributes: vec![
                attribute("uid", &["bob"]),
                attribute("cn", &["bob"]),
                attribute("sn", &["bob"]),
                references("manager", &[&alice]),
            ],
        }),
    )
    .unwrap()
    .unwrap();
    let bob_dn = format!("uid=bob,{}", fixture.ou);
    assert_eq!(anchors(&bob, "manager"), [alice.as_str()]);
    assert_eq!(fixture.read(&bob_dn, "manager").unwrap(), [alice_dn]);

    let changed = export_one(
        &connector,
        update(
            &bob.anchor,
            vec![AttributeChange::Replace(references("manager", &[&carol]))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(anchors(&changed, "manager"), [carol.as_str()]);
    assert_eq!(
        fixture.read(&bob_dn, "manager").unwrap(),
        [carol_dn.as_str()]
    );
    let (objects, _) = testing::import_all(&connector, 10);
    let imported = objects.iter().find(|o| o.anchor == bob.anchor).unwrap();
    assert_eq!(anchors(imported, "manager"), [carol.as_str()]);

    let two = export_one(
        &connector,
        update(
            &bob.anchor,
            vec![AttributeChange::Replace(references(
                "manager",
                &[&alice, &carol],
            ))],
        ),
    )
    .unwrap_err();
    assert_eq!(two.kind, ErrorKind::InvalidInput, "single-valued: {two:?}");

    let cleared = export_one(
        &connector,
        update(&bob.anchor, vec![AttributeChange::Clear("manager".into())]),
    )
    .unwrap()
    .unwrap();
    assert!(anchors(&cleared, "manager").is_empty());
    assert!(fixture.read(&bob_dn, "manager").unwrap().is_empty());
}

/// How many members the large group has.
const LARGE: usize = 2_000;

/// On a server of its own: its thousands of writes in the accesslog would push the
/// shared server's recent log past slapd's size limit, which the full imports of the
/// other tests search for their watermark. This one imports without a delta source.
#[test]
fn a_large_group_changes_by_one_member() {
    // Stopped by its lifeline when the test process ends.
    let fixture = Fixture::on(Box::leak(Box::new(TempSlapd::start())));
    let mut ldif = String::new();
    for index in 0..LARGE {
        ldif.push_str(&format!(
            "dn: uid=m{index},{ou}\nobjectClass: inetOrgPerson\nuid: m{index}\ncn: m{index}\n\
             sn: m\n\n",
            ou = fixture.ou
        ));
    }
    let dn = format!("cn=Everyone,{}", fixture.ou);
    ldif.push_str(&format!(
        "dn: {dn}\nobjectClass: groupOfNames\ncn: Everyone\n"
    ));
    for index in 0..LARGE {
        ldif.push_str(&format!("member: uid=m{index},{}\n", fixture.ou));
    }
    let started = Instant::now();
    fixture.slapd.ldapadd(&ldif);
    eprintln!(
        "ldapadd of {LARGE} users and a group of {LARGE}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let connector = fixture.open(&[groups_on(), ("delta", SettingValue::String("none".into()))]);
    let started = Instant::now();
    let (objects, _) = testing::import_all(&connector, 500);
    let everyone = objects
        .iter()
        .find(|object| object.object_type == "group")
        .unwrap();
    assert_eq!(everyone.attribute("member").unwrap().values.len(), LARGE);
    eprintln!(
        "full import of {} objects, the group's {LARGE} member DNs translated: {:.0} ms",
        objects.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let gid = everyone.anchor.clone();

    let (newcomer, newcomer_dn) = add_user(&connector, &fixture, "newcomer");
    let started = Instant::now();
    assert_eq!(
        export_one(&connector, add_members(&gid, &[&newcomer])),
        Ok(None)
    );
    let added = started.elapsed();
    assert_eq!(fixture.read(&dn, "member").unwrap().len(), LARGE + 1);
    assert_eq!(
        last_member_modification(&fixture, &dn),
        [format!("member:+ {newcomer_dn}")]
    );
    let started = Instant::now();
    assert_eq!(
        export_one(&connector, remove_members(&gid, &[&newcomer])),
        Ok(None)
    );
    let removed = started.elapsed();
    assert_eq!(fixture.read(&dn, "member").unwrap().len(), LARGE);
    assert_eq!(
        last_member_modification(&fixture, &dn),
        [format!("member:- {newcomer_dn}")]
    );
    eprintln!(
        "group of {LARGE}: one member added in {:.1} ms, removed in {:.1} ms",
        added.as_secs_f64() * 1000.0,
        removed.as_secs_f64() * 1000.0
    );
}
