//! The `cn=config` of a test slapd, as the LDIF that `slapadd -n0` loads.

use std::path::Path;

use crate::certs::TestCertificates;

/// The suffix of the directory the tests write to.
pub(super) const BASE_DN: &str = "dc=example,dc=org";

/// The directory's administrator: the main database's root DN, so no ACL limits it.
pub(super) const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";

/// The administrator's password, kept in clear in the config: the server is thrown away.
pub(super) const ADMIN_PASSWORD: &str = "ferry-test-admin";

/// The password policy of every entry without one of its own (`olcPPolicyDefault`); the
/// entry itself is among the base entries added at start.
pub(super) const POLICY_DN: &str = "cn=password-policy,dc=example,dc=org";

/// What the refint overlay leaves in a group whose last member it removed (`member` is a
/// MUST of groupOfNames); no entry has this DN, so readers drop it as a dangling member.
const REFINT_NOTHING: &str = "cn=refint-nobody,dc=example,dc=org";

/// The map size of each LMDB database: the default 10 MiB fills up after a few thousand
/// entries, and the map is sparse, so 4 GiB costs nothing up front.
const MAX_SIZE: u64 = 4 << 30;

/// The configuration for a server whose folder is `folder` (databases in `data/` and
/// `accesslog/`) with TLS from `certs`.
///
/// * Schemas core, cosine, nis and inetorgperson; modules back_mdb, accesslog, syncprov,
///   ppolicy (which brings the password policy schema with it in 2.5) and refint.
/// * `cn=accesslog`, a database of its own defined *before* the main one (the overlay of the
///   main database names it), readable by the admin only, so that tests can see the writes
///   the server received.
/// * `dc=example,dc=org`, with the accesslog overlay logging successful writes. Users may
///   read their own entry, bind with their `userPassword` and see nothing else; the admin
///   may do everything (as root DN it is not bound by ACLs anyway, but the ACLs say so too,
///   for a reader and in case a test binds as a non-root admin later).
/// * The ppolicy overlay on `dc=example,dc=org` after the accesslog one, with
///   [`POLICY_DN`] as the default policy (an entry the server adds at start), so that
///   `pwdAccountLockedTime` locks accounts. The admin is the root DN, which ppolicy never
///   locks and which may write that (operational) attribute.
/// * The refint overlay, as production directories run it: a renamed or deleted entry's
///   DN is changed or removed in every `member`, `uniqueMember` and `manager` value that
///   names it (in a background thread of the server, just after the operation; those
///   attributes are indexed for its searches).
/// * No fsync (`olcDbNoSync`): nothing here must survive a crash.
/// * TLS on the plain port (StartTLS) and the LDAPS port; a client certificate is asked
///   for and checked against the test CA but not required (`olcTLSVerifyClient: allow`).
pub(super) fn config_ldif(folder: &Path, certs: &TestCertificates) -> String {
    let folder = folder.display();
    let ca = certs.ca.display();
    let cert = certs.server_cert.display();
    let key = certs.server_key.display();
    format!(
        "\
dn: cn=config
objectClass: olcGlobal
cn: config
olcTLSCACertificateFile: {ca}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
olcTLSVerifyClient: allow

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {{0}}back_mdb
olcModuleLoad: {{1}}accesslog
olcModuleLoad: {{2}}syncprov
olcModuleLoad: {{3}}ppolicy
olcModuleLoad: {{4}}refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/nis.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcAccess: {{0}}to dn.base=\"\" by * read
olcAccess: {{1}}to dn.base=\"cn=Subschema\" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: cn=accesslog
olcDbDirectory: {folder}/accesslog
olcDbMaxSize: {MAX_SIZE}
olcDbNoSync: TRUE
olcDbIndex: objectClass,reqStart,reqEntryUUID eq
olcAccess: {{0}}to * by dn.exact=\"{ADMIN_DN}\" read by * none

dn: olcDatabase={{2}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{2}}mdb
olcSuffix: {BASE_DN}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcDbDirectory: {folder}/data
olcDbMaxSize: {MAX_SIZE}
olcDbNoSync: TRUE
olcDbIndex: objectClass,entryUUID eq
olcDbIndex: uid,cn,mail eq,sub
olcDbIndex: member,uniqueMember,manager eq
olcAccess: {{0}}to attrs=userPassword by dn.exact=\"{ADMIN_DN}\" manage by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact=\"{ADMIN_DN}\" manage by self read by * none

dn: olcOverlay={{0}}accesslog,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {{0}}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE

dn: olcOverlay={{1}}ppolicy,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {{1}}ppolicy
olcPPolicyDefault: {POLICY_DN}

dn: olcOverlay={{2}}refint,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {{2}}refint
olcRefintAttribute: member uniqueMember manager
olcRefintNothing: {REFINT_NOTHING}
"
    )
}
