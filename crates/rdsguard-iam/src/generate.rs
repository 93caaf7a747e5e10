//! Least-privilege, instance-specific policies, as the mission's source writes them (an
//! `rds:CreateDBInstance` policy scoped to one DB instance's ARN), generated and then verified
//! by the engine itself: the policy must grant exactly the requested actions on that DB (under
//! the requested encryption conditions) and nothing else.

use serde::Serialize;
use serde_json::{Value, json};

use crate::compile::{CompiledPolicy, PolicyKind};
use crate::context::{Arn, RequestAction, RequestContext, RequestPrincipal, RequestResource};
use crate::error::RequestError;
use crate::eval::{Decision, PolicySet, Request, evaluate};
use crate::sar;

/// Actions that create storage, for which `rds:StorageEncrypted` can be required.
const CREATE_ACTIONS: &[&str] = &[
    "createdbinstance",
    "createdbinstancereadreplica",
    "createdbcluster",
    "restoredbinstancefromdbsnapshot",
    "restoredbinstancefroms3",
    "restoredbinstancetopointintime",
    "restoredbclusterfromsnapshot",
    "restoredbclustertopointintime",
    "restoredbclusterfroms3",
];

/// KMS permissions a caller needs for RDS to use a customer managed key on its behalf (AWS KMS
/// Developer Guide, *How Amazon RDS uses AWS KMS*).
const KMS_ACTIONS: &[&str] = &[
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// One verification the engine ran on the generated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationCheck {
    pub description: String,
    pub expected: Decision,
    pub actual: Decision,
    pub ok: bool,
}

/// A generated policy and its verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedPolicy {
    pub policy: Value,
    /// The policy as pretty JSON text.
    pub policy_json: String,
    pub checks: Vec<VerificationCheck>,
    /// Every check passed.
    pub verified: bool,
    /// What the policy cannot enforce, said plainly.
    pub notes: Vec<String>,
}

/// Generate the least-privilege policy allowing `actions` on the DB instance `db_arn`, with,
/// when `require_encryption`, creation allowed only with storage encryption (and, with
/// `kms_key_arn`, KMS use allowed only for that key through RDS). Returns the policy and the
/// engine's verification that it grants exactly that.
pub fn generate_policy(
    actions: &[String],
    db_arn: &str,
    require_encryption: bool,
    kms_key_arn: Option<&str>,
) -> Result<GeneratedPolicy, RequestError> {
    let reference = sar::reference()?;
    let db = Arn::parse(db_arn).ok_or_else(|| RequestError::MalformedArn(db_arn.to_string()))?;
    if db.service() != "rds" || !db.resource().starts_with("db:") {
        return Err(RequestError::Invalid(format!(
            "`{db_arn}` is not a DB instance ARN (arn:aws:rds:<region>:<account>:db:<id>)"
        )));
    }
    if actions.is_empty() {
        return Err(RequestError::Invalid("give at least one action".into()));
    }
    if let Some(k) = kms_key_arn {
        let ka = Arn::parse(k).ok_or_else(|| RequestError::MalformedArn(k.to_string()))?;
        if ka.service() != "kms" || !ka.resource().starts_with("key/") {
            return Err(RequestError::Invalid(format!(
                "`{k}` is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
            )));
        }
    }
    let mut plain = Vec::new();
    let mut create = Vec::new();
    let mut canonical = Vec::new();
    for a in actions {
        let validated = reference.validate(a, db_arn)?;
        let name = validated.action.full_name();
        if require_encryption
            && CREATE_ACTIONS.contains(&validated.action.name.to_lowercase().as_str())
        {
            create.push(name.clone());
        } else {
            plain.push(name.clone());
        }
        canonical.push(name);
    }
    canonical.sort();
    canonical.dedup();
    let mut statements = Vec::new();
    if !plain.is_empty() {
        plain.sort();
        plain.dedup();
        statements.push(json!({
            "Sid": "InstanceActions",
            "Effect": "Allow",
            "Action": plain,
            "Resource": db_arn,
        }));
    }
    if !create.is_empty() {
        create.sort();
        create.dedup();
        statements.push(json!({
            "Sid": "CreateEncryptedOnly",
            "Effect": "Allow",
            "Action": create,
            "Resource": db_arn,
            "Condition": {"Bool": {"rds:StorageEncrypted": "true"}},
        }));
    }
    let mut notes = Vec::new();
    if let Some(k) = kms_key_arn {
        statements.push(json!({
            "Sid": "UseOnlyThisKeyThroughRds",
            "Effect": "Allow",
            "Action": KMS_ACTIONS,
            "Resource": k,
            "Condition": {"StringEquals": {"kms:ViaService": format!("rds.{}.amazonaws.com", db.region())}},
        }));
        notes.push(
            "KMS honours this policy only if the key policy delegates to IAM (the default key \
             policy's \"Enable IAM User Permissions\" statement); the verification assumes it."
                .to_string(),
        );
        notes.push(
            "RDS has no condition key for the KMS key of a new instance: the policy allows KMS use \
             only of this key, so a customer managed key other than this one cannot be used; the \
             AWS managed key aws/rds needs no caller KMS permission and cannot be excluded by IAM \
             alone (pass KmsKeyId explicitly, or check with `rdsguard audit`)."
                .to_string(),
        );
        if !require_encryption {
            notes.push(
                "--kms-key without --require-encryption: creation is not forced to encrypt".into(),
            );
        }
    }
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    let policy_json = serde_json::to_string_pretty(&policy)
        .map_err(|e| RequestError::Invalid(format!("cannot encode the policy: {e}")))?;
    let compiled = CompiledPolicy::from_json("generated", PolicyKind::Identity, &policy_json)?;
    let checks = verify(&compiled, &canonical, &create, &db, db_arn, kms_key_arn)?;
    let verified = checks.iter().all(|c| c.ok);
    Ok(GeneratedPolicy {
        policy,
        policy_json,
        checks,
        verified,
        notes,
    })
}

fn verify(
    policy: &CompiledPolicy,
    actions: &[String],
    create: &[String],
    db: &Arn,
    db_arn: &str,
    kms_key_arn: Option<&str>,
) -> Result<Vec<VerificationCheck>, RequestError> {
    let reference = sar::reference()?;
    let principal = RequestPrincipal::parse(&format!(
        "arn:{}:iam::{}:user/verifier",
        db.partition(),
        db.account()
    ))?;
    // KMS honours IAM policies only when the key policy delegates to the account: verify
    // against the default key policy ("Enable IAM User Permissions").
    let key_policy = CompiledPolicy::from_json(
        "default key policy",
        PolicyKind::Resource,
        &json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{}:iam::{}:root", db.partition(), db.account())},
            "Action": "kms:*",
            "Resource": "*"
        }]})
        .to_string(),
    )?;
    let identity_only = PolicySet {
        identity: vec![policy],
        ..PolicySet::default()
    };
    let with_key_policy = PolicySet {
        identity: vec![policy],
        resource: Some(&key_policy),
        ..PolicySet::default()
    };
    let mut checks = Vec::new();
    let mut check = |description: String,
                     action: &str,
                     resource: &str,
                     ctx: RequestContext,
                     expected: Decision|
     -> Result<(), RequestError> {
        let a = RequestAction::parse(action)?;
        let r = RequestResource::parse(resource, None)?;
        let set = if a.service == "kms" {
            &with_key_policy
        } else {
            &identity_only
        };
        let actual = evaluate(
            set,
            &Request {
                principal: &principal,
                action: &a,
                resource: &r,
                context: &ctx,
            },
        );
        checks.push(VerificationCheck {
            description,
            expected,
            actual,
            ok: actual == expected,
        });
        Ok(())
    };
    let encrypted = |yes: bool| {
        let mut c = RequestContext::new();
        c.insert_single("rds:StorageEncrypted", yes.to_string());
        c
    };
    for a in actions {
        let is_create = create.contains(a);
        check(
            format!(
                "{a} on {db_arn}{}",
                if is_create {
                    " with storage encryption"
                } else {
                    ""
                }
            ),
            a,
            db_arn,
            if is_create {
                encrypted(true)
            } else {
                RequestContext::new()
            },
            Decision::Allowed,
        )?;
        if is_create {
            check(
                format!("{a} on {db_arn} without storage encryption"),
                a,
                db_arn,
                encrypted(false),
                Decision::ImplicitlyDenied,
            )?;
            check(
                format!("{a} on {db_arn} with encryption unspecified"),
                a,
                db_arn,
                RequestContext::new(),
                Decision::ImplicitlyDenied,
            )?;
        }
        let other = format!(
            "arn:{}:rds:{}:{}:db:{}-other",
            db.partition(),
            db.region(),
            db.account(),
            db.resource().trim_start_matches("db:")
        );
        check(
            format!("{a} on another DB instance"),
            a,
            &other,
            encrypted(true),
            Decision::ImplicitlyDenied,
        )?;
    }
    // Nothing else: every other RDS action that applies to a DB instance is denied.
    for (other, _) in sar::actions_for_resource_type("rds", "db") {
        let name = other.full_name();
        if actions.contains(&name) || reference.validate(&name, db_arn).is_err() {
            continue;
        }
        check(
            format!("{name} (not requested) on {db_arn}"),
            &name,
            db_arn,
            encrypted(true),
            Decision::ImplicitlyDenied,
        )?;
    }
    if let Some(k) = kms_key_arn {
        let via = |service: Option<String>| {
            let mut c = RequestContext::new();
            if let Some(s) = service {
                c.insert_single("kms:ViaService", s);
            }
            c
        };
        let rds = format!("rds.{}.amazonaws.com", db.region());
        check(
            format!("kms:CreateGrant on {k} through RDS"),
            "kms:CreateGrant",
            k,
            via(Some(rds.clone())),
            Decision::Allowed,
        )?;
        check(
            format!("kms:Decrypt on {k} directly (not through RDS)"),
            "kms:Decrypt",
            k,
            via(None),
            Decision::ImplicitlyDenied,
        )?;
        let other_key = format!("{}-other", k);
        check(
            "kms:CreateGrant on another key through RDS".into(),
            "kms:CreateGrant",
            &other_key,
            via(Some(rds)),
            Decision::ImplicitlyDenied,
        )?;
        check(
            format!("kms:ScheduleKeyDeletion on {k}"),
            "kms:ScheduleKeyDeletion",
            k,
            via(None),
            Decision::ImplicitlyDenied,
        )?;
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:orders";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn instance_specific_policy_is_verified() {
        let g = generate_policy(
            &[
                "rds:CreateDBInstance".into(),
                "rds:DescribeDBInstances".into(),
            ],
            DB,
            true,
            Some(KEY),
        )
        .unwrap();
        assert!(
            g.verified,
            "{:#?}",
            g.checks.iter().filter(|c| !c.ok).collect::<Vec<_>>()
        );
        assert!(g.checks.len() > 20, "checks every other db action too");
        let text = &g.policy_json;
        assert!(text.contains("rds:StorageEncrypted"));
        assert!(text.contains("kms:ViaService"));
        assert!(!text.contains("\"Resource\": \"*\""));
    }

    #[test]
    fn without_encryption_no_condition() {
        let g = generate_policy(&["rds:DeleteDBInstance".into()], DB, false, None).unwrap();
        assert!(g.verified);
        assert!(!g.policy_json.contains("Condition"));
    }

    #[test]
    fn rejects_bad_inputs() {
        assert!(generate_policy(&["rds:Nope".into()], DB, false, None).is_err());
        assert!(
            generate_policy(
                &["rds:DeleteDBInstance".into()],
                "arn:aws:rds:us-east-1:1:cluster:c",
                false,
                None
            )
            .is_err()
        );
        assert!(generate_policy(&[], DB, false, None).is_err());
        assert!(
            generate_policy(
                &["rds:CreateDBInstance".into()],
                DB,
                true,
                Some("arn:aws:kms:us-east-1:1:alias/x")
            )
            .is_err()
        );
    }
}
