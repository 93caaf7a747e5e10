//! The demo account and synthetic snapshots through the real check catalogue: every check runs
//! without panicking, the demo config is valid, and the demo's collection gap never turns into
//! a PASS.

use std::path::Path;

use rdsguard_checks::{Config, check_defs, evaluate_with};
use rdsguard_demo::demo::{AP, PARTNER_ACCOUNT};
use rdsguard_demo::{SyntheticParams, demo_config_toml, demo_snapshot, synthetic};
use rdsguard_findings::Status;
use rdsguard_model::ops;

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-01 09:00:00 UTC)
}

fn demo_config() -> Config {
    Config::from_toml_str(demo_config_toml(), Path::new("demo-rdsguard.toml"))
        .expect("the bundled demo config is valid")
}

#[test]
fn demo_config_is_valid_and_trusts_the_partner() {
    let config = demo_config();
    assert_eq!(config.trusted_accounts, [PARTNER_ACCOUNT]);
    assert_eq!(config.suppressions.len(), 1);
    let rule = &config.suppressions[0];
    assert!(!rule.reason.trim().is_empty());
    assert!(rule.expires.is_some());
}

#[test]
fn demo_audit_finds_failures() {
    let findings = evaluate_with(&demo_snapshot(), &demo_config(), now(), &check_defs());
    assert!(!findings.is_empty());
    assert!(
        findings.iter().any(|f| f.status == Status::Fail),
        "{findings:#?}"
    );
}

#[test]
fn denied_certificates_in_sydney_never_pass() {
    let defs = check_defs();
    let findings = evaluate_with(&demo_snapshot(), &demo_config(), now(), &defs);
    for def in defs
        .iter()
        .filter(|d| d.depends_on.contains(&ops::RDS_DESCRIBE_CERTIFICATES))
    {
        let in_sydney: Vec<_> = findings
            .iter()
            .filter(|f| f.check_id == def.id && f.resource.region.as_deref() == Some(AP))
            .collect();
        assert!(!in_sydney.is_empty(), "{} reports on {AP}", def.id);
        for f in in_sydney {
            assert_eq!(f.status, Status::NotAssessed, "{f:#?}");
        }
    }
}

#[test]
fn sydney_certificate_expiry_is_not_assessed_rather_than_passed() {
    // au-inventory has no CertificateDetails and DescribeCertificates was denied in Sydney.
    let findings = evaluate_with(&demo_snapshot(), &demo_config(), now(), &check_defs());
    let about_certificates: Vec<_> = findings
        .iter()
        .filter(|f| f.resource.id == "au-inventory" && f.check_id.contains("certificate"))
        .collect();
    assert!(!about_certificates.is_empty());
    assert!(
        about_certificates
            .iter()
            .all(|f| f.status == Status::NotAssessed),
        "{about_certificates:#?}"
    );
}

#[test]
fn synthetic_account_evaluates_and_reports_every_instance() {
    let snap = synthetic(&SyntheticParams::with_instances(500));
    let findings = evaluate_with(&snap, &Config::default(), now(), &check_defs());
    let reported: std::collections::HashSet<_> = findings
        .iter()
        .filter(|f| f.resource.resource_type == "AwsRdsDbInstance")
        .filter_map(|f| f.resource.arn.as_deref())
        .collect();
    if check_defs()
        .iter()
        .any(|d| d.resource_type == "AwsRdsDbInstance")
    {
        assert_eq!(reported.len(), snap.db_instance_count());
    }
}
