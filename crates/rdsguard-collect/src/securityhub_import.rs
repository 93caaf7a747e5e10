//! Imports ASFF findings (as rdsguard-report's `asff_batches` produces them) into AWS Security
//! Hub with BatchImportFindings.
//!
//! The SDK's `AwsSecurityFinding` is not serde, so each JSON finding is rebuilt with the SDK
//! builders from the fields rdsguard writes. Every finding is accounted for: imported, rejected
//! by Security Hub (its `FailedFindings`), rejected here before sending (a required field
//! missing), or part of a batch whose whole call failed (access denied, Security Hub not
//! enabled...). A failed batch does not stop the next ones.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Note, Partition, Recommendation, RecordState, Remediation, Resource,
    ResourceDetails, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use aws_types::SdkConfig;
use rdsguard_model::Op;
use serde_json::Value;

use crate::call::{Scope, gap_from_error};
use crate::clients::{self, Clients};
use crate::{CollectError, CollectOptions};

const BATCH_IMPORT_FINDINGS: Op = Op {
    service: "securityhub",
    operation: "BatchImportFindings",
};

/// Error code of a finding rejected before sending because it cannot be converted.
pub const INVALID_FINDING: &str = "InvalidFinding";

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Findings Security Hub accepted (its `SuccessCount`, summed over batches).
    pub imported: usize,
    /// Every finding not imported, with the reason.
    pub failed: Vec<FailedFinding>,
}

/// One finding that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    /// The finding's ASFF `Id` (empty if it had none).
    pub id: String,
    /// Security Hub's error code (e.g. `InvalidInput`, `AccessDeniedException`), or
    /// [`INVALID_FINDING`] for a finding rejected before sending.
    pub error_code: String,
    pub error_message: String,
}

/// The region the standard credential chain (with `opts.profile`) resolves, if any: where
/// findings go when no `--region` is given.
pub async fn default_region(opts: &CollectOptions) -> Option<String> {
    clients::load_sdk_config(opts)
        .await
        .region()
        .map(|r| r.to_string())
        .filter(|r| !r.trim().is_empty())
}

/// Import `batches` (at most 100 findings each) into the Security Hub of the credentials'
/// account in `region`, with the standard credential chain of `opts`.
pub async fn import_findings(
    opts: &CollectOptions,
    region: &str,
    batches: Vec<Vec<Value>>,
) -> Result<ImportSummary, CollectError> {
    let base = clients::load_sdk_config(opts).await;
    import_findings_with_sdk_config(&base, opts, region, batches).await
}

/// [`import_findings`] with credentials from `base` (`opts.profile` is ignored); the retry
/// policy and custom endpoint of `opts` apply.
pub async fn import_findings_with_sdk_config(
    base: &SdkConfig,
    opts: &CollectOptions,
    region: &str,
    batches: Vec<Vec<Value>>,
) -> Result<ImportSummary, CollectError> {
    if region.trim().is_empty() {
        return Err(CollectError::NoRegion);
    }
    if opts.max_attempts == 0 {
        return Err(CollectError::InvalidOption(
            "max attempts must be at least 1 (1 disables retries)".into(),
        ));
    }
    let client = Clients::new(base, opts, Arc::new(AtomicU64::new(0)))?
        .for_region(region)
        .securityhub;

    let mut summary = ImportSummary::default();
    for batch in batches {
        let mut findings = Vec::with_capacity(batch.len());
        let mut sent_ids = Vec::with_capacity(batch.len());
        for value in &batch {
            match to_sdk_finding(value) {
                Ok(f) => {
                    sent_ids.push(f.id().unwrap_or_default().to_string());
                    findings.push(f);
                }
                Err(problem) => summary.failed.push(FailedFinding {
                    id: str_field(value, "Id").unwrap_or_default().to_string(),
                    error_code: INVALID_FINDING.into(),
                    error_message: problem,
                }),
            }
        }
        if findings.is_empty() {
            continue;
        }
        match client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
        {
            Ok(out) => {
                let failed = out.failed_findings();
                let success = out
                    .success_count()
                    .map(|n| usize::try_from(n).unwrap_or(0))
                    .unwrap_or_else(|| sent_ids.len().saturating_sub(failed.len()));
                summary.imported += success;
                summary.failed.extend(failed.iter().map(|e| FailedFinding {
                    id: e.id().unwrap_or_default().to_string(),
                    error_code: e.error_code().unwrap_or("Unknown").to_string(),
                    error_message: e.error_message().unwrap_or_default().to_string(),
                }));
            }
            Err(err) => {
                let gap = gap_from_error(BATCH_IMPORT_FINDINGS, Scope::region(region), &err);
                let code = gap
                    .error_code
                    .clone()
                    .unwrap_or_else(|| format!("{:?}", gap.kind));
                summary
                    .failed
                    .extend(sent_ids.into_iter().map(|id| FailedFinding {
                        id,
                        error_code: code.clone(),
                        error_message: gap.message.clone(),
                    }));
            }
        }
    }
    Ok(summary)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Rebuild one ASFF JSON finding with the SDK builders. Fields rdsguard does not write are
/// ignored; a missing required field is an error naming it.
fn to_sdk_finding(v: &Value) -> Result<AwsSecurityFinding, String> {
    if !v.is_object() {
        return Err("the finding is not a JSON object".into());
    }
    let required = |name: &str| {
        str_field(v, name)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("{name}: required non-blank string missing"))
    };
    let severity_label = v["Severity"]["Label"]
        .as_str()
        .ok_or("Severity.Label: missing")?;
    let types = strings(&v["Types"]);
    if types.is_empty() {
        return Err("Types: at least one type required".into());
    }
    // An empty or missing Resources is left to Security Hub, which rejects that finding alone
    // (InvalidInput in FailedFindings).
    let resources = v["Resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();

    let mut b = AwsSecurityFinding::builder()
        .schema_version(required("SchemaVersion")?)
        .id(required("Id")?)
        .product_arn(required("ProductArn")?)
        .generator_id(required("GeneratorId")?)
        .aws_account_id(required("AwsAccountId")?)
        .created_at(required("CreatedAt")?)
        .updated_at(required("UpdatedAt")?)
        .title(required("Title")?)
        .description(required("Description")?)
        .set_types(Some(types))
        .severity(severity(&v["Severity"], severity_label));
    if let Some(s) = str_field(v, "ProductName") {
        b = b.product_name(s);
    }
    if let Some(s) = str_field(v, "CompanyName") {
        b = b.company_name(s);
    }
    for r in resources {
        b = b.resources(resource(r)?);
    }
    if let Some(text) = v["Remediation"]["Recommendation"]["Text"].as_str() {
        b = b.remediation(
            Remediation::builder()
                .recommendation(Recommendation::builder().text(text).build())
                .build(),
        );
    }
    if let Some(status) = v["Compliance"]["Status"].as_str() {
        let requirements = strings(&v["Compliance"]["RelatedRequirements"]);
        b = b.compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(status))
                .set_related_requirements((!requirements.is_empty()).then_some(requirements))
                .build(),
        );
    }
    if let Some(state) = str_field(v, "RecordState") {
        b = b.record_state(RecordState::from(state));
    }
    if let Some(status) = v["Workflow"]["Status"].as_str() {
        b = b.workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(status))
                .build(),
        );
    }
    if let Some(fields) = v["ProductFields"].as_object() {
        for (k, val) in fields {
            if let Some(s) = val.as_str() {
                b = b.product_fields(k, s);
            }
        }
    }
    let provider = &v["FindingProviderFields"];
    if provider.is_object() {
        let mut p = FindingProviderFields::builder();
        if let Some(label) = provider["Severity"]["Label"].as_str() {
            let mut s = FindingProviderSeverity::builder().label(SeverityLabel::from(label));
            if let Some(o) = provider["Severity"]["Original"].as_str() {
                s = s.original(o);
            }
            p = p.severity(s.build());
        }
        let types = strings(&provider["Types"]);
        p = p.set_types((!types.is_empty()).then_some(types));
        b = b.finding_provider_fields(p.build());
    }
    if let Some(text) = v["Note"]["Text"].as_str() {
        b = b.note(
            Note::builder()
                .text(text)
                .updated_by(v["Note"]["UpdatedBy"].as_str().unwrap_or("rdsguard"))
                .updated_at(
                    v["Note"]["UpdatedAt"]
                        .as_str()
                        .or_else(|| str_field(v, "UpdatedAt"))
                        .unwrap_or_default(),
                )
                .build(),
        );
    }
    Ok(b.build())
}

fn severity(v: &Value, label: &str) -> Severity {
    let mut s = Severity::builder().label(SeverityLabel::from(label));
    if let Some(o) = v["Original"].as_str() {
        s = s.original(o);
    }
    s.build()
}

fn resource(r: &Value) -> Result<Resource, String> {
    let ty = str_field(r, "Type")
        .filter(|s| !s.trim().is_empty())
        .ok_or("Resources[].Type: missing")?;
    let id = str_field(r, "Id")
        .filter(|s| !s.trim().is_empty())
        .ok_or("Resources[].Id: missing")?;
    let mut b = Resource::builder().r#type(ty).id(id);
    if let Some(p) = str_field(r, "Partition") {
        b = b.partition(Partition::from(p));
    }
    if let Some(region) = str_field(r, "Region") {
        b = b.region(region);
    }
    if let Some(other) = r["Details"]["Other"].as_object() {
        let mut d = ResourceDetails::builder();
        for (k, val) in other {
            if let Some(s) = val.as_str() {
                d = d.other(k, s);
            }
        }
        b = b.details(d.build());
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": "rdsguard/123456789012/us-east-1/rds.x/db1",
            "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
            "ProductName": "rdsguard",
            "CompanyName": "rdsguard",
            "GeneratorId": "rdsguard/rds.x",
            "AwsAccountId": "123456789012",
            "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
            "CreatedAt": "2026-11-30T00:00:00Z",
            "UpdatedAt": "2026-11-30T00:00:00Z",
            "Severity": {"Label": "HIGH", "Original": "HIGH"},
            "FindingProviderFields": {"Severity": {"Label": "HIGH", "Original": "HIGH"},
                                      "Types": ["Software and Configuration Checks/AWS Security Best Practices"]},
            "Title": "Storage not encrypted",
            "Description": "db1 is not encrypted",
            "Remediation": {"Recommendation": {"Text": "Encrypt it"}},
            "Resources": [{"Type": "Other", "Id": "db1", "Partition": "aws", "Region": "us-east-1",
                           "Details": {"Other": {"rdsguard/ResourceType": "Thing"}}}],
            "Compliance": {"Status": "FAILED", "RelatedRequirements": ["CIS 2.3.1"]},
            "RecordState": "ACTIVE",
            "Workflow": {"Status": "NEW"},
            "ProductFields": {"rdsguard/CheckId": "rds.x"},
            "Note": {"Text": "Suppressed: test", "UpdatedBy": "rdsguard", "UpdatedAt": "2026-11-30T00:00:00Z"}
        })
    }

    #[test]
    fn converts_every_field_rdsguard_writes() {
        let f = to_sdk_finding(&sample()).unwrap();
        assert_eq!(f.id(), Some("rdsguard/123456789012/us-east-1/rds.x/db1"));
        assert_eq!(f.aws_account_id(), Some("123456789012"));
        assert_eq!(
            f.severity().and_then(|s| s.label()),
            Some(&SeverityLabel::High)
        );
        assert_eq!(
            f.compliance().and_then(|c| c.status()),
            Some(&ComplianceStatus::Failed)
        );
        assert_eq!(
            f.compliance().unwrap().related_requirements(),
            ["CIS 2.3.1"]
        );
        assert_eq!(f.record_state(), Some(&RecordState::Active));
        assert_eq!(
            f.workflow().and_then(|w| w.status()),
            Some(&WorkflowStatus::New)
        );
        let r = &f.resources()[0];
        assert_eq!(r.partition(), Some(&Partition::Aws));
        assert_eq!(r.region(), Some("us-east-1"));
        assert_eq!(
            r.details().and_then(|d| d.other()).unwrap()["rdsguard/ResourceType"],
            "Thing"
        );
        assert_eq!(f.product_fields().unwrap()["rdsguard/CheckId"], "rds.x");
        assert_eq!(
            f.remediation()
                .and_then(|r| r.recommendation())
                .and_then(|r| r.text()),
            Some("Encrypt it")
        );
        assert_eq!(f.note().and_then(|n| n.text()), Some("Suppressed: test"));
        assert_eq!(
            f.finding_provider_fields()
                .and_then(|p| p.severity())
                .and_then(|s| s.original()),
            Some("HIGH")
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("Title");
        assert!(to_sdk_finding(&v).unwrap_err().contains("Title"));
        let mut v = sample();
        v["Resources"] = json!([{"Type": "Other"}]);
        assert!(to_sdk_finding(&v).unwrap_err().contains("Resources[].Id"));
        assert!(to_sdk_finding(&json!("x")).is_err());
    }
}
