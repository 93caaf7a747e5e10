//! SARIF 2.1.0 for code-scanning dashboards.
//!
//! Rules are the checks that ran (help text with rationale and remediation; properties with
//! severity, `security-severity` and CIS/FSBP/MITRE tags). Results are the failures (level by
//! severity) and the results that could not be assessed (kind `review`, level `none`: the
//! dashboard shows them as needing a look rather than hiding them). Passing and
//! not-applicable results are left out. AWS resources are not files, so each result is located
//! by a logical location (the resource's ARN, or account/region/id without one). Suppressed
//! failures carry an external, accepted suppression with its reason.

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};
use serde_json::{Value, json};

use crate::text::{finding_key, fnv1a64};

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Render the report as a SARIF 2.1.0 log (pretty JSON).
pub fn render(report: &Report) -> String {
    crate::pretty(&to_value(report))
}

/// GitHub's `security-severity` (a CVSS-like score: >9 critical, 7–8.9 high, 4–6.9 medium).
pub fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "0.0",
    }
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

fn tags(meta: &CheckMetadata) -> Vec<String> {
    let mut tags = vec!["security".to_string(), meta.resource_type.clone()];
    tags.extend(meta.compliance.cis.iter().map(|c| format!("CIS {c}")));
    tags.extend(meta.compliance.fsbp.iter().map(|c| format!("FSBP {c}")));
    tags.extend(
        meta.compliance
            .mitre_attack
            .iter()
            .map(|c| format!("MITRE ATT&CK {c}")),
    );
    tags
}

fn rule(meta: &CheckMetadata) -> Value {
    let mut help_text = format!("{}\n\nWhy: {}", meta.description, meta.rationale);
    help_text.push_str(&format!("\n\nFix: {}", meta.remediation));
    let help_markdown = format!(
        "{}\n\n**Why it matters.** {}\n\n**Remediation.** {}",
        meta.description, meta.rationale, meta.remediation
    );
    json!({
        "id": meta.id,
        "name": pascal_case(&meta.id),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": level(meta.severity)},
        "properties": {
            "tags": tags(meta),
            "severity": meta.severity.as_str(),
            "security-severity": security_severity(meta.severity),
            "precision": "very-high",
            "problem.severity": match meta.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                _ => "recommendation",
            },
            "resource_type": meta.resource_type,
        }
    })
}

/// A rule for a finding whose check metadata is missing from the report (hand-made reports).
fn fallback_meta(f: &Finding) -> CheckMetadata {
    CheckMetadata {
        id: f.check_id.to_string(),
        title: f.title.to_string(),
        severity: f.severity,
        resource_type: f.resource.resource_type.to_string(),
        description: f.title.to_string(),
        rationale: "not recorded in this report".into(),
        remediation: "not recorded in this report".into(),
        compliance: Default::default(),
    }
}

fn pascal_case(id: &str) -> String {
    id.split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let fully_qualified = match &f.resource.arn {
        Some(arn) => arn.clone(),
        None => format!(
            "{}/{}/{}",
            f.resource.account_id,
            f.resource.region.as_deref().unwrap_or("global"),
            f.resource.id
        ),
    };
    let mut r = json!({
        "ruleId": f.check_id,
        "ruleIndex": rule_index,
        "message": {"text": f.message},
        "locations": [{
            "logicalLocations": [{
                "name": f.resource.id,
                "fullyQualifiedName": fully_qualified,
                "kind": "resource",
            }]
        }],
        "partialFingerprints": {
            "rdsguardFindingKey/v1": format!("{:016x}", fnv1a64(&finding_key(f))),
        },
        "properties": {
            "status": f.status.as_str(),
            "severity": f.severity.as_str(),
            "security-severity": security_severity(f.severity),
            "resource_type": f.resource.resource_type,
            "account_id": f.resource.account_id,
            "region": f.resource.region,
            "evidence": f.evidence,
        },
    });
    if let Some(obj) = r.as_object_mut() {
        if f.status == Status::Fail {
            obj.insert("kind".into(), json!("fail"));
            obj.insert("level".into(), json!(level(f.severity)));
        } else {
            // SARIF §3.27.9: a result whose kind is not `fail` has level `none`.
            obj.insert("kind".into(), json!("review"));
            obj.insert("level".into(), json!("none"));
        }
        if let Some(s) = &f.suppressed {
            let justification = match &s.expires {
                Some(e) => format!("{} (until {e})", s.reason),
                None => s.reason.clone(),
            };
            obj.insert(
                "suppressions".into(),
                json!([{"kind": "external", "status": "accepted", "justification": justification}]),
            );
        }
    }
    r
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &Report) -> Value {
    let mut metas: Vec<CheckMetadata> = report.checks.clone();
    for f in &report.findings {
        if !metas.iter().any(|m| m.id == f.check_id) {
            metas.push(fallback_meta(f));
        }
    }
    let index: BTreeMap<&str, usize> = metas
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::NotAssessed))
        .map(|f| result(f, index.get(f.check_id.as_str()).copied().unwrap_or(0)))
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rdsguard",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": metas.iter().map(rule).collect::<Vec<_>>(),
            }},
            "invocations": [{"executionSuccessful": true}],
            "automationDetails": {"id": format!("rdsguard/{}/{}", report.kind, report.collected_at)},
            "results": results,
            "properties": {
                "kind": report.kind,
                "collected_at": report.collected_at,
                "accounts": report.accounts,
                "regions": report.regions,
                "summary": report.summary,
            }
        }]
    })
}
