//! Servers started as a direct child process (no control tool like `pg_ctl` to stop them),
//! tracked by a pid file so that the lifeline can kill them by pid.
//!
//! The pid file is created empty *before* the server is spawned and filled by the child
//! itself before it `exec`s the server, so there is no moment in which a server runs and the
//! watchdog cannot find it: if the test process dies right after spawning, the watchdog sees
//! the empty file and waits for the child to fill it. The server keeps the launcher's pid
//! (`exec`), and the watchdog only kills that pid while its command line still names the
//! server's folder, so a pid reused by an unrelated process is never touched.

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `sh -c` script that records its own pid in "$1", then becomes the server ("$2"…).
const LAUNCH: &str = r#"echo $$ >"$1" && shift && exec "$@""#;

/// `sh -c` script that kills the server whose pid is in "$1" if its command line names
/// "$2", and waits until it is gone (at most about 10 s each).
const KILL: &str = r#"
pid_file=$1 folder=$2
[ -e "$pid_file" ] || exit 0
tries=0
while [ ! -s "$pid_file" ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
read -r pid <"$pid_file" || exit 0
ours() { tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$folder"; }
ours || exit 0
kill -KILL "$pid"
tries=0
while ours && [ $tries -lt 200 ]; do sleep 0.05; tries=$((tries + 1)); done
"#;

/// Spawns `program args…` with its output written to `log` (emptied first), after creating
/// `pid_file` empty; the child writes its pid there before it becomes the server. Pass the
/// same `pid_file` to [`kill_command`] for the server's lifeline.
///
/// A killed server stays a zombie until the returned child is waited for.
pub(crate) fn launch(program: &Path, args: &[OsString], pid_file: &Path, log: &Path) -> Child {
    File::create(pid_file).expect("cannot create the server's pid file");
    let log = File::create(log).expect("cannot create the server's log");
    Command::new("sh")
        .arg("-c")
        .arg(LAUNCH)
        .arg("ferry-launch")
        .arg(pid_file)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("cannot share the server's log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()))
}

/// The stop command for the lifeline of a server started by [`launch`]: kills the pid in
/// `pid_file` if that process's command line contains `folder`, and waits until it is gone.
pub(crate) fn kill_command(pid_file: &Path, folder: &Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["sh", "-c", KILL, "ferry-kill"].map(OsString::from).into();
    argv.extend([pid_file.into(), folder.into()]);
    argv
}
