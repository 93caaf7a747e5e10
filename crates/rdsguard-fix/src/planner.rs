//! Planning: a pure function of (snapshot, findings, options) to a [`Plan`].
//!
//! Only failing, unsuppressed findings in scope are planned; each remediation reads the facts
//! it needs from the snapshot (ports, VPCs, attached groups, parameter group families) and
//! emits the exact calls. Calls that fix several findings (one cluster setting for every
//! member's finding, one revoked rule for every database behind a group) are planned once,
//! with all the findings they fix. A resource that is already fixed has no failing finding,
//! so planning again after applying gives an empty plan.

mod encryption;
mod iam;
mod network;
mod protection;
mod snapshots;
mod tde;
mod tls;

use std::collections::BTreeMap;

use rdsguard_checks::checks::common::EngineFamily;
use rdsguard_findings::{Finding, Status};
use rdsguard_model::{
    AccountSnapshot, DbCluster, DbInstance, DbSnapshot, RegionSnapshot, Snapshot,
};
use serde_json::Value;

use crate::options::FixOptions;
use crate::plan::{FindingRef, Impact, Plan, Remediation, Skipped, Step, WaitFor};

/// Why a plan could not be made at all (bad options); findings that cannot be fixed are
/// [`Skipped`], not errors.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("{0}")]
    Iam(String),
}

/// Plan the remediation of `findings` (an audit of `snapshot`).
pub fn plan(
    snapshot: &Snapshot,
    findings: &[Finding],
    opts: &FixOptions,
) -> Result<Plan, PlanError> {
    validate_options(opts)?;
    let mut builder = Builder::new(snapshot, opts);
    let mut by_region: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if f.status != Status::Fail || !builder.in_scope(f) {
            continue;
        }
        if let Some(s) = &f.suppressed {
            builder.skip(f, format!("suppressed in rdsguard.toml: {}", s.reason));
            continue;
        }
        let Some(region) = f.resource.region.as_deref() else {
            builder.skip(f, "global finding: no automatic remediation".to_string());
            continue;
        };
        by_region
            .entry(((*f.resource.account_id).to_string(), region.to_string()))
            .or_default()
            .push(f);
    }
    for ((account_id, region_name), region_findings) in &by_region {
        let located = snapshot
            .accounts
            .iter()
            .find(|a| &a.account_id == account_id)
            .and_then(|a| a.region(region_name).map(|r| (a, r)));
        let Some((account, region)) = located else {
            for f in region_findings {
                builder.skip(f, "the finding's region is not in the snapshot".to_string());
            }
            continue;
        };
        let mut ctx = RegionPlan {
            b: &mut builder,
            account,
            region,
        };
        ctx.plan_region(region_findings);
    }
    if let Some(grant) = &opts.iam {
        iam::plan_grant(&mut builder, snapshot, grant)?;
    }
    Ok(builder.finish())
}

fn validate_options(opts: &FixOptions) -> Result<(), PlanError> {
    for c in opts.allow_cidrs.iter().chain(&opts.egress_cidrs) {
        if c.parse::<ipnet::IpNet>().is_err() {
            return Err(PlanError::InvalidOption(format!(
                "`{c}` is not a CIDR block (e.g. 10.0.0.0/16 or 2001:db8::/32)"
            )));
        }
        if c == "0.0.0.0/0" || c == "::/0" {
            return Err(PlanError::InvalidOption(format!(
                "`{c}` is the whole internet; give the networks that need the database"
            )));
        }
    }
    for g in &opts.allow_security_groups {
        if !g.starts_with("sg-") {
            return Err(PlanError::InvalidOption(format!(
                "`{g}` is not a security group id (sg-...)"
            )));
        }
    }
    if opts.min_backup_retention_days < 1 || opts.min_backup_retention_days > 35 {
        return Err(PlanError::InvalidOption(format!(
            "min_backup_retention_days {} is outside RDS's 1-35 days",
            opts.min_backup_retention_days
        )));
    }
    if !opts.kms_alias.starts_with("alias/") || opts.kms_alias.starts_with("alias/aws/") {
        return Err(PlanError::InvalidOption(format!(
            "KMS alias `{}` must start with alias/ and not alias/aws/",
            opts.kms_alias
        )));
    }
    Ok(())
}

/// Accumulates steps, merging calls planned twice.
pub(crate) struct Builder<'s> {
    pub snapshot: &'s Snapshot,
    pub opts: &'s FixOptions,
    plan: Plan,
    /// Step ids by merge key, so a call planned for several findings is made once.
    by_key: BTreeMap<String, usize>,
    /// Whether ids need a region (several regions) or account/region (several accounts)
    /// prefix to stay unique.
    prefix_ids: (bool, bool),
    /// Planned ModifyDBInstance settings per (account, region, instance), for the encrypted
    /// copy to inherit the hardening applied to the original.
    pub instance_settings: BTreeMap<(String, String, String), serde_json::Map<String, Value>>,
}

impl<'s> Builder<'s> {
    fn new(snapshot: &'s Snapshot, opts: &'s FixOptions) -> Self {
        let regions = snapshot.accounts.iter().any(|a| a.regions.len() > 1);
        let accounts = snapshot.accounts.len() > 1;
        Builder {
            snapshot,
            opts,
            plan: Plan::new(snapshot.collected_at.clone()),
            by_key: BTreeMap::new(),
            prefix_ids: (regions || accounts, accounts),
            instance_settings: BTreeMap::new(),
        }
    }

    fn in_scope(&self, f: &Finding) -> bool {
        let check_ok = self.opts.checks.is_empty()
            || self
                .opts
                .checks
                .iter()
                .any(|p| rdsguard_checks::glob_match(p, &f.check_id));
        let db_ok =
            self.opts.dbs.is_empty()
                || self.opts.dbs.iter().any(|d| {
                    d == &*f.resource.id || f.resource.arn.as_deref().is_some_and(|a| a == d)
                });
        check_ok && db_ok
    }

    pub fn skip(&mut self, f: &Finding, reason: String) {
        self.plan.skipped.push(Skipped {
            finding: FindingRef::of(f),
            reason,
        });
    }

    pub fn note(&mut self, note: String) {
        if !self.plan.notes.contains(&note) {
            self.plan.notes.push(note);
        }
    }

    /// The id of the step planned under `key`, if any.
    pub fn planned(&self, key: &str) -> Option<&Step> {
        self.by_key.get(key).map(|&i| &self.plan.steps[i])
    }

    /// Add `step` unless a step with the same merge key exists, in which case its fixes are
    /// added to that step. Returns the id of the step that makes the call.
    pub fn add(&mut self, key: &str, mut step: Step) -> String {
        if let Some(&i) = self.by_key.get(key) {
            let existing = &mut self.plan.steps[i];
            for f in step.fixes {
                if !existing.fixes.contains(&f) {
                    existing.fixes.push(f);
                }
            }
            return existing.id.clone();
        }
        let region = step.region.as_deref().unwrap_or("global");
        match self.prefix_ids {
            (_, true) => step.id = format!("{}/{region}/{}", step.account_id, step.id),
            (true, false) => step.id = format!("{region}/{}", step.id),
            _ => {}
        }
        let id = step.id.clone();
        self.by_key.insert(key.to_string(), self.plan.steps.len());
        self.plan.steps.push(step);
        id
    }

    /// Add a finding to an already planned step.
    pub fn add_fix(&mut self, key: &str, f: FindingRef) {
        if let Some(&i) = self.by_key.get(key) {
            let fixes = &mut self.plan.steps[i].fixes;
            if !fixes.contains(&f) {
                fixes.push(f);
            }
        }
    }

    fn finish(mut self) -> Plan {
        for s in &mut self.plan.steps {
            s.fixes.sort();
        }
        self.plan.skipped.sort_by(|a, b| a.finding.cmp(&b.finding));
        self.plan
    }
}

/// Whether a remediation handles a check id.
type Handles = fn(&str) -> bool;

/// Planning one region of one account.
pub(crate) struct RegionPlan<'a, 's> {
    pub b: &'a mut Builder<'s>,
    pub account: &'s AccountSnapshot,
    pub region: &'s RegionSnapshot,
}

/// What a finding is about, resolved in the snapshot.
pub(crate) enum Target<'s> {
    Instance(&'s DbInstance),
    Cluster(&'s DbCluster),
    Snapshot(&'s DbSnapshot),
    ClusterSnapshot(&'s DbSnapshot),
}

impl<'a, 's> RegionPlan<'a, 's> {
    fn plan_region(&mut self, findings: &[&Finding]) {
        // Remediations run in a fixed order, so plans are stable and the encrypted copies
        // (last) inherit the hardening planned for their originals.
        let order: [(Remediation, Handles); 6] = [
            (Remediation::Network, network::handles),
            (Remediation::Tls, tls::handles),
            (Remediation::Protection, protection::handles),
            (Remediation::SnapshotPrivacy, snapshots::handles),
            (Remediation::Tde, tde::handles),
            (Remediation::Encryption, encryption::handles),
        ];
        let mut handled = vec![false; findings.len()];
        for (remediation, handles) in order {
            let mine: Vec<&Finding> = findings
                .iter()
                .zip(handled.iter_mut())
                .filter(|(f, _)| handles(&f.check_id))
                .map(|(f, h)| {
                    *h = true;
                    *f
                })
                .collect();
            if mine.is_empty() {
                continue;
            }
            match remediation {
                Remediation::Network => network::plan(self, &mine),
                Remediation::Tls => tls::plan(self, &mine),
                Remediation::Protection => protection::plan(self, &mine),
                Remediation::SnapshotPrivacy => snapshots::plan(self, &mine),
                Remediation::Tde => tde::plan(self, &mine),
                Remediation::Encryption => encryption::plan(self, &mine),
                Remediation::Iam => {}
            }
        }
        for (f, h) in findings.iter().zip(handled) {
            if !h {
                self.b.skip(
                    f,
                    "no automatic remediation for this check; see its remediation in \
                     `rdsguard checks`"
                        .to_string(),
                );
            }
        }
    }

    pub fn target(&self, f: &Finding) -> Option<Target<'s>> {
        let id = &*f.resource.id;
        let rds = &self.region.rds;
        match &*f.resource.resource_type {
            "AwsRdsDbInstance" => rds
                .db_instances
                .iter()
                .find(|d| d.db_instance_identifier == id)
                .map(Target::Instance)
                .or_else(|| {
                    // Network checks report clusters without members under the instance type.
                    rds.db_clusters
                        .iter()
                        .find(|c| c.db_cluster_identifier == id)
                        .map(Target::Cluster)
                }),
            "AwsRdsDbCluster" => rds
                .db_clusters
                .iter()
                .find(|c| c.db_cluster_identifier == id)
                .map(Target::Cluster),
            "AwsRdsDbSnapshot" => rds
                .db_snapshots
                .iter()
                .find(|s| s.identifier == id)
                .map(Target::Snapshot),
            "AwsRdsDbClusterSnapshot" => rds
                .db_cluster_snapshots
                .iter()
                .find(|s| s.identifier == id)
                .map(Target::ClusterSnapshot),
            _ => None,
        }
    }

    pub fn cluster(&self, id: &str) -> Option<&'s DbCluster> {
        self.region
            .rds
            .db_clusters
            .iter()
            .find(|c| c.db_cluster_identifier == id)
    }

    pub fn instance(&self, id: &str) -> Option<&'s DbInstance> {
        self.region
            .rds
            .db_instances
            .iter()
            .find(|d| d.db_instance_identifier == id)
    }

    /// A step in this region, with the fields every step has.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        id: String,
        remediation: Remediation,
        fixes: Vec<FindingRef>,
        service: &str,
        operation: &str,
        parameters: Value,
        impact: Impact,
        description: String,
    ) -> Step {
        Step {
            id,
            remediation,
            fixes,
            account_id: self.account.account_id.clone(),
            region: Some(self.region.region.clone()),
            service: service.to_string(),
            operation: operation.to_string(),
            parameters,
            impact,
            description,
            preconditions: Vec::new(),
            verification: String::new(),
            rollback: String::new(),
            outputs: Vec::new(),
            wait: None,
        }
    }

    /// A merge key scoped to this region.
    pub fn key(&self, parts: &[&str]) -> String {
        format!(
            "{}|{}|{}",
            self.account.account_id,
            self.region.region,
            parts.join("|")
        )
    }

    /// Record a planned instance modification, for the encrypted copy to inherit.
    pub fn remember_instance_setting(&mut self, instance: &str, key: &str, value: Value) {
        self.b
            .instance_settings
            .entry((
                self.account.account_id.clone(),
                self.region.region.clone(),
                instance.to_string(),
            ))
            .or_default()
            .insert(key.to_string(), value);
    }

    pub fn planned_instance_settings(&self, instance: &str) -> serde_json::Map<String, Value> {
        self.b
            .instance_settings
            .get(&(
                self.account.account_id.clone(),
                self.region.region.clone(),
                instance.to_string(),
            ))
            .cloned()
            .unwrap_or_default()
    }
}

/// Identifiers AWS accepts in names we derive (parameter groups, security groups): letters,
/// digits and hyphens, starting with a letter, no double or trailing hyphen.
pub(crate) fn aws_name(parts: &[&str]) -> String {
    let mut out = String::new();
    for c in parts.join("-").chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "rdsguard-");
    }
    out.truncate(255);
    out
}

/// The engine family a remediation is planned for: the checks' families, except RDS Custom
/// engines (customer-managed hosts), for which no parameter or option change is planned.
pub(crate) fn family_of(engine: &str) -> EngineFamily {
    if engine.starts_with("custom-") {
        EngineFamily::Other
    } else {
        EngineFamily::of(engine)
    }
}

/// A `WaitFor` helper for steps that create resources RDS builds asynchronously.
pub(crate) fn with_wait(mut step: Step, wait: WaitFor) -> Step {
    step.wait = Some(wait);
    step
}

#[cfg(test)]
mod tests;
