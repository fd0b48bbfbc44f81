//! No test server may outlive its owner: not when it is dropped, not when the test
//! process ends with the server still in a `static`, not when that process is killed.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first line of a pid file, as a process id.
fn pid_in(pid_file: &Path) -> u32 {
    let contents = std::fs::read_to_string(pid_file)
        .unwrap_or_else(|error| panic!("a running server has {}: {error}", pid_file.display()));
    contents.lines().next().unwrap().parse().unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Checks right away that the server process is gone and its folder removed: `Drop` waits
/// for the cleanup, so no polling is needed.
fn assert_dropped(pid: u32, folder: &Path) {
    assert!(!alive(pid), "server {pid} still runs after drop");
    assert!(
        !folder.exists(),
        "{} still exists after drop",
        folder.display()
    );
}

/// Waits up to 30 s for the server process to be gone and its folder removed.
fn assert_cleaned_up(pid: u32, folder: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while (alive(pid) || folder.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "server {pid} still runs");
    assert!(!folder.exists(), "{} still exists", folder.display());
}

/// Starts a holder program (`ferry-hold-…`) and returns it with its server's pid (read from
/// the pid file at `pid_file` inside the server's folder) and folder.
fn holder(program: &str, pid_file: &str) -> (Child, u32, PathBuf) {
    let mut child = Command::new(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (_port, folder) = line.trim_end().split_once(' ').expect("PORT FOLDER");
    let folder = PathBuf::from(folder);
    let pid = pid_in(&folder.join(pid_file));
    assert!(alive(pid));
    (child, pid, folder)
}

/// Lets a holder exit normally, its server still in a `static`.
fn end(mut holder: Child) {
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
}

/// Kills a holder with `SIGKILL`.
fn kill(mut holder: Child) {
    holder.kill().unwrap();
    let _ = holder.wait();
}

mod postgres {
    use super::*;
    use ferry_test_support::TempPostgres;

    const HOLDER: &str = env!("CARGO_BIN_EXE_ferry-hold-postgres");
    /// The postmaster's process id is the first line of this file.
    const PID_FILE: &str = "data/postmaster.pid";

    #[test]
    fn dropping_stops_the_server_and_removes_its_folder() {
        let postgres = TempPostgres::start();
        let folder = postgres.folder().to_owned();
        let pid = pid_in(&folder.join(PID_FILE));
        TcpStream::connect(("127.0.0.1", postgres.port())).expect("the server accepts connections");
        drop(postgres);
        assert_dropped(pid, &folder);
    }

    #[test]
    fn two_servers_run_side_by_side() {
        let (first, second) = (TempPostgres::start(), TempPostgres::start());
        assert_ne!(first.port(), second.port());
        for server in [&first, &second] {
            TcpStream::connect(("127.0.0.1", server.port()))
                .expect("the server accepts connections");
        }
    }

    #[test]
    fn a_process_exiting_with_a_shared_server_leaves_nothing_behind() {
        let (child, pid, folder) = holder(HOLDER, PID_FILE);
        end(child);
        assert_cleaned_up(pid, &folder);
    }

    #[test]
    fn a_killed_process_leaves_nothing_behind() {
        let (child, pid, folder) = holder(HOLDER, PID_FILE);
        kill(child);
        assert_cleaned_up(pid, &folder);
    }
}

mod slapd {
    use super::*;
    use ferry_test_support::TempSlapd;

    const HOLDER: &str = env!("CARGO_BIN_EXE_ferry-hold-slapd");
    /// Written by the launcher with slapd's pid before it becomes slapd.
    const PID_FILE: &str = "slapd.pid";

    #[test]
    fn dropping_stops_the_server_and_removes_its_folder() {
        let slapd = TempSlapd::start();
        let folder = slapd.folder().to_owned();
        let pid = pid_in(&folder.join(PID_FILE));
        for port in [slapd.port(), slapd.ldaps_port()] {
            TcpStream::connect(("127.0.0.1", port)).expect("the server accepts connections");
        }
        drop(slapd);
        assert_dropped(pid, &folder);
    }

    #[test]
    fn two_servers_run_side_by_side() {
        let (first, second) = (TempSlapd::start(), TempSlapd::start());
        let ports = [
            first.port(),
            first.ldaps_port(),
            second.port(),
            second.ldaps_port(),
        ];
        assert!(
            (1..ports.len()).all(|i| !ports[..i].contains(&ports[i])),
            "{ports:?}"
        );
        let ou = first.unique_ou();
        assert!(first.entry(&ou).is_some());
        assert_eq!(second.entry(&ou), None, "each server has its own data");
    }

    #[test]
    fn a_process_exiting_with_a_shared_server_leaves_nothing_behind() {
        let (child, pid, folder) = holder(HOLDER, PID_FILE);
        end(child);
        assert_cleaned_up(pid, &folder);
    }

    #[test]
    fn a_killed_process_leaves_nothing_behind() {
        let (child, pid, folder) = holder(HOLDER, PID_FILE);
        kill(child);
        assert_cleaned_up(pid, &folder);
    }
}
