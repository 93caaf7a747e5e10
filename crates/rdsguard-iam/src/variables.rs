//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${aws:username, 'x'}`, and
//! the escapes `${*}`, `${?}`, `${$}`.
//!
//! AWS (IAM User Guide, *IAM policy elements: Variables and tags*):
//! - variables are substituted only in policies with `"Version": "2012-10-17"`; under
//!   2008-10-17 `${...}` is literal text;
//! - they may appear in the resource part of a `Resource` ARN and in condition values of
//!   string, ARN and Bool operators;
//! - "If AWS cannot resolve a variable this might cause the entire statement to be invalid":
//!   a value whose variable has no value in the request (or refers to a multivalued key) never
//!   matches, unless a default is given (`${aws:PrincipalTag/team, 'company-wide'}`);
//! - `${*}`, `${?}` and `${$}` stand for the literal characters `*`, `?` and `$`.

use crate::context::{Lookup, RequestContext};
use crate::glob::Segment;

/// One part of a value that may contain variables and wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    Literal(String),
    /// `*` (only when wildcards are enabled for the element).
    Star,
    /// `?` (only when wildcards are enabled for the element).
    Question,
    Variable {
        /// Lower-cased context key (keys are case-insensitive).
        key: String,
        default: Option<String>,
    },
}

/// A value with variables, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

/// The outcome of substituting a template's variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every variable had a value (or a default).
    Value(Vec<Segment>),
    /// A variable has no usable value: the value never matches.
    Unresolvable,
    /// A variable refers to a key whose value is not known statically.
    Unknown,
}

impl Template {
    /// Parse `text`. With `variables` false (2008-10-17 policies) `${...}` stays literal. With
    /// `wildcards` false, `*` and `?` are literal (e.g. `StringEquals`).
    pub fn parse(text: &str, variables: bool, wildcards: bool) -> Template {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if variables
                && rest.starts_with("${")
                && let Some(end) = rest[2..].find('}')
            {
                let inner = &rest[2..2 + end];
                rest = &rest[2 + end + 1..];
                match inner {
                    "*" | "?" | "$" => lit.push_str(inner),
                    _ => {
                        if !lit.is_empty() {
                            parts.push(TemplatePart::Literal(std::mem::take(&mut lit)));
                        }
                        parts.push(parse_variable(inner));
                    }
                }
                continue;
            }
            rest = &rest[c.len_utf8()..];
            if wildcards && (c == '*' || c == '?') {
                if !lit.is_empty() {
                    parts.push(TemplatePart::Literal(std::mem::take(&mut lit)));
                }
                parts.push(if c == '*' {
                    TemplatePart::Star
                } else {
                    TemplatePart::Question
                });
            } else {
                lit.push(c);
            }
        }
        if !lit.is_empty() {
            parts.push(TemplatePart::Literal(lit));
        }
        Template { parts }
    }

    pub fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Variable { .. }))
    }

    /// The pattern segments when the template has no variable.
    pub fn static_segments(&self) -> Option<Vec<Segment>> {
        if self.has_variables() {
            return None;
        }
        Some(self.parts.iter().map(part_segment).collect())
    }

    /// Substitute variables from the request context. Substituted values are literal text:
    /// a `*` inside a tag value does not become a wildcard.
    pub fn resolve(&self, ctx: &RequestContext) -> Resolved {
        let mut out = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            match p {
                TemplatePart::Variable { key, default } => match ctx.lookup(key) {
                    Lookup::Single(v) if !v.is_empty() => out.push(Segment::Literal(v.to_string())),
                    Lookup::Unknown => return Resolved::Unknown,
                    // Missing, empty or multivalued: the default if there is one.
                    _ => match default {
                        Some(d) => out.push(Segment::Literal(d.clone())),
                        None => return Resolved::Unresolvable,
                    },
                },
                other => out.push(part_segment(other)),
            }
        }
        Resolved::Value(out)
    }

    /// The pattern with every variable that has no usable value replaced by `*`: what the
    /// value could match whatever the variable turned out to be.
    pub fn resolve_or_wildcard(&self, ctx: &RequestContext) -> Vec<Segment> {
        self.parts
            .iter()
            .map(|p| match p {
                TemplatePart::Variable { key, default } => match ctx.lookup(key) {
                    Lookup::Single(v) if !v.is_empty() => Segment::Literal(v.to_string()),
                    Lookup::Unknown => Segment::Star,
                    _ => match default {
                        Some(d) => Segment::Literal(d.clone()),
                        None => Segment::Star,
                    },
                },
                other => part_segment(other),
            })
            .collect()
    }

    /// Lower-cased keys of the variables used.
    pub fn variable_keys(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Variable { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }
}

fn part_segment(p: &TemplatePart) -> Segment {
    match p {
        TemplatePart::Literal(l) => Segment::Literal(l.clone()),
        TemplatePart::Star => Segment::Star,
        TemplatePart::Question => Segment::Question,
        // Callers only convert variable-free templates or substitute variables first.
        TemplatePart::Variable { .. } => Segment::Literal(String::new()),
    }
}

/// `key` or `key, 'default'` (AWS: "add a default value ... separated from the key by a
/// comma and a space, in single quotes").
fn parse_variable(inner: &str) -> TemplatePart {
    if let Some((key, rest)) = inner.split_once(',') {
        let rest = rest.trim();
        if rest.len() >= 2 && rest.starts_with('\'') && rest.ends_with('\'') {
            return TemplatePart::Variable {
                key: key.trim().to_ascii_lowercase(),
                default: Some(rest[1..rest.len() - 1].to_string()),
            };
        }
        return TemplatePart::Variable {
            key: key.trim().to_ascii_lowercase(),
            default: None,
        };
    }
    TemplatePart::Variable {
        key: inner.trim().to_ascii_lowercase(),
        default: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{ContextValue, RequestContext};
    use crate::glob::Glob;

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new();
        c.insert("aws:username", ContextValue::Single("alice".into()));
        c.insert(
            "aws:TagKeys",
            ContextValue::Multi(vec!["a".into(), "b".into()]),
        );
        c
    }

    fn resolve(text: &str) -> Resolved {
        Template::parse(text, true, true).resolve(&ctx())
    }

    fn matches(pattern: &str, text: &str) -> bool {
        match resolve(pattern) {
            Resolved::Value(segs) => Glob::from_segments(segs).matches(text),
            _ => false,
        }
    }

    #[test]
    fn substitution_and_escapes() {
        assert!(matches("home/${aws:username}/*", "home/alice/x"));
        assert!(matches("home/${AWS:UserName}/*", "home/alice/x"));
        assert!(!matches("home/${aws:username}/*", "home/bob/x"));
        assert!(matches("a${*}b", "a*b"));
        assert!(!matches("a${*}b", "axb"));
        assert!(matches("a${?}b", "a?b"));
        assert!(matches("cost${$}", "cost$"));
    }

    #[test]
    fn missing_and_multivalued_use_default_or_never_match() {
        assert_eq!(resolve("${aws:PrincipalTag/team}"), Resolved::Unresolvable);
        assert_eq!(resolve("${aws:TagKeys}"), Resolved::Unresolvable);
        assert!(matches("${aws:PrincipalTag/team, 'all'}", "all"));
        assert!(matches("${aws:username, 'x'}", "alice"));
    }

    #[test]
    fn version_2008_keeps_variables_literal() {
        let t = Template::parse("${aws:username}", false, true);
        assert!(!t.has_variables());
        let segs = t.static_segments().unwrap();
        assert!(Glob::from_segments(segs).matches("${aws:username}"));
    }

    #[test]
    fn unknown_keys_stay_unknown() {
        let c = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
        let t = Template::parse("${aws:username}", true, false);
        assert_eq!(t.resolve(&c), Resolved::Unknown);
    }
}
