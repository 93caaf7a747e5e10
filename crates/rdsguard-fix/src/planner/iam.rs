//! IAM remediation: the least-privilege, instance-specific policy `rdsguard iam policy`
//! generates (verified by the policy engine before it is planned), a user or role, and the
//! attachment. What exists already (same policy name, principal, attachment) is not planned
//! again.

use rdsguard_model::Snapshot;
use serde_json::json;

use super::{Builder, PlanError, aws_name};
use crate::options::{IamGrant, IamPrincipal};
use crate::plan::{Impact, Remediation, Step, placeholder};

pub(super) fn plan_grant(
    b: &mut Builder<'_>,
    snapshot: &Snapshot,
    grant: &IamGrant,
) -> Result<(), PlanError> {
    let arn = if grant.db.starts_with("arn:") {
        grant.db.clone()
    } else {
        rdsguard_iam::resolve_db(snapshot, &grant.db)
            .into_iter()
            .find(|d| d.resource_type == "db")
            .map(|d| d.arn)
            .ok_or_else(|| {
                PlanError::Iam(format!(
                    "no DB instance `{}` in the snapshot; pass its ARN instead",
                    grant.db
                ))
            })?
    };
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(partition), Some(account), Some(db_id)) = (parts.get(1), parts.get(4), parts.get(6))
    else {
        return Err(PlanError::Iam(format!("`{arn}` is not a DB instance ARN")));
    };
    let generated = rdsguard_iam::generate_policy(
        &grant.actions,
        &arn,
        grant.require_encryption,
        grant.kms_key.as_deref(),
    )
    .map_err(|e| PlanError::Iam(e.to_string()))?;
    if !generated.verified {
        return Err(PlanError::Iam(
            "the generated policy did not pass its own verification; see `rdsguard iam policy`"
                .to_string(),
        ));
    }
    let iam = snapshot
        .accounts
        .iter()
        .find(|a| a.account_id == *account)
        .and_then(|a| a.iam.as_ref());
    let policy_name = aws_name(&["rdsguard", db_id, "access"]);
    let policy_arn_literal = format!("arn:{partition}:iam::{account}:policy/{policy_name}");
    let existing_policy =
        iam.is_some_and(|i| i.policies.iter().any(|p| p.arn == policy_arn_literal));
    let step =
        |id: String, operation: &str, parameters: serde_json::Value, description: String| Step {
            id,
            remediation: Remediation::Iam,
            fixes: Vec::new(),
            account_id: account.to_string(),
            region: None,
            service: "iam".to_string(),
            operation: operation.to_string(),
            parameters,
            impact: Impact::None,
            description,
            preconditions: Vec::new(),
            verification: String::new(),
            rollback: String::new(),
            outputs: Vec::new(),
            wait: None,
        };
    let policy_ref = if existing_policy {
        policy_arn_literal.clone()
    } else {
        let mut s = step(
            format!("iam/{policy_name}/create-policy"),
            "CreatePolicy",
            json!({
                "PolicyName": policy_name,
                "PolicyDocument": serde_json::to_string(&generated.policy).unwrap_or_default(),
                "Description": format!("rdsguard: {} on {db_id} only", grant.actions.join(", ")),
                "Tags": [{"Key": "rdsguard:database", "Value": db_id}]
            }),
            format!(
                "Create the least-privilege policy {policy_name}: {} on {arn} only (verified by \
                 the policy engine)",
                grant.actions.join(", ")
            ),
        );
        s.outputs = vec!["PolicyArn".into()];
        s.verification = "GetPolicy finds it".into();
        s.rollback = "DeletePolicy after detaching it".into();
        let id = b.add(&format!("iam|policy|{policy_name}"), s);
        placeholder(&id, "PolicyArn")
    };
    let (kind, name) = match &grant.principal {
        IamPrincipal::User(n) => ("user", n.clone()),
        IamPrincipal::Role { name, .. } => ("role", name.clone()),
    };
    let (exists, attached) = match (&grant.principal, iam) {
        (IamPrincipal::User(n), Some(i)) => i
            .users
            .iter()
            .find(|u| &u.name == n)
            .map(|u| (true, u.attached_policy_arns.contains(&policy_arn_literal)))
            .unwrap_or((false, false)),
        (IamPrincipal::Role { name, .. }, Some(i)) => i
            .roles
            .iter()
            .find(|r| &r.name == name)
            .map(|r| (true, r.attached_policy_arns.contains(&policy_arn_literal)))
            .unwrap_or((false, false)),
        _ => (false, false),
    };
    if !exists {
        let mut s = match &grant.principal {
            IamPrincipal::User(n) => step(
                format!("iam/{n}/create-user"),
                "CreateUser",
                json!({"UserName": n, "Tags": [{"Key": "rdsguard:database", "Value": db_id}]}),
                format!(
                    "Create IAM user {n} (no password, no access key: add credentials your way)"
                ),
            ),
            IamPrincipal::Role { name, trusted } => {
                let principal = if trusted.chars().all(|c| c.is_ascii_digit()) {
                    json!({"AWS": format!("arn:{partition}:iam::{trusted}:root")})
                } else {
                    json!({"Service": trusted})
                };
                let trust = json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
                ]});
                step(
                    format!("iam/{name}/create-role"),
                    "CreateRole",
                    json!({"RoleName": name,
                           "AssumeRolePolicyDocument": serde_json::to_string(&trust).unwrap_or_default(),
                           "Tags": [{"Key": "rdsguard:database", "Value": db_id}]}),
                    format!("Create IAM role {name}, assumable by {trusted}"),
                )
            }
        };
        s.verification = format!(
            "Get{} finds it",
            if kind == "user" { "User" } else { "Role" }
        );
        s.rollback = format!("delete the {kind} once nothing depends on it");
        b.add(&format!("iam|{kind}|{name}"), s);
    }
    if !attached {
        let (operation, field) = if kind == "user" {
            ("AttachUserPolicy", "UserName")
        } else {
            ("AttachRolePolicy", "RoleName")
        };
        let mut params = json!({"PolicyArn": policy_ref});
        params[field] = json!(name);
        let mut s = step(
            format!("iam/{name}/attach-{policy_name}"),
            operation,
            params,
            format!("Attach {policy_name} to {kind} {name}"),
        );
        s.verification = format!(
            "ListAttached{}Policies lists it",
            if kind == "user" { "User" } else { "Role" }
        );
        s.rollback = format!(
            "Detach{}Policy",
            if kind == "user" { "User" } else { "Role" }
        );
        b.add(&format!("iam|attach|{kind}|{name}|{policy_name}"), s);
    }
    Ok(())
}
