//! SCIM filters (RFC 7644 §3.4.2.2): the AST, a hand-written tokenizer and a
//! recursive-descent parser, and the equalities a cache index can use. Evaluation against
//! a resource is in [`super::filter_eval`].
//!
//! Accepted beyond the RFC grammar: keywords and operators in any case, and the form Entra
//! ID sends for matching, `emails[type eq "work"].value eq "x@y"`, read as
//! `emails[type eq "work" and value eq "x@y"]`. The text comes from a request's query
//! string, so its length, nesting and size are capped, and no input makes the parser
//! panic or recurse without bound.

use serde_json::Value;

use super::attr_json::{parse_bool, parse_instant};
use super::error::ScimError;
use super::path::{AttrPath, is_attr_name};

/// The longest filter accepted, in bytes. Real filters (Entra ID's matching probes,
/// Okta's lookups) are under 200 bytes; 4 KiB leaves room for long values while bounding
/// the work a single request can ask for.
pub const MAX_FILTER_LEN: usize = 4096;

/// The deepest nesting of parentheses, `not (…)` and `[…]` accepted. Each level is a
/// recursion of the parser; 32 is far beyond any real filter and keeps the stack small.
pub const MAX_FILTER_DEPTH: usize = 32;

/// The most comparisons (`attr op value` and `attr pr`) one filter may hold. Evaluation
/// runs every term against every cached resource, so this caps the cost of a scan.
pub const MAX_FILTER_TERMS: usize = 200;

/// A parsed filter. Paths at the top level name attributes of the resource; inside a
/// [`Filter::ValuePath`] they name sub-attributes of its multi-valued attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both filters match.
    And(Box<Filter>, Box<Filter>),
    /// Either filter matches.
    Or(Box<Filter>, Box<Filter>),
    /// The filter does not match.
    Not(Box<Filter>),
    /// `path op value`; the value is a string, number, boolean or null.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The comparison.
        op: CompareOp,
        /// The literal from the filter.
        value: Value,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `path[filter]`: some element of the multi-valued complex attribute `path` (no
    /// sub-attribute) matches `filter`, whose paths are sub-attribute names.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The condition on one element.
        filter: Box<Filter>,
    },
}

/// The comparison operators of RFC 7644 §3.4.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains (strings).
    Co,
    /// Starts with (strings).
    Sw,
    /// Ends with (strings).
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        use CompareOp::*;
        [
            ("eq", Eq),
            ("ne", Ne),
            ("co", Co),
            ("sw", Sw),
            ("ew", Ew),
            ("gt", Gt),
            ("ge", Ge),
            ("lt", Lt),
            ("le", Le),
        ]
        .into_iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, op)| op)
    }
}

/// Parses a filter, or says what is wrong and at which character (400 `invalidFilter`).
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let mut parser = Parser::new(text)?;
    let filter = parser.or_expr()?;
    parser.expect_end("expected 'and', 'or' or the end of the filter")?;
    Ok(filter)
}

/// Parses a PATCH path (RFC 7644 §3.5.2): an attribute path, optionally followed by a
/// value filter and a sub-attribute (`members[value eq "x"]`,
/// `emails[type eq "work"].value`). With a filter, the returned path's `sub` is the
/// sub-attribute written after the brackets. Errors are `invalidFilter`; PATCH turns them
/// into `invalidPath`.
pub(crate) fn parse_selector(text: &str) -> Result<(AttrPath, Option<Filter>), ScimError> {
    let mut parser = Parser::new(text)?;
    let selector = parser.selector()?;
    parser.expect_end("expected the end of the path")?;
    Ok(selector)
}

/// `path` as written inside the value filter of `parent`: `type` inside `emails[…]`
/// becomes `emails.type`. Without a parent the path stands as it is.
pub(crate) fn qualify(parent: Option<&AttrPath>, path: &AttrPath) -> AttrPath {
    match parent {
        Some(parent) => AttrPath {
            schema: parent.schema.clone(),
            name: parent.name.clone(),
            sub: Some(path.name.clone()),
        },
        None => path.clone(),
    }
}

impl Filter {
    /// The `eq` comparisons every matching resource satisfies: those joined by `and` from
    /// the top, including inside value paths (qualified with their attribute, so
    /// `emails[type eq "work"]` yields `emails.type`). Nothing under `or` or `not`.
    pub fn equality_terms(&self) -> Vec<(AttrPath, &Value)> {
        let mut terms = Vec::new();
        self.collect_equalities(None, &mut terms);
        terms
    }

    fn collect_equalities<'f>(
        &'f self,
        parent: Option<&AttrPath>,
        out: &mut Vec<(AttrPath, &'f Value)>,
    ) {
        match self {
            Filter::And(a, b) => {
                a.collect_equalities(parent, out);
                b.collect_equalities(parent, out);
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => out.push((qualify(parent, path), value)),
            Filter::ValuePath { path, filter } => filter.collect_equalities(Some(path), out),
            _ => {}
        }
    }

    /// The (attribute path, string) pairs every matching resource must have, so the cache
    /// can fetch candidates from an index instead of scanning. Sound: a resource the
    /// filter matches always has, among
    /// [`compared_values`](super::filter_eval::compared_values) of the path, a string
    /// equal to the value under the attribute's case rule: byte for byte when the schema
    /// marks it `caseExact`, otherwise after `str::to_lowercase` on both sides.
    /// Literals whose meaning depends on the attribute's type are left out, since the
    /// stored value need not be that text: `"true"` / `"false"` (they match booleans) and
    /// RFC 3339 date-times (dateTime attributes compare as instants).
    pub fn required_equalities(&self) -> Vec<(AttrPath, String)> {
        self.equality_terms()
            .into_iter()
            .filter_map(|(path, value)| match value {
                Value::String(s) if parse_bool(s).is_none() && parse_instant(s).is_none() => {
                    Some((path, s.clone()))
                }
                _ => None,
            })
            .collect()
    }
}

/// One lexical unit of a filter.
#[derive(Debug, Clone, PartialEq)]
enum Tok<'t> {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// An attribute path, operator, keyword, number or `.sub` after `]`.
    Word(&'t str),
    /// A decoded JSON string literal.
    Str(String),
}

#[derive(Debug)]
struct Token<'t> {
    tok: Tok<'t>,
    /// Byte offset of the token's first character.
    at: usize,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

/// An `invalidFilter` error pointing at a byte offset, reported as a character offset.
fn error_at(text: &str, at: usize, what: &str) -> ScimError {
    let character = text.get(..at).map_or(0, |before| before.chars().count());
    ScimError::invalid_filter(format!("invalid filter: {what} at character {character}"))
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, ScimError> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(c) = text[pos..].chars().next() {
        let at = pos;
        pos += c.len_utf8();
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::Open,
            ')' => Tok::Close,
            '[' => Tok::OpenBracket,
            ']' => Tok::CloseBracket,
            '"' => {
                pos = string_end(text, at)
                    .ok_or_else(|| error_at(text, at, "unterminated string"))?;
                let decoded = serde_json::from_str(&text[at..pos])
                    .map_err(|e| error_at(text, at, &format!("invalid string literal ({e})")))?;
                Tok::Str(decoded)
            }
            _ => {
                pos = text[at..]
                    .find(is_delimiter)
                    .map_or(text.len(), |len| at + len);
                Tok::Word(&text[at..pos])
            }
        };
        tokens.push(Token { tok, at });
    }
    Ok(tokens)
}

/// The byte offset just past the closing quote of the string starting at `start`.
/// Scanning bytes is safe: `"` and `\` never occur inside a multi-byte UTF-8 character.
fn string_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn describe(tok: &Tok<'_>) -> String {
    match tok {
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
        Tok::OpenBracket => "'['".into(),
        Tok::CloseBracket => "']'".into(),
        Tok::Word(w) if w.chars().count() > 40 => {
            format!("'{}…'", w.chars().take(40).collect::<String>())
        }
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(_) => "a string".into(),
    }
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token<'t>>,
    pos: usize,
    depth: usize,
    terms: usize,
    /// True inside `[…]`, where paths name sub-attributes and brackets may not nest.
    in_brackets: bool,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Result<Self, ScimError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_filter(format!(
                "invalid filter: longer than {MAX_FILTER_LEN} bytes"
            )));
        }
        Ok(Self {
            text,
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
            terms: 0,
            in_brackets: false,
        })
    }

    fn peek(&self) -> Option<&Tok<'t>> {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok<'t>> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    /// An error at the current token, naming what was found there.
    fn error(&self, what: &str) -> ScimError {
        match self.tokens.get(self.pos) {
            Some(token) => error_at(
                self.text,
                token.at,
                &format!("{what}, found {}", describe(&token.tok)),
            ),
            None => error_at(
                self.text,
                self.text.len(),
                &format!("{what}, found the end"),
            ),
        }
    }

    fn eat(&mut self, tok: &Tok<'_>) -> bool {
        let found = self.peek() == Some(tok);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, tok: &Tok<'_>, what: &str) -> Result<(), ScimError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn expect_end(&self, what: &str) -> Result<(), ScimError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(what)),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        self.pos += usize::from(found);
        found
    }

    /// Runs `parse` one nesting level deeper, refusing to go past [`MAX_FILTER_DEPTH`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, ScimError>,
    ) -> Result<T, ScimError> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(self.error(&format!("nesting deeper than {MAX_FILTER_DEPTH} levels")));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// `and_expr ("or" and_expr)*`: `or` binds loosest.
    fn or_expr(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and_expr()?;
        while self.eat_keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    /// `unary ("and" unary)*`.
    fn and_expr(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.eat_keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    /// `"not" "(" or_expr ")"`, `"(" or_expr ")"` or an attribute expression. A `not`
    /// not followed by `(` is an attribute named "not".
    fn unary(&mut self) -> Result<Filter, ScimError> {
        let negated = self.is_keyword("not") && self.peek_at(1) == Some(&Tok::Open);
        if negated {
            self.pos += 1;
        }
        if !self.eat(&Tok::Open) {
            return self.attr_expr();
        }
        let inner = self.nested(Self::or_expr)?;
        self.expect(&Tok::Close, "expected ')'")?;
        Ok(if negated {
            Filter::Not(Box::new(inner))
        } else {
            inner
        })
    }

    /// `path op value`, `path pr`, `path[filter]`, or Entra ID's
    /// `path[filter].sub op value`, read as `path[filter and sub op value]`.
    fn attr_expr(&mut self) -> Result<Filter, ScimError> {
        let (mut path, filter) = self.selector()?;
        let Some(filter) = filter else {
            return self.operation(path);
        };
        let filter = match path.sub.take() {
            Some(sub) => Filter::And(
                Box::new(filter),
                Box::new(self.operation(AttrPath::new(sub, None))?),
            ),
            None => filter,
        };
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    /// `path ["[" filter "]" [".sub"]]`; with a filter, the returned path's `sub` is the
    /// sub-attribute after the brackets.
    fn selector(&mut self) -> Result<(AttrPath, Option<Filter>), ScimError> {
        let mut path = self.path()?;
        if self.peek() != Some(&Tok::OpenBracket) {
            return Ok((path, None));
        }
        if path.sub.is_some() {
            return Err(self.error(
                "a value filter must follow a multi-valued attribute, not a sub-attribute",
            ));
        }
        if self.in_brackets {
            return Err(self.error("value filters cannot be nested"));
        }
        self.pos += 1;
        self.in_brackets = true;
        let filter = self.nested(Self::or_expr);
        self.in_brackets = false;
        let filter = filter?;
        self.expect(&Tok::CloseBracket, "expected ']'")?;
        if let Some(Tok::Word(word)) = self.peek()
            && let Some(sub) = word.strip_prefix('.')
        {
            if !is_attr_name(sub) {
                return Err(self.error("expected a sub-attribute name after ']'"));
            }
            path.sub = Some(sub.to_string());
            self.pos += 1;
        }
        Ok((path, Some(filter)))
    }

    fn path(&mut self) -> Result<AttrPath, ScimError> {
        let Some(Tok::Word(word)) = self.peek() else {
            return Err(self.error("expected an attribute name"));
        };
        // AttrPath::parse slices by byte; attribute paths are ASCII anyway.
        let path = word
            .is_ascii()
            .then(|| AttrPath::parse(word).ok())
            .flatten()
            .ok_or_else(|| self.error("expected an attribute path"))?;
        if self.in_brackets && (path.schema.is_some() || path.sub.is_some()) {
            return Err(
                self.error("inside [...] name a sub-attribute of the attribute before the bracket")
            );
        }
        self.pos += 1;
        Ok(path)
    }

    /// `op value` or `pr` after `path`: one term, counted against [`MAX_FILTER_TERMS`].
    fn operation(&mut self, path: AttrPath) -> Result<Filter, ScimError> {
        if self.terms >= MAX_FILTER_TERMS {
            return Err(self.error(&format!("more than {MAX_FILTER_TERMS} comparisons")));
        }
        self.terms += 1;
        if self.eat_keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let op = match self.peek() {
            Some(Tok::Word(word)) => CompareOp::parse(word),
            _ => None,
        }
        .ok_or_else(|| {
            self.error(&format!(
                "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '{path}'"
            ))
        })?;
        self.pos += 1;
        let value = self.literal()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// A string in double quotes, a JSON number, `true`, `false` or `null`.
    fn literal(&mut self) -> Result<Value, ScimError> {
        let value = match self.peek() {
            Some(Tok::Str(s)) => Some(Value::String(s.clone())),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Some(Value::Null),
            Some(Tok::Word(w)) => parse_bool(w)
                .map(Value::Bool)
                .or_else(|| w.parse::<serde_json::Number>().ok().map(Value::Number)),
            _ => None,
        };
        let value = value.ok_or_else(|| {
            self.error(
                "expected a value (a string in double quotes, a number, true, false or null)",
            )
        })?;
        self.pos += 1;
        Ok(value)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use serde_json::json;

    fn p(text: &str) -> Filter {
        parse_filter(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn cmp(path: &str, op: CompareOp, value: Value) -> Filter {
        Filter::Compare {
            path: AttrPath::parse(path).unwrap(),
            op,
            value,
        }
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn invalid(text: &str) -> String {
        let err = parse_filter(text).expect_err(text);
        assert_eq!(
            err.scim_type,
            Some(ScimType::InvalidFilter),
            "{text:?}: {err}"
        );
        assert_eq!(err.status.as_u16(), 400);
        err.detail
    }

    #[test]
    fn parses_every_operator_in_any_case() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("NE", CompareOp::Ne),
            ("Co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("eW", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("GE", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            assert_eq!(
                p(&format!("title {word} \"x\"")),
                cmp("title", op, json!("x"))
            );
        }
        assert_eq!(p("title PR"), Filter::Present(AttrPath::new("title", None)));
    }

    #[test]
    fn parses_literals() {
        assert_eq!(
            p("active eq TRUE"),
            cmp("active", CompareOp::Eq, json!(true))
        );
        assert_eq!(
            p("active eq false"),
            cmp("active", CompareOp::Eq, json!(false))
        );
        assert_eq!(
            p("manager eq Null"),
            cmp("manager", CompareOp::Eq, Value::Null)
        );
        assert_eq!(p("age gt 42"), cmp("age", CompareOp::Gt, json!(42)));
        assert_eq!(
            p("age le -1.5e3"),
            cmp("age", CompareOp::Le, json!(-1500.0))
        );
        assert_eq!(
            p(r#"title eq "a\"b\\c\/d\n""#),
            cmp("title", CompareOp::Eq, json!("a\"b\\c/d\n"))
        );
        assert_eq!(
            p(r#"title eq "\u00e9\ud83d\ude00""#),
            cmp("title", CompareOp::Eq, json!("é😀"))
        );
        assert_eq!(
            p("title eq \"Zoë 😀\""),
            cmp("title", CompareOp::Eq, json!("Zoë 😀"))
        );
        assert_eq!(p("title eq\"x\""), cmp("title", CompareOp::Eq, json!("x")));
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let (a, b, c) = (
            || cmp("a", CompareOp::Eq, json!(1)),
            || cmp("b", CompareOp::Eq, json!(2)),
            || cmp("c", CompareOp::Eq, json!(3)),
        );
        assert_eq!(p("a eq 1 or b eq 2 and c eq 3"), or(a(), and(b(), c())));
        assert_eq!(p("a eq 1 and b eq 2 or c eq 3"), or(and(a(), b()), c()));
        assert_eq!(p("(a eq 1 or b eq 2) and c eq 3"), and(or(a(), b()), c()));
        assert_eq!(p("a eq 1 and b eq 2 and c eq 3"), and(and(a(), b()), c()));
        assert_eq!(
            p("NOT (a eq 1) and b eq 2"),
            and(Filter::Not(Box::new(a())), b())
        );
        assert_eq!(
            p("not(a eq 1 or b eq 2)"),
            Filter::Not(Box::new(or(a(), b())))
        );
        assert_eq!(p("((a eq 1))"), a());
        // "not" without a parenthesis is an attribute of that name
        assert_eq!(p("not eq 1"), cmp("not", CompareOp::Eq, json!(1)));
    }

    #[test]
    fn parses_value_paths_in_both_forms() {
        let work = cmp("type", CompareOp::Eq, json!("work"));
        let value = cmp("value", CompareOp::Eq, json!("x@y"));
        let expected = Filter::ValuePath {
            path: AttrPath::new("emails", None),
            filter: Box::new(and(work.clone(), value.clone())),
        };
        assert_eq!(p(r#"emails[type eq "work" and value eq "x@y"]"#), expected);
        assert_eq!(p(r#"emails[type eq "work"].value eq "x@y""#), expected);
        assert_eq!(
            p(r#"emails[type eq "work"] and userName eq "u""#),
            and(
                Filter::ValuePath {
                    path: AttrPath::new("emails", None),
                    filter: Box::new(work.clone())
                },
                cmp("userName", CompareOp::Eq, json!("u"))
            )
        );
        assert_eq!(
            p(r#"emails[not (type eq "work")].value pr"#),
            Filter::ValuePath {
                path: AttrPath::new("emails", None),
                filter: Box::new(and(
                    Filter::Not(Box::new(work)),
                    Filter::Present(AttrPath::new("value", None))
                )),
            }
        );
    }

    #[test]
    fn parses_urn_paths() {
        let f = p(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#,
        );
        let Filter::Compare { path, .. } = &f else {
            panic!("{f:?}")
        };
        assert_eq!(
            path.schema.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path.name, "employeeNumber");
        let f =
            p(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m""#);
        let Filter::Compare { path, .. } = &f else {
            panic!("{f:?}")
        };
        assert_eq!(
            (path.name.as_str(), path.sub.as_deref()),
            ("manager", Some("value"))
        );
    }

    #[test]
    fn parses_entras_guid_probe() {
        assert_eq!(
            p(r#"userName eq "0b5d5e43-3f5a-4d7e-9a0c-2c5f0e6d1a77""#),
            cmp(
                "userName",
                CompareOp::Eq,
                json!("0b5d5e43-3f5a-4d7e-9a0c-2c5f0e6d1a77")
            )
        );
    }

    #[test]
    fn refuses_malformed_filters_saying_where() {
        assert!(invalid("").contains("character 0"));
        assert!(invalid("userName").contains("expected an operator"));
        assert!(invalid(r#"userName xx "a""#).contains("character 9"));
        assert!(invalid(r#"userName eq "a" and"#).contains("expected an attribute name"));
        assert!(invalid(r#"userName eq "a" userName"#).contains("character 16"));
        assert!(invalid("userName eq").contains("expected a value"));
        assert!(invalid("userName eq bare").contains("expected a value"));
        assert!(invalid(r#"userName eq "open"#).contains("unterminated string at character 12"));
        assert!(invalid(r#"émail eq "x" or "#).contains("character 0"));
        assert!(invalid(r#"title eq "é" and ü eq "x""#).contains("character 17"));
        for bad in [
            r#"(userName eq "a""#,
            r#"userName eq "a")"#,
            r#"not userName eq "a""#,
            r#"emails[type eq "work""#,
            r#"emails[type eq "work"]]"#,
            r#"emails[]"#,
            r#"emails[type eq "w"].1x eq "a""#,
            r#"emails[type eq "w"].value"#,
            r#"emails[addresses[type eq "w"]]"#,
            r#"name.givenName[x eq "w"]"#,
            r#"emails[name.x eq "w"]"#,
            r#"emails[urn:x:y:z eq "w"]"#,
            r#"1abc eq "x""#,
            r#"a.b.c eq "x""#,
            r#"title eq "\x""#,
            r#"title eq "\ud800""#,
            r#"title eq "\udc00\ud800""#,
            r#"title eq "\u12"#,
            "title eq \"\\",
            "title eq 01",
            "title eq +1",
            "title eq 1e999",
            "title pr \"x\"",
            "and eq \"x\" and",
            "()",
            "(",
            ")",
            "[",
            "\"x\" eq title",
        ] {
            invalid(bad);
        }
    }

    #[test]
    fn enforces_the_limits() {
        let long = format!("title eq \"{}\"", "a".repeat(MAX_FILTER_LEN));
        assert!(invalid(&long).contains("longer than"));
        let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
        p(&nested(MAX_FILTER_DEPTH));
        assert!(invalid(&nested(MAX_FILTER_DEPTH + 1)).contains("nesting"));
        let nots = |levels: usize| format!("{}a pr{}", "not (".repeat(levels), ")".repeat(levels));
        p(&nots(MAX_FILTER_DEPTH));
        assert!(invalid(&nots(MAX_FILTER_DEPTH + 1)).contains("nesting"));
        let terms = |n: usize| vec!["a pr"; n].join(" and ");
        p(&terms(MAX_FILTER_TERMS));
        assert!(invalid(&terms(MAX_FILTER_TERMS + 1)).contains("comparisons"));
        // a huge flat chain within the length limit parses without deep recursion
        p(&vec!["a pr"; 100].join(" or "));
    }

    #[test]
    fn required_equalities_come_only_from_and_chains() {
        let pairs = |text: &str| {
            p(text)
                .required_equalities()
                .into_iter()
                .map(|(path, value)| (path.to_string(), value))
                .collect::<Vec<_>>()
        };
        let owned = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(r#"userName eq "u""#), owned(&[("userName", "u")]));
        assert_eq!(
            pairs(r#"emails[type eq "work" and value eq "a@b"]"#),
            owned(&[("emails.type", "work"), ("emails.value", "a@b")])
        );
        assert_eq!(
            pairs(
                r#"emails[type eq "work"].value eq "a@b" and (externalId eq "e" and title co "x")"#
            ),
            owned(&[
                ("emails.type", "work"),
                ("emails.value", "a@b"),
                ("externalId", "e")
            ])
        );
        assert_eq!(
            pairs(
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7""#
            ),
            owned(&[(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                "7"
            )])
        );
        for none in [
            r#"userName eq "a" or userName eq "b""#,
            r#"not (userName eq "a")"#,
            r#"userName ne "a""#,
            r#"userName co "a""#,
            r#"emails[type eq "work" or value eq "a@b"]"#,
            r#"active eq "True""#,
            r#"meta.created eq "2024-01-01T00:00:00Z""#,
            "age eq 5",
            "active eq true",
            "manager eq null",
        ] {
            assert_eq!(pairs(none), vec![], "{none}");
        }
        assert_eq!(
            pairs(r#"(a eq "1" or b eq "2") and c eq "3""#),
            owned(&[("c", "3")])
        );
    }

    #[test]
    fn parses_patch_selectors() {
        let (path, filter) = parse_selector(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(path, AttrPath::new("emails", Some("value")));
        assert_eq!(filter, Some(cmp("type", CompareOp::Eq, json!("work"))));
        let (path, filter) = parse_selector(r#"members[value eq "abc"]"#).unwrap();
        assert_eq!(
            (path, filter.is_some()),
            (AttrPath::new("members", None), true)
        );
        let (path, filter) = parse_selector("name.familyName").unwrap();
        assert_eq!(
            (path, filter),
            (AttrPath::new("name", Some("familyName")), None)
        );
        for bad in [
            "",
            "emails[type eq \"w\"].value eq \"x\"",
            "a b",
            "emails[type eq \"w\"] x",
        ] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    /// A small deterministic generator (xorshift64*), so the garbage tests need no new
    /// dependency and fail the same way every time.
    pub(crate) struct Garbage(u64);

    impl Garbage {
        pub(crate) fn new(seed: u64) -> Self {
            Self(seed | 1)
        }

        pub(crate) fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }

        pub(crate) fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }

        /// A filter from a small grammar, then half the time damaged by [`Self::mutate`].
        pub(crate) fn filterish(&mut self) -> String {
            let filter = self.filter(0);
            if self.below(2) == 0 {
                filter
            } else {
                self.mutate(&filter)
            }
        }

        fn filter(&mut self, depth: usize) -> String {
            const ATTRS: &[&str] = &[
                "userName",
                "emails",
                "name.givenName",
                "EXTERNALID",
                "active",
                "meta.created",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                "employeeNumber",
            ];
            const OPS: &[&str] = &["eq", "NE", "co", "sw", "ew", "gt", "ge", "lt", "le"];
            const VALUES: &[&str] = &[
                "\"x\"",
                "\"X\\\"y\"",
                "\"\\ud83d\\ude00\"",
                "\"ü\"",
                "1",
                "-2.5e3",
                "true",
                "False",
                "null",
                "\"2024-01-01T00:00:00Z\"",
            ];
            match self.below(if depth > 3 { 3 } else { 7 }) {
                0 => format!("{} pr", self.pick(ATTRS)),
                1 | 2 => format!(
                    "{} {} {}",
                    self.pick(ATTRS),
                    self.pick(OPS),
                    self.pick(VALUES)
                ),
                3 => format!(
                    "({} and {})",
                    self.filter(depth + 1),
                    self.filter(depth + 1)
                ),
                4 => format!("{} or {}", self.filter(depth + 1), self.filter(depth + 1)),
                5 => format!("not ({})", self.filter(depth + 1)),
                _ => format!(
                    "emails[type eq \"work\" and {}].value {} \"x\"",
                    self.filter(4),
                    self.pick(OPS)
                ),
            }
        }

        /// `text` with a random piece inserted at, or a random span cut from, a random
        /// character boundary.
        pub(crate) fn mutate(&mut self, text: &str) -> String {
            const PIECES: &[&str] = &[
                "\"", "\\", "\\u", "\\ud800", "(", ")", "[", "]", ".", ":", " and ", " or ",
                "not ", " pr", "ü", "😀", "\u{0}", "\n", "urn:", "$ref", "1e999", "emails[",
                "].value",
            ];
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let at = boundaries[self.below(boundaries.len())];
            if self.below(2) == 0 {
                format!("{}{}{}", &text[..at], self.pick(PIECES), &text[at..])
            } else {
                let end = boundaries[self.below(boundaries.len())].max(at);
                format!("{}{}", &text[..at], &text[end..])
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let users = crate::scim::schema::user_resource(None);
        let resource = json!({"userName": "x", "emails": [{"type": "work", "value": "x"}], "name": {"givenName": "g"}});
        let mut garbage = Garbage::new(0x5eed);
        let mut parsed = 0;
        for _ in 0..5000 {
            let text = garbage.filterish();
            if let Ok(filter) = parse_filter(&text) {
                parsed += 1;
                filter.matches(&resource, &users);
                filter.required_equalities();
            }
            let _ = parse_selector(&text);
        }
        assert!(
            parsed > 1000,
            "the generator should also produce valid filters ({parsed})"
        );
        for deep in [
            "(".repeat(4000),
            "not (".repeat(800),
            "a[".repeat(2000),
            "\"".repeat(4096),
        ] {
            invalid(&deep);
        }
    }
}
