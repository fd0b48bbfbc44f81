//! Distinguished names (RFC 4514): parsed into RDNs so the connector can check that a DN
//! lies under the base, find an entry's naming attributes and parent, and write a DN back
//! with every value escaped. Comparison follows what directories do for the usual naming
//! attributes: attribute types and values compared without regard to case.

use std::fmt;

use crate::escape::dn_value;

/// A parsed DN; `rdns[0]` is the leftmost, most specific RDN. The root DSE's DN is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    /// The RDNs, leaf first.
    pub rdns: Vec<Rdn>,
}

/// One RDN: one or more attribute-value assertions joined by `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdn {
    /// The assertions, in the order written.
    pub avas: Vec<Ava>,
}

/// `type=value`, with the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    /// The attribute type, as written (a name or a numeric OID).
    pub attribute: String,
    /// The value, unescaped.
    pub value: String,
}

impl Dn {
    /// Parses an RFC 4514 string. Spaces around `,` `+` `=` are tolerated (as most
    /// servers do); escaped spaces are kept.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        parser.spaces();
        if parser.done() {
            return Ok(Self { rdns: Vec::new() });
        }
        let mut rdns = vec![Rdn { avas: Vec::new() }];
        loop {
            let ava = parser.ava()?;
            rdns.last_mut().expect("one RDN at least").avas.push(ava);
            match parser.next() {
                None => return Ok(Self { rdns }),
                Some(b'+') => {}
                Some(b',') => rdns.push(Rdn { avas: Vec::new() }),
                Some(other) => {
                    return Err(format!(
                        "unexpected '{}' at offset {}",
                        other as char,
                        parser.at - 1
                    ));
                }
            }
        }
    }

    /// True when this DN is `base` or lies below it.
    pub fn is_within(&self, base: &Dn) -> bool {
        self.rdns.len() >= base.rdns.len()
            && self.rdns[self.rdns.len() - base.rdns.len()..]
                .iter()
                .zip(&base.rdns)
                .all(|(mine, theirs)| mine.matches(theirs))
    }

    /// True when both name the same entry.
    pub fn matches(&self, other: &Dn) -> bool {
        self.rdns.len() == other.rdns.len() && self.is_within(other)
    }

    /// The DN without its leftmost RDN (empty for the root).
    pub fn parent(&self) -> Dn {
        Dn {
            rdns: self.rdns.iter().skip(1).cloned().collect(),
        }
    }

    /// `rdn` placed under this DN.
    pub fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = vec![rdn];
        rdns.extend(self.rdns.iter().cloned());
        Dn { rdns }
    }
}

impl Rdn {
    /// True when both hold the same assertions, in any order.
    pub fn matches(&self, other: &Rdn) -> bool {
        self.avas.len() == other.avas.len()
            && self
                .avas
                .iter()
                .all(|mine| other.avas.iter().any(|theirs| mine.matches(theirs)))
    }
}

impl Ava {
    /// Same type and same value, both compared without regard to case.
    pub fn matches(&self, other: &Ava) -> bool {
        self.attribute.eq_ignore_ascii_case(&other.attribute)
            && self.value.to_lowercase() == other.value.to_lowercase()
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, rdn) in self.rdns.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, ava) in self.avas.iter().enumerate() {
            if index > 0 {
                f.write_str("+")?;
            }
            write!(f, "{}={}", ava.attribute, dn_value(&ava.value))?;
        }
        Ok(())
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn fail(&self, what: &str) -> String {
        format!("{what} at offset {}", self.at)
    }

    /// `type "=" value`, with the spaces around each.
    fn ava(&mut self) -> Result<Ava, String> {
        self.spaces();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.'))
        {
            self.at += 1;
        }
        let attribute = std::str::from_utf8(&self.text[start..self.at])
            .unwrap_or_default()
            .to_owned();
        if !is_attribute_type(&attribute) {
            return Err(self.fail("expected an attribute type"));
        }
        self.spaces();
        if self.next() != Some(b'=') {
            return Err(self.fail("expected '='"));
        }
        self.spaces();
        let value = if self.peek() == Some(b'#') {
            self.hex_value()?
        } else {
            self.string_value()?
        };
        Ok(Ava { attribute, value })
    }

    /// An RFC 4514 `string`: up to an unescaped `,` or `+`, escapes resolved, unescaped
    /// trailing spaces dropped.
    fn string_value(&mut self) -> Result<String, String> {
        let mut bytes = Vec::new();
        let mut kept = 0;
        while let Some(byte) = self.peek() {
            match byte {
                b',' | b'+' => break,
                b'\\' => {
                    self.at += 1;
                    match self.peek() {
                        Some(
                            special @ (b' ' | b'"' | b'#' | b'+' | b',' | b';' | b'<' | b'=' | b'>'
                            | b'\\'),
                        ) => {
                            bytes.push(special);
                            self.at += 1;
                        }
                        _ => {
                            bytes.push(self.hex_pair()?);
                        }
                    }
                    kept = bytes.len();
                }
                b'"' | b';' | b'<' | b'>' | 0 => {
                    return Err(self.fail(&format!("unescaped '{}' in a value", byte as char)));
                }
                b' ' => {
                    bytes.push(byte);
                    self.at += 1;
                }
                _ => {
                    bytes.push(byte);
                    self.at += 1;
                    kept = bytes.len();
                }
            }
        }
        bytes.truncate(kept);
        String::from_utf8(bytes).map_err(|_| self.fail("a value that is not UTF-8"))
    }

    /// `#` and the hex of a BER-encoded string value; the value is the string inside.
    fn hex_value(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut ber = Vec::new();
        while self.peek().is_some_and(|byte| byte.is_ascii_hexdigit()) {
            ber.push(self.hex_pair()?);
        }
        self.spaces();
        match ber.as_slice() {
            [0x04 | 0x0c | 0x13 | 0x16, length, content @ ..]
                if *length as usize == content.len() =>
            {
                String::from_utf8(content.to_vec())
                    .map_err(|_| self.fail("a '#' value that is not UTF-8"))
            }
            _ => Err(self.fail("a '#' value that is not a short BER string")),
        }
    }

    fn hex_pair(&mut self) -> Result<u8, String> {
        let pair = self
            .text
            .get(self.at..self.at + 2)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .ok_or_else(|| self.fail("expected two hex digits"))?;
        self.at += 2;
        Ok(pair)
    }
}

/// A `descr` (a letter, then letters, digits and `-`) or a numeric OID.
pub fn is_attribute_type(text: &str) -> bool {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) if first.is_ascii_alphabetic() => {
            characters.all(|character| character.is_ascii_alphanumeric() || character == '-')
        }
        Some(first) if first.is_ascii_digit() => text
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|digit| digit.is_ascii_digit())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ava(attribute: &str, value: &str) -> Ava {
        Ava {
            attribute: attribute.into(),
            value: value.into(),
        }
    }

    fn values(dn: &str) -> Vec<Vec<(String, String)>> {
        Dn::parse(dn)
            .unwrap()
            .rdns
            .into_iter()
            .map(|rdn| {
                rdn.avas
                    .into_iter()
                    .map(|ava| (ava.attribute, ava.value))
                    .collect()
            })
            .collect()
    }

    fn pairs(list: &[&[(&str, &str)]]) -> Vec<Vec<(String, String)>> {
        list.iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|(a, v)| (a.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn parses_the_rfc_4514_examples() {
        assert_eq!(
            values("UID=jsmith,DC=example,DC=net"),
            pairs(&[&[("UID", "jsmith")], &[("DC", "example")], &[("DC", "net")]])
        );
        assert_eq!(
            values("OU=Sales+CN=J.  Smith,DC=example,DC=net"),
            pairs(&[
                &[("OU", "Sales"), ("CN", "J.  Smith")],
                &[("DC", "example")],
                &[("DC", "net")]
            ])
        );
        assert_eq!(
            values("CN=James \\\"Jim\\\" Smith\\, III,DC=example,DC=net")[0],
            pairs(&[&[("CN", "James \"Jim\" Smith, III")]])[0]
        );
        assert_eq!(
            values("CN=Before\\0dAfter,DC=example,DC=net")[0][0].1,
            "Before\rAfter"
        );
        assert_eq!(
            values("1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com")[0][0],
            ("1.3.6.1.4.1.1466.0".to_owned(), "Hi".to_owned())
        );
        assert_eq!(values("CN=Lu\\C4\\8Di\\C4\\87")[0][0].1, "Lučić");
        assert_eq!(Dn::parse("").unwrap().rdns, vec![]);
    }

    #[test]
    fn tolerates_spaces_around_separators_but_keeps_escaped_ones() {
        assert_eq!(
            values(" uid = a b , dc=example,  dc=org "),
            pairs(&[&[("uid", "a b")], &[("dc", "example")], &[("dc", "org")]])
        );
        assert_eq!(values("cn=\\ x\\ ")[0][0].1, " x ");
        assert_eq!(values("cn=x \\ ")[0][0].1, "x  ");
    }

    #[test]
    fn refuses_malformed_dns() {
        for bad in [
            "uid",
            "=x",
            "uid=a,",
            "uid=a,,dc=b",
            "uid=a\"b",
            "uid=a;b",
            "uid=a<b",
            "uid=\\4",
            "uid=\\zz",
            "uid=\\ff",
            "1uid=x",
            "uid=#zz",
            "uid=#0302ffff",
        ] {
            assert!(Dn::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn hostile_values_round_trip_through_escaping() {
        for value in [
            "*)(uid=*))(|(uid=*",
            " ,+=\"\\#<>; lead and trail ",
            "#start",
            "nul\0inside",
            "😀𝄞 non-BMP",
            "=",
            "  ",
        ] {
            let dn = Dn::parse("ou=people,dc=example,dc=org")
                .unwrap()
                .child(Rdn {
                    avas: vec![ava("uid", value)],
                });
            let text = dn.to_string();
            let parsed = Dn::parse(&text).unwrap();
            assert_eq!(parsed, dn, "{text}");
            assert_eq!(parsed.rdns.len(), 4, "{text}");
        }
    }

    #[test]
    fn compares_without_regard_to_case_and_order() {
        let base = Dn::parse("dc=Example,dc=ORG").unwrap();
        let user = Dn::parse("UID=Alice,OU=People,DC=example,DC=org").unwrap();
        assert!(user.is_within(&base));
        assert!(base.is_within(&base));
        assert!(!base.is_within(&user));
        assert!(!Dn::parse("uid=a,dc=other,dc=org").unwrap().is_within(&base));
        assert!(!Dn::parse("dc=org").unwrap().is_within(&base));
        assert!(
            Dn::parse("cn=a+sn=b,dc=x")
                .unwrap()
                .matches(&Dn::parse("SN=B+CN=A,dc=x").unwrap())
        );
        assert_eq!(user.parent().to_string(), "OU=People,DC=example,DC=org");
        assert_eq!(
            base.child(user.rdns[0].clone()).to_string(),
            "UID=Alice,dc=Example,dc=ORG"
        );
    }

    #[test]
    fn recognises_attribute_types() {
        for good in ["cn", "x-my-attr", "entryUUID", "2.5.4.3"] {
            assert!(is_attribute_type(good), "{good}");
        }
        for bad in ["", "-cn", "1cn", "2..5", "2.5.", "c n", "cn;binary"] {
            assert!(!is_attribute_type(bad), "{bad}");
        }
    }
}
