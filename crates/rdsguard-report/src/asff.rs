//! AWS Security Finding Format (ASFF, schema 2018-10-08), for AWS Security Hub's
//! BatchImportFindings.
//!
//! Every result becomes a finding so that Security Hub can track a resource from FAILED to
//! PASSED: `Compliance.Status` is PASSED, FAILED or NOT_AVAILABLE (not assessed, not
//! applicable). Following Security Hub's own control findings, passing and not-available
//! findings have severity INFORMATIONAL (the check's severity stays in `Severity.Original`),
//! and not-applicable ones are imported ARCHIVED. Suppressed findings start with workflow
//! status SUPPRESSED and a note with the reason. The finding `Id` is stable across runs
//! (account, region, check, resource), so a re-import updates the same finding; severity and
//! types also go in `FindingProviderFields`, the only place a provider may update them.
//!
//! Field limits enforced here, from the AwsSecurityFinding API reference: Id and GeneratorId
//! 1–512, Title 1–256, Description 1–1024, Recommendation.Text 1–512, AwsAccountId 12,
//! Resources 1–32 with Type 1–256 and Region 1–16, ProductFields at most 50 pairs (key 128,
//! value 2048), RelatedRequirements at most 32, at most 100 findings per request, 240 KB per
//! finding. [`validate`] checks a finding against them.

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Finding, Report, Severity, Status};
use serde_json::{Map, Value, json};

use crate::text::{fnv1a64, partition_of, truncate_bytes, value_text};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// BatchImportFindings accepts at most this many findings per call.
pub const BATCH_SIZE: usize = 100;
/// Region used in the product ARN and for global resources when the report names none.
pub const FALLBACK_REGION: &str = "us-east-1";

const MAX_ID: usize = 512;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_RECOMMENDATION: usize = 512;
const MAX_PRODUCT_FIELDS: usize = 50;
const MAX_PRODUCT_FIELD_KEY: usize = 128;
const MAX_PRODUCT_FIELD_VALUE: usize = 2048;
const MAX_RELATED_REQUIREMENTS: usize = 32;
const MAX_FINDING_BYTES: usize = 240 * 1024;
const MAX_NOTE: usize = 512;

/// Resource types ASFF defines among those rdsguard reports on; others are sent as `Other`
/// with the rdsguard type in `Details.Other`.
const ASFF_RESOURCE_TYPES: &[&str] = &[
    "AwsAccount",
    "AwsRdsDbInstance",
    "AwsRdsDbCluster",
    "AwsRdsDbSnapshot",
    "AwsRdsDbClusterSnapshot",
    "AwsRdsDbSecurityGroup",
    "AwsRdsEventSubscription",
    "AwsKmsKey",
    "AwsCloudTrailTrail",
    "AwsEc2SecurityGroup",
    "AwsEc2Vpc",
    "AwsEc2Subnet",
    "AwsEc2NetworkAcl",
    "AwsIamPolicy",
    "AwsIamRole",
    "AwsIamUser",
    "AwsIamGroup",
    "AwsS3Bucket",
];

/// The product ARN of an account's default integration (findings the account sends itself).
pub fn default_product_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

/// Every finding of the report in ASFF, each with the default product ARN of its own account
/// (region: the finding's, else the report's first, else us-east-1).
pub fn findings(report: &Report) -> Vec<Value> {
    let checks = check_index(report);
    let fallback = report
        .regions
        .first()
        .map(String::as_str)
        .unwrap_or(FALLBACK_REGION);
    report
        .findings
        .iter()
        .map(|f| {
            let region = f.resource.region.as_deref().unwrap_or(fallback);
            let partition = partition_of(f.resource.arn.as_deref(), Some(region));
            let product = default_product_arn(partition, region, &f.resource.account_id);
            to_asff(
                report,
                f,
                checks.get(f.check_id.as_str()).copied(),
                &product,
                fallback,
            )
        })
        .collect()
}

/// The findings of `account` ready for BatchImportFindings into the Security Hub of
/// `account` in `region` through `product_arn`, in batches of at most 100.
///
/// Only the account's own findings are included: with the default product ARN, Security Hub
/// accepts only findings whose AwsAccountId is the calling account. Global resources get
/// `region` as their resource region.
pub fn asff_batches(
    report: &Report,
    account: &str,
    region: &str,
    product_arn: &str,
) -> Vec<Vec<Value>> {
    let checks = check_index(report);
    let all: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.resource.account_id == account)
        .map(|f| {
            to_asff(
                report,
                f,
                checks.get(f.check_id.as_str()).copied(),
                product_arn,
                region,
            )
        })
        .collect();
    all.chunks(BATCH_SIZE).map(<[Value]>::to_vec).collect()
}

/// The report as a JSON array of ASFF findings (pretty). For `aws securityhub
/// batch-import-findings`, send at most 100 at a time.
pub fn render(report: &Report) -> String {
    crate::pretty(&findings(report))
}

fn check_index(report: &Report) -> BTreeMap<&str, &CheckMetadata> {
    report.checks.iter().map(|c| (c.id.as_str(), c)).collect()
}

fn label(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Informational => "INFORMATIONAL",
    }
}

/// The stable finding id: `rdsguard/<account>/<region|global>/<check>/<resource>`; hashed
/// at the end when longer than 512.
pub fn finding_id(f: &Finding) -> String {
    let id = format!(
        "rdsguard/{}/{}/{}/{}",
        f.resource.account_id,
        f.resource.region.as_deref().unwrap_or("global"),
        f.check_id,
        f.resource.arn.as_deref().unwrap_or(&f.resource.id)
    );
    if id.len() <= MAX_ID {
        return id;
    }
    let hash = format!("#{:016x}", fnv1a64(&id));
    let mut cut = MAX_ID - hash.len();
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}", &id[..cut])
}

fn resource_id(f: &Finding) -> String {
    if let Some(arn) = &f.resource.arn {
        return arn.clone();
    }
    if f.resource.resource_type == "AwsAccount" {
        // Security Hub's own id for account-level findings.
        return format!("AWS::::Account:{}", f.resource.account_id);
    }
    f.resource.id.clone()
}

fn types(report: &Report, meta: Option<&CheckMetadata>) -> Vec<String> {
    if report.kind == "trail" {
        return vec!["Unusual Behaviors/User".to_string()];
    }
    let mut t = vec!["Software and Configuration Checks/AWS Security Best Practices".to_string()];
    if meta.is_some_and(|m| !m.compliance.cis.is_empty()) {
        t.push(
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
                .to_string(),
        );
    }
    t
}

fn to_asff(
    report: &Report,
    f: &Finding,
    meta: Option<&CheckMetadata>,
    product_arn: &str,
    fallback_region: &str,
) -> Value {
    let region = f.resource.region.as_deref().unwrap_or(fallback_region);
    let partition = partition_of(f.resource.arn.as_deref(), Some(region));
    let (compliance_status, workflow, record_state) = match f.status {
        Status::Pass => ("PASSED", "RESOLVED", "ACTIVE"),
        Status::Fail => ("FAILED", "NEW", "ACTIVE"),
        Status::NotAssessed => ("NOT_AVAILABLE", "NEW", "ACTIVE"),
        Status::NotApplicable => ("NOT_AVAILABLE", "RESOLVED", "ARCHIVED"),
    };
    let workflow = if f.suppressed.is_some() {
        "SUPPRESSED"
    } else {
        workflow
    };
    let shown_severity = if f.status == Status::Fail {
        f.severity
    } else {
        Severity::Informational
    };
    let severity = json!({"Label": label(shown_severity), "Original": label(f.severity)});
    let types = types(report, meta);

    let mut description = f.message.to_string();
    if let Some(m) = meta {
        description.push_str("\n\n");
        description.push_str(&m.description);
    }
    if f.status == Status::NotAssessed {
        description = format!("Not assessed: {description}");
    }

    let mut requirements: Vec<String> = Vec::new();
    if let Some(m) = meta {
        requirements.extend(
            m.compliance
                .cis
                .iter()
                .map(|c| format!("CIS AWS Foundations Benchmark {c}")),
        );
        requirements.extend(
            m.compliance
                .fsbp
                .iter()
                .map(|c| format!("AWS Foundational Security Best Practices {c}")),
        );
    }
    requirements.truncate(MAX_RELATED_REQUIREMENTS);
    let mut compliance = json!({"Status": compliance_status});
    if !requirements.is_empty() {
        compliance["RelatedRequirements"] = json!(requirements);
    }
    // No SecurityControlId: that names Security Hub's own controls, and a third-party finding
    // claiming one would be mistaken for Security Hub's evaluation.

    let mut resource = json!({
        "Type": f.resource.resource_type,
        "Id": resource_id(f),
        "Partition": partition,
        "Region": region,
    });
    if !ASFF_RESOURCE_TYPES.contains(&f.resource.resource_type.as_str()) {
        resource["Type"] = json!("Other");
        resource["Details"] = json!({"Other": {
            "rdsguard/ResourceType": truncate_bytes(&f.resource.resource_type, 1024),
            "rdsguard/ResourceId": truncate_bytes(&f.resource.id, 1024),
        }});
    }

    let mut product_fields = Map::new();
    let mut put = |k: String, v: String| {
        if product_fields.len() < MAX_PRODUCT_FIELDS && !v.trim().is_empty() {
            product_fields.insert(
                truncate_bytes(&k, MAX_PRODUCT_FIELD_KEY),
                Value::String(truncate_bytes(&v, MAX_PRODUCT_FIELD_VALUE)),
            );
        }
    };
    put("ProviderName".into(), "rdsguard".into());
    put("ProviderVersion".into(), report.tool_version.clone());
    put("rdsguard/CheckId".into(), f.check_id.to_string());
    put("rdsguard/Status".into(), f.status.as_str().into());
    put("rdsguard/ResourceName".into(), f.resource.id.clone());
    for (k, v) in &f.evidence {
        put(format!("rdsguard/evidence/{k}"), value_text(v));
    }

    let mut finding = json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(f),
        "ProductArn": product_arn,
        "ProductName": "rdsguard",
        "CompanyName": "rdsguard",
        "GeneratorId": truncate_bytes(&format!("rdsguard/{}", f.check_id), MAX_ID),
        "AwsAccountId": f.resource.account_id,
        "Types": types,
        "CreatedAt": report.collected_at,
        "UpdatedAt": report.collected_at,
        "Severity": severity,
        "FindingProviderFields": {"Severity": severity, "Types": types},
        "Title": truncate_bytes(&f.title, MAX_TITLE),
        "Description": truncate_bytes(&description, MAX_DESCRIPTION),
        "Resources": [resource],
        "Compliance": compliance,
        "RecordState": record_state,
        "Workflow": {"Status": workflow},
        "ProductFields": product_fields,
    });
    if let Some(m) = meta
        && !m.remediation.trim().is_empty()
    {
        finding["Remediation"] =
            json!({"Recommendation": {"Text": truncate_bytes(&m.remediation, MAX_RECOMMENDATION)}});
    }
    if let Some(s) = &f.suppressed {
        let text = match &s.expires {
            Some(e) => format!("Suppressed until {e}: {}", s.reason),
            None => format!("Suppressed: {}", s.reason),
        };
        finding["Note"] = json!({
            "Text": truncate_bytes(&text, MAX_NOTE),
            "UpdatedBy": "rdsguard",
            "UpdatedAt": report.collected_at,
        });
    }
    finding
}

fn non_blank(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.trim().is_empty())
}

/// Check one ASFF finding against the BatchImportFindings constraints rdsguard relies on;
/// every problem found, as `Field: problem`.
pub fn validate(finding: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut string_field = |name: &str, max: Option<usize>| match non_blank(&finding[name]) {
        None => errors.push(format!("{name}: required non-blank string")),
        Some(s) => {
            if let Some(max) = max
                && s.len() > max
            {
                errors.push(format!("{name}: {} bytes, at most {max}", s.len()));
            }
        }
    };
    string_field("SchemaVersion", None);
    string_field("Id", Some(MAX_ID));
    string_field("ProductArn", None);
    string_field("GeneratorId", Some(MAX_ID));
    string_field("AwsAccountId", Some(12));
    string_field("CreatedAt", None);
    string_field("UpdatedAt", None);
    string_field("Title", Some(MAX_TITLE));
    string_field("Description", Some(MAX_DESCRIPTION));

    if finding["SchemaVersion"] != SCHEMA_VERSION {
        errors.push(format!("SchemaVersion: must be {SCHEMA_VERSION}"));
    }
    if let Some(acc) = finding["AwsAccountId"].as_str()
        && (acc.len() != 12 || !acc.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.push("AwsAccountId: must be 12 digits".into());
    }
    if let Some(arn) = finding["ProductArn"].as_str()
        && !(arn.starts_with("arn:") && arn.contains(":securityhub:") && arn.contains(":product/"))
    {
        errors.push(format!(
            "ProductArn: `{arn}` is not a Security Hub product ARN"
        ));
    }
    for ts in ["CreatedAt", "UpdatedAt"] {
        if let Some(t) = finding[ts].as_str()
            && !is_asff_timestamp(t)
        {
            errors.push(format!("{ts}: `{t}` is not an accepted timestamp"));
        }
    }
    match finding["Types"].as_array() {
        Some(t) if !t.is_empty() && t.len() <= 50 => {
            for ty in t {
                let ok = ty.as_str().is_some_and(|s| {
                    let parts: Vec<&str> = s.split('/').collect();
                    parts.len() <= 3 && parts.iter().all(|p| !p.trim().is_empty())
                });
                if !ok {
                    errors.push(format!(
                        "Types: `{ty}` is not namespace/category/classifier"
                    ));
                }
            }
        }
        _ => errors.push("Types: 1 to 50 types required".into()),
    }
    match finding["Severity"]["Label"].as_str() {
        Some("INFORMATIONAL" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL") => {}
        other => errors.push(format!("Severity.Label: invalid {other:?}")),
    }
    match finding["Resources"].as_array() {
        Some(rs) if !rs.is_empty() && rs.len() <= 32 => {
            for r in rs {
                match non_blank(&r["Type"]) {
                    Some(t) if t.len() <= 256 => {}
                    _ => errors.push("Resources[].Type: required, 1 to 256".into()),
                }
                if non_blank(&r["Id"]).is_none() {
                    errors.push("Resources[].Id: required".into());
                }
                if let Some(p) = r.get("Partition")
                    && !matches!(p.as_str(), Some("aws" | "aws-cn" | "aws-us-gov"))
                {
                    errors.push(format!("Resources[].Partition: invalid {p}"));
                }
                if let Some(reg) = r.get("Region")
                    && !reg.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 16)
                {
                    errors.push(format!("Resources[].Region: invalid {reg}"));
                }
            }
        }
        _ => errors.push("Resources: 1 to 32 resources required".into()),
    }
    if let Some(c) = finding.get("Compliance") {
        if !matches!(
            c["Status"].as_str(),
            Some("PASSED" | "WARNING" | "FAILED" | "NOT_AVAILABLE")
        ) {
            errors.push(format!("Compliance.Status: invalid {}", c["Status"]));
        }
        if c["RelatedRequirements"]
            .as_array()
            .is_some_and(|r| r.len() > MAX_RELATED_REQUIREMENTS)
        {
            errors.push("Compliance.RelatedRequirements: more than 32".into());
        }
    }
    if let Some(t) = finding.pointer("/Remediation/Recommendation/Text") {
        match non_blank(t) {
            Some(s) if s.len() <= MAX_RECOMMENDATION => {}
            _ => errors.push("Remediation.Recommendation.Text: 1 to 512".into()),
        }
    }
    if let Some(pf) = finding.get("ProductFields") {
        match pf.as_object() {
            Some(m) if m.len() <= MAX_PRODUCT_FIELDS => {
                for (k, v) in m {
                    let value_ok = v
                        .as_str()
                        .is_some_and(|s| s.len() <= MAX_PRODUCT_FIELD_VALUE);
                    if k.len() > MAX_PRODUCT_FIELD_KEY || !value_ok {
                        errors.push(format!("ProductFields: `{k}` exceeds key 128 / value 2048"));
                    }
                }
            }
            _ => errors.push("ProductFields: at most 50 string pairs".into()),
        }
    }
    if let Some(rs) = finding.get("RecordState")
        && !matches!(rs.as_str(), Some("ACTIVE" | "ARCHIVED"))
    {
        errors.push(format!("RecordState: invalid {rs}"));
    }
    if let Some(w) = finding.pointer("/Workflow/Status")
        && !matches!(
            w.as_str(),
            Some("NEW" | "NOTIFIED" | "RESOLVED" | "SUPPRESSED")
        )
    {
        errors.push(format!("Workflow.Status: invalid {w}"));
    }
    if serde_json::to_vec(finding).map_or(0, |b| b.len()) > MAX_FINDING_BYTES {
        errors.push("finding larger than 240 KB".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The timestamp forms Security Hub accepts: `YYYY-MM-DDTHH:MM:SS`, optional fraction of up to
/// 9 digits, then `Z` or an offset `±HH`, `±HH:MM` or `±HHMM`.
fn is_asff_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || b[10] != b'T'
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return false;
        }
        i += 1 + n;
    }
    match &b[i..] {
        [b'Z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let ok_hh = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_digit);
            match rest.len() {
                2 => ok_hh(rest),
                4 => rest.iter().all(u8::is_ascii_digit),
                5 => ok_hh(&rest[..2]) && rest[2] == b':' && ok_hh(&rest[3..]),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_asff_timestamp;

    #[test]
    fn timestamps() {
        assert!(is_asff_timestamp("2019-01-31T23:00:00Z"));
        assert!(is_asff_timestamp("2019-01-31T23:00:00.123456789Z"));
        assert!(is_asff_timestamp("2024-01-04T15:25:10+17:59"));
        assert!(is_asff_timestamp("2024-01-04T15:25:10-1759"));
        assert!(!is_asff_timestamp("2019-01-31 23:00:00Z"));
        assert!(!is_asff_timestamp("2019-01-31T23:00:00.1234567890Z"));
        assert!(!is_asff_timestamp("yesterday"));
    }
}
