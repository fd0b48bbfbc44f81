//! SCIM resource ids from anchors. The id is the target's anchor when the anchor is
//! already URL-safe (so `GET /Users/42` works as an operator expects), and otherwise `~`
//! followed by the anchor in unpadded base64url. Both forms are stable across restarts and
//! never collide: a URL-safe anchor cannot start with `~`, and every encoded id does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The marker of an encoded id.
const ENCODED: char = '~';

fn url_safe(anchor: &str) -> bool {
    !anchor.is_empty()
        && anchor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The SCIM id of an anchor.
pub fn encode(anchor: &str) -> String {
    if url_safe(anchor) {
        anchor.to_string()
    } else {
        format!("{ENCODED}{}", URL_SAFE_NO_PAD.encode(anchor))
    }
}

/// The anchor of a SCIM id; `None` for text no anchor encodes to (which is then simply
/// "not found").
pub fn decode(id: &str) -> Option<String> {
    match id.strip_prefix(ENCODED) {
        Some(rest) => {
            let anchor = String::from_utf8(URL_SAFE_NO_PAD.decode(rest).ok()?).ok()?;
            // Only the canonical form: a URL-safe anchor is never encoded.
            (!anchor.is_empty() && !url_safe(&anchor)).then_some(anchor)
        }
        None => url_safe(id).then(|| id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_anchors_stay_readable() {
        assert_eq!(encode("42"), "42");
        assert_eq!(encode("3f1e-AB_c.d"), "3f1e-AB_c.d");
        assert_eq!(decode("42").as_deref(), Some("42"));
    }

    #[test]
    fn other_anchors_round_trip_url_safely() {
        for anchor in [
            "uid=ann,ou=people,dc=example,dc=org",
            "a/b",
            "~x",
            "é😀",
            " ",
            "a b",
            "%2F",
        ] {
            let id = encode(anchor);
            assert!(id.starts_with('~'));
            assert!(
                id[1..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
            assert_eq!(decode(&id).as_deref(), Some(anchor));
        }
    }

    #[test]
    fn junk_ids_decode_to_nothing() {
        for id in ["", "a b", "~", "~!!", "~NDI", "../etc"] {
            // "~NDI" is "42" encoded, which is not canonical.
            assert_eq!(decode(id), None, "{id}");
        }
    }
}
