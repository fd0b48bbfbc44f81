//! No test server may outlive its owner: not when it is dropped, not when the test
//! process ends with the server still in a `static`, not when that process is killed.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferry_test_support::TempPostgres;

/// The postmaster's process id, first line of `postmaster.pid`.
fn postmaster_pid(folder: &Path) -> u32 {
    let pid_file = std::fs::read_to_string(folder.join("data/postmaster.pid"))
        .expect("a running server has a postmaster.pid");
    pid_file.lines().next().unwrap().parse().unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Waits up to 30 s for the server process to be gone and its folder removed.
fn assert_cleaned_up(pid: u32, folder: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while (alive(pid) || folder.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "postmaster {pid} still runs");
    assert!(!folder.exists(), "{} still exists", folder.display());
}

#[test]
fn dropping_stops_the_server_and_removes_its_folder() {
    let postgres = TempPostgres::start();
    let folder = postgres.folder().to_owned();
    let pid = postmaster_pid(&folder);
    TcpStream::connect(("127.0.0.1", postgres.port())).expect("the server accepts connections");
    drop(postgres);
    // Drop waits for the cleanup: no polling needed.
    assert!(!alive(pid), "postmaster {pid} still runs after drop");
    assert!(
        !folder.exists(),
        "{} still exists after drop",
        folder.display()
    );
}

#[test]
fn two_servers_run_side_by_side() {
    let (first, second) = (TempPostgres::start(), TempPostgres::start());
    assert_ne!(first.port(), second.port());
    for server in [&first, &second] {
        TcpStream::connect(("127.0.0.1", server.port())).expect("the server accepts connections");
    }
}

/// Starts `ferry-hold-postgres` and returns it with its server's pid and folder.
fn holder() -> (Child, u32, PathBuf) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry-hold-postgres"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start ferry-hold-postgres");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (_port, folder) = line.trim_end().split_once(' ').expect("PORT FOLDER");
    let folder = PathBuf::from(folder);
    let pid = postmaster_pid(&folder);
    assert!(alive(pid));
    (child, pid, folder)
}

#[test]
fn a_process_exiting_with_a_shared_server_leaves_nothing_behind() {
    let (mut child, pid, folder) = holder();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_cleaned_up(pid, &folder);
}

#[test]
fn a_killed_process_leaves_nothing_behind() {
    let (mut child, pid, folder) = holder();
    child.kill().unwrap();
    let _ = child.wait();
    assert_cleaned_up(pid, &folder);
}
