//! Names made by DN templates: moves with newSuperior when an attribute of the parent
//! part changes, RDNs of several AVAs and RDN values made of several attributes, all
//! checked with ldapsearch and in the accesslog (one modrdn per rename).

use ferry_connector::testing;
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Change, DeltaEntry, ErrorKind, Object, ObjectRef,
    SettingValue, UpdateChange, Value,
};

use super::{Fixture, add, attribute, export_one, full_import_watermark, texts, update};
use crate::dn::Dn;
use crate::session::LdapSession;

/// A session naming users by `template`.
fn named_by(fixture: &Fixture, template: &str) -> LdapSession {
    fixture.open(&[(
        "user-dn-template",
        SettingValue::String(template.to_owned()),
    )])
}

/// Adds the organizational units `names` under the fixture's base.
fn add_units(fixture: &Fixture, names: &[&str]) {
    for name in names {
        fixture.slapd.ldapadd(&format!(
            "dn: ou={name},{}\nobjectClass: organizationalUnit\nou: {name}\n",
            fixture.ou
        ));
    }
}

/// The modrdns the accesslog holds of the entry at `dn`: (reqNewRDN, reqNewSuperior).
fn modrdns_of(fixture: &Fixture, dn: &str) -> Vec<(String, Option<String>)> {
    let ldif = fixture.slapd.ldapsearch(
        "cn=accesslog",
        &format!("(&(reqType=modrdn)(reqDN={dn}))"),
        &["reqNewRDN", "reqNewSuperior"],
    );
    let mut found: Vec<(String, Option<String>)> = Vec::new();
    for line in ldif.lines() {
        if let Some(rdn) = line.strip_prefix("reqNewRDN: ") {
            found.push((rdn.to_owned(), None));
        } else if let Some(superior) = line.strip_prefix("reqNewSuperior: ") {
            found.last_mut().expect("reqNewRDN comes first").1 = Some(superior.to_owned());
        }
    }
    found
}

/// The one DN an object carries.
fn dn_of(object: &Object) -> String {
    texts(object, "dn").remove(0)
}

/// Asserts that both DNs name the same entry (the server may reorder the AVAs of an
/// RDN and change the case of types).
fn assert_same(given: &str, expected: &str) {
    assert!(
        Dn::parse(given)
            .unwrap()
            .matches(&Dn::parse(expected).unwrap()),
        "{given} is not {expected}"
    );
}

/// Sorted, lower-cased values of `attribute` at `dn`.
fn values(fixture: &Fixture, dn: &str, attribute: &str) -> Vec<String> {
    let mut values: Vec<String> = fixture
        .read(dn, attribute)
        .unwrap_or_else(|| panic!("no entry at {dn}"))
        .into_iter()
        .map(|value| value.to_lowercase())
        .collect();
    values.sort();
    values
}

#[test]
fn an_attribute_of_the_parent_part_moves_the_entry_with_new_superior() {
    let fixture = Fixture::new();
    add_units(&fixture, &["Sales", "Marketing"]);
    let connector = named_by(&fixture, "uid={uid},ou={departmentNumber},{base-dn}");
    let ou = &fixture.ou;

    let ann = export_one(
        &connector,
        add(&[
            ("uid", &["ann"]),
            ("cn", &["Ann"]),
            ("sn", &["Lee"]),
            ("departmentNumber", &["Sales"]),
        ]),
    )
    .unwrap()
    .unwrap();
    let in_sales = format!("uid=ann,ou=Sales,{ou}");
    assert_eq!(dn_of(&ann), in_sales);
    let watermark = full_import_watermark(&connector);

    // A new department: one modrdn with newSuperior, the RDN kept, the anchor too.
    let moved = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![AttributeChange::Replace(attribute(
                "departmentNumber",
                &["Marketing"],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    let in_marketing = format!("uid=ann,ou=Marketing,{ou}");
    assert_eq!(moved.anchor, ann.anchor);
    assert_eq!(dn_of(&moved), in_marketing);
    assert!(fixture.slapd.entry(&in_sales).is_none());
    assert_eq!(
        fixture.read(&in_marketing, "departmentNumber").unwrap(),
        ["Marketing"]
    );
    assert_eq!(
        modrdns_of(&fixture, &in_sales),
        [("uid=ann".to_owned(), Some(format!("ou=Marketing,{ou}")))]
    );

    // The move comes back from the accesslog as the same object at its new DN.
    let (entries, _) = testing::delta_all(&connector, &watermark, 100);
    assert!(
        entries.iter().any(|entry| matches!(entry,
            DeltaEntry::Upsert(object) if object.anchor == ann.anchor
                && dn_of(object) == in_marketing)),
        "{entries:?}"
    );

    // A new uid and a new department together: one modrdn doing both.
    let both = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![
                AttributeChange::Replace(attribute("uid", &["ann.lee"])),
                AttributeChange::Replace(attribute("departmentNumber", &["Sales"])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    let renamed = format!("uid=ann.lee,ou=Sales,{ou}");
    assert_eq!(dn_of(&both), renamed);
    assert_eq!(
        modrdns_of(&fixture, &in_marketing),
        [("uid=ann.lee".to_owned(), Some(format!("ou=Sales,{ou}")))]
    );
    assert_eq!(fixture.read(&renamed, "uid").unwrap(), ["ann.lee"]);

    // A department without its unit is refused before anything is written; a hostile
    // value stays one RDN value, so it names a unit that is not there either.
    for department in ["Nowhere", "Sales,ou=Marketing", "x+ou=Sales"] {
        let refused = export_one(
            &connector,
            update(
                &ann.anchor,
                vec![
                    AttributeChange::Replace(attribute("departmentNumber", &[department])),
                    AttributeChange::Replace(attribute("description", &["changed"])),
                ],
            ),
        )
        .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");
        assert!(
            refused.message.contains("does not exist") && refused.message.contains(&renamed),
            "{refused:?}"
        );
        assert_eq!(
            fixture.read(&renamed, "departmentNumber").unwrap(),
            ["Sales"]
        );
        assert!(fixture.read(&renamed, "description").unwrap().is_empty());
    }
    assert!(
        modrdns_of(&fixture, &renamed).is_empty(),
        "no rename was tried"
    );

    // A change of an attribute the template does not use moves nothing, and neither
    // does a change of the department of a user named otherwise.
    let described = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![AttributeChange::Replace(attribute("description", &["x"]))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(dn_of(&described), renamed);
    let elsewhere = fixture.ldapadd_user("zed");
    let zed = fixture.read(&elsewhere, "entryUUID").unwrap().remove(0);
    let kept = export_one(
        &connector,
        update(
            &zed,
            vec![AttributeChange::Replace(attribute(
                "departmentNumber",
                &["Marketing"],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(dn_of(&kept).to_lowercase(), elsewhere.to_lowercase());

    // Clearing the department leaves the entry without a name: refused.
    let cleared = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![AttributeChange::Clear("departmentNumber".into())],
        ),
    )
    .unwrap_err();
    assert_eq!(cleared.kind, ErrorKind::InvalidInput, "{cleared:?}");
    assert!(
        cleared.message.contains("'departmentNumber'"),
        "{cleared:?}"
    );
}

#[test]
fn a_group_moves_when_its_parent_attribute_changes() {
    let fixture = Fixture::new();
    add_units(&fixture, &["east", "west"]);
    let connector = fixture.open(&[
        ("groups", SettingValue::Boolean(true)),
        (
            "group-dn-template",
            SettingValue::String("cn={cn},ou={businessCategory},{base-dn}".into()),
        ),
    ]);
    let user = export_one(
        &connector,
        add(&[("uid", &["gm"]), ("cn", &["gm"]), ("sn", &["gm"])]),
    )
    .unwrap()
    .unwrap();
    let created = export_one(
        &connector,
        Change::Add(AddChange {
            object_type: "group".into(),
            attributes: vec![
                attribute("cn", &["Ops"]),
                attribute("businessCategory", &["east"]),
                Attribute {
                    name: "member".into(),
                    values: vec![Value::Reference(user.anchor.clone())],
                },
            ],
        }),
    )
    .unwrap()
    .unwrap();
    assert_eq!(dn_of(&created), format!("cn=Ops,ou=east,{}", fixture.ou));
    let moved = export_one(
        &connector,
        Change::Update(UpdateChange {
            target: ObjectRef {
                object_type: "group".into(),
                anchor: created.anchor.clone(),
            },
            changes: vec![AttributeChange::Replace(attribute(
                "businessCategory",
                &["west"],
            ))],
        }),
    )
    .unwrap()
    .unwrap();
    let west = format!("cn=Ops,ou=west,{}", fixture.ou);
    assert_eq!(moved.anchor, created.anchor);
    assert_eq!(dn_of(&moved), west);
    assert_eq!(
        values(&fixture, &west, "member"),
        [format!("uid=gm,{}", fixture.ou).to_lowercase()]
    );
}

#[test]
fn an_rdn_of_several_avas_is_named_and_renamed_whole() {
    let fixture = Fixture::new();
    let connector = named_by(
        &fixture,
        "uid={uid}+employeeNumber={employeeNumber},{base-dn}",
    );
    let ou = &fixture.ou;
    let bo = export_one(
        &connector,
        add(&[
            ("uid", &["bo"]),
            ("employeeNumber", &["7"]),
            ("cn", &["Bo"]),
            ("sn", &["Bo"]),
        ]),
    )
    .unwrap()
    .unwrap();
    let first = format!("uid=bo+employeeNumber=7,{ou}");
    assert_same(&dn_of(&bo), &first);
    assert!(fixture.slapd.entry(&first).is_some());

    let renumbered = export_one(
        &connector,
        update(
            &bo.anchor,
            vec![AttributeChange::Replace(attribute(
                "employeeNumber",
                &["8"],
            ))],
        ),
    )
    .unwrap()
    .unwrap();
    let second = format!("uid=bo+employeeNumber=8,{ou}");
    assert_same(&dn_of(&renumbered), &second);
    assert_eq!(renumbered.anchor, bo.anchor);
    assert_eq!(fixture.read(&second, "employeeNumber").unwrap(), ["8"]);
    assert_eq!(fixture.read(&second, "uid").unwrap(), ["bo"]);
    let logged = modrdns_of(&fixture, &first);
    assert_eq!(logged.len(), 1, "one modrdn: {logged:?}");
    assert_same(&logged[0].0, "employeeNumber=8+uid=bo");
    assert_eq!(logged[0].1, None, "the parent stays");

    let renamed = export_one(
        &connector,
        update(
            &bo.anchor,
            vec![AttributeChange::Replace(attribute("uid", &["bob"]))],
        ),
    )
    .unwrap()
    .unwrap();
    let third = format!("uid=bob+employeeNumber=8,{ou}");
    assert_same(&dn_of(&renamed), &third);
    assert_eq!(fixture.read(&third, "uid").unwrap(), ["bob"]);
    assert!(fixture.slapd.entry(&second).is_none());
}

#[test]
fn an_rdn_value_of_several_attributes_is_recomputed_from_the_new_values() {
    let fixture = Fixture::new();
    let connector = named_by(&fixture, "cn={givenName} {sn},{base-dn}");
    let ou = &fixture.ou;

    // No cn given: the entry gets the one its RDN names. A cn given is kept beside it.
    let ann = export_one(
        &connector,
        add(&[("uid", &["ann"]), ("givenName", &["Ann"]), ("sn", &["Lee"])]),
    )
    .unwrap()
    .unwrap();
    let lee = format!("cn=Ann Lee,{ou}");
    assert_eq!(dn_of(&ann), lee);
    assert_eq!(values(&fixture, &lee, "cn"), ["ann lee"]);
    let grace = export_one(
        &connector,
        add(&[
            ("givenName", &["Grace"]),
            ("sn", &["Hopper"]),
            ("cn", &["Amazing Grace"]),
        ]),
    )
    .unwrap()
    .unwrap();
    let hopper = format!("cn=Grace Hopper,{ou}");
    assert_eq!(dn_of(&grace), hopper);
    assert_eq!(
        values(&fixture, &hopper, "cn"),
        ["amazing grace", "grace hopper"]
    );

    // A new surname: the RDN value is made again from the new values.
    let married = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![AttributeChange::Replace(attribute("sn", &["Smith"]))],
        ),
    )
    .unwrap()
    .unwrap();
    let smith = format!("cn=Ann Smith,{ou}");
    assert_eq!(dn_of(&married), smith);
    assert_eq!(married.anchor, ann.anchor);
    assert_eq!(values(&fixture, &smith, "cn"), ["ann smith"]);
    assert_eq!(values(&fixture, &smith, "sn"), ["smith"]);
    assert!(fixture.slapd.entry(&lee).is_none());

    // Both names at once, and a cn replaced in the same update: one rename, and the
    // entry keeps the cn its RDN holds beside the one given.
    let both = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![
                AttributeChange::Replace(attribute("givenName", &["Anne"])),
                AttributeChange::Replace(attribute("sn", &["Lee"])),
                AttributeChange::Replace(attribute("cn", &["Annie"])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    let anne = format!("cn=Anne Lee,{ou}");
    assert_eq!(dn_of(&both), anne);
    assert_eq!(values(&fixture, &anne, "cn"), ["anne lee", "annie"]);
    assert_eq!(modrdns_of(&fixture, &smith).len(), 1);

    // A cn replaced alone renames nothing and keeps the RDN's value; removing that
    // value is dropped, not refused.
    let kept = export_one(
        &connector,
        update(
            &ann.anchor,
            vec![
                AttributeChange::Replace(attribute("cn", &["Nan"])),
                AttributeChange::RemoveValues(attribute("cn", &["Anne Lee"])),
            ],
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(dn_of(&kept), anne);
    assert_eq!(values(&fixture, &anne, "cn"), ["anne lee", "nan"]);

    // Hostile names stay one RDN value.
    let hostile = export_one(
        &connector,
        add(&[("givenName", &["a,b=c"]), ("sn", &["+d\\ "])]),
    )
    .unwrap()
    .unwrap();
    let dn = format!("cn=a\\,b\\=c \\+d\\\\\\ ,{ou}");
    let named = Dn::parse(&dn_of(&hostile)).unwrap();
    assert!(named.matches(&Dn::parse(&dn).unwrap()), "{named}");
    assert_eq!(named.rdns[0].avas[0].value, "a,b=c +d\\ ");
    assert_eq!(fixture.read(&dn, "cn").unwrap(), ["a,b=c +d\\ "]);
}
