//! A watchdog process that cleans up after a test server, whatever happens to the tests.
//!
//! Rust never runs destructors of `static`s, and a test process can die from `SIGKILL`,
//! an abort or a harness timeout, so `Drop` alone cannot promise that no server outlives
//! the tests. Instead every server gets a small `sh` watchdog, spawned *before* the server
//! starts, that blocks reading a pipe whose only writer is the test process. The pipe
//! closes when the server's owner lets go of it ([`Lifeline::release`], run by `Drop`) or
//! when the test process ends in any way (the kernel closes its descriptors); the watchdog
//! then runs the stop command and removes the server's folder.
//!
//! The watchdog sits in its own process group, so a Ctrl-C aimed at `cargo test` does not
//! kill it before it has cleaned up. Rust opens pipes close-on-exec, so servers and other
//! children never hold the writer open by inheritance.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Waits for EOF on stdin, then runs "$@" (the stop command) and removes the folder.
const WATCHDOG: &str =
    r#"cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf -- "$FERRY_LIFELINE_FOLDER""#;

/// The test process's end of a watchdog: dropping it (or the process ending) stops the
/// server and removes its folder.
pub(crate) struct Lifeline {
    watchdog: Child,
    pipe: Option<ChildStdin>,
}

impl Lifeline {
    /// Starts a watchdog that will run `stop` (program and arguments) and then remove
    /// `folder`.
    pub(crate) fn spawn(stop: &[OsString], folder: &Path) -> Lifeline {
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("ferry-lifeline")
            .args(stop)
            .env("FERRY_LIFELINE_FOLDER", folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cannot start the cleanup watchdog (sh)");
        let pipe = watchdog.stdin.take();
        Lifeline { watchdog, pipe }
    }

    /// Runs the cleanup now and waits until it is done.
    pub(crate) fn release(&mut self) {
        if self.pipe.take().is_some() {
            let _ = self.watchdog.wait();
        }
    }
}

impl Drop for Lifeline {
    fn drop(&mut self) {
        self.release();
    }
}
