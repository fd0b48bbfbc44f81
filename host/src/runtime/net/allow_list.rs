//! An app's network allow-list, parsed once at configuration load into typed rules. It
//! fails closed: an empty list grants nothing, and an entry that is not exactly one of
//! the forms below is a configuration error naming the entry, never a rule that
//! silently matches more (or less) than the operator meant.
//!
//! | form                 | example              | grants                                        |
//! |----------------------|----------------------|-----------------------------------------------|
//! | `name:port`          | `ldap.example.org:636` | that name (any case, trailing dot ignored) on that port |
//! | `*.suffix:port`      | `*.example.org:636`  | names with one or more labels before `.suffix`, never `suffix` itself |
//! | `ipv4:port`          | `10.1.2.3:389`       | that address on that port                     |
//! | `[ipv6]:port`        | `[::1]:389`          | that address on that port                     |
//! | `ipv4/len:port`      | `10.0.0.0/8:389`     | every address in the range on that port       |
//! | `[ipv6/len]:port`    | `[fd00::/8]:389`     | every address in the range on that port       |
//!
//! The port is required (1–65535); there is no "any port". A range must be written with
//! its host bits clear (`10.0.0.0/8`, not `10.1.2.3/8`). A name entry grants the
//! addresses the name resolves to, except special ones (see [`super::address`]): only an
//! entry naming the address, or a range lying within its special block (`127.0.0.0/8`
//! for loopback; the metadata address alone for metadata), unlocks those. A wider range
//! (`0.0.0.0/0`, `[::/0]`, `100.64.0.0/10`) grants the ordinary addresses it holds, never
//! the special ones.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::address::special_block;

/// A destination host as a connector or an entry names it: a DNS name (lower-cased,
/// without a trailing dot) or a literal IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name, normalised so that comparisons ignore case and a trailing dot.
    Name(String),
    /// An IP address written literally (`10.1.2.3`, `::1` or `[::1]`).
    Ip(IpAddr),
}

impl Host {
    /// `text` as a host, or why it is not one. IPv6 may be bracketed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let unbracketed = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = unbracketed.parse() {
            return Ok(Self::Ip(ip));
        }
        normalise_name(text).map(Self::Name)
    }

    /// `host:port`, with an IPv6 address in brackets, for messages.
    pub fn with_port(&self, port: u16) -> String {
        match self {
            Self::Name(name) => format!("{name}:{port}"),
            Self::Ip(ip) => std::net::SocketAddr::new(*ip, port).to_string(),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Ip(ip) => ip.fmt(f),
        }
    }
}

/// The longest DNS name (RFC 1035), and the longest label in one.
const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// `text` lower-cased and without its trailing dot, if it is a DNS host name: labels of
/// letters, digits, `-` and `_`, not starting or ending with `-`, and a last label that
/// is not all digits (a resolver would read `127.1` as an IPv4 address).
fn normalise_name(text: &str) -> Result<String, String> {
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "'{text}' is not a host name (1 to {MAX_NAME} characters)"
        ));
    }
    for label in name.split('.') {
        let well_formed = (1..=MAX_LABEL).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(format!(
                "'{text}' is not a host name (label '{label}': letters, digits, '-' and '_', \
                 1 to {MAX_LABEL} characters)"
            ));
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "'{text}' is neither an IP address nor a host name (its last label is a number)"
        ));
    }
    Ok(name)
}

/// What one entry grants, before the port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Exactly this name.
    Name(String),
    /// Any name with at least one label in front of this suffix.
    Subdomains(String),
    /// Exactly this address.
    Address(IpAddr),
    /// Every address in this range.
    Range(IpNet),
}

/// One parsed entry: a target and its port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    target: Target,
    port: u16,
}

/// An entry that is none of the accepted forms. `index` is its position in the list, so
/// the caller can point at its line in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allow entry '{entry}': {reason}")]
pub struct AllowListError {
    /// The entry's 0-based position in the list.
    pub index: usize,
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The parsed allow-list of one app. See the module documentation for the forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    rules: Vec<Rule>,
}

impl AllowList {
    /// Parses every entry; the first bad one is the error.
    pub fn parse<S: AsRef<str>>(
        entries: impl IntoIterator<Item = S>,
    ) -> Result<Self, AllowListError> {
        let rules = entries
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let entry = entry.as_ref();
                parse_rule(entry).map_err(|reason| AllowListError {
                    index,
                    entry: entry.to_string(),
                    reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Whether the list has no entries (and so grants nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some entry grants `host` on `port`: a name by a name or wildcard entry, a
    /// literal address by an address or range entry.
    pub fn grants(&self, host: &Host, port: u16) -> bool {
        match host {
            Host::Name(name) => self.rules.iter().any(|rule| {
                rule.port == port
                    && match &rule.target {
                        Target::Name(n) => n == name,
                        Target::Subdomains(suffix) => name
                            .strip_suffix(suffix.as_str())
                            .and_then(|front| front.strip_suffix('.'))
                            .is_some_and(|front| !front.is_empty()),
                        Target::Address(_) | Target::Range(_) => false,
                    }
            }),
            Host::Ip(ip) => self.names_address(*ip, port),
        }
    }

    /// Whether an address or range entry names `ip` on `port`. This, and only this,
    /// unlocks a special address; a range names a special address only if the range
    /// lies within the address's special block. Addresses compare as written:
    /// `127.0.0.1` does not name `::ffff:127.0.0.1`.
    pub fn names_address(&self, ip: IpAddr, port: u16) -> bool {
        let block = special_block(ip).map(|(_, block)| block);
        self.rules.iter().any(|rule| {
            rule.port == port
                && match &rule.target {
                    Target::Address(a) => *a == ip,
                    Target::Range(net) => {
                        net.contains(&ip) && block.is_none_or(|block| block.contains(net))
                    }
                    Target::Name(_) | Target::Subdomains(_) => false,
                }
        })
    }
}

fn parse_rule(entry: &str) -> Result<Rule, String> {
    let (host, port) = entry
        .rsplit_once(':')
        .ok_or("a port is required: host:port, [ipv6]:port")?;
    let port = match port.parse::<u16>() {
        Ok(port) if port != 0 => port,
        _ => return Err(format!("'{port}' is not a port (1 to 65535)")),
    };
    let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let target = if let Some(suffix) = host.strip_prefix("*.") {
        Target::Subdomains(normalise_name(suffix)?)
    } else if host.contains('/') {
        Target::Range(parse_range(host, bracketed)?)
    } else {
        match Host::parse(host)? {
            Host::Ip(ip) => {
                check_brackets(ip, bracketed.is_some())?;
                Target::Address(ip)
            }
            Host::Name(name) => Target::Name(name),
        }
    };
    Ok(Rule { target, port })
}

fn parse_range(host: &str, bracketed: Option<&str>) -> Result<IpNet, String> {
    let net: IpNet = bracketed
        .unwrap_or(host)
        .parse()
        .map_err(|_| format!("'{host}' is not an address range (10.0.0.0/8, [fd00::/8])"))?;
    check_brackets(net.addr(), bracketed.is_some())?;
    if net.trunc() != net {
        return Err(format!(
            "'{host}' has host bits set; the range is {}",
            bracket(net.trunc())
        ));
    }
    Ok(net)
}

/// IPv6 must be bracketed (`[::1]:389`: without brackets the port is ambiguous); IPv4
/// must not be.
fn check_brackets(ip: IpAddr, bracketed: bool) -> Result<(), String> {
    match (ip, bracketed) {
        (IpAddr::V6(_), false) => Err(format!(
            "an IPv6 address or range needs brackets: [{ip}]:port"
        )),
        (IpAddr::V4(_), true) => Err(format!(
            "an IPv4 address or range takes no brackets: {ip}:port"
        )),
        _ => Ok(()),
    }
}

fn bracket(net: IpNet) -> String {
    match net {
        IpNet::V4(v4) => v4.to_string(),
        IpNet::V6(v6) => format!("[{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(entries).unwrap()
    }

    fn name(text: &str) -> Host {
        Host::parse(text).unwrap()
    }

    #[test]
    fn parses_every_accepted_form() {
        let parsed = list(&[
            "LDAP.Example.org.:636",
            "*.example.org:636",
            "10.1.2.3:389",
            "[::1]:389",
            "10.0.0.0/8:389",
            "[fd00::/8]:389",
            "dc_1.corp:65535",
        ]);
        let targets: Vec<_> = parsed.rules.iter().map(|r| (&r.target, r.port)).collect();
        assert_eq!(
            targets,
            [
                (&Target::Name("ldap.example.org".into()), 636),
                (&Target::Subdomains("example.org".into()), 636),
                (&Target::Address("10.1.2.3".parse().unwrap()), 389),
                (&Target::Address("::1".parse().unwrap()), 389),
                (&Target::Range("10.0.0.0/8".parse().unwrap()), 389),
                (&Target::Range("fd00::/8".parse().unwrap()), 389),
                (&Target::Name("dc_1.corp".into()), 65535),
            ]
        );
        assert!(list(&[]).is_empty());
    }

    #[test]
    fn refuses_each_malformed_entry_with_its_index() {
        for (bad, why) in [
            ("ldap.example.org", "port is required"),
            ("ldap.example.org:", "not a port"),
            ("ldap.example.org:0", "not a port"),
            ("ldap.example.org:65536", "not a port"),
            ("ldap.example.org:*", "not a port"),
            ("*:389", "not a host name"),
            ("*.:389", "not a host name"),
            ("**.example.org:389", "not a host name"),
            ("ldap.*.org:389", "not a host name"),
            ("example.*:389", "not a host name"),
            ("ldap example.org:389", "not a host name"),
            ("ldap://example.org:389", "not an address range"),
            ("-ldap.example.org:389", "not a host name"),
            ("ldap..example.org:389", "not a host name"),
            ("127.1:389", "last label is a number"),
            ("::1:389", "needs brackets"),
            ("[10.1.2.3]:389", "takes no brackets"),
            ("fd00::/8:389", "needs brackets"),
            ("10.1.2.3/8:389", "host bits set; the range is 10.0.0.0/8"),
            ("[fd00::1/8]:389", "the range is [fd00::/8]"),
            ("10.0.0.0/33:389", "not an address range"),
            ("10.0.0/8:389", "not an address range"),
            ("[::1]389", "not a port"),
            ("", "port is required"),
        ] {
            let e = AllowList::parse(["ok.example.org:389", bad]).unwrap_err();
            assert_eq!(e.index, 1, "{bad}");
            assert_eq!(e.entry, bad);
            assert!(e.reason.contains(why), "{bad}: {}", e.reason);
        }
    }

    #[test]
    fn names_match_case_insensitively_without_trailing_dot_on_their_port() {
        let list = list(&["ldap.example.org:636"]);
        for host in ["ldap.example.org", "LDAP.EXAMPLE.ORG", "ldap.example.org."] {
            assert!(list.grants(&name(host), 636), "{host}");
        }
        assert!(!list.grants(&name("ldap.example.org"), 389));
        assert!(!list.grants(&name("ldap.example.org.evil.net"), 636));
        assert!(!list.grants(&name("xldap.example.org"), 636));
        assert!(!list.grants(&name("example.org"), 636));
    }

    #[test]
    fn wildcards_need_at_least_one_label_and_never_grant_the_bare_suffix() {
        let list = list(&["*.Example.org:636"]);
        assert!(list.grants(&name("a.example.org"), 636));
        assert!(list.grants(&name("a.b.EXAMPLE.org."), 636));
        assert!(!list.grants(&name("example.org"), 636));
        assert!(!list.grants(&name("badexample.org"), 636));
        assert!(!list.grants(&name("a.example.org"), 389));
        assert!(!list.grants(&name("a.example.org.evil.net"), 636));
    }

    #[test]
    fn addresses_match_address_and_range_entries_only() {
        let list = list(&[
            "10.1.2.3:389",
            "192.168.0.0/16:636",
            "[fd00::/8]:389",
            "db.example.org:389",
        ]);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(list.grants(&Host::Ip(ip("10.1.2.3")), 389));
        assert!(list.grants(&name("[fd12::7]"), 389));
        assert!(list.names_address(ip("192.168.7.7"), 636));
        assert!(list.names_address(ip("fd00::1"), 389));
        assert!(!list.names_address(ip("10.1.2.3"), 636), "port");
        assert!(!list.names_address(ip("10.1.2.4"), 389));
        assert!(!list.names_address(ip("192.169.0.1"), 636));
        assert!(!list.names_address(ip("fe00::1"), 389));
        assert!(
            !list.names_address(ip("::ffff:10.1.2.3"), 389),
            "a mapped form is another address"
        );
        assert!(
            !list.grants(&name("10.1.2.3.nip.io"), 389),
            "a name is not an address"
        );
    }

    #[test]
    fn a_range_unlocks_a_special_address_only_from_within_its_block() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let wide = list(&[
            "0.0.0.0/0:389",
            "[::/0]:389",
            "100.64.0.0/10:389",
            "169.254.0.0/16:389",
            "127.0.0.0/8:636",
        ]);
        for special in [
            "127.0.0.1",
            "0.0.0.0",
            "169.254.169.254",
            "100.100.100.200",
            "224.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "fd00:ec2::254",
        ] {
            assert!(!wide.names_address(ip(special), 389), "{special}");
        }
        assert!(
            wide.names_address(ip("10.1.2.3"), 389),
            "ordinary addresses"
        );
        assert!(wide.names_address(ip("100.64.0.1"), 389));
        assert!(
            wide.names_address(ip("169.254.7.7"), 389),
            "link-local, within"
        );
        assert!(wide.names_address(ip("127.0.0.1"), 636), "loopback, within");
        assert!(!wide.names_address(ip("127.0.0.1"), 389));
        let narrow = list(&["127.0.0.1/32:389", "[::ffff:127.0.0.0/104]:389"]);
        assert!(narrow.names_address(ip("127.0.0.1"), 389));
        assert!(narrow.names_address(ip("::ffff:127.0.0.9"), 389));
    }

    #[test]
    fn an_empty_list_grants_nothing() {
        let empty = list(&[]);
        assert!(!empty.grants(&name("ldap.example.org"), 389));
        assert!(!empty.grants(&name("127.0.0.1"), 389));
    }

    #[test]
    fn guest_hosts_parse_as_names_or_addresses() {
        assert_eq!(name("Db.Example.org."), Host::Name("db.example.org".into()));
        assert_eq!(name("::1"), Host::Ip("::1".parse().unwrap()));
        assert_eq!(name("[::1]"), Host::Ip("::1".parse().unwrap()));
        assert_eq!(name("10.0.0.1"), Host::Ip("10.0.0.1".parse().unwrap()));
        for bad in [
            "",
            ".",
            "a b",
            "127.1",
            "db.example.org:389",
            "[db]",
            "é.org",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
    }
}
