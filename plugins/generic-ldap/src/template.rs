//! The DN template for new entries, e.g. `uid={uid},ou=people,{base-dn}`: operator text,
//! `{attribute}` placeholders replaced by that attribute's value from the add (escaped per
//! RFC 4514, so no value can add an RDN or change the parent), and `{base-dn}` replaced by
//! the configured base DN as it is.

use crate::dn::{Dn, is_attribute_type};

/// The placeholder for the base DN.
const BASE_DN: &str = "base-dn";

/// A checked template.
#[derive(Debug, Clone, PartialEq)]
pub struct DnTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Attribute(String),
    BaseDn,
}

impl DnTemplate {
    /// Parses `text` and checks that it names at least one attribute and that every DN
    /// it can produce is a valid DN under `base`.
    pub fn parse(text: &str, base: &Dn) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .map(|close| open + close)
                .ok_or("a '{' without its '}'")?;
            if rest[..open].contains('}') {
                return Err("a '}' without its '{'".to_owned());
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let name = &rest[open + 1..close];
            parts.push(if name == BASE_DN {
                Part::BaseDn
            } else if is_attribute_type(name) {
                Part::Attribute(name.to_owned())
            } else {
                return Err(format!(
                    "'{{{name}}}' is neither an attribute name nor {{{BASE_DN}}}"
                ));
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err("a '}' without its '{'".to_owned());
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        let template = Self { parts };
        if template.attributes().next().is_none() {
            return Err("it names no attribute: every new entry would get the same DN".to_owned());
        }
        let base_text = base.to_string();
        let sample = template.expand(&base_text, |_| Some("x".to_owned()))?;
        let sample = Dn::parse(&sample).map_err(|why| format!("it makes no valid DN: {why}"))?;
        if !sample.is_within(base) || sample.matches(base) {
            return Err(format!("its DNs are not below the base DN '{base_text}'"));
        }
        Ok(template)
    }

    /// The attributes the template takes values from.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Attribute(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The DN for a new entry; `value` gives an attribute's value, or none when the add
    /// has none, which is an error naming the attribute.
    pub fn expand(
        &self,
        base: &str,
        value: impl Fn(&str) -> Option<String>,
    ) -> Result<String, String> {
        let mut dn = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => dn.push_str(text),
                Part::BaseDn => dn.push_str(base),
                Part::Attribute(name) => {
                    let value = value(name).ok_or_else(|| {
                        format!("the DN template needs a value of '{name}', and the add has none")
                    })?;
                    dn.push_str(&crate::escape::dn_value(&value));
                }
            }
        }
        Ok(dn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Dn {
        Dn::parse("dc=example,dc=org").unwrap()
    }

    #[test]
    fn expands_values_escaped_and_the_base_as_is() {
        let template = DnTemplate::parse("uid={uid},ou=people,{base-dn}", &base()).unwrap();
        assert_eq!(template.attributes().collect::<Vec<_>>(), ["uid"]);
        let expand = |value: &str| {
            template
                .expand("dc=example,dc=org", |name| {
                    (name == "uid").then(|| value.to_owned())
                })
                .unwrap()
        };
        assert_eq!(expand("alice"), "uid=alice,ou=people,dc=example,dc=org");
        let hostile = expand("*)(uid=*))(|(uid=*");
        assert_eq!(
            hostile,
            "uid=*)(uid\\=*))(|(uid\\=*,ou=people,dc=example,dc=org"
        );
        let injected = expand(" a,ou=admins+cn=x\"#\\ ");
        let parsed = Dn::parse(&injected).unwrap();
        assert_eq!(parsed.rdns.len(), 4);
        assert_eq!(parsed.rdns[0].avas.len(), 1);
        assert_eq!(parsed.rdns[0].avas[0].value, " a,ou=admins+cn=x\"#\\ ");
        assert_eq!(
            template.expand("dc=example,dc=org", |_| None).unwrap_err(),
            "the DN template needs a value of 'uid', and the add has none"
        );
    }

    #[test]
    fn takes_several_attributes_and_a_literal_base() {
        let template =
            DnTemplate::parse("cn={givenName} {sn}+uid={uid},dc=example,dc=org", &base()).unwrap();
        assert_eq!(
            template.attributes().collect::<Vec<_>>(),
            ["givenName", "sn", "uid"]
        );
        let dn = template
            .expand("ignored", |name| Some(format!("<{name}>")))
            .unwrap();
        assert_eq!(
            dn,
            "cn=\\<givenName\\> \\<sn\\>+uid=\\<uid\\>,dc=example,dc=org"
        );
    }

    #[test]
    fn refuses_templates_that_cannot_work() {
        for (template, reason) in [
            ("uid={uid", "without its '}'"),
            ("uid=uid},{base-dn}", "without its '{'"),
            ("uid={u id},{base-dn}", "neither an attribute name"),
            ("uid={},{base-dn}", "neither an attribute name"),
            ("ou=people,{base-dn}", "names no attribute"),
            ("uid={uid},dc=other,dc=org", "not below the base DN"),
            ("uid={uid}", "not below the base DN"),
            ("uid={uid},,{base-dn}", "no valid DN"),
        ] {
            let failure = DnTemplate::parse(template, &base()).unwrap_err();
            assert!(failure.contains(reason), "{template}: {failure}");
        }
    }
}
