//! One app's network policy, built once from its `[network]` table: what it may reach,
//! how TLS is verified, how long it may wait, and how many connections it may hold. The
//! decisions here are pure (no I/O), so the rules can be tested without a network.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::rustls::ClientConfig;

use ipnet::IpNet;

use super::address::{SpecialUse, special_block, special_use};
use super::allow_list::{AllowList, Host};
use super::tls;
use crate::config::NetworkConfig;

/// A `[network]` table that cannot be used. `entry` is the position of the allow-list
/// entry at fault, if it is one, so the caller can name its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NetConfigError {
    /// The 0-based index of the offending `allow` entry.
    pub entry: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl NetConfigError {
    fn general(message: impl Into<String>) -> Self {
        Self {
            entry: None,
            message: message.into(),
        }
    }
}

/// What an app's connectors may do on the network. Shared by all the app's instances,
/// so the connection cap holds across them.
pub struct NetPolicy {
    allow: AllowList,
    tls: Arc<ClientConfig>,
    connect_timeout: Duration,
    io_timeout: Duration,
    open: Arc<Semaphore>,
}

impl NetPolicy {
    /// Parses the allow-list, loads the trust roots and client certificate (paths
    /// relative to `base_dir`, the configuration file's folder) and checks the limits.
    pub fn from_config(config: &NetworkConfig, base_dir: &Path) -> Result<Self, NetConfigError> {
        let allow = AllowList::parse(config.allow.iter().map(|e| e.get_ref())).map_err(|e| {
            NetConfigError {
                entry: Some(e.index),
                message: e.to_string(),
            }
        })?;
        for (key, value) in [
            ("connect-timeout-seconds", config.connect_timeout_seconds),
            ("io-timeout-seconds", config.io_timeout_seconds),
            ("max-connections", config.max_connections),
        ] {
            if value == 0 {
                return Err(NetConfigError::general(format!("{key} must be at least 1")));
            }
        }
        let tls = tls::client_config(config, base_dir).map_err(NetConfigError::general)?;
        Ok(Self {
            allow,
            tls,
            connect_timeout: Duration::from_secs(config.connect_timeout_seconds.into()),
            io_timeout: Duration::from_secs(config.io_timeout_seconds.into()),
            open: Arc::new(Semaphore::new(config.max_connections as usize)),
        })
    }

    /// Whether the allow-list grants `host` on `port`; if not, the reason a connector
    /// is told.
    pub(super) fn admit(&self, host: &Host, port: u16) -> Result<(), String> {
        if self.allow.grants(host, port) {
            return Ok(());
        }
        let what = if self.allow.is_empty() {
            "the list is empty"
        } else {
            "no entry grants it"
        };
        let special = match host {
            Host::Ip(ip) => special_hint(*ip, port).map_or_else(String::new, |h| format!("; {h}")),
            Host::Name(_) => String::new(),
        };
        Err(format!(
            "{} is not on this app's network allow-list ({what}){special}",
            host.with_port(port)
        ))
    }

    /// Splits the addresses an admitted host resolved to into those the connector may
    /// reach, in order, and the special ones no entry names, with their kind.
    pub(super) fn screen(&self, port: u16, addresses: &[IpAddr]) -> Screened {
        let mut screened = Screened::default();
        for &ip in addresses {
            match unlisted_special(&self.allow, ip, port) {
                Some(kind) => screened.refused.push((ip, kind)),
                None => screened.permitted.push(ip),
            }
        }
        screened
    }

    /// A place among the app's open connections, held for as long as the connection
    /// lives; `None` when all `max-connections` are taken.
    pub(super) fn take_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.open.clone().try_acquire_owned().ok()
    }

    /// How long resolving, connecting and a TLS handshake may take together.
    pub(super) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long one read or write may wait.
    pub(super) fn io_timeout(&self) -> Duration {
        self.io_timeout
    }

    /// The app's TLS client configuration.
    pub(super) fn tls(&self) -> Arc<ClientConfig> {
        self.tls.clone()
    }
}

/// Shows the rules and limits; not the TLS configuration, which holds the client key.
impl fmt::Debug for NetPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetPolicy")
            .field("allow", &self.allow)
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .field("free_slots", &self.open.available_permits())
            .finish_non_exhaustive()
    }
}

/// Resolved addresses after the special-address rule.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Screened {
    /// Addresses the connector may reach, in resolver order.
    pub permitted: Vec<IpAddr>,
    /// Special addresses no entry names, and why they are special.
    pub refused: Vec<(IpAddr, SpecialUse)>,
}

/// For a special address, what it is and what unlocks it on `port`, for refusals: "it
/// is a loopback address, which only an entry naming it (e.g. 127.0.0.1:389) or a range
/// within 127.0.0.0/8 unlocks".
pub(super) fn special_hint(ip: IpAddr, port: u16) -> Option<String> {
    let (kind, block) = special_block(ip)?;
    let block = match block {
        IpNet::V4(v4) => v4.to_string(),
        IpNet::V6(v6) => format!("[{v6}]"),
    };
    Some(format!(
        "it is {kind}, which only an entry naming it (e.g. {}) or a range within {block} \
         unlocks",
        std::net::SocketAddr::new(ip, port)
    ))
}

/// The kind of special address `ip` is, unless an address or range entry names it on
/// `port`. A name entry alone never unlocks a special address: DNS answers are not the
/// operator's word.
fn unlisted_special(allow: &AllowList, ip: IpAddr, port: u16) -> Option<SpecialUse> {
    special_use(ip).filter(|_| !allow.names_address(ip, port))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use toml::Spanned;

    use super::*;

    fn network(toml_text: &str) -> NetworkConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn error(toml_text: &str, base_dir: &Path) -> NetConfigError {
        NetPolicy::from_config(&network(toml_text), base_dir).unwrap_err()
    }

    /// A folder holding a CA certificate (`ca.pem`) and a client certificate and key.
    fn pki() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["client.test".into()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("client.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("client.key"), key.serialize_pem()).unwrap();
        std::fs::write(dir.path().join("empty.pem"), "").unwrap();
        dir
    }

    fn policy(allow: &[&str]) -> NetPolicy {
        let dir = pki();
        let mut config = network("ca-file = \"ca.pem\"\nsystem-roots = false");
        config.allow = allow
            .iter()
            .map(|e| Spanned::new(0..0, e.to_string()))
            .collect();
        NetPolicy::from_config(&config, dir.path()).unwrap()
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn builds_with_defaults_a_ca_and_a_client_certificate() {
        let dir = pki();
        let policy = NetPolicy::from_config(
            &network(
                r#"allow = ["ldap.example.org:636"]
                   ca-file = "ca.pem"
                   system-roots = false
                   client-cert = "client.pem"
                   client-key = "client.key""#,
            ),
            dir.path(),
        )
        .unwrap();
        assert_eq!(policy.connect_timeout(), Duration::from_secs(10));
        assert_eq!(policy.io_timeout(), Duration::from_secs(60));
        let slots: Vec<_> = std::iter::from_fn(|| policy.take_slot()).take(17).collect();
        assert_eq!(slots.len(), 16, "max-connections defaults to 16");
        assert!(policy.tls().client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn refuses_unusable_tables_naming_what_is_wrong() {
        let dir = pki();
        let e = error(
            r#"allow = ["ok.example.org:389", "bad entry"]
               ca-file = "ca.pem""#,
            dir.path(),
        );
        assert_eq!(e.entry, Some(1));
        assert!(e.message.contains("'bad entry'"), "{}", e.message);

        for (table, expected) in [
            ("ca-file = \"missing.pem\"", "missing.pem"),
            ("ca-file = \"empty.pem\"", "no PEM certificate"),
            ("system-roots = false", "no trusted CA certificate"),
            (
                "ca-file = \"ca.pem\"\nclient-cert = \"client.pem\"",
                "client-cert and client-key must be given together",
            ),
            (
                "ca-file = \"ca.pem\"\nclient-key = \"client.key\"",
                "client-cert and client-key must be given together",
            ),
            (
                "ca-file = \"ca.pem\"\nclient-cert = \"client.pem\"\nclient-key = \"nokey.pem\"",
                "nokey.pem",
            ),
            (
                "ca-file = \"ca.pem\"\nmax-connections = 0",
                "max-connections",
            ),
            (
                "ca-file = \"ca.pem\"\nio-timeout-seconds = 0",
                "io-timeout-seconds",
            ),
        ] {
            let e = error(table, dir.path());
            assert_eq!(e.entry, None, "{table}");
            assert!(e.message.contains(expected), "{table}: {}", e.message);
        }
    }

    #[test]
    fn relative_paths_are_relative_to_the_base_dir() {
        let dir = pki();
        let config = network("ca-file = \"ca.pem\"\nsystem-roots = false");
        assert!(NetPolicy::from_config(&config, dir.path()).is_ok());
        let elsewhere = PathBuf::from("/nonexistent-ferry-dir");
        let e = NetPolicy::from_config(&config, &elsewhere).unwrap_err();
        assert!(
            e.message.contains("/nonexistent-ferry-dir/ca.pem"),
            "{}",
            e.message
        );
    }

    #[test]
    fn skipping_verification_needs_no_roots() {
        let dir = pki();
        let config = network("system-roots = false\ninsecure-skip-certificate-verification = true");
        assert!(NetPolicy::from_config(&config, dir.path()).is_ok());
    }

    #[test]
    fn admits_only_what_the_list_grants_and_says_why_not() {
        let policy = policy(&["ldap.example.org:636"]);
        let host = |h: &str| Host::parse(h).unwrap();
        assert!(policy.admit(&host("LDAP.example.org"), 636).is_ok());
        let reason = policy.admit(&host("ldap.example.org"), 389).unwrap_err();
        assert!(
            reason.contains("ldap.example.org:389 is not on this app's network allow-list"),
            "{reason}"
        );
        let reason = policy.admit(&host("::1"), 636).unwrap_err();
        assert!(reason.contains("[::1]:636"), "{reason}");
        let reason = self::policy(&[]).admit(&host("a.b"), 1).unwrap_err();
        assert!(reason.contains("the list is empty"), "{reason}");
    }

    #[test]
    fn a_name_entry_never_unlocks_a_special_address() {
        let policy = policy(&["db.example.org:389"]);
        let screened = policy.screen(
            389,
            &ips(&[
                "127.0.0.1",
                "::ffff:127.0.0.1",
                "169.254.169.254",
                "10.0.0.7",
                "fe80::1",
                "::",
                "2001:db8::1",
            ]),
        );
        assert_eq!(screened.permitted, ips(&["10.0.0.7", "2001:db8::1"]));
        let kinds: Vec<_> = screened.refused.iter().map(|(_, k)| *k).collect();
        assert_eq!(
            kinds,
            [
                SpecialUse::Loopback,
                SpecialUse::Loopback,
                SpecialUse::CloudMetadata,
                SpecialUse::LinkLocal,
                SpecialUse::Unspecified,
            ]
        );
    }

    #[test]
    fn an_address_or_range_entry_unlocks_a_special_address_on_its_port() {
        let policy = policy(&[
            "localhost:389",
            "127.0.0.1:389",
            "[fe80::/10]:389",
            "169.254.169.254:80",
        ]);
        let screened = policy.screen(
            389,
            &ips(&["::1", "127.0.0.1", "fe80::9", "169.254.169.254"]),
        );
        assert_eq!(screened.permitted, ips(&["127.0.0.1", "fe80::9"]));
        assert_eq!(
            screened.refused,
            [
                (ips(&["::1"])[0], SpecialUse::Loopback),
                (ips(&["169.254.169.254"])[0], SpecialUse::CloudMetadata),
            ]
        );
        let other_port = policy.screen(636, &ips(&["127.0.0.1"]));
        assert!(other_port.permitted.is_empty());
    }

    #[test]
    fn a_wide_range_does_not_admit_a_special_address_and_says_what_would() {
        let policy = policy(&["0.0.0.0/0:389", "[::/0]:389"]);
        let host = |h: &str| Host::parse(h).unwrap();
        assert!(policy.admit(&host("10.9.8.7"), 389).is_ok());
        let reason = policy.admit(&host("127.0.0.1"), 389).unwrap_err();
        assert!(
            reason.ends_with(
                "; it is a loopback address, which only an entry naming it (e.g. \
                 127.0.0.1:389) or a range within 127.0.0.0/8 unlocks"
            ),
            "{reason}"
        );
        let reason = policy
            .admit(&host("::ffff:169.254.169.254"), 389)
            .unwrap_err();
        assert!(
            reason.contains("a cloud metadata address")
                && reason.contains("a range within [::ffff:169.254.169.254/128]"),
            "{reason}"
        );
        let screened = policy.screen(389, &ips(&["127.0.0.1", "10.0.0.1", "fe80::1"]));
        assert_eq!(screened.permitted, ips(&["10.0.0.1"]));
    }

    #[test]
    fn the_connection_cap_is_released_when_a_slot_is_dropped() {
        let dir = pki();
        let config = network("ca-file = \"ca.pem\"\nsystem-roots = false\nmax-connections = 2");
        let policy = NetPolicy::from_config(&config, dir.path()).unwrap();
        let first = policy.take_slot().unwrap();
        let _second = policy.take_slot().unwrap();
        assert!(policy.take_slot().is_none());
        drop(first);
        assert!(policy.take_slot().is_some());
    }
}
