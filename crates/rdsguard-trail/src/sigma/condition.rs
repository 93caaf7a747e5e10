//! Sigma `condition` expressions: tokenizer, parser and evaluator.
//!
//! Grammar (operators are case-insensitive; precedence `not` > `and` > `or`):
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | quant "of" (pattern | "them") | identifier
//! quant   := "all" | "any" | <positive integer>
//! ```
//! Patterns may use `*` as a wildcard; `them` means every selection whose name does not start
//! with `_`. A pipe (`| count() > 5`, old-style aggregation) is reported as unsupported.

/// A parsed condition. Selections are referred to by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cond {
    Sel(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// At least `n` of the selections match.
    AtLeast(usize, Vec<usize>),
    /// Every selection matches.
    All(Vec<usize>),
}

/// Limits that keep a hostile condition from exhausting the stack or the CPU.
const MAX_DEPTH: usize = 64;
const MAX_TOKENS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
    Pipe,
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        if toks.len() > MAX_TOKENS {
            return Err(format!("condition longer than {MAX_TOKENS} tokens"));
        }
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                toks.push(Tok::RParen);
            }
            '|' => {
                chars.next();
                toks.push(Tok::Pipe);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '|' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                toks.push(Tok::Word(word));
            }
        }
    }
    Ok(toks)
}

/// Parses `src` against the selection names (in index order).
pub(crate) fn parse(src: &str, names: &[String]) -> Result<Cond, String> {
    let toks = tokenize(src)?;
    if toks.contains(&Tok::Pipe) {
        return Err("aggregation in condition (`| count()` and the like)".into());
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        names,
    };
    let cond = p.expr(0)?;
    if p.pos != toks.len() {
        return Err(format!("unexpected `{}` in condition", p.describe(p.pos)));
    }
    Ok(cond)
}

struct Parser<'t> {
    toks: &'t [Tok],
    pos: usize,
    names: &'t [String],
}

impl Parser<'_> {
    fn describe(&self, pos: usize) -> String {
        match self.toks.get(pos) {
            Some(Tok::LParen) => "(".into(),
            Some(Tok::RParen) => ")".into(),
            Some(Tok::Pipe) => "|".into(),
            Some(Tok::Word(w)) => w.clone(),
            None => "end of condition".into(),
        }
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expr(&mut self, depth: usize) -> Result<Cond, String> {
        if depth > MAX_DEPTH {
            return Err(format!("condition nested deeper than {MAX_DEPTH} levels"));
        }
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Cond, String> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Cond, String> {
        if depth > MAX_DEPTH {
            return Err(format!("condition nested deeper than {MAX_DEPTH} levels"));
        }
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Cond, String> {
        match self.toks.get(self.pos) {
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.expr(depth + 1)?;
                if self.toks.get(self.pos) != Some(&Tok::RParen) {
                    return Err(format!(
                        "expected `)` in condition, found `{}`",
                        self.describe(self.pos)
                    ));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                let is_of = matches!(self.toks.get(self.pos + 1), Some(Tok::Word(n)) if n.eq_ignore_ascii_case("of"));
                if is_of {
                    let quant = w.to_ascii_lowercase();
                    self.pos += 2;
                    let target = match self.toks.get(self.pos) {
                        Some(Tok::Word(t)) => t.clone(),
                        _ => {
                            return Err(format!(
                                "expected a selection pattern after `{quant} of`, found `{}`",
                                self.describe(self.pos)
                            ));
                        }
                    };
                    self.pos += 1;
                    let matched = self.matching(&target)?;
                    return match quant.as_str() {
                        "all" => Ok(Cond::All(matched)),
                        "any" => Ok(Cond::AtLeast(1, matched)),
                        n => match n.parse::<usize>() {
                            Ok(n) if n >= 1 => Ok(Cond::AtLeast(n, matched)),
                            _ => Err(format!("unsupported quantifier `{w} of`")),
                        },
                    };
                }
                let name = w.clone();
                self.pos += 1;
                match self.names.iter().position(|n| *n == name) {
                    Some(i) => Ok(Cond::Sel(i)),
                    None => Err(format!("condition refers to unknown selection `{name}`")),
                }
            }
            _ => Err(format!(
                "expected a selection in condition, found `{}`",
                self.describe(self.pos)
            )),
        }
    }

    fn matching(&self, pattern: &str) -> Result<Vec<usize>, String> {
        let found: Vec<usize> = if pattern.eq_ignore_ascii_case("them") {
            (0..self.names.len())
                .filter(|i| !self.names[*i].starts_with('_'))
                .collect()
        } else {
            (0..self.names.len())
                .filter(|i| wildcard_match(pattern, &self.names[*i]))
                .collect()
        };
        if found.is_empty() {
            return Err(format!("`{pattern}` matches no selection"));
        }
        Ok(found)
    }
}

/// `*` matches any run of characters (used for selection-name patterns only).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl Cond {
    /// Evaluates with `sel(i)` giving the result of selection `i`.
    pub(crate) fn eval(&self, sel: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Sel(i) => sel(*i),
            Cond::Not(c) => !c.eval(sel),
            Cond::And(cs) => cs.iter().all(|c| c.eval(sel)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(sel)),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                for i in ids {
                    if sel(*i) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
            Cond::All(ids) => ids.iter().all(|i| sel(*i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_and_quantifiers() {
        let n = names(&["selection", "filter_a", "filter_b", "_hidden"]);
        let c = parse("selection and not 1 of filter_*", &n).unwrap();
        assert_eq!(
            c,
            Cond::And(vec![
                Cond::Sel(0),
                Cond::Not(Box::new(Cond::AtLeast(1, vec![1, 2])))
            ])
        );
        let c = parse("a or b and not c", &names(&["a", "b", "c"])).unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Sel(0),
                Cond::And(vec![Cond::Sel(1), Cond::Not(Box::new(Cond::Sel(2)))])
            ])
        );
        assert_eq!(parse("all of them", &n).unwrap(), Cond::All(vec![0, 1, 2]));
        assert_eq!(
            parse("(selection OR filter_a) AND NOT _hidden", &n).unwrap(),
            Cond::And(vec![
                Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)]),
                Cond::Not(Box::new(Cond::Sel(3)))
            ])
        );
    }

    #[test]
    fn errors_are_reported_not_panicked() {
        let n = names(&["selection"]);
        assert!(
            parse("selection | count() > 5", &n)
                .unwrap_err()
                .contains("aggregation")
        );
        assert!(parse("nope", &n).unwrap_err().contains("unknown selection"));
        assert!(
            parse("1 of filter*", &n)
                .unwrap_err()
                .contains("matches no selection")
        );
        assert!(parse("(selection", &n).is_err());
        assert!(parse("selection and", &n).is_err());
        assert!(parse("", &n).is_err());
        let deep = format!("{}selection{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep, &n).is_err());
        let nots = format!("{}selection", "not ".repeat(5_000));
        assert!(parse(&nots, &n).is_err());
    }

    #[test]
    fn evaluation() {
        let n = names(&["a", "b", "c"]);
        let c = parse("2 of them", &n).unwrap();
        assert!(c.eval(&mut |i| i != 2));
        assert!(!c.eval(&mut |i| i == 0));
        let c = parse("a and not (b or c)", &n).unwrap();
        assert!(c.eval(&mut |i| i == 0));
        assert!(!c.eval(&mut |i| i != 2));
    }
}
