//! Search filters. The connector builds its own filters as `ldap3_proto` structures, so
//! no value is ever spliced into filter text; the one filter written as text, the
//! operator's `user-filter`, is parsed here by the RFC 4515 grammar (escapes included:
//! `ldap3_proto`'s own parser knows no `\XX` escapes). `render` writes a filter back as
//! text, escaping every value, for log lines and messages.

use ldap3_proto::proto::{LdapFilter, LdapMatchingRuleAssertion, LdapSubstringFilter};

use crate::escape::filter_value;

/// Nesting deeper than this is refused, so a hostile filter cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Parses an RFC 4515 filter string. The error says what is wrong and where.
pub fn parse(text: &str) -> Result<LdapFilter, String> {
    let mut parser = Parser {
        text: text.as_bytes(),
        at: 0,
    };
    let filter = parser.filter(0)?;
    if parser.at != text.len() {
        return Err(parser.fail("text after the end of the filter"));
    }
    Ok(filter)
}

/// `filter` as RFC 4515 text, every value escaped.
pub fn render(filter: &LdapFilter) -> String {
    let mut text = String::new();
    write(filter, &mut text);
    text
}

/// `(&(a)(b))`, flattening a conjunction in `a` so added conditions do not nest deeper.
pub fn and(first: &LdapFilter, second: LdapFilter) -> LdapFilter {
    let mut parts = match first {
        LdapFilter::And(parts) => parts.clone(),
        other => vec![other.clone()],
    };
    parts.push(second);
    LdapFilter::And(parts)
}

fn write(filter: &LdapFilter, text: &mut String) {
    text.push('(');
    match filter {
        LdapFilter::And(parts) | LdapFilter::Or(parts) => {
            text.push(if matches!(filter, LdapFilter::And(_)) {
                '&'
            } else {
                '|'
            });
            for part in parts {
                write(part, text);
            }
        }
        LdapFilter::Not(inner) => {
            text.push('!');
            write(inner, text);
        }
        LdapFilter::Equality(attribute, value) => simple(text, attribute, "=", value),
        LdapFilter::GreaterOrEqual(attribute, value) => simple(text, attribute, ">=", value),
        LdapFilter::LessOrEqual(attribute, value) => simple(text, attribute, "<=", value),
        LdapFilter::Approx(attribute, value) => simple(text, attribute, "~=", value),
        LdapFilter::Present(attribute) => {
            text.push_str(attribute);
            text.push_str("=*");
        }
        LdapFilter::Substring(attribute, parts) => {
            text.push_str(attribute);
            text.push('=');
            text.push_str(&filter_value(parts.initial.as_deref().unwrap_or_default()));
            text.push('*');
            for middle in &parts.any {
                text.push_str(&filter_value(middle));
                text.push('*');
            }
            text.push_str(&filter_value(parts.final_.as_deref().unwrap_or_default()));
        }
        LdapFilter::Extensible(assertion) => {
            text.push_str(assertion.type_.as_deref().unwrap_or_default());
            if assertion.dn_attributes {
                text.push_str(":dn");
            }
            if let Some(rule) = &assertion.matching_rule {
                text.push(':');
                text.push_str(rule);
            }
            text.push_str(":=");
            text.push_str(&filter_value(&assertion.match_value));
        }
    }
    text.push(')');
}

fn simple(text: &mut String, attribute: &str, operator: &str, value: &str) {
    text.push_str(attribute);
    text.push_str(operator);
    text.push_str(&filter_value(value));
}

/// A recursive-descent parser over the filter's bytes.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn fail(&self, what: &str) -> String {
        format!("{what} at offset {}", self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail(&format!("expected '{}'", byte as char)))
        }
    }

    /// `filter = "(" filtercomp ")"`
    fn filter(&mut self, depth: usize) -> Result<LdapFilter, String> {
        if depth >= MAX_DEPTH {
            return Err(self.fail("filter nested too deeply"));
        }
        self.expect(b'(')?;
        let filter = match self.peek() {
            Some(b'&') => {
                self.at += 1;
                LdapFilter::And(self.list(depth)?)
            }
            Some(b'|') => {
                self.at += 1;
                LdapFilter::Or(self.list(depth)?)
            }
            Some(b'!') => {
                self.at += 1;
                LdapFilter::Not(Box::new(self.filter(depth + 1)?))
            }
            _ => self.item()?,
        };
        self.expect(b')')?;
        Ok(filter)
    }

    /// `filterlist = *filter` (RFC 4526 allows the empty `(&)` and `(|)`).
    fn list(&mut self, depth: usize) -> Result<Vec<LdapFilter>, String> {
        let mut parts = Vec::new();
        while self.peek() == Some(b'(') {
            parts.push(self.filter(depth + 1)?);
        }
        Ok(parts)
    }

    /// An attribute description, a matching rule or `dn`: letters, digits, `-`, `.`, `;`.
    fn name(&mut self) -> &str {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b';'))
        {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at]).unwrap_or_default()
    }

    /// `item = simple / present / substring / extensible`
    fn item(&mut self) -> Result<LdapFilter, String> {
        let attribute = self.name().to_owned();
        if self.peek() == Some(b':') {
            return self.extensible(attribute);
        }
        if attribute.is_empty() {
            return Err(self.fail("expected an attribute description"));
        }
        let operator = match (self.peek(), self.text.get(self.at + 1)) {
            (Some(b'='), _) => "=",
            (Some(b'~'), Some(b'=')) => "~=",
            (Some(b'>'), Some(b'=')) => ">=",
            (Some(b'<'), Some(b'=')) => "<=",
            _ => return Err(self.fail("expected '=', '~=', '>=' or '<='")),
        };
        self.at += operator.len();
        if operator != "=" {
            let value = self.value(false)?.remove(0);
            return Ok(match operator {
                "~=" => LdapFilter::Approx(attribute, value),
                ">=" => LdapFilter::GreaterOrEqual(attribute, value),
                _ => LdapFilter::LessOrEqual(attribute, value),
            });
        }
        let mut parts = self.value(true)?;
        Ok(match parts.len() {
            1 => LdapFilter::Equality(attribute, parts.remove(0)),
            2 if parts.iter().all(String::is_empty) => LdapFilter::Present(attribute),
            _ => {
                let final_ = parts.pop().filter(|part| !part.is_empty());
                let initial = Some(parts.remove(0)).filter(|part| !part.is_empty());
                if parts.iter().any(String::is_empty) {
                    return Err(self.fail("two '*' in a row in a substring filter"));
                }
                LdapFilter::Substring(
                    attribute,
                    LdapSubstringFilter {
                        initial,
                        any: parts,
                        final_,
                    },
                )
            }
        })
    }

    /// `extensible = [attr] [":dn"] [":" oid] ":=" assertionvalue`
    fn extensible(&mut self, attribute: String) -> Result<LdapFilter, String> {
        let mut dn_attributes = false;
        let mut matching_rule = None;
        while self.peek() == Some(b':') {
            self.at += 1;
            if self.peek() == Some(b'=') {
                self.at += 1;
                if attribute.is_empty() && matching_rule.is_none() {
                    return Err(self.fail("an extensible match needs a type or a matching rule"));
                }
                let match_value = self.value(false)?.remove(0);
                return Ok(LdapFilter::Extensible(LdapMatchingRuleAssertion {
                    matching_rule,
                    type_: Some(attribute).filter(|name| !name.is_empty()),
                    match_value,
                    dn_attributes,
                }));
            }
            let part = self.name().to_owned();
            if part.eq_ignore_ascii_case("dn") && !dn_attributes && matching_rule.is_none() {
                dn_attributes = true;
            } else if !part.is_empty() && matching_rule.is_none() {
                matching_rule = Some(part);
            } else {
                return Err(self.fail("malformed extensible match"));
            }
        }
        Err(self.fail("expected ':=' in an extensible match"))
    }

    /// An assertion value up to the closing `)`, unescaped, split at unescaped `*` when
    /// `stars` allows them.
    fn value(&mut self, stars: bool) -> Result<Vec<String>, String> {
        let mut parts = Vec::new();
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.fail("unterminated filter")),
                Some(b')') => break,
                Some(b'(') => return Err(self.fail("unescaped '(' in a value")),
                Some(b'*') if stars => {
                    parts.push(text_of(std::mem::take(&mut bytes), self)?);
                    self.at += 1;
                }
                Some(b'*') => return Err(self.fail("unexpected '*'")),
                Some(b'\\') => {
                    let pair = self
                        .text
                        .get(self.at + 1..self.at + 3)
                        .and_then(|pair| std::str::from_utf8(pair).ok())
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                        .ok_or_else(|| self.fail("'\\' must be followed by two hex digits"))?;
                    bytes.push(pair);
                    self.at += 3;
                }
                Some(byte) => {
                    bytes.push(byte);
                    self.at += 1;
                }
            }
        }
        parts.push(text_of(bytes, self)?);
        Ok(parts)
    }
}

/// The value as text: the codec carries filter values as strings.
fn text_of(bytes: Vec<u8>, parser: &Parser) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|_| parser.fail("a value that is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(attribute: &str, value: &str) -> LdapFilter {
        LdapFilter::Equality(attribute.into(), value.into())
    }

    #[test]
    fn parses_the_rfc_4515_examples() {
        assert_eq!(parse("(cn=Babs Jensen)"), Ok(eq("cn", "Babs Jensen")));
        assert_eq!(
            parse("(!(cn=Tim Howes))"),
            Ok(LdapFilter::Not(Box::new(eq("cn", "Tim Howes"))))
        );
        assert_eq!(
            parse("(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))"),
            Ok(LdapFilter::And(vec![
                eq("objectClass", "Person"),
                LdapFilter::Or(vec![
                    eq("sn", "Jensen"),
                    LdapFilter::Substring(
                        "cn".into(),
                        LdapSubstringFilter {
                            initial: Some("Babs J".into()),
                            any: vec![],
                            final_: None,
                        }
                    ),
                ]),
            ]))
        );
        assert_eq!(
            parse("(o=univ*of*mich*)"),
            Ok(LdapFilter::Substring(
                "o".into(),
                LdapSubstringFilter {
                    initial: Some("univ".into()),
                    any: vec!["of".into(), "mich".into()],
                    final_: None,
                }
            ))
        );
        assert_eq!(parse("(seeAlso=)"), Ok(eq("seeAlso", "")));
        assert_eq!(
            parse("(cn:caseExactMatch:=Fred Flintstone)"),
            Ok(LdapFilter::Extensible(LdapMatchingRuleAssertion {
                matching_rule: Some("caseExactMatch".into()),
                type_: Some("cn".into()),
                match_value: "Fred Flintstone".into(),
                dn_attributes: false,
            }))
        );
        assert_eq!(
            parse("(sn:dn:2.4.6.8.10:=Barney Rubble)"),
            Ok(LdapFilter::Extensible(LdapMatchingRuleAssertion {
                matching_rule: Some("2.4.6.8.10".into()),
                type_: Some("sn".into()),
                match_value: "Barney Rubble".into(),
                dn_attributes: true,
            }))
        );
        assert_eq!(
            parse("(:DN:2.4.6.8.10:=Dino)"),
            Ok(LdapFilter::Extensible(LdapMatchingRuleAssertion {
                matching_rule: Some("2.4.6.8.10".into()),
                type_: None,
                match_value: "Dino".into(),
                dn_attributes: true,
            }))
        );
        assert_eq!(
            parse("(objectClass=*)"),
            Ok(LdapFilter::Present("objectClass".into()))
        );
        assert_eq!(
            parse("(modifyTimestamp>=20240101000000Z)"),
            Ok(LdapFilter::GreaterOrEqual(
                "modifyTimestamp".into(),
                "20240101000000Z".into()
            ))
        );
        assert_eq!(parse("(&)"), Ok(LdapFilter::And(vec![])));
    }

    #[test]
    fn unescapes_values() {
        assert_eq!(
            parse("(o=Parens R Us \\28for all your parenthetical needs\\29)"),
            Ok(eq("o", "Parens R Us (for all your parenthetical needs)"))
        );
        assert_eq!(
            parse("(cn=*\\2A*)"),
            Ok(LdapFilter::Substring(
                "cn".into(),
                LdapSubstringFilter {
                    initial: None,
                    any: vec!["*".into()],
                    final_: None,
                }
            ))
        );
        assert_eq!(
            parse("(filename=C:\\5cMyFile)"),
            Ok(eq("filename", "C:\\MyFile"))
        );
        assert_eq!(
            parse("(bin=\\00\\00\\00\\04)"),
            Ok(eq("bin", "\0\0\0\u{4}"))
        );
        assert_eq!(parse("(sn=Lu\\c4\\8di\\c4\\87)"), Ok(eq("sn", "Lučić")));
        assert_eq!(parse("(cn=😀)"), Ok(eq("cn", "😀")));
    }

    #[test]
    fn refuses_malformed_filters() {
        for bad in [
            "",
            "cn=x",
            "(cn=x",
            "(cn=x))",
            "(=x)",
            "(cn=a(b)",
            "(cn=\\4)",
            "(cn=\\zz)",
            "(cn=a**b)",
            "(cn>=a*)",
            "(cn=\\ff)",
            "(cn:=)x",
            "(:=x)",
            "(cn~x)",
            "(&(cn=x)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!("{}(cn=x){}", "(!".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("too deeply"));
    }

    #[test]
    fn rendering_escapes_hostile_values_and_round_trips() {
        let hostile = "*)(uid=*))(|(uid=*";
        let filter = LdapFilter::And(vec![
            eq("objectClass", "inetOrgPerson"),
            eq("uid", hostile),
            eq("cn", "nul\0 back\\slash 😀"),
        ]);
        let text = render(&filter);
        assert_eq!(
            text,
            "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a)\
             (cn=nul\\00 back\\5cslash 😀))"
        );
        assert_eq!(parse(&text), Ok(filter));
        for text in [
            "(!(|(cn=a*b*c)(sn=*x)(o=y*)(mail=*)))",
            "(&(cn~=a)(n<=5)(n>=1)(cn:dn:1.2.3:=v)(:caseExactMatch:=w))",
            "(o=\\28\\29\\2a\\5c)",
        ] {
            assert_eq!(render(&parse(text).unwrap()), text);
        }
    }

    #[test]
    fn and_flattens_a_conjunction() {
        let user = parse("(&(objectClass=person)(uid=*))").unwrap();
        assert_eq!(
            render(&and(&user, eq("entryUUID", "x"))),
            "(&(objectClass=person)(uid=*)(entryUUID=x))"
        );
        let single = parse("(objectClass=person)").unwrap();
        assert_eq!(
            render(&and(&single, eq("entryUUID", "x"))),
            "(&(objectClass=person)(entryUUID=x))"
        );
    }
}
