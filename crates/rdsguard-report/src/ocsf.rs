//! OCSF 1.5.0 events (Open Cybersecurity Schema Framework), for Amazon Security Lake and
//! SIEMs: audit results are Compliance Findings (class 2003), CloudTrail detections (`trail`
//! reports) Detection Findings (class 2004), both with the `cloud` profile.
//!
//! Mapping: `compliance.status_id` 1 Pass / 3 Fail / 99 Other ("Not Assessed",
//! "Not Applicable": never Pass); `severity_id` from the finding's severity; `status_id` 1 New
//! or 3 Suppressed (with the reason in `unmapped.rdsguard.suppression`); evidence in the
//! resource's `data`. The output is a JSON array of events.

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};
use serde_json::{Value, json};

use crate::text::partition_of;

pub const OCSF_VERSION: &str = "1.5.0";
pub const COMPLIANCE_FINDING_CLASS: u32 = 2003;
pub const DETECTION_FINDING_CLASS: u32 = 2004;
const FINDINGS_CATEGORY: u32 = 2;
const ACTIVITY_CREATE: u32 = 1;
/// `account.type_id` for an AWS account.
const ACCOUNT_TYPE_AWS: u32 = 10;

/// Render the report as a JSON array of OCSF events (pretty).
pub fn render(report: &Report) -> String {
    crate::pretty(&events(report))
}

/// Every finding as an OCSF event.
pub fn events(report: &Report) -> Vec<Value> {
    let checks: BTreeMap<&str, &CheckMetadata> =
        report.checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let time = epoch_millis(&report.collected_at);
    report
        .findings
        .iter()
        .map(|f| event(report, f, checks.get(f.check_id.as_str()).copied(), time))
        .collect()
}

/// RFC 3339 → milliseconds since the epoch (OCSF `timestamp_t`); 0 when unparseable.
pub fn epoch_millis(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

fn severity(sev: Severity) -> (u32, &'static str) {
    match sev {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

fn account(id: &str) -> Value {
    json!({"uid": id, "type_id": ACCOUNT_TYPE_AWS, "type": "AWS Account"})
}

fn event(report: &Report, f: &Finding, meta: Option<&CheckMetadata>, time: i64) -> Value {
    let detection = report.kind == "trail";
    let (class_uid, class_name) = if detection {
        (DETECTION_FINDING_CLASS, "Detection Finding")
    } else {
        (COMPLIANCE_FINDING_CLASS, "Compliance Finding")
    };
    let (severity_id, severity_name) = severity(f.severity);
    let (status_id, status) = if f.suppressed.is_some() {
        (3, "Suppressed")
    } else {
        (1, "New")
    };
    let partition = partition_of(f.resource.arn.as_deref(), f.resource.region.as_deref());

    let mut resource = json!({
        "uid": f.resource.arn.as_deref().unwrap_or(&f.resource.id),
        "name": f.resource.id,
        "type": f.resource.resource_type,
        "cloud_partition": partition,
        "owner": {"account": account(&f.resource.account_id)},
    });
    if let Some(r) = &f.resource.region {
        resource["region"] = json!(r);
    }
    if !f.evidence.is_empty() {
        resource["data"] = json!(f.evidence);
    }

    let mut cloud = json!({"provider": "AWS", "account": account(&f.resource.account_id)});
    if let Some(r) = &f.resource.region {
        cloud["region"] = json!(r);
    }

    let mut finding_info = json!({
        "uid": crate::asff::finding_id(f),
        "title": f.title,
        "desc": meta.map(|m| m.description.as_str()).unwrap_or(f.message.as_str()),
        "created_time": time,
        "types": [if detection { "CloudTrail detection" } else { "Configuration check" }],
        "analytic": {"uid": f.check_id, "name": f.title, "type_id": 1, "type": "Rule"},
    });
    if let Some(m) = meta
        && !m.compliance.mitre_attack.is_empty()
    {
        finding_info["attacks"] = json!(
            m.compliance
                .mitre_attack
                .iter()
                .map(|t| json!({"technique": {"uid": t}}))
                .collect::<Vec<_>>()
        );
    }

    let mut e = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "type_uid": class_uid * 100 + ACTIVITY_CREATE,
        "type_name": format!("{class_name}: Create"),
        "time": time,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": status_id,
        "status": status,
        "status_code": f.status.as_str(),
        "status_detail": f.message,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "rdsguard", "vendor_name": "rdsguard", "version": report.tool_version},
            "event_code": f.check_id,
            "profiles": ["cloud"],
        },
        "cloud": cloud,
        "finding_info": finding_info,
        "resources": [resource],
    });

    if let Some(m) = meta
        && !m.remediation.trim().is_empty()
    {
        e["remediation"] = json!({"desc": m.remediation});
    }
    if detection {
        e["is_alert"] = json!(f.status == Status::Fail);
    } else {
        let (cstatus_id, cstatus) = match f.status {
            Status::Pass => (1, "Pass"),
            Status::Fail => (3, "Fail"),
            Status::NotAssessed => (99, "Not Assessed"),
            Status::NotApplicable => (99, "Not Applicable"),
        };
        let mut standards = Vec::new();
        let mut requirements = Vec::new();
        if let Some(m) = meta {
            let mut cis_versions: Vec<&str> = Vec::new();
            for c in &m.compliance.cis {
                let (v, id) = c.split_once('/').unwrap_or(("", c.as_str()));
                if !cis_versions.contains(&v) {
                    cis_versions.push(v);
                }
                requirements
                    .push(format!("CIS AWS Foundations Benchmark {v} {id}").replace("  ", " "));
            }
            standards.extend(cis_versions.iter().map(|v| {
                format!("CIS AWS Foundations Benchmark {v}")
                    .trim_end()
                    .to_string()
            }));
            if !m.compliance.fsbp.is_empty() {
                standards.push("AWS Foundational Security Best Practices".to_string());
                requirements.extend(
                    m.compliance
                        .fsbp
                        .iter()
                        .map(|c| format!("AWS Foundational Security Best Practices {c}")),
                );
            }
        }
        let mut compliance = json!({
            "control": f.check_id,
            "status_id": cstatus_id,
            "status": cstatus,
            "status_detail": f.message,
        });
        if !standards.is_empty() {
            compliance["standards"] = json!(standards);
            compliance["requirements"] = json!(requirements);
        }
        e["compliance"] = compliance;
    }
    if let Some(s) = &f.suppressed {
        e["unmapped"] =
            json!({"rdsguard": {"suppression": {"reason": s.reason, "expires": s.expires}}});
    }
    e
}
