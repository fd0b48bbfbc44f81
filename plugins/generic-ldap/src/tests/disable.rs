//! Disabling and enabling users (`disable`): the lock as ldapsearch sees it (operational
//! attributes included), binds refused while the password policy lock is on, `active` as
//! imports and deltas report it, locks set directly with ldapmodify, and the settings.

use ferry_connector::Session;
use std::collections::BTreeMap;

use super::{Fixture, attribute, export_one, full_import_watermark, texts, update};
use crate::session::LdapSession;
use ferry_connector::testing;
use ferry_connector::types::Value;
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Change, DeltaEntry, ErrorKind, Object, SettingValue,
    ValueType,
};

/// The password every user here is added with.
const PASSWORD: &str = "Correct-Horse-1";

/// The password policy's permanent lock.
const LOCKED: &str = "000001010000Z";

fn text(value: &str) -> SettingValue {
    SettingValue::String(value.to_owned())
}

/// The settings of `disable = "ppolicy"`.
fn ppolicy() -> Vec<(&'static str, SettingValue)> {
    vec![("disable", text("ppolicy"))]
}

/// The settings of `disable = "attribute"` with a plain, multi-valued attribute.
fn employee_type() -> Vec<(&'static str, SettingValue)> {
    vec![
        ("disable", text("attribute")),
        ("disable-attribute", text("employeeType")),
        ("disabled-value", text("Disabled")),
    ]
}

/// `active` with one value.
fn active(value: bool) -> Attribute {
    Attribute {
        name: "active".into(),
        values: vec![Value::Boolean(value)],
    }
}

/// An add of a user named `uid` with a password, `extra` attributes besides.
fn add_user(uid: &str, extra: Vec<Attribute>) -> Change {
    let mut attributes = vec![
        attribute("uid", &[uid]),
        attribute("cn", &[uid]),
        attribute("sn", &[uid]),
        attribute("userPassword", &[PASSWORD]),
    ];
    attributes.extend(extra);
    Change::Add(AddChange {
        object_type: "user".into(),
        attributes,
    })
}

/// The object's `active`, if it has one.
fn is_active(object: &Object) -> Option<bool> {
    let found = object.attributes.iter().find(|a| a.name == "active")?;
    match found.values.as_slice() {
        [Value::Boolean(active)] => Some(*active),
        other => panic!("active holds {other:?}"),
    }
}

/// The export of one change, which must succeed and return the user.
fn exported(connector: &LdapSession, change: Change) -> Object {
    export_one(connector, change)
        .unwrap_or_else(|failure| panic!("{failure:?}"))
        .expect("the user")
}

/// `active` of every user a full import returns, by uid.
fn imported(connector: &LdapSession) -> BTreeMap<String, Option<bool>> {
    let page = connector.full_import(None, 100).unwrap();
    assert!(page.next_cursor.is_none());
    page.objects
        .iter()
        .map(|user| (texts(user, "uid").remove(0), is_active(user)))
        .collect()
}

/// `active` of every user a run of delta imports from `watermark` upserted, by anchor.
fn delta_active(connector: &LdapSession, watermark: &str) -> BTreeMap<String, Option<bool>> {
    testing::delta_all(connector, watermark, 10)
        .0
        .into_iter()
        .filter_map(|entry| match entry {
            DeltaEntry::Upsert(object) => Some((object.anchor.clone(), is_active(&object))),
            DeltaEntry::Delete(_) => None,
        })
        .collect()
}

#[test]
fn the_schema_has_active_only_when_users_can_be_disabled() {
    let fixture = Fixture::new();
    let plain = fixture.connector().schema().unwrap();
    assert!(
        !plain.object_types[0]
            .attributes
            .iter()
            .any(|attribute| attribute.name.eq_ignore_ascii_case("active"))
    );
    for (settings, lock) in [
        (ppolicy(), "pwdAccountLockedTime"),
        (employee_type(), "employeeType"),
    ] {
        let schema = fixture.open(&settings).schema().unwrap();
        let attributes = &schema.object_types[0].attributes;
        let active = attributes
            .iter()
            .find(|attribute| attribute.name == "active")
            .unwrap_or_else(|| panic!("no active with {lock}"));
        assert_eq!(active.value_type, ValueType::Boolean);
        assert!(!active.multi_valued && !active.read_only && !active.required && !active.secret);
        let description = active.description.as_deref().unwrap();
        assert!(description.contains(lock), "{description}");
        // The operational lock stays the connector's business.
        assert!(
            !attributes
                .iter()
                .any(|attribute| attribute.name == "pwdAccountLockedTime")
        );
    }
}

#[test]
fn ppolicy_locks_the_account_and_unlocks_it() {
    let fixture = Fixture::new();
    let connector = fixture.open(&ppolicy());
    let dn = format!("uid=dora,{}", fixture.ou);
    let lock = || fixture.read(&dn, "pwdAccountLockedTime").unwrap();

    // Added disabled: locked for good, binds refused.
    let dora = exported(&connector, add_user("dora", vec![active(false)]));
    assert_eq!(is_active(&dora), Some(false));
    assert_eq!(lock(), [LOCKED]);
    assert!(
        fixture.read(&dn, "active").unwrap().is_empty(),
        "never sent"
    );
    assert_eq!(fixture.bind(&dn, PASSWORD), Some(49));

    // Enabled: the lock is gone and the password works.
    let enable = vec![AttributeChange::Replace(active(true))];
    let enabled = exported(&connector, update(&dora.anchor, enable.clone()));
    assert_eq!(is_active(&enabled), Some(true));
    assert!(lock().is_empty());
    assert_eq!(fixture.bind(&dn, PASSWORD), Some(0));

    // Enabling again writes nothing.
    let logged = || {
        fixture
            .slapd
            .ldapsearch("cn=accesslog", &format!("(reqDN={dn})"), &["reqType"])
            .matches("dn: ")
            .count()
    };
    let before = logged();
    exported(&connector, update(&dora.anchor, enable));
    assert_eq!(logged(), before);

    // Disabled with another change in the same update, then cleared (= enabled).
    let disabled = exported(
        &connector,
        update(
            &dora.anchor,
            vec![
                AttributeChange::Replace(attribute("mail", &["dora@example.org"])),
                AttributeChange::Replace(active(false)),
            ],
        ),
    );
    assert_eq!(is_active(&disabled), Some(false));
    assert_eq!(lock(), [LOCKED]);
    assert_eq!(fixture.read(&dn, "mail").unwrap(), ["dora@example.org"]);
    assert_eq!(fixture.bind(&dn, PASSWORD), Some(49));
    let cleared = exported(
        &connector,
        update(&dora.anchor, vec![AttributeChange::Clear("active".into())]),
    );
    assert_eq!(is_active(&cleared), Some(true));
    assert!(lock().is_empty());
    assert_eq!(fixture.bind(&dn, PASSWORD), Some(0));

    // Added enabled, or without saying: no lock.
    for (uid, extra) in [("enzo", vec![active(true)]), ("fred", vec![])] {
        let added = exported(&connector, add_user(uid, extra));
        assert_eq!(is_active(&added), Some(true));
        let dn = format!("uid={uid},{}", fixture.ou);
        assert!(
            fixture
                .read(&dn, "pwdAccountLockedTime")
                .unwrap()
                .is_empty()
        );
        assert_eq!(fixture.bind(&dn, PASSWORD), Some(0));
    }

    let wrong = export_one(
        &connector,
        update(
            &dora.anchor,
            vec![AttributeChange::Replace(attribute("active", &["False"]))],
        ),
    )
    .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::InvalidInput);
    assert_eq!(wrong.attribute.as_deref(), Some("active"));
}

#[test]
fn a_lockout_after_failed_binds_is_not_a_disable() {
    let fixture = Fixture::new();
    let dn = fixture.ldapadd_user("gil");
    fixture.slapd.ldapmodify(&format!(
        "dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\n\
         pwdAccountLockedTime: 20240501120000Z\n"
    ));
    let connector = fixture.open(&ppolicy());
    let gil = connector.full_import(None, 10).unwrap().objects.remove(0);
    assert_eq!(is_active(&gil), Some(true));
    // Enabling an enabled user leaves ppolicy's own lockout alone; disabling makes it
    // the permanent lock.
    exported(
        &connector,
        update(&gil.anchor, vec![AttributeChange::Replace(active(true))]),
    );
    assert_eq!(
        fixture.read(&dn, "pwdAccountLockedTime").unwrap(),
        ["20240501120000Z"]
    );
    exported(
        &connector,
        update(&gil.anchor, vec![AttributeChange::Replace(active(false))]),
    );
    assert_eq!(fixture.read(&dn, "pwdAccountLockedTime").unwrap(), [LOCKED]);
}

#[test]
fn imports_and_deltas_see_locks_set_and_lifted_with_ldapmodify() {
    let fixture = Fixture::new();
    let open = fixture.ldapadd_user("open");
    let shut = format!("uid=shut,{}", fixture.ou);
    fixture.slapd.ldapadd(&format!(
        "dn: {shut}\nobjectClass: inetOrgPerson\nuid: shut\ncn: shut\nsn: shut\n\
         pwdAccountLockedTime: {LOCKED}\n"
    ));
    let uuid = |dn: &str| fixture.read(dn, "entryUUID").unwrap().remove(0);
    let (open_uuid, shut_uuid) = (uuid(&open), uuid(&shut));

    let connector = fixture.open(&ppolicy());
    assert_eq!(
        imported(&connector),
        BTreeMap::from([("open".into(), Some(true)), ("shut".into(), Some(false))])
    );
    let by_timestamp =
        fixture.open(&[ppolicy(), vec![("delta", text("modify-timestamp"))]].concat());
    let stamped = full_import_watermark(&by_timestamp);
    let (_, stamped) = testing::delta_all(&by_timestamp, &stamped, 10);
    let watermark = full_import_watermark(&connector);

    // modifyTimestamp has one-second resolution: step past the second of the adds.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fixture.slapd.ldapmodify(&format!(
        "dn: {open}\nchangetype: modify\nreplace: pwdAccountLockedTime\n\
         pwdAccountLockedTime: {LOCKED}\n\n\
         dn: {shut}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
    ));
    let expected = BTreeMap::from([(open_uuid, Some(false)), (shut_uuid, Some(true))]);
    assert_eq!(delta_active(&connector, &watermark), expected);
    assert_eq!(delta_active(&by_timestamp, &stamped), expected);
    assert_eq!(
        imported(&connector),
        BTreeMap::from([("open".into(), Some(false)), ("shut".into(), Some(true))])
    );
    // Without `disable`, users have no `active`.
    assert_eq!(
        imported(&fixture.connector()),
        BTreeMap::from([("open".into(), None), ("shut".into(), None)])
    );
}

#[test]
fn a_plain_attribute_marks_disabled_users_beside_its_other_values() {
    let fixture = Fixture::new();
    let connector = fixture.open(&employee_type());
    let dn = format!("uid=hal,{}", fixture.ou);
    let types = || fixture.read(&dn, "employeeType").unwrap();

    let hal = exported(
        &connector,
        add_user(
            "hal",
            vec![attribute("employeeType", &["staff"]), active(false)],
        ),
    );
    assert_eq!(is_active(&hal), Some(false));
    assert_eq!(types(), ["staff", "Disabled"]);
    assert_eq!(texts(&hal, "employeeType"), ["staff", "Disabled"]);

    let enabled = exported(
        &connector,
        update(&hal.anchor, vec![AttributeChange::Replace(active(true))]),
    );
    assert_eq!(is_active(&enabled), Some(true));
    assert_eq!(types(), ["staff"]);
    exported(
        &connector,
        update(&hal.anchor, vec![AttributeChange::Replace(active(false))]),
    );
    assert_eq!(types(), ["staff", "Disabled"]);

    // Set directly, in another case: still the mark.
    let ida = fixture.ldapadd_user("ida");
    fixture.slapd.ldapmodify(&format!(
        "dn: {ida}\nchangetype: modify\nadd: employeeType\nemployeeType: DISABLED\n"
    ));
    assert_eq!(
        imported(&connector),
        BTreeMap::from([("hal".into(), Some(false)), ("ida".into(), Some(false))])
    );
    let ida_anchor = fixture.read(&ida, "entryUUID").unwrap().remove(0);
    exported(
        &connector,
        update(&ida_anchor, vec![AttributeChange::Clear("active".into())]),
    );
    assert!(fixture.read(&ida, "employeeType").unwrap().is_empty());
}

#[test]
fn the_settings_are_checked_at_open_and_against_the_servers_schema() {
    let fixture = Fixture::new();
    let open = |extra: &[(&str, SettingValue)]| fixture.try_open(extra);
    for (extra, expected) in [
        (
            vec![("disable", text("attribute"))],
            "'disable-attribute' is missing",
        ),
        (
            vec![("disable", text("locked")), ("disabled-value", text("x"))],
            "'disabled-value' is only for",
        ),
        (vec![("disable", text("locked"))], "'disable' must be"),
    ] {
        let Err(failure) = open(&extra) else {
            panic!("{extra:?} accepted");
        };
        assert_eq!(failure.kind, ErrorKind::InvalidInput);
        assert!(failure.message.contains(expected), "{}", failure.message);
    }

    // OpenLDAP has no nsAccountLock (389 DS has): found out when the schema is read.
    let foreign = open(&[
        ("disable", text("attribute")),
        ("disable-attribute", text("nsAccountLock")),
        ("disabled-value", text("TRUE")),
    ])
    .unwrap_or_else(|failure| panic!("{failure:?}"));
    let failure = foreign.schema().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);
    assert!(
        failure.message.contains("'disable-attribute'")
            && failure.message.contains("nsAccountLock"),
        "{}",
        failure.message
    );
    let refused = export_one(&foreign, add_user("jon", vec![])).unwrap_err();
    assert_eq!(refused, failure);
}
