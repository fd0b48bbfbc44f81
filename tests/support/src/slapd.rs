//! A private OpenLDAP server (slapd) for tests, from the machine's own `slapd` package.
//!
//! Facts this follows (Debian 12's `slapd` 2.5 and `ldap-utils`, checked on these machines):
//! * the Debian package's own configuration under `/etc/ldap` is ignored: each server gets a
//!   `cn=config` of its own in its folder, loaded with `slapadd -n0` (which also resolves the
//!   `include:` lines of the schema LDIFs in `/etc/ldap/schema`); see `slapd/config.rs`;
//! * slapd runs as whoever runs the tests (no `-u`/`-g`) in the foreground with `-d 32768`,
//!   which logs only the errors that are always logged (there is no syslog here; `-d 0`
//!   would hide even fatal ones), into `slapd.log` in its folder;
//! * it listens on 127.0.0.1 only: a plain port (which also offers StartTLS) and an LDAPS
//!   port, with certificates from a test CA made at start (see `certs.rs`);
//! * the base entries are added online with `ldapadd`, not with `slapadd`: `slapadd` writes
//!   the database directly and bypasses overlays, so its entries would be missing from
//!   `cn=accesslog`, and tests compare what they did with what the accesslog recorded
//!   ([`TempSlapd::start_with_entries`] loads them with `slapadd`, with many more entries,
//!   for the benchmarks' large directories, which need no accesslog of them);
//! * the ppolicy overlay runs on the directory, so `pwdAccountLockedTime: 000001010000Z`
//!   refuses a user's binds (49, invalid credentials) until it is removed. In 2.5 the
//!   ppolicy schema is built into the module (there is no `ppolicy.ldif` to include), the
//!   attribute is operational but not NO-USER-MODIFICATION (the admin writes it with a
//!   plain modify, and it can be given on add), and the lock is ignored unless a policy
//!   with `pwdLockout: TRUE` applies: hence the default policy among the base entries;
//! * the helpers run the command-line clients over the plain port with `LDAPNOINIT=1`, so no
//!   `ldap.conf` or `~/.ldaprc` of the machine changes what they do; TLS clients cannot have
//!   it (see [`TempSlapd::client_command`]).
//!
//! Starting one costs well under a second, but tests normally share one server per test
//! process ([`shared_slapd`]) and each work in a subtree of their own
//! ([`TempSlapd::unique_ou`]).

mod config;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::certs::TestCertificates;
use crate::lifeline::Lifeline;
use crate::process::{describe, run};
use crate::{daemon, free_port, ldif};

use config::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, POLICY_DN};

/// How many pairs of free ports `start` tries before giving up: another process can take a
/// port between [`free_port`] and slapd binding it.
const START_ATTEMPTS: usize = 3;

/// How long slapd may take to answer its first search.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The `ldapsearch` exit status for "no such object" (LDAP result 32).
const NO_SUCH_OBJECT: i32 = 32;

/// The entries every server starts with: the suffix, the password policy the ppolicy
/// overlay applies to every entry (see `slapd/config.rs`), `ou=people` and `ou=groups`.
///
/// The policy only turns account locks on (`pwdLockout: TRUE`): slapd 2.5 ignores
/// `pwdAccountLockedTime` without a policy saying so, and with no `pwdMaxFailure` failed
/// binds never lock anyone, so an account is locked only by writing the attribute.
fn base_entries() -> String {
    format!(
        "\
dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
dc: example
o: Ferry tests

dn: {POLICY_DN}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: password-policy
pwdAttribute: userPassword
pwdLockout: TRUE

dn: ou=people,{BASE_DN}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE_DN}
objectClass: organizationalUnit
ou: groups
"
    )
}

/// A running slapd owned by the test that started it. Dropping it kills the server and
/// removes its folder; so does the end of the test process, even when the value is never
/// dropped (see the crate's lifeline).
pub struct TempSlapd {
    port: u16,
    ldaps_port: u16,
    folder: PathBuf,
    certs: TestCertificates,
    server: Child,
    lifeline: Lifeline,
}

impl TempSlapd {
    /// Configures a new server in a temporary folder, starts it, waits until it answers and
    /// adds the base entries (`dc=example,dc=org`, its password policy, `ou=people`,
    /// `ou=groups`).
    ///
    /// # Panics
    /// When OpenLDAP is not installed (saying which packages to install), or when `slapadd`
    /// or the server fails (with the server's log). A test must fail, never skip, when its
    /// server cannot run.
    pub fn start() -> TempSlapd {
        TempSlapd::launch(None)
    }

    /// Like [`Self::start`], with more entries: `entries` is given the base DN and returns
    /// LDIF add records below it, which `slapadd -q` loads with the base entries before the
    /// server starts. That loads tens of thousands of entries a second where online adds
    /// manage about a thousand, for the benchmarks' large directories; but neither these
    /// entries nor the base entries are then in `cn=accesslog` (slapadd bypasses overlays).
    ///
    /// # Panics
    /// As [`Self::start`], and when `slapadd` refuses an entry.
    pub fn start_with_entries(entries: impl FnOnce(&str) -> String) -> TempSlapd {
        TempSlapd::launch(Some(format!("{}\n{}", base_entries(), entries(BASE_DN))))
    }

    /// Configures and starts a server; the base entries are added online after it starts,
    /// or, when `offline` is given, loaded with it before.
    fn launch(offline: Option<String>) -> TempSlapd {
        for name in ["slapd", "slapadd", "ldapsearch", "ldapadd", "ldapmodify"] {
            tool(name);
        }
        let folder = tempfile::Builder::new()
            .prefix("ferry-slapd-")
            .tempdir()
            .expect("cannot create a temporary folder for slapd")
            .keep();
        let pid_file = folder.join("slapd.pid");
        // Armed before anything runs, so a panic below or a killed test process still
        // stops whatever started and removes the folder.
        let lifeline = Lifeline::spawn(&daemon::kill_command(&pid_file, &folder), &folder);
        let certs = TestCertificates::generate(&folder);
        let config_folder = folder.join("slapd.d");
        for database in [
            &config_folder,
            &folder.join("data"),
            &folder.join("accesslog"),
        ] {
            std::fs::create_dir(database).expect("cannot create slapd's folders");
        }
        let config = folder.join("config.ldif");
        std::fs::write(&config, config::config_ldif(&folder, &certs))
            .expect("cannot write config.ldif");
        run(
            Command::new(tool("slapadd"))
                .arg("-n0")
                .arg("-F")
                .arg(&config_folder)
                .arg("-l")
                .arg(&config),
            "slapadd of the configuration",
        );
        if let Some(entries) = &offline {
            let file = folder.join("entries.ldif");
            std::fs::write(&file, entries).expect("cannot write entries.ldif");
            run(
                Command::new(tool("slapadd"))
                    .arg("-q")
                    .arg("-F")
                    .arg(&config_folder)
                    .args(["-b", BASE_DN, "-l"])
                    .arg(&file),
                "slapadd of the entries",
            );
        }

        let log = folder.join("slapd.log");
        for _ in 0..START_ATTEMPTS {
            let (port, ldaps_port) = two_free_ports();
            let listeners = format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/");
            let args: [OsString; 6] = [
                "-h".into(),
                listeners.into(),
                "-F".into(),
                config_folder.clone().into(),
                "-d".into(),
                "32768".into(),
            ];
            let mut server = daemon::launch(&tool("slapd"), &args, &pid_file, &log);
            match wait_until_ready(&mut server, port, &log) {
                Ok(()) => {
                    let slapd = TempSlapd {
                        port,
                        ldaps_port,
                        folder,
                        certs,
                        server,
                        lifeline,
                    };
                    if offline.is_none() {
                        slapd.ldapadd(&base_entries());
                    }
                    return slapd;
                }
                Err(status) => {
                    let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                    if !server_log.contains("Address already in use") {
                        panic!(
                            "slapd exited at start ({status})\n--- {} ---\n{server_log}",
                            log.display()
                        );
                    }
                }
            }
        }
        panic!("slapd could not bind free ports in {START_ATTEMPTS} attempts");
    }

    /// The URL of the plain port, `ldap://127.0.0.1:PORT` (StartTLS is offered there).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The URL of the LDAPS port, `ldaps://127.0.0.1:PORT`; the server's certificate is
    /// issued by [`Self::ca_pem_path`] for `localhost` and `127.0.0.1`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The plain (and StartTLS) port, on 127.0.0.1 only.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The LDAPS port, on 127.0.0.1 only.
    pub fn ldaps_port(&self) -> u16 {
        self.ldaps_port
    }

    /// The suffix of the directory tests write to, `dc=example,dc=org`.
    pub fn base_dn(&self) -> &'static str {
        BASE_DN
    }

    /// The administrator's DN: the root DN of the directory, allowed everything, and the
    /// only account that can read `cn=accesslog`.
    pub fn admin_dn(&self) -> &'static str {
        ADMIN_DN
    }

    /// The administrator's password, for simple binds as [`Self::admin_dn`].
    pub fn admin_password(&self) -> &'static str {
        ADMIN_PASSWORD
    }

    /// The PEM file of the CA that issued the server's certificate: what a client must
    /// trust to connect with TLS.
    pub fn ca_pem_path(&self) -> &Path {
        &self.certs.ca
    }

    /// The PEM file of a CA that issued nothing here: a client trusting only this one must
    /// refuse the server.
    pub fn other_ca_pem_path(&self) -> &Path {
        &self.certs.other_ca
    }

    /// A client certificate (PEM, subject `CN=ferry-test-client`) issued by
    /// [`Self::ca_pem_path`], which the server accepts for TLS client authentication.
    pub fn client_cert_path(&self) -> &Path {
        &self.certs.client_cert
    }

    /// The private key (PEM) of [`Self::client_cert_path`].
    pub fn client_key_path(&self) -> &Path {
        &self.certs.client_key
    }

    /// The `[apps.APP.network]` and `[apps.APP.settings]` tables of a generic-ldap app
    /// that binds as the administrator and keeps users below `base_dn` (one entry per uid,
    /// the password policy as `active`): what the e2e tests, the conformance test and the
    /// benchmarks all configure. `security` is the connector's (`plain`, `starttls`,
    /// `ldaps`: the port follows); `ca` is the CA file to trust instead of the system's;
    /// `allow` the network grants (default: this server's port). The bind password is
    /// read from `ldap.password` beside the configuration, which the caller writes.
    pub fn app_tables(
        &self,
        app: &str,
        base_dn: &str,
        security: &str,
        ca: Option<&Path>,
        allow: Option<&[String]>,
    ) -> String {
        let port = if security == "ldaps" {
            self.ldaps_port()
        } else {
            self.port()
        };
        let allow = allow.map_or_else(
            || format!("\"127.0.0.1:{port}\""),
            |allow| {
                allow
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        let trust = ca.map_or_else(String::new, |ca| {
            format!("ca-file = \"{}\"\nsystem-roots = false\n", ca.display())
        });
        format!(
            r#"
[apps.{app}.network]
allow = [{allow}]
{trust}
[apps.{app}.settings]
host = "127.0.0.1"
port = {port}
security = "{security}"
bind-dn = "{bind_dn}"
bind-password = {{ file = "ldap.password" }}
base-dn = "{base_dn}"
user-dn-template = "uid={{uid}},{{base-dn}}"
disable = "ppolicy"
"#,
            bind_dn = self.admin_dn(),
        )
    }

    /// The server's folder (configuration in `slapd.d/` and `config.ldif`, databases, log in
    /// `slapd.log`, certificates): worth a look when a test fails. It disappears with the
    /// server.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// An `ldap-utils` tool (`ldapsearch`, `ldapmodify`, …) with no arguments yet, set up to
    /// talk TLS to this server: `LDAPTLS_CACERT` names the test CA (tests may point it at
    /// [`Self::other_ca_pem_path`] instead) and `LDAPTLS_REQCERT=demand`. Tests add `-H`,
    /// bind options and the rest.
    ///
    /// It cannot have `LDAPNOINIT=1`: libldap then ignores every `LDAP…` variable,
    /// `LDAPTLS_CACERT` included (checked here: the handshake fails with "peer cert
    /// untrusted"). So the machine's `/etc/ldap/ldap.conf` is read, but what matters is
    /// set above, and the user's files (`~/.ldaprc`, `./ldaprc`: `HOME` and the working
    /// folder are the server's folder) and the test process's own `LDAP…` variables are
    /// kept out.
    ///
    /// # Panics
    /// When the tool is not installed.
    pub fn client_command(&self, name: &str) -> Command {
        let mut command = Command::new(tool(name));
        for (variable, _) in std::env::vars_os() {
            if variable.as_encoded_bytes().starts_with(b"LDAP") {
                command.env_remove(variable);
            }
        }
        command
            .env("HOME", &self.folder)
            .current_dir(&self.folder)
            .env("LDAPTLS_CACERT", &self.certs.ca)
            .env("LDAPTLS_REQCERT", "demand");
        command
    }

    /// Searches the subtree at `base` for `filter` as the admin over the plain port, asking
    /// for `attrs` (all user attributes when empty), and returns the LDIF printed by
    /// `ldapsearch -LLL -o ldif-wrap=no`.
    ///
    /// # Panics
    /// When the search fails, with ldapsearch's output.
    pub fn ldapsearch(&self, base: &str, filter: &str, attrs: &[&str]) -> String {
        let output = self.search(base, "sub", filter, attrs);
        assert!(
            output.status.success(),
            "ldapsearch -b {base:?} {filter:?} failed: {}",
            describe(&output)
        );
        String::from_utf8(output.stdout).expect("ldapsearch printed non-UTF-8 LDIF")
    }

    /// Applies `ldif` (change records, as `ldapmodify` reads them) as the admin.
    ///
    /// # Panics
    /// When a change fails, with ldapmodify's output.
    pub fn ldapmodify(&self, ldif: &str) {
        self.apply("ldapmodify", ldif);
    }

    /// Adds the entries in `ldif` as the admin.
    ///
    /// # Panics
    /// When an add fails, with ldapadd's output.
    pub fn ldapadd(&self, ldif: &str) {
        self.apply("ldapadd", ldif);
    }

    /// The entry at `dn` with its user and operational attributes (`*`, `+`; `entryUUID`,
    /// `modifyTimestamp`, …), read as the admin, or `None` when there is none. Values given
    /// as base64 are decoded, so tests can compare them as text.
    ///
    /// # Panics
    /// When the search fails for another reason than a missing entry.
    pub fn entry(&self, dn: &str) -> Option<BTreeMap<String, Vec<String>>> {
        let output = self.search(dn, "base", "(objectClass=*)", &["*", "+"]);
        if output.status.code() == Some(NO_SUCH_OBJECT) {
            return None;
        }
        assert!(
            output.status.success(),
            "reading {dn:?} failed: {}",
            describe(&output)
        );
        let found = ldif::first_entry(&String::from_utf8_lossy(&output.stdout));
        Some(found.unwrap_or_else(|| panic!("ldapsearch found no entry at {dn:?}")))
    }

    /// Creates an organizational unit under the base DN with a name no other caller in this
    /// process gets, and returns its DN: tests sharing one server stay apart by each working
    /// under their own.
    pub fn unique_ou(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let dn = format!("ou={name},{BASE_DN}");
        self.ldapadd(&format!(
            "dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n"
        ));
        dn
    }

    /// `ldapsearch` as the admin with the given scope, in the LDIF form tests read.
    fn search(&self, base: &str, scope: &str, filter: &str, attrs: &[&str]) -> Output {
        let mut command = self.admin_command("ldapsearch");
        command
            .args([
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-s",
                scope,
                "-b",
                base,
                filter,
            ])
            .args(attrs);
        command.output().expect("cannot run ldapsearch")
    }

    /// Runs `ldapadd` or `ldapmodify` as the admin on `ldif`.
    fn apply(&self, name: &str, ldif: &str) {
        let mut child = self
            .admin_command(name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {name}: {error}"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Written from another thread: the tool's output could fill its pipe before it
        // has read all of a long LDIF.
        let output = std::thread::scope(|scope| {
            scope.spawn(move || stdin.write_all(ldif.as_bytes()));
            child.wait_with_output()
        })
        .unwrap_or_else(|error| panic!("cannot run {name}: {error}"));
        assert!(
            output.status.success(),
            "{name} failed: {}\n--- LDIF ---\n{ldif}",
            describe(&output)
        );
    }

    /// An `ldap-utils` tool (`ldapadd`, `ldapsearch`, …) bound as the admin with a simple
    /// bind over the plain port, unaffected by the machine's client configuration
    /// (`LDAPNOINIT=1`); callers add the rest. The benchmarks time it as the reference for
    /// what Ferry does to the directory.
    ///
    /// # Panics
    /// When the tool is not installed.
    pub fn admin_command(&self, name: &str) -> Command {
        let mut command = plain_client(name);
        command.args([
            "-x",
            "-H",
            &self.url(),
            "-D",
            ADMIN_DN,
            "-w",
            ADMIN_PASSWORD,
        ]);
        command
    }
}

impl Drop for TempSlapd {
    fn drop(&mut self) {
        // The lifeline kills slapd and waits for it, then removes the folder; only then is
        // the child reaped, so that its pid cannot be reused while the watchdog checks it.
        self.lifeline.release();
        let _ = self.server.wait();
    }
}

/// One server for the whole test process, started by the first caller.
///
/// `static`s are never dropped, so this server is killed and its folder removed by its
/// lifeline when the test process exits (or is killed).
pub fn shared_slapd() -> &'static TempSlapd {
    static SHARED: OnceLock<TempSlapd> = OnceLock::new();
    SHARED.get_or_init(TempSlapd::start)
}

/// The path of an OpenLDAP program, from `PATH` or the `sbin` folders (`slapd` and
/// `slapadd` live in `/usr/sbin`, often missing from a non-root `PATH`).
///
/// # Panics
/// When it is not installed, saying which packages to install.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|folder| folder.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "OpenLDAP not found ({name} is missing): install the Debian packages slapd and \
                 ldap-utils (`cargo xtask test` does it when run as root)"
            )
        })
}

/// A client tool for the plain port that no client configuration of the machine
/// (`ldap.conf`, `~/.ldaprc`, `LDAP…` variables) can change: `LDAPNOINIT=1`.
fn plain_client(name: &str) -> Command {
    let mut command = Command::new(tool(name));
    command.env("LDAPNOINIT", "1");
    command
}

/// Two distinct ports that were free a moment ago.
fn two_free_ports() -> (u16, u16) {
    let first = free_port();
    loop {
        let second = free_port();
        if second != first {
            return (first, second);
        }
    }
}

/// Waits until the server on `port` answers an anonymous search of the root DSE, or returns
/// how it exited when it stopped first.
///
/// # Panics
/// When it neither answers nor exits in [`READY_TIMEOUT`], with its log.
fn wait_until_ready(server: &mut Child, port: u16, log: &Path) -> Result<(), ExitStatus> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let url = format!("ldap://127.0.0.1:{port}");
    loop {
        if let Some(status) = server.try_wait().expect("cannot check on slapd") {
            return Err(status);
        }
        let answered = plain_client("ldapsearch")
            .args(["-x", "-H", &url, "-s", "base", "-b", "", "namingContexts"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if answered {
            return Ok(());
        }
        if Instant::now() > deadline {
            panic!(
                "slapd did not answer on {url} in {READY_TIMEOUT:?}\n--- {} ---\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
