//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
//! Shared by the filter parser, PATCH and the attribute mapping, so all three agree on
//! what a path means.

use super::error::ScimError;

/// A parsed attribute path: an optional schema URN, an attribute name and an optional
/// sub-attribute. Names keep the case they were written in; compare them with
/// [`AttrPath::same_as`] (SCIM attribute names are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, when the path names one.
    pub schema: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute of a complex attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path without schema URN.
    pub fn new(name: impl Into<String>, sub: Option<&str>) -> Self {
        Self {
            schema: None,
            name: name.into(),
            sub: sub.map(str::to_string),
        }
    }

    /// Parses `[urn ":"] name ["." sub]`. A URN is everything up to the last `:`; this is
    /// unambiguous for attribute paths. (A bare schema URN with no attribute is resolved
    /// against the known schemas by the caller.)
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        let (schema, rest) = if text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            match text.rfind(':') {
                Some(i) => (Some(text[..i].to_string()), &text[i + 1..]),
                None => unreachable!("text starts with urn:"),
            }
        } else {
            (None, text)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
            return Err(ScimError::invalid_path(format!(
                "'{text}' is not a valid attribute path"
            )));
        }
        Ok(Self {
            schema,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// True when both paths name the same attribute (names and URNs compared without case).
    pub fn same_as(&self, other: &AttrPath) -> bool {
        fn eq(a: &Option<String>, b: &Option<String>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
        }
        eq(&self.schema, &other.schema)
            && self.name.eq_ignore_ascii_case(&other.name)
            && eq(&self.sub, &other.sub)
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(urn) = &self.schema {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// `ATTRNAME = ALPHA *(nameChar)` of RFC 7643 §2.1, plus `$ref`.
pub fn is_attr_name(name: &str) -> bool {
    if name == "$ref" {
        return true;
    }
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_sub_and_urn_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::new("userName", None)
        );
        assert_eq!(
            AttrPath::parse("name.givenName").unwrap(),
            AttrPath::new("name", Some("givenName"))
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.schema.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (p.name.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap().sub.as_deref(),
            Some("$ref")
        );
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "", "1abc", "a b", "name.", ".x", "a.b.c", "ü", "urn:x:", "abcü", "urnü:x",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn compares_without_case() {
        let a = AttrPath::parse("Name.GivenName").unwrap();
        assert!(a.same_as(&AttrPath::new("name", Some("givenname"))));
        assert!(!a.same_as(&AttrPath::new("name", None)));
    }
}
