//! Operator-written statements use named parameters (`:mail`) so they read like the
//! attributes they bind; the host's `sql` interface takes positional placeholders. This
//! module rewrites one into the other, once per session, and binds by name.

use ferry_connector::sql::Statement;
use ferry_connector::sql::{Dialect, SqlValue};

/// An operator's statement rewritten for the session's dialect: each distinct name got a
/// number in order of first appearance (`?1`/`$1`, reused where the name repeats), and
/// `names[i]` is the name bound to number `i + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedStatement {
    /// The text with numbered placeholders.
    pub text: String,
    /// The distinct parameter names, in placeholder-number order.
    pub names: Vec<String>,
}

impl NamedStatement {
    /// The statement with each name's value bound, `value_of` deciding the values (the
    /// callers bind NULL for an attribute the change does not give).
    pub fn bind(&self, mut value_of: impl FnMut(&str) -> SqlValue) -> Statement {
        Statement {
            text: self.text.clone(),
            params: self.names.iter().map(|name| value_of(name)).collect(),
        }
    }
}

/// Rewrites `:name` parameters into the dialect's numbered placeholders: `?NNN` for SQLite,
/// `$n` for PostgreSQL. A name starts with a
/// letter or underscore and goes on with letters, digits, underscores and hyphens (a
/// hyphen only between two name characters, so `:a--comment` is `:a` and a comment).
/// Left alone: `::` casts, and anything inside '…' strings, "…" identifiers, `--` line
/// comments and `/* … */` block comments.
pub fn translate(text: &str, dialect: Dialect) -> Result<NamedStatement, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut output = String::with_capacity(text.len());
    let mut names: Vec<String> = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let here = chars[at];
        let next = chars.get(at + 1).copied();
        match here {
            '\'' | '"' => {
                let end = closing_quote(&chars, at).ok_or_else(|| {
                    format!("a {here} opened at character {} is never closed", at + 1)
                })?;
                output.extend(&chars[at..=end]);
                at = end + 1;
            }
            '-' if next == Some('-') => {
                let end = chars[at..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |n| at + n);
                output.extend(&chars[at..end]);
                at = end;
            }
            '/' if next == Some('*') => {
                let end = (at + 2..chars.len().saturating_sub(1))
                    .find(|&n| chars[n] == '*' && chars[n + 1] == '/')
                    .ok_or_else(|| {
                        format!("a comment opened at character {} is never closed", at + 1)
                    })?;
                output.extend(&chars[at..end + 2]);
                at = end + 2;
            }
            ':' if next == Some(':') => {
                output.push_str("::");
                at += 2;
            }
            ':' if next.is_some_and(|c| c.is_alphabetic() || c == '_') => {
                let start = at + 1;
                let mut end = start + 1;
                while end < chars.len()
                    && (is_name_char(chars[end])
                        || chars[end] == '-'
                            && chars.get(end + 1).is_some_and(|&c| is_name_char(c)))
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                let number = match names.iter().position(|known| *known == name) {
                    Some(index) => index + 1,
                    None => {
                        names.push(name);
                        names.len()
                    }
                };
                output.push_str(&placeholder(dialect, number));
                at = end;
            }
            _ => {
                output.push(here);
                at += 1;
            }
        }
    }
    Ok(NamedStatement {
        text: output,
        names,
    })
}

/// The numbered placeholder of the dialect.
fn placeholder(dialect: Dialect, number: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${number}"),
        Dialect::Sqlite | Dialect::Mysql => format!("?{number}"),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The index of the quote closing the one at `open`; a doubled quote inside is an escaped
/// quote, not the end.
fn closing_quote(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    let mut at = open + 1;
    while at < chars.len() {
        if chars[at] == quote {
            if chars.get(at + 1) == Some(&quote) {
                at += 2;
                continue;
            }
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(text: &str) -> (String, Vec<String>) {
        let statement = translate(text, Dialect::Sqlite).unwrap();
        (statement.text, statement.names)
    }

    fn postgres(text: &str) -> (String, Vec<String>) {
        let statement = translate(text, Dialect::Postgres).unwrap();
        (statement.text, statement.names)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn numbers_names_in_order_and_reuses_a_repeated_name() {
        let text = "UPDATE people SET mail = :mail, alt = :mail WHERE id = :id";
        assert_eq!(
            sqlite(text),
            (
                "UPDATE people SET mail = ?1, alt = ?1 WHERE id = ?2".into(),
                names(&["mail", "id"])
            )
        );
        assert_eq!(
            postgres(text),
            (
                "UPDATE people SET mail = $1, alt = $1 WHERE id = $2".into(),
                names(&["mail", "id"])
            )
        );
    }

    #[test]
    fn takes_underscores_digits_and_inner_hyphens() {
        assert_eq!(
            postgres("VALUES (:user_name, :mail-2, :a--x\n, :b-)"),
            (
                "VALUES ($1, $2, $3--x\n, $4-)".into(),
                names(&["user_name", "mail-2", "a", "b"])
            )
        );
    }

    #[test]
    fn leaves_casts_strings_identifiers_and_comments_alone() {
        let text = "SELECT :a::text, ':b', 'it''s :c', \":d\", \"x\"\":e\" -- :f\n/* :g */ :h";
        assert_eq!(
            postgres(text),
            (
                "SELECT $1::text, ':b', 'it''s :c', \":d\", \"x\"\":e\" -- :f\n/* :g */ $2".into(),
                names(&["a", "h"])
            )
        );
    }

    #[test]
    fn leaves_colons_that_start_no_name_alone() {
        assert_eq!(
            postgres("SELECT a[1:2], :1, x : y"),
            ("SELECT a[1:2], :1, x : y".into(), names(&[]))
        );
    }

    #[test]
    fn keeps_non_ascii_text_intact() {
        assert_eq!(
            sqlite("INSERT INTO t VALUES ('ß😀', :名前)"),
            ("INSERT INTO t VALUES ('ß😀', ?1)".into(), names(&["名前"]))
        );
    }

    #[test]
    fn refuses_unclosed_quotes_and_comments() {
        assert!(translate("SELECT 'x", Dialect::Sqlite).is_err());
        assert!(translate("SELECT \"x", Dialect::Sqlite).is_err());
        assert!(translate("SELECT /* x", Dialect::Sqlite).is_err());
        assert!(translate("SELECT 1 -- no newline", Dialect::Sqlite).is_ok());
    }

    #[test]
    fn binds_by_name() {
        let statement =
            translate("DELETE FROM t WHERE id = :id OR alt = :id", Dialect::Sqlite).unwrap();
        let bound = statement.bind(|name| SqlValue::Text(format!("value of {name}")));
        assert_eq!(bound.params, vec![SqlValue::Text("value of id".into())]);
    }
}
