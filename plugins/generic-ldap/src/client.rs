//! LDAPv3 operations over one `Transport`, one at a time: each request is BER-encoded by
//! `ldap3_proto`'s codec, written whole, and answered by reading until its response has
//! been decoded (search entries by `entry_ber`). The one exception is a search sent ahead
//! of being asked for, the next page of a paged search, whose answer waits on the wire
//! until it is asked for or another request is sent. The client knows nothing of
//! reconnecting or of the contract; it reports a broken stream and a refused operation
//! apart, so the caller can tell what to retry.

use bytes::{Buf, BytesMut};
use ldap3_lber::common::TagClass;
use ldap3_lber::structure::{PL, StructureTag};
use ldap3_lber::universal::Types;
use ldap3_proto::LdapCodec;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapAddRequest, LdapBindCred, LdapBindRequest, LdapExtendedRequest, LdapModifyDNRequest,
    LdapModifyRequest, LdapMsg, LdapOp, LdapResult, LdapResultCode, LdapSearchRequest,
    LdapSearchResultEntry, SaslCredentials,
};
use tokio_util::codec::{Decoder, Encoder};

use ferry_connector::net::NetError;
use ferry_connector::net::Transport;

use crate::entry_ber;

/// The largest message accepted from the server. An entry with a large photo or many
/// group members is still far below it; the cap only keeps a garbled length from making
/// the connector allocate without bound.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// How many bytes one read asks the host for.
const READ_CHUNK: u32 = 64 * 1024;

/// The StartTLS extended operation (RFC 4511 section 4.14).
const START_TLS_OID: &str = "1.3.6.1.4.1.1466.20037";

/// Why an operation did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum LdapError {
    /// The stream failed or closed; the connection cannot be used again.
    Net(NetError),
    /// The server sent something this client cannot use (a garbled or unexpected
    /// message); the connection cannot be trusted again.
    Protocol(String),
    /// The server carried out the request and answered with a failure result.
    Refused(LdapResult),
}

impl LdapError {
    /// True when the connection is unusable and must be made again.
    pub fn is_broken(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }
}

/// How the client proves who it is.
#[derive(Clone, PartialEq)]
pub enum Credentials {
    /// No bind: the server's anonymous access.
    Anonymous,
    /// A simple bind with a DN and password (over TLS, as the configuration demands).
    Simple {
        /// The DN to bind as.
        dn: String,
        /// Its password.
        password: String,
    },
    /// SASL EXTERNAL: the identity of the client certificate the host presented.
    External,
}

/// What a search returned: its entries and the controls of its final result.
#[derive(Debug, Default)]
pub struct SearchOutcome {
    /// The entries, in the order the server sent them (referrals are left out).
    pub entries: Vec<LdapSearchResultEntry>,
    /// The response controls of the SearchResultDone message (e.g. paged results).
    pub controls: Vec<LdapControl>,
}

/// An LDAP client on one stream.
pub struct Client {
    transport: Box<dyn Transport>,
    codec: LdapCodec,
    received: BytesMut,
    last_id: i32,
    ahead: Option<Ahead>,
}

/// A search sent before it was asked for (see [`Client::search_ahead`]), and its
/// answer once read.
struct Ahead {
    request: LdapSearchRequest,
    controls: Vec<LdapControl>,
    answer: Answer,
}

/// Where the answer to a search sent ahead is.
enum Answer {
    /// Still with the server (or on its way): this message id's.
    Pending(i32),
    /// Read, because another request had to be sent first.
    Read(SearchOutcome, LdapResult),
}

impl Client {
    /// A client on an open stream; nothing is sent yet.
    pub fn new(transport: Box<dyn Transport>) -> Self {
        Self {
            transport,
            codec: LdapCodec::new(Some(MAX_MESSAGE), None),
            received: BytesMut::new(),
            last_id: 0,
            ahead: None,
        }
    }

    /// Asks for StartTLS and, once the server agrees, has the host switch the stream to
    /// TLS.
    pub fn start_tls(&mut self) -> Result<(), LdapError> {
        let request = LdapExtendedRequest {
            name: START_TLS_OID.to_owned(),
            value: None,
        };
        let response = self.exchange(LdapOp::ExtendedRequest(request), Vec::new())?;
        match response.op {
            LdapOp::ExtendedResponse(response) => succeeded(response.res)?,
            other => return Err(unexpected("an extended response", &other)),
        }
        self.transport.start_tls().map_err(LdapError::Net)
    }

    /// Authenticates the connection; anonymous sends nothing.
    pub fn bind(&mut self, credentials: &Credentials) -> Result<(), LdapError> {
        let (dn, cred) = match credentials {
            Credentials::Anonymous => return Ok(()),
            Credentials::Simple { dn, password } => {
                (dn.clone(), LdapBindCred::Simple(password.clone()))
            }
            Credentials::External => (
                String::new(),
                LdapBindCred::SASL(SaslCredentials {
                    mechanism: "EXTERNAL".to_owned(),
                    credentials: Vec::new(),
                }),
            ),
        };
        let request = LdapBindRequest {
            version: 3,
            dn,
            cred,
        };
        let response = self.exchange(LdapOp::BindRequest(request), Vec::new())?;
        match response.op {
            LdapOp::BindResponse(response) => succeeded(response.res),
            other => Err(unexpected("a bind response", &other)),
        }
    }

    /// Runs a search to its end and returns every entry; refused unless it succeeded.
    pub fn search(
        &mut self,
        request: LdapSearchRequest,
        controls: Vec<LdapControl>,
    ) -> Result<SearchOutcome, LdapError> {
        let (outcome, result) = self.search_to_end(request, controls)?;
        succeeded(result).map(|()| outcome)
    }

    /// Runs a search to its end and returns what it sent, whatever its result: a search
    /// the server cut short (its size limit) still sent some entries first, which a
    /// caller may be able to use.
    pub fn search_to_end(
        &mut self,
        request: LdapSearchRequest,
        controls: Vec<LdapControl>,
    ) -> Result<(SearchOutcome, LdapResult), LdapError> {
        let id = match self.ahead.take() {
            Some(ahead) if ahead.request == request && ahead.controls == controls => {
                match ahead.answer {
                    Answer::Pending(id) => id,
                    Answer::Read(outcome, result) => return Ok((outcome, result)),
                }
            }
            other => {
                self.ahead = other;
                self.send(LdapOp::SearchRequest(request), controls)?
            }
        };
        self.search_results(id)
    }

    /// Sends a search the caller will ask for next (by [`Self::search`] or
    /// [`Self::search_to_end`] with the same request and controls) without waiting for
    /// it: the next page of a paged search, sent before the page in hand is handed back,
    /// so that the server prepares it while the caller is busy with the one before. When
    /// another request is sent first, the answer is read then and kept for when the
    /// search is asked for (this client reads one request's responses at a time); it is
    /// dropped when another search is sent ahead.
    pub fn search_ahead(
        &mut self,
        request: LdapSearchRequest,
        controls: Vec<LdapControl>,
    ) -> Result<(), LdapError> {
        let id = self.send(LdapOp::SearchRequest(request.clone()), controls.clone())?;
        self.ahead = Some(Ahead {
            request,
            controls,
            answer: Answer::Pending(id),
        });
        Ok(())
    }

    /// Reads the responses of search `id` to its end.
    fn search_results(&mut self, id: i32) -> Result<(SearchOutcome, LdapResult), LdapError> {
        let mut outcome = SearchOutcome::default();
        loop {
            // Most of a search's messages are plain entries, decoded here in one pass;
            // the codec takes the rest (see `entry_ber`).
            if let Some((entry, used)) = entry_ber::decode(&self.received, id, MAX_MESSAGE) {
                self.received.advance(used);
                outcome.entries.push(entry);
                continue;
            }
            let message = self.receive(id)?;
            match message.op {
                LdapOp::SearchResultEntry(entry) => outcome.entries.push(entry),
                LdapOp::SearchResultReference(_) => {}
                LdapOp::SearchResultDone(result) => {
                    outcome.controls = message.ctrl;
                    return Ok((outcome, result));
                }
                other => return Err(unexpected("a search result", &other)),
            }
        }
    }

    /// Adds an entry and returns it as written, with the attributes `read` (the
    /// Post-Read control of RFC 4527), so that the caller needs no second round trip to
    /// learn its entryUUID. The control is not critical: a server that does not support
    /// it (or may not show the entry) adds the entry and returns none, and `None` tells
    /// the caller to read the entry back itself. So does an entry that does not decode:
    /// the add was made, so failing it would only have the host repeat it.
    pub fn add(
        &mut self,
        request: LdapAddRequest,
        read: &[&str],
    ) -> Result<Option<LdapSearchResultEntry>, LdapError> {
        let response = self.exchange(LdapOp::AddRequest(request), vec![post_read(read)])?;
        match response.op {
            LdapOp::AddResponse(result) => succeeded(result)?,
            other => return Err(unexpected("an add response", &other)),
        }
        Ok(response
            .ctrl
            .into_iter()
            .find_map(|control| match control {
                LdapControl::Unknown {
                    oid,
                    value: Some(value),
                    ..
                } if oid == POST_READ_OID => Some(value),
                _ => None,
            })
            .and_then(|value| entry_ber::search_result_entry(&value)))
    }

    /// Modifies an entry's attributes.
    pub fn modify(&mut self, request: LdapModifyRequest) -> Result<(), LdapError> {
        let response = self.exchange(LdapOp::ModifyRequest(request), Vec::new())?;
        match response.op {
            LdapOp::ModifyResponse(result) => succeeded(result),
            other => Err(unexpected("a modify response", &other)),
        }
    }

    /// Deletes an entry.
    pub fn delete(&mut self, dn: String) -> Result<(), LdapError> {
        let response = self.exchange(LdapOp::DelRequest(dn), Vec::new())?;
        match response.op {
            LdapOp::DelResponse(result) => succeeded(result),
            other => Err(unexpected("a delete response", &other)),
        }
    }

    /// Renames or moves an entry.
    pub fn modify_dn(&mut self, request: LdapModifyDNRequest) -> Result<(), LdapError> {
        let response = self.exchange(LdapOp::ModifyDNRequest(request), Vec::new())?;
        match response.op {
            LdapOp::ModifyDNResponse(result) => succeeded(result),
            other => Err(unexpected("a modify DN response", &other)),
        }
    }

    /// Sends a request that has exactly one response, and returns that response.
    fn exchange(&mut self, op: LdapOp, controls: Vec<LdapControl>) -> Result<LdapMsg, LdapError> {
        let id = self.send(op, controls)?;
        self.receive(id)
    }

    /// Encodes and writes one request under a new message id, once the answer to a
    /// search sent ahead has been read (see [`Self::search_ahead`]).
    fn send(&mut self, op: LdapOp, controls: Vec<LdapControl>) -> Result<i32, LdapError> {
        if let Some(Ahead {
            answer: Answer::Pending(id),
            ..
        }) = self.ahead
        {
            let (outcome, result) = self.search_results(id)?;
            if let Some(ahead) = &mut self.ahead {
                ahead.answer = Answer::Read(outcome, result);
            }
        }
        self.last_id = if self.last_id == i32::MAX {
            1
        } else {
            self.last_id + 1
        };
        let mut encoded = BytesMut::new();
        self.codec
            .encode(
                LdapMsg::new_with_ctrls(self.last_id, op, controls),
                &mut encoded,
            )
            .map_err(|failure| LdapError::Protocol(format!("encoding a request: {failure}")))?;
        self.transport.write(&encoded).map_err(LdapError::Net)?;
        Ok(self.last_id)
    }

    /// Reads until the next message of request `id` is decoded. A notice of disconnection
    /// (message id 0) or a message for another request breaks the connection.
    fn receive(&mut self, id: i32) -> Result<LdapMsg, LdapError> {
        loop {
            let decoded = self.codec.decode(&mut self.received).map_err(|failure| {
                LdapError::Protocol(format!("decoding a response: {failure}"))
            })?;
            if let Some(message) = decoded {
                if message.msgid == id {
                    return Ok(message);
                }
                return Err(match message.op {
                    LdapOp::ExtendedResponse(notice) if message.msgid == 0 => {
                        LdapError::Protocol(format!(
                            "the server ended the connection: {}",
                            describe_result(&notice.res)
                        ))
                    }
                    _ => LdapError::Protocol(format!(
                        "a response to message {} arrived while waiting for {id}",
                        message.msgid
                    )),
                });
            }
            let bytes = self.transport.read(READ_CHUNK).map_err(LdapError::Net)?;
            if bytes.is_empty() {
                return Err(LdapError::Net(NetError::Closed));
            }
            self.received.extend_from_slice(&bytes);
        }
    }
}

/// The Post-Read control (RFC 4527): the response carries the entry as the operation
/// left it.
const POST_READ_OID: &str = "1.3.6.1.1.13.2";

/// A non-critical Post-Read request for the attributes `read`: its value is an
/// `AttributeSelection`, a SEQUENCE OF LDAPString.
fn post_read(read: &[&str]) -> LdapControl {
    let selection = StructureTag {
        class: TagClass::Universal,
        id: Types::Sequence as u64,
        payload: PL::C(
            read.iter()
                .map(|name| StructureTag {
                    class: TagClass::Universal,
                    id: Types::OctetString as u64,
                    payload: PL::P(name.as_bytes().to_vec()),
                })
                .collect(),
        ),
    };
    let mut value = BytesMut::new();
    ldap3_lber::write::encode_into(&mut value, selection)
        .expect("encoding into memory cannot fail");
    LdapControl::Unknown {
        oid: POST_READ_OID.to_owned(),
        criticality: false,
        value: Some(value.to_vec()),
    }
}

/// Turns a non-success result into `Refused`.
fn succeeded(result: LdapResult) -> Result<(), LdapError> {
    if result.code == LdapResultCode::Success {
        Ok(())
    } else {
        Err(LdapError::Refused(result))
    }
}

/// A response of the wrong kind for the request sent.
fn unexpected(wanted: &str, got: &LdapOp) -> LdapError {
    let got = format!("{got:?}");
    let got = got.split(['(', ' ', '{']).next().unwrap_or_default();
    LdapError::Protocol(format!("expected {wanted}, the server sent {got}"))
}

/// A result as `name (code): diagnostic`, for messages.
pub fn describe_result(result: &LdapResult) -> String {
    let code = result.code.clone() as i64;
    let mut text = format!("{:?} ({code})", result.code);
    if !result.message.is_empty() {
        text.push_str(": ");
        text.push_str(&result.message);
    }
    text
}

#[cfg(test)]
mod tests {
    use ldap3_lber::structures::{ASNTag, Tag};
    use ldap3_proto::proto::LdapPartialAttribute;

    use super::*;

    #[test]
    fn the_post_read_request_names_the_attributes() {
        let LdapControl::Unknown {
            oid,
            criticality,
            value: Some(value),
        } = post_read(&["*", "entryUUID"])
        else {
            panic!("a post-read control with a value");
        };
        assert_eq!(oid, POST_READ_OID);
        assert!(!criticality, "a server without it still adds");
        let mut expected = vec![0x30, 14, 0x04, 1, b'*', 0x04, 9];
        expected.extend(b"entryUUID");
        assert_eq!(value, expected);
    }

    #[test]
    fn the_post_read_response_is_the_entry() {
        let entry = LdapSearchResultEntry {
            dn: "uid=a,dc=example,dc=org".into(),
            attributes: vec![LdapPartialAttribute {
                atype: "entryUUID".into(),
                vals: vec![b"5d1c2f4e-0000-1000-8000-000000000001".to_vec()],
            }],
        };
        let mut value = BytesMut::new();
        let tag: Tag = LdapOp::SearchResultEntry(entry.clone()).into();
        ldap3_lber::write::encode_into(&mut value, tag.into_structure()).unwrap();
        let read = entry_ber::search_result_entry;
        assert_eq!(read(&value), Some(entry));
        assert_eq!(read(&value[..value.len() - 1]), None, "cut short");
        assert_eq!(read(&[0x30, 0]), None, "not an entry");
    }
}
