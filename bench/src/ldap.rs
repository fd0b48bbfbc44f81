//! The LDAP side: the e2e tests' slapd (accesslog and password policy overlays on the
//! directory), a subtree seeded with users, and the references that touch it with
//! nothing in between: a paged `ldapsearch` and parallel `ldapadd`s, both bound as the
//! admin over the plain port, as Ferry's connector is.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ferry_test_support::TempSlapd;

use crate::create::{User, share};

/// What the connector's full import searches for, with its default `user-filter`.
const FILTER: &str = "(objectClass=inetOrgPerson)";

/// The attributes the connector's full import asks for: every user attribute, its
/// anchor, and the lock its `active` is computed from (`disable = "ppolicy"`).
const ATTRIBUTES: [&str; 3] = ["*", "entryUUID", "pwdAccountLockedTime"];

/// The organizational unit, below the base DN, that holds the users the import reads.
const SEEDED: &str = "seeded";

/// A slapd configured as the e2e tests' one; with `rows` users under [`seeded_ou`] when
/// given, loaded by slapadd before the server starts (seconds, where one `ldapadd` takes
/// minutes at scale 1). They are then missing from the accesslog, which Ferry's app only
/// reads for the watermark of its full import (its delta polling is off).
pub fn start(rows: Option<u64>) -> TempSlapd {
    let Some(rows) = rows else {
        eprintln!("ferry-bench: starting slapd");
        return TempSlapd::start();
    };
    eprintln!("ferry-bench: starting slapd with {rows} users");
    TempSlapd::start_with_entries(|base_dn| {
        let ou = format!("ou={SEEDED},{base_dn}");
        let users: Vec<User> = (0..rows as usize).map(|i| User::new("seed", i)).collect();
        format!(
            "dn: {ou}\nobjectClass: organizationalUnit\nou: {SEEDED}\n\n{}",
            ldif(&users, &ou)
        )
    })
}

/// The subtree [`start`] filled.
pub fn seeded_ou(slapd: &TempSlapd) -> String {
    format!("ou={SEEDED},{}", slapd.base_dn())
}

/// The arguments of the reference search of the users below `ou`: the connector's
/// search (subtree, filter, attributes), paged 1,000 entries at a time (RFC 2696).
pub fn search_arguments(ou: &str) -> Vec<&str> {
    let mut arguments = vec!["-E", "pr=1000/noprompt", "-s", "sub", "-b", ou, FILTER];
    arguments.extend(ATTRIBUTES);
    arguments
}

/// Command-line arguments as a shell reads them, those a shell would expand quoted.
pub fn shown(arguments: &[&str]) -> String {
    arguments
        .iter()
        .map(|a| {
            if a.contains(['(', ')', '*', ' ', '&', '|']) {
                format!("'{a}'")
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The reference for a full import: `ldapsearch` reads every user the connector reads to
/// /dev/null. Returns the wall time, including its start and bind as Ferry's figure
/// includes its session's.
pub fn search_to_dev_null(slapd: &TempSlapd, ou: &str) -> anyhow::Result<Duration> {
    let mut search = slapd.admin_command("ldapsearch");
    search.args(search_arguments(ou));
    run_together(vec![search])
}

/// The reference for SCIM creates: `concurrency` `ldapadd` processes in parallel, each
/// adding its share of `users` below `ou` over one connection, one add at a time, as
/// Ferry's synchronous exports are. The LDIF files are written into `work` first;
/// returns the wall time of the processes alone.
pub fn add_natively(
    slapd: &TempSlapd,
    ou: &str,
    users: &[User],
    concurrency: usize,
    work: &Path,
) -> anyhow::Result<Duration> {
    let mut adds = Vec::new();
    for worker in 0..concurrency {
        let file = work.join(format!("ldapadd-{worker}.ldif"));
        std::fs::write(&file, ldif(share(users, worker, concurrency), ou))?;
        let mut add = slapd.admin_command("ldapadd");
        add.arg("-f").arg(file);
        adds.push(add);
    }
    run_together(adds)
}

/// Starts every command at once with its output to /dev/null, waits for all and returns
/// the wall time; fails when one did, with its error output.
fn run_together(commands: Vec<Command>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let children = commands
        .into_iter()
        .map(|mut command| {
            command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("cannot run {:?}", command.get_program()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut outputs = Vec::new();
    for child in children {
        outputs.push(child.wait_with_output()?);
    }
    let took = started.elapsed();
    if let Some(failed) = outputs.iter().find(|o| !o.status.success()) {
        bail!(
            "an LDAP client failed ({}): {}",
            failed.status,
            String::from_utf8_lossy(&failed.stderr)
        );
    }
    Ok(took)
}

/// `users` as LDIF add records below `ou`: the entries Ferry's default mapping makes of
/// their SCIM bodies (userName → uid, also in the DN as the connector's
/// `uid={uid},{base-dn}` template puts it; name.formatted → cn, name.familyName → sn,
/// name.givenName → givenName, displayName, the work email → mail).
fn ldif<'a>(users: impl IntoIterator<Item = &'a User>, ou: &str) -> String {
    users
        .into_iter()
        .map(|user| {
            format!(
                "dn: uid={uid},{ou}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {display}\n\
                 sn: {family}\ngivenName: {given}\ndisplayName: {display}\nmail: {mail}\n\n",
                uid = user.user_name,
                display = user.display_name,
                family = user.family_name,
                given = user.given_name,
                mail = user.email,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_shown_as_a_shell_would_take_them() {
        assert_eq!(
            shown(&search_arguments("ou=t1,dc=example,dc=org")),
            "-E pr=1000/noprompt -s sub -b ou=t1,dc=example,dc=org '(objectClass=inetOrgPerson)' \
             '*' entryUUID pwdAccountLockedTime"
        );
    }

    #[test]
    fn ldif_holds_one_add_record_per_user() {
        let users: Vec<User> = (0..2).map(|i| User::new("b", i)).collect();
        let text = ldif(&users, "ou=t1,dc=example,dc=org");
        assert_eq!(
            text,
            "dn: uid=b.000000@example.org,ou=t1,dc=example,dc=org\nobjectClass: inetOrgPerson\n\
             uid: b.000000@example.org\ncn: Bench User 0\nsn: User0\ngivenName: Bench0\n\
             displayName: Bench User 0\nmail: b.000000@mail.example.org\n\n\
             dn: uid=b.000001@example.org,ou=t1,dc=example,dc=org\nobjectClass: inetOrgPerson\n\
             uid: b.000001@example.org\ncn: Bench User 1\nsn: User1\ngivenName: Bench1\n\
             displayName: Bench User 1\nmail: b.000001@mail.example.org\n\n"
        );
    }
}
