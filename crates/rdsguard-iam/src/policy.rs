//! Policy documents: the JSON grammar of IAM policies, parsed faithfully into a typed document.
//!
//! Grammar (IAM User Guide, *IAM JSON policy element reference* and *Grammar of the IAM JSON
//! policy language*): a document has `Version`, optional `Id` and `Statement` (one object or an
//! array). A statement has optional `Sid`, `Effect` (`Allow`/`Deny`), exactly one of
//! `Action`/`NotAction`, at most one of `Resource`/`NotResource`, at most one of
//! `Principal`/`NotPrincipal`, and optional `Condition`. Every list-valued field accepts a
//! single string or an array.
//!
//! Malformed input never panics: every error carries the JSON path of the offending element
//! (e.g. `Statement[2].Condition.StringEquals`).

use std::fmt::Display;

use serde::Serialize;
use serde_json::Value;

use crate::condition::Operator;
use crate::error::ParseError;
use crate::json_tree::{Borrowed, Json};

/// `Version`. AWS: "If you do not include a Version element, the value defaults to
/// 2008-10-17"; policy variables are only substituted under 2012-10-17 (IAM User Guide,
/// *IAM JSON policy elements: Version*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyVersion {
    #[serde(rename = "2012-10-17")]
    V2012,
    #[serde(rename = "2008-10-17")]
    V2008,
}

impl PolicyVersion {
    /// Whether `${...}` policy variables are substituted.
    pub fn supports_variables(self) -> bool {
        self == PolicyVersion::V2012
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: the values and whether they are negated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueBlock {
    pub negated: bool,
    pub values: Vec<String>,
}

/// One principal of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PrincipalValue {
    /// `"Principal": "*"` or `{"AWS": "*"}`: everyone (anonymous included for the bare `*`).
    Wildcard,
    /// An account id, account root ARN, user, role, assumed-role session or federated user ARN.
    Aws(String),
    /// A service principal, e.g. `rds.amazonaws.com`.
    Service(String),
    /// A SAML or OIDC provider.
    Federated(String),
    /// An S3 canonical user id.
    CanonicalUser(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub principals: Vec<PrincipalValue>,
}

/// One `operator: {key: values}` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionEntry {
    pub operator: Operator,
    /// The operator as written in the policy (for explanations).
    pub operator_text: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// Position in the `Statement` array (0 when the statement is a single object).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalBlock>,
    pub action: ValueBlock,
    /// `None` when the statement has neither `Resource` nor `NotResource` (trust policies).
    pub resource: Option<ValueBlock>,
    pub conditions: Vec<ConditionEntry>,
}

impl Statement {
    /// `Sid` when present, else `#<index>`: how explanations name a statement.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => s.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    pub version: PolicyVersion,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parse JSON text.
    pub fn parse(text: &str) -> Result<PolicyDocument, ParseError> {
        // Read without copying every string first; any error is reported from the `Value`
        // reading, which words it (the two readings agree on every document).
        if let Ok(tree) = Borrowed::parse(text)
            && let Ok(doc) = document(&tree)
        {
            return Ok(doc);
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ParseError::new("$", format!("not valid JSON: {e}")))?;
        PolicyDocument::from_value(&value)
    }

    /// Parse an already-decoded JSON value.
    pub fn from_value(value: &Value) -> Result<PolicyDocument, ParseError> {
        document(value)
    }
}

fn document<V: Json>(value: &V) -> Result<PolicyDocument, ParseError> {
    let obj = value
        .members()
        .ok_or_else(|| ParseError::new("$", "a policy document must be a JSON object"))?;
    for (key, _) in obj {
        if !matches!(key, "Version" | "Id" | "Statement") {
            let path = if key.is_empty() { "$[\"\"]" } else { key };
            return Err(ParseError::new(
                path.to_string(),
                "unknown policy element (expected Version, Id, Statement)",
            ));
        }
    }
    let version = match value.member("Version") {
        None => PolicyVersion::V2008,
        Some(v) if v.as_str() == Some("2012-10-17") => PolicyVersion::V2012,
        Some(v) if v.as_str() == Some("2008-10-17") => PolicyVersion::V2008,
        Some(other) => {
            return Err(ParseError::new(
                "Version",
                format!(
                    "must be \"2012-10-17\" or \"2008-10-17\", got {}",
                    other.render()
                ),
            ));
        }
    };
    let id = match value.member("Id") {
        None => None,
        Some(v) => match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => return Err(ParseError::new("Id", "must be a string")),
        },
    };
    let statements = match value.member("Statement") {
        None => return Err(ParseError::new("Statement", "is required")),
        Some(v) if v.object_len().is_some() => vec![parse_statement(v, 0, &"Statement")?],
        Some(v) => match v.as_array() {
            Some(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let path = format_args!("Statement[{i}]");
                    if item.object_len().is_none() {
                        return Err(ParseError::new(
                            path.to_string(),
                            "a statement must be an object",
                        ));
                    }
                    out.push(parse_statement(item, i, &path)?);
                }
                out
            }
            None => {
                return Err(ParseError::new(
                    "Statement",
                    "must be an object or an array of objects",
                ));
            }
        },
    };
    Ok(PolicyDocument {
        version,
        id,
        statements,
    })
}

/// Statement `m` (an object) at `index`.
fn parse_statement<V: Json>(
    m: &V,
    index: usize,
    path: &dyn Display,
) -> Result<Statement, ParseError> {
    for (key, _) in m.members().into_iter().flatten() {
        if !matches!(
            key,
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(ParseError::new(
                format!("{path}.{key}"),
                "unknown statement element",
            ));
        }
    }
    let sid = match m.member("Sid") {
        None => None,
        Some(v) => match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => return Err(ParseError::new(format!("{path}.Sid"), "must be a string")),
        },
    };
    let effect = match m.member("Effect") {
        Some(e) if e.as_str() == Some("Allow") => Effect::Allow,
        Some(e) if e.as_str() == Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(ParseError::new(
                format!("{path}.Effect"),
                format!("must be \"Allow\" or \"Deny\", got {}", other.render()),
            ));
        }
        None => return Err(ParseError::new(format!("{path}.Effect"), "is required")),
    };
    let action = match (m.member("Action"), m.member("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                path.to_string(),
                "has both Action and NotAction; use one",
            ));
        }
        (None, None) => {
            return Err(ParseError::new(
                path.to_string(),
                "needs Action or NotAction",
            ));
        }
        (Some(v), None) => ValueBlock {
            negated: false,
            values: parse_actions(v, &format_args!("{path}.Action"))?,
        },
        (None, Some(v)) => ValueBlock {
            negated: true,
            values: parse_actions(v, &format_args!("{path}.NotAction"))?,
        },
    };
    let resource = match (m.member("Resource"), m.member("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                path.to_string(),
                "has both Resource and NotResource; use one",
            ));
        }
        (None, None) => None,
        (Some(v), None) => Some(ValueBlock {
            negated: false,
            values: string_list(v, &format_args!("{path}.Resource"))?,
        }),
        (None, Some(v)) => Some(ValueBlock {
            negated: true,
            values: string_list(v, &format_args!("{path}.NotResource"))?,
        }),
    };
    let principal = match (m.member("Principal"), m.member("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                path.to_string(),
                "has both Principal and NotPrincipal; use one",
            ));
        }
        (None, None) => None,
        (Some(v), None) => Some(PrincipalBlock {
            negated: false,
            principals: parse_principals(v, &format_args!("{path}.Principal"))?,
        }),
        (None, Some(v)) => Some(PrincipalBlock {
            negated: true,
            principals: parse_principals(v, &format_args!("{path}.NotPrincipal"))?,
        }),
    };
    let conditions = match m.member("Condition") {
        None => Vec::new(),
        Some(v) => parse_conditions(v, &format_args!("{path}.Condition"))?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a non-empty array of strings.
fn string_list<V: Json>(v: &V, path: &dyn Display) -> Result<Vec<String>, ParseError> {
    if let Some(s) = v.as_str() {
        return Ok(vec![s.to_string()]);
    }
    let Some(items) = v.as_array() else {
        return Err(ParseError::new(
            path.to_string(),
            "must be a string or an array of strings",
        ));
    };
    non_empty_items(items, path, "must be a string", |item| {
        item.as_str().map(str::to_string)
    })
}

/// Each of `items` (a non-empty array at `path`) read by `read`, or the error naming the
/// first that is not what it `must_be`.
fn non_empty_items<V: Json, T>(
    items: &[V],
    path: &dyn Display,
    must_be: &str,
    read: impl Fn(&V) -> Option<T>,
) -> Result<Vec<T>, ParseError> {
    if items.is_empty() {
        return Err(ParseError::new(
            path.to_string(),
            "must not be an empty array",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item).ok_or_else(|| ParseError::new(format!("{path}[{i}]"), must_be)))
        .collect()
}

/// Actions are `*` or `service:ActionPattern` (IAM User Guide, *IAM JSON policy elements:
/// Action*: "the service namespace ... followed by the action name").
fn parse_actions<V: Json>(v: &V, path: &dyn Display) -> Result<Vec<String>, ParseError> {
    let values = string_list(v, path)?;
    for (i, a) in values.iter().enumerate() {
        if a == "*" {
            continue;
        }
        match a.split_once(':') {
            Some((svc, name))
                if !svc.is_empty()
                    && !name.is_empty()
                    && !name.contains(':')
                    && svc
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                if name.chars().any(char::is_whitespace) {
                    return Err(ParseError::new(
                        format!("{path}[{i}]"),
                        format!("action `{a}` contains whitespace"),
                    ));
                }
            }
            _ => {
                return Err(ParseError::new(
                    format!("{path}[{i}]"),
                    format!("action `{a}` is not `*` or `service:Action`"),
                ));
            }
        }
    }
    Ok(values)
}

fn parse_principals<V: Json>(v: &V, path: &dyn Display) -> Result<Vec<PrincipalValue>, ParseError> {
    if let Some(s) = v.as_str() {
        if s == "*" {
            return Ok(vec![PrincipalValue::Wildcard]);
        }
        return Err(ParseError::new(
            path.to_string(),
            "a string principal must be \"*\"; use {\"AWS\": ...} or {\"Service\": ...}",
        ));
    }
    let Some(members) = v.members() else {
        return Err(ParseError::new(
            path.to_string(),
            "must be \"*\" or an object",
        ));
    };
    if v.object_len() == Some(0) {
        return Err(ParseError::new(path.to_string(), "must not be empty"));
    }
    let mut out = Vec::new();
    for (kind, vals) in members {
        let p = format_args!("{path}.{kind}");
        let list = string_list(vals, &p)?;
        for s in list {
            out.push(match kind {
                "AWS" if s == "*" => PrincipalValue::Wildcard,
                "AWS" => PrincipalValue::Aws(s),
                "Service" => PrincipalValue::Service(s),
                "Federated" => PrincipalValue::Federated(s),
                "CanonicalUser" => PrincipalValue::CanonicalUser(s),
                _ => {
                    return Err(ParseError::new(
                        p.to_string(),
                        "unknown principal type (expected AWS, Service, Federated, CanonicalUser)",
                    ));
                }
            });
        }
    }
    Ok(out)
}

/// Condition values may be written as strings, numbers or booleans (AWS accepts
/// `"aws:SecureTransport": false`); they are compared as their string form.
fn condition_values<V: Json>(v: &V, path: &dyn Display) -> Result<Vec<String>, ParseError> {
    let Some(items) = v.as_array() else {
        return v.scalar_text().map(|s| vec![s]).ok_or_else(|| {
            ParseError::new(
                path.to_string(),
                "must be a string, number, boolean or an array of them",
            )
        });
    };
    non_empty_items(
        items,
        path,
        "must be a string, number or boolean",
        Json::scalar_text,
    )
}

fn parse_conditions<V: Json>(v: &V, path: &dyn Display) -> Result<Vec<ConditionEntry>, ParseError> {
    let ops = v.members().ok_or_else(|| {
        ParseError::new(path.to_string(), "must be an object of condition operators")
    })?;
    let mut out = Vec::new();
    for (op_text, block) in ops {
        let op_path = format_args!("{path}.{op_text}");
        let operator = Operator::parse(op_text).ok_or_else(|| {
            ParseError::new(
                op_path.to_string(),
                format!("unknown condition operator `{op_text}`"),
            )
        })?;
        let keys = block.members().ok_or_else(|| {
            ParseError::new(op_path.to_string(), "must be an object of condition keys")
        })?;
        if block.object_len() == Some(0) {
            return Err(ParseError::new(op_path.to_string(), "must not be empty"));
        }
        for (key, vals) in keys {
            let key_path = format_args!("{op_path}.{key}");
            if key.is_empty() {
                return Err(ParseError::new(
                    key_path.to_string(),
                    "condition key must not be empty",
                ));
            }
            let values = condition_values(vals, &key_path)?;
            out.push(ConditionEntry {
                operator,
                operator_text: op_text.to_string(),
                key: key.to_string(),
                values,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Policy-shaped JSON: each element present or not, well or badly typed, repeated (the
    /// last one counts), with escapes.
    fn policy_text() -> impl Strategy<Value = String> {
        let field = |name: &'static str, values: &'static [&'static str]| {
            prop::sample::select(values).prop_map(move |v| format!("\"{name}\":{v}"))
        };
        let statement = prop::collection::vec(
            prop_oneof![
                field("Effect", &[r#""Allow""#, r#""Deny""#, "1", r#""allow""#]),
                field("Sid", &[r#""S1""#, r#""""#, "[]"]),
                field(
                    "Action",
                    &[
                        r#""rds:Delete*""#,
                        r#"["rds:A","kms:B"]"#,
                        "[]",
                        r#""x""#,
                        r#""k\u006ds:D""#,
                    ]
                ),
                field("NotAction", &[r#""iam:*""#]),
                field(
                    "Resource",
                    &[r#""*""#, r#"["arn:aws:rds:*:*:db:a*"]"#, "[1]"]
                ),
                field("NotResource", &[r#""arn:aws:s3:::b""#]),
                field(
                    "Principal",
                    &[
                        r#""*""#,
                        r#"{"AWS":"arn:aws:iam::1:root"}"#,
                        r#"{"Service":["rds.amazonaws.com"],"AWS":"*"}"#,
                        r#"{"Bogus":"x"}"#,
                        "{}",
                        r#""me""#,
                    ]
                ),
                field(
                    "Condition",
                    &[
                        r#"{"StringEquals":{"aws:a":"v"}}"#,
                        r#"{"Bool":{"aws:SecureTransport":false}}"#,
                        r#"{"NumericLessThan":{"k":[1,2.5,-3]}}"#,
                        r#"{"Nope":{"k":"v"}}"#,
                        r#"{"StringLike":{}}"#,
                        r#"{"StringEquals":{"k":null}}"#,
                    ]
                ),
                field("Extra", &["1"]),
            ],
            0..6,
        )
        .prop_map(|fields| format!("{{{}}}", fields.join(",")));
        let statements = prop_oneof![
            statement.clone(),
            prop::collection::vec(statement, 0..3).prop_map(|s| format!("[{}]", s.join(","))),
            Just("3".to_string()),
        ];
        (
            prop::sample::select(
                &[
                    "",
                    r#""Version":"2012-10-17","#,
                    r#""Version":"2008-10-17","#,
                    r#""Version":1,"#,
                ][..],
            ),
            prop::sample::select(&["", r#""Id":"x","#, r#""Id":2,"#, r#""Other":1,"#][..]),
            prop::option::of(statements),
        )
            .prop_map(|(version, id, statements)| match statements {
                Some(s) => format!("{{{version}{id}\"Statement\":{s}}}"),
                None => format!("{{{}}}", format!("{version}{id}").trim_end_matches(',')),
            })
    }

    proptest! {
        /// The borrowed reading gives the document the `Value` reading gives, and fails
        /// where it fails (its errors are then the `Value` reading's).
        #[test]
        fn both_readings_of_a_policy_agree(text in policy_text()) {
            let value: Value = serde_json::from_str(&text).unwrap();
            let tree = Borrowed::parse(&text).unwrap();
            let (by_value, by_tree) = (document(&value), document(&tree));
            match (&by_value, &by_tree) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(&a.path, &b.path),
                _ => prop_assert!(false, "{text}: {by_value:?} vs {by_tree:?}"),
            }
            prop_assert_eq!(PolicyDocument::parse(&text), by_value);
        }
    }

    #[test]
    fn parses_single_statement_object_and_string_fields() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(doc.version, PolicyVersion::V2012);
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].action.values, vec!["rds:*"]);
        assert!(!doc.statements[0].action.negated);
    }

    #[test]
    fn missing_version_defaults_to_2008() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(doc.version, PolicyVersion::V2008);
        assert!(doc.statements[0].action.negated);
        assert!(doc.statements[0].resource.as_ref().unwrap().negated);
    }

    #[test]
    fn errors_carry_paths() {
        let cases = [
            (r#"[]"#, "$"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"x:y"},{"Effect":"Maybe","Action":"a:b"}]}"#,
                "Statement[1].Effect",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"x:y","NotAction":"a:b"}}"#,
                "Statement",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"x:y","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
                "Statement[0].Condition.StringEqualz",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"x:y","Condition":{"StringEquals":{"a":null}}}]}"#,
                "Statement[0].Condition.StringEquals.a",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":["x:y",3]}]}"#,
                "Statement[0].Action[1]",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"nocolon"}]}"#,
                "Statement[0].Action[0]",
            ),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, "Version"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Principal":{"Bogus":"x"}}]}"#,
                "Statement[0].Principal.Bogus",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Extra":1}]}"#,
                "Statement[0].Extra",
            ),
            (r#"{"Version":"2012-10-17"}"#, "Statement"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":[]}]}"#,
                "Statement[0].Action",
            ),
        ];
        for (text, path) in cases {
            let err = PolicyDocument::parse(text).unwrap_err();
            assert_eq!(err.path, path, "{text}: {err}");
        }
    }

    #[test]
    fn principals_and_condition_scalars() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"],"Service":"rds.amazonaws.com"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"kms:GrantCount":[5,6.5]}}}]}"#,
        )
        .unwrap();
        let st = &doc.statements[0];
        let p = st.principal.as_ref().unwrap();
        assert!(p.principals.contains(&PrincipalValue::Wildcard));
        assert!(
            p.principals
                .contains(&PrincipalValue::Service("rds.amazonaws.com".into()))
        );
        assert_eq!(st.conditions.len(), 2);
        let bool_cond = st
            .conditions
            .iter()
            .find(|c| c.key == "aws:SecureTransport")
            .unwrap();
        assert_eq!(bool_cond.values, vec!["true"]);
        let num = st
            .conditions
            .iter()
            .find(|c| c.key == "kms:GrantCount")
            .unwrap();
        assert_eq!(num.values, vec!["5", "6.5"]);
    }
}
