//! Sigma value matching: wildcards, the string modifiers, `re`, `cidr`, numeric comparisons,
//! `exists`, `fieldref`, and how they apply to JSON values.
//!
//! Sigma semantics implemented here:
//! - plain strings compare case-insensitively; `*` matches any run of characters and `?` one
//!   character; `\*`, `\?` and `\\` are literal;
//! - `contains`, `startswith`, `endswith` add wildcards; `cased` makes the match
//!   case-sensitive;
//! - `re` is a regular expression, case-sensitive unless `re|i` (or an inline `(?i)`), with
//!   `m` and `s` flags, compiled with size limits so that a hostile rule cannot exhaust memory
//!   (matching is linear-time in the `regex` crate, so it cannot hang);
//! - numbers and booleans in rules compare with the JSON value's text (`'true'` matches the
//!   JSON boolean `true`); `null` matches an absent field or JSON null;
//! - a JSON array matches when any element matches; an object is matched as its JSON text
//!   (so `requestParameters|contains: '"Allow"'` works as the rule authors intend).

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::event::{FieldPath, Looked, scalar_text, value_text};

/// Compiled-size limits for rule regexes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_NEST_LIMIT: u32 = 64;

#[derive(Debug, Clone)]
pub(crate) enum StrKind {
    Exact,
    Prefix,
    Suffix,
    Contains,
    /// Matches any string.
    Any,
    Glob(Regex),
}

/// A Sigma string pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) kind: StrKind,
    /// The literal part (lower-cased unless `cased`).
    pub(crate) needle: String,
    pub(crate) cased: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// How a `fieldref` compares the two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// `null`: the field is absent or JSON null.
    Null,
    Exists(bool),
    Str(Pattern),
    Regex(Regex),
    Cidr(IpNet),
    Cmp(CmpOp, f64),
    FieldRef {
        path: FieldPath,
        kind: RefKind,
        cased: bool,
    },
}

/// Where a string modifier puts wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    Plain,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    AnyRun,
    AnyOne,
}

fn tokenize(value: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    out.push(Tok::Lit(n));
                }
                _ => out.push(Tok::Lit('\\')),
            },
            '*' => out.push(Tok::AnyRun),
            '?' => out.push(Tok::AnyOne),
            c => out.push(Tok::Lit(c)),
        }
    }
    out
}

impl Pattern {
    /// Compiles a Sigma string value with its placement modifier.
    pub(crate) fn new(value: &str, placement: Placement, cased: bool) -> Result<Pattern, String> {
        let mut toks = tokenize(value);
        if matches!(placement, Placement::Contains | Placement::EndsWith) {
            toks.insert(0, Tok::AnyRun);
        }
        if matches!(placement, Placement::Contains | Placement::StartsWith) {
            toks.push(Tok::AnyRun);
        }
        let lead = toks.first() == Some(&Tok::AnyRun);
        let trail = toks.len() > 1 && toks.last() == Some(&Tok::AnyRun);
        let mut core: &[Tok] = &toks;
        while core.first() == Some(&Tok::AnyRun) {
            core = &core[1..];
        }
        while core.last() == Some(&Tok::AnyRun) {
            core = &core[..core.len() - 1];
        }
        let simple = core.iter().all(|t| matches!(t, Tok::Lit(_)));
        if simple {
            let literal: String = core
                .iter()
                .map(|t| match t {
                    Tok::Lit(c) => *c,
                    _ => ' ',
                })
                .collect();
            let needle = if cased {
                literal
            } else {
                literal.to_lowercase()
            };
            let kind = match (lead, trail) {
                _ if needle.is_empty() && (lead || trail) => StrKind::Any,
                (false, false) => StrKind::Exact,
                (false, true) => StrKind::Prefix,
                (true, false) => StrKind::Suffix,
                (true, true) => StrKind::Contains,
            };
            return Ok(Pattern {
                kind,
                needle,
                cased,
            });
        }
        let mut re = String::from(if cased { "(?s)^" } else { "(?si)^" });
        for t in &toks {
            match t {
                Tok::Lit(c) => re.push_str(&regex::escape(&c.to_string())),
                Tok::AnyRun => re.push_str(".*"),
                Tok::AnyOne => re.push('.'),
            }
        }
        re.push('$');
        let compiled = RegexBuilder::new(&re)
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| format!("wildcard pattern too complex: {e}"))?;
        Ok(Pattern {
            kind: StrKind::Glob(compiled),
            needle: String::new(),
            cased,
        })
    }

    pub(crate) fn is_match(&self, hay: &str) -> bool {
        match &self.kind {
            StrKind::Any => true,
            StrKind::Glob(re) => re.is_match(hay),
            kind => {
                let hay: Cow<'_, str> = if self.cased || hay.is_ascii() {
                    Cow::Borrowed(hay)
                } else {
                    Cow::Owned(hay.to_lowercase())
                };
                let (h, n) = (hay.as_bytes(), self.needle.as_bytes());
                let eq = |a: &[u8], b: &[u8]| {
                    if self.cased {
                        a == b
                    } else {
                        a.eq_ignore_ascii_case(b)
                    }
                };
                match kind {
                    StrKind::Exact => h.len() == n.len() && eq(h, n),
                    StrKind::Prefix => h.len() >= n.len() && eq(&h[..n.len()], n),
                    StrKind::Suffix => h.len() >= n.len() && eq(&h[h.len() - n.len()..], n),
                    StrKind::Contains => {
                        n.is_empty() || (h.len() >= n.len() && h.windows(n.len()).any(|w| eq(w, n)))
                    }
                    StrKind::Any | StrKind::Glob(_) => true,
                }
            }
        }
    }

    /// The exact (case-folded) value when this pattern is a plain equality.
    pub(crate) fn exact_value(&self) -> Option<&str> {
        matches!(self.kind, StrKind::Exact).then_some(self.needle.as_str())
    }
}

/// Compiles a regex from a rule with the `re` sub-modifiers.
pub(crate) fn compile_regex(pattern: &str, i: bool, m: bool, s: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(i)
        .multi_line(m)
        .dot_matches_new_line(s)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| format!("regular expression rejected: {e}"))
}

/// A field's value in the form matchers consume.
pub(crate) enum FieldValue<'v> {
    Absent,
    Null,
    Scalar(Cow<'v, str>),
    Array(Vec<FieldValue<'v>>),
    /// An object, as its JSON text.
    Object(Cow<'v, str>),
}

impl<'v> FieldValue<'v> {
    pub(crate) fn from_looked(looked: &'v Looked<'_>) -> FieldValue<'v> {
        match looked {
            Looked::Absent => FieldValue::Absent,
            Looked::Token(t) => from_token(t),
            Looked::Value(v) => from_value(v),
        }
    }

    /// The text of a scalar, for `fieldref`.
    fn text(&self) -> Option<&str> {
        match self {
            FieldValue::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

fn from_token(token: &str) -> FieldValue<'_> {
    match token.as_bytes().first() {
        Some(b'n') => FieldValue::Null,
        Some(b'{') => FieldValue::Object(Cow::Borrowed(token)),
        Some(b'[') => match serde_json::from_str::<Value>(token) {
            Ok(Value::Array(items)) => {
                FieldValue::Array(items.iter().map(|v| owned(from_value(v))).collect())
            }
            _ => FieldValue::Absent,
        },
        Some(_) => match scalar_text(token) {
            Some(t) => FieldValue::Scalar(t),
            None => FieldValue::Null,
        },
        None => FieldValue::Absent,
    }
}

fn owned(v: FieldValue<'_>) -> FieldValue<'static> {
    match v {
        FieldValue::Absent => FieldValue::Absent,
        FieldValue::Null => FieldValue::Null,
        FieldValue::Scalar(s) => FieldValue::Scalar(Cow::Owned(s.into_owned())),
        FieldValue::Array(items) => FieldValue::Array(items.into_iter().map(owned).collect()),
        FieldValue::Object(s) => FieldValue::Object(Cow::Owned(s.into_owned())),
    }
}

fn from_value(v: &Value) -> FieldValue<'_> {
    match v {
        Value::Null => FieldValue::Null,
        Value::Array(items) => FieldValue::Array(items.iter().map(from_value).collect()),
        Value::Object(_) => FieldValue::Object(Cow::Owned(v.to_string())),
        other => match value_text(other) {
            Some(t) => FieldValue::Scalar(t),
            None => FieldValue::Null,
        },
    }
}

impl Matcher {
    /// Does the field value match? `resolve` reads another field (for `fieldref`).
    pub(crate) fn matches(
        &self,
        value: &FieldValue<'_>,
        resolve: &mut dyn FnMut(&FieldPath) -> Option<String>,
    ) -> bool {
        match self {
            Matcher::Null => matches!(value, FieldValue::Absent | FieldValue::Null),
            Matcher::Exists(want) => !matches!(value, FieldValue::Absent) == *want,
            _ => match value {
                FieldValue::Absent | FieldValue::Null => false,
                FieldValue::Array(items) => items.iter().any(|item| self.matches(item, resolve)),
                FieldValue::Scalar(text) | FieldValue::Object(text) => {
                    self.matches_text(text, value, resolve)
                }
            },
        }
    }

    fn matches_text(
        &self,
        text: &str,
        value: &FieldValue<'_>,
        resolve: &mut dyn FnMut(&FieldPath) -> Option<String>,
    ) -> bool {
        match self {
            Matcher::Str(p) => p.is_match(text),
            Matcher::Regex(re) => re.is_match(text),
            Matcher::Cidr(net) => match value {
                FieldValue::Scalar(s) => parse_ip(s).is_some_and(|ip| net.contains(&ip)),
                _ => false,
            },
            Matcher::Cmp(op, bound) => {
                match value.text().and_then(|s| s.trim().parse::<f64>().ok()) {
                    Some(x) => match op {
                        CmpOp::Gt => x > *bound,
                        CmpOp::Gte => x >= *bound,
                        CmpOp::Lt => x < *bound,
                        CmpOp::Lte => x <= *bound,
                    },
                    None => false,
                }
            }
            Matcher::FieldRef { path, kind, cased } => {
                let Some(other) = resolve(path) else {
                    return false;
                };
                let (a, b): (Cow<'_, str>, Cow<'_, str>) = if *cased {
                    (Cow::Borrowed(text), Cow::Borrowed(other.as_str()))
                } else {
                    (
                        Cow::Owned(text.to_lowercase()),
                        Cow::Owned(other.to_lowercase()),
                    )
                };
                match kind {
                    RefKind::Equals => a == b,
                    RefKind::Contains => a.contains(b.as_ref()),
                    RefKind::StartsWith => a.starts_with(b.as_ref()),
                    RefKind::EndsWith => a.ends_with(b.as_ref()),
                }
            }
            Matcher::Null | Matcher::Exists(_) => false,
        }
    }
}

/// An IP address, tolerating a `/32`-style suffix.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<IpNet>().ok().map(|n| n.addr()))
}

/// Matches a keyword against every scalar of a JSON document.
pub(crate) fn any_scalar(value: &Value, test: &mut dyn FnMut(&FieldValue<'_>) -> bool) -> bool {
    match value {
        Value::Object(map) => map.values().any(|v| any_scalar(v, test)),
        Value::Array(items) => items.iter().any(|v| any_scalar(v, test)),
        Value::Null => false,
        other => match value_text(other) {
            Some(t) => test(&FieldValue::Scalar(t)),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str, pl: Placement) -> Pattern {
        Pattern::new(v, pl, false).unwrap()
    }

    #[test]
    fn wildcards_and_case() {
        assert!(p("ConsoleLogin", Placement::Plain).is_match("consolelogin"));
        assert!(!p("ConsoleLogin", Placement::Plain).is_match("ConsoleLogins"));
        assert!(p("Console*", Placement::Plain).is_match("CONSOLELOGIN"));
        assert!(p("*login", Placement::Plain).is_match("ConsoleLogin"));
        assert!(p("c?nsole*n", Placement::Plain).is_match("ConsoleLogin"));
        assert!(!p("c?nsole*x", Placement::Plain).is_match("ConsoleLogin"));
        assert!(p("sole", Placement::Contains).is_match("ConsoleLogin"));
        assert!(p("*", Placement::Contains).is_match("HIDDEN_DUE_TO_SECURITY_REASONS"));
        assert!(p("Cons", Placement::StartsWith).is_match("ConsoleLogin"));
        assert!(p("gin", Placement::EndsWith).is_match("ConsoleLogin"));
        assert!(p(r"a\*b", Placement::Plain).is_match("a*b"));
        assert!(!p(r"a\*b", Placement::Plain).is_match("axxb"));
        assert!(p(r"C:\path", Placement::Plain).is_match(r"c:\PATH"));
        assert!(p("ÉTÉ", Placement::Plain).is_match("été"));
        let cased = Pattern::new("NO", Placement::Plain, true).unwrap();
        assert!(!cased.is_match("No"));
        assert!(cased.is_match("NO"));
    }

    #[test]
    fn regex_limits() {
        assert!(compile_regex(".+:assumed-role/aws:.+", false, false, false).is_ok());
        assert!(
            !compile_regex("ABC", false, false, false)
                .unwrap()
                .is_match("abc")
        );
        assert!(
            compile_regex("ABC", true, false, false)
                .unwrap()
                .is_match("abc")
        );
        let huge = format!("({})", "a{1000}".repeat(50));
        assert!(compile_regex(&huge, false, false, false).is_err());
        let nested = format!("{}a{}", "(".repeat(500), ")".repeat(500));
        assert!(compile_regex(&nested, false, false, false).is_err());
    }

    #[test]
    fn values() {
        let mut none = |_: &FieldPath| None;
        let t = Matcher::Str(p("true", Placement::Plain));
        assert!(t.matches(&from_token("true"), &mut none));
        assert!(t.matches(&from_token("\"TRUE\""), &mut none));
        assert!(!t.matches(&from_token("false"), &mut none));
        assert!(Matcher::Null.matches(&FieldValue::Absent, &mut none));
        assert!(Matcher::Null.matches(&from_token("null"), &mut none));
        assert!(!Matcher::Null.matches(&from_token("\"\""), &mut none));
        let any = Matcher::Str(p("b", Placement::Plain));
        assert!(any.matches(&from_token("[\"a\",\"B\"]"), &mut none));
        let obj = Matcher::Str(p("\"Allow\"", Placement::Contains));
        assert!(obj.matches(&from_token("{\"Effect\":\"Allow\"}"), &mut none));
        let cidr = Matcher::Cidr("10.0.0.0/8".parse().unwrap());
        assert!(cidr.matches(&from_token("\"10.1.2.3\""), &mut none));
        assert!(!cidr.matches(&from_token("\"11.1.2.3\""), &mut none));
        assert!(!cidr.matches(&from_token("\"AWS Internal\""), &mut none));
        let gt = Matcher::Cmp(CmpOp::Gt, 5.0);
        assert!(gt.matches(&from_token("6"), &mut none));
        assert!(!gt.matches(&from_token("\"5\""), &mut none));
        assert!(Matcher::Exists(false).matches(&FieldValue::Absent, &mut none));
        assert!(Matcher::Exists(true).matches(&from_token("null"), &mut none));
    }
}
