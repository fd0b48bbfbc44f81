//! Which addresses are special: the ones a connector must not reach through a name the
//! allow-list grants, because they lead back into the host itself (loopback), to the
//! local link or the cloud's metadata service (credentials), or to many hosts at once.
//! An allow-list entry that names such an address, or a range lying within its special
//! block, still unlocks it: the operator decides, a DNS answer never does, and neither
//! does a range as wide as `0.0.0.0/0` that merely happens to hold it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Why an address is special. Checked on every address a name resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    /// `0.0.0.0/8`, `::`: "this host" on most systems.
    Unspecified,
    /// `127.0.0.0/8`, `::1`: the host Ferry runs on.
    Loopback,
    /// `169.254.0.0/16`, `fe80::/10`: the local link, where cloud agents listen.
    LinkLocal,
    /// `169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`: cloud instance metadata,
    /// which hands out the machine's credentials.
    CloudMetadata,
    /// `224.0.0.0/4`, `ff00::/8`: many hosts at once.
    Multicast,
    /// `255.255.255.255`: every host on the link.
    Broadcast,
}

impl fmt::Display for SpecialUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "an unspecified (this-host) address",
            Self::Loopback => "a loopback address",
            Self::LinkLocal => "a link-local address",
            Self::CloudMetadata => "a cloud metadata address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "a broadcast address",
        })
    }
}

/// Instance metadata services: AWS, GCP, Azure and OpenStack share the first; Alibaba
/// Cloud uses the second.
const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
];

/// AWS's IPv6 instance metadata endpoint.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// The well-known NAT64 prefix `64:ff9b::/96` (RFC 6052): the last 32 bits are an IPv4
/// address reached through a translator.
const NAT64_PREFIX: [u16; 6] = [0x64, 0xff9b, 0, 0, 0, 0];

/// The 6to4 prefix `2002::/16` (RFC 3056): the next 32 bits are an IPv4 address.
const SIX_TO_FOUR_PREFIX: u16 = 0x2002;

/// Why `ip` is special, or `None` for an ordinary unicast address. An IPv6 address that
/// carries an IPv4 one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, 6to4, NAT64)
/// is judged by the IPv4 address it leads to.
pub fn special_use(ip: IpAddr) -> Option<SpecialUse> {
    special_block(ip).map(|(kind, _)| kind)
}

/// Why `ip` is special and the special block holding it (`127.0.0.0/8`, just
/// `169.254.169.254/32` for the metadata address, `::ffff:127.0.0.0/104` for a mapped
/// loopback address), or `None` for an ordinary unicast address. Only a range within
/// this block unlocks `ip`.
pub fn special_block(ip: IpAddr) -> Option<(SpecialUse, IpNet)> {
    let (kind, prefix) = match ip {
        IpAddr::V4(v4) => special_v4(v4)?,
        IpAddr::V6(v6) => special_v6(v6)?,
    };
    let block = IpNet::new(ip, prefix).expect("prefixes are within the family's length");
    Some((kind, block.trunc()))
}

/// Why an IPv4 address is special, and the prefix length of its special block.
fn special_v4(ip: Ipv4Addr) -> Option<(SpecialUse, u8)> {
    if METADATA_V4.contains(&ip) {
        Some((SpecialUse::CloudMetadata, 32))
    } else if ip.octets()[0] == 0 {
        Some((SpecialUse::Unspecified, 8))
    } else if ip.is_loopback() {
        Some((SpecialUse::Loopback, 8))
    } else if ip.is_link_local() {
        Some((SpecialUse::LinkLocal, 16))
    } else if ip.is_multicast() {
        Some((SpecialUse::Multicast, 4))
    } else if ip.is_broadcast() {
        Some((SpecialUse::Broadcast, 32))
    } else {
        None
    }
}

/// Why an IPv6 address is special, and the prefix length of its special block.
fn special_v6(ip: Ipv6Addr) -> Option<(SpecialUse, u8)> {
    if ip.is_unspecified() {
        Some((SpecialUse::Unspecified, 128))
    } else if ip.is_loopback() {
        Some((SpecialUse::Loopback, 128))
    } else if let Some((v4, carrier)) = embedded_v4(ip) {
        // The IPv4 block, moved into the IPv6 form that carries it.
        special_v4(v4).map(|(kind, prefix)| (kind, carrier + prefix))
    } else if ip == METADATA_V6 {
        Some((SpecialUse::CloudMetadata, 128))
    } else if ip.is_unicast_link_local() {
        Some((SpecialUse::LinkLocal, 10))
    } else if ip.is_multicast() {
        Some((SpecialUse::Multicast, 8))
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address leads to, in the forms a stack or a translator
/// turns into an IPv4 connection, and the number of bits in front of it. Called after
/// `::` and `::1` were judged as IPv6, so they are not taken for compatible forms of
/// `0.0.0.0` and `0.0.0.1`.
fn embedded_v4(ip: Ipv6Addr) -> Option<(Ipv4Addr, u8)> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if let Some(mapped) = ip.to_ipv4_mapped() {
        Some((mapped, 96))
    } else if s[..6] == [0; 6] || s[..6] == NAT64_PREFIX {
        Some((v4(s[6], s[7]), 96))
    } else if s[0] == SIX_TO_FOUR_PREFIX {
        Some((v4(s[1], s[2]), 16))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<SpecialUse> {
        special_use(text.parse().unwrap())
    }

    #[test]
    fn every_special_class_is_recognised_in_both_families() {
        use SpecialUse::*;
        for (address, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("169.254.169.254", CloudMetadata),
            ("100.100.100.200", CloudMetadata),
            ("fd00:ec2::254", CloudMetadata),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("255.255.255.255", Broadcast),
        ] {
            assert_eq!(class(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_by_the_ipv4_address() {
        for (address, expected) in [
            ("::ffff:127.0.0.1", Some(SpecialUse::Loopback)),
            ("::ffff:169.254.169.254", Some(SpecialUse::CloudMetadata)),
            ("::ffff:0.0.0.0", Some(SpecialUse::Unspecified)),
            ("::127.0.0.1", Some(SpecialUse::Loopback)),
            ("::169.254.1.1", Some(SpecialUse::LinkLocal)),
            ("64:ff9b::7f00:1", Some(SpecialUse::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(SpecialUse::CloudMetadata)),
            ("2002:7f00:1::", Some(SpecialUse::Loopback)),
            ("2002:a9fe:a9fe::1", Some(SpecialUse::CloudMetadata)),
            ("::ffff:10.1.2.3", None),
            ("64:ff9b::a01:203", None),
            ("2002:a01:203::1", None),
        ] {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn each_special_address_has_the_block_that_holds_it() {
        for (address, block) in [
            ("127.0.0.1", "127.0.0.0/8"),
            ("0.1.2.3", "0.0.0.0/8"),
            ("169.254.3.4", "169.254.0.0/16"),
            ("169.254.169.254", "169.254.169.254/32"),
            ("100.100.100.200", "100.100.100.200/32"),
            ("239.1.2.3", "224.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255/32"),
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("fe80::1", "fe80::/10"),
            ("ff02::1", "ff00::/8"),
            ("fd00:ec2::254", "fd00:ec2::254/128"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.0/104"),
            ("::169.254.1.1", "::169.254.0.0/112"),
            ("64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe/128"),
            ("2002:7f00:1::", "2002:7f00::/24"),
        ] {
            let (_, found) = special_block(address.parse().unwrap()).unwrap();
            assert_eq!(found, block.parse::<IpNet>().unwrap(), "{address}");
        }
        assert_eq!(special_block("10.1.2.3".parse().unwrap()), None);
    }

    #[test]
    fn ordinary_addresses_are_not_special() {
        for address in [
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "8.8.8.8",
            "169.253.255.255",
            "169.255.0.0",
            "fd00::1",
            "fd00:ec2::253",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert_eq!(class(address), None, "{address}");
        }
    }
}
