//! The server's subschema (RFC 4512 section 4.1): attribute type and object class
//! descriptions parsed into types, with the lookups the connector needs: a type or class
//! by any of its names or its OID (case-insensitively), an attribute's syntax inherited
//! through `SUP`, and a class with all its superclasses.

use std::collections::HashMap;

/// How deep a `SUP` chain may go before it is taken for a loop.
const MAX_CHAIN: usize = 32;

/// One attribute type description.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttributeType {
    /// The numeric OID.
    pub oid: String,
    /// Its names, the first being the one the server writes.
    pub names: Vec<String>,
    /// `DESC`.
    pub description: Option<String>,
    /// `SUP`: the type it inherits from.
    pub superior: Option<String>,
    /// `SYNTAX`, without a `{length}` bound.
    pub syntax: Option<String>,
    /// `SINGLE-VALUE`.
    pub single_value: bool,
    /// `NO-USER-MODIFICATION`.
    pub no_user_modification: bool,
    /// `USAGE` is not `userApplications`: an operational attribute.
    pub operational: bool,
}

/// The kind of an object class.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ClassKind {
    /// Only for inheritance (`top`).
    Abstract,
    /// The class an entry is made of; the default.
    #[default]
    Structural,
    /// Added to an entry beside its structural class.
    Auxiliary,
}

/// One object class description.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectClass {
    /// The numeric OID.
    pub oid: String,
    /// Its names.
    pub names: Vec<String>,
    /// `SUP`: the classes it inherits from.
    pub superiors: Vec<String>,
    /// `ABSTRACT`, `STRUCTURAL` or `AUXILIARY`.
    pub kind: ClassKind,
    /// `MUST`: attributes an entry of the class must have.
    pub must: Vec<String>,
    /// `MAY`: attributes it may have.
    pub may: Vec<String>,
}

/// The attribute types and object classes the server publishes.
#[derive(Debug, Default)]
pub struct Subschema {
    attribute_types: Vec<AttributeType>,
    object_classes: Vec<ObjectClass>,
    attribute_index: HashMap<String, usize>,
    class_index: HashMap<String, usize>,
}

impl Subschema {
    /// Reads the values of the subschema entry's `attributeTypes` and `objectClasses`.
    /// A description that does not parse is an error naming it.
    pub fn parse(attribute_types: &[String], object_classes: &[String]) -> Result<Self, String> {
        let mut schema = Subschema::default();
        for text in attribute_types {
            let parsed = attribute_type(text)
                .map_err(|why| format!("attribute type description {text:?}: {why}"))?;
            let index = schema.attribute_types.len();
            for key in parsed.names.iter().chain([&parsed.oid]) {
                schema.attribute_index.insert(key.to_lowercase(), index);
            }
            schema.attribute_types.push(parsed);
        }
        for text in object_classes {
            let parsed = object_class(text)
                .map_err(|why| format!("object class description {text:?}: {why}"))?;
            let index = schema.object_classes.len();
            for key in parsed.names.iter().chain([&parsed.oid]) {
                schema.class_index.insert(key.to_lowercase(), index);
            }
            schema.object_classes.push(parsed);
        }
        Ok(schema)
    }

    /// The attribute type with this name or OID.
    pub fn attribute(&self, name: &str) -> Option<&AttributeType> {
        let index = self.attribute_index.get(&name.to_lowercase())?;
        Some(&self.attribute_types[*index])
    }

    /// The object class with this name or OID.
    pub fn object_class(&self, name: &str) -> Option<&ObjectClass> {
        let index = self.class_index.get(&name.to_lowercase())?;
        Some(&self.object_classes[*index])
    }

    /// The syntax of an attribute type: its own, or the nearest one up its `SUP` chain.
    pub fn syntax_of<'a>(&'a self, attribute: &'a AttributeType) -> Option<&'a str> {
        let mut current = attribute;
        for _ in 0..MAX_CHAIN {
            if let Some(syntax) = &current.syntax {
                return Some(syntax);
            }
            current = self.attribute(current.superior.as_deref()?)?;
        }
        None
    }

    /// `name` and every class it inherits from, each once, the class itself first.
    pub fn with_superclasses(&self, name: &str) -> Result<Vec<&ObjectClass>, String> {
        let mut found: Vec<&ObjectClass> = Vec::new();
        let mut pending = vec![(name.to_owned(), 0)];
        while let Some((name, depth)) = pending.pop() {
            if depth > MAX_CHAIN {
                return Err(format!("the superclasses of '{name}' form a loop"));
            }
            let class = self
                .object_class(&name)
                .ok_or_else(|| format!("the server's schema has no object class '{name}'"))?;
            if found.iter().any(|known| known.oid == class.oid) {
                continue;
            }
            found.push(class);
            pending.extend(
                class
                    .superiors
                    .iter()
                    .map(|superior| (superior.clone(), depth + 1)),
            );
        }
        Ok(found)
    }
}

/// Parses one `AttributeTypeDescription`.
pub fn attribute_type(text: &str) -> Result<AttributeType, String> {
    let (oid, fields) = description(text)?;
    let mut parsed = AttributeType {
        oid,
        ..AttributeType::default()
    };
    for (keyword, values) in fields {
        match keyword.as_str() {
            "NAME" => parsed.names = values,
            "DESC" => parsed.description = values.into_iter().next(),
            "SUP" => parsed.superior = values.into_iter().next(),
            "SYNTAX" => {
                parsed.syntax = values
                    .into_iter()
                    .next()
                    .map(|syntax| syntax.split('{').next().unwrap_or_default().to_owned())
            }
            "SINGLE-VALUE" => parsed.single_value = true,
            "NO-USER-MODIFICATION" => parsed.no_user_modification = true,
            "USAGE" => {
                parsed.operational = values
                    .first()
                    .is_some_and(|usage| !usage.eq_ignore_ascii_case("userApplications"))
            }
            _ => {}
        }
    }
    Ok(parsed)
}

/// Parses one `ObjectClassDescription`.
pub fn object_class(text: &str) -> Result<ObjectClass, String> {
    let (oid, fields) = description(text)?;
    let mut parsed = ObjectClass {
        oid,
        ..ObjectClass::default()
    };
    for (keyword, values) in fields {
        match keyword.as_str() {
            "NAME" => parsed.names = values,
            "SUP" => parsed.superiors = values,
            "ABSTRACT" => parsed.kind = ClassKind::Abstract,
            "STRUCTURAL" => parsed.kind = ClassKind::Structural,
            "AUXILIARY" => parsed.kind = ClassKind::Auxiliary,
            "MUST" => parsed.must = values,
            "MAY" => parsed.may = values,
            _ => {}
        }
    }
    Ok(parsed)
}

/// Keywords that stand alone, without a value.
const FLAGS: [&str; 7] = [
    "OBSOLETE",
    "SINGLE-VALUE",
    "COLLECTIVE",
    "NO-USER-MODIFICATION",
    "ABSTRACT",
    "STRUCTURAL",
    "AUXILIARY",
];

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Dollar,
    Quoted(String),
    Word(String),
}

/// A keyword of a description with its values.
type Field = (String, Vec<String>);

/// `( oid KEYWORD value ... )` as the OID and each keyword with its values: none for a
/// flag, one for a word or quoted string, several for a parenthesised list.
fn description(text: &str) -> Result<(String, Vec<Field>), String> {
    let mut tokens = tokenize(text)?.into_iter();
    if tokens.next() != Some(Token::Open) {
        return Err("it does not start with '('".to_owned());
    }
    let Some(Token::Word(oid)) = tokens.next() else {
        return Err("no OID after '('".to_owned());
    };
    let mut fields = Vec::new();
    loop {
        let keyword = match tokens.next() {
            Some(Token::Close) => break,
            Some(Token::Word(keyword)) => keyword.to_ascii_uppercase(),
            Some(other) => return Err(format!("expected a keyword, found {other:?}")),
            None => return Err("no closing ')'".to_owned()),
        };
        if FLAGS.contains(&keyword.as_str()) {
            fields.push((keyword, Vec::new()));
            continue;
        }
        let values = match tokens.next() {
            Some(Token::Word(value) | Token::Quoted(value)) => vec![value],
            Some(Token::Open) => {
                let mut values = Vec::new();
                loop {
                    match tokens.next() {
                        Some(Token::Close) => break,
                        Some(Token::Dollar) => {}
                        Some(Token::Word(value) | Token::Quoted(value)) => values.push(value),
                        _ => return Err(format!("unterminated list after {keyword}")),
                    }
                }
                values
            }
            _ => return Err(format!("no value after {keyword}")),
        };
        fields.push((keyword, values));
    }
    if tokens.next().is_some() {
        return Err("text after the closing ')'".to_owned());
    }
    Ok((oid, fields))
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            ' ' | '\t' | '\n' | '\r' => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '$' => tokens.push(Token::Dollar),
            '\'' => {
                let mut quoted = String::new();
                loop {
                    match characters.next() {
                        None => return Err("an unterminated quoted string".to_owned()),
                        Some('\'') => break,
                        Some('\\') => {
                            let escape: String = characters.by_ref().take(2).collect();
                            match escape.to_ascii_lowercase().as_str() {
                                "27" => quoted.push('\''),
                                "5c" => quoted.push('\\'),
                                _ => return Err(format!("an unknown escape '\\{escape}'")),
                            }
                        }
                        Some(other) => quoted.push(other),
                    }
                }
                tokens.push(Token::Quoted(quoted));
            }
            first => {
                let mut word = String::from(first);
                while let Some(&next) = characters.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | '$' | '\'') {
                        break;
                    }
                    word.push(next);
                    characters.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Descriptions as OpenLDAP 2.5 publishes them (core, cosine, inetorgperson schema,
    /// and the ppolicy overlay's).
    pub const ATTRIBUTE_TYPES: &[&str] = &[
        "( 2.5.4.0 NAME 'objectClass' DESC 'RFC4512: object classes of the entity' \
         EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
        "( 2.5.4.41 NAME 'name' DESC 'RFC4519: common supertype of name attributes' \
         EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the \
         entity is known by' SUP name )",
        "( 2.5.4.4 NAME ( 'sn' 'surname' ) DESC 'RFC2256: last (family) name(s) for which \
         the entity is known by' SUP name )",
        "( 2.5.4.35 NAME 'userPassword' DESC 'RFC4519/2307: password of user' \
         EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )",
        "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) DESC 'RFC4519: user identifier' \
         EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )",
        "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) DESC 'RFC1274: RFC822 \
         Mailbox' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
        "( 2.16.840.1.113730.3.1.241 NAME 'displayName' DESC 'RFC2798: preferred name to be \
         used when displaying entries' EQUALITY caseIgnoreMatch SUBSTR \
         caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
        "( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' DESC 'RFC2798: a JPEG image' \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )",
        "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch \
         ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION \
         USAGE directoryOperation )",
        "( 2.5.18.2 NAME 'modifyTimestamp' DESC 'RFC4512: time which object was last \
         modified' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE NO-USER-MODIFICATION \
         USAGE directoryOperation )",
        "( 2.5.4.34 NAME 'seeAlso' DESC 'RFC4519: DN of related object' SUP distinguishedName )",
        "( 2.5.4.31 NAME 'member' DESC 'RFC2256: member of a group' SUP distinguishedName )",
        "( 0.9.2342.19200300.100.1.10 NAME 'manager' DESC 'RFC1274: DN of manager' EQUALITY \
         distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
        "( 2.5.4.49 NAME 'distinguishedName' DESC 'RFC4519: common supertype of DN \
         attributes' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
        "( 1.3.6.1.4.1.42.2.27.8.1.9 NAME 'pwdLockout' EQUALITY booleanMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' DESC 'RFC2307: An integer uniquely identifying a \
         user in an administrative domain' EQUALITY integerMatch ORDERING \
         integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
        "( 2.16.840.1.113730.3.1.4 NAME 'employeeType' DESC 'RFC2798: type of employment \
         for a person' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
         SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
        "( 1.3.6.1.4.1.42.2.27.8.1.17 NAME 'pwdAccountLockedTime' DESC 'The time an user \
         account was locked' EQUALITY generalizedTimeMatch ORDERING \
         generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE \
         USAGE directoryOperation )",
    ];

    /// Object classes as OpenLDAP 2.5 publishes them.
    pub const OBJECT_CLASSES: &[&str] = &[
        "( 2.5.6.0 NAME 'top' DESC 'top of the superclass chain' ABSTRACT MUST objectClass )",
        "( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) \
         MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )",
        "( 2.5.6.7 NAME 'organizationalPerson' DESC 'RFC2256: an organizational person' SUP \
         person STRUCTURAL MAY ( title $ x121Address $ registeredAddress $ \
         destinationIndicator $ preferredDeliveryMethod $ telexNumber $ \
         teletexTerminalIdentifier $ telephoneNumber $ internationaliSDNNumber $ \
         facsimileTelephoneNumber $ street $ postOfficeBox $ postalCode $ postalAddress $ \
         physicalDeliveryOfficeName $ ou $ st $ l ) )",
        "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' DESC 'RFC2798: Internet \
         Organizational Person' SUP organizationalPerson STRUCTURAL MAY ( audio $ \
         businessCategory $ carLicense $ departmentNumber $ displayName $ employeeNumber $ \
         employeeType $ givenName $ homePhone $ homePostalAddress $ initials $ jpegPhoto $ \
         labeledURI $ mail $ manager $ mobile $ o $ pager $ photo $ roomNumber $ secretary $ \
         uid $ userCertificate $ x500uniqueIdentifier $ preferredLanguage $ \
         userSMIMECertificate $ userPKCS12 ) )",
        "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' DESC 'Abstraction of an account with POSIX \
         attributes' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ \
         homeDirectory ) MAY ( userPassword $ loginShell $ gecos $ description ) )",
        "( 2.5.6.9 NAME 'groupOfNames' DESC 'RFC2256: a group of names (DNs)' SUP top \
         STRUCTURAL MUST ( member $ cn ) MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ \
         description ) )",
    ];

    fn owned(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| text.to_string()).collect()
    }

    /// The sample descriptions as a subschema, for the schema tests.
    pub fn sample() -> Subschema {
        Subschema::parse(&owned(ATTRIBUTE_TYPES), &owned(OBJECT_CLASSES)).unwrap()
    }

    #[test]
    fn parses_attribute_type_descriptions() {
        let cn = attribute_type(ATTRIBUTE_TYPES[2]).unwrap();
        assert_eq!(cn.oid, "2.5.4.3");
        assert_eq!(cn.names, ["cn", "commonName"]);
        assert_eq!(cn.superior.as_deref(), Some("name"));
        assert_eq!(cn.syntax, None);
        assert_eq!(
            cn.description.as_deref(),
            Some("RFC4519: common name(s) for which the entity is known by")
        );
        let name = attribute_type(ATTRIBUTE_TYPES[1]).unwrap();
        assert_eq!(
            name.syntax.as_deref(),
            Some("1.3.6.1.4.1.1466.115.121.1.15")
        );
        assert!(!name.single_value && !name.operational);
        let uuid = attribute_type(ATTRIBUTE_TYPES[9]).unwrap();
        assert!(uuid.single_value && uuid.no_user_modification && uuid.operational);
        assert_eq!(uuid.syntax.as_deref(), Some("1.3.6.1.1.16.1"));
    }

    #[test]
    fn parses_object_class_descriptions() {
        let person = object_class(OBJECT_CLASSES[1]).unwrap();
        assert_eq!(person.names, ["person"]);
        assert_eq!(person.superiors, ["top"]);
        assert_eq!(person.kind, ClassKind::Structural);
        assert_eq!(person.must, ["sn", "cn"]);
        assert_eq!(
            person.may,
            ["userPassword", "telephoneNumber", "seeAlso", "description"]
        );
        assert_eq!(
            object_class(OBJECT_CLASSES[0]).unwrap().kind,
            ClassKind::Abstract
        );
        assert_eq!(
            object_class(OBJECT_CLASSES[4]).unwrap().kind,
            ClassKind::Auxiliary
        );
    }

    #[test]
    fn reads_escapes_extensions_and_odd_spacing() {
        let odd = attribute_type(
            "(1.2.3 NAME 'o\\27brien' DESC 'back\\5cslash' SYNTAX 1.2.3.4{64} \
             X-ORIGIN ( 'a' 'b' ) X-ORDERED 'VALUES' SINGLE-VALUE)",
        )
        .unwrap();
        assert_eq!(odd.names, ["o'brien"]);
        assert_eq!(odd.description.as_deref(), Some("back\\slash"));
        assert_eq!(odd.syntax.as_deref(), Some("1.2.3.4"));
        assert!(odd.single_value);
        let multi = object_class("( 1.2.4 NAME 'x' SUP ( top $ person ) AUXILIARY )").unwrap();
        assert_eq!(multi.superiors, ["top", "person"]);
    }

    #[test]
    fn refuses_broken_descriptions() {
        for bad in [
            "",
            "1.2.3 NAME 'x'",
            "( )",
            "( 1.2.3 NAME 'x'",
            "( 1.2.3 NAME ( 'x' )",
            "( 1.2.3 NAME 'x ) ",
            "( 1.2.3 NAME )",
            "( 1.2.3 DESC 'a\\zz' )",
            "( 1.2.3 ) extra",
        ] {
            assert!(attribute_type(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn looks_up_names_case_insensitively_and_follows_sup() {
        let schema = sample();
        assert_eq!(schema.attribute("CommonName").unwrap().oid, "2.5.4.3");
        assert_eq!(schema.attribute("2.5.4.3").unwrap().names[0], "cn");
        assert_eq!(
            schema.syntax_of(schema.attribute("cn").unwrap()),
            Some("1.3.6.1.4.1.1466.115.121.1.15")
        );
        assert_eq!(
            schema.syntax_of(schema.attribute("seeAlso").unwrap()),
            Some("1.3.6.1.4.1.1466.115.121.1.12")
        );
        let chain: Vec<_> = schema
            .with_superclasses("INETORGPERSON")
            .unwrap()
            .iter()
            .map(|class| class.names[0].clone())
            .collect();
        assert_eq!(
            chain,
            ["inetOrgPerson", "organizationalPerson", "person", "top"]
        );
        assert!(
            schema
                .with_superclasses("nothing")
                .unwrap_err()
                .contains("no object class 'nothing'")
        );
    }

    #[test]
    fn survives_loops() {
        let schema = Subschema::parse(
            &owned(&["( 1.1 NAME 'a' SUP b )", "( 1.2 NAME 'b' SUP a )"]),
            &owned(&["( 2.1 NAME 'x' SUP y )", "( 2.2 NAME 'y' SUP x )"]),
        )
        .unwrap();
        assert_eq!(schema.syntax_of(schema.attribute("a").unwrap()), None);
        assert_eq!(schema.with_superclasses("x").unwrap().len(), 2);
    }
}
