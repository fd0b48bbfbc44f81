//! SearchResultEntry messages decoded straight from the received bytes. An import
//! receives little else, and `ldap3_proto`'s codec first builds a tree of every BER
//! element (an allocation each, through its `nom` parser) and then converts the tree
//! into the entry; this reads the same bytes into the entry in one pass. perf put the
//! codec's parse and conversion at about a fifth of the connector's compiled code in a
//! 100,000-entry import.
//!
//! Only the common case is decoded here: a complete message of the awaited request
//! holding a SearchResultEntry and nothing after it (no controls), every length in the
//! definite form LDAP requires (RFC 4511 section 5.1). Anything else — another message,
//! an incomplete one, controls, an encoding this reader does not expect — is left to the
//! codec, which decodes it or reports what is wrong with it. The entry of a Post-Read
//! response control (an add's answer) is the same operation standing alone, and is read
//! by the same code ([`search_result_entry`]).

use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

/// BER identifier octets of the elements a SearchResultEntry message is made of.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// `[APPLICATION 4]`, constructed: the SearchResultEntry operation.
const SEARCH_RESULT_ENTRY: u8 = 0x64;

/// The entry of the message at the start of `received` and the bytes the message
/// takes, when the message is a complete SearchResultEntry of request `id` without
/// controls and no larger than `max_message`; `None` for anything else (see the module
/// documentation).
pub fn decode(
    received: &[u8],
    id: i32,
    max_message: usize,
) -> Option<(LdapSearchResultEntry, usize)> {
    let mut rest = Reader(received);
    let mut message = Reader(rest.element(SEQUENCE)?);
    let used = received.len() - rest.0.len();
    if used > max_message || message.integer()? != id {
        return None;
    }
    let entry = message.search_result_entry()?;
    message.0.is_empty().then_some((entry, used))
}

/// The SearchResultEntry operation at the start of `element`, standing alone as the
/// value of a Post-Read response control does (RFC 4527); `None` when it is not one.
pub fn search_result_entry(element: &[u8]) -> Option<LdapSearchResultEntry> {
    Reader(element).search_result_entry()
}

/// The unread part of a run of BER elements.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The contents of the next element, which must have the identifier `tag`; `None`
    /// when it has another, or is incomplete, or its length is indefinite or longer
    /// than four octets.
    fn element(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&identifier, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        if identifier != tag {
            return None;
        }
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let octets = usize::from(first & 0x7f);
            if octets == 0 || octets > 4 {
                return None;
            }
            let (length, after) = rest.split_at_checked(octets)?;
            rest = after;
            length
                .iter()
                .fold(0usize, |sum, &octet| sum << 8 | usize::from(octet))
        };
        let (contents, after) = rest.split_at_checked(length)?;
        self.0 = after;
        Some(contents)
    }

    /// The next element as a SearchResultEntry operation: its DN and its attributes
    /// with their values, nothing else inside it.
    fn search_result_entry(&mut self) -> Option<LdapSearchResultEntry> {
        let mut op = Reader(self.element(SEARCH_RESULT_ENTRY)?);
        let dn = op.text()?;
        let mut list = Reader(op.element(SEQUENCE)?);
        if !op.0.is_empty() {
            return None;
        }
        let mut attributes = Vec::new();
        while !list.0.is_empty() {
            let mut attribute = Reader(list.element(SEQUENCE)?);
            let atype = attribute.text()?;
            let mut set = Reader(attribute.element(SET)?);
            if !attribute.0.is_empty() {
                return None;
            }
            let mut vals = Vec::new();
            while !set.0.is_empty() {
                vals.push(set.element(OCTET_STRING)?.to_vec());
            }
            attributes.push(LdapPartialAttribute { atype, vals });
        }
        Some(LdapSearchResultEntry { dn, attributes })
    }

    /// The next element as an OCTET STRING holding UTF-8 text (an LDAPString).
    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.element(OCTET_STRING)?.to_vec()).ok()
    }

    /// The next element as an INTEGER that fits in an `i32` (a message ID).
    fn integer(&mut self) -> Option<i32> {
        let octets = self.element(INTEGER)?;
        let (&first, _) = octets.split_first()?;
        if octets.len() > 4 {
            return None;
        }
        let sign = if first & 0x80 == 0 { 0 } else { -1 };
        Some(
            octets
                .iter()
                .fold(sign, |sum: i32, &octet| sum << 8 | i32::from(octet)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use ldap3_proto::LdapCodec;
    use ldap3_proto::control::LdapControl;
    use ldap3_proto::proto::{LdapMsg, LdapOp, LdapResult, LdapResultCode};
    use tokio_util::codec::{Decoder, Encoder};

    const MAX: usize = 16 * 1024 * 1024;

    fn entry(value_bytes: usize) -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: "uid=ann,ou=people,dc=example,dc=org".into(),
            attributes: vec![
                LdapPartialAttribute {
                    atype: "cn".into(),
                    vals: vec![b"Ann".to_vec(), "Änne".as_bytes().to_vec()],
                },
                LdapPartialAttribute {
                    atype: "jpegPhoto;binary".into(),
                    vals: vec![vec![0xff; value_bytes]],
                },
                LdapPartialAttribute {
                    atype: "description".into(),
                    vals: Vec::new(),
                },
            ],
        }
    }

    fn encoded(msgid: i32, op: LdapOp, ctrl: Vec<LdapControl>) -> BytesMut {
        let mut buf = BytesMut::new();
        LdapCodec::default()
            .encode(LdapMsg { msgid, op, ctrl }, &mut buf)
            .unwrap();
        buf
    }

    #[test]
    fn decodes_entries_as_the_codec_does_with_every_length_form() {
        // Values of 100 bytes, 200 (one length octet), 1,000 (two) and 70,000 (three);
        // message IDs of one to four octets.
        for (value_bytes, id) in [(100, 7), (200, 200), (1_000, 40_000), (70_000, i32::MAX)] {
            let mut buf = encoded(id, LdapOp::SearchResultEntry(entry(value_bytes)), vec![]);
            let length = buf.len();
            let done = LdapOp::SearchResultDone(LdapResult {
                code: LdapResultCode::Success,
                matcheddn: String::new(),
                message: String::new(),
                referral: Vec::new(),
            });
            buf.extend_from_slice(&encoded(id, done, vec![]));
            let (fast, used) = decode(&buf, id, MAX).expect("a plain entry decodes");
            assert_eq!(used, length, "exactly the first message is taken");
            let by_codec = LdapCodec::new(Some(MAX), None)
                .decode(&mut buf)
                .unwrap()
                .unwrap();
            assert_eq!(LdapOp::SearchResultEntry(fast), by_codec.op);
            assert_eq!(
                entry(value_bytes),
                match by_codec.op {
                    LdapOp::SearchResultEntry(e) => e,
                    other => panic!("{other:?}"),
                }
            );
        }
    }

    #[test]
    fn leaves_everything_but_a_complete_plain_entry_of_the_request_to_the_codec() {
        let buf = encoded(9, LdapOp::SearchResultEntry(entry(300)), vec![]);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], 9, MAX).is_none(), "cut at {cut}");
        }
        assert!(decode(&buf, 9, MAX).is_some());
        assert!(decode(&buf, 10, MAX).is_none(), "another request's entry");
        assert!(
            decode(&buf, 9, buf.len() - 1).is_none(),
            "larger than allowed"
        );
        let with_control = encoded(
            9,
            LdapOp::SearchResultEntry(entry(300)),
            vec![LdapControl::ManageDsaIT { criticality: false }],
        );
        assert!(decode(&with_control, 9, MAX).is_none(), "controls");
        let done = LdapOp::SearchResultDone(LdapResult {
            code: LdapResultCode::Success,
            matcheddn: String::new(),
            message: String::new(),
            referral: Vec::new(),
        });
        assert!(decode(&encoded(9, done, vec![]), 9, MAX).is_none());
        let mut indefinite = buf.to_vec();
        indefinite[1] = 0x80;
        assert!(decode(&indefinite, 9, MAX).is_none(), "indefinite length");
        let mut not_utf8 = buf.to_vec();
        let at = not_utf8.windows(3).position(|w| w == b"ann").unwrap();
        not_utf8[at] = 0xff;
        assert!(
            decode(&not_utf8, 9, MAX).is_none(),
            "a DN that is not UTF-8"
        );
    }
}
