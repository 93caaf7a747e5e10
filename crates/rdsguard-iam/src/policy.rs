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
use serde_json::{Map, Value};

use crate::condition::Operator;
use crate::error::ParseError;

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
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ParseError::new("$", format!("not valid JSON: {e}")))?;
        PolicyDocument::from_value(&value)
    }

    /// Parse an already-decoded JSON value.
    pub fn from_value(value: &Value) -> Result<PolicyDocument, ParseError> {
        let obj = value
            .as_object()
            .ok_or_else(|| ParseError::new("$", "a policy document must be a JSON object"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                let path = if key.is_empty() {
                    "$[\"\"]"
                } else {
                    key.as_str()
                };
                return Err(ParseError::new(
                    path.to_string(),
                    "unknown policy element (expected Version, Id, Statement)",
                ));
            }
        }
        let version = match obj.get("Version") {
            None => PolicyVersion::V2008,
            Some(Value::String(v)) if v == "2012-10-17" => PolicyVersion::V2012,
            Some(Value::String(v)) if v == "2008-10-17" => PolicyVersion::V2008,
            Some(other) => {
                return Err(ParseError::new(
                    "Version",
                    format!("must be \"2012-10-17\" or \"2008-10-17\", got {other}"),
                ));
            }
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(ParseError::new("Id", "must be a string")),
        };
        let statements = match obj.get("Statement") {
            None => return Err(ParseError::new("Statement", "is required")),
            Some(Value::Object(m)) => vec![parse_statement(m, 0, &"Statement")?],
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let path = format_args!("Statement[{i}]");
                    let m = item.as_object().ok_or_else(|| {
                        ParseError::new(path.to_string(), "a statement must be an object")
                    })?;
                    out.push(parse_statement(m, i, &path)?);
                }
                out
            }
            Some(_) => {
                return Err(ParseError::new(
                    "Statement",
                    "must be an object or an array of objects",
                ));
            }
        };
        Ok(PolicyDocument {
            version,
            id,
            statements,
        })
    }
}

fn parse_statement(
    m: &Map<String, Value>,
    index: usize,
    path: &dyn Display,
) -> Result<Statement, ParseError> {
    for key in m.keys() {
        if !matches!(
            key.as_str(),
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
    let sid = match m.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ParseError::new(format!("{path}.Sid"), "must be a string")),
    };
    let effect = match m.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(ParseError::new(
                format!("{path}.Effect"),
                format!("must be \"Allow\" or \"Deny\", got {other}"),
            ));
        }
        None => return Err(ParseError::new(format!("{path}.Effect"), "is required")),
    };
    let action = match (m.get("Action"), m.get("NotAction")) {
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
    let resource = match (m.get("Resource"), m.get("NotResource")) {
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
    let principal = match (m.get("Principal"), m.get("NotPrincipal")) {
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
    let conditions = match m.get("Condition") {
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
fn string_list(v: &Value, path: &dyn Display) -> Result<Vec<String>, ParseError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(ParseError::new(
                    path.to_string(),
                    "must not be an empty array",
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(ParseError::new(format!("{path}[{i}]"), "must be a string")),
                })
                .collect()
        }
        _ => Err(ParseError::new(
            path.to_string(),
            "must be a string or an array of strings",
        )),
    }
}

/// Actions are `*` or `service:ActionPattern` (IAM User Guide, *IAM JSON policy elements:
/// Action*: "the service namespace ... followed by the action name").
fn parse_actions(v: &Value, path: &dyn Display) -> Result<Vec<String>, ParseError> {
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

fn parse_principals(v: &Value, path: &dyn Display) -> Result<Vec<PrincipalValue>, ParseError> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![PrincipalValue::Wildcard]),
        Value::String(_) => Err(ParseError::new(
            path.to_string(),
            "a string principal must be \"*\"; use {\"AWS\": ...} or {\"Service\": ...}",
        )),
        Value::Object(m) => {
            if m.is_empty() {
                return Err(ParseError::new(path.to_string(), "must not be empty"));
            }
            let mut out = Vec::new();
            for (kind, vals) in m {
                let p = format_args!("{path}.{kind}");
                let list = string_list(vals, &p)?;
                for s in list {
                    out.push(match kind.as_str() {
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
        _ => Err(ParseError::new(
            path.to_string(),
            "must be \"*\" or an object",
        )),
    }
}

/// Condition values may be written as strings, numbers or booleans (AWS accepts
/// `"aws:SecureTransport": false`); they are compared as their string form.
fn condition_values(v: &Value, path: &dyn Display) -> Result<Vec<String>, ParseError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(ParseError::new(
                    path.to_string(),
                    "must not be an empty array",
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    scalar(item).ok_or_else(|| {
                        ParseError::new(
                            format!("{path}[{i}]"),
                            "must be a string, number or boolean",
                        )
                    })
                })
                .collect()
        }
        other => scalar(other).map(|s| vec![s]).ok_or_else(|| {
            ParseError::new(
                path.to_string(),
                "must be a string, number, boolean or an array of them",
            )
        }),
    }
}

fn parse_conditions(v: &Value, path: &dyn Display) -> Result<Vec<ConditionEntry>, ParseError> {
    let ops = v.as_object().ok_or_else(|| {
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
        let keys = block.as_object().ok_or_else(|| {
            ParseError::new(op_path.to_string(), "must be an object of condition keys")
        })?;
        if keys.is_empty() {
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
                operator_text: op_text.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
