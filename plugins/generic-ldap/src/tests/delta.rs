//! Delta imports from the accesslog and from modifyTimestamp, seeing writes made directly
//! with ldapadd / ldapmodify.

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_connector::Session;
use ferry_connector::testing;
use ferry_connector::types::{Datetime, DeltaEntry, ErrorKind, SettingValue};
use ferry_test_support::TempSlapd;

use super::{Fixture, full_import_watermark, texts};
use crate::cursor::Watermark;
use crate::delta::LAG_SECONDS;
use crate::session::LdapSession;

/// What delta entries said about an anchor.
#[derive(Debug, PartialEq)]
enum Seen {
    Upsert { dn: String, mail: Vec<String> },
    Delete,
}

/// What a run of delta pages of `page_size` said about each anchor, the last word
/// winning, and the final watermark.
fn drain(
    connector: &LdapSession,
    watermark: &str,
    page_size: u32,
) -> (BTreeMap<String, Seen>, String) {
    let (entries, watermark) = testing::delta_all(connector, watermark, page_size);
    (outcome(entries), watermark)
}

/// What `entries` said about each anchor, the last word winning.
fn outcome(entries: Vec<DeltaEntry>) -> BTreeMap<String, Seen> {
    let mut outcome = BTreeMap::new();
    for entry in entries {
        match entry {
            DeltaEntry::Upsert(object) => {
                assert_eq!(object.object_type, "user");
                let seen = Seen::Upsert {
                    dn: texts(&object, "dn").remove(0),
                    mail: texts(&object, "mail"),
                };
                outcome.insert(object.anchor, seen);
            }
            DeltaEntry::Delete(target) => {
                outcome.insert(target.anchor, Seen::Delete);
            }
        }
    }
    outcome
}

#[test]
fn the_accesslog_shows_adds_modifies_renames_and_deletes() {
    let fixture = Fixture::new();
    let elsewhere = Fixture::new();
    let modified = fixture.ldapadd_user("modified");
    let renamed = fixture.ldapadd_user("renamed");
    let deleted = fixture.ldapadd_user("deleted");
    let uuid = |dn: &str| fixture.read(dn, "entryUUID").unwrap().remove(0);
    let (modified_uuid, renamed_uuid, deleted_uuid) =
        (uuid(&modified), uuid(&renamed), uuid(&deleted));

    let connector = fixture.connector();
    let watermark = full_import_watermark(&connector);
    let (before, _) = drain(&connector, &watermark, 100);
    assert!(
        before.is_empty(),
        "changes before the import are not repeated: {before:?}"
    );

    let added = fixture.ldapadd_user("added");
    let added_uuid = uuid(&added);
    fixture.slapd.ldapmodify(&format!(
        "dn: {modified}\nchangetype: modify\nreplace: mail\nmail: changed@example.org\n"
    ));
    fixture.slapd.ldapmodify(&format!(
        "dn: {renamed}\nchangetype: modrdn\nnewrdn: uid=renamed-now\ndeleteoldrdn: 1\n"
    ));
    fixture
        .slapd
        .ldapmodify(&format!("dn: {deleted}\nchangetype: delete\n"));
    elsewhere.ldapadd_user("not-in-my-base");

    let expected = BTreeMap::from([
        (
            added_uuid.clone(),
            Seen::Upsert {
                dn: added.clone(),
                mail: vec![],
            },
        ),
        (
            modified_uuid.clone(),
            Seen::Upsert {
                dn: modified.clone(),
                mail: vec!["changed@example.org".into()],
            },
        ),
        (
            renamed_uuid.clone(),
            Seen::Upsert {
                dn: format!("uid=renamed-now,{}", fixture.ou),
                mail: vec![],
            },
        ),
        (deleted_uuid.clone(), Seen::Delete),
    ]);
    let (all_at_once, watermark_after) = drain(&connector, &watermark, 100);
    assert_eq!(all_at_once, expected);
    // Page by page, the same.
    let (paged, paged_watermark) = drain(&connector, &watermark, 1);
    assert_eq!(paged, expected);
    assert_eq!(paged_watermark, watermark_after);

    // Nothing new: nothing returned, the watermark stays.
    let page = connector.delta_import(&watermark_after, 100).unwrap();
    assert!(page.entries.is_empty() && !page.more);
    assert_eq!(page.watermark, watermark_after);
    assert!(matches!(
        Watermark::decode(&watermark_after).unwrap(),
        Watermark::Accesslog { after: Some(_), .. }
    ));

    // A user that leaves the filter is reported deleted; one that is added and deleted
    // between two runs is a delete only.
    let filtered = fixture.open(&[(
        "user-filter",
        SettingValue::String("(&(objectClass=inetOrgPerson)(!(employeeType=gone)))".into()),
    )]);
    fixture.slapd.ldapmodify(&format!(
        "dn: {modified}\nchangetype: modify\nadd: employeeType\nemployeeType: gone\n"
    ));
    let brief = fixture.ldapadd_user("brief");
    let brief_uuid = uuid(&brief);
    fixture
        .slapd
        .ldapmodify(&format!("dn: {brief}\nchangetype: delete\n"));
    let (left, _) = drain(&filtered, &watermark_after, 100);
    assert_eq!(
        left,
        BTreeMap::from([(modified_uuid, Seen::Delete), (brief_uuid, Seen::Delete)])
    );
}

/// More writes than slapd lets the admin read of `cn=accesslog` in one search, paged or
/// not: 500, its default size limit for any bind but a database's root DN (the admin is
/// the root DN of the directory, not of the log).
const BUSY: usize = 600;

/// On a server of its own: its burst of writes would crowd the shared server's
/// accesslog, which the deltas of the other tests read.
#[test]
fn a_full_import_finds_its_watermark_in_a_busy_accesslog() {
    // Stopped by its lifeline when the test process ends.
    let fixture = Fixture::on(Box::leak(Box::new(TempSlapd::start())));
    let mut ldif = String::new();
    for index in 0..BUSY {
        ldif.push_str(&format!(
            "dn: uid=burst{index},{ou}\nobjectClass: inetOrgPerson\nuid: burst{index}\n\
             cn: burst{index}\nsn: burst\n\n",
            ou = fixture.ou
        ));
    }
    fixture.slapd.ldapadd(&ldif);
    // One write more, after the deltas' look-back: the watermark can then pass the burst,
    // so that the first delta need not read it again (it would meet the same limit).
    std::thread::sleep(Duration::from_secs(LAG_SECONDS.unsigned_abs() + 1));
    let last = fixture.ldapadd_user("last");

    // The newest ten seconds of the log hold more than the limit: the import still ends,
    // with the newest change as its watermark.
    let connector = fixture.connector();
    let (objects, watermark) = testing::import_all(&connector, 250);
    assert_eq!(objects.len(), BUSY + 1);
    let watermark = watermark.expect("a delta source is configured");
    let logged =
        fixture
            .slapd
            .ldapsearch("cn=accesslog", &format!("(reqDN={last})"), &["reqStart"]);
    let last_start = logged
        .lines()
        .find_map(|line| line.strip_prefix("reqStart: "))
        .expect("the last add is logged");
    assert!(
        matches!(
            Watermark::decode(&watermark).unwrap(),
            Watermark::Accesslog { after: Some(after), .. } if after == last_start
        ),
        "{watermark} is not at {last_start}"
    );

    // A delta after it sees a later change, and only that.
    let later = fixture.ldapadd_user("later");
    let uuid = fixture.read(&later, "entryUUID").unwrap().remove(0);
    let (seen, _) = drain(&connector, &watermark, 100);
    assert_eq!(
        seen,
        BTreeMap::from([(
            uuid,
            Seen::Upsert {
                dn: later,
                mail: vec![]
            }
        )])
    );
}

/// On a server of its own, as above. The first delta after a full import reads the log
/// from `LAG_SECONDS` before the import's watermark: here more changes than the admin may
/// read of the log in one search, half of them made before the watermark was taken.
#[test]
fn deltas_deliver_a_burst_larger_than_the_size_limit() {
    // Stopped by its lifeline when the test process ends.
    let fixture = Fixture::on(Box::leak(Box::new(TempSlapd::start())));
    let half = BUSY / 2;
    let users = |prefix: &str| -> String {
        (0..half)
            .map(|index| {
                format!(
                    "dn: uid={prefix}{index},{ou}\nobjectClass: inetOrgPerson\n\
                     uid: {prefix}{index}\ncn: {prefix}{index}\nsn: {prefix}\n\n",
                    ou = fixture.ou
                )
            })
            .collect()
    };
    fixture.slapd.ldapadd(&users("kept"));
    let connector = fixture.connector();
    let watermark = full_import_watermark(&connector);

    // Right after it, within the first delta's look-back: BUSY changes, half adds, half
    // modifies of the users already there.
    fixture.slapd.ldapadd(&users("burst"));
    let modifies: String = (0..half)
        .map(|index| {
            format!(
                "dn: uid=kept{index},{ou}\nchangetype: modify\nreplace: mail\n\
                 mail: kept{index}@example.org\n\n",
                ou = fixture.ou
            )
        })
        .collect();
    fixture.slapd.ldapmodify(&modifies);
    let mut expected = BTreeMap::new();
    for block in fixture
        .slapd
        .ldapsearch(&fixture.ou, "(uid=*)", &["entryUUID", "mail"])
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
    {
        let value = |name: &str| -> Vec<String> {
            block
                .lines()
                .filter_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
                .map(str::to_owned)
                .collect()
        };
        expected.insert(
            value("entryUUID").remove(0),
            Seen::Upsert {
                dn: value("dn").remove(0),
                mail: value("mail"),
            },
        );
    }
    assert_eq!(expected.len(), BUSY);

    // Pages smaller and larger than the limit: each change once, as the directory holds
    // it, and the same watermark in the end.
    let mut ends = Vec::new();
    for page_size in [100, 1_000] {
        let (entries, end) = testing::delta_all(&connector, &watermark, page_size);
        assert_eq!(entries.len(), BUSY, "pages of {page_size}");
        assert_eq!(outcome(entries), expected, "pages of {page_size}");
        ends.push(end);
    }
    assert_eq!(ends[0], ends[1]);

    // The server leaves out every change the watermark lists as handled, whatever its
    // fraction (about one in ten ends in 0, which trips OpenLDAP's `<=`): were some sent
    // anyway, a busy look-back could fill the answer with them again.
    let Watermark::Accesslog {
        after: Some(after),
        seen,
    } = Watermark::decode(&ends[0]).unwrap()
    else {
        panic!("an accesslog watermark past the burst: {}", ends[0]);
    };
    assert!(seen.len() >= BUSY, "{} handled", seen.len());
    let bound = Datetime {
        seconds: Datetime::parse_generalized_time(&after).unwrap().seconds - LAG_SECONDS,
        nanoseconds: 0,
    };
    let left_out: String = seen
        .iter()
        .map(|start| format!("(!(reqStart={start}))"))
        .collect();
    let sent = fixture.slapd.ldapsearch(
        "cn=accesslog",
        &format!("(&(reqStart>={}){left_out})", bound.to_generalized_time()),
        &["reqStart"],
    );
    assert!(sent.trim().is_empty(), "sent again: {sent}");

    // A later change, with the burst still in the look-back: that change only.
    fixture.slapd.ldapmodify(&format!(
        "dn: uid=kept0,{}\nchangetype: modify\nreplace: mail\nmail: later@example.org\n",
        fixture.ou
    ));
    let (later, _) = drain(&connector, &ends[0], 100);
    let kept = fixture.read(&format!("uid=kept0,{}", fixture.ou), "entryUUID");
    assert_eq!(
        later,
        BTreeMap::from([(
            kept.unwrap().remove(0),
            Seen::Upsert {
                dn: format!("uid=kept0,{}", fixture.ou),
                mail: vec!["later@example.org".into()]
            }
        )])
    );
}

#[test]
fn dn_anchors_see_a_rename_as_a_delete_and_an_add() {
    let fixture = Fixture::new();
    let old = fixture.ldapadd_user("before");
    let connector = fixture.open(&[("anchor", SettingValue::String("dn".into()))]);
    let watermark = full_import_watermark(&connector);
    fixture.slapd.ldapmodify(&format!(
        "dn: {old}\nchangetype: modrdn\nnewrdn: uid=after\ndeleteoldrdn: 1\n"
    ));
    let new = format!("uid=after,{}", fixture.ou);
    let (seen, _) = drain(&connector, &watermark, 100);
    assert_eq!(
        seen,
        BTreeMap::from([
            (old, Seen::Delete),
            (
                new.clone(),
                Seen::Upsert {
                    dn: new,
                    mail: vec![]
                }
            ),
        ])
    );
}

#[test]
fn modify_timestamps_show_changes_but_not_deletes() {
    let fixture = Fixture::new();
    let changed = fixture.ldapadd_user("stamped");
    let gone = fixture.ldapadd_user("gone");
    let connector = fixture.open(&[("delta", SettingValue::String("modify-timestamp".into()))]);
    let watermark = full_import_watermark(&connector);
    // The users stamped in the watermark's second come back once (harmless), then not again.
    let (first, watermark) = drain(&connector, &watermark, 100);
    assert!(first.len() <= 2, "{first:?}");
    let (again, watermark) = drain(&connector, &watermark, 100);
    assert!(again.is_empty(), "{again:?}");

    // modifyTimestamp has one-second resolution: step past the second of the last change.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fixture.slapd.ldapmodify(&format!(
        "dn: {changed}\nchangetype: modify\nreplace: mail\nmail: stamped@example.org\n"
    ));
    fixture
        .slapd
        .ldapmodify(&format!("dn: {gone}\nchangetype: delete\n"));
    let (seen, _) = drain(&connector, &watermark, 1);
    let uuid = fixture.read(&changed, "entryUUID").unwrap().remove(0);
    assert_eq!(
        seen,
        BTreeMap::from([(
            uuid,
            Seen::Upsert {
                dn: changed,
                mail: vec!["stamped@example.org".into()]
            }
        )])
    );
}

#[test]
fn without_a_source_deltas_are_unsupported_and_foreign_watermarks_refused() {
    let fixture = Fixture::new();
    let none = fixture.open(&[("delta", SettingValue::String("none".into()))]);
    let failure = none
        .delta_import(
            &Watermark::Accesslog {
                after: None,
                seen: vec![],
            }
            .encode(),
            10,
        )
        .unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Unsupported);

    let accesslog = fixture.connector();
    let foreign = Watermark::ModifyTimestamp {
        since: None,
        seen: vec![],
    }
    .encode();
    assert_eq!(
        accesslog.delta_import(&foreign, 10).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(
        accesslog.delta_import("{}", 10).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
}
