//! `import_findings` against moto's Security Hub: a report of 150 results imported in two
//! batches and read back with GetFindings; a finding Security Hub rejects reported alone; a
//! whole batch call denied reported for each of its findings, the next batch still sent.

use aws_sdk_securityhub::types::{ComplianceStatus, SeverityLabel};
use rdsguard_collect::import_findings_with_sdk_config;
use rdsguard_findings::{CheckMetadata, Finding, Report, ResourceRef, Severity, Status};
use rdsguard_model::Op;
use rdsguard_report::asff::{asff_batches, default_product_arn};

use crate::proxy::{Fault, Proxy};
use crate::support::*;

/// How the test proxy names BatchImportFindings (a REST operation it does not map).
const BATCH_IMPORT: Op = Op {
    service: "securityhub",
    operation: "POST /findings/import",
};

/// A report of `count` results for `account`, alternately FAIL (HIGH) and PASS.
fn report(account: &str, count: usize) -> Report {
    let check = CheckMetadata {
        id: "rds_instance_storage_encrypted".into(),
        title: "RDS storage is encrypted".into(),
        severity: Severity::High,
        resource_type: "AwsRdsDbInstance".into(),
        description: "Checks that storage is encrypted.".into(),
        rationale: "Unencrypted storage exposes data.".into(),
        remediation: "Restore from an encrypted snapshot copy.".into(),
        compliance: Default::default(),
    };
    let findings = (0..count)
        .map(|i| {
            let status = if i % 2 == 0 {
                Status::Fail
            } else {
                Status::Pass
            };
            Finding {
                check_id: check.id.clone().into(),
                title: format!("DB instance db-{i:03} storage encryption").into(),
                severity: Severity::High,
                status,
                resource: ResourceRef {
                    resource_type: "AwsRdsDbInstance".into(),
                    id: format!("db-{i:03}"),
                    arn: Some(format!("arn:aws:rds:{REGION}:{account}:db:db-{i:03}")),
                    account_id: account.to_string().into(),
                    region: Some(REGION.into()),
                }
                .into(),
                message: format!("db-{i:03} checked").into(),
                evidence: Default::default(),
                suppressed: None,
            }
        })
        .collect();
    Report::new(
        "audit",
        "2026-11-30T00:00:00Z".into(),
        vec![account.to_string()],
        vec![REGION.into()],
        vec![check],
        findings,
    )
}

fn batches(account: &str, count: usize) -> Vec<Vec<serde_json::Value>> {
    let product = default_product_arn("aws", REGION, account);
    asff_batches(&report(account, count), account, REGION, &product)
}

async fn all_findings(
    client: &aws_sdk_securityhub::Client,
) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_findings()
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .expect("GetFindings");
        out.extend(page.findings().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return out;
        }
    }
}

#[tokio::test]
async fn imports_150_findings_in_two_batches_and_reads_them_back() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(70);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let hub = aws_sdk_securityhub::Client::new(&sdk);
    hub.enable_security_hub()
        .send()
        .await
        .expect("EnableSecurityHub");

    let batches = batches(&account, 150);
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 50]);
    let proxy = Proxy::start(&ep, None).await;
    let summary =
        import_findings_with_sdk_config(&sdk, &options(&proxy.url, &[REGION]), REGION, batches)
            .await
            .expect("import");
    assert_eq!(summary.imported, 150, "failed: {:?}", summary.failed);
    assert!(summary.failed.is_empty());
    let import_calls = proxy
        .log()
        .iter()
        .filter(|r| r.service == "securityhub" && r.operation == BATCH_IMPORT.operation)
        .count();
    assert_eq!(import_calls, 2, "one BatchImportFindings call per batch");

    let found = all_findings(&hub).await;
    assert_eq!(found.len(), 150);
    let id = format!(
        "rdsguard/{account}/{REGION}/rds_instance_storage_encrypted/arn:aws:rds:{REGION}:{account}:db:db-000"
    );
    let failing = found
        .iter()
        .find(|f| f.id() == Some(id.as_str()))
        .expect("finding of db-000");
    assert_eq!(
        failing.title(),
        Some("DB instance db-000 storage encryption")
    );
    assert_eq!(
        failing.severity().and_then(|s| s.label()),
        Some(&SeverityLabel::High)
    );
    assert_eq!(
        failing.compliance().and_then(|c| c.status()),
        Some(&ComplianceStatus::Failed)
    );
    assert_eq!(failing.aws_account_id(), Some(account.as_str()));
    assert_eq!(
        failing.resources()[0].id(),
        Some(&*format!("arn:aws:rds:{REGION}:{account}:db:db-000"))
    );
    let passing = found
        .iter()
        .find(|f| f.id().is_some_and(|i| i.ends_with(":db:db-001")))
        .expect("finding of db-001");
    assert_eq!(
        passing.compliance().and_then(|c| c.status()),
        Some(&ComplianceStatus::Passed)
    );
    assert_eq!(
        passing.severity().and_then(|s| s.label()),
        Some(&SeverityLabel::Informational)
    );
}

#[tokio::test]
async fn a_rejected_finding_is_reported_alone() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(71);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    aws_sdk_securityhub::Client::new(&sdk)
        .enable_security_hub()
        .send()
        .await
        .expect("EnableSecurityHub");

    let mut batches = batches(&account, 3);
    let rejected_id = batches[0][1]["Id"].as_str().unwrap().to_string();
    // Security Hub requires at least one resource.
    batches[0][1]["Resources"] = serde_json::json!([]);
    // A finding that cannot even be built is rejected before sending.
    batches[0].push(serde_json::json!({"Id": "broken"}));

    let summary = import_findings_with_sdk_config(&sdk, &options(&ep, &[REGION]), REGION, batches)
        .await
        .expect("import");
    assert_eq!(summary.imported, 2);
    assert_eq!(summary.failed.len(), 2, "{:?}", summary.failed);
    let broken = summary.failed.iter().find(|f| f.id == "broken").unwrap();
    assert_eq!(broken.error_code, rdsguard_collect::INVALID_FINDING);
    assert!(
        broken.error_message.contains("missing"),
        "{}",
        broken.error_message
    );
    let rejected = summary.failed.iter().find(|f| f.id == rejected_id).unwrap();
    assert_eq!(rejected.error_code, "InvalidInput");
    assert!(!rejected.error_message.is_empty());
}

#[tokio::test]
async fn a_denied_batch_fails_its_findings_and_the_next_batch_is_still_sent() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(72);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let proxy = Proxy::start(&ep, Some(Fault::Deny(BATCH_IMPORT))).await;

    let summary = import_findings_with_sdk_config(
        &sdk,
        &options(&proxy.url, &[REGION]),
        REGION,
        batches(&account, 120),
    )
    .await
    .expect("a denied import is reported per finding, not as an error");
    assert_eq!(summary.imported, 0);
    assert_eq!(summary.failed.len(), 120);
    assert!(
        summary
            .failed
            .iter()
            .all(|f| f.error_code == "AccessDeniedException"
                && f.error_message.contains("not authorized")),
        "{:?}",
        summary.failed.first()
    );
    let calls = proxy
        .log()
        .iter()
        .filter(|r| r.operation == BATCH_IMPORT.operation)
        .count();
    assert_eq!(calls, 2, "the second batch is sent after the first failed");
}
