//! The batch simulator behind `rdsguard iam simulate --requests requests.jsonl`: one JSON
//! request per line, one JSON answer per line; a bad line gets an error answer and the batch
//! goes on.
//!
//! Request line:
//! ```json
//! {"id": 1,
//!  "identityPolicies": [doc, ...], "permissionBoundaries": [doc, ...],
//!  "scps": [doc, ...]            (one level)  or  "scpLevels": [[doc, ...], ...] (root first),
//!  "rcps": [doc, ...]            or  "rcpLevels": [[doc, ...], ...],
//!  "sessionPolicy": doc | null, "resourcePolicy": doc | null,
//!  "request": {"principal": "arn:aws:iam::111122223333:user/alice",
//!              "action": "rds:CreateDBInstance",
//!              "resource": "arn:aws:rds:us-east-1:111122223333:db:prod",
//!              "resourceAccount": "111122223333" (optional),
//!              "context": {"aws:SourceIp": "1.2.3.4", "aws:TagKeys": ["a", "b"]}}}
//! ```
//! A `doc` is a policy object or a string holding one. Answer line:
//! `{"id": 1, "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | null, "error": null | "message"}`.

use serde::Serialize;
use serde_json::Value;

use crate::compile::{CompiledPolicy, PolicyKind};
use crate::context::{
    ContextValue, PrincipalKind, RequestAction, RequestPrincipal, RequestResource,
};
use crate::error::RequestError;
use crate::eval::{Decision, PolicySet, Request, evaluate};
use crate::sar;

#[derive(Debug, Serialize)]
struct Answer<'a> {
    id: &'a Value,
    decision: Option<Decision>,
    error: Option<String>,
}

/// Evaluate one request line; always returns one JSON line (without the newline).
pub fn simulate_line(json_line: &str) -> String {
    let parsed: Result<Value, _> = serde_json::from_str(json_line);
    let null = Value::Null;
    let (id, result) = match &parsed {
        Ok(v) => (v.get("id").unwrap_or(&null), simulate_value(v)),
        Err(e) => (
            &null,
            Err(RequestError::Invalid(format!("not valid JSON: {e}"))),
        ),
    };
    let answer = match result {
        Ok(d) => Answer {
            id,
            decision: Some(d),
            error: None,
        },
        Err(e) => Answer {
            id,
            decision: None,
            error: Some(e.to_string()),
        },
    };
    serde_json::to_string(&answer).unwrap_or_else(|e| {
        format!("{{\"id\":null,\"decision\":null,\"error\":\"cannot encode answer: {e}\"}}")
    })
}

/// Evaluate one request given as a JSON value.
pub fn simulate_value(v: &Value) -> Result<Decision, RequestError> {
    let obj = v
        .as_object()
        .ok_or_else(|| RequestError::Invalid("a request line must be a JSON object".into()))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "id" | "identityPolicies"
                | "permissionBoundaries"
                | "scps"
                | "scpLevels"
                | "rcps"
                | "rcpLevels"
                | "sessionPolicy"
                | "resourcePolicy"
                | "request"
        ) {
            return Err(RequestError::Invalid(format!("unknown field `{k}`")));
        }
    }
    let identity = policy_list(
        obj.get("identityPolicies"),
        "identityPolicies",
        PolicyKind::Identity,
    )?;
    let boundaries = policy_list(
        obj.get("permissionBoundaries"),
        "permissionBoundaries",
        PolicyKind::PermissionBoundary,
    )?;
    let scp_levels = levels(obj, "scps", "scpLevels", PolicyKind::Scp)?;
    let rcp_levels = levels(obj, "rcps", "rcpLevels", PolicyKind::Rcp)?;
    let session = optional_policy(
        obj.get("sessionPolicy"),
        "sessionPolicy",
        PolicyKind::Session,
    )?;
    let resource_policy = optional_policy(
        obj.get("resourcePolicy"),
        "resourcePolicy",
        PolicyKind::Resource,
    )?;

    let req = obj
        .get("request")
        .and_then(Value::as_object)
        .ok_or_else(|| RequestError::Invalid("`request` (an object) is required".into()))?;
    let field = |name: &str| -> Result<&str, RequestError> {
        req.get(name).and_then(Value::as_str).ok_or_else(|| {
            RequestError::Invalid(format!("`request.{name}` (a string) is required"))
        })
    };
    let principal = RequestPrincipal::parse(field("principal")?)?;
    let action_text = field("action")?;
    let resource_text = field("resource")?;
    let validated = sar::reference()?.validate(action_text, resource_text)?;
    let action = RequestAction::parse(action_text)?;
    let resource_account = match req.get("resourceAccount") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(RequestError::Invalid(
                "`request.resourceAccount` must be a string".into(),
            ));
        }
    };
    let mut resource = RequestResource::parse(resource_text, resource_account)?;
    if resource.account.is_none() {
        resource.account = principal.account.clone();
    }
    if session.is_some()
        && !matches!(
            principal.kind,
            PrincipalKind::Role | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
        )
    {
        return Err(RequestError::SessionPolicyNotApplicable(
            principal.arn.clone(),
        ));
    }
    let given = context_values(req.get("context"))?;
    let (context, _ignored) = validated.normalize_context(&given);

    let set = PolicySet {
        identity: identity.iter().collect(),
        permission_boundaries: boundaries.iter().collect(),
        session: session.as_ref(),
        scp_levels: scp_levels.iter().map(|l| l.iter().collect()).collect(),
        rcp_levels: rcp_levels.iter().map(|l| l.iter().collect()).collect(),
        resource: resource_policy.as_ref(),
    };
    Ok(evaluate(
        &set,
        &Request {
            principal: &principal,
            action: &action,
            resource: &resource,
            context: &context,
        },
    ))
}

fn compile_doc(v: &Value, name: &str, kind: PolicyKind) -> Result<CompiledPolicy, RequestError> {
    let parsed;
    let doc = match v {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| {
                RequestError::Invalid(format!("{name}: policy text is not valid JSON: {e}"))
            })?;
            &parsed
        }
        other => other,
    };
    let d = crate::policy::PolicyDocument::from_value(doc).map_err(|e| e.within(name))?;
    Ok(CompiledPolicy::compile(name, kind, d).map_err(|e| e.within(name))?)
}

fn policy_list(
    v: Option<&Value>,
    name: &str,
    kind: PolicyKind,
) -> Result<Vec<CompiledPolicy>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, d)| compile_doc(d, &format!("{name}[{i}]"), kind))
            .collect(),
        Some(_) => Err(RequestError::Invalid(format!(
            "`{name}` must be an array of policies"
        ))),
    }
}

fn optional_policy(
    v: Option<&Value>,
    name: &str,
    kind: PolicyKind,
) -> Result<Option<CompiledPolicy>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(d) => compile_doc(d, name, kind).map(Some),
    }
}

fn levels(
    obj: &serde_json::Map<String, Value>,
    flat: &str,
    nested: &str,
    kind: PolicyKind,
) -> Result<Vec<Vec<CompiledPolicy>>, RequestError> {
    match (obj.get(flat), obj.get(nested)) {
        (Some(f), Some(n)) if !f.is_null() && !n.is_null() => Err(RequestError::Invalid(format!(
            "give `{flat}` or `{nested}`, not both"
        ))),
        (Some(f), _) if !f.is_null() => Ok(vec![policy_list(Some(f), flat, kind)?]),
        (_, Some(Value::Array(ls))) => ls
            .iter()
            .enumerate()
            .map(|(i, l)| policy_list(Some(l), &format!("{nested}[{i}]"), kind))
            .collect(),
        (_, None) | (_, Some(Value::Null)) => Ok(Vec::new()),
        (_, Some(_)) => Err(RequestError::Invalid(format!(
            "`{nested}` must be an array of arrays of policies"
        ))),
    }
}

/// Context values: strings, numbers and booleans (as their text), or arrays of them.
pub fn context_values(v: Option<&Value>) -> Result<Vec<(String, ContextValue)>, RequestError> {
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Array(items) => ContextValue::Multi(
                        items
                            .iter()
                            .map(|i| {
                                scalar(i).ok_or_else(|| {
                                    RequestError::Invalid(format!(
                                        "context `{k}`: values must be strings, numbers or booleans"
                                    ))
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    other => ContextValue::Single(scalar(other).ok_or_else(|| {
                        RequestError::Invalid(format!(
                            "context `{k}`: value must be a string, number, boolean or array"
                        ))
                    })?),
                };
                Ok((k.clone(), value))
            })
            .collect(),
        Some(_) => Err(RequestError::Invalid(
            "`request.context` must be an object".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(line: &str) -> Value {
        serde_json::from_str(&simulate_line(line)).unwrap()
    }

    const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:prod";

    #[test]
    fn allowed_and_denied_lines() {
        let allow = format!(
            r#"{{"id":1,"identityPolicies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"rds:*","Resource":"*"}}}}],"request":{{"principal":"arn:aws:iam::111122223333:user/alice","action":"rds:DeleteDBInstance","resource":"{DB}"}}}}"#
        );
        let a = decision(&allow);
        assert_eq!(a["id"], 1);
        assert_eq!(a["decision"], "Allowed");
        assert!(a["error"].is_null());

        let deny = allow.replace(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds:*","Resource":"*"}}]"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds:*","Resource":"*"}},"{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"rds:Delete*\",\"Resource\":\"*\"}}"]"#,
        );
        assert_eq!(decision(&deny)["decision"], "ExplicitlyDenied");

        let none = format!(
            r#"{{"id":"x","request":{{"principal":"arn:aws:iam::111122223333:user/alice","action":"rds:DeleteDBInstance","resource":"{DB}"}}}}"#
        );
        assert_eq!(decision(&none)["decision"], "ImplicitlyDenied");
    }

    #[test]
    fn scp_levels_must_all_allow() {
        let line = format!(
            r#"{{"id":2,"identityPolicies":[{{"Statement":{{"Effect":"Allow","Action":"rds:*","Resource":"*"}}}}],
            "scpLevels":[[{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"*"}}}}],[{{"Statement":{{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}}}]],
            "request":{{"principal":"arn:aws:iam::111122223333:user/alice","action":"rds:DeleteDBInstance","resource":"{DB}"}}}}"#
        )
        .replace('\n', "");
        assert_eq!(decision(&line)["decision"], "ImplicitlyDenied");
    }

    #[test]
    fn bad_lines_get_error_answers() {
        let e = decision("{not json");
        assert!(e["decision"].is_null());
        assert!(e["error"].as_str().unwrap().contains("not valid JSON"));
        let e = decision(
            r#"{"id":3,"identityPolicies":[{"Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"Bogus":{"a":"b"}}}]}],"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"rds:DeleteDBInstance","resource":"arn:aws:rds:us-east-1:111122223333:db:x"}}"#,
        );
        assert_eq!(e["id"], 3);
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains("identityPolicies[0].Statement[0].Condition.Bogus"),
            "{e}"
        );
        let e = decision(
            r#"{"id":4,"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"rds:NoSuchAction","resource":"*"}}"#,
        );
        assert!(e["error"].as_str().unwrap().contains("unknown action"));
        let e = decision(
            r#"{"id":5,"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"rds:DeleteDBInstance","resource":"arn:aws:rds:us-east-1:111122223333:snapshot:s"}}"#,
        );
        assert!(e["error"].as_str().unwrap().contains("not a resource type"));
    }
}
