//! A log that keeps its lines.

use std::cell::RefCell;
use std::rc::Rc;

use crate::log::{Level, Log};

/// The `log` capability for native tests: every line is kept (clones share them, so the
/// test keeps one clone and hands another to the connector) and echoed to stderr, where
/// `cargo test` shows it for a failing test.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    lines: Rc<RefCell<Vec<(Level, String)>>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every line logged so far, in order.
    pub fn lines(&self) -> Vec<(Level, String)> {
        self.lines.borrow().clone()
    }

    /// Whether a line containing `text` was logged.
    pub fn contains(&self, text: &str) -> bool {
        self.lines
            .borrow()
            .iter()
            .any(|(_, line)| line.contains(text))
    }
}

impl Log for MemoryLog {
    fn log(&self, level: Level, message: &str) {
        eprintln!("[{level:?}] {message}");
        self.lines.borrow_mut().push((level, message.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_across_clones() {
        let log = MemoryLog::new();
        let given: Box<dyn Log> = Box::new(log.clone());
        given.warn("the connection was lost; reconnecting");
        given.debug("connected");
        assert!(log.contains("reconnecting"));
        assert!(!log.contains("nothing like it"));
        assert_eq!(
            log.lines(),
            [
                (
                    Level::Warn,
                    "the connection was lost; reconnecting".to_owned()
                ),
                (Level::Debug, "connected".to_owned())
            ]
        );
    }
}
