//! The host's `log` capability behind a trait, so connector logic takes a `&dyn Log`:
//! in the component it is [`HostLog`], which hands lines to Ferry's log (with the app and
//! plugin named); in native tests it is a fake that keeps them (`testing::MemoryLog`).
//!
//! Never log secrets: the host cannot tell them apart from other text.

pub use crate::bindings::ferry::connector::log::Level;

/// Somewhere to write log lines.
pub trait Log {
    /// Writes `message` at `level`.
    fn log(&self, level: Level, message: &str);

    /// Detail for an operator chasing a problem (`FERRY_LOG=debug`).
    fn debug(&self, message: &str) {
        self.log(Level::Debug, message);
    }

    /// Something an operator may want to know: a reconnect, a retry.
    fn info(&self, message: &str) {
        self.log(Level::Info, message);
    }

    /// Something went wrong but the call goes on: a value left out, a restarted search.
    fn warn(&self, message: &str) {
        self.log(Level::Warn, message);
    }

    /// Something failed.
    fn error(&self, message: &str) {
        self.log(Level::Error, message);
    }
}

/// The host's log, through the `log` import. Only usable inside the component.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostLog;

impl Log for HostLog {
    fn log(&self, level: Level, message: &str) {
        crate::bindings::ferry::connector::log::log(level, message);
    }
}
