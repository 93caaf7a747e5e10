//! Compliance views: the report's results grouped by framework control (CIS AWS Foundations
//! Benchmark, AWS Foundational Security Best Practices) with pass rates.
//!
//! A control's status is never better than its evidence: any unsuppressed failure makes it
//! FAIL; otherwise any result that could not be assessed makes it NOT_ASSESSED (not PASS);
//! only a control whose every assessed result passed is PASS.

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Report, Status};
use serde::Serialize;

use crate::text::natural_cmp;

/// A compliance framework, as named on the command line (`--compliance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framework {
    /// CIS AWS Foundations Benchmark; `version` like `v5.0.0`, or the newest version the
    /// checks map to when `None`.
    CisAwsFoundations { version: Option<String> },
    /// AWS Foundational Security Best Practices.
    Fsbp,
}

impl std::str::FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let (name, version) = match lower.split_once([':', '@']) {
            Some((n, v)) => (n, Some(v)),
            None => (lower.as_str(), None),
        };
        match name {
            "cis-aws-foundations" | "cis" => Ok(Framework::CisAwsFoundations {
                version: version.map(|v| {
                    if v.starts_with('v') {
                        v.to_string()
                    } else {
                        format!("v{v}")
                    }
                }),
            }),
            "fsbp" | "aws-foundational-security-best-practices" if version.is_none() => {
                Ok(Framework::Fsbp)
            }
            _ => Err(format!(
                "unknown compliance framework `{s}` (expected cis-aws-foundations, \
                 cis-aws-foundations:v5.0.0 or fsbp)"
            )),
        }
    }
}

impl Framework {
    /// Every framework with its default version, for overviews (HTML charts).
    pub fn all() -> Vec<Framework> {
        vec![
            Framework::CisAwsFoundations { version: None },
            Framework::Fsbp,
        ]
    }

    /// The framework's id on the command line.
    pub fn id(&self) -> &'static str {
        match self {
            Framework::CisAwsFoundations { .. } => "cis-aws-foundations",
            Framework::Fsbp => "fsbp",
        }
    }

    /// The controls a check implements in this framework: `(version, control)` pairs.
    fn controls_of(&self, check: &CheckMetadata) -> Vec<(Option<String>, String)> {
        match self {
            Framework::CisAwsFoundations { .. } => check
                .compliance
                .cis
                .iter()
                .map(|c| match c.split_once('/') {
                    Some((v, id)) => (Some(v.to_string()), id.to_string()),
                    None => (None, c.clone()),
                })
                .collect(),
            Framework::Fsbp => check
                .compliance
                .fsbp
                .iter()
                .map(|c| (None, c.clone()))
                .collect(),
        }
    }
}

/// The verdict of one control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ControlStatus {
    /// At least one unsuppressed failure.
    Fail,
    /// No failure, but some results could not be assessed.
    NotAssessed,
    /// Every assessed result passed.
    Pass,
    /// No resource to evaluate (or only not-applicable results).
    NotApplicable,
}

impl ControlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Fail => "FAIL",
            ControlStatus::NotAssessed => "NOT_ASSESSED",
            ControlStatus::Pass => "PASS",
            ControlStatus::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

/// One control and the results of the checks that implement it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    /// Control id within the framework, e.g. `2.2.1` or `RDS.3`.
    pub control: String,
    /// rdsguard checks mapped to this control.
    pub checks: Vec<String>,
    /// Titles of those checks (the control's meaning, as rdsguard checks it).
    pub titles: Vec<String>,
    pub status: ControlStatus,
    pub pass: usize,
    pub fail: usize,
    pub not_assessed: usize,
    pub not_applicable: usize,
    pub suppressed: usize,
    /// `pass / (pass + fail)` over unsuppressed results; `None` when nothing was assessed.
    pub pass_rate: Option<f64>,
}

/// A report seen through one framework.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceView {
    /// `cis-aws-foundations` or `fsbp`.
    pub framework: String,
    /// Human name, e.g. `CIS AWS Foundations Benchmark v5.0.0`.
    pub title: String,
    /// The benchmark version (CIS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Versions the checks map to (CIS only), to pick another with `cis-aws-foundations:vX`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available_versions: Vec<String>,
    pub collected_at: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub controls: Vec<ControlResult>,
    pub summary: ViewSummary,
}

/// Control counts by status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViewSummary {
    pub controls: usize,
    pub pass: usize,
    pub fail: usize,
    pub not_assessed: usize,
    pub not_applicable: usize,
}

/// Group the report's results by the framework's controls.
pub fn view(report: &Report, framework: &Framework) -> ComplianceView {
    let mut versions: Vec<String> = report
        .checks
        .iter()
        .flat_map(|c| framework.controls_of(c))
        .filter_map(|(v, _)| v)
        .collect();
    versions.sort_by(|a, b| natural_cmp(a, b));
    versions.dedup();
    let version = match framework {
        Framework::CisAwsFoundations { version: Some(v) } => Some(v.clone()),
        Framework::CisAwsFoundations { version: None } => versions.last().cloned(),
        Framework::Fsbp => None,
    };

    // control → checks
    let mut by_control: BTreeMap<String, Vec<&CheckMetadata>> = BTreeMap::new();
    for check in &report.checks {
        for (v, control) in framework.controls_of(check) {
            if v.is_some() && v != version {
                continue;
            }
            by_control.entry(control).or_default().push(check);
        }
    }

    let mut controls: Vec<ControlResult> = by_control
        .into_iter()
        .map(|(control, checks)| {
            let mut r = ControlResult {
                control,
                checks: checks.iter().map(|c| c.id.clone()).collect(),
                titles: checks.iter().map(|c| c.title.clone()).collect(),
                status: ControlStatus::NotApplicable,
                pass: 0,
                fail: 0,
                not_assessed: 0,
                not_applicable: 0,
                suppressed: 0,
                pass_rate: None,
            };
            for f in report
                .findings
                .iter()
                .filter(|f| r.checks.iter().any(|c| *c == f.check_id))
            {
                if f.suppressed.is_some() {
                    r.suppressed += 1;
                    continue;
                }
                match f.status {
                    Status::Pass => r.pass += 1,
                    Status::Fail => r.fail += 1,
                    Status::NotAssessed => r.not_assessed += 1,
                    Status::NotApplicable => r.not_applicable += 1,
                }
            }
            r.status = if r.fail > 0 {
                ControlStatus::Fail
            } else if r.not_assessed > 0 {
                ControlStatus::NotAssessed
            } else if r.pass > 0 {
                ControlStatus::Pass
            } else {
                ControlStatus::NotApplicable
            };
            let assessed = r.pass + r.fail;
            r.pass_rate = (assessed > 0).then(|| r.pass as f64 / assessed as f64);
            r
        })
        .collect();
    controls.sort_by(|a, b| natural_cmp(&a.control, &b.control));

    let mut summary = ViewSummary {
        controls: controls.len(),
        ..Default::default()
    };
    for c in &controls {
        match c.status {
            ControlStatus::Pass => summary.pass += 1,
            ControlStatus::Fail => summary.fail += 1,
            ControlStatus::NotAssessed => summary.not_assessed += 1,
            ControlStatus::NotApplicable => summary.not_applicable += 1,
        }
    }
    let title = match framework {
        Framework::CisAwsFoundations { .. } => match &version {
            Some(v) => format!("CIS AWS Foundations Benchmark {v}"),
            None => "CIS AWS Foundations Benchmark".to_string(),
        },
        Framework::Fsbp => "AWS Foundational Security Best Practices".to_string(),
    };
    ComplianceView {
        framework: framework.id().to_string(),
        title,
        version,
        available_versions: versions,
        collected_at: report.collected_at.clone(),
        accounts: report.accounts.clone(),
        regions: report.regions.clone(),
        controls,
        summary,
    }
}

/// `87%`, or `n/a` when nothing was assessed.
pub fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", (r * 100.0).floor()),
        None => "n/a".to_string(),
    }
}

/// The compliance view as a JSON document (pretty, trailing newline).
pub fn render_json(view: &ComplianceView) -> String {
    let mut s = serde_json::to_string_pretty(view)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize compliance view: {e}\"}}"));
    s.push('\n');
    s
}
