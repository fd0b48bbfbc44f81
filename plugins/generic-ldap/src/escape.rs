//! Escaping of values written into the two string forms LDAP has: filters (RFC 4515) and
//! distinguished names (RFC 4514). Every value that reaches such a string from a request
//! goes through here, so a value can never change the structure it is placed in.

use std::fmt::Write;

/// `value` as an RFC 4515 assertion value: `*`, `(`, `)`, `\` and NUL become `\2a`,
/// `\28`, `\29`, `\5c` and `\00`; everything else, UTF-8 included, stays as it is.
pub fn filter_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '*' | '(' | ')' | '\\' | '\0' => {
                let _ = write!(escaped, "\\{:02x}", character as u32);
            }
            other => escaped.push(other),
        }
    }
    escaped
}

/// `value` as an RFC 4514 attribute value: `,` `+` `"` `\` `<` `>` `;` `=` are escaped
/// with a backslash wherever they are, a leading `#` or space and a trailing space too,
/// and NUL becomes `\00`.
pub fn dn_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    let last = value.chars().count().saturating_sub(1);
    for (position, character) in value.chars().enumerate() {
        match character {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '#' if position == 0 => escaped.push_str("\\#"),
            ' ' if position == 0 || position == last => escaped.push_str("\\ "),
            '\0' => escaped.push_str("\\00"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_escape_exactly_the_rfc_4515_specials() {
        assert_eq!(filter_value("plain"), "plain");
        assert_eq!(
            filter_value("*)(uid=*))(|(uid=*"),
            "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a"
        );
        assert_eq!(filter_value("a\\b"), "a\\5cb");
        assert_eq!(filter_value("nul\0here"), "nul\\00here");
        assert_eq!(filter_value("😀 é = & | !"), "😀 é = & | !");
        assert_eq!(filter_value(""), "");
    }

    #[test]
    fn dn_values_escape_every_rfc_4514_special() {
        assert_eq!(dn_value("plain"), "plain");
        for special in [',', '+', '"', '\\', '<', '>', ';', '='] {
            assert_eq!(dn_value(&format!("a{special}b")), format!("a\\{special}b"));
        }
        assert_eq!(dn_value("#hash"), "\\#hash");
        assert_eq!(dn_value("not#leading"), "not#leading");
        assert_eq!(dn_value(" lead"), "\\ lead");
        assert_eq!(dn_value("trail "), "trail\\ ");
        assert_eq!(dn_value("in side"), "in side");
        assert_eq!(dn_value(" "), "\\ ");
        assert_eq!(dn_value("  "), "\\ \\ ");
        assert_eq!(dn_value("nul\0"), "nul\\00");
        assert_eq!(dn_value("😀𝄞"), "😀𝄞");
        assert_eq!(
            dn_value(" #a,b+c=d\"e\\f "),
            "\\ #a\\,b\\+c\\=d\\\"e\\\\f\\ "
        );
    }
}
