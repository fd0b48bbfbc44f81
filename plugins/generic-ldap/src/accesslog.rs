//! Reading OpenLDAP's accesslog (slapo-accesslog): one `auditWriteObject` entry per
//! successful write, named by its unique `reqStart`, saying what was done (`reqType`) to
//! which entry (`reqDN`, and since 2.5 `reqEntryUUID`), and for a rename where it went
//! (`reqNewRDN`, `reqNewSuperior`, `reqNewDN`).

use crate::dn::Dn;
use crate::entries::Entry;
use ferry_connector::types::Datetime;

/// The accesslog attributes the connector reads.
pub const ATTRIBUTES: [&str; 7] = [
    "reqStart",
    "reqType",
    "reqDN",
    "reqEntryUUID",
    "reqNewRDN",
    "reqNewSuperior",
    "reqNewDN",
];

/// What a logged write did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeKind {
    /// An entry was added.
    Add,
    /// An entry's attributes changed (modify, or an extended operation such as a
    /// password change that writes to the entry).
    Modify,
    /// An entry was renamed or moved.
    Rename,
    /// An entry was deleted.
    Delete,
}

/// One logged write.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedChange {
    /// `reqStart` as written: the watermark value.
    pub start: String,
    /// `reqStart` as a time, for ordering.
    pub at: Datetime,
    /// What was done.
    pub kind: ChangeKind,
    /// The entry's DN before the write.
    pub dn: String,
    /// For a rename, the entry's DN after it.
    pub new_dn: Option<String>,
    /// The entry's `entryUUID`, when the server logs it.
    pub uuid: Option<String>,
}

impl LoggedChange {
    /// The entry's DN after the write.
    pub fn current_dn(&self) -> &str {
        self.new_dn.as_deref().unwrap_or(&self.dn)
    }
}

/// Reads one accesslog entry; the reason when it is not a write the connector can use.
pub fn interpret(entry: &Entry) -> Result<LoggedChange, String> {
    let start = entry.text("reqStart").ok_or("no reqStart")?.to_owned();
    let at = Datetime::parse_generalized_time(&start)
        .ok_or_else(|| format!("reqStart {start:?} is not a time"))?;
    let kind = match entry.text("reqType").ok_or("no reqType")? {
        "add" => ChangeKind::Add,
        "delete" => ChangeKind::Delete,
        "modrdn" => ChangeKind::Rename,
        _ => ChangeKind::Modify,
    };
    let dn = entry.text("reqDN").ok_or("no reqDN")?.to_owned();
    let new_dn = match kind {
        ChangeKind::Rename => Some(match entry.text("reqNewDN") {
            Some(new_dn) => new_dn.to_owned(),
            None => renamed_dn(
                &dn,
                entry
                    .text("reqNewRDN")
                    .ok_or("a rename without reqNewRDN")?,
                entry.text("reqNewSuperior"),
            )?,
        }),
        _ => None,
    };
    Ok(LoggedChange {
        start,
        at,
        kind,
        dn,
        new_dn,
        uuid: entry.text("reqEntryUUID").map(str::to_owned),
    })
}

/// The DN after a rename: the new RDN under the new superior, or under the old parent.
fn renamed_dn(old: &str, new_rdn: &str, new_superior: Option<&str>) -> Result<String, String> {
    let parent = match new_superior {
        Some(superior) => Dn::parse(superior)?,
        None => Dn::parse(old)?.parent(),
    };
    let rdn = Dn::parse(new_rdn)?
        .rdns
        .into_iter()
        .next()
        .ok_or("an empty reqNewRDN")?;
    Ok(parent.child(rdn).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(attributes: &[(&str, &str)]) -> Entry {
        Entry {
            dn: "reqStart=20240501120000.000001Z,cn=accesslog".into(),
            attributes: attributes
                .iter()
                .map(|(name, value)| (name.to_string(), vec![value.as_bytes().to_vec()]))
                .collect(),
        }
    }

    #[test]
    fn reads_adds_modifies_and_deletes() {
        let add = interpret(&logged(&[
            ("reqStart", "20240501120000.000001Z"),
            ("reqType", "add"),
            ("reqDN", "uid=a,ou=people,dc=example,dc=org"),
            ("reqEntryUUID", "1b0f2b5c-7f4e-103e-9c8e-1d2e3f4a5b6c"),
        ]))
        .unwrap();
        assert_eq!(add.kind, ChangeKind::Add);
        assert_eq!(add.start, "20240501120000.000001Z");
        assert_eq!(add.at.seconds, 1_714_564_800);
        assert_eq!(add.at.nanoseconds, 1_000);
        assert_eq!(
            add.uuid.as_deref(),
            Some("1b0f2b5c-7f4e-103e-9c8e-1d2e3f4a5b6c")
        );
        assert_eq!(add.current_dn(), "uid=a,ou=people,dc=example,dc=org");
        for (logged_type, kind) in [
            ("modify", ChangeKind::Modify),
            ("delete", ChangeKind::Delete),
            ("extended1.3.6.1.4.1.4203.1.11.1", ChangeKind::Modify),
        ] {
            let change = interpret(&logged(&[
                ("reqStart", "20240501120000.000002Z"),
                ("reqType", logged_type),
                ("reqDN", "uid=a,ou=people,dc=example,dc=org"),
            ]))
            .unwrap();
            assert_eq!(change.kind, kind, "{logged_type}");
            assert_eq!(change.uuid, None);
            assert_eq!(change.new_dn, None);
        }
    }

    #[test]
    fn works_out_where_a_renamed_entry_went() {
        let with_new_dn = interpret(&logged(&[
            ("reqStart", "20240501120000.000003Z"),
            ("reqType", "modrdn"),
            ("reqDN", "uid=a,ou=people,dc=example,dc=org"),
            ("reqNewRDN", "uid=b"),
            ("reqNewDN", "uid=b,ou=people,dc=example,dc=org"),
        ]))
        .unwrap();
        assert_eq!(with_new_dn.kind, ChangeKind::Rename);
        assert_eq!(
            with_new_dn.current_dn(),
            "uid=b,ou=people,dc=example,dc=org"
        );
        let same_parent = interpret(&logged(&[
            ("reqStart", "20240501120000.000004Z"),
            ("reqType", "modrdn"),
            ("reqDN", "uid=a,ou=people,dc=example,dc=org"),
            ("reqNewRDN", "uid=c\\2C d"),
        ]))
        .unwrap();
        assert_eq!(
            same_parent.current_dn(),
            "uid=c\\, d,ou=people,dc=example,dc=org"
        );
        let moved = interpret(&logged(&[
            ("reqStart", "20240501120000.000005Z"),
            ("reqType", "modrdn"),
            ("reqDN", "uid=a,ou=people,dc=example,dc=org"),
            ("reqNewRDN", "uid=a"),
            ("reqNewSuperior", "ou=former,dc=example,dc=org"),
        ]))
        .unwrap();
        assert_eq!(moved.current_dn(), "uid=a,ou=former,dc=example,dc=org");
    }

    #[test]
    fn refuses_entries_that_are_not_usable_writes() {
        for (attributes, reason) in [
            (vec![("reqType", "add"), ("reqDN", "uid=a")], "no reqStart"),
            (
                vec![
                    ("reqStart", "yesterday"),
                    ("reqType", "add"),
                    ("reqDN", "uid=a"),
                ],
                "not a time",
            ),
            (
                vec![("reqStart", "20240501120000Z"), ("reqDN", "uid=a")],
                "no reqType",
            ),
            (
                vec![("reqStart", "20240501120000Z"), ("reqType", "add")],
                "no reqDN",
            ),
            (
                vec![
                    ("reqStart", "20240501120000Z"),
                    ("reqType", "modrdn"),
                    ("reqDN", "uid=a"),
                ],
                "without reqNewRDN",
            ),
        ] {
            let failure = interpret(&logged(&attributes)).unwrap_err();
            assert!(failure.contains(reason), "{failure}");
        }
    }
}
