//! Key, trail and identity detections: KMS key disable/deletion/policy changes, CloudTrail
//! tampering, console sign-in without MFA, root user activity.

use rdsguard_findings::Severity;
use serde_json::Value;

use super::{Det, Hit};
use crate::event::{EventView, as_text, is_false};

fn key_target(ev: &EventView<'_>) -> (String, Option<String>) {
    let req = ev.request();
    let resp = ev.response();
    let id = req
        .and_then(|r| as_text(r.get("keyId")))
        .unwrap_or_else(|| "unknown".into());
    let arn = resp
        .and_then(|r| as_text(r.get("keyId")))
        .filter(|k| k.starts_with("arn:"))
        .or_else(|| id.starts_with("arn:").then(|| id.clone()));
    (id, arn)
}

pub(crate) fn kms(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let det = match name {
        "DisableKey" => Det::KmsKeyDisabled,
        "ScheduleKeyDeletion" => Det::KmsKeyDeletionScheduled,
        "PutKeyPolicy" => Det::KmsKeyPolicyChanged,
        _ => return,
    };
    let (id, arn) = key_target(ev);
    let mut hit = match det {
        Det::KmsKeyDisabled => Hit::new(
            det,
            "AwsKmsKey",
            id.clone(),
            format!("KMS key {id} disabled"),
        ),
        Det::KmsKeyDeletionScheduled => {
            let days = ev
                .request()
                .and_then(|r| r.get("pendingWindowInDays"))
                .cloned()
                .unwrap_or(Value::Null);
            Hit::new(
                det,
                "AwsKmsKey",
                id.clone(),
                format!("KMS key {id} scheduled for deletion (waiting period {days} days)"),
            )
            .detail("pendingWindowInDays", days)
        }
        _ => {
            let public = ev
                .request()
                .and_then(|r| r.get("policy"))
                .is_some_and(policy_allows_anyone);
            let h = Hit::new(
                det,
                "AwsKmsKey",
                id.clone(),
                format!("policy of KMS key {id} changed"),
            );
            if public {
                h.severity(Severity::Critical)
                    .detail("wildcardPrincipalWithoutCondition", true)
            } else {
                h
            }
        }
    };
    hit = hit.arn(arn);
    out.push(hit);
}

/// A policy (object or JSON text) with an Allow statement for `*` and no Condition.
fn policy_allows_anyone(policy: &Value) -> bool {
    let parsed;
    let policy = match policy {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return false,
        },
        other => other,
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return false,
    };
    statements.iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let anyone = match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(o)) => o.get("AWS").is_some_and(|a| match a {
                Value::String(p) => p == "*",
                Value::Array(ps) => ps.iter().any(|p| p.as_str() == Some("*")),
                _ => false,
            }),
            _ => false,
        };
        allow && anyone && s.get("Condition").is_none()
    })
}

pub(crate) fn cloudtrail(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    if !matches!(
        name,
        "StopLogging" | "DeleteTrail" | "UpdateTrail" | "PutEventSelectors"
    ) {
        return;
    }
    let req = ev.request();
    let trail = req
        .and_then(|r| as_text(r.get("name")).or_else(|| as_text(r.get("trailName"))))
        .unwrap_or_else(|| "unknown".into());
    let trail_id = trail.rsplit('/').next().unwrap_or(&trail).to_string();
    let arn = trail.starts_with("arn:").then(|| trail.clone());
    match name {
        "StopLogging" | "DeleteTrail" => {
            let what = if name == "StopLogging" {
                "logging stopped"
            } else {
                "deleted"
            };
            out.push(
                Hit::new(
                    Det::CloudTrailStopped,
                    "AwsCloudTrailTrail",
                    trail_id.clone(),
                    format!("trail {trail_id} {what} ({name})"),
                )
                .arn(arn),
            );
        }
        "UpdateTrail" => out.push(
            Hit::new(
                Det::CloudTrailModified,
                "AwsCloudTrailTrail",
                trail_id.clone(),
                format!("trail {trail_id} updated (UpdateTrail)"),
            )
            .arn(arn),
        ),
        "PutEventSelectors" => {
            let selectors = req
                .and_then(|r| r.get("eventSelectors"))
                .and_then(Value::as_array);
            let weakened = selectors.is_some_and(|sels| {
                sels.iter().any(|s| {
                    is_false(s.get("includeManagementEvents"))
                        || s.get("readWriteType")
                            .and_then(Value::as_str)
                            .is_some_and(|rw| rw == "ReadOnly")
                })
            });
            let mut hit = Hit::new(
                Det::CloudTrailModified,
                "AwsCloudTrailTrail",
                trail_id.clone(),
                if weakened {
                    format!("event selectors of trail {trail_id} changed to exclude management or write events")
                } else {
                    format!("event selectors of trail {trail_id} changed")
                },
            )
            .arn(arn);
            if weakened {
                hit = hit.severity(Severity::High);
            }
            if let Some(s) = selectors {
                hit = hit.detail("eventSelectors", Value::Array(s.clone()));
            }
            out.push(hit);
        }
        _ => {}
    }
}

pub(crate) fn console_login(ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let success = ev
        .response()
        .and_then(|r| as_text(r.get("ConsoleLogin")))
        .is_some_and(|s| s.eq_ignore_ascii_case("success"));
    if !success {
        return;
    }
    let mfa = ev.additional_text("MFAUsed");
    if !mfa.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("no")) {
        return;
    }
    let kind = ev
        .identity_type()
        .map(|c| c.into_owned())
        .unwrap_or_default();
    // Federated sign-ins carry MFAUsed=No; the identity provider enforces MFA for them.
    if matches!(
        kind.as_str(),
        "AssumedRole" | "FederatedUser" | "SAMLUser" | "WebIdentityUser" | "IdentityCenterUser"
    ) || ev.additional_text("SamlProviderArn").is_some()
    {
        return;
    }
    let principal = ev.principal().into_owned();
    let root = kind == "Root";
    let mut hit = Hit::new(
        Det::ConsoleLoginWithoutMfa,
        "AwsIamPrincipal",
        principal.clone(),
        format!(
            "{} signed in to the console without MFA",
            if root {
                "root user"
            } else {
                principal.as_str()
            }
        ),
    )
    .detail("MFAUsed", mfa.unwrap_or_default());
    if root {
        hit = hit.severity(Severity::High);
    }
    out.push(hit);
}

pub(crate) fn root_activity(ev: &EventView<'_>, out: &mut Vec<Hit>) {
    if ev.identity_type().as_deref() != Some("Root") {
        return;
    }
    if ev.invoked_by().is_some() || ev.event_type().as_deref() == Some("AwsServiceEvent") {
        return;
    }
    let account = ev
        .identity_account()
        .or_else(|| ev.recipient_account())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| "unknown".into());
    let name = ev.event_name().map(|c| c.into_owned()).unwrap_or_default();
    out.push(Hit::new(
        Det::RootActivity,
        "AwsAccount",
        account.clone(),
        format!("root user of account {account} called {name}"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcard_policies() {
        let open = json!({"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]});
        assert!(policy_allows_anyone(&open));
        assert!(policy_allows_anyone(&Value::String(open.to_string())));
        let cond = json!({"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Condition":{"StringEquals":{"kms:CallerAccount":"1"}}}]});
        assert!(!policy_allows_anyone(&cond));
        let scoped =
            json!({"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"]}}});
        assert!(!policy_allows_anyone(&scoped));
        assert!(!policy_allows_anyone(&json!("not json")));
    }
}
