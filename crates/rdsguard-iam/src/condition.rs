//! Condition operators, compiled once (parsed numbers, dates, CIDRs, wildcard patterns) and
//! evaluated against a request context.
//!
//! Semantics, from the IAM User Guide (*IAM JSON policy elements: Condition operators*,
//! *Conditions with multiple context keys or values*, *Single-valued vs. multivalued context
//! keys*):
//! - several values for one key are ORed; for a negated operator (`StringNotEquals`,
//!   `NotIpAddress`, `ArnNotLike`...) they are NORed (the request value must match none);
//! - several keys under one operator, and several operators, are ANDed (done by the caller);
//! - "If the key that you specify in a policy condition is not present in the request context,
//!   the values do not match and the condition is false. If the policy condition requires that
//!   the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
//!   present, the condition is true";
//! - `...IfExists`: "If the policy key is present in the context of the request, process the
//!   key as specified in the policy. If the key is not present, evaluate the condition element
//!   as true";
//! - `Null`: `true` means the key must be absent, `false` that it must be present;
//! - `ForAllValues:` is true when every request value matches one of the policy values, "It
//!   also returns true if there are no context keys in the request"; `ForAnyValue:` is true
//!   when at least one request value matches, and false when the key is missing;
//! - multivalued keys "require a condition set operator": a single-valued operator applied to a
//!   multivalued request value does not match.

use std::net::IpAddr;

use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::context::{Lookup, RequestContext};
use crate::formula::Atom;
use crate::glob::{Glob, Segment, match_segments};
use crate::policy::{ConditionEntry, PolicyVersion};
use crate::variables::{Resolved, Template};

/// The base operators of the condition language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

use BaseOperator as B;

const ALL_BASE: &[BaseOperator] = &[
    B::StringEquals,
    B::StringNotEquals,
    B::StringEqualsIgnoreCase,
    B::StringNotEqualsIgnoreCase,
    B::StringLike,
    B::StringNotLike,
    B::NumericEquals,
    B::NumericNotEquals,
    B::NumericLessThan,
    B::NumericLessThanEquals,
    B::NumericGreaterThan,
    B::NumericGreaterThanEquals,
    B::DateEquals,
    B::DateNotEquals,
    B::DateLessThan,
    B::DateLessThanEquals,
    B::DateGreaterThan,
    B::DateGreaterThanEquals,
    B::Bool,
    B::BinaryEquals,
    B::IpAddress,
    B::NotIpAddress,
    B::ArnEquals,
    B::ArnLike,
    B::ArnNotEquals,
    B::ArnNotLike,
    B::Null,
];

impl BaseOperator {
    pub fn name(self) -> &'static str {
        match self {
            B::StringEquals => "StringEquals",
            B::StringNotEquals => "StringNotEquals",
            B::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            B::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            B::StringLike => "StringLike",
            B::StringNotLike => "StringNotLike",
            B::NumericEquals => "NumericEquals",
            B::NumericNotEquals => "NumericNotEquals",
            B::NumericLessThan => "NumericLessThan",
            B::NumericLessThanEquals => "NumericLessThanEquals",
            B::NumericGreaterThan => "NumericGreaterThan",
            B::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            B::DateEquals => "DateEquals",
            B::DateNotEquals => "DateNotEquals",
            B::DateLessThan => "DateLessThan",
            B::DateLessThanEquals => "DateLessThanEquals",
            B::DateGreaterThan => "DateGreaterThan",
            B::DateGreaterThanEquals => "DateGreaterThanEquals",
            B::Bool => "Bool",
            B::BinaryEquals => "BinaryEquals",
            B::IpAddress => "IpAddress",
            B::NotIpAddress => "NotIpAddress",
            B::ArnEquals => "ArnEquals",
            B::ArnLike => "ArnLike",
            B::ArnNotEquals => "ArnNotEquals",
            B::ArnNotLike => "ArnNotLike",
            B::Null => "Null",
        }
    }

    /// Negated operators: their values are NORed and a missing key satisfies them.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            B::StringNotEquals
                | B::StringNotEqualsIgnoreCase
                | B::StringNotLike
                | B::NumericNotEquals
                | B::DateNotEquals
                | B::NotIpAddress
                | B::ArnNotEquals
                | B::ArnNotLike
        )
    }

    /// The positive operator a negated one negates.
    fn positive(self) -> BaseOperator {
        match self {
            B::StringNotEquals => B::StringEquals,
            B::StringNotEqualsIgnoreCase => B::StringEqualsIgnoreCase,
            B::StringNotLike => B::StringLike,
            B::NumericNotEquals => B::NumericEquals,
            B::DateNotEquals => B::DateEquals,
            B::NotIpAddress => B::IpAddress,
            B::ArnNotEquals => B::ArnEquals,
            B::ArnNotLike => B::ArnLike,
            other => other,
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A full operator: optional set qualifier, base operator, optional `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operator {
    pub base: BaseOperator,
    pub set: Option<SetQualifier>,
    pub if_exists: bool,
}

impl Operator {
    /// Parse an operator name (case-insensitively). `NullIfExists` is refused: AWS documents
    /// `IfExists` for every operator "except the Null condition".
    pub fn parse(text: &str) -> Option<Operator> {
        // Compared without a lower-cased copy: every policy condition is parsed.
        let (set, rest) = if let Some(r) = strip_prefix_ignoring_case(text, "forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = strip_prefix_ignoring_case(text, "foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, text)
        };
        let (if_exists, base_text) = match strip_suffix_ignoring_case(rest, "ifexists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = ALL_BASE
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(base_text))?;
        if base == B::Null && if_exists {
            return None;
        }
        Some(Operator {
            base,
            set,
            if_exists,
        })
    }

    pub fn name(&self) -> String {
        let mut s = String::new();
        match self.set {
            Some(SetQualifier::ForAllValues) => s.push_str("ForAllValues:"),
            Some(SetQualifier::ForAnyValue) => s.push_str("ForAnyValue:"),
            None => {}
        }
        s.push_str(self.base.name());
        if self.if_exists {
            s.push_str("IfExists");
        }
        s
    }
}

/// `text` without `prefix` (ASCII, lower case) when it starts with it in any case.
fn strip_prefix_ignoring_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.as_bytes().get(..prefix.len())?;
    // The bytes matched are ASCII, so the rest starts on a character boundary.
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// `text` without `suffix` (ASCII, lower case) when it ends with it in any case.
fn strip_suffix_ignoring_case<'t>(text: &'t str, suffix: &str) -> Option<&'t str> {
    let at = text.len().checked_sub(suffix.len())?;
    let tail = text.as_bytes().get(at..)?;
    tail.eq_ignore_ascii_case(suffix.as_bytes())
        .then(|| text.get(..at))
        .flatten()
}

/// A string-like policy value: fixed, or with variables to substitute per request.
#[derive(Debug, Clone)]
enum StrValue {
    Static(Glob),
    Template(Template),
}

impl StrValue {
    fn new(text: &str, version: PolicyVersion, wildcards: bool, lowercase: bool) -> StrValue {
        let text = if lowercase {
            text.to_lowercase()
        } else {
            text.to_string()
        };
        // Without a variable the template is its text: the glob of it (a wildcard pattern
        // for the `Like` operators), made without building the template. Most values.
        if !(version.supports_variables() && text.contains("${")) {
            return StrValue::Static(if wildcards {
                Glob::of_owned(text)
            } else {
                Glob::Exact(text)
            });
        }
        Self::of_template(&text, version, wildcards)
    }

    /// The value read as a template (`${...}` variables, wildcards when `wildcards`).
    fn of_template(text: &str, version: PolicyVersion, wildcards: bool) -> StrValue {
        let t = Template::parse(text, version.supports_variables(), wildcards);
        match t.static_segments() {
            Some(segs) => StrValue::Static(Glob::from_segments(segs)),
            None => StrValue::Template(t),
        }
    }

    /// `Some(true/false)` or `None` when a variable is unknown; an unresolvable variable is
    /// reported as `Err(())` so negated operators can treat the value as failing.
    fn matches(
        &self,
        text: &str,
        ctx: &RequestContext,
        lowercase: bool,
    ) -> Result<Option<bool>, ()> {
        match self {
            StrValue::Static(g) => Ok(Some(g.matches(text))),
            StrValue::Template(t) => match t.resolve(ctx) {
                Resolved::Value(mut segs) => {
                    if lowercase {
                        for s in &mut segs {
                            if let Segment::Literal(l) = s {
                                *l = l.to_lowercase();
                            }
                        }
                    }
                    Ok(Some(match_segments(&segs, text)))
                }
                Resolved::Unknown => Ok(None),
                Resolved::Unresolvable => Err(()),
            },
        }
    }
}

/// An ARN policy value split into parts; each part may hold wildcards and variables.
#[derive(Debug, Clone)]
struct ArnValue {
    parts: [StrValue; 5],
}

#[derive(Debug, Clone)]
enum Values {
    Str(Vec<StrValue>),
    /// `None`: the policy value is not a valid ARN (never matches).
    Arn(Vec<Option<ArnValue>>),
    /// `None`: not a number (never matches).
    Num(Vec<Option<f64>>),
    /// Milliseconds since the epoch; `None`: not a date.
    Date(Vec<Option<i128>>),
    /// `None`: not an address or CIDR.
    Ip(Vec<Option<IpNet>>),
    Raw(Vec<String>),
}

/// A compiled condition entry (one operator, one key, its values).
#[derive(Debug, Clone)]
pub struct CompiledCondition {
    pub operator: Operator,
    /// Lower-cased key.
    pub key: String,
    key_hash: u64,
    /// The residual condition reported when the key is not known statically: the entry as
    /// written (operator, key and values), and where it is.
    pub atom: Arc<Atom>,
    values: Values,
}

impl CompiledCondition {
    pub fn compile(entry: &ConditionEntry, version: PolicyVersion) -> CompiledCondition {
        let unnamed: Arc<str> = Arc::from("");
        Self::compile_in(
            entry,
            version,
            &unnamed,
            &unnamed,
            crate::policy::Effect::Allow,
        )
    }

    /// [`compile`](Self::compile) for a condition of statement `statement` (with `effect`) of
    /// policy `policy`, which its residual atom names.
    pub fn compile_in(
        entry: &ConditionEntry,
        version: PolicyVersion,
        policy: &Arc<str>,
        statement: &Arc<str>,
        effect: crate::policy::Effect,
    ) -> CompiledCondition {
        let op = entry.operator;
        let positive = op.base.positive();
        let vals = &entry.values;
        let values = match positive {
            B::BinaryEquals => Values::Raw(vals.clone()),
            B::StringEquals => Values::Str(
                vals.iter()
                    .map(|v| StrValue::new(v, version, false, false))
                    .collect(),
            ),
            B::StringEqualsIgnoreCase => Values::Str(
                vals.iter()
                    .map(|v| StrValue::new(v, version, false, true))
                    .collect(),
            ),
            B::StringLike => Values::Str(
                vals.iter()
                    .map(|v| StrValue::new(v, version, true, false))
                    .collect(),
            ),
            B::Bool => Values::Str(
                vals.iter()
                    .map(|v| StrValue::new(v, version, false, true))
                    .collect(),
            ),
            B::ArnEquals | B::ArnLike => {
                Values::Arn(vals.iter().map(|v| compile_arn_value(v, version)).collect())
            }
            B::NumericEquals
            | B::NumericLessThan
            | B::NumericLessThanEquals
            | B::NumericGreaterThan
            | B::NumericGreaterThanEquals => {
                Values::Num(vals.iter().map(|v| parse_number(v)).collect())
            }
            B::DateEquals
            | B::DateLessThan
            | B::DateLessThanEquals
            | B::DateGreaterThan
            | B::DateGreaterThanEquals => {
                Values::Date(vals.iter().map(|v| parse_date(v)).collect())
            }
            B::IpAddress => Values::Ip(vals.iter().map(|v| parse_ip_or_cidr(v)).collect()),
            _ => Values::Raw(vals.clone()),
        };
        let key = entry.key.to_ascii_lowercase();
        CompiledCondition {
            operator: op,
            key_hash: crate::context::key_hash(&key),
            key,
            atom: Arc::new(Atom {
                policy: policy.clone(),
                statement: statement.clone(),
                effect,
                operator: entry.operator_text.clone(),
                key: entry.key.clone(),
                values: entry.values.clone(),
            }),
            values,
        }
    }

    /// `Some(result)`, or `None` when it depends on a key not known statically.
    pub fn evaluate(&self, ctx: &RequestContext) -> Option<bool> {
        let op = self.operator;
        let lookup = ctx.lookup_hashed(&self.key, self.key_hash);
        if op.base == B::Null {
            let present = match lookup {
                Lookup::Single(_) | Lookup::Multi(_) => true,
                Lookup::Absent => false,
                Lookup::Unknown => return None,
            };
            // `"Null": {"k": "true"}` holds when k is absent.
            let Values::Raw(vals) = &self.values else {
                return Some(false);
            };
            return Some(vals.iter().any(|v| {
                let v = v.to_ascii_lowercase();
                (v == "true" && !present) || (v == "false" && present)
            }));
        }
        match op.set {
            Some(set) => match lookup {
                Lookup::Single(s) => self.set_satisfies(set, std::iter::once(s), ctx),
                Lookup::Multi(m) => self.set_satisfies(set, m.iter().map(String::as_str), ctx),
                Lookup::Absent => Some(set == SetQualifier::ForAllValues),
                Lookup::Unknown => None,
            },
            None => match lookup {
                Lookup::Absent => Some(op.if_exists || op.base.is_negated()),
                Lookup::Unknown => None,
                Lookup::Multi(_) => Some(false),
                Lookup::Single(s) => self.value_satisfies(s, ctx),
            },
        }
    }

    /// `ForAllValues`: every request value satisfies the operator (vacuously true for an empty
    /// set); `ForAnyValue`: at least one does. A single value is a one-element set.
    fn set_satisfies<'v>(
        &self,
        set: SetQualifier,
        request_values: impl Iterator<Item = &'v str>,
        ctx: &RequestContext,
    ) -> Option<bool> {
        let mut unknown = false;
        for rv in request_values {
            match self.value_satisfies(rv, ctx) {
                Some(true) if set == SetQualifier::ForAnyValue => return Some(true),
                Some(false) if set == SetQualifier::ForAllValues => return Some(false),
                None => unknown = true,
                _ => {}
            }
        }
        if unknown {
            None
        } else {
            Some(set == SetQualifier::ForAllValues)
        }
    }

    /// Whether one request value satisfies the operator (policy values ORed, or NORed for
    /// negated operators). An unresolvable policy variable makes that value fail.
    fn value_satisfies(&self, request: &str, ctx: &RequestContext) -> Option<bool> {
        let negated = self.operator.base.is_negated();
        let mut unknown = false;
        let n = self.value_count();
        let parsed = self.parse_request(request);
        for i in 0..n {
            match self.value_matches(i, &parsed, ctx) {
                // Positive: any matching value satisfies.
                Ok(Some(true)) if !negated => return Some(true),
                // Negated: any matching value (or failing value) breaks it.
                Ok(Some(true)) | Err(()) if negated => return Some(false),
                Ok(None) => unknown = true,
                _ => {}
            }
        }
        if unknown { None } else { Some(negated) }
    }

    fn value_count(&self) -> usize {
        match &self.values {
            Values::Str(v) => v.len(),
            Values::Arn(v) => v.len(),
            Values::Num(v) => v.len(),
            Values::Date(v) => v.len(),
            Values::Ip(v) => v.len(),
            Values::Raw(v) => v.len(),
        }
    }

    /// Whether the i-th policy value matches `request` under the positive form of the
    /// operator. `Err(())`: the value cannot be used (bad policy value, unresolvable variable,
    /// or a request value of the wrong type), which fails the value for both polarities.
    /// Parse the request value once per condition, by the operator's value type.
    fn parse_request<'r>(&self, request: &'r str) -> ParsedRequest<'r> {
        match &self.values {
            Values::Num(_) => ParsedRequest::Num(parse_number(request)),
            Values::Date(_) => ParsedRequest::Date(parse_date(request)),
            Values::Ip(_) => ParsedRequest::Ip(request.trim().parse().ok()),
            Values::Arn(_) => ParsedRequest::Arn(split_arn5(request)),
            _ => ParsedRequest::Text(request),
        }
    }

    fn value_matches(
        &self,
        i: usize,
        parsed: &ParsedRequest<'_>,
        ctx: &RequestContext,
    ) -> Result<Option<bool>, ()> {
        let base = self.operator.base.positive();
        let request = match parsed {
            ParsedRequest::Text(t) => t,
            _ => "",
        };
        match &self.values {
            Values::Str(vals) => {
                let v = &vals[i];
                match base {
                    B::StringEqualsIgnoreCase => v.matches(&request.to_lowercase(), ctx, true),
                    B::Bool => {
                        let req = request.to_ascii_lowercase();
                        if req != "true" && req != "false" {
                            return Err(());
                        }
                        // The policy value must itself be a boolean after substitution.
                        let t = v.matches(&req, ctx, true)?;
                        match t {
                            Some(true) => Ok(Some(true)),
                            Some(false) => {
                                let other = if req == "true" { "false" } else { "true" };
                                match v.matches(other, ctx, true)? {
                                    Some(true) => Ok(Some(false)),
                                    _ => Err(()),
                                }
                            }
                            None => Ok(None),
                        }
                    }
                    _ => v.matches(request, ctx, false),
                }
            }
            Values::Raw(vals) => Ok(Some(vals[i] == request)),
            Values::Num(vals) => {
                let p = vals[i].ok_or(())?;
                let ParsedRequest::Num(Some(r)) = *parsed else {
                    return Err(());
                };
                Ok(Some(match base {
                    B::NumericEquals => r == p,
                    B::NumericLessThan => r < p,
                    B::NumericLessThanEquals => r <= p,
                    B::NumericGreaterThan => r > p,
                    B::NumericGreaterThanEquals => r >= p,
                    _ => false,
                }))
            }
            Values::Date(vals) => {
                let p = vals[i].ok_or(())?;
                let ParsedRequest::Date(Some(r)) = *parsed else {
                    return Err(());
                };
                Ok(Some(match base {
                    B::DateEquals => r == p,
                    B::DateLessThan => r < p,
                    B::DateLessThanEquals => r <= p,
                    B::DateGreaterThan => r > p,
                    B::DateGreaterThanEquals => r >= p,
                    _ => false,
                }))
            }
            Values::Ip(vals) => {
                let net = vals[i].ok_or(())?;
                let ParsedRequest::Ip(Some(ip)) = *parsed else {
                    return Err(());
                };
                // An IPv4 CIDR never contains an IPv6 address and vice versa.
                Ok(Some(net.contains(&ip)))
            }
            Values::Arn(vals) => {
                let v = vals[i].as_ref().ok_or(())?;
                let ParsedRequest::Arn(Some(parts)) = parsed else {
                    return Err(());
                };
                let mut unknown = false;
                for (pv, rp) in v.parts.iter().zip(parts.iter()) {
                    match pv.matches(rp, ctx, false)? {
                        Some(false) => return Ok(Some(false)),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                Ok(if unknown { None } else { Some(true) })
            }
        }
    }
}

/// A request value parsed for the operator's type.
enum ParsedRequest<'r> {
    Text(&'r str),
    Num(Option<f64>),
    Date(Option<i128>),
    Ip(Option<IpAddr>),
    Arn(Option<[&'r str; 5]>),
}

/// Split `arn:partition:service:region:account:resource` into the five parts after `arn`
/// (the first element is not checked, as ARN condition operators compare the parts).
fn split_arn5(text: &str) -> Option<[&str; 5]> {
    let mut it = text.splitn(6, ':');
    it.next()?;
    Some([it.next()?, it.next()?, it.next()?, it.next()?, it.next()?])
}

fn compile_arn_value(text: &str, version: PolicyVersion) -> Option<ArnValue> {
    let parts = split_arn5(text)?;
    Some(ArnValue {
        parts: parts.map(|p| StrValue::new(p, version, true, false)),
    })
}

/// Numbers as AWS documents them (integers and decimals); anything else is not a number.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || digits.bytes().filter(|&b| b == b'.').count() > 1
        || digits == "."
    {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Dates: "one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX)
/// time" (*Condition operators*, date condition operators). Epoch values are seconds.
/// Returns milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i128> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i128>().ok().map(|s| s * 1000);
    }
    if let Some(ms) = fast_utc_date(t) {
        return Some(ms);
    }
    use time::format_description::well_known::{Iso8601, Rfc3339};
    if let Ok(dt) = time::OffsetDateTime::parse(t, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos() / 1_000_000);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(t, &Iso8601::DEFAULT) {
        return Some(dt.unix_timestamp_nanos() / 1_000_000);
    }
    // Date only (YYYY-MM-DD) or date and time without offset: UTC.
    if let Ok(d) = time::Date::parse(t, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000);
    }
    if let Ok(dt) = time::PrimitiveDateTime::parse(t, &Iso8601::DEFAULT) {
        return Some(dt.assume_utc().unix_timestamp_nanos() / 1_000_000);
    }
    None
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the form AWS uses for `aws:CurrentTime`), without allocating.
fn fast_utc_date(t: &str) -> Option<i128> {
    let b = t.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm), proleptic Gregorian.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(i128::from(days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000)
}

/// `IpAddress` values are CIDR blocks (IPv4 or IPv6); a bare address is a single host.
pub fn parse_ip_or_cidr(text: &str) -> Option<IpNet> {
    let t = text.trim();
    if let Ok(n) = t.parse::<IpNet>() {
        return Some(n);
    }
    t.parse::<IpAddr>().ok().map(IpNet::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextValue;

    fn cond(op: &str, key: &str, values: &[&str]) -> CompiledCondition {
        let entry = ConditionEntry {
            operator: Operator::parse(op).unwrap(),
            operator_text: op.to_string(),
            key: key.to_string(),
            values: values.iter().map(|s| s.to_string()).collect(),
        };
        CompiledCondition::compile(&entry, PolicyVersion::V2012)
    }

    fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
        let mut c = RequestContext::new();
        for (k, v) in pairs {
            c.insert_single(k, *v);
        }
        c
    }

    proptest::proptest! {
        /// A value without a variable is compiled without its template: the same value as
        /// the template's (wildcards, escapes and `${` included), in both policy versions.
        #[test]
        fn values_without_variables_compile_as_their_template(
            text in "[a*?$ {}:/é-]{0,12}",
            wildcards: bool,
            lowercase: bool,
            v2012: bool,
        ) {
            let version = if v2012 { PolicyVersion::V2012 } else { PolicyVersion::V2008 };
            let lowered = if lowercase { text.to_lowercase() } else { text.clone() };
            let direct = StrValue::new(&text, version, wildcards, lowercase);
            let templated = StrValue::of_template(&lowered, version, wildcards);
            proptest::prop_assert_eq!(format!("{direct:?}"), format!("{templated:?}"));
        }
    }

    /// The operator parser as first written: on a lower-cased copy of the text.
    fn parse_lowered(text: &str) -> Option<Operator> {
        let lower = text.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, lower.as_str())
        };
        let (if_exists, base_text) = match rest.strip_suffix("ifexists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = ALL_BASE
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(base_text))?;
        if base == B::Null && if_exists {
            return None;
        }
        Some(Operator {
            base,
            set,
            if_exists,
        })
    }

    proptest::proptest! {
        /// Operators are recognised in any case, with and without a set qualifier and
        /// `IfExists`, as on a lower-cased copy, and other texts (non-ASCII included) are not.
        #[test]
        fn operators_parse_as_on_a_lower_cased_copy(
            base in 0..ALL_BASE.len(),
            set in 0..4usize,
            if_exists: bool,
            flips in proptest::collection::vec(proptest::bool::ANY, 48),
            noise in "[a-zA-Z:é]{0,3}",
            noise_at in 0..3usize,
        ) {
            let mut text = String::new();
            text.push_str(["", "ForAllValues:", "ForAnyValue:", "forallvalue:"][set]);
            text.push_str(ALL_BASE[base].name());
            if if_exists {
                text.push_str("IfExists");
            }
            let mut text: String = text
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, &flip)| if flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect();
            match noise_at {
                0 => {}
                1 => text.insert_str(0, &noise),
                _ => text.push_str(&noise),
            }
            let parsed = Operator::parse(&text);
            let reference = parse_lowered(&text);
            proptest::prop_assert_eq!(parsed.map(|o| o.name()), reference.map(|o| o.name()));
        }
    }

    #[test]
    fn operator_names_round_trip() {
        for b in ALL_BASE {
            let op = Operator::parse(b.name()).unwrap();
            assert_eq!(op.base, *b);
        }
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.set, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
        assert_eq!(op.name(), "ForAnyValue:StringLikeIfExists");
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualsish").is_none());
    }

    #[test]
    fn missing_key_rules() {
        let empty = RequestContext::new();
        assert_eq!(
            cond("StringEquals", "k", &["a"]).evaluate(&empty),
            Some(false)
        );
        assert_eq!(
            cond("StringNotEquals", "k", &["a"]).evaluate(&empty),
            Some(true)
        );
        assert_eq!(
            cond("StringEqualsIfExists", "k", &["a"]).evaluate(&empty),
            Some(true)
        );
        assert_eq!(
            cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&empty),
            Some(true)
        );
        assert_eq!(cond("Null", "k", &["true"]).evaluate(&empty), Some(true));
        assert_eq!(cond("Null", "k", &["false"]).evaluate(&empty), Some(false));
        assert_eq!(
            cond("ForAllValues:StringEquals", "k", &["a"]).evaluate(&empty),
            Some(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "k", &["a"]).evaluate(&empty),
            Some(false)
        );
    }

    #[test]
    fn string_operators() {
        let c = ctx(&[("k", "Prod-DB")]);
        assert_eq!(
            cond("StringEquals", "k", &["prod-db"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("StringEquals", "K", &["x", "Prod-DB"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("StringEqualsIgnoreCase", "k", &["prod-db"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("StringNotEqualsIgnoreCase", "k", &["prod-db"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("StringLike", "k", &["Prod-*"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("StringLike", "k", &["prod-*"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("StringNotLike", "k", &["x*", "Prod-???"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("StringNotLike", "k", &["x*", "Prod-*"]).evaluate(&c),
            Some(false)
        );
        // StringEquals does not expand wildcards.
        assert_eq!(
            cond("StringEquals", "k", &["Prod-*"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("StringNotEquals", "k", &["a", "b"]).evaluate(&c),
            Some(true)
        );
    }

    #[test]
    fn numeric_date_bool_binary() {
        let c = ctx(&[
            ("n", "5"),
            ("d", "2024-06-01T00:00:00Z"),
            ("b", "TRUE"),
            ("bin", "QmluYXJ5"),
        ]);
        assert_eq!(
            cond("NumericLessThan", "n", &["10"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("NumericGreaterThanEquals", "n", &["5.0"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("NumericEquals", "n", &["abc"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("NumericNotEquals", "n", &["abc"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("NumericNotEquals", "n", &["4", "6"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("DateGreaterThan", "d", &["2024-01-01"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("DateLessThan", "d", &["2024-01-01T00:00:00+00:00"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("DateEquals", "d", &["1717200000"]).evaluate(&c),
            Some(true)
        );
        // The fast path agrees with the general parser.
        assert_eq!(
            fast_utc_date("2024-06-01T00:00:00Z"),
            Some(1_717_200_000_000)
        );
        assert_eq!(fast_utc_date("1969-12-31T23:59:59Z"), Some(-1000));
        assert_eq!(
            parse_date("2024-02-29T12:30:00.5Z"),
            Some(1_709_209_800_500)
        );
        assert_eq!(cond("Bool", "b", &["true"]).evaluate(&c), Some(true));
        assert_eq!(cond("Bool", "b", &["false"]).evaluate(&c), Some(false));
        assert_eq!(cond("Bool", "b", &["yes"]).evaluate(&c), Some(false));
        assert_eq!(
            cond("BinaryEquals", "bin", &["QmluYXJ5"]).evaluate(&c),
            Some(true)
        );
    }

    #[test]
    fn ip_addresses() {
        let c4 = ctx(&[("aws:SourceIp", "203.0.113.7")]);
        let c6 = ctx(&[("aws:SourceIp", "2001:db8::1")]);
        let bad = ctx(&[("aws:SourceIp", "not-an-ip")]);
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).evaluate(&c4),
            Some(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["203.0.113.7"]).evaluate(&c4),
            Some(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&c4),
            Some(false)
        );
        assert_eq!(
            cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&c4),
            Some(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).evaluate(&c6),
            Some(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&c6),
            Some(false)
        );
        assert_eq!(
            cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&c6),
            Some(true)
        );
        assert_eq!(
            cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&bad),
            Some(false)
        );
    }

    #[test]
    fn arn_operators() {
        let c = ctx(&[(
            "aws:SourceArn",
            "arn:aws:rds:us-east-1:111122223333:db:prod-1",
        )]);
        assert_eq!(
            cond(
                "ArnLike",
                "aws:SourceArn",
                &["arn:aws:rds:*:111122223333:db:prod-*"]
            )
            .evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("ArnEquals", "aws:SourceArn", &["arn:aws:rds:*:*:db:*"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond(
                "ArnLike",
                "aws:SourceArn",
                &["arn:aws:rds:*:222233334444:db:*"]
            )
            .evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond(
                "ArnNotLike",
                "aws:SourceArn",
                &["arn:aws:rds:*:222233334444:db:*"]
            )
            .evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("ArnLike", "aws:SourceArn", &["not-an-arn"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("ArnNotLike", "aws:SourceArn", &["not-an-arn"]).evaluate(&c),
            Some(false)
        );
    }

    #[test]
    fn set_operators() {
        let mut c = RequestContext::new();
        c.insert(
            "aws:TagKeys",
            ContextValue::Multi(vec!["env".into(), "team".into()]),
        );
        c.insert("empty", ContextValue::Multi(vec![]));
        let all = cond(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            &["env", "team", "x"],
        );
        assert_eq!(all.evaluate(&c), Some(true));
        let all2 = cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]);
        assert_eq!(all2.evaluate(&c), Some(false));
        let any = cond("ForAnyValue:StringEquals", "aws:TagKeys", &["team"]);
        assert_eq!(any.evaluate(&c), Some(true));
        let any_not = cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]);
        assert_eq!(any_not.evaluate(&c), Some(true));
        let all_not = cond("ForAllValues:StringNotEquals", "aws:TagKeys", &["env"]);
        assert_eq!(all_not.evaluate(&c), Some(false));
        assert_eq!(
            cond("ForAllValues:StringEquals", "empty", &["a"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "empty", &["a"]).evaluate(&c),
            Some(false)
        );
        // A single-valued operator on a multivalued key does not match, even negated.
        assert_eq!(
            cond("StringEquals", "aws:TagKeys", &["env"]).evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond("StringNotEquals", "aws:TagKeys", &["zzz"]).evaluate(&c),
            Some(false)
        );
        // A single value seen through a set operator is a one-element set.
        let single = ctx(&[("k", "a")]);
        assert_eq!(
            cond("ForAllValues:StringEquals", "k", &["a"]).evaluate(&single),
            Some(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "k", &["b"]).evaluate(&single),
            Some(false)
        );
    }

    #[test]
    fn variables_in_conditions() {
        let c = ctx(&[("aws:username", "alice"), ("s3:prefix", "home/alice/docs")]);
        assert_eq!(
            cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]).evaluate(&c),
            Some(true)
        );
        assert_eq!(
            cond(
                "StringNotLike",
                "s3:prefix",
                &["home/${aws:PrincipalTag/x}/*"]
            )
            .evaluate(&c),
            Some(false)
        );
        assert_eq!(
            cond(
                "StringLike",
                "s3:prefix",
                &["home/${aws:PrincipalTag/x, 'alice'}/*"]
            )
            .evaluate(&c),
            Some(true)
        );
    }

    #[test]
    fn unknown_keys_are_symbolic() {
        let c = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]).evaluate(&c),
            None
        );
        assert_eq!(cond("Null", "aws:SourceIp", &["true"]).evaluate(&c), None);
    }
}
