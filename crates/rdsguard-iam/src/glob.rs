//! Wildcard patterns as IAM uses them: `*` matches any run of characters (including none) and
//! `?` exactly one character.
//!
//! AWS: "An asterisk (*) represents any combination of characters and a question mark (?)
//! represents any single character" (IAM User Guide, *IAM JSON policy elements: Resource*, and
//! *Condition operators*, `StringLike`). Patterns are compiled once into literal runs and
//! wildcards; the common shapes (exact, `prefix*`, `*`) get a fast path so that matching a
//! request does not allocate.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Characters that must appear verbatim.
    Literal(String),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    Question,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Glob {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard: plain equality.
    Exact(String),
    /// `literal*`: a prefix test.
    Prefix(String),
    /// Anything else.
    General(Vec<Segment>),
}

impl Glob {
    /// Compile `pattern`, treating `*` and `?` as wildcards.
    pub fn new(pattern: &str) -> Glob {
        Glob::of_owned(pattern.to_string())
    }

    /// [`Glob::new`] of a pattern already owned (no copy for the common shapes).
    pub fn of_owned(mut pattern: String) -> Glob {
        // The common shapes without splitting (policies have thousands of patterns).
        // Both wildcards are ASCII: a byte search finds them (no char decoding).
        match pattern.bytes().position(|b| b == b'*' || b == b'?') {
            None => return Glob::Exact(pattern),
            Some(i) if i + 1 == pattern.len() && pattern.ends_with('*') => {
                return if i == 0 {
                    Glob::Any
                } else {
                    pattern.truncate(i);
                    Glob::Prefix(pattern)
                };
            }
            Some(_) => {}
        }
        Glob::from_segments(parse_segments(&pattern))
    }

    /// A pattern that matches `text` literally (wildcard characters included).
    pub fn literal(text: &str) -> Glob {
        Glob::Exact(text.to_string())
    }

    /// Build from already-split segments (used after policy-variable substitution).
    pub fn from_segments(mut segs: Vec<Segment>) -> Glob {
        merge_literals(&mut segs);
        match segs.as_slice() {
            [] => Glob::Exact(String::new()),
            [Segment::Star] => Glob::Any,
            [Segment::Literal(l)] => Glob::Exact(l.clone()),
            [Segment::Literal(l), Segment::Star] => Glob::Prefix(l.clone()),
            _ => Glob::General(segs),
        }
    }

    /// Whether the pattern has any wildcard.
    pub fn has_wildcard(&self) -> bool {
        !matches!(self, Glob::Exact(_))
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(l) => l == text,
            Glob::Prefix(p) => text.starts_with(p.as_str()),
            Glob::General(segs) => match_segments(segs, text),
        }
    }
}

/// Split a pattern into literal runs, `*` and `?`.
pub fn parse_segments(pattern: &str) -> Vec<Segment> {
    let mut segs = Vec::new();
    let mut lit = String::new();
    for c in pattern.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    segs.push(Segment::Literal(std::mem::take(&mut lit)));
                }
                segs.push(if c == '*' {
                    Segment::Star
                } else {
                    Segment::Question
                });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        segs.push(Segment::Literal(lit));
    }
    segs
}

fn merge_literals(segs: &mut Vec<Segment>) {
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    for s in segs.drain(..) {
        match (out.last_mut(), s) {
            (Some(Segment::Literal(prev)), Segment::Literal(l)) => prev.push_str(&l),
            (Some(Segment::Star), Segment::Star) => {}
            (_, Segment::Literal(l)) if l.is_empty() => {}
            (_, s) => out.push(s),
        }
    }
    *segs = out;
}

/// Backtracking match over segments; a `*` records a restart point and widens by one
/// character each time a later segment fails. Linear in practice, O(n·m) worst case.
pub fn match_segments(segs: &[Segment], text: &str) -> bool {
    let mut si = 0usize; // segment index
    let mut ti = 0usize; // byte index into text
    let mut restart: Option<(usize, usize)> = None; // (segment after the star, text index)
    loop {
        if si == segs.len() {
            if ti == text.len() {
                return true;
            }
        } else {
            match &segs[si] {
                Segment::Star => {
                    si += 1;
                    restart = Some((si, ti));
                    continue;
                }
                Segment::Question => {
                    if let Some(c) = text[ti..].chars().next() {
                        ti += c.len_utf8();
                        si += 1;
                        continue;
                    }
                }
                Segment::Literal(l) => {
                    if text[ti..].starts_with(l.as_str()) {
                        ti += l.len();
                        si += 1;
                        continue;
                    }
                }
            }
        }
        // Mismatch (or pattern exhausted with text left): widen the last star by one char.
        match restart {
            Some((rs, rt)) => match text[rt..].chars().next() {
                Some(c) => {
                    let nt = rt + c.len_utf8();
                    restart = Some((rs, nt));
                    si = rs;
                    ti = nt;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(Glob::new("*"), Glob::Any);
        assert_eq!(Glob::new("**"), Glob::Any);
        assert_eq!(Glob::new("abc"), Glob::Exact("abc".into()));
        assert_eq!(Glob::new("ab*"), Glob::Prefix("ab".into()));
        assert!(matches!(Glob::new("a?c"), Glob::General(_)));
    }

    #[test]
    fn matching() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("a*", "a", true),
            ("a*", "ba", false),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*:db:*", "arn:aws:rds:us-east-1:1:db:x", true),
            ("Describe*", "DescribeDBInstances", true),
            ("?", "é", true),
            ("a*?", "a", false),
            ("a*?", "ab", true),
            ("", "", true),
            ("", "a", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(Glob::new(p).matches(t), want, "{p} vs {t}");
        }
    }

    proptest::proptest! {
        /// The shortcuts of `Glob::new` compile a pattern as splitting it does.
        #[test]
        fn shortcuts_agree_with_segments(p in "[ab*?:]{0,6}") {
            proptest::prop_assert_eq!(Glob::new(&p), Glob::from_segments(parse_segments(&p)));
        }
    }

    #[test]
    fn literal_does_not_expand_wildcards() {
        assert!(Glob::literal("a*").matches("a*"));
        assert!(!Glob::literal("a*").matches("ab"));
    }
}
