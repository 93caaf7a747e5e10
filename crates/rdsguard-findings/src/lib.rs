//! The finding model: one result per (check, resource), with the facts that decided it.
//!
//! Every output format (terminal table, JSON, and later SARIF, ASFF, OCSF, CSV, HTML...) is a
//! plain serializer of [`Report`]; there is no second model.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod evidence;
mod text;

pub use evidence::{Evidence, EvidenceValue, SharedList};
pub use text::Text;

/// Version of the report JSON schema (`rdsguard audit --format json`).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected critical, high, medium, low or informational)"
            )),
        }
    }
}

/// The outcome of one check on one resource.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Fail,
    /// The facts needed were not available (permission missing, API error, unsupported).
    /// Never silently turned into PASS.
    NotAssessed,
    /// The check does not apply to this resource (e.g. backtracking on a PostgreSQL cluster).
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotAssessed => "NOT_ASSESSED",
            Status::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compliance controls a check implements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Compliance {
    /// CIS AWS Foundations Benchmark, as `v<version>/<control>`, e.g. `v5.0.0/2.2.1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cis: Vec<String>,
    /// AWS Foundational Security Best Practices control ids, e.g. `RDS.3`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fsbp: Vec<String>,
    /// MITRE ATT&CK technique ids (CloudTrail detections), e.g. `T1537`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitre_attack: Vec<String>,
}

/// Metadata of a check (or a CloudTrail detection), kept next to its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckMetadata {
    /// Stable id, e.g. `rds_instance_storage_encrypted`. Never renamed once published.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// e.g. `AwsRdsDbInstance`, `AwsRdsDbCluster`, `AwsKmsKey` (ASFF resource type names).
    pub resource_type: String,
    /// What is checked, precisely.
    pub description: String,
    /// Why it matters.
    pub rationale: String,
    /// How to fix it.
    pub remediation: String,
    #[serde(default)]
    pub compliance: Compliance,
}

/// The resource a finding is about.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ResourceRef {
    /// ASFF-style type, e.g. `AwsRdsDbInstance`.
    pub resource_type: Text,
    /// The identifier users know (DB identifier, key id, trail name...).
    pub id: String,
    /// ARN when the resource has one. Region-scoped results (e.g. "no trail in this region")
    /// have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    // `Text`: the account id and region name are shared by every resource of a region.
    pub account_id: Text,
    /// `None` for global resources (IAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
}

/// A suppression that applied to a finding (from `rdsguard.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suppression {
    pub reason: String,
    /// ISO date (YYYY-MM-DD) after which the suppression stops applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

// Compact, because a large account has millions: the check id and title are usually
// `&'static` (`Text`), the resource is shared by every finding about it, evidence is a small
// sorted vector whose big values (lists of principals) may be shared, and a suppression is
// shared by the findings it matches. Read the strings as `&str`. (A `//` comment: doc
// comments go into the committed JSON schema.)
/// One result of one check for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub check_id: Text,
    pub title: Text,
    /// Usually the check's severity; some checks grade it (e.g. certificate expiry).
    pub severity: Severity,
    pub status: Status,
    pub resource: Arc<ResourceRef>,
    /// One sentence saying what was found, e.g. "DB instance prod-db is not encrypted".
    pub message: Text,
    /// The facts that decided the result (field → value), for auditors and for scripts.
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Arc<Suppression>>,
}

impl Finding {
    /// A failing, unsuppressed finding at or above `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.status == Status::Fail && self.suppressed.is_none() && self.severity >= threshold
    }
}

/// Counts for the summary line and for scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub not_assessed: usize,
    pub not_applicable: usize,
    pub suppressed: usize,
    /// Unsuppressed failures by severity.
    pub fail_by_severity: BTreeMap<Severity, usize>,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        Summary::tally(
            findings
                .iter()
                .map(|f| (f.status, f.severity, f.suppressed.is_some())),
        )
    }

    /// The summary of results given as (status, severity, suppressed).
    pub fn tally(results: impl IntoIterator<Item = (Status, Severity, bool)>) -> Summary {
        let mut s = Summary::default();
        for sev in Severity::ALL {
            s.fail_by_severity.insert(sev, 0);
        }
        let mut fail_by_severity = [0usize; 5];
        for (status, severity, suppressed) in results {
            s.total += 1;
            if suppressed {
                s.suppressed += 1;
                continue;
            }
            match status {
                Status::Pass => s.pass += 1,
                Status::Fail => {
                    s.fail += 1;
                    fail_by_severity[severity as usize] += 1;
                }
                Status::NotAssessed => s.not_assessed += 1,
                Status::NotApplicable => s.not_applicable += 1,
            }
        }
        for sev in Severity::ALL {
            s.fail_by_severity
                .insert(sev, fail_by_severity[sev as usize]);
        }
        s
    }
}

/// A complete report: what ran, on what, and every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    pub tool_version: String,
    /// `audit` or `trail`.
    pub kind: String,
    /// When the snapshot (or scan) was taken, RFC 3339.
    pub collected_at: String,
    /// Accounts covered.
    pub accounts: Vec<String>,
    /// Regions covered.
    pub regions: Vec<String>,
    /// Metadata of every check that ran.
    pub checks: Vec<CheckMetadata>,
    /// Results, sorted by (severity desc, check id, resource).
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl Report {
    pub fn new(
        kind: &str,
        collected_at: String,
        accounts: Vec<String>,
        regions: Vec<String>,
        checks: Vec<CheckMetadata>,
        mut findings: Vec<Finding>,
    ) -> Report {
        sort_findings(&mut findings);
        let summary = Summary::of(&findings);
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: kind.to_string(),
            collected_at,
            accounts,
            regions,
            checks,
            findings,
            summary,
        }
    }

    /// True when some unsuppressed failure is at or above `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.fails_at(threshold))
    }

    /// A copy of everything but the findings (header, checks, summary).
    pub fn clone_head(&self) -> Report {
        Report {
            schema_version: self.schema_version,
            tool_version: self.tool_version.clone(),
            kind: self.kind.clone(),
            collected_at: self.collected_at.clone(),
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
            checks: self.checks.clone(),
            findings: Vec::new(),
            summary: self.summary.clone(),
        }
    }
}

/// A `BuildHasher` for keys that are addresses or small integers the program chose (never
/// input): SipHash, the standard one, costs more than the rest of a lookup that runs once per
/// finding.
pub type AddressHash = std::hash::BuildHasherDefault<AddressHasher>;

/// FxHash's step per word (rotate, mix in, multiply by a large odd constant). Measured
/// against variants that bring the product's high bits down at the end: those made the
/// findings' resource lookups twice as slow.
#[derive(Default)]
pub struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The canonical order: status (FAIL, then NOT_ASSESSED, PASS, NOT_APPLICABLE), severity
/// (highest first), check id, resource; findings equal on all four keep their order.
///
/// Millions of findings share a few dozen check ids and far fewer resources than findings, so
/// each distinct check id and resource is ranked once, every finding gets one integer key,
/// the keys are sorted and the findings moved into place: the same order as comparing the
/// findings themselves (kept as [`sort_findings_by_comparison`], the reference), several
/// times faster and without a merge buffer of findings.
pub fn sort_findings(findings: &mut [Finding]) {
    if u32::try_from(findings.len()).is_err() {
        sort_findings_by_comparison(findings);
        return;
    }
    let order = canonical_order(findings.len(), |i| {
        let f = &findings[i];
        (f.status, f.severity, f.check_id.as_str(), &f.resource)
    });
    // `dest[i]`: where the finding now at `i` belongs. Each swap puts one finding in place.
    let mut dest = vec![0u32; order.len()];
    for (pos, &from) in order.iter().enumerate() {
        dest[from as usize] = pos as u32;
    }
    drop(order);
    for i in 0..findings.len() {
        while dest[i] as usize != i {
            let d = dest[i] as usize;
            findings.swap(i, d);
            dest.swap(i, d);
        }
    }
}

/// The positions `0..len` in the canonical order of the results they name (status,
/// severity, check id, resource of each, from `fields`; ties keep their order), for results
/// that are not [`Finding`]s. At most `u32::MAX` results.
pub fn canonical_order<'a>(
    len: usize,
    fields: impl Fn(usize) -> (Status, Severity, &'a str, &'a Arc<ResourceRef>),
) -> Vec<u32> {
    match sort_keys(len, &fields) {
        Some(keys) => order_of_keys(keys),
        None => {
            let mut order: Vec<u32> = (0..len as u32).collect();
            order.sort_by(|&a, &b| {
                let (a, b) = (fields(a as usize), fields(b as usize));
                status_rank(a.0)
                    .cmp(&status_rank(b.0))
                    .then(b.1.cmp(&a.1))
                    .then_with(|| a.2.cmp(b.2))
                    .then_with(|| a.3.cmp(b.3))
            });
            order
        }
    }
}

/// [`canonical_order`] of results whose resources are given by number: the resource of
/// result `i` is `resources[fields(i).3]` (a number past the end sorts after every resource).
/// Ranking the numbered resources once spares looking each result's resource up.
pub fn canonical_order_numbered<'a>(
    len: usize,
    fields: impl Fn(usize) -> (Status, Severity, &'a str, u32),
    resources: &'a [Arc<ResourceRef>],
) -> Vec<u32> {
    let distinct: Vec<&ResourceRef> = resources.iter().map(|r| &**r).collect();
    let slots = (0..len).map(|i| {
        fields(i)
            .3
            .min(u32::try_from(resources.len()).unwrap_or(u32::MAX))
    });
    let head = |i: usize| {
        let (status, severity, id, _) = fields(i);
        (status, severity, id)
    };
    match sort_keys_with(len, &head, slots.collect(), &distinct) {
        Some(keys) => order_of_keys(keys),
        None => {
            let mut order: Vec<u32> = (0..len as u32).collect();
            order.sort_by(|&a, &b| {
                let (a, b) = (fields(a as usize), fields(b as usize));
                let resource = |n: u32| resources.get(n as usize);
                // `None` (past the end) sorts after every resource.
                let by_resource = match (resource(a.3), resource(b.3)) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (x, y) => y.is_some().cmp(&x.is_some()),
                };
                status_rank(a.0)
                    .cmp(&status_rank(b.0))
                    .then(b.1.cmp(&a.1))
                    .then_with(|| a.2.cmp(b.2))
                    .then(by_resource)
            });
            order
        }
    }
}

/// The positions of `keys` sorted by key, then by position.
fn order_of_keys(keys: Vec<u64>) -> Vec<u32> {
    let mut order: Vec<(u64, u32)> = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i as u32))
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, i)| i).collect()
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::NotAssessed => 1,
        Status::Pass => 2,
        Status::NotApplicable => 3,
    }
}

/// One key per result, ordered like the results (status 2 bits, severity 3, check id rank
/// 26, resource rank 32, then the position: equal keys keep their order), or `None` when the
/// counts do not fit.
fn sort_keys<'a>(
    len: usize,
    fields: &impl Fn(usize) -> (Status, Severity, &'a str, &'a Arc<ResourceRef>),
) -> Option<Vec<u64>> {
    u32::try_from(len).ok()?;
    // Distinct resources: first by shared reference (cheap), then ranked by value, equal
    // values (separate but identical references) sharing a rank.
    let mut slot_of: std::collections::HashMap<*const ResourceRef, u32, AddressHash> =
        std::collections::HashMap::default();
    let mut distinct: Vec<&ResourceRef> = Vec::new();
    let slots: Vec<u32> = (0..len)
        .map(|i| {
            let resource = fields(i).3;
            *slot_of.entry(Arc::as_ptr(resource)).or_insert_with(|| {
                distinct.push(resource);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    drop(slot_of);
    let head = |i: usize| {
        let (status, severity, id, _) = fields(i);
        (status, severity, id)
    };
    sort_keys_with(len, &head, slots, &distinct)
}

/// [`sort_keys`] of results whose resource is `distinct[slots[i]]` (a slot past the end ranks
/// after every resource).
fn sort_keys_with<'a>(
    len: usize,
    head: &impl Fn(usize) -> (Status, Severity, &'a str),
    slots: Vec<u32>,
    distinct: &[&ResourceRef],
) -> Option<Vec<u64>> {
    const CHECK_BITS: u32 = 26;
    if u32::try_from(len).is_err() || u32::try_from(distinct.len()).is_err() {
        return None;
    }
    // Distinct check ids, ranked by their order as strings. Results come in runs of one
    // check: dropping repeats first leaves a short list to sort, not one entry per result.
    let mut checks: Vec<&str> = Vec::new();
    for i in 0..len {
        let id = head(i).2;
        if checks.last() != Some(&id) {
            checks.push(id);
        }
    }
    checks.sort_unstable();
    checks.dedup();
    if checks.len() >= 1 << CHECK_BITS {
        return None;
    }
    let check_rank: std::collections::HashMap<&str, u64> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u64))
        .collect();
    let mut by_value: Vec<u32> = (0..distinct.len() as u32).collect();
    by_value.sort_unstable_by(|a, b| distinct[*a as usize].cmp(distinct[*b as usize]));
    // One more rank for slots past the end.
    let mut resource_rank = vec![0u64; distinct.len() + 1];
    let mut rank = 0u64;
    for (i, &slot) in by_value.iter().enumerate() {
        if i > 0 && distinct[by_value[i - 1] as usize] != distinct[slot as usize] {
            rank += 1;
        }
        resource_rank[slot as usize] = rank;
    }
    resource_rank[distinct.len()] = rank + 1;
    // The rank of the previous result's check, reused along a run of one check.
    let mut last: Option<(&str, u64)> = None;
    Some(
        slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                let (status, severity, id) = head(i);
                let check = match last {
                    Some((l, rank)) if l == id => rank,
                    _ => {
                        let rank = check_rank.get(id).copied().unwrap_or(0);
                        last = Some((id, rank));
                        rank
                    }
                };
                let slot = (slot as usize).min(distinct.len());
                (u64::from(status_rank(status)) << 61)
                    | (u64::from(4 - severity as u8) << 58)
                    | (check << 32)
                    | resource_rank[slot]
            })
            .collect(),
    )
}

/// [`sort_findings`] by comparing findings (stable): the reference order.
pub fn sort_findings_by_comparison(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        status_rank(a.status)
            .cmp(&status_rank(b.status))
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.resource.cmp(&b.resource))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(status: Status, severity: Severity, suppressed: bool) -> Finding {
        Finding {
            check_id: "c".into(),
            title: "t".into(),
            severity,
            status,
            resource: ResourceRef {
                resource_type: "AwsRdsDbInstance".into(),
                id: "db".into(),
                arn: None,
                account_id: "1".into(),
                region: Some("us-east-1".into()),
            }
            .into(),
            message: "m".into(),
            evidence: Evidence::new(),
            suppressed: suppressed.then(|| {
                Suppression {
                    reason: "r".into(),
                    expires: None,
                }
                .into()
            }),
        }
    }

    #[test]
    fn fail_on_threshold_ignores_suppressed_and_lower() {
        let findings = vec![
            f(Status::Fail, Severity::Medium, false),
            f(Status::Fail, Severity::Critical, true),
            f(Status::NotAssessed, Severity::Critical, false),
        ];
        let r = Report::new("audit", "t".into(), vec![], vec![], vec![], findings);
        assert_eq!(r.findings[0].status, Status::Fail, "failures come first");
        assert!(r.fails_at(Severity::Medium));
        assert!(!r.fails_at(Severity::High));
        assert_eq!(r.summary.fail, 1);
        assert_eq!(r.summary.suppressed, 1);
        assert_eq!(r.summary.not_assessed, 1);
        assert_eq!(r.summary.fail_by_severity[&Severity::Medium], 1);
    }

    /// The keyed sort gives exactly the order of the comparison sort, ties (equal findings
    /// with different messages, equal resources behind separate references) included.
    #[test]
    fn keyed_sort_matches_the_comparison_sort() {
        let statuses = [
            Status::Pass,
            Status::Fail,
            Status::NotAssessed,
            Status::NotApplicable,
        ];
        let checks = ["rds_b", "rds_a", "iam_x", "rds_a_longer", "z"];
        let shared: Vec<Arc<ResourceRef>> = (0..7)
            .map(|i| {
                Arc::new(ResourceRef {
                    resource_type: ["AwsRdsDbInstance", "AwsKmsKey"][i % 2].into(),
                    id: format!("db-{}", i % 5),
                    arn: (i % 3 == 0).then(|| format!("arn:{i}")),
                    account_id: "1".into(),
                    region: (i % 4 != 0).then(|| "us-east-1".into()),
                })
            })
            .collect();
        let mut seed = 12345u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let findings: Vec<Finding> = (0..2000)
            .map(|i| {
                let mut x = f(statuses[next(4)], Severity::ALL[next(5)], next(9) == 0);
                x.check_id = checks[next(checks.len())].into();
                let r = &shared[next(shared.len())];
                // Some equal resources behind references of their own.
                x.resource = if next(3) == 0 {
                    Arc::new(ResourceRef::clone(r))
                } else {
                    r.clone()
                };
                x.message = format!("{i}").into();
                x
            })
            .collect();
        let mut keyed = findings.clone();
        let mut reference = findings.clone();
        sort_findings(&mut keyed);
        sort_findings_by_comparison(&mut reference);
        assert_eq!(keyed, reference);

        // The same results with their resources by number in a table (equal resources under
        // several numbers, a number past the end sorting last), sorted both ways.
        let mut table: Vec<Arc<ResourceRef>> = Vec::new();
        let numbers: Vec<u32> = findings
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if i % 97 == 0 {
                    return u32::MAX;
                }
                table.push(x.resource.clone());
                (table.len() - 1) as u32
            })
            .collect();
        let last = Arc::new(ResourceRef {
            resource_type: "\u{10ffff}".into(),
            id: String::new(),
            arn: None,
            account_id: "".into(),
            region: None,
        });
        let resource_of = |n: u32| table.get(n as usize).unwrap_or(&last);
        let by_number = canonical_order_numbered(
            findings.len(),
            |i| {
                let x = &findings[i];
                (x.status, x.severity, x.check_id.as_str(), numbers[i])
            },
            &table,
        );
        let by_reference = canonical_order(findings.len(), |i| {
            let x = &findings[i];
            (
                x.status,
                x.severity,
                x.check_id.as_str(),
                resource_of(numbers[i]),
            )
        });
        assert_eq!(by_number, by_reference);
    }

    #[test]
    fn severity_parses_and_orders() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!(Severity::Critical > Severity::Low);
        assert!("urgent".parse::<Severity>().is_err());
    }
}

/// The JSON Schema of the report (`rdsguard audit --format json`). Committed as
/// `docs/schemas/report.schema.json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod schema_tests {
    /// The committed schema must match the types; regenerate with
    /// `UPDATE_SCHEMAS=1 cargo test -p rdsguard-findings schema`.
    #[test]
    fn committed_schema_is_current() {
        // The directory cargo runs the test from (a test binary may have been built in
        // another checkout sharing the target directory), else the one it was built in.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let path = manifest_dir.join("../../docs/schemas/report.schema.json");
        let generated = serde_json::to_string_pretty(&super::json_schema()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/schemas/report.schema.json is stale: run UPDATE_SCHEMAS=1 cargo test -p rdsguard-findings schema"
        );
    }
}
