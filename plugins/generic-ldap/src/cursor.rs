//! The opaque strings the host keeps between calls: the full-import cursor (the
//! paged-results cookie and what is needed to resume without it) and the delta
//! watermark (how far the accesslog or modifyTimestamp has been read). Both are
//! versioned JSON, so a string from another connector or version is refused, not misread.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferry_connector::Error;
use ferry_connector::cursor::Format;
use serde::{Deserialize, Serialize};

/// Which object type a full import is reading: users first, then groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Users.
    #[default]
    Users,
    /// Groups, after every user.
    Groups,
}

/// Where a full import stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportCursor {
    /// The object type being read; users in cursors written before groups existed.
    #[serde(default)]
    pub phase: Phase,
    /// The paged-results cookie (RFC 2696) the server returned, base64.
    pub cookie: String,
    /// The tag of the connection the cookie belongs to: a cookie is only valid on the
    /// connection that received it.
    pub connection: u64,
    /// How many entries earlier pages returned, to skip when the search has to start over
    /// on another connection.
    pub returned: u64,
    /// The delta watermark taken when the import began, for its last page.
    pub watermark: Option<Watermark>,
}

/// Where delta imports stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum Watermark {
    /// Through the accesslog entry with this `reqStart` (unique: it is the entry's RDN),
    /// and through the entries in `seen`; none for "from the log's first entry".
    Accesslog {
        /// The newest `reqStart` handled.
        after: Option<String>,
        /// The `reqStart` of every entry handled shortly before `after` (and `after`
        /// itself), so that entries logged late are handled and none twice.
        seen: Vec<String>,
    },
    /// Through this `modifyTimestamp`, and within it through the entries in `seen`.
    ModifyTimestamp {
        /// The newest `modifyTimestamp` handled; none for "every entry".
        since: Option<String>,
        /// The anchors already returned at exactly `since` (timestamps have one-second
        /// resolution, so several changes share one).
        seen: Vec<String>,
    },
}

/// How both are written: tagged `generic-ldap/1`.
const FORMAT: Format = Format::new("generic-ldap", 1);

impl ImportCursor {
    /// A cursor after a page.
    pub fn new(
        phase: Phase,
        cookie: &[u8],
        connection: u64,
        returned: u64,
        watermark: Option<Watermark>,
    ) -> Self {
        Self {
            phase,
            cookie: STANDARD.encode(cookie),
            connection,
            returned,
            watermark,
        }
    }

    /// The cookie's bytes.
    pub fn cookie_bytes(&self) -> Result<Vec<u8>, Error> {
        STANDARD
            .decode(&self.cookie)
            .map_err(|_| FORMAT.refusal("cursor"))
    }

    /// The opaque `next-cursor` string.
    pub fn encode(&self) -> String {
        FORMAT.encode(self)
    }

    /// Reads a cursor this connector returned.
    pub fn decode(text: &str) -> Result<Self, Error> {
        FORMAT.decode(text, "cursor")
    }
}

impl Watermark {
    /// The opaque watermark string.
    pub fn encode(&self) -> String {
        FORMAT.encode(self)
    }

    /// Reads a watermark this connector returned.
    pub fn decode(text: &str) -> Result<Self, Error> {
        FORMAT.decode(text, "watermark")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_with_binary_cookies() {
        let cursor = ImportCursor::new(
            Phase::Groups,
            &[0, 255, 10, 13],
            u64::MAX,
            500,
            Some(Watermark::Accesslog {
                after: Some("20240501120000.000001Z".into()),
                seen: vec!["20240501120000.000001Z".into()],
            }),
        );
        assert_eq!(cursor.cookie, "AP8KDQ==");
        let decoded = ImportCursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded, cursor);
        assert_eq!(decoded.cookie_bytes().unwrap(), [0, 255, 10, 13]);
    }

    #[test]
    fn watermarks_round_trip() {
        for watermark in [
            Watermark::Accesslog {
                after: None,
                seen: vec![],
            },
            Watermark::Accesslog {
                after: Some("20240501120000.000001Z".into()),
                seen: vec!["20240501115959.5Z".into(), "20240501120000.000001Z".into()],
            },
            Watermark::ModifyTimestamp {
                since: Some("20240501120000Z".into()),
                seen: vec!["uuid-1".into(), "uuid-2".into()],
            },
            Watermark::ModifyTimestamp {
                since: None,
                seen: vec![],
            },
        ] {
            let text = watermark.encode();
            assert!(text.starts_with("{\"v\":\"generic-ldap/1\""), "{text}");
            assert_eq!(Watermark::decode(&text).unwrap(), watermark);
        }
    }

    #[test]
    fn refuses_strings_it_did_not_produce() {
        for text in [
            "",
            "{}",
            "{\"v\":\"generic-sql/1\",\"types\":{}}",
            "{\"v\":\"generic-ldap/0\",\"source\":\"accesslog\",\"after\":null,\"seen\":[]}",
            "{\"v\":\"generic-ldap/1\",\"source\":\"syncrepl\"}",
        ] {
            let failure = Watermark::decode(text).unwrap_err();
            assert!(failure.message.contains("start a full import"), "{text}");
        }
        let older = "{\"v\":\"generic-ldap/1\",\"cookie\":\"\",\"connection\":1,\"returned\":2,\
                     \"watermark\":null}";
        assert_eq!(ImportCursor::decode(older).unwrap().phase, Phase::Users);
        let bad_cookie = ImportCursor {
            phase: Phase::Users,
            cookie: "not base64!".into(),
            connection: 1,
            returned: 0,
            watermark: None,
        };
        assert!(bad_cookie.cookie_bytes().is_err());
    }
}
