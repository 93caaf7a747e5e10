//! After applying: which of the findings the plan fixes now pass, from a re-audit.
//!
//! Encryption fixes a finding by making an encrypted copy: the original keeps failing until
//! the user cuts over, so those findings are reported with the copy's result instead.

use rdsguard_findings::{Finding, Status};
use serde::Serialize;

use crate::plan::{FindingRef, Impact, Plan, Remediation};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// Findings the plan fixes that the re-audit reports as PASS.
    pub now_passing: Vec<FindingRef>,
    /// Findings fixed by a new resource (an encrypted copy) whose own finding passes: the
    /// original passes once the user cuts over and retires it. (original, copy's finding)
    pub passing_on_copy: Vec<(FindingRef, FindingRef)>,
    /// Findings the plan fixes that do not pass yet, with their status now and its message
    /// (e.g. a parameter group waiting for a reboot).
    pub not_yet: Vec<(FindingRef, String)>,
}

/// The identifier of the resource a new-resource step (or an encrypted snapshot copy)
/// creates, for each finding it fixes.
fn copies(plan: &Plan) -> Vec<(FindingRef, String)> {
    plan.steps
        .iter()
        .filter(|s| {
            s.impact == Impact::NewResourceCutover || s.remediation == Remediation::Encryption
        })
        .filter_map(|s| {
            let keys: &[&str] = if s.impact == Impact::NewResourceCutover {
                &["DBInstanceIdentifier", "DBClusterIdentifier"]
            } else {
                &[
                    "TargetDBSnapshotIdentifier",
                    "TargetDBClusterSnapshotIdentifier",
                ]
            };
            let id = keys
                .iter()
                .find_map(|k| s.parameters.get(*k).and_then(|v| v.as_str()))?;
            Some(s.fixes.iter().map(move |f| (f.clone(), id.to_string())))
        })
        .flatten()
        .collect()
}

/// Compare the plan's findings with a re-audit.
pub fn compare(plan: &Plan, after: &[Finding]) -> Outcome {
    let mut out = Outcome::default();
    let copies = copies(plan);
    for fixed in plan.fixed_findings() {
        let now = after.iter().find(|f| FindingRef::of(f) == fixed);
        if let Some(f) = now
            && f.status == Status::Pass
        {
            out.now_passing.push(fixed);
            continue;
        }
        let on_copy = copies
            .iter()
            .filter(|(f, _)| *f == fixed)
            .find_map(|(_, copy)| {
                after.iter().find(|a| {
                    *a.check_id == *fixed.check_id
                        && *a.resource.id == **copy
                        && a.status == Status::Pass
                })
            });
        match (on_copy, now) {
            (Some(c), _) => out.passing_on_copy.push((fixed, FindingRef::of(c))),
            (None, Some(f)) => out
                .not_yet
                .push((fixed, format!("{}: {}", f.status, f.message))),
            (None, None) => out.not_yet.push((
                fixed,
                "not in the re-audit (resource not collected?)".to_string(),
            )),
        }
    }
    out
}
