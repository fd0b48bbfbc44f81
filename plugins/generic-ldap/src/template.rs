//! The DN template of entries, e.g. `uid={uid},ou=people,{base-dn}`: operator text,
//! `{attribute}` placeholders replaced by that attribute's value (escaped per RFC 4514, so
//! no value can add an RDN or change the structure), and `{base-dn}` replaced by the
//! configured base DN as it is.
//!
//! Placeholders stand only where an attribute value may: in the leaf RDN (`uid={uid}`,
//! `uid={uid}+employeeNumber={employeeNumber}`, `cn={givenName} {sn}`) or in the parent
//! part (`ou={departmentNumber}`), so every DN the template makes has the same shape and
//! lies under the base. The template names new entries, and names entries again when an
//! update changes an attribute it is built from (see `export.rs`).

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
        template.placeholders_are_values()?;
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

    /// Checks that every placeholder stands in an attribute value: after the `=` of its
    /// AVA. A placeholder in an attribute type would let a value pick the attribute.
    fn placeholders_are_values(&self) -> Result<(), String> {
        let mut in_value = false;
        for part in &self.parts {
            match part {
                Part::Text(text) => {
                    let mut characters = text.chars();
                    while let Some(character) = characters.next() {
                        match character {
                            '\\' => {
                                characters.next();
                            }
                            ',' | '+' => in_value = false,
                            '=' => in_value = true,
                            _ => {}
                        }
                    }
                }
                Part::BaseDn => in_value = false,
                Part::Attribute(name) if !in_value => {
                    return Err(format!(
                        "'{{{name}}}' must stand in an attribute value, after a '='"
                    ));
                }
                Part::Attribute(_) => {}
            }
        }
        Ok(())
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

    /// Whether `dn` has the shape of the template's DNs under `base`: as many RDNs, the
    /// same attribute types in each, and the template's literal values where it has
    /// them. Entries named otherwise (made by someone else) are not renamed by it.
    pub fn fits(&self, base: &str, dn: &Dn) -> bool {
        let sample = |value: &str| {
            self.expand(base, |_| Some(value.to_owned()))
                .ok()
                .and_then(|text| Dn::parse(&text).ok())
        };
        let (Some(one), Some(other)) = (sample("x"), sample("y")) else {
            return false;
        };
        one.rdns.len() == dn.rdns.len()
            && one
                .rdns
                .iter()
                .zip(&other.rdns)
                .zip(&dn.rdns)
                .all(|((one, other), given)| {
                    one.avas.len() == given.avas.len()
                        && one.avas.iter().zip(&other.avas).all(|(one, other)| {
                            given.avas.iter().any(|ava| {
                                ava.attribute.eq_ignore_ascii_case(&one.attribute)
                                    && (one.value != other.value || ava.matches(one))
                            })
                        })
                })
    }

    /// The DN the template gives an entry whose attributes hold `values` (every value,
    /// text only). When an attribute has several values, `current` is kept if some choice
    /// of them names it; otherwise the first value of each is taken. The error names an
    /// attribute that has no value.
    pub fn name(
        &self,
        base: &str,
        current: Option<&Dn>,
        values: impl Fn(&str) -> Vec<String>,
    ) -> Result<Dn, String> {
        let mut names: Vec<&str> = Vec::new();
        for name in self.attributes() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let mut choices = Vec::with_capacity(names.len());
        for name in &names {
            let given = values(name);
            if given.is_empty() {
                return Err(format!("the DN template needs a value of '{name}'"));
            }
            choices.push(given);
        }
        let mut picked = vec![0; names.len()];
        let mut first = None;
        for _ in 0..CHOICES {
            let text = self.expand(base, |name| {
                let at = names.iter().position(|known| *known == name)?;
                Some(choices[at][picked[at]].clone())
            })?;
            let dn = Dn::parse(&text).map_err(|why| format!("it makes no valid DN: {why}"))?;
            match current {
                Some(current) if !dn.matches(current) => first = first.or(Some(dn)),
                _ => return Ok(dn),
            }
            if !next_choice(&mut picked, &choices) {
                break;
            }
        }
        Ok(first.expect("one choice at least was made"))
    }
}

/// Turns `picked` to the next choice among `choices`, as an odometer turns; false when
/// every choice was made.
fn next_choice(picked: &mut [usize], choices: &[Vec<String>]) -> bool {
    for (at, given) in choices.iter().enumerate() {
        picked[at] += 1;
        if picked[at] < given.len() {
            return true;
        }
        picked[at] = 0;
    }
    false
}

/// How many choices of values `DnTemplate::name` tries at most to find the current DN.
const CHOICES: usize = 256;

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
            ("{uid}=x,{base-dn}", "must stand in an attribute value"),
            (
                "uid=x+{uid}=y,{base-dn}",
                "must stand in an attribute value",
            ),
            (
                "uid={uid},{base-dn}{uid}",
                "must stand in an attribute value",
            ),
        ] {
            let failure = DnTemplate::parse(template, &base()).unwrap_err();
            assert!(failure.contains(reason), "{template}: {failure}");
        }
    }

    #[test]
    fn a_value_in_the_parent_part_stays_one_rdn_value() {
        let template =
            DnTemplate::parse("uid={uid},ou={departmentNumber},{base-dn}", &base()).unwrap();
        let dn = template
            .name("dc=example,dc=org", None, |name| match name {
                "uid" => vec!["ann".into()],
                _ => vec!["Sales,ou=admins+cn=x".into()],
            })
            .unwrap();
        assert_eq!(dn.rdns.len(), 4);
        assert_eq!(dn.rdns[1].avas[0].value, "Sales,ou=admins+cn=x");
        assert_eq!(
            dn.to_string(),
            "uid=ann,ou=Sales\\,ou\\=admins\\+cn\\=x,dc=example,dc=org"
        );
    }

    #[test]
    fn names_keep_the_current_dn_when_the_values_still_make_it() {
        let template =
            DnTemplate::parse("cn={givenName} {sn}+uid={uid},{base-dn}", &base()).unwrap();
        let base = "dc=example,dc=org";
        let values = |name: &str| -> Vec<String> {
            match name {
                "givenName" => vec!["Ann".into()],
                "sn" => vec!["Lee".into()],
                _ => vec!["a1".into(), "a2".into()],
            }
        };
        let first = template.name(base, None, values).unwrap();
        assert_eq!(first.to_string(), "cn=Ann Lee+uid=a1,dc=example,dc=org");
        let current = Dn::parse("UID=A2+CN=ann lee,dc=example,dc=org").unwrap();
        assert_eq!(
            template.name(base, Some(&current), values).unwrap(),
            Dn::parse("cn=Ann Lee+uid=a2,dc=example,dc=org").unwrap()
        );
        let elsewhere = Dn::parse("cn=Ann Smith+uid=a2,dc=example,dc=org").unwrap();
        assert_eq!(
            template.name(base, Some(&elsewhere), values).unwrap(),
            first
        );
        let missing = template.name(base, None, |_| Vec::new()).unwrap_err();
        assert!(missing.contains("'givenName'"), "{missing}");
    }

    #[test]
    fn fits_only_dns_of_the_templates_shape() {
        let template = DnTemplate::parse("uid={uid},ou={ou},ou=people,{base-dn}", &base()).unwrap();
        let base = "dc=example,dc=org";
        let fits = |dn: &str| template.fits(base, &Dn::parse(dn).unwrap());
        assert!(fits("uid=a,ou=Sales,ou=people,dc=example,dc=org"));
        assert!(fits("UID=a,OU=x,OU=People,DC=Example,DC=org"));
        assert!(!fits("cn=a,ou=Sales,ou=people,dc=example,dc=org"));
        assert!(!fits("uid=a,ou=Sales,ou=admins,dc=example,dc=org"));
        assert!(!fits("uid=a,ou=people,dc=example,dc=org"));
        assert!(!fits("uid=a+cn=b,ou=Sales,ou=people,dc=example,dc=org"));
    }
}
