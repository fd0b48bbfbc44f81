//! The session's one connection to the directory: made on first use (connect, StartTLS
//! when configured, bind), kept for every later call, and made again after it broke.
//! Reads that fail on a connection kept from an earlier call are tried once more on a new
//! one (the server may have closed it while idle); writes are never repeated, because a
//! write lost in flight may or may not have been applied: it is reported `unavailable`
//! for the host to retry knowingly.

use std::cell::{Cell, RefCell};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::{Duration, Instant};

use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapDerefAliases, LdapFilter, LdapResultCode, LdapSearchRequest, LdapSearchScope,
};

use ferry_connector::log::Log;
use ferry_connector::net::{Network, Security};
use ferry_connector::{Error, ErrorKind};

use crate::client::{Client, Credentials, LdapError};
use crate::config::Config;
use crate::entries::Entry;
use crate::errors::{from_ldap, from_result};
use crate::schema::NO_ATTRIBUTES;

/// A bound connection and the tag that tells it apart from every other connection.
struct Link {
    client: Client,
    tag: u64,
    /// When the server last answered on it.
    answered: Instant,
}

/// How long after the server's last answer a kept connection is trusted without a probe.
/// A probe is a round trip to the server before every export; under load, connections
/// are seconds or less apart, and a connection that just answered has not met an idle
/// timeout (connection pools agree: HikariCP skips validation within 500 ms of use).
pub(crate) const TRUSTED_AFTER_ANSWER: Duration = Duration::from_millis(500);

/// The session's connection, made and remade as needed.
pub struct Directory {
    network: Box<dyn Network>,
    log: Box<dyn Log>,
    server: String,
    port: u16,
    security: Security,
    credentials: Credentials,
    link: RefCell<Option<Link>>,
    /// How many connections this session made; with `nonce`, the tag of the next one.
    made: Cell<u64>,
    /// Random per session, so tags of different sessions (instances) differ.
    nonce: u64,
}

impl Directory {
    /// A directory reached through `network` as `config` says, logging to `log`;
    /// nothing is sent yet.
    pub fn new(network: Box<dyn Network>, log: Box<dyn Log>, config: &Config) -> Self {
        Self {
            network,
            log,
            server: config.host.clone(),
            port: config.port,
            security: config.security,
            credentials: config.credentials.clone(),
            link: RefCell::new(None),
            made: Cell::new(0),
            nonce: RandomState::new().build_hasher().finish(),
        }
    }

    /// The session's log.
    pub fn log(&self) -> &dyn Log {
        self.log.as_ref()
    }

    /// Connects, secures and binds a new connection.
    fn connect(&self) -> Result<Link, Error> {
        let context = format!("connecting to {}:{}", self.server, self.port);
        let transport = self
            .network
            .connect(&self.server, self.port, self.security)
            .map_err(|failure| Error::from_net(&context, &failure))?;
        let mut client = Client::new(transport);
        if self.security == Security::StartTls {
            client
                .start_tls()
                .map_err(|failure| from_ldap(&format!("{context}: StartTLS"), &failure))?;
        }
        let binding = match &self.credentials {
            Credentials::Anonymous => String::new(),
            Credentials::Simple { dn, .. } => format!("binding as '{dn}'"),
            Credentials::External => "binding with SASL EXTERNAL".to_owned(),
        };
        client
            .bind(&self.credentials)
            .map_err(|failure| from_ldap(&format!("{context}: {binding}"), &failure))?;
        let made = self.made.get() + 1;
        self.made.set(made);
        self.log.debug(&format!(
            "connected to {}:{} (connection {made})",
            self.server, self.port
        ));
        Ok(Link {
            client,
            tag: self.nonce.wrapping_add(made),
            answered: Instant::now(),
        })
    }

    /// Runs `operation` on the connection, making it first if needed; it receives the
    /// connection's tag. A failure that broke a connection kept from an earlier call is
    /// retried once on a new connection.
    pub fn read<T>(
        &self,
        context: &str,
        mut operation: impl FnMut(&mut Client, u64) -> Result<T, LdapError>,
    ) -> Result<T, Error> {
        let reused = self.link.borrow().is_some();
        match self.run(context, &mut operation) {
            Err(Failure::Broken(_)) if reused => {
                self.log.info(&format!(
                    "the connection to {}:{} was lost; reconnecting",
                    self.server, self.port
                ));
                self.run(context, &mut operation)
                    .map_err(Failure::into_error)
            }
            other => other.map_err(Failure::into_error),
        }
    }

    /// Runs a write on the connection, making it first if needed. A write that broke
    /// the connection is not repeated.
    pub fn write<T>(
        &self,
        context: &str,
        mut operation: impl FnMut(&mut Client) -> Result<T, LdapError>,
    ) -> Result<T, Error> {
        self.run(context, &mut |client, _| operation(client))
            .map_err(|failure| match failure {
                Failure::Broken(error) => Error {
                    message: format!(
                        "{}; the change may or may not have been made",
                        error.message
                    ),
                    ..error
                },
                Failure::Other(error) => error,
            })
    }

    /// Makes sure a connection kept from an earlier call still answers before writes
    /// start, so that a connection the server closed while idle costs a reconnect rather
    /// than a failed write. One that answered within [`TRUSTED_AFTER_ANSWER`] is not
    /// probed.
    pub fn check_alive(&self) -> Result<(), Error> {
        match self.link.borrow().as_ref() {
            None => return Ok(()),
            Some(link) if link.answered.elapsed() < TRUSTED_AFTER_ANSWER => return Ok(()),
            Some(_) => {}
        }
        let probe = search_request(
            "",
            LdapSearchScope::Base,
            present("objectClass"),
            &[NO_ATTRIBUTES],
        );
        self.read("checking the connection", |client, _| {
            client.search(probe.clone(), Vec::new()).map(drop)
        })
    }

    /// A search run to its end in pages of the paged-results control, so the server's
    /// size limit for unpaged searches does not cut it short.
    pub fn search_all(
        &self,
        context: &str,
        request: &LdapSearchRequest,
    ) -> Result<Vec<Entry>, Error> {
        self.search_all_or_some(context, request)?
            .map_err(|truncated| truncated.error)
    }

    /// Like [`Self::search_all`], but a search that the bind account's size limit cuts
    /// short (paged searches have one too: OpenLDAP's `size.prtotal`, by default the hard
    /// limit) returns the entries the server sent before it stopped, for a caller that
    /// can use some of them.
    pub fn search_all_or_some(
        &self,
        context: &str,
        request: &LdapSearchRequest,
    ) -> Result<Result<Vec<Entry>, Truncated>, Error> {
        let searched = self.read(context, |client, _| {
            let mut all = Vec::new();
            let mut cookie = Vec::new();
            loop {
                let (outcome, result) =
                    client.search_to_end(request.clone(), vec![paged(SEARCH_PAGE, cookie)])?;
                all.extend(outcome.entries.into_iter().map(Entry::from));
                match result.code {
                    LdapResultCode::Success => {}
                    LdapResultCode::SizeLimitExceeded => return Ok(Err((all, result))),
                    _ => return Err(LdapError::Refused(result)),
                }
                let next = next_cookie(outcome.controls);
                if next.is_empty() {
                    return Ok(Ok(all));
                }
                cookie = next;
            }
        })?;
        Ok(searched.map_err(|(entries, result)| Truncated {
            entries,
            error: from_result(context, &result),
        }))
    }

    /// A search without controls; every entry.
    pub fn search(&self, context: &str, request: &LdapSearchRequest) -> Result<Vec<Entry>, Error> {
        self.read(context, |client, _| {
            client
                .search(request.clone(), Vec::new())
                .map(|outcome| outcome.entries.into_iter().map(Entry::from).collect())
        })
    }

    fn run<T>(
        &self,
        context: &str,
        operation: &mut dyn FnMut(&mut Client, u64) -> Result<T, LdapError>,
    ) -> Result<T, Failure> {
        let mut slot = self.link.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.connect().map_err(Failure::Other)?);
        }
        let link = slot.as_mut().expect("connected above");
        let outcome = operation(&mut link.client, link.tag);
        // Any answer, an LDAP error included, shows the connection alive.
        let broken = outcome.as_ref().is_err_and(LdapError::is_broken);
        if !broken {
            link.answered = Instant::now();
        }
        match outcome {
            Ok(value) => Ok(value),
            Err(failure) if broken => {
                *slot = None;
                let error = from_ldap(context, &failure);
                self.log.warn(&error.message);
                Err(Failure::Broken(Error {
                    kind: ErrorKind::Unavailable,
                    ..error
                }))
            }
            Err(failure) => Err(Failure::Other(from_ldap(context, &failure))),
        }
    }
}

/// A search the server's size limit cut short.
pub struct Truncated {
    /// The entries it sent before it stopped: some of those that match, in no promised
    /// order.
    pub entries: Vec<Entry>,
    /// The refusal, as the search's error.
    pub error: Error,
}

/// How a run failed: by breaking the connection (which may be retried on a new one), or
/// otherwise.
enum Failure {
    Broken(Error),
    Other(Error),
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Broken(error) | Failure::Other(error) => error,
        }
    }
}

/// The page size of searches the connector runs to their end.
const SEARCH_PAGE: i64 = 500;

/// One page of a paged search (RFC 2696): the entries, and the cookie for the next page
/// (empty after the last). A server that ignores the control returns everything at once,
/// which is then the last page. The next page is asked for before this one is returned
/// ([`Client::search_ahead`]): the server reads it while the connector converts this one
/// and the host stores it.
pub fn search_page(
    client: &mut Client,
    request: &LdapSearchRequest,
    size: i64,
    cookie: Vec<u8>,
) -> Result<(Vec<Entry>, Vec<u8>), LdapError> {
    let outcome = client.search(request.clone(), vec![paged(size, cookie)])?;
    let next = next_cookie(outcome.controls);
    if !next.is_empty() {
        client.search_ahead(request.clone(), vec![paged(size, next.clone())])?;
    }
    Ok((outcome.entries.into_iter().map(Entry::from).collect(), next))
}

/// The paged-results request control for a page of `size` after `cookie`.
fn paged(size: i64, cookie: Vec<u8>) -> LdapControl {
    LdapControl::SimplePagedResults { size, cookie }
}

/// The cookie for the next page in a page's response controls; empty after the last.
fn next_cookie(controls: Vec<LdapControl>) -> Vec<u8> {
    controls
        .into_iter()
        .find_map(|control| match control {
            LdapControl::SimplePagedResults { cookie, .. } => Some(cookie),
            _ => None,
        })
        .unwrap_or_default()
}

/// A search request with no limits of its own, aliases not followed.
pub fn search_request(
    base: &str,
    scope: LdapSearchScope,
    filter: LdapFilter,
    attributes: &[&str],
) -> LdapSearchRequest {
    LdapSearchRequest {
        base: base.to_owned(),
        scope,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter,
        attrs: attributes.iter().map(|name| (*name).to_owned()).collect(),
    }
}

/// `(attribute=*)`.
pub fn present(attribute: &str) -> LdapFilter {
    LdapFilter::Present(attribute.to_owned())
}
