//! Truth values for evaluation: plain booleans for concrete requests, and symbolic formulas
//! over residual conditions for static analysis ("allowed if aws:SourceIp is in 10.0.0.0/8").
//!
//! The evaluation logic is written once, generically over [`Truth`], so the explain/simulate
//! path (booleans, no allocation) and the who-can path (formulas) cannot drift apart.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::policy::Effect;

/// A condition whose value is not known statically: one entry of a statement's `Condition`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Atom {
    /// Policy name (or ARN) and statement label (`Sid` or `#index`).
    /// Shared with the compiled policy and statement: every condition of a policy names them.
    pub policy: Arc<str>,
    pub statement: Arc<str>,
    pub effect: Effect,
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vals = if self.values.len() == 1 {
            format!("\"{}\"", self.values[0])
        } else {
            format!(
                "[{}]",
                self.values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        write!(f, "{} {} {}", self.operator, self.key, vals)
    }
}

/// A boolean combination of residual conditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", content = "args", rename_all = "snake_case")]
pub enum Formula {
    True,
    False,
    Atom(Arc<Atom>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    Not(Box<Formula>),
}

impl Formula {
    /// The same formula with the conditions of policy `from` said to be of policy `to` (a
    /// shared answer handed to another resource whose policy has the same statements).
    pub fn rename_policy(&mut self, from: &str, to: &Arc<str>) {
        match self {
            Formula::True | Formula::False => {}
            Formula::Atom(a) => {
                if *a.policy == *from {
                    *a = Arc::new(Atom {
                        policy: to.clone(),
                        ..(**a).clone()
                    });
                }
            }
            Formula::And(items) | Formula::Or(items) => {
                items.iter_mut().for_each(|f| f.rename_policy(from, to));
            }
            Formula::Not(f) => f.rename_policy(from, to),
        }
    }
}

/// The operations evaluation needs from a truth domain.
pub trait Truth: Clone {
    fn from_bool(b: bool) -> Self;
    /// A condition that could not be decided statically.
    fn unknown(atom: &Arc<Atom>) -> Self;
    fn and(self, other: Self) -> Self;
    fn or(self, other: Self) -> Self;
    fn not(self) -> Self;
    fn is_true(&self) -> bool;
    fn is_false(&self) -> bool;
}

impl Truth for bool {
    fn from_bool(b: bool) -> bool {
        b
    }
    // Concrete contexts never leave a key unknown; should one slip through, the condition is
    // treated as not matching (the conservative reading for an Allow).
    fn unknown(_atom: &Arc<Atom>) -> bool {
        false
    }
    fn and(self, other: bool) -> bool {
        self && other
    }
    fn or(self, other: bool) -> bool {
        self || other
    }
    fn not(self) -> bool {
        !self
    }
    fn is_true(&self) -> bool {
        *self
    }
    fn is_false(&self) -> bool {
        !*self
    }
}

impl Truth for Formula {
    fn from_bool(b: bool) -> Formula {
        if b { Formula::True } else { Formula::False }
    }
    fn unknown(atom: &Arc<Atom>) -> Formula {
        Formula::Atom(atom.clone())
    }
    fn and(self, other: Formula) -> Formula {
        match (self, other) {
            (Formula::False, _) | (_, Formula::False) => Formula::False,
            (Formula::True, x) | (x, Formula::True) => x,
            (Formula::And(mut a), Formula::And(b)) => {
                a.extend(b);
                Formula::And(a)
            }
            (Formula::And(mut a), x) | (x, Formula::And(mut a)) => {
                if !a.contains(&x) {
                    a.push(x);
                }
                Formula::And(a)
            }
            (a, b) if a == b => a,
            (a, b) => Formula::And(vec![a, b]),
        }
    }
    fn or(self, other: Formula) -> Formula {
        match (self, other) {
            (Formula::True, _) | (_, Formula::True) => Formula::True,
            (Formula::False, x) | (x, Formula::False) => x,
            (Formula::Or(mut a), Formula::Or(b)) => {
                a.extend(b);
                Formula::Or(a)
            }
            (Formula::Or(mut a), x) | (x, Formula::Or(mut a)) => {
                if !a.contains(&x) {
                    a.push(x);
                }
                Formula::Or(a)
            }
            (a, b) if a == b => a,
            (a, b) => Formula::Or(vec![a, b]),
        }
    }
    fn not(self) -> Formula {
        match self {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Not(inner) => *inner,
            other => Formula::Not(Box::new(other)),
        }
    }
    fn is_true(&self) -> bool {
        matches!(self, Formula::True)
    }
    fn is_false(&self) -> bool {
        matches!(self, Formula::False)
    }
}

impl Formula {
    /// Every residual condition in the formula, deduplicated, in order of appearance.
    pub fn atoms(&self) -> Vec<Arc<Atom>> {
        let mut out: Vec<Arc<Atom>> = Vec::new();
        fn walk(f: &Formula, out: &mut Vec<Arc<Atom>>) {
            match f {
                Formula::Atom(a) => {
                    if !out.iter().any(|x| x == a) {
                        out.push(a.clone());
                    }
                }
                Formula::And(v) | Formula::Or(v) => v.iter().for_each(|x| walk(x, out)),
                Formula::Not(x) => walk(x, out),
                Formula::True | Formula::False => {}
            }
        }
        walk(self, &mut out);
        out
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Formula::True => write!(f, "true"),
            Formula::False => write!(f, "false"),
            Formula::Atom(a) => write!(f, "{a}"),
            Formula::Not(x) => write!(f, "not ({x})"),
            Formula::And(v) | Formula::Or(v) => {
                let sep = if matches!(self, Formula::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    match x {
                        Formula::And(_) | Formula::Or(_) => write!(f, "({x})")?,
                        _ => write!(f, "{x}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(k: &str) -> Formula {
        Formula::unknown(&Arc::new(Atom {
            policy: "p".into(),
            statement: "s".into(),
            effect: Effect::Allow,
            operator: "IpAddress".into(),
            key: k.into(),
            values: vec!["10.0.0.0/8".into()],
        }))
    }

    #[test]
    fn simplification() {
        assert!(Formula::True.and(Formula::False).is_false());
        assert_eq!(Formula::True.and(atom("a")), atom("a"));
        assert!(Formula::True.or(atom("a")).is_true());
        assert_eq!(atom("a").or(atom("a")), atom("a"));
        assert_eq!(atom("a").not().not(), atom("a"));
        let f = atom("a").and(atom("b")).and(atom("c"));
        assert!(matches!(&f, Formula::And(v) if v.len() == 3));
        assert_eq!(f.atoms().len(), 3);
    }

    #[test]
    fn display() {
        let f = atom("aws:SourceIp").and(atom("x").or(atom("y")).not());
        let s = f.to_string();
        assert!(
            s.contains("IpAddress aws:SourceIp \"10.0.0.0/8\" and not"),
            "{s}"
        );
    }
}
