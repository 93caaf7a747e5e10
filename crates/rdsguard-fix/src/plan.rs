//! The plan: the exact AWS calls a fix makes, in order, with what each one fixes, what it
//! costs in downtime, how it is verified and how it is undone. Stable JSON (`--plan-out`),
//! hashed so a journal can prove which plan it applied.
//!
//! Later steps refer to the outputs of earlier ones (a new security group id, a new key ARN)
//! with placeholders: a JSON string that is exactly `${<step id>.<output>}`. The executor
//! resolves them at apply time from the outputs the journal recorded.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Version of the plan JSON. Bump on incompatible changes.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// The remediation families (the numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remediation {
    /// Dedicated security group, world rules revoked, PubliclyAccessible off.
    Network,
    /// Customer managed KMS key; encrypted copies of unencrypted databases and snapshots.
    Encryption,
    /// TLS-only parameter groups; current CA.
    Tls,
    /// Deletion protection, backups, tags to snapshots, minor upgrades, IAM auth, log exports.
    Protection,
    /// Public or untrusted-shared snapshots made private.
    SnapshotPrivacy,
    /// Least-privilege instance-specific IAM policy, attached to a user or role.
    Iam,
    /// Transparent Data Encryption option groups (Oracle, SQL Server).
    Tde,
}

impl Remediation {
    pub fn as_str(self) -> &'static str {
        match self {
            Remediation::Network => "network",
            Remediation::Encryption => "encryption",
            Remediation::Tls => "tls",
            Remediation::Protection => "protection",
            Remediation::SnapshotPrivacy => "snapshot_privacy",
            Remediation::Iam => "iam",
            Remediation::Tde => "tde",
        }
    }
}

impl fmt::Display for Remediation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What applying a step costs the database's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// No interruption.
    None,
    /// A short interruption while RDS applies the change (seconds to a few minutes).
    BriefInterruption,
    /// Takes effect at the next reboot (the plan says whether it reboots).
    RebootRequired,
    /// Creates a new resource; clients move to it when the user cuts over.
    NewResourceCutover,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::BriefInterruption => "brief-interruption",
            Impact::RebootRequired => "reboot-required",
            Impact::NewResourceCutover => "new-resource-cutover",
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding a step fixes: (check, resource).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingRef {
    pub check_id: String,
    pub resource_type: String,
    pub resource_id: String,
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl FindingRef {
    pub fn of(f: &rdsguard_findings::Finding) -> FindingRef {
        FindingRef {
            check_id: (*f.check_id).to_string(),
            resource_type: (*f.resource.resource_type).to_string(),
            resource_id: (*f.resource.id).to_string(),
            account_id: (*f.resource.account_id).to_string(),
            region: f.resource.region.as_deref().map(str::to_string),
        }
    }
}

impl fmt::Display for FindingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.check_id, self.resource_id)
    }
}

/// What the executor waits for after a call, before the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitFor {
    DbSnapshotAvailable,
    DbClusterSnapshotAvailable,
    DbInstanceAvailable,
    DbClusterAvailable,
}

/// One AWS call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique within the plan, stable for the same inputs, e.g.
    /// `network/orders-prod/create-security-group`.
    pub id: String,
    pub remediation: Remediation,
    /// The failing findings this step (with the others of its remediation) fixes.
    #[serde(default)]
    pub fixes: Vec<FindingRef>,
    pub account_id: String,
    /// `None` for global services (IAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `rds`, `ec2`, `kms`, `iam`.
    pub service: String,
    /// The API operation, as AWS names it (`ModifyDBInstance`).
    pub operation: String,
    /// The request, in the API's own field names. Never contains secrets.
    pub parameters: Value,
    pub impact: Impact,
    /// One sentence for people.
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preconditions: Vec<String>,
    /// How the executor (and the re-audit) confirms the step took effect.
    pub verification: String,
    /// How to undo it, or why it cannot be undone.
    pub rollback: String,
    /// Names of the values this step produces for later steps (`GroupId`, `KeyArn`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitFor>,
}

impl Step {
    /// The placeholder naming output `name` of this step.
    pub fn output_ref(&self, name: &str) -> String {
        placeholder(&self.id, name)
    }
}

/// `${step.output}`.
pub fn placeholder(step_id: &str, output: &str) -> String {
    format!("${{{step_id}.{output}}}")
}

/// Parse a placeholder into (step id, output name).
pub fn parse_placeholder(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    let (step, output) = inner.rsplit_once('.')?;
    (!step.is_empty() && !output.is_empty()).then_some((step, output))
}

/// A failing finding the plan does not fix, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub finding: FindingRef,
    pub reason: String,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    /// When the snapshot the plan was made from was collected (not when the plan was made, so
    /// that the same inputs give byte-identical plans).
    pub snapshot_collected_at: String,
    pub steps: Vec<Step>,
    /// Failing findings in scope that no step fixes, with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// What the user must do after applying (cut over to encrypted copies, reboot...).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(snapshot_collected_at: impl Into<String>) -> Plan {
        Plan {
            schema_version: PLAN_SCHEMA_VERSION,
            snapshot_collected_at: snapshot_collected_at.into(),
            steps: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// SHA-256 of the canonical JSON of the steps (the part that is applied), hex.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_vec(&self.steps).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Every finding some step fixes, once.
    pub fn fixed_findings(&self) -> Vec<FindingRef> {
        let mut all: Vec<FindingRef> = self
            .steps
            .iter()
            .flat_map(|s| s.fixes.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Checks that ids are unique and that every placeholder names an output of an earlier
    /// step. Planning always produces valid plans; this guards plans read from files.
    pub fn validate(&self) -> Result<(), String> {
        let mut outputs: BTreeMap<&str, &[String]> = BTreeMap::new();
        for step in &self.steps {
            let mut problem = None;
            visit_strings(&step.parameters, &mut |s| {
                if let Some((id, out)) = parse_placeholder(s) {
                    let ok = outputs
                        .get(id)
                        .is_some_and(|outs| outs.iter().any(|o| o == out));
                    if !ok && problem.is_none() {
                        problem = Some(format!(
                            "step {} refers to {s}, which no earlier step produces",
                            step.id
                        ));
                    }
                }
            });
            if let Some(p) = problem {
                return Err(p);
            }
            if outputs.insert(&step.id, &step.outputs).is_some() {
                return Err(format!("two steps have the id {}", step.id));
            }
        }
        Ok(())
    }
}

/// Call `f` on every string in `v`.
pub(crate) fn visit_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| visit_strings(x, f)),
        Value::Object(o) => o.values().for_each(|x| visit_strings(x, f)),
        _ => {}
    }
}

/// Replace every placeholder in `v` by its value; `Err` names the first unresolved one.
pub fn resolve(
    v: &Value,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => match parse_placeholder(s) {
            Some((step, out)) => Value::String(
                outputs
                    .get(step)
                    .and_then(|o| o.get(out))
                    .cloned()
                    .ok_or_else(|| {
                        format!("{s} is not known yet (step {step} has not produced {out})")
                    })?,
            ),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve(x, outputs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), resolve(x, outputs)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Keys whose values are never written anywhere (plans, journals, logs), whatever the step.
pub const SECRET_KEYS: &[&str] = &[
    "MasterUserPassword",
    "Password",
    "SecretAccessKey",
    "SessionToken",
    "NewPassword",
    "OldPassword",
];

/// True when the value has a key that looks like a secret (defence in depth: planners never
/// put one there).
pub fn contains_secret_key(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.iter().any(|(k, x)| {
            SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s)) || contains_secret_key(x)
        }),
        Value::Array(a) => a.iter().any(contains_secret_key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_parse_and_resolve() {
        assert_eq!(
            parse_placeholder("${network/db/create-sg.GroupId}"),
            Some(("network/db/create-sg", "GroupId"))
        );
        assert_eq!(parse_placeholder("sg-123"), None);
        assert_eq!(parse_placeholder("${nodot}"), None);
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "a".to_string(),
            BTreeMap::from([("GroupId".to_string(), "sg-9".to_string())]),
        );
        let v = json!({"Ids": ["${a.GroupId}", "sg-1"], "Other": 3});
        assert_eq!(
            resolve(&v, &outputs).unwrap(),
            json!({"Ids": ["sg-9", "sg-1"], "Other": 3})
        );
        assert!(
            resolve(&json!("${b.KeyArn}"), &outputs)
                .unwrap_err()
                .contains("${b.KeyArn}")
        );
    }

    #[test]
    fn secret_keys_are_detected_at_any_depth() {
        assert!(contains_secret_key(
            &json!({"A": [{"masteruserpassword": "x"}]})
        ));
        assert!(!contains_secret_key(&json!({"DBInstanceIdentifier": "db"})));
    }
}
