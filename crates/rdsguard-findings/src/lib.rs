//! The finding model: one result per (check, resource), with the facts that decided it.
//!
//! Every output format (terminal table, JSON, and later SARIF, ASFF, OCSF, CSV, HTML...) is a
//! plain serializer of [`Report`]; there is no second model.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

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
    pub resource_type: String,
    /// The identifier users know (DB identifier, key id, trail name...).
    pub id: String,
    /// ARN when the resource has one. Region-scoped results (e.g. "no trail in this region")
    /// have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub account_id: String,
    /// `None` for global resources (IAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A suppression that applied to a finding (from `rdsguard.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suppression {
    pub reason: String,
    /// ISO date (YYYY-MM-DD) after which the suppression stops applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One result of one check for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub check_id: String,
    pub title: String,
    /// Usually the check's severity; some checks grade it (e.g. certificate expiry).
    pub severity: Severity,
    pub status: Status,
    pub resource: ResourceRef,
    /// One sentence saying what was found, e.g. "DB instance prod-db is not encrypted".
    pub message: String,
    /// The facts that decided the result (field → value), for auditors and for scripts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
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
        let mut s = Summary {
            total: findings.len(),
            ..Default::default()
        };
        for sev in Severity::ALL {
            s.fail_by_severity.insert(sev, 0);
        }
        for f in findings {
            if f.suppressed.is_some() {
                s.suppressed += 1;
                continue;
            }
            match f.status {
                Status::Pass => s.pass += 1,
                Status::Fail => {
                    s.fail += 1;
                    *s.fail_by_severity.entry(f.severity).or_default() += 1;
                }
                Status::NotAssessed => s.not_assessed += 1,
                Status::NotApplicable => s.not_applicable += 1,
            }
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
}

/// The canonical order: status (FAIL, then NOT_ASSESSED, PASS, NOT_APPLICABLE), severity
/// (highest first), check id, resource.
pub fn sort_findings(findings: &mut [Finding]) {
    fn rank(s: Status) -> u8 {
        match s {
            Status::Fail => 0,
            Status::NotAssessed => 1,
            Status::Pass => 2,
            Status::NotApplicable => 3,
        }
    }
    findings.sort_by(|a, b| {
        rank(a.status)
            .cmp(&rank(b.status))
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
            },
            message: "m".into(),
            evidence: BTreeMap::new(),
            suppressed: suppressed.then(|| Suppression {
                reason: "r".into(),
                expires: None,
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
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/schemas/report.schema.json");
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
