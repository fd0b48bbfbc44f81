//! Opaque cursors and watermarks: the strings the host keeps between calls and hands
//! back (`next-cursor`, a delta `watermark`). The host stores them with the app's cache,
//! so they outlive the component that wrote them; each is JSON tagged with the connector
//! and a format version, so that a string from another connector or an older format is
//! refused (and the host starts a full import) instead of misread.
//!
//! ```
//! # use ferry_connector::cursor::Format;
//! # use serde::{Deserialize, Serialize};
//! #[derive(Serialize, Deserialize)]
//! struct Cursor {
//!     after: u64,
//! }
//! const CURSORS: Format = Format::new("my-connector", 1);
//! let text = CURSORS.encode(&Cursor { after: 10 });
//! assert_eq!(text, r#"{"v":"my-connector/1","after":10}"#);
//! let cursor: Cursor = CURSORS.decode(&text, "cursor")?;
//! assert!(CURSORS.decode::<Cursor>(r#"{"v":"my-connector/0","after":10}"#, "cursor").is_err());
//! # Ok::<(), ferry_connector::Error>(())
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::Error;

/// The encoding of one connector's cursors and watermarks at one format version. Bump
/// the version whenever what a cursor means changes: strings of the old version are then
/// refused rather than misread.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    connector: &'static str,
    version: u32,
}

/// The JSON form: the tag, then the body's own fields.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: String,
    #[serde(flatten)]
    body: T,
}

impl Format {
    /// The format of `connector`'s strings at `version`.
    pub const fn new(connector: &'static str, version: u32) -> Self {
        Self { connector, version }
    }

    /// The opaque string for `body`, which must serialise as a JSON object (a struct, a
    /// map, or an enum tagged inside: its fields sit beside the tag).
    pub fn encode<T: Serialize>(&self, body: &T) -> String {
        serde_json::to_string(&Envelope {
            v: self.tag(),
            body,
        })
        .expect("cursors and watermarks hold only JSON-safe data")
    }

    /// Reads a string this format produced. Anything else, including a string of another
    /// version, is the `invalid-input` of [`refusal`](Self::refusal): `what` says which
    /// string it was ("cursor", "watermark").
    pub fn decode<T: DeserializeOwned>(&self, text: &str, what: &str) -> Result<T, Error> {
        let envelope: Envelope<T> = serde_json::from_str(text).map_err(|_| self.refusal(what))?;
        if envelope.v != self.tag() {
            return Err(self.refusal(what));
        }
        Ok(envelope.body)
    }

    /// The error for a string this connector cannot use, telling the host and the
    /// operator what fixes it; also for a string that decodes but whose content no longer
    /// fits (a paging cookie that is not base64).
    pub fn refusal(&self, what: &str) -> Error {
        Error::invalid_input(format!(
            "the {what} was not produced by this version of {}; start a full import",
            self.connector
        ))
    }

    /// The `v` every string of this format carries: `connector/version`.
    fn tag(&self) -> String {
        format!("{}/{}", self.connector, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cursor {
        table: String,
        after: Option<i64>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "source", rename_all = "kebab-case")]
    enum Watermark {
        Log { after: Option<String> },
        Timestamp { since: i64 },
    }

    const FORMAT: Format = Format::new("test-connector", 2);

    #[test]
    fn round_trips_structs_and_tagged_enums() {
        let cursor = Cursor {
            table: "users 'x' \"y\" 😀".into(),
            after: Some(-5),
        };
        let text = FORMAT.encode(&cursor);
        assert!(text.starts_with(r#"{"v":"test-connector/2","#), "{text}");
        assert_eq!(FORMAT.decode::<Cursor>(&text, "cursor"), Ok(cursor));
        for watermark in [
            Watermark::Log { after: None },
            Watermark::Timestamp { since: 7 },
        ] {
            let text = FORMAT.encode(&watermark);
            assert_eq!(
                FORMAT.decode::<Watermark>(&text, "watermark"),
                Ok(watermark)
            );
        }
    }

    #[test]
    fn refuses_strings_it_did_not_produce() {
        for text in [
            "",
            "null",
            "{}",
            r#"{"v":"test-connector/1","table":"t","after":null}"#,
            r#"{"v":"other/2","table":"t","after":null}"#,
            r#"{"v":"test-connector/2"}"#,
        ] {
            let failure = FORMAT.decode::<Cursor>(text, "cursor").unwrap_err();
            assert_eq!(
                failure.message,
                "the cursor was not produced by this version of test-connector; start a full import",
                "{text}"
            );
        }
    }
}
