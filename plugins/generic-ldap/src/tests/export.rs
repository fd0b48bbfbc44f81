//! Adds, modifies, renames and deletes, checked with ldapsearch; error kinds; hostile
//! values landing literally.

use super::{Fixture, add, attribute, export_one, texts, update, user};
use crate::escape::{dn_value, filter_value};
use crate::session::LdapSession;
use ferry_connector::Session;
use ferry_connector::types::{AttributeChange, Change, ErrorKind, Object, RenameChange, Value};

fn rename(anchor: &str, new_name: &str) -> Change {
    Change::Rename(RenameChange {
        target: user(anchor),
        new_name: new_name.into(),
    })
}

fn add_alice(connector: &LdapSession) -> Object {
    export_one(
        connector,
        add(&[
            ("uid", &["alice"]),
            ("cn", &["Alice Liddell"]),
            ("sn", &["Liddell"]),
            ("mail", &["alice@example.org"]),
            ("userPassword", &["initial-Secret1"]),
        ]),
    )
    .unwrap()
    .unwrap()
}

#[test]
fn adds_modifies_renames_and_deletes() {
    let fixture = Fixture::new();
    let connector = fixture.connector();

    let alice = add_alice(&connector);
    let dn = format!("uid=alice,{}", fixture.ou);
    assert_eq!(texts(&alice, "dn"), [dn.as_str()]);
    let uuid = fixture.read(&dn, "entryUUID").unwrap().remove(0);
    assert_eq!(alice.anchor, uuid, "the anchor is the entryUUID");
    assert_eq!(fixture.read(&dn, "objectClass").unwrap(), ["inetOrgPerson"]);
    assert_eq!(fixture.read(&dn, "mail").unwrap(), ["alice@example.org"]);
    assert_eq!(
        fixture.read(&dn, "userPassword").unwrap(),
        ["initial-Secret1"]
    );
    assert!(texts(&alice, "userPassword").is_empty(), "never read back");

    // Replace, add values, remove values, clear (also of an absent attribute).
    let changed = export_one(
        &connector,
        update(
            &uuid,
            vec![
                AttributeChange::Replace(attribute("mail", &["alice@wonderland.example"])),
                AttributeChange::AddValues(attribute(
                    "telephoneNumber",
                    &["+1 555 0100", "+1 555 0101"],
                )),
                AttributeChange::RemoveValues(attribute("telephoneNumber", &["+1 555 0100"])),
                AttributeChange::Replace(attribute("displayName", &["Alice"])),
                AttributeChange::Clear("description".into()),
                AttributeChange::AddValues(attribute("title", &[])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(changed.anchor, uuid);
    assert_eq!(texts(&changed, "mail"), ["alice@wonderland.example"]);
    assert_eq!(
        fixture.read(&dn, "mail").unwrap(),
        ["alice@wonderland.example"]
    );
    assert_eq!(
        fixture.read(&dn, "telephoneNumber").unwrap(),
        ["+1 555 0101"]
    );
    let cleared = export_one(
        &connector,
        update(&uuid, vec![AttributeChange::Clear("displayName".into())]),
    )
    .unwrap()
    .unwrap();
    assert!(texts(&cleared, "displayName").is_empty());
    assert!(fixture.read(&dn, "displayName").unwrap().is_empty());

    // Changing the RDN's attribute renames first; the anchor stays.
    let renamed = export_one(
        &connector,
        update(
            &uuid,
            vec![
                AttributeChange::Replace(attribute("uid", &["alice2"])),
                AttributeChange::Replace(attribute("sn", &["Pleasance"])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    let dn2 = format!("uid=alice2,{}", fixture.ou);
    assert_eq!(renamed.anchor, uuid);
    assert_eq!(texts(&renamed, "dn"), [dn2.as_str()]);
    assert!(fixture.slapd.entry(&dn).is_none());
    assert_eq!(fixture.read(&dn2, "uid").unwrap(), ["alice2"]);
    assert_eq!(fixture.read(&dn2, "sn").unwrap(), ["Pleasance"]);
    assert_eq!(fixture.read(&dn2, "entryUUID").unwrap(), [uuid.as_str()]);

    // Removing the RDN value among several renames to the one left.
    export_one(
        &connector,
        update(
            &uuid,
            vec![AttributeChange::AddValues(attribute("uid", &["alice-b"]))],
        ),
    )
    .unwrap()
    .unwrap();
    let moved = export_one(
        &connector,
        update(
            &uuid,
            vec![AttributeChange::RemoveValues(attribute("uid", &["ALICE2"]))],
        ),
    )
    .unwrap()
    .unwrap();
    let dn3 = format!("uid=alice-b,{}", fixture.ou);
    assert_eq!(texts(&moved, "dn"), [dn3.as_str()]);
    assert_eq!(fixture.read(&dn3, "uid").unwrap(), ["alice-b"]);

    // A rename by RDN, then a move to a sub-OU by full DN.
    let by_rdn = export_one(&connector, rename(&uuid, "uid=alice3"))
        .unwrap()
        .unwrap();
    let dn4 = format!("uid=alice3,{}", fixture.ou);
    assert_eq!(texts(&by_rdn, "dn"), [dn4.as_str()]);
    assert_eq!(fixture.read(&dn4, "uid").unwrap(), ["alice3"]);
    let sub = format!("ou=moved,{}", fixture.ou);
    fixture.slapd.ldapadd(&format!(
        "dn: {sub}\nobjectClass: organizationalUnit\nou: moved\n"
    ));
    let dn5 = format!("uid=alice3,{sub}");
    let by_dn = export_one(&connector, rename(&uuid, &dn5))
        .unwrap()
        .unwrap();
    assert_eq!(by_dn.anchor, uuid);
    assert_eq!(texts(&by_dn, "dn"), [dn5.as_str()]);
    assert!(fixture.slapd.entry(&dn4).is_none());
    assert!(fixture.slapd.entry(&dn5).is_some());

    // Delete; a second delete finds nothing.
    assert_eq!(
        export_one(&connector, Change::Delete(user(&uuid))),
        Ok(None)
    );
    assert!(fixture.slapd.entry(&dn5).is_none());
    let again = export_one(&connector, Change::Delete(user(&uuid))).unwrap_err();
    assert_eq!(again.kind, ErrorKind::NotFound);
}

#[test]
fn an_add_returns_the_entry_as_written_without_reading_it_back() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    // Connects and reads the schema, so that the add below makes only its own requests.
    add_alice(&connector);
    let opened = fixture.network.opened();
    // The request after the add (a read-back) would fail and reconnect: the connection
    // answered just now, so it is not checked, and the add is write 0.
    fixture.network.fail_write_in(1);
    let bob = export_one(
        &connector,
        add(&[
            ("uid", &["bob"]),
            ("cn", &["Bob Builder"]),
            ("sn", &["Builder"]),
            ("mail", &["bob@example.org", "builder@example.org"]),
            ("userPassword", &["initial-Secret1"]),
        ]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        fixture.network.opened(),
        opened,
        "the add came back with the entry: nothing followed it"
    );
    let dn = format!("uid=bob,{}", fixture.ou);
    assert_eq!(
        bob.anchor,
        fixture.read(&dn, "entryUUID").unwrap().remove(0)
    );
    // The same object a read gives (which meets the failure armed above, and reconnects).
    assert_eq!(
        Some(bob.clone()),
        connector.read(&user(&bob.anchor)).unwrap()
    );
    assert!(texts(&bob, "userPassword").is_empty(), "never read back");
}

#[test]
fn refusals_come_back_with_the_right_kind() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    let alice = add_alice(&connector);

    let twice = export_one(
        &connector,
        add(&[("uid", &["alice"]), ("cn", &["Other"]), ("sn", &["Other"])]),
    )
    .unwrap_err();
    assert_eq!(twice.kind, ErrorKind::AlreadyExists, "{twice:?}");
    assert!(
        twice.message.contains("EntryAlreadyExists (68)"),
        "{}",
        twice.message
    );

    let missing = "00000000-0000-0000-0000-000000000000";
    for change in [
        update(
            missing,
            vec![AttributeChange::Replace(attribute("sn", &["x"]))],
        ),
        rename(missing, "uid=x"),
        Change::Delete(user(missing)),
    ] {
        assert_eq!(
            export_one(&connector, change).unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    let no_sn = export_one(&connector, add(&[("uid", &["nosn"]), ("cn", &["No SN"])])).unwrap_err();
    assert_eq!(no_sn.kind, ErrorKind::InvalidInput, "{no_sn:?}");
    assert!(
        no_sn.message.contains("ObjectClassViolation (65)"),
        "{}",
        no_sn.message
    );

    let no_uid = export_one(&connector, add(&[("cn", &["x"]), ("sn", &["x"])])).unwrap_err();
    assert_eq!(no_uid.kind, ErrorKind::InvalidInput);
    assert!(no_uid.message.contains("'uid'"), "{}", no_uid.message);

    let unknown = export_one(
        &connector,
        update(
            &alice.anchor,
            vec![AttributeChange::Replace(attribute("shoeSize", &["9"]))],
        ),
    )
    .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::InvalidInput);
    assert_eq!(unknown.attribute.as_deref(), Some("shoeSize"));

    for read_only in ["entryUUID", "dn", "objectClass"] {
        let failure = export_one(
            &connector,
            update(
                &alice.anchor,
                vec![AttributeChange::Replace(attribute(read_only, &["x"]))],
            ),
        )
        .unwrap_err();
        assert_eq!(failure.kind, ErrorKind::InvalidInput, "{read_only}");
        assert!(failure.message.contains("read-only"), "{}", failure.message);
    }

    let two_names = export_one(
        &connector,
        update(
            &alice.anchor,
            vec![AttributeChange::Replace(attribute(
                "displayName",
                &["a", "b"],
            ))],
        ),
    )
    .unwrap_err();
    assert!(
        two_names.message.contains("single-valued"),
        "{}",
        two_names.message
    );

    let bad_syntax = export_one(
        &connector,
        update(
            &alice.anchor,
            vec![AttributeChange::Replace(attribute(
                "manager",
                &["not a dn"],
            ))],
        ),
    )
    .unwrap_err();
    assert_eq!(bad_syntax.kind, ErrorKind::InvalidInput, "{bad_syntax:?}");

    let outside =
        export_one(&connector, rename(&alice.anchor, "uid=alice,dc=elsewhere")).unwrap_err();
    assert_eq!(outside.kind, ErrorKind::InvalidInput);

    let no_rdn = export_one(
        &connector,
        update(&alice.anchor, vec![AttributeChange::Clear("uid".into())]),
    )
    .unwrap_err();
    assert_eq!(no_rdn.kind, ErrorKind::InvalidInput);

    // One failed change does not stop the next.
    let results = connector.export(vec![
        Change::Delete(user(missing)),
        update(
            &alice.anchor,
            vec![AttributeChange::Replace(attribute("sn", &["Still"]))],
        ),
    ]);
    assert!(results[0].is_err());
    assert_eq!(
        texts(results[1].as_ref().unwrap().as_ref().unwrap(), "sn"),
        ["Still"]
    );

    let group = export_one(
        &connector,
        Change::Add(ferry_connector::types::AddChange {
            object_type: "group".into(),
            attributes: vec![],
        }),
    )
    .unwrap_err();
    assert_eq!(group.kind, ErrorKind::InvalidInput);
}

#[test]
fn hostile_values_land_literally() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    let hostile = [
        "*)(uid=*))(|(uid=*",
        " ,+=\"\\#<>; lead and trail ",
        "#hash first",
        "😀𝄞 non-BMP ünïcödé",
    ];
    for value in hostile {
        let created = export_one(
            &connector,
            add(&[("uid", &[value]), ("cn", &[value]), ("sn", &[value])]),
        )
        .unwrap_or_else(|failure| panic!("{value:?}: {failure:?}"))
        .unwrap();
        let dn = format!("uid={},{}", dn_value(value), fixture.ou);
        assert_eq!(fixture.read(&dn, "uid").unwrap(), [value], "{dn}");
        assert_eq!(fixture.read(&dn, "cn").unwrap(), [value], "{dn}");
        assert_eq!(texts(&created, "uid"), [value]);
        // Found by an escaped filter, exactly once.
        let found = fixture.slapd.ldapsearch(
            &fixture.ou,
            &format!("(uid={})", filter_value(value)),
            &["1.1"],
        );
        assert_eq!(found.matches("dn:").count(), 1, "{value:?}: {found}");
        // And changed through its anchor.
        let changed = export_one(
            &connector,
            update(
                &created.anchor,
                vec![AttributeChange::Replace(attribute("description", &[value]))],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(texts(&changed, "description"), [value]);
    }
    // Every user is still there and no other entry was touched.
    let page = connector.full_import(None, 100).unwrap();
    assert_eq!(page.objects.len(), hostile.len());

    // A NUL lands as a NUL (escaped as \00 in the DN).
    let with_nul = "nul\0byte";
    let created = export_one(
        &connector,
        add(&[("uid", &[with_nul]), ("cn", &["x"]), ("sn", &["x"])]),
    )
    .unwrap()
    .unwrap();
    let dn = format!("uid=nul\\00byte,{}", fixture.ou);
    assert_eq!(texts(&created, "dn"), [dn.as_str()]);
    assert_eq!(texts(&created, "uid"), [with_nul]);
    assert_eq!(fixture.read(&dn, "uid").unwrap(), [with_nul]);

    // In a binary attribute, a NUL is just a byte.
    let photo = vec![0xff, 0xd8, 0x00, 0x00, 0xff, 0xd9];
    let any = connector.full_import(None, 1).unwrap().objects.remove(0);
    let changed = export_one(
        &connector,
        update(
            &any.anchor,
            vec![AttributeChange::Replace(
                ferry_connector::types::Attribute {
                    name: "jpegPhoto".into(),
                    values: vec![Value::Binary(photo.clone())],
                },
            )],
        ),
    )
    .unwrap()
    .unwrap();
    let stored = changed
        .attributes
        .iter()
        .find(|attribute| attribute.name == "jpegPhoto")
        .unwrap();
    assert_eq!(stored.values, [Value::Binary(photo)]);
}

#[test]
fn reads_one_user_by_its_anchor() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    let dn = fixture.ldapadd_user("carol");
    let uuid = fixture.read(&dn, "entryUUID").unwrap().remove(0);
    let read = connector
        .read(&user(&uuid))
        .unwrap()
        .expect("the user added with ldapadd is found");
    assert_eq!(read.anchor, uuid);
    assert_eq!(texts(&read, "uid"), ["carol"]);
    // A well-formed entryUUID nobody has, and a hostile one, find nothing.
    for missing in ["00000000-0000-0000-0000-000000000000", "*)(uid=*"] {
        assert_eq!(connector.read(&user(missing)).unwrap(), None, "{missing}");
    }
    let wrong_type = connector.read(&ferry_connector::types::ObjectRef {
        object_type: "group".into(),
        anchor: uuid,
    });
    assert_eq!(wrong_type.unwrap_err().kind, ErrorKind::InvalidInput);
}

#[test]
fn a_new_password_replaces_the_old_one_and_is_never_logged() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    let alice = add_alice(&connector);
    let dn = format!("uid=alice,{}", fixture.ou);
    assert_eq!(fixture.bind(&dn, "initial-Secret1"), Some(0));
    let schema = connector.schema().unwrap();
    let password = schema.object_types[0]
        .attributes
        .iter()
        .find(|attribute| attribute.name == "userPassword")
        .unwrap();
    assert!(
        password.secret && !password.multi_valued,
        "one password, so a host sets it by replace: {password:?}"
    );

    let changed = export_one(
        &connector,
        update(
            &alice.anchor,
            vec![AttributeChange::Replace(attribute(
                "userPassword",
                &["changed-Secret2"],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    assert!(
        texts(&changed, "userPassword").is_empty(),
        "never read back"
    );
    assert_eq!(fixture.bind(&dn, "changed-Secret2"), Some(0));
    assert_eq!(fixture.bind(&dn, "initial-Secret1"), Some(49));
    assert!(!fixture.log.contains("changed-Secret2"));
    assert!(!fixture.log.contains("initial-Secret1"));
}
