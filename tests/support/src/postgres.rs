//! A private PostgreSQL server for tests, from the machine's own server binaries.
//!
//! Facts this follows (Debian's `postgresql` package, checked on these machines):
//! * the binaries live in `/usr/lib/postgresql/<major>/bin`; they are called directly to
//!   skip Debian's cluster wrappers, and the highest installed major is used;
//! * `initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres`
//!   user through `runuser -u postgres --`, the server's folder is chowned to `postgres`,
//!   and the folder sits under a parent every user can traverse;
//! * the server listens on 127.0.0.1 only, on a free port, with its unix socket inside its
//!   own folder (a socket path must stay under 108 bytes), trust authentication, and
//!   without fsync: a test database is thrown away anyway.
//!
//! Starting one costs about a second (`initdb`), so tests normally share one server per
//! test process ([`shared_postgres`]) and take a fresh database each
//! ([`TempPostgres::unique_database`]).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::free_port;
use crate::lifeline::Lifeline;
use crate::process::{describe, run};

/// Where Debian installs one folder per PostgreSQL major version.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// How many free ports `start` tries before giving up: another process can take the port
/// between [`free_port`] and the server binding it.
const START_ATTEMPTS: usize = 3;

/// A running PostgreSQL server owned by the test that started it. Dropping it stops the
/// server (`pg_ctl stop -m immediate`) and removes its folder; so does the end of the test
/// process, even when the value is never dropped (see the crate's lifeline).
pub struct TempPostgres {
    port: u16,
    folder: PathBuf,
    bin: PathBuf,
    _lifeline: Lifeline,
}

impl TempPostgres {
    /// Initialises a new cluster in a temporary folder and starts it, waiting until it
    /// accepts connections.
    ///
    /// # Panics
    /// When the server binaries are not installed (saying which package to install), or
    /// when `initdb` or the server fails (with the server's log). A test must fail, never
    /// skip, when its server cannot run.
    pub fn start() -> TempPostgres {
        let bin = server_binaries();
        let folder = tempfile::Builder::new()
            .prefix("ferry-pg-")
            .tempdir_in(folder_base())
            .expect("cannot create a temporary folder for PostgreSQL")
            .keep();
        let folder_path = folder.to_str().expect("temporary folder path is not UTF-8");
        let data = format!("{folder_path}/data");
        let log = format!("{folder_path}/server.log");
        let pg_ctl = bin.join("pg_ctl");
        // Armed before anything runs, so a panic below or a killed test process still
        // stops whatever started and removes the folder.
        let lifeline = Lifeline::spawn(
            &as_postgres(&pg_ctl, &["stop", "-m", "immediate", "-w", "-D", &data]),
            &folder,
        );
        if running_as_root() {
            run(Command::new("chown").arg("postgres:").arg(&folder), "chown");
        }
        let initdb = [
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ];
        run(
            command(&as_postgres(&bin.join("initdb"), &initdb)).current_dir(&folder),
            "initdb",
        );
        write_settings(Path::new(&data), folder_path);

        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let port_option = format!("-p {port}");
            let start = [
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                &data,
                "-l",
                &log,
                "-o",
                &port_option,
            ];
            let started = command(&as_postgres(&pg_ctl, &start))
                .current_dir(&folder)
                .output()
                .expect("cannot run pg_ctl");
            if started.status.success() {
                return TempPostgres {
                    port,
                    folder,
                    bin,
                    _lifeline: lifeline,
                };
            }
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            if !server_log.contains("could not bind") {
                panic!(
                    "PostgreSQL did not start: {}\n--- {log} ---\n{server_log}",
                    describe(&started)
                );
            }
        }
        panic!("PostgreSQL could not bind a free port in {START_ATTEMPTS} attempts");
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's folder (cluster in `data/`, log in `server.log`, unix socket): worth a
    /// look when a test fails. It disappears with the server.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The URL of `database` for the `postgres` superuser (trust authentication, so no
    /// password), in the form Ferry's configuration takes.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database.
    ///
    /// # Panics
    /// When `createdb` fails (e.g. the database exists).
    pub fn create_database(&self, name: &str) {
        run(
            Command::new(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(self.port.to_string())
                .arg(name),
            "createdb",
        );
    }

    /// Creates an empty database with a name no other caller in this process gets, and
    /// returns the name: tests sharing one server stay apart by each using their own.
    pub fn unique_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.create_database(&name);
        name
    }
}

/// One server for the whole test process, started by the first caller: a cluster costs
/// about a second to create, a database on it a few milliseconds.
///
/// `static`s are never dropped, so this server is stopped and its folder removed by its
/// lifeline when the test process exits (or is killed).
pub fn shared_postgres() -> &'static TempPostgres {
    static SHARED: OnceLock<TempPostgres> = OnceLock::new();
    SHARED.get_or_init(TempPostgres::start)
}

/// The `bin` folder of the highest PostgreSQL major version installed.
fn server_binaries() -> PathBuf {
    let highest = std::fs::read_dir(INSTALL_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            ["initdb", "pg_ctl", "postgres", "createdb"]
                .iter()
                .all(|tool| bin.join(tool).is_file())
                .then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    match highest {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found in {INSTALL_ROOT}/*/bin: install the Debian \
             package postgresql (`cargo xtask test` does it when run as root)"
        ),
    }
}

/// Whether this process's effective user is root, from `/proc/self/status`.
fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|uids| uids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// The folder to create the server's folder in: the temporary folder when the `postgres`
/// user can traverse it and the socket path stays short, otherwise `/tmp`.
fn folder_base() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::temp_dir();
    // Room for "/ferry-pg-XXXXXX/.s.PGSQL.65535" under the 107-byte socket path limit.
    let short = base.as_os_str().len() < 64;
    let traversable = base.ancestors().all(|folder| {
        std::fs::metadata(folder).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    });
    if short && traversable {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

/// Appends the test cluster's settings to its `postgresql.conf`.
fn write_settings(data: &Path, socket_folder: &str) {
    let mut settings = String::from("\n# ferry-test-support\n");
    for (name, value) in [
        ("listen_addresses", "'127.0.0.1'"),
        (
            "unix_socket_directories",
            &format!("'{}'", socket_folder.replace('\'', "''")),
        ),
        // Nothing here must survive a crash: skip every flush.
        ("fsync", "off"),
        ("synchronous_commit", "off"),
        ("full_page_writes", "off"),
        // Many tests share one server, each with its own connections.
        ("max_connections", "200"),
        ("shared_buffers", "32MB"),
        // Parallel workers need dynamic shared memory, which containers often keep small.
        ("max_parallel_workers_per_gather", "0"),
    ] {
        let _ = writeln!(settings, "{name} = {value}");
    }
    let path = data.join("postgresql.conf");
    let mut conf = std::fs::read_to_string(&path).expect("cannot read postgresql.conf");
    conf.push_str(&settings);
    std::fs::write(&path, conf).expect("cannot write postgresql.conf");
}

/// `program args…`, run as the `postgres` user when we are root (the server tools refuse
/// root).
fn as_postgres(program: &Path, args: &[&str]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = Vec::new();
    if running_as_root() {
        argv.extend(["runuser", "-u", "postgres", "--"].map(OsString::from));
    }
    argv.push(program.into());
    argv.extend(args.iter().map(OsString::from));
    argv
}

/// A command for an argument vector from [`as_postgres`].
fn command(argv: &[OsString]) -> Command {
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    command
}
