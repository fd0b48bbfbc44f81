//! The test slapd is a real, working OpenLDAP: searches, adds, the accesslog, LDAPS and
//! StartTLS with the test CA (and not with another one), binds, and the password policy
//! lock that refuses them.

use ferry_test_support::{TempSlapd, shared_slapd};

#[test]
fn answers_a_plain_search_with_the_base_entries() {
    let slapd = shared_slapd();
    let ldif = slapd.ldapsearch(slapd.base_dn(), "(objectClass=organizationalUnit)", &["ou"]);
    for ou in ["ou: people", "ou: groups"] {
        assert!(ldif.contains(ou), "{ou} missing from:\n{ldif}");
    }
}

#[test]
fn an_added_entry_is_found() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let dn = format!("uid=ada,{ou}");
    slapd.ldapadd(&format!(
        "dn: {dn}\nobjectClass: inetOrgPerson\nuid: ada\ncn: Ada Lovelace\nsn: Lovelace\n\
         mail: ada@example.org\ndescription: Zählmaschine\n"
    ));
    let ldif = slapd.ldapsearch(&ou, "(uid=ada)", &["mail"]);
    assert!(ldif.contains(&format!("dn: {dn}")), "{ldif}");
    assert!(ldif.contains("mail: ada@example.org"), "{ldif}");

    let entry = slapd.entry(&dn).expect("the entry exists");
    assert_eq!(entry["cn"], ["Ada Lovelace"]);
    // Sent as base64 (not ASCII), decoded.
    assert_eq!(entry["description"], ["Zählmaschine"]);
    assert_eq!(entry["entryUUID"].len(), 1);
    assert_eq!(slapd.entry(&format!("uid=nobody,{ou}")), None);
}

#[test]
fn entries_loaded_before_start_are_served_with_the_base_entries() {
    let slapd = TempSlapd::start_with_entries(|base| {
        format!("dn: ou=loaded,{base}\nobjectClass: organizationalUnit\nou: loaded\n")
    });
    let ldif = slapd.ldapsearch(slapd.base_dn(), "(objectClass=organizationalUnit)", &["ou"]);
    for ou in ["ou: people", "ou: groups", "ou: loaded"] {
        assert!(ldif.contains(ou), "{ou} missing from:\n{ldif}");
    }
    let entry = slapd
        .entry(&format!("ou=loaded,{}", slapd.base_dn()))
        .expect("the loaded entry exists");
    assert_eq!(entry["entryUUID"].len(), 1, "slapadd gave it an entryUUID");
    // Online adds still work beside the loaded entries.
    slapd.unique_ou();
}

#[test]
fn a_modification_is_applied() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    slapd.ldapmodify(&format!(
        "dn: {ou}\nchangetype: modify\nreplace: description\ndescription: changed\n"
    ));
    assert_eq!(slapd.entry(&ou).unwrap()["description"], ["changed"]);
}

#[test]
fn an_add_shows_up_in_the_accesslog() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let log = slapd.ldapsearch(
        "cn=accesslog",
        &format!("(&(objectClass=auditAdd)(reqDN={ou}))"),
        &["reqDN", "reqStart", "reqEntryUUID", "reqResult"],
    );
    assert!(log.contains(&format!("reqDN: {ou}")), "{log}");
    let uuid = &slapd.entry(&ou).unwrap()["entryUUID"][0];
    assert!(log.contains(&format!("reqEntryUUID: {uuid}")), "{log}");
    // The base entries were added online too, so they are logged as well.
    let base = slapd.ldapsearch("cn=accesslog", "(objectClass=auditAdd)", &["reqDN"]);
    assert!(
        base.contains("reqDN: ou=people,dc=example,dc=org"),
        "{base}"
    );
}

/// `ldapsearch` of the root DSE at `url` trusting `ca`, with `extra` arguments (e.g. -ZZ).
fn search_root_dse(
    slapd: &TempSlapd,
    url: &str,
    ca: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    slapd
        .client_command("ldapsearch")
        .env("LDAPTLS_CACERT", ca)
        .args(["-x", "-H", url, "-s", "base", "-b", "", "namingContexts"])
        .args(extra)
        .output()
        .expect("cannot run ldapsearch")
}

#[test]
fn ldaps_works_with_the_test_ca_and_fails_with_another() {
    let slapd = shared_slapd();
    let trusted = search_root_dse(slapd, &slapd.ldaps_url(), slapd.ca_pem_path(), &[]);
    assert!(trusted.status.success(), "{trusted:?}");
    let untrusted = search_root_dse(slapd, &slapd.ldaps_url(), slapd.other_ca_pem_path(), &[]);
    assert!(!untrusted.status.success(), "{untrusted:?}");
}

#[test]
fn starttls_works_with_the_test_ca_and_fails_with_another() {
    let slapd = shared_slapd();
    let trusted = search_root_dse(slapd, &slapd.url(), slapd.ca_pem_path(), &["-ZZ"]);
    assert!(trusted.status.success(), "{trusted:?}");
    let untrusted = search_root_dse(slapd, &slapd.url(), slapd.other_ca_pem_path(), &["-ZZ"]);
    assert!(!untrusted.status.success(), "{untrusted:?}");
}

#[test]
fn a_user_binds_with_their_password_and_reads_only_their_own_entry() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let (user, other) = (format!("uid=grace,{ou}"), format!("uid=alan,{ou}"));
    slapd.ldapadd(&format!(
        "dn: {user}\nobjectClass: inetOrgPerson\nuid: grace\ncn: Grace\nsn: Hopper\n\
         userPassword: cobol\n\n\
         dn: {other}\nobjectClass: inetOrgPerson\nuid: alan\ncn: Alan\nsn: Turing\n"
    ));
    let search_as = |dn: &str, password: &str, base: &str| {
        slapd
            .client_command("ldapsearch")
            .args(["-x", "-H", &slapd.url(), "-D", dn, "-w", password])
            .args(["-LLL", "-s", "base", "-b", base])
            .output()
            .expect("cannot run ldapsearch")
    };
    let own = search_as(&user, "cobol", &user);
    assert!(own.status.success(), "{own:?}");
    let own = String::from_utf8(own.stdout).unwrap();
    assert!(own.contains("cn: Grace"), "{own}");
    assert!(!own.contains("userPassword"), "{own}");
    // Someone else's entry does not exist for this user (32, no such object).
    assert_eq!(search_as(&user, "cobol", &other).status.code(), Some(32));
    // A wrong password is refused (49, invalid credentials).
    assert_eq!(search_as(&user, "fortran", &user).status.code(), Some(49));

    // The admin can change the password, and the new one works.
    slapd.ldapmodify(&format!(
        "dn: {user}\nchangetype: modify\nreplace: userPassword\nuserPassword: flow-matic\n"
    ));
    assert!(search_as(&user, "flow-matic", &user).status.success());
    assert_eq!(slapd.entry(&user).unwrap()["userPassword"], ["flow-matic"]);
}

#[test]
fn the_client_certificate_authenticates_with_sasl_external() {
    let slapd = shared_slapd();
    let whoami = slapd
        .client_command("ldapwhoami")
        .env("LDAPTLS_CERT", slapd.client_cert_path())
        .env("LDAPTLS_KEY", slapd.client_key_path())
        .args(["-Y", "EXTERNAL", "-ZZ", "-H", &slapd.url()])
        .output()
        .expect("cannot run ldapwhoami");
    assert!(whoami.status.success(), "{whoami:?}");
    assert_eq!(
        String::from_utf8_lossy(&whoami.stdout).trim(),
        "dn:cn=ferry-test-client"
    );
}

#[test]
fn a_permanent_password_policy_lock_refuses_binds_until_it_is_removed() {
    let slapd = shared_slapd();
    let ou = slapd.unique_ou();
    let user = format!("uid=ken,{ou}");
    slapd.ldapadd(&format!(
        "dn: {user}\nobjectClass: inetOrgPerson\nuid: ken\ncn: Ken\nsn: Thompson\n\
         userPassword: unix\n"
    ));
    let whoami = || {
        slapd
            .client_command("ldapwhoami")
            .args(["-x", "-H", &slapd.url(), "-D", &user, "-w", "unix"])
            .output()
            .expect("cannot run ldapwhoami")
    };
    let bound = whoami();
    assert!(bound.status.success(), "{bound:?}");
    assert_eq!(
        String::from_utf8_lossy(&bound.stdout).trim(),
        format!("dn:{user}")
    );

    // The admin writes the operational attribute with a plain modify.
    slapd.ldapmodify(&format!(
        "dn: {user}\nchangetype: modify\nreplace: pwdAccountLockedTime\n\
         pwdAccountLockedTime: 000001010000Z\n"
    ));
    assert_eq!(
        slapd.entry(&user).unwrap()["pwdAccountLockedTime"],
        ["000001010000Z"]
    );
    // Locked: the right password is refused as invalid credentials (49).
    assert_eq!(whoami().status.code(), Some(49));

    slapd.ldapmodify(&format!(
        "dn: {user}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
    ));
    assert!(
        !slapd
            .entry(&user)
            .unwrap()
            .contains_key("pwdAccountLockedTime")
    );
    let again = whoami();
    assert!(again.status.success(), "{again:?}");
}
