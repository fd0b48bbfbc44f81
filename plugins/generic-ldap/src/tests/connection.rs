//! Connecting, binding, the root DSE, the schema, and reconnecting after a drop.

use std::time::Duration;

use super::{Fixture, add, export_one, texts};
use crate::directory::TRUSTED_AFTER_ANSWER;
use ferry_connector::Session;
use ferry_connector::types::{ErrorKind, SettingValue, ValueType};

fn text(value: &str) -> SettingValue {
    SettingValue::String(value.to_owned())
}

#[test]
fn test_connection_binds_and_finds_the_base() {
    let fixture = Fixture::new();
    fixture.connector().test_connection().unwrap();

    let wrong_password = fixture.open(&[("bind-password", text("wrong"))]);
    let failure = wrong_password.test_connection().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::PermissionDenied, "{failure:?}");
    assert!(
        failure.message.contains("InvalidCredentials (49)"),
        "{}",
        failure.message
    );

    let missing_base = fixture.open(&[("base-dn", text(&format!("ou=nowhere,{}", fixture.ou)))]);
    let failure = missing_base.test_connection().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::NotFound, "{failure:?}");
    assert!(failure.message.contains("base-dn"), "{}", failure.message);

    let missing_log = fixture.open(&[("accesslog-base", text("cn=nolog"))]);
    let failure = missing_log.test_connection().unwrap_err();
    assert!(
        failure.message.contains("accesslog-base"),
        "{}",
        failure.message
    );

    let closed_port = fixture.open(&[("port", SettingValue::Integer(1))]);
    let failure = closed_port.test_connection().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Unavailable, "{failure:?}");
}

#[test]
fn schema_types_the_inet_org_person_attributes() {
    let fixture = Fixture::new();
    let schema = fixture.connector().schema().unwrap();
    assert_eq!(schema.object_types.len(), 1);
    let user = &schema.object_types[0];
    assert_eq!(user.name, "user");
    assert_eq!(user.anchor_attributes, ["entryUUID"]);
    let find = |name: &str| {
        user.attributes
            .iter()
            .find(|attribute| attribute.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    for required in ["cn", "sn"] {
        assert!(find(required).required, "{required}");
    }
    assert!(find("uid").multi_valued && !find("uid").required);
    assert!(!find("displayName").multi_valued);
    assert!(!find("preferredLanguage").multi_valued);
    assert_eq!(find("jpegPhoto").value_type, ValueType::Binary);
    assert_eq!(find("userCertificate").value_type, ValueType::Binary);
    assert_eq!(find("mail").value_type, ValueType::String);
    let manager = find("manager");
    assert_eq!(manager.value_type, ValueType::Reference);
    assert_eq!(manager.reference_types, ["user"]);
    assert!(!manager.multi_valued, "one manager");
    assert!(
        user.attributes
            .iter()
            .all(|attribute| attribute.name == "manager"
                || attribute.value_type != ValueType::Reference),
        "no other references"
    );
    let password = find("userPassword");
    assert!(password.secret && !password.read_only);
    let uuid = find("entryUUID");
    assert!(uuid.read_only && !uuid.multi_valued);
    assert!(find("dn").read_only);
    assert!(find("objectClass").read_only);
    // From organizationalPerson and person, through SUP.
    find("telephoneNumber");
    find("title");

    let posix = fixture.open(&[(
        "user-object-classes",
        SettingValue::StringList(vec!["inetOrgPerson".into(), "posixAccount".into()]),
    )]);
    let schema = posix.schema().unwrap();
    let number = schema.object_types[0]
        .attributes
        .iter()
        .find(|attribute| attribute.name == "uidNumber")
        .unwrap();
    assert_eq!(number.value_type, ValueType::Integer);
    assert!(number.required && !number.multi_valued);

    let unknown = fixture.open(&[(
        "user-object-classes",
        SettingValue::StringList(vec!["noSuchClass".into()]),
    )]);
    let failure = unknown.schema().unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);
    assert!(
        failure.message.contains("noSuchClass"),
        "{}",
        failure.message
    );
}

#[test]
fn one_connection_serves_the_session_and_is_remade_after_a_drop() {
    let fixture = Fixture::new();
    fixture.ldapadd_user("kept");
    let connector = fixture.connector();
    connector.test_connection().unwrap();
    connector.full_import(None, 10).unwrap();
    connector.schema().unwrap();
    assert_eq!(fixture.network.opened(), 1, "one connection per session");

    // A read on a dropped connection reconnects and succeeds.
    fixture.cut_connections();
    let page = connector.full_import(None, 10).unwrap();
    assert_eq!(page.objects.len(), 1);
    assert!(
        fixture.log.contains("reconnecting"),
        "the reconnect is logged"
    );

    // An export on a connection idle since its last answer checks it first, and writes
    // on a new one when it was dropped.
    fixture.cut_connections();
    std::thread::sleep(TRUSTED_AFTER_ANSWER + Duration::from_millis(100));
    let added = export_one(
        &connector,
        add(&[("uid", &["after-drop"]), ("cn", &["A"]), ("sn", &["B"])]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(texts(&added, "uid"), ["after-drop"]);
}

#[test]
fn a_write_lost_in_flight_is_unavailable_and_not_repeated() {
    let fixture = Fixture::new();
    let connector = fixture.connector();
    connector.schema().unwrap();
    // The connection answered just now: the export trusts it and adds (the next write).
    fixture.network.fail_write_in(0);
    let failure = export_one(
        &connector,
        add(&[("uid", &["in-flight"]), ("cn", &["A"]), ("sn", &["B"])]),
    )
    .unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Unavailable, "{failure:?}");
    assert!(
        failure.message.contains("may or may not have been made"),
        "{}",
        failure.message
    );
    let dn = format!("uid=in-flight,{}", fixture.ou);
    assert!(
        fixture.slapd.entry(&dn).is_none(),
        "not repeated behind the host's back"
    );
    // The next call makes a new connection and the retried add goes through.
    let added = export_one(
        &connector,
        add(&[("uid", &["in-flight"]), ("cn", &["A"]), ("sn", &["B"])]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(texts(&added, "dn"), [dn.as_str()]);
}
