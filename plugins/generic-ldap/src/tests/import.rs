//! Full imports with the paged-results control.

use ferry_connector::Session;
use std::collections::BTreeSet;

use super::{Fixture, texts};
use crate::cursor::{ImportCursor, Watermark};
use ferry_connector::types::{ErrorKind, ObjectRef, SettingValue};

#[test]
fn imports_every_user_across_pages_and_hands_over_a_watermark() {
    let fixture = Fixture::new();
    let mut ldif = String::new();
    for index in 0..25 {
        ldif.push_str(&format!(
            "dn: uid=user{index:02},{ou}\nobjectClass: inetOrgPerson\nuid: user{index:02}\n\
             cn: User {index}\nsn: Number {index}\nemployeeNumber: {index}\n\
             userPassword: secret{index}\n\n",
            ou = fixture.ou
        ));
    }
    // Not users under the filter: skipped.
    ldif.push_str(&format!(
        "dn: cn=not-a-user,{}\nobjectClass: organizationalRole\ncn: not-a-user\n",
        fixture.ou
    ));
    fixture.slapd.ldapadd(&ldif);

    let connector = fixture.connector();
    let mut cursor = None;
    let mut pages = Vec::new();
    loop {
        let page = connector.full_import(cursor.as_deref(), 7).unwrap();
        assert!(page.objects.len() <= 7);
        pages.push(page.objects.len());
        match page.next_cursor {
            Some(next) => {
                assert!(page.watermark.is_none());
                cursor = Some(next);
            }
            None => {
                let watermark = Watermark::decode(&page.watermark.unwrap()).unwrap();
                assert!(
                    matches!(watermark, Watermark::Accesslog { after: Some(_), .. }),
                    "{watermark:?}"
                );
                let users: Vec<_> = page.objects;
                assert!(users.iter().all(|user| user.object_type == "user"));
                break;
            }
        }
    }
    assert!(pages.len() >= 4, "{pages:?}");
    assert_eq!(pages.iter().sum::<usize>(), 25, "{pages:?}");

    // Everything once, with its attributes typed and the password left out.
    let mut anchors = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = connector.full_import(cursor.as_deref(), 10).unwrap();
        for user in &page.objects {
            assert!(anchors.insert(user.anchor.clone()), "{} twice", user.anchor);
            let uid = texts(user, "uid").remove(0);
            assert_eq!(texts(user, "dn"), [format!("uid={uid},{}", fixture.ou)]);
            assert_eq!(texts(user, "entryUUID"), [user.anchor.as_str()]);
            assert!(texts(user, "userPassword").is_empty());
            assert_eq!(texts(user, "objectClass"), ["inetOrgPerson"]);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(anchors.len(), 25);
}

#[test]
fn a_cursor_from_another_session_starts_over_and_skips_what_was_returned() {
    let fixture = Fixture::new();
    for index in 0..6 {
        fixture.ldapadd_user(&format!("resume{index}"));
    }
    let first = fixture.connector();
    let page = first.full_import(None, 4).unwrap();
    let mut seen: BTreeSet<String> = page
        .objects
        .iter()
        .map(|user| user.anchor.clone())
        .collect();
    let cursor = page.next_cursor.unwrap();
    assert_eq!(ImportCursor::decode(&cursor).unwrap().returned, 4);

    // Another session (another pooled instance) gets the next page.
    let second = fixture.connector();
    let page = second.full_import(Some(&cursor), 4).unwrap();
    assert!(page.next_cursor.is_none());
    for user in &page.objects {
        assert!(seen.insert(user.anchor.clone()), "{} twice", user.anchor);
    }
    assert_eq!(seen.len(), 6);
    assert!(
        fixture.log.contains("started over"),
        "the restart is logged"
    );
}

#[test]
fn the_user_filter_selects_and_garbage_cursors_are_refused() {
    let fixture = Fixture::new();
    fixture.ldapadd_user("wanted");
    fixture.ldapadd_user("unwanted");
    let connector = fixture.open(&[(
        "user-filter",
        SettingValue::String("(&(objectClass=inetOrgPerson)(!(uid=unwant*)))".into()),
    )]);
    let page = connector.full_import(None, 100).unwrap();
    let uids: Vec<_> = page
        .objects
        .iter()
        .flat_map(|user| texts(user, "uid"))
        .collect();
    assert_eq!(uids, ["wanted"]);

    let failure = connector.full_import(Some("garbage"), 10).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::InvalidInput);

    let none = fixture.open(&[("delta", SettingValue::String("none".into()))]);
    let page = none.full_import(None, 100).unwrap();
    assert!(page.watermark.is_none() && page.next_cursor.is_none());
}

#[test]
fn a_page_asked_for_ahead_waits_while_the_session_does_other_things() {
    let fixture = Fixture::new();
    for index in 0..8 {
        fixture.ldapadd_user(&format!("ahead{index}"));
    }
    let connector = fixture.connector();
    let mut seen = BTreeSet::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = connector.full_import(cursor.as_deref(), 3).unwrap();
        pages += 1;
        for user in &page.objects {
            assert!(seen.insert(user.anchor.clone()), "{} twice", user.anchor);
        }
        // Between pages, while the next page is on its way, other requests on the same
        // connection: a check and a read of the user just imported.
        connector.test_connection().unwrap();
        let last = page.objects.last().unwrap();
        let reference = ObjectRef {
            object_type: "user".into(),
            anchor: last.anchor.clone(),
        };
        assert_eq!(
            connector.read(&reference).unwrap().unwrap().anchor,
            last.anchor
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (8, 3));
    assert!(
        !fixture.log.contains("started over"),
        "every page continued the search on its connection"
    );
}
